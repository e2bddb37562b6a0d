#include "build/run.h"

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "build/cache_transfer.h"
#include "build/distributable.h"
#include "build/executor.h"
#include "build/outputs.h"
#include "build/registry_access.h"
#include "image/local_images.h"
#include "store/store.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;

namespace {

// `manifest`: the image's manifest as pushed when it was, else as stored.
base::Status WriteMetadata(const std::string& path, const BuiltImage& img,
                           const image::Descriptor& manifest,
                           const BuildOptions& options,
                           const std::vector<std::string>& bases) {
  nlohmann::ordered_json j;
  j["containerimage.config.digest"] = img.parsed.config.digest.ToString();
  j["containerimage.digest"] = manifest.digest.ToString();
  nlohmann::ordered_json desc;
  desc["mediaType"] = manifest.media_type;
  desc["digest"] = manifest.digest.ToString();
  desc["size"] = manifest.size;
  j["containerimage.descriptor"] = desc;
  std::vector<std::string> names;
  for (const image::Reference& t : options.tags) names.push_back(t.ToString());
  if (!names.empty()) j["image.name"] = base::Join(names, ",");
  // BuildKit's buildinfo: the base images pinned to what they resolved to.
  nlohmann::ordered_json sources = nlohmann::ordered_json::array();
  for (const std::string& b : bases) {
    size_t at = b.rfind('@');
    sources.push_back({{"type", "docker-image"},
                       {"ref", b.substr(0, at)},
                       {"pin", at == std::string::npos ? "" : b.substr(at + 1)}});
  }
  j["containerimage.buildinfo"] = {{"frontend", "dockerfile.v0"},
                                   {"sources", sources}};
  return base::WriteFileAtomic(path, j.dump(2) + "\n");
}

}  // namespace

Result<BuildSummary> BuildAndExport(const BuildOptions& options,
                                    ProgressSink& progress) {
  // Checked before the build: layers are compressed only on the way out.
  STRATA_ASSIGN_OR_RETURN(
      layer::CompressionOptions compression,
      LayerCompression(options.compression, options.compression_level));
  STRATA_TRY(layer::CheckCompressionOptions(compression));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                          store::Store::Open(options.root));
  // Shared: builds run side by side; prune waits for them.
  STRATA_ASSIGN_OR_RETURN(store::StoreLock lock, store->Lock(false));
  // Bases from registries; their layers are fetched only when read.
  RegistryAccess registries(*store, {options.registry_hosts,
                                     options.credentials});
  registries.ServeRemoteBlobs();
  for (const std::string& text : options.cache_from) {
    STRATA_ASSIGN_OR_RETURN(CacheSpec spec, ParseCacheSpec(text, false));
    int cid = progress.Start("importing cache manifest from " + text);
    std::string note;
    base::Status imported = ImportCache(*store, registries, spec, &note);
    if (!imported) {
      progress.Error(cid, imported.error().message());
      return std::move(imported).error();
    }
    if (!note.empty()) progress.Status(cid, note);
    progress.Done(cid);
  }
  STRATA_ASSIGN_OR_RETURN(BuildResult result,
                          RunBuild(options, *store, progress, &registries));
  const BuiltImage& img = result.image;

  int id = progress.Start("exporting to image");
  progress.Status(id, "exporting layers done");
  progress.Status(id, "writing image " + img.parsed.config.digest.ToString() +
                          " done");
  LayerCache layers(*store);
  base::Status exported =
      ExportOutputs(*store, layers, img, options.outputs, options.tags,
                    compression);
  if (!exported) {
    progress.Error(id, exported.error().message());
    return std::move(exported).error();
  }
  // Only the local store is "named to"; outputs carry the names inside.
  bool tags_store = options.outputs.empty();
  for (const OutputSpec& o : options.outputs) {
    if (o.type == "image") tags_store = true;
  }
  for (const image::Reference& t : options.tags) {
    if (tags_store) progress.Status(id, "naming to " + t.ToString() + " done");
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<image::Reference> push,
                          PushTargets(options.outputs, options.tags));
  if (options.push) {
    if (options.tags.empty()) {
      return MakeError(Code::kInvalidArgument, "--push needs a -t name");
    }
    push.insert(push.end(), options.tags.begin(), options.tags.end());
  }
  image::Descriptor manifest = img.manifest;
  if (!push.empty()) {
    Result<image::Descriptor> pushed = PushCompressed(
        *store, registries, img.manifest, push, compression,
        LinesOnly([&](const std::string& line) {
          progress.Status(id, line);
        }));
    if (!pushed) {
      progress.Error(id, pushed.error().message());
      return std::move(pushed).error();
    }
    manifest = *pushed;
  }
  progress.Done(id);

  for (const std::string& text : options.cache_to) {
    STRATA_ASSIGN_OR_RETURN(CacheSpec spec, ParseCacheSpec(text, true));
    int cid = progress.Start("exporting cache to " + text);
    base::Status exported_cache = ExportCache(
        *store, registries, spec, result.cache_entries, img, compression,
        LinesOnly([&](const std::string& line) { progress.Status(cid, line); }));
    if (!exported_cache) {
      progress.Error(cid, exported_cache.error().message());
      return std::move(exported_cache).error();
    }
    progress.Done(cid);
  }

  if (!options.iidfile.empty()) {
    STRATA_TRY(base::WriteFileAtomic(options.iidfile,
                                     img.parsed.config.digest.ToString()));
  }
  if (!options.metadata_file.empty()) {
    STRATA_TRY(
        WriteMetadata(options.metadata_file, img, manifest, options,
                      result.bases));
  }
  BuildSummary summary;
  summary.image_id = img.parsed.config.digest.ToString();
  summary.manifest_digest = manifest.digest.ToString();
  summary.warnings = std::move(result.warnings);
  return summary;
}

}  // namespace strata::build
