// Images in registries, for builds and the pull/push commands.
//
// Pull: the manifest (for an index, the one for the platform) and the
// config are fetched into the store and the reference is tagged locally,
// so the next build finds it without the network (--pull asks again).
// Layer blobs are not fetched: each blob is recorded as "remote" (store
// record kind "remote-blobs": digest -> "host/repository") and a layer is
// fetched the first time something reads it (store.h's blob fetcher: unpacking for a RUN or
// a COPY --from, an output). A build that only adds layers never
// downloads its base's.
//
// Resolving a tag asks with HEAD first: a manifest the store already holds
// (a --pull that finds nothing new) is not downloaded again.
//
// Push: every blob of the image is HEADed first and skipped when present;
// a remote blob on the same registry is mounted from its repository
// instead of being downloaded and sent; blobs go two at a time; the
// manifest (and for an index, each child first) goes last, under every
// tag asked for.
#ifndef STRATA_BUILD_REGISTRY_ACCESS_H_
#define STRATA_BUILD_REGISTRY_ACCESS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/oci.h"
#include "image/platform.h"
#include "image/reference.h"
#include "layer/compression.h"
#include "registry/client.h"
#include "registry/credentials.h"
#include "registry/hosts.h"
#include "store/store.h"

namespace strata::build {

struct RegistryConfig {
  registry::HostsConfig hosts;
  registry::CredentialSources credentials;
};

using store::kRemoteBlobKind;

/// What a transfer reports: bytes moving (for a live display on a
/// terminal) and finished lines (for everywhere else).
struct TransferUpdate {
  enum Kind {
    kBytes,  // `done` of `total` bytes of blob `id` have moved
    kLine,   // `text` is a line to show ("pushed 3f2a... (12MB in ...)")
  };
  Kind kind = kLine;
  std::string id;  // the blob's short digest; "" for a line about no blob
  std::string action;  // kBytes: "Pushing" or "Downloading"
  int64_t done = 0;
  int64_t total = 0;
  std::string text;
};
using RegistryProgress = std::function<void(const TransferUpdate&)>;

/// Progress that passes on only the lines (build steps show them).
RegistryProgress LinesOnly(std::function<void(const std::string&)> line);

class RegistryAccess {
 public:
  RegistryAccess(store::Store& store, RegistryConfig config);
  ~RegistryAccess();

  /// Installs the blob fetcher on the store (remote layers on first read).
  void ServeRemoteBlobs();

  /// Fetches `ref` for `platform` into the store, tags it locally, and
  /// returns the root descriptor (the index or manifest the tag names).
  base::Result<image::Descriptor> Pull(const image::Reference& ref,
                                       const image::Platform& platform);

  /// Downloads the layers of `root` (for `platform`) that are not in the
  /// store, three at a time, as `strata pull` does.
  base::Status FetchLayers(const image::Descriptor& root,
                           const image::Platform& platform,
                           const RegistryProgress& progress = {});

  /// Pushes the image `root` (in the store) as every reference in `to`.
  /// Blobs this RegistryAccess has sent to a destination already (PushBlob)
  /// are skipped without asking.
  base::Status Push(const image::Descriptor& root,
                    const std::vector<image::Reference>& to,
                    const RegistryProgress& progress = {});

  /// Sends one blob of an image to `dest`'s repository ahead of Push: for
  /// blobs made while others upload.
  base::Status PushBlob(const image::Reference& dest,
                        const image::Descriptor& blob,
                        const RegistryProgress& progress = {});

  /// What `strata inspect` shows of an image in a registry, read without
  /// storing anything.
  struct RemoteImage {
    image::Descriptor root;     // what the reference names
    std::string manifest_json;  // the platform's manifest
    std::string config_json;
  };
  base::Result<RemoteImage> Inspect(const image::Reference& ref,
                                    const image::Platform& platform);

  /// Fetches a blob recorded as remote; false if none is recorded.
  base::Result<bool> FetchRemoteBlob(const base::Digest& digest) {
    return FetchRemoteBlob(digest, -1, {});
  }

 private:
  /// A reference resolved to its root (index or manifest) and the
  /// manifest for the platform.
  struct Resolved {
    image::Descriptor root;
    std::string root_json;
    std::string manifest_json;
    image::Manifest manifest;
  };
  /// The manifest `ref` (tag or digest) names, from the store when it
  /// holds that digest.
  base::Result<registry::FetchedManifest> GetManifest(registry::Client& client,
                                                      const std::string& repo,
                                                      const std::string& ref);
  base::Result<Resolved> Resolve(registry::Client& client,
                                 const image::Reference& ref,
                                 const image::Platform& platform);

  /// The client for `host`; reads of docker.io go to the mirror when one
  /// is configured, pushes never do.
  base::Result<registry::Client*> ClientFor(const std::string& host,
                                            bool push = false);
  base::Result<bool> FetchRemoteBlob(const base::Digest& digest, int64_t size,
                                     const RegistryProgress& progress);
  base::Status PushBlob(registry::Client& client, const std::string& repo,
                        const image::Descriptor& blob,
                        const RegistryProgress& progress);

  store::Store& store_;
  RegistryConfig config_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<registry::Client>> clients_;
  std::map<base::Digest, std::shared_ptr<std::mutex>> fetching_;
  std::set<std::string> sent_;  // "host/repository@digest", sent by PushBlob
};

/// Pushes the image `root` as every reference in `to` with its plain
/// layers compressed as `compression` says (build/distributable.h), each
/// compressed layer uploading while the next one compresses. Returns the
/// root as pushed.
base::Result<image::Descriptor> PushCompressed(
    const store::Store& store, RegistryAccess& registries,
    const image::Descriptor& root, const std::vector<image::Reference>& to,
    const layer::CompressionOptions& compression,
    const RegistryProgress& progress = {});

}  // namespace strata::build

#endif  // STRATA_BUILD_REGISTRY_ACCESS_H_
