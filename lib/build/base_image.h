// Resolving a FROM (or COPY --from) image name to an image whose blobs are
// in the store: scratch, a named build context (--build-context
// NAME=oci-layout:///path[:tag|@digest], BuildKit's spelling), an image
// in the local store (built with -t, or pulled before), or an image pulled
// from its registry now (registry_access.h).
#ifndef STRATA_BUILD_BASE_IMAGE_H_
#define STRATA_BUILD_BASE_IMAGE_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "build/layer_cache.h"
#include "image/oci.h"
#include "image/platform.h"
#include "store/store.h"

namespace strata::build {

class RegistryAccess;

/// An image a stage builds on.
struct BaseImage {
  std::string name;         // as it is shown: "docker.io/library/x:1@sha256:..."
  base::Digest manifest;    // empty for scratch
  image::ImageConfig config;
  std::vector<Layer> layers;
  bool scratch = false;
};

/// A parsed --build-context value of the oci-layout kind.
struct OciLayoutContext {
  std::string path;
  std::string selector;  // tag, "@sha256:...", or "" (the only image)
};

/// Parses "oci-layout:///path[:tag][@digest]"; other kinds are refused
/// with a clear error.
base::Result<OciLayoutContext> ParseBuildContext(std::string_view value);

/// Resolves and caches base images for one build. Thread-safe.
class BaseResolver {
 public:
  /// `registries` (may be null) pulls what the store lacks, and with
  /// `pull` asks again for what it has.
  BaseResolver(const store::Store& store,
               std::map<std::string, std::string> build_contexts,
               RegistryAccess* registries = nullptr, bool pull = false)
      : store_(store),
        contexts_(std::move(build_contexts)),
        registries_(registries),
        pull_(pull) {}

  /// The image `name` (an expanded FROM or COPY --from value) for
  /// `platform`.
  base::Result<BaseImage> Resolve(const std::string& name,
                                  const image::Platform& platform);

  /// Every image resolved so far (not scratch), for the build's metadata.
  std::vector<BaseImage> Resolved();

  /// True if --build-context names `name`.
  bool HasContext(const std::string& name) const;

 private:
  base::Result<BaseImage> ResolveUncached(const std::string& name,
                                          const image::Platform& platform);

  const store::Store& store_;
  std::map<std::string, std::string> contexts_;
  RegistryAccess* registries_;
  bool pull_;
  std::mutex mu_;
  std::map<std::string, BaseImage> cache_;
};

/// The image parts of a resolved image: descriptors (with OCI media types)
/// paired with the config's diffIDs; an error if their counts differ.
base::Result<std::vector<Layer>> LayersOf(const image::Manifest& manifest,
                                          const image::ImageConfig& config);

}  // namespace strata::build

#endif  // STRATA_BUILD_BASE_IMAGE_H_
