// OCI image layouts (image-spec image-layout.md) as directories or tar
// files, the docker-archive format `docker load` reads, and importing a
// layout's image into the store.
//
// A written layout holds: oci-layout ({"imageLayoutVersion":"1.0.0"}),
// index.json (one manifest descriptor per image, annotated with
// org.opencontainers.image.ref.name when tagged), blobs/sha256/<hex>.
// The docker flavour adds manifest.json ([{"Config","RepoTags","Layers"}])
// and repositories, as `docker save` (25+) writes, so one archive is both
// a valid OCI layout and loadable by `docker load`.
#ifndef STRATA_IMAGE_LAYOUT_H_
#define STRATA_IMAGE_LAYOUT_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "image/oci.h"
#include "image/platform.h"
#include "store/store.h"

namespace strata::image {

/// One image to put in a layout: its manifest descriptor (the manifest
/// blob is in the store) and the names to record for it.
struct LayoutImage {
  Descriptor manifest;
  std::string ref_name;                // org.opencontainers.image.ref.name
  std::vector<std::string> repo_tags;  // docker flavour: "app:v1"
};

enum class ArchiveFlavor { kOci, kDocker };

/// Writes (or adds to) an OCI layout directory, hard-linking blobs from the
/// store where the file system allows and copying otherwise. index.json is
/// replaced atomically; images already in it keep their entries unless a
/// new image has the same ref_name.
base::Status WriteLayoutDir(const store::Store& store, const std::string& dir,
                            const std::vector<LayoutImage>& images);

/// Writes a layout as a tar stream to `path` ("-" for stdout), written to a
/// temp file and renamed into place.
base::Status WriteLayoutTar(const store::Store& store, const std::string& path,
                            const std::vector<LayoutImage>& images,
                            ArchiveFlavor flavor);

/// Every blob an image needs: the manifest (or index and its manifests),
/// configs and layers. Reads manifests from the store.
base::Result<std::vector<Descriptor>> CollectBlobs(const store::Store& store,
                                                   const Descriptor& root);

/// A resolved single-platform image whose blobs are in the store.
struct ResolvedImage {
  Descriptor manifest_desc;
  Manifest manifest;
  ImageConfig config;
};

/// The entry of a layout's index whose org.opencontainers.image.ref.name
/// is `ref_name`, or with an empty name the index's only entry; null if
/// there is none.
const Descriptor* FindInLayoutIndex(const Index& index,
                                    const std::string& ref_name);

/// Whether an image for `have` serves `want` (a variant asked for must
/// match; arm64 without a variant is v8).
bool PlatformMatches(const Platform& have, const Platform& want);

/// The manifest for `platform` in an index; NotFound naming `what` and the
/// platforms it has otherwise.
base::Result<Descriptor> PickPlatform(const Index& index,
                                      const Platform& platform,
                                      const std::string& what);

/// Resolves `root` (a manifest or an index) in the store to the manifest
/// for `platform`, reading the manifest and config.
base::Result<ResolvedImage> ResolveInStore(const store::Store& store,
                                           const Descriptor& root,
                                           const Platform& platform);

/// Imports an image from an OCI layout directory into the store: `selector`
/// is a ref name (tag), "@sha256:..." digest, or empty (the only image).
/// Blobs are verified as they are copied.
base::Result<ResolvedImage> ImportLayout(const store::Store& store,
                                         const std::string& dir,
                                         const std::string& selector,
                                         const Platform& platform);

}  // namespace strata::image

#endif  // STRATA_IMAGE_LAYOUT_H_
