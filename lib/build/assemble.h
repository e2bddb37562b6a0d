// Writing a built stage as an image: config and manifest blobs.
#ifndef STRATA_BUILD_ASSEMBLE_H_
#define STRATA_BUILD_ASSEMBLE_H_

#include <vector>

#include "base/result.h"
#include "build/built_image.h"
#include "build/layer_cache.h"
#include "build/options.h"
#include "image/oci.h"
#include "store/store.h"

namespace strata::build {

/// Writes the image config (with `--label`s, the platform, diffIDs and
/// creation times: SOURCE_DATE_EPOCH when set, else `last_created` (when
/// the newest step first ran, so a cached rebuild is the same image), else
/// now) and an OCI manifest for `layers` into the store.
base::Result<BuiltImage> AssembleImage(const store::Store& store,
                                       image::ImageConfig config,
                                       const std::vector<Layer>& layers,
                                       const image::Platform& platform,
                                       const BuildOptions& options,
                                       int64_t last_created = 0);

}  // namespace strata::build

#endif  // STRATA_BUILD_ASSEMBLE_H_
