// Compressing an image's layers on the way out of the store.
//
// A build writes each new layer as a plain tar: hashing a tar is cheap,
// compressing it is most of a rebuild's CPU, and nothing local needs it
// compressed (unpacking reads plain tars faster; docker's own image store
// keeps layers uncompressed too). What leaves the machine does: a push,
// an OCI layout, a registry or local cache export. Those ask for the
// image's distributable form, in which each plain layer is replaced by
// its compressed blob.
//
// A layer is compressed once per format: the result is remembered (store
// record kind "compressed-layers", key "<diffID hex>.<format>", value the
// blob's descriptor as JSON), so pushing again, or pushing another image
// with the layer, does no work. The formats are deterministic
// (layer/compression.h), so the same tar always gives the same blob and a
// pushed digest is reproducible. Compressed blobs are not garbage
// collection roots (build/gc.h): after a prune they are made again.
#ifndef STRATA_BUILD_DISTRIBUTABLE_H_
#define STRATA_BUILD_DISTRIBUTABLE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "image/oci.h"
#include "layer/compression.h"
#include "store/store.h"

namespace strata::build {

inline constexpr char kCompressedLayerKind[] = "compressed-layers";

/// The layer compression a --compression value names ("gzip", "zstd" or
/// "uncompressed") at `level` (the format's default when unset), on both
/// cores. InvalidArgument for another name.
base::Result<layer::CompressionOptions> LayerCompression(
    std::string_view name, std::optional<int> level = std::nullopt);

/// Called with one line per layer compressed ("compressed 3f2a... ...").
using CompressionProgress = std::function<void(const std::string&)>;

/// `layer` (a blob in the store) compressed as `options` say: `layer`
/// itself when it is compressed already or `options` ask for none.
base::Result<image::Descriptor> CompressedLayer(
    const store::Store& store, const image::Descriptor& layer,
    const layer::CompressionOptions& options,
    const CompressionProgress& progress = {});

/// Called with each compressed layer as soon as it is ready.
using LayerReady = std::function<void(const image::Descriptor&)>;

/// The image `root` (a manifest or an index in the store) with its plain
/// layers compressed: a new manifest (and index) written to the store, or
/// `root` itself when no layer is plain.
base::Result<image::Descriptor> DistributableImage(
    const store::Store& store, const image::Descriptor& root,
    const layer::CompressionOptions& options,
    const CompressionProgress& progress = {},
    const LayerReady& layer_ready = {});

}  // namespace strata::build

#endif  // STRATA_BUILD_DISTRIBUTABLE_H_
