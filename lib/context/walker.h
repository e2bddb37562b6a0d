// The build-context walker: what BuildKit's client sends for a local
// context (tonistiigi/fsutil's filterFS over filepath.WalkDir).
//
// Order: depth first, entries of each directory in byte order of their
// names (Go's filepath.WalkDir), a directory before its contents. The root
// itself is not reported. Symlinks are reported, never followed.
//
// Exclusion (.dockerignore patterns, via PatternMatcher's
// MatchesUsingParentResults):
//   - an excluded file is left out;
//   - an excluded directory is not entered, unless a '!' pattern could
//     re-include something below it: if any '!' pattern has a wildcard
//     (`*[]?^\`) before its trailing "/*" or "/**", every excluded
//     directory is entered; otherwise only those that are a prefix of a
//     '!' pattern;
//   - an excluded directory that was entered is reported only once
//     something inside it is included, just before that entry;
//   - an excluded directory that cannot be read (permission denied) is
//     skipped silently.
#ifndef STRATA_CONTEXT_WALKER_H_
#define STRATA_CONTEXT_WALKER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace strata::context {

/// The kind of a context entry.
enum class FileType { kFile, kDir, kSymlink, kOther };

/// lstat data of an entry (never of a symlink's target). Raw values: the
/// BuildKit client resets uid and gid to 0 before sending; that is for the
/// consumer to do.
struct FileStat {
  uint32_t mode = 0;  // st_mode: type bits and permissions
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t size = 0;  // st_size as is (fsutil sends 0 for directories)
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;  // st_dev
  uint64_t nlink = 0;
  uint64_t rdev = 0;  // for device nodes
};

/// One entry of the context.
struct WalkEntry {
  /// Relative to the context, '/'-separated, no leading "./" or "/".
  std::string path;
  FileType type = FileType::kOther;
  FileStat stat;
  /// The symlink's target text, as readlink returns it (symlinks only).
  std::string link_target;
  /// For a non-directory with more than one link: the path of the first
  /// entry reported with the same device and inode (a hard link to it, as
  /// fsutil records it), else empty.
  std::string hardlink_to;
};

/// Options for WalkContext.
struct WalkOptions {
  /// Exclude patterns as ReadIgnoreFile returns them; empty means none.
  std::vector<std::string> exclude_patterns;
};

/// Called for each entry in order; an error stops the walk and is returned.
using WalkCallback = std::function<base::Status(const WalkEntry&)>;

/// Walks `context_dir` (symlinks in the path to it are resolved first; it
/// must be a directory) and calls `callback` for each entry that is not
/// excluded. Streams: memory use is one directory listing per level.
/// Fails with kParse "invalid excludepatterns: [...]: <reason>" for bad
/// patterns, kParse "failed to match excludepatterns: ..." for a pattern
/// whose regexp fails when first used, and kIo naming the path when a
/// directory that is not excluded cannot be read or an entry cannot be
/// stat'ed. Entries that vanish during the walk are skipped, as fsutil does.
base::Status WalkContext(const std::string& context_dir,
                         const WalkOptions& options,
                         const WalkCallback& callback);

}  // namespace strata::context

#endif  // STRATA_CONTEXT_WALKER_H_
