// WriteDirectoryLayer: turns a directory tree into layer entries.
//
// Walk order: depth first, a directory's entry before its contents, the
// names of each directory in byte order (Go's filepath.Walk order, which
// containerd's differ follows). Symlinks are never followed. A non-directory
// with several links is written once as a file and then as tar hardlinks
// to that first path (detected by device and inode). Sockets are skipped,
// as containerd skips them. The root directory itself is not an entry.
//
// Overlay conversion (for an overlayfs upper dir): a char device 0/0 becomes
// the whiteout ".wh.<name>" (placed in byte order by that name), and a
// directory whose trusted.overlay.opaque or user.overlay.opaque xattr is "y"
// is followed by its ".wh..wh..opq" marker before any of its contents.
// Xattrs named trusted.overlay.* / user.overlay.* are never copied.
#ifndef STRATA_LAYER_SNAPSHOT_H_
#define STRATA_LAYER_SNAPSHOT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "layer/writer.h"

namespace strata::layer {

/// Which extended attributes of the tree go into the layer.
enum class XattrPolicy {
  kAll,             // every readable one (overlay ones excepted)
  kCapabilityOnly,  // only security.capability: what BuildKit's differ keeps
  kNone,
};

struct DirectoryOptions {
  /// Where the tree lands in the layer: "" is the layer root; "app/src"
  /// writes <dir>/x as "app/src/x". No entries are written for the prefix
  /// directory or its parents; callers add those first when wanted.
  std::string prefix;
  /// Convert overlayfs whiteouts and opaque directories (see above).
  bool convert_overlay_whiteouts = false;
  XattrPolicy xattrs = XattrPolicy::kAll;

};

struct DirectoryStats {
  int64_t entries = 0;    // entries written, markers included
  int64_t whiteouts = 0;  // .wh.<name> and .wh..wh..opq markers
  int64_t skipped = 0;    // sockets
};

/// Adds every entry below `dir` to `writer` (see the walk order above).
/// The entries' uid/gid, mode, mtime (nanoseconds kept; the writer decides)
/// and xattrs are the files' own.
base::Result<DirectoryStats> WriteDirectoryLayer(
    const std::string& dir, LayerWriter& writer,
    const DirectoryOptions& options = {});

}  // namespace strata::layer

#endif  // STRATA_LAYER_SNAPSHOT_H_
