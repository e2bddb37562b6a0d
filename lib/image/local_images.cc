#include "image/local_images.h"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

namespace strata::image {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;
using Json = nlohmann::ordered_json;

namespace {

// `ref` as the record stores it: the tag made explicit, no digest.
Result<Reference> TagReference(const Reference& ref) {
  if (ref.tag.empty() && !ref.digest.empty()) {
    return MakeError(Code::kInvalidArgument, "\"", ref.Familiar(),
                     "\" names a digest, not a tag");
  }
  Reference tagged = ref;
  tagged.tag = ref.TagOrLatest();
  tagged.digest.clear();
  return tagged;
}

Result<std::optional<LocalImage>> ReadEntry(const store::Store& store,
                                            const std::string& key) {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> record,
                          store.GetRecord(kImageRecordKind, key));
  if (!record) return std::optional<LocalImage>();
  STRATA_ASSIGN_OR_RETURN(LocalImage entry, ParseImageRecord(key, *record));
  return std::optional<LocalImage>(std::move(entry));
}

}  // namespace

Result<std::string> ImageKey(const Reference& ref) {
  STRATA_ASSIGN_OR_RETURN(Reference tagged, TagReference(ref));
  return tagged.ToString();
}

std::string ImageRecordToJson(const Descriptor& manifest,
                              std::string_view created) {
  Json j = Json::object();
  j["digest"] = manifest.digest.ToString();
  j["mediaType"] = manifest.media_type;
  j["size"] = manifest.size;
  j["created"] = std::string(created);
  return j.dump();
}

Result<LocalImage> ParseImageRecord(std::string_view key,
                                    std::string_view json) {
  auto damaged = [&](std::string_view why) {
    return MakeError(Code::kParse, "image record \"", key, "\" is damaged (",
                     why, "); remove it with 'strata rmi'");
  };
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return damaged("not JSON");
  auto str = [&](const char* field) -> std::string {
    auto it = j.find(field);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  LocalImage entry;
  Result<Reference> ref = ParseReference(key);
  if (!ref) return damaged("bad name");
  entry.ref = std::move(ref).value();
  entry.name = std::string(key);
  Result<base::Digest> digest = base::Digest::Parse(str("digest"));
  if (!digest) return damaged("bad digest");
  entry.manifest.digest = std::move(digest).value();
  entry.manifest.media_type = str("mediaType");
  if (entry.manifest.media_type.empty()) return damaged("no mediaType");
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() ||
      size->get<int64_t>() < 0) {
    return damaged("bad size");
  }
  entry.manifest.size = size->get<int64_t>();
  entry.created = str("created");
  return entry;
}

Status TagImage(const store::Store& store, const Reference& ref,
                const Descriptor& manifest) {
  STRATA_ASSIGN_OR_RETURN(std::string key, ImageKey(ref));
  if (!store.HasBlob(manifest.digest)) {
    return MakeError(Code::kNotFound, "tagging ", key, ": manifest ",
                     manifest.digest.ToString(), " is not in the store");
  }
  std::string created = FormatRfc3339(static_cast<int64_t>(std::time(nullptr)));
  return store.PutRecord(kImageRecordKind, key,
                         ImageRecordToJson(manifest, created));
}

Result<std::optional<Descriptor>> LookupImage(const store::Store& store,
                                              const Reference& ref) {
  if (!ref.tag.empty() || ref.digest.empty()) {
    STRATA_ASSIGN_OR_RETURN(std::string key, ImageKey(ref));
    STRATA_ASSIGN_OR_RETURN(std::optional<LocalImage> entry,
                            ReadEntry(store, key));
    if (!entry ||
        (!ref.digest.empty() && entry->manifest.digest.ToString() != ref.digest)) {
      return std::optional<Descriptor>();
    }
    return std::optional<Descriptor>(entry->manifest);
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<LocalImage> all, ListImages(store));
  for (const LocalImage& entry : all) {
    if (entry.ref.Name() == ref.Name() &&
        entry.manifest.digest.ToString() == ref.digest) {
      return std::optional<Descriptor>(entry.manifest);
    }
  }
  return std::optional<Descriptor>();
}

Result<std::vector<LocalImage>> ListImages(const store::Store& store) {
  STRATA_ASSIGN_OR_RETURN(std::vector<store::RecordInfo> records,
                          store.ListRecords(kImageRecordKind));
  std::vector<LocalImage> out;
  for (const store::RecordInfo& info : records) {
    // A record removed since the listing (a concurrent rmi) is skipped.
    STRATA_ASSIGN_OR_RETURN(std::optional<LocalImage> entry,
                            ReadEntry(store, info.key));
    if (entry) out.push_back(std::move(*entry));
  }
  std::sort(out.begin(), out.end(),
            [](const LocalImage& a, const LocalImage& b) {
              return a.name < b.name;
            });
  return out;
}

Status UntagImage(const store::Store& store, const Reference& ref) {
  STRATA_ASSIGN_OR_RETURN(std::string key, ImageKey(ref));
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> record,
                          store.GetRecord(kImageRecordKind, key));
  if (!record) {
    Reference tagged = ref;
    tagged.tag = ref.TagOrLatest();
    tagged.digest.clear();
    return MakeError(Code::kNotFound, "no such image: ", tagged.Familiar());
  }
  return store.DeleteRecord(kImageRecordKind, key);
}

}  // namespace strata::image
