// Build cache: step keys and the index from key to step result.
//
// Key format, version 1. A key is the sha256 of a sequence of fields, each
// written as <decimal length of name>:<name><decimal length of value>:<value>
// so no two different field lists can produce the same byte stream. The
// first field is always ("strata-cache", "1"): a later format changes the
// version and can never hit a version-1 entry. BuildKit's exec op carries
// a compatibility hack for old, wrongly computed keys; this version field
// is what lets us avoid one.
//
// Index records live in the store under records/cache/<key hex> as JSON:
//   {"v":1,"layer":{"mediaType":..,"digest":..,"size":..,"diffID":..,
//    "uncompressedSize":..}}      a step that made a layer
//   {"v":1}                        a step that made none
// A record is only trusted if the blobs it names are still in the store, or
// recorded as fetchable from a registry (store.h: BlobAvailable).
#ifndef STRATA_CACHE_CACHE_H_
#define STRATA_CACHE_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "store/store.h"

namespace strata::cache {

inline constexpr int kKeyVersion = 1;
inline constexpr char kRecordKind[] = "cache";

/// Accumulates the fields of a step key.
class KeyBuilder {
 public:
  KeyBuilder();
  /// Adds one named field. Order matters.
  KeyBuilder& Add(std::string_view name, std::string_view value);
  KeyBuilder& Add(std::string_view name, const base::Digest& value) {
    return Add(name, value.ToString());
  }
  /// The key: sha256 of the fields added so far.
  base::Digest Finish();

 private:
  base::Sha256 hash_;
};

/// A layer a step produced, as recorded in the cache.
struct LayerRecord {
  std::string media_type;
  base::Digest digest;   // of the compressed blob
  int64_t size = 0;      // compressed size
  base::Digest diff_id;  // of the uncompressed tar
  int64_t uncompressed_size = 0;
  bool operator==(const LayerRecord&) const = default;
};

/// What a cached step produced.
struct Entry {
  std::optional<LayerRecord> layer;
  /// When the step first ran (Unix seconds; 0 if unknown): a cached
  /// rebuild reuses it, so it gives the same history and image digest.
  int64_t created = 0;
  bool operator==(const Entry&) const = default;
};

/// The cache index over a store.
class Index {
 public:
  explicit Index(const store::Store& store) : store_(store) {}

  /// The entry for `key`, or nullopt on a miss (or when a blob it names has
  /// been pruned). Marks the entry as used now.
  base::Result<std::optional<Entry>> Lookup(const base::Digest& key) const;
  /// Records an entry; the blobs must already be in the store.
  base::Status Put(const base::Digest& key, const Entry& entry) const;

 private:
  const store::Store& store_;
};

/// Serializes / parses an entry record (exposed for tests).
std::string EntryToJson(const Entry& entry);
base::Result<Entry> EntryFromJson(std::string_view json);

}  // namespace strata::cache

#endif  // STRATA_CACHE_CACHE_H_
