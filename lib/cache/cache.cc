#include "cache/cache.h"

#include <nlohmann/json.hpp>

namespace strata::cache {

using base::Code;
using base::MakeError;
using Json = nlohmann::ordered_json;

KeyBuilder::KeyBuilder() { Add("strata-cache", std::to_string(kKeyVersion)); }

KeyBuilder& KeyBuilder::Add(std::string_view name, std::string_view value) {
  hash_.Update(base::StrCat(name.size(), ":"));
  hash_.Update(name);
  hash_.Update(base::StrCat(value.size(), ":"));
  hash_.Update(value);
  return *this;
}

base::Digest KeyBuilder::Finish() { return hash_.Finish(); }

std::string EntryToJson(const Entry& entry) {
  Json j = Json::object();
  j["v"] = kKeyVersion;
  if (entry.layer) {
    const LayerRecord& l = *entry.layer;
    Json lj = Json::object();
    lj["mediaType"] = l.media_type;
    lj["digest"] = l.digest.ToString();
    lj["size"] = l.size;
    lj["diffID"] = l.diff_id.ToString();
    lj["uncompressedSize"] = l.uncompressed_size;
    j["layer"] = lj;
  }
  if (entry.created > 0) j["created"] = entry.created;
  return j.dump();
}

base::Result<Entry> EntryFromJson(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return MakeError(Code::kParse, "cache record: not a JSON object");
  }
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() ||
      v->get<int64_t>() != kKeyVersion) {
    return MakeError(Code::kUnsupported, "cache record: unknown version");
  }
  Entry entry;
  if (auto c = j.find("created"); c != j.end() && c->is_number_integer()) {
    entry.created = c->get<int64_t>();
  }
  auto layer = j.find("layer");
  if (layer == j.end()) return entry;
  auto str = [&](const char* k) -> std::string {
    auto it = layer->find(k);
    return it != layer->end() && it->is_string() ? it->get<std::string>() : "";
  };
  auto num = [&](const char* k) -> int64_t {
    auto it = layer->find(k);
    return it != layer->end() && it->is_number_integer() ? it->get<int64_t>()
                                                         : -1;
  };
  if (!layer->is_object()) {
    return MakeError(Code::kParse, "cache record: bad layer");
  }
  LayerRecord l;
  l.media_type = str("mediaType");
  STRATA_ASSIGN_OR_RETURN(l.digest, base::Digest::Parse(str("digest")));
  STRATA_ASSIGN_OR_RETURN(l.diff_id, base::Digest::Parse(str("diffID")));
  l.size = num("size");
  l.uncompressed_size = num("uncompressedSize");
  if (l.media_type.empty() || l.size < 0 || l.uncompressed_size < 0) {
    return MakeError(Code::kParse, "cache record: bad layer");
  }
  entry.layer = std::move(l);
  return entry;
}

base::Result<std::optional<Entry>> Index::Lookup(
    const base::Digest& key) const {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> record,
                          store_.GetRecord(kRecordKind, key.hex(),
                                           /*touch=*/true));
  if (!record) return std::optional<Entry>();
  base::Result<Entry> entry = EntryFromJson(*record);
  // A damaged or foreign record is a miss; the step runs and rewrites it.
  if (!entry) return std::optional<Entry>();
  if (entry->layer && !store_.BlobAvailable(entry->layer->digest)) {
    return std::optional<Entry>();
  }
  return std::optional<Entry>(std::move(entry).value());
}

base::Status Index::Put(const base::Digest& key, const Entry& entry) const {
  if (entry.layer && !store_.BlobAvailable(entry.layer->digest)) {
    return MakeError(Code::kInternal, "cache: layer ",
                     entry.layer->digest.ToString(), " is not in the store");
  }
  return store_.PutRecord(kRecordKind, key.hex(), EntryToJson(entry));
}

}  // namespace strata::cache
