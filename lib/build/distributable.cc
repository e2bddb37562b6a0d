#include "build/distributable.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <numeric>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "base/go_units.h"
#include "base/str.h"

namespace strata::build {
namespace {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;
using Json = nlohmann::json;

// Both cores: gzip's bytes do not depend on it, zstd's are fixed for any
// value above 0 (layer/compression.h).
constexpr int kCompressionWorkers = 2;

bool IsIndex(std::string_view media_type) {
  return media_type == image::media::kOciIndex ||
         media_type == image::media::kDockerManifestList;
}

// "<diffID hex>.gzip-6": what the blob was made from and how.
std::string RecordKey(const base::Digest& plain,
                      const layer::CompressionOptions& options) {
  std::string level =
      options.level ? std::to_string(*options.level) : std::string("default");
  return base::StrCat(plain.hex(), ".",
                      layer::CompressionName(options.compression), "-",
                      level);
}

Result<std::optional<image::Descriptor>> Remembered(
    const store::Store& store, const std::string& key) {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> text,
                          store.GetRecord(kCompressedLayerKind, key, true));
  if (!text) return std::optional<image::Descriptor>();
  Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j["mediaType"].is_string() ||
      !j["digest"].is_string() || !j["size"].is_number_integer()) {
    return std::optional<image::Descriptor>();  // damaged: made again
  }
  Result<base::Digest> digest =
      base::Digest::Parse(j["digest"].get<std::string>());
  if (!digest || !store.BlobAvailable(*digest)) {
    return std::optional<image::Descriptor>();  // pruned since
  }
  image::Descriptor out;
  out.media_type = j["mediaType"].get<std::string>();
  out.digest = *digest;
  out.size = j["size"].get<int64_t>();
  return std::optional<image::Descriptor>(std::move(out));
}

Result<image::Descriptor> Compress(const store::Store& store,
                                   const image::Descriptor& plain,
                                   const layer::CompressionOptions& options) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobReader> in,
                          store.OpenBlob(plain.digest));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobWriter> out,
                          store.NewBlobWriter());
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<base::Sink> sink,
                          layer::NewCompressingSink(out.get(), options));
  STRATA_TRY(base::CopyStream(*in, *sink));
  STRATA_TRY(sink->Close());
  STRATA_ASSIGN_OR_RETURN(base::Digest digest, out->Commit());
  image::Descriptor blob;
  STRATA_ASSIGN_OR_RETURN(blob.media_type,
                          layer::LayerMediaType(options.compression));
  blob.digest = std::move(digest);
  blob.size = out->size();
  return blob;
}

// `desc` (its media type, platform, annotations) for `json`, now stored.
Result<image::Descriptor> Rewritten(const store::Store& store,
                                    image::Descriptor desc,
                                    const std::string& json) {
  STRATA_ASSIGN_OR_RETURN(desc.digest, store.PutBlob(json));
  desc.size = static_cast<int64_t>(json.size());
  return desc;
}

// The manifest `desc` names with its plain layers compressed; `desc` when
// none is plain.
Result<image::Descriptor> DistributableManifest(
    const store::Store& store, const image::Descriptor& desc,
    const layer::CompressionOptions& options,
    const CompressionProgress& progress, const LayerReady& layer_ready) {
  STRATA_ASSIGN_OR_RETURN(std::string json, store.ReadBlob(desc.digest));
  STRATA_ASSIGN_OR_RETURN(image::Manifest manifest,
                          image::ParseManifest(json));
  // Largest first: a push sends each layer while the next compresses, so
  // the upload nothing overlaps is then the smallest one's.
  std::vector<size_t> order(manifest.layers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return manifest.layers[a].size > manifest.layers[b].size;
  });
  bool changed = false;
  for (size_t i : order) {
    image::Descriptor& layer = manifest.layers[i];
    STRATA_ASSIGN_OR_RETURN(image::Descriptor compressed,
                            CompressedLayer(store, layer, options, progress));
    if (compressed.digest != layer.digest) {
      if (layer_ready) layer_ready(compressed);
      layer = std::move(compressed);
      changed = true;
    }
  }
  if (!changed) return desc;
  image::Descriptor out = desc;
  out.media_type = manifest.media_type;
  return Rewritten(store, out, image::ToJson(manifest));
}

}  // namespace

Result<layer::CompressionOptions> LayerCompression(std::string_view name,
                                                   std::optional<int> level) {
  layer::CompressionOptions out;
  if (name == "gzip") {
    out.compression = layer::Compression::kGzip;
  } else if (name == "zstd") {
    out.compression = layer::Compression::kZstd;
  } else if (name == "uncompressed") {
    out.compression = layer::Compression::kNone;
  } else {
    return MakeError(Code::kInvalidArgument, "unknown compression \"", name,
                     "\" (want gzip, zstd or uncompressed)");
  }
  out.level = level;
  out.workers = kCompressionWorkers;
  return out;
}

Result<image::Descriptor> CompressedLayer(
    const store::Store& store, const image::Descriptor& layer,
    const layer::CompressionOptions& options,
    const CompressionProgress& progress) {
  if (options.compression == layer::Compression::kNone) return layer;
  // Only the plain OCI tars builds write; compressed layers, docker's
  // media types and foreign ones go out as they are.
  if (layer.media_type != layer::kMediaTypeLayerTar) return layer;
  std::string key = RecordKey(layer.digest, options);
  STRATA_ASSIGN_OR_RETURN(std::optional<image::Descriptor> known,
                          Remembered(store, key));
  if (!known) {
    auto start = std::chrono::steady_clock::now();
    STRATA_ASSIGN_OR_RETURN(image::Descriptor made,
                            Compress(store, layer, options));
    Json record = {{"mediaType", made.media_type},
                   {"digest", made.digest.ToString()},
                   {"size", made.size}};
    STRATA_TRY(store.PutRecord(kCompressedLayerKind, key, record.dump()));
    if (progress) {
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      char took[32];
      std::snprintf(took, sizeof(took), "%.1fs", seconds);
      progress(base::StrCat(
          "compressed ", layer.digest.hex().substr(0, 12), " (",
          base::HumanSize(layer.size), " -> ", base::HumanSize(made.size),
          " ", layer::CompressionName(options.compression), " in ", took,
          ")"));
    }
    known = std::move(made);
  }
  known->annotations = layer.annotations;
  return *known;
}

Result<image::Descriptor> DistributableImage(
    const store::Store& store, const image::Descriptor& root,
    const layer::CompressionOptions& options,
    const CompressionProgress& progress, const LayerReady& layer_ready) {
  if (!IsIndex(root.media_type)) {
    return DistributableManifest(store, root, options, progress, layer_ready);
  }
  STRATA_ASSIGN_OR_RETURN(std::string json, store.ReadBlob(root.digest));
  STRATA_ASSIGN_OR_RETURN(image::Index index, image::ParseIndex(json));
  bool changed = false;
  for (image::Descriptor& child : index.manifests) {
    if (IsIndex(child.media_type) || !store.HasBlob(child.digest)) continue;
    STRATA_ASSIGN_OR_RETURN(
        image::Descriptor out,
        DistributableManifest(store, child, options, progress, layer_ready));
    if (out.digest != child.digest) {
      child = std::move(out);
      changed = true;
    }
  }
  if (!changed) return root;
  return Rewritten(store, root, image::ToJson(index));
}

}  // namespace strata::build
