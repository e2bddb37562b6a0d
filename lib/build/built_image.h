// What a finished build leaves behind: an image whose manifest, config and
// layer blobs are all in the store. The executor fills it in; outputs.h
// exports it (tags, layouts, archives, file systems).
#ifndef STRATA_BUILD_BUILT_IMAGE_H_
#define STRATA_BUILD_BUILT_IMAGE_H_

#include <vector>

#include "build/layer_cache.h"
#include "image/oci.h"

namespace strata::build {

/// A built single-platform image, its blobs in the store.
struct BuiltImage {
  /// The manifest blob's descriptor (media type, digest, size).
  image::Descriptor manifest;
  /// The manifest, parsed.
  image::Manifest parsed;
  /// The image config the manifest names.
  image::ImageConfig config;
  /// The layers, bottom first: parsed.layers with config.diff_ids.
  std::vector<Layer> layers;
};

}  // namespace strata::build

#endif  // STRATA_BUILD_BUILT_IMAGE_H_
