// Exporting a built image: docker buildx's --output types.
//
//   type=image[,name=N[,N...]][,push=true]
//       Tags the image in the local store under each name (name=, else
//       the -t tags). push=true, and type=registry, are refused: pushing to
//       a registry is not available yet.
//   type=oci,dest=PATH[,tar=true|false][,name=...]
//       An OCI image layout (layout.h). A directory when tar=false, when
//       PATH ends in '/' or is an existing directory; else a tar file
//       (tar=true and an existing directory is an error, as in buildx).
//   type=docker,dest=FILE[,name=...]
//       A docker-archive tar for `docker load` (which is also an OCI
//       layout), RepoTags from the names in docker's familiar form.
//   type=local,dest=DIR
//       The image's final file system written into DIR (created if
//       missing; what DIR holds is merged over, a directory merging with a
//       directory and anything else replaced). Regular files, directories,
//       symlinks (written, never followed), hardlinks, devices, modes,
//       mtimes, xattrs, and ownership when running as root. Nothing is
//       written outside DIR, whatever symlinks DIR already contains.
//   type=tar,dest=FILE
//       The same file system as one uncompressed tar (layer/writer.h's
//       format; no entry for the root directory).
// dest=- streams a tar (oci, docker, tar) to standard output. Files are
// written to a temp file beside the destination and renamed into place.
//
// Names in layouts and archives follow BuildKit's oci/docker exporters
// (containerd's archive writer): each name gets an index.json entry whose
// "org.opencontainers.image.ref.name" is its tag ("v1") and whose
// "io.containerd.image.name" is the full name
// ("docker.io/library/app:v1"); ":latest" is added to a name without tag.
// The created-time annotation BuildKit adds is left out, so the same image
// exports to the same bytes.
#ifndef STRATA_BUILD_OUTPUTS_H_
#define STRATA_BUILD_OUTPUTS_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "base/stream.h"
#include "build/built_image.h"
#include "build/layer_cache.h"
#include "build/options.h"
#include "image/layout.h"
#include "image/reference.h"
#include "layer/compression.h"
#include "layer/view.h"
#include "layer/writer.h"
#include "store/store.h"

namespace strata::build {

/// The names the outputs ask to push the image to: type=image with
/// push=true, and type=registry (name=, else `tags`).
base::Result<std::vector<image::Reference>> PushTargets(
    const std::vector<OutputSpec>& outputs,
    const std::vector<image::Reference>& tags);

/// Sends `image` to every output, in order, stopping at the first error.
/// With no outputs, does what a build without --output does: tags the
/// image in the local store under `tags` (TagBuiltImage). `layers`
/// unpacks layers for the local and tar types; OCI layouts and docker
/// archives get the layers compressed as `compression` says
/// (build/distributable.h), as buildx's exporters write them. Call with
/// the store lock held (shared), as a build holds it.
base::Status ExportOutputs(const store::Store& store, LayerCache& layers,
                           const BuiltImage& image,
                           const std::vector<OutputSpec>& outputs,
                           const std::vector<image::Reference>& tags,
                           const layer::CompressionOptions& compression);

/// The default output: points each of `tags` at the image's manifest in
/// the local image index. No tags: nothing to do.
base::Status TagBuiltImage(const store::Store& store, const BuiltImage& image,
                           const std::vector<image::Reference>& tags);

/// How BuildKit's oci and docker exporters name an image in a layout:
/// ref.name is the tag, io.containerd.image.name the full name (":latest"
/// added to a name without tag or digest).
image::LayoutImage NamedLayoutImage(const image::Descriptor& manifest,
                                    const image::Reference& name);

/// Adds every entry of `view` but its root to `writer`, in the view's walk
/// order: files sharing an inode become hardlinks to the first one.
base::Status AddViewToLayer(const layer::LayeredView& view,
                            layer::LayerWriter& writer);

/// Writes the file system of `view` into the directory `dir` (created if
/// missing), as type=local does.
base::Status WriteViewToDir(const layer::LayeredView& view,
                            const std::string& dir);

}  // namespace strata::build

#endif  // STRATA_BUILD_OUTPUTS_H_
