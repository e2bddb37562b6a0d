// Remembered content digests of build-context files, keyed by what stat
// says, so an unchanged context is not read again on the next build.
//
// One file per context directory, in the store (statcache/<sha256 of the
// context's path>), rewritten atomically at the end of a build:
//   strata-statcache 1 <saved at, Unix ns>
//   <sha256 hex> <size> <mtime ns> <ctime ns> <inode> <device> <path>
// An entry is used only when size, mtimes, ctime, inode and device all
// match; ctime moves on every write and cannot be set back by a user, so
// rewriting a file with the same size and mtime still re-reads it. As git
// does with its index, an entry whose ctime is within a second of when the
// file was saved is not trusted (the file may have changed again within
// the clock's resolution) and the file is read again next time.
#ifndef STRATA_BUILD_STAT_CACHE_H_
#define STRATA_BUILD_STAT_CACHE_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/digest.h"

namespace strata::build {

/// What a digest was computed for.
struct FileIdentity {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  bool operator==(const FileIdentity&) const = default;
};

/// Thread-safe. Loads `path` on first use; Save() writes back the entries
/// this build used (files gone from the context drop out). An unreadable
/// or damaged file is an empty cache.
class StatCache {
 public:
  explicit StatCache(std::string path) : path_(std::move(path)) {}
  ~StatCache() { Save(); }
  StatCache(const StatCache&) = delete;
  StatCache& operator=(const StatCache&) = delete;

  /// The remembered digest of `file` if its identity still matches.
  std::optional<base::Digest> Find(const std::string& file,
                                   const FileIdentity& id);
  /// Remembers `digest` for `file` as it was when read.
  void Remember(const std::string& file, const FileIdentity& id,
                const base::Digest& digest);
  /// Writes the cache if it changed (best effort: a cache that cannot be
  /// written only costs a re-read next time).
  void Save();

 private:
  struct Item {
    FileIdentity id;
    base::Digest digest;
    bool used = false;  // looked up or added by this build: saved
  };
  void LoadLocked();

  std::string path_;
  std::mutex mu_;
  bool loaded_ = false;
  bool dirty_ = false;
  std::unordered_map<std::string, Item> items_;
};

}  // namespace strata::build

#endif  // STRATA_BUILD_STAT_CACHE_H_
