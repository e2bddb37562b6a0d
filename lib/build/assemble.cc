#include "build/assemble.h"

#include <ctime>

namespace strata::build {

base::Result<BuiltImage> AssembleImage(const store::Store& store,
                                       image::ImageConfig config,
                                       const std::vector<Layer>& layers,
                                       const image::Platform& platform,
                                       const BuildOptions& options,
                                       int64_t last_created) {
  int64_t when = last_created > 0 ? last_created : std::time(nullptr);
  std::string created =
      image::FormatRfc3339(options.source_date_epoch.value_or(when));
  config.created = created;
  config.platform = platform;
  for (image::History& h : config.history) {
    if (h.created.empty()) h.created = created;
  }
  for (const auto& [k, v] : options.labels) config.config.labels[k] = v;
  config.diff_ids.clear();
  for (const Layer& l : layers) config.diff_ids.push_back(l.diff_id);

  std::string config_json = image::ToJson(config);
  STRATA_ASSIGN_OR_RETURN(base::Digest config_digest,
                          store.PutBlob(config_json));
  image::Manifest manifest;
  manifest.config = {image::media::kOciConfig, config_digest,
                     static_cast<int64_t>(config_json.size()), {},
                     std::nullopt};
  for (const Layer& l : layers) manifest.layers.push_back(l.blob);
  manifest.annotations = options.annotations;
  std::string manifest_json = image::ToJson(manifest);
  STRATA_ASSIGN_OR_RETURN(base::Digest manifest_digest,
                          store.PutBlob(manifest_json));
  BuiltImage out;
  out.manifest = {image::media::kOciManifest, manifest_digest,
                  static_cast<int64_t>(manifest_json.size()), {}, platform};
  out.parsed = std::move(manifest);
  out.config = std::move(config);
  out.layers = layers;
  return out;
}

}  // namespace strata::build
