#include "build/cache_transfer.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "base/str.h"
#include "build/distributable.h"
#include "build/options.h"
#include "image/layout.h"
#include "image/oci.h"
#include "image/platform.h"

namespace strata::build {

using base::Code;
using base::Digest;
using base::MakeError;
using base::Result;
using base::Status;
using Json = nlohmann::json;

namespace {

constexpr char kDefaultLocalTag[] = "cache";

std::string Attr(const CacheSpec& spec, const std::string& name) {
  auto it = spec.attrs.find(name);
  return it == spec.attrs.end() ? "" : it->second;
}

// The config blob and the manifest of a cache, both put in the store.
Result<image::Descriptor> WriteCacheManifest(
    store::Store& store,
    const std::vector<std::pair<Digest, cache::Entry>>& entries) {
  Json list = Json::array();
  Json layers = Json::array();
  std::set<Digest> seen;
  for (const auto& [key, entry] : entries) {
    list.push_back({{"key", key.ToString()},
                    {"entry", Json::parse(cache::EntryToJson(entry))}});
    if (entry.layer && seen.insert(entry.layer->digest).second) {
      layers.push_back({{"mediaType", entry.layer->media_type},
                        {"digest", entry.layer->digest.ToString()},
                        {"size", entry.layer->size}});
    }
  }
  std::string config = Json{{"version", 1}, {"entries", list}}.dump();
  STRATA_ASSIGN_OR_RETURN(Digest config_digest, store.PutBlob(config));
  Json manifest = {
      {"schemaVersion", 2},
      {"mediaType", image::media::kOciManifest},
      {"artifactType", kCacheArtifactType},
      {"config",
       {{"mediaType", kCacheConfigType},
        {"digest", config_digest.ToString()},
        {"size", static_cast<int64_t>(config.size())}}},
      {"layers", layers}};
  std::string text = manifest.dump();
  STRATA_ASSIGN_OR_RETURN(Digest digest, store.PutBlob(text));
  image::Descriptor desc;
  desc.media_type = image::media::kOciManifest;
  desc.digest = digest;
  desc.size = static_cast<int64_t>(text.size());
  return desc;
}

// The entries of a cache config blob.
Result<std::vector<std::pair<Digest, cache::Entry>>> ParseCacheConfig(
    const std::string& text, const std::string& what) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("version", 0) != 1 || !j.contains("entries") ||
      !j["entries"].is_array()) {
    return MakeError(Code::kParse, what, ": not a strata cache (version 1)");
  }
  std::vector<std::pair<Digest, cache::Entry>> out;
  for (const Json& e : j["entries"]) {
    if (!e.is_object() || !e.contains("key") || !e["key"].is_string() ||
        !e.contains("entry")) {
      return MakeError(Code::kParse, what, ": damaged cache entry");
    }
    STRATA_ASSIGN_OR_RETURN(Digest key,
                            Digest::Parse(e["key"].get<std::string>()));
    STRATA_ASSIGN_OR_RETURN(cache::Entry entry,
                            cache::EntryFromJson(e["entry"].dump()));
    out.emplace_back(std::move(key), std::move(entry));
  }
  return out;
}

// Puts entries into the local index; `have_layer` makes a layer available
// (records it as remote, or copies it in) when the store lacks it.
Status AddEntries(
    store::Store& store,
    const std::vector<std::pair<Digest, cache::Entry>>& entries,
    const std::function<Status(const cache::LayerRecord&)>& have_layer) {
  cache::Index index(store);
  for (const auto& [key, entry] : entries) {
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                            store.GetRecord(cache::kRecordKind, key.hex()));
    if (existing) continue;  // the local entry wins
    if (entry.layer && !store.BlobAvailable(entry.layer->digest)) {
      STRATA_TRY(have_layer(*entry.layer));
    }
    STRATA_TRY(index.Put(key, entry));
  }
  return base::OkStatus();
}

Status ImportLocal(store::Store& store, const CacheSpec& spec,
                   std::string* note) {
  std::string dir = Attr(spec, "src");
  std::string tag = Attr(spec, "tag");
  if (tag.empty()) tag = kDefaultLocalTag;
  Result<std::string> index_json = base::ReadFile(dir + "/index.json");
  if (!index_json) {
    *note = "no cache in " + dir + " yet";
    return base::OkStatus();
  }
  STRATA_ASSIGN_OR_RETURN(image::Index index, image::ParseIndex(*index_json));
  const image::Descriptor* root = image::FindInLayoutIndex(index, tag);
  if (root == nullptr) {
    *note = "no cache named \"" + tag + "\" in " + dir + " yet";
    return base::OkStatus();
  }
  auto blob_path = [&](const Digest& d) {
    return dir + "/blobs/sha256/" + d.hex();
  };
  STRATA_ASSIGN_OR_RETURN(std::string manifest_json,
                          base::ReadFile(blob_path(root->digest)));
  STRATA_ASSIGN_OR_RETURN(image::Manifest m,
                          image::ParseManifest(manifest_json));
  STRATA_ASSIGN_OR_RETURN(std::string config,
                          base::ReadFile(blob_path(m.config.digest)));
  if (Digest::Of(config) != m.config.digest) {
    return MakeError(Code::kDigestMismatch, dir, ": cache config is corrupt");
  }
  STRATA_ASSIGN_OR_RETURN(auto entries, ParseCacheConfig(config, dir));
  return AddEntries(store, entries, [&](const cache::LayerRecord& l) -> Status {
    // A local cache is on this disk: copy the layer in, verified.
    STRATA_ASSIGN_OR_RETURN(base::FdSource src,
                            base::FdSource::Open(blob_path(l.digest)));
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobWriter> w,
                            store.NewBlobWriter());
    STRATA_TRY(base::CopyStream(src, *w));
    STRATA_TRY(w->Commit(l.digest));
    return base::OkStatus();
  });
}

}  // namespace

