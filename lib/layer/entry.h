// Layer entries (what a LayerWriter is given) and the OCI whiteout names.
//
// Whiteouts (OCI image-spec layer.md): in a layer, a regular file named
// "<dir>/.wh.<name>" deletes <dir>/<name> from the layers below, and
// "<dir>/.wh..wh..opq" hides everything the layers below put in <dir>.
// Other names starting with ".wh..wh." are AUFS metadata and are ignored.
#ifndef STRATA_LAYER_ENTRY_H_
#define STRATA_LAYER_ENTRY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::layer {

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
inline constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";

/// What a tar entry is.
enum class EntryType {
  kRegular,
  kDirectory,
  kSymlink,
  kHardlink,  // a tar hard link to an earlier entry of the same layer
  kCharDevice,
  kBlockDevice,
  kFifo,
};

/// "file", "dir", "symlink", "hardlink", "char", "block" or "fifo".
std::string_view EntryTypeName(EntryType type);

/// Seconds and nanoseconds since the Unix epoch.
struct Timestamp {
  int64_t sec = 0;
  int64_t nsec = 0;  // 0..999999999
  bool operator==(const Timestamp&) const = default;
  auto operator<=>(const Timestamp&) const = default;
};

/// One extended attribute ("user.foo", "security.capability", ...).
struct Xattr {
  std::string name;
  std::string value;  // raw bytes
  bool operator==(const Xattr&) const = default;
};

/// The header of one layer entry.
struct Entry {
  EntryType type = EntryType::kRegular;
  /// Relative, '/'-separated, no leading '/', no "." or ".." components.
  /// Directories may end in '/'; the tar name of a directory always does
  /// (as containerd writes it).
  std::string path;
  /// Permission bits including setuid, setgid and sticky (mask 07777).
  uint32_t mode = 0644;
  int64_t uid = 0;
  int64_t gid = 0;
  Timestamp mtime;
  /// Content length of a regular file; must be 0 for other types.
  int64_t size = 0;
  /// Symlink target (any text) or hardlink target (an entry path).
  std::string link_target;
  uint32_t dev_major = 0;  // char and block devices
  uint32_t dev_minor = 0;
  /// Written as PAX "SCHILY.xattr.<name>" records, sorted by name.
  std::vector<Xattr> xattrs;
};

/// Checks that `path` is a clean relative entry path as described on
/// Entry::path and returns it without a trailing '/'. InvalidArgument
/// otherwise.
base::Result<std::string> ValidateEntryPath(std::string_view path);

/// Normalises a tar entry name read from a layer the way containerd does
/// (path.Clean, leading '/' dropped, so "/a//b/" and "./a/b" become
/// "a/b"), but refuses a name whose ".." components climb above the root
/// (InvalidArgument naming it). The root itself yields "".
base::Result<std::string> CleanLayerPath(std::string_view name);

/// Splits "a/b/c" into {"a/b", "c"} and "c" into {"", "c"}.
std::pair<std::string_view, std::string_view> SplitParent(
    std::string_view path);

}  // namespace strata::layer

#endif  // STRATA_LAYER_ENTRY_H_