Result<CacheSpec> ParseCacheSpec(std::string_view text, bool to) {
  CacheSpec spec;
  if (text.find('=') == std::string_view::npos) {
    spec.type = "registry";
    spec.attrs["ref"] = std::string(text);
  } else {
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> fields,
                            SplitCsvFields(text));
    for (const std::string& f : fields) {
      size_t eq = f.find('=');
      if (eq == std::string::npos) {
        return MakeError(Code::kInvalidArgument, "cache option \"", f,
                         "\" is not KEY=VALUE");
      }
      std::string key = f.substr(0, eq);
      if (key == "type") {
        spec.type = f.substr(eq + 1);
      } else {
        spec.attrs[key] = f.substr(eq + 1);
      }
    }
  }
  if (spec.type == "registry") {
    if (Attr(spec, "ref").empty()) {
      return MakeError(Code::kInvalidArgument, "type=registry needs ref=");
    }
    STRATA_TRY(image::ParseReference(Attr(spec, "ref")));
  } else if (spec.type == "local") {
    const char* dir = to ? "dest" : "src";
    if (Attr(spec, dir).empty()) {
      return MakeError(Code::kInvalidArgument, "type=local needs ", dir, "=");
    }
  } else {
    return MakeError(Code::kInvalidArgument, "unknown cache type \"",
                     spec.type, "\" (want registry or local)");
  }
  std::string mode = Attr(spec, "mode");
  if (!mode.empty() && mode != "min" && mode != "max") {
    return MakeError(Code::kInvalidArgument, "cache mode \"", mode,
                     "\" (want min or max)");
  }
  return spec;
}

Status ExportCache(store::Store& store, RegistryAccess& registries,
                   const CacheSpec& spec,
                   const std::vector<std::pair<Digest, cache::Entry>>& used,
                   const BuiltImage& image,
                   const layer::CompressionOptions& compression,
                   const RegistryProgress& progress) {
  bool max = Attr(spec, "mode") == "max";
  std::set<Digest> final_layers;
  for (const image::Descriptor& l : image.parsed.layers) {
    final_layers.insert(l.digest);
  }
  // One entry per key, in the order the build met them.
  std::vector<std::pair<Digest, cache::Entry>> entries;
  std::set<Digest> keys;
  for (const auto& [key, entry] : used) {
    if (!keys.insert(key).second) continue;
    if (!max && entry.layer && !final_layers.count(entry.layer->digest)) {
      continue;
    }
    entries.emplace_back(key, entry);
  }
  // The cache leaves the machine: its layers go compressed, as an image's
  // do (build/distributable.h); the diffIDs stay what the steps made.
  auto line = [&](const std::string& text) {
    if (progress) progress(TransferUpdate{TransferUpdate::kLine, "", "", 0, 0, text});
  };
  for (auto& [key, entry] : entries) {
    if (!entry.layer) continue;
    cache::LayerRecord& l = *entry.layer;
    image::Descriptor plain{l.media_type, l.digest, l.size, {}, std::nullopt};
    STRATA_ASSIGN_OR_RETURN(
        image::Descriptor out,
        CompressedLayer(store, plain, compression, line));
    l.media_type = out.media_type;
    l.digest = out.digest;
    l.size = out.size;
  }
  STRATA_ASSIGN_OR_RETURN(image::Descriptor root,
                          WriteCacheManifest(store, entries));
  if (spec.type == "registry") {
    STRATA_ASSIGN_OR_RETURN(image::Reference ref,
                            image::ParseReference(Attr(spec, "ref")));
    return registries.Push(root, {ref}, progress);
  }
  std::string tag = Attr(spec, "tag");
  if (tag.empty()) tag = kDefaultLocalTag;
  return image::WriteLayoutDir(store, Attr(spec, "dest"),
                               {image::LayoutImage{root, tag, {}}});
}

Status ImportCache(store::Store& store, RegistryAccess& registries,
                   const CacheSpec& spec, std::string* note) {
  note->clear();
  if (spec.type == "local") return ImportLocal(store, spec, note);
  STRATA_ASSIGN_OR_RETURN(image::Reference ref,
                          image::ParseReference(Attr(spec, "ref")));
  Result<RegistryAccess::RemoteImage> remote =
      registries.Inspect(ref, image::HostPlatform());
  if (!remote) {
    if (remote.error().code() == Code::kNotFound) {
      *note = "no cache at " + ref.ToString() + " yet";
      return base::OkStatus();
    }
    return std::move(remote).error().WithContext("importing cache " +
                                                 ref.ToString());
  }
  STRATA_ASSIGN_OR_RETURN(
      auto entries, ParseCacheConfig(remote->config_json, ref.ToString()));
  std::string where = ref.domain + "/" + ref.path;
  return AddEntries(store, entries, [&](const cache::LayerRecord& l) -> Status {
    return store.PutRecord(store::kRemoteBlobKind, l.digest.hex(), where);
  });
}

}  // namespace strata::build
