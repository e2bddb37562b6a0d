// ApplyLayer: unpacks a layer blob (any compression DecompressingSource
// recognises) into a directory, in one of two modes.
//
// Merge mode applies the layer onto an existing tree (flattening layers
// into a rootfs), following containerd's applier (archive/tar.go) and the
// OCI image-spec, whose whiteouts apply to the lower layers only, wherever
// they sit among the layer's entries:
//   - "<dir>/.wh.<name>" removes <dir>/<name> (recursively) from the lower
//     layers; if this same layer writes <dir>/<name> or entries below it
//     (before or after the whiteout), those are kept and only the rest of
//     the lower content below it is removed;
//   - "<dir>/.wh..wh..opq" removes every lower entry in <dir>, at any
//     depth; this layer's entries, before or after the marker, are kept;
//   - an existing path is replaced, except that a directory over a
//     directory is merged (only its metadata changes).
// Overlay mode unpacks into an empty directory that becomes an overlayfs
// lower dir, and must show what merge mode gives once stacked:
//   - ".wh.<name>" becomes a whiteout: a char device 0/0, chowned to the
//     marker's uid/gid; where mknod is refused with EPERM, or when asked,
//     the xattr form of Linux 6.7+: an empty mode-0 file with
//     "<p>.overlay.whiteout" whose parent gets "<p>.overlay.opaque=x";
//   - ".wh..wh..opq" sets "<p>.overlay.opaque=y" on its directory;
//   - a directory of this layer at a path it also whites out (either
//     order), or holding entries below such a path, is made opaque ("y"),
//     since overlayfs would otherwise merge it with the lower one;
//   - ".wh..wh..opq" at the layer root: overlayfs ignores "opaque" on a
//     lower dir's root, so each top-level name the lower layers show (read
//     through a LayeredView of ApplyOptions::lower_dirs) gets a whiteout,
//     and each top-level directory this layer writes over one is made
//     opaque. The result is then right only above those lower dirs
//     (ApplyStats::depends_on_lower_dirs). Without lower_dirs such a layer
//     is an Unsupported error rather than a wrong tree;
//   - a device entry skipped for lack of privilege leaves a whiteout, as
//     merge mode leaves nothing there;
// where <p> is "trusted" or, for overlayfs mounted with userxattr, "user".
// A known difference: overlay mode creates a missing parent of a whiteout
// (merge mode skips the whiteout), which shows as an empty directory if no
// lower layer has it.
//
// Both modes restore ownership (see Ownership), modes including
// setuid/setgid/sticky, mtimes (directories last, so later entries do not
// disturb them), xattrs, hardlinks, symlinks, devices and fifos. Xattrs
// named trusted.overlay.* or user.overlay.* in a layer are never applied:
// they would steer overlayfs (redirects, metacopy) from inside an image.
//
// Security: no entry is written outside `root`.
//   - Names are cleaned like containerd does (a leading '/' is dropped, so
//     "/etc/x" is "etc/x"); a name whose ".." climbs above the root is an
//     InvalidArgument error naming the entry. Hardlink targets likewise.
//   - Parent directories are resolved with symlinks evaluated inside the
//     root (see root_fs.h): after "evil -> /etc", "evil/passwd" lands in
//     <root>/etc/passwd. The last component is never followed: a symlink
//     in the way is replaced, not written through.
// On error the tree is left partly applied; callers unpack into a fresh
// directory and discard it on failure.
#ifndef STRATA_LAYER_APPLY_H_
#define STRATA_LAYER_APPLY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "base/stream.h"
#include "layer/compression.h"

namespace strata::layer {

enum class ApplyMode { kMerge, kOverlay };

/// Whether entries get the uid/gid the layer records.
enum class Ownership {
  kAuto,    // when running as root (euid 0); failures are warnings
  kKeep,    // always; a failed lchown is an error
  kIgnore,  // never: files belong to the caller
};

struct ApplyOptions {
  ApplyMode mode = ApplyMode::kMerge;
  Ownership ownership = Ownership::kAuto;
  /// Overlay mode: use user.overlay.* xattrs instead of trusted.overlay.*.
  bool overlay_user_xattrs = false;
  /// Overlay mode: always write whiteouts in xattr form (needs Linux 6.7+
  /// overlayfs to be honoured), never as char devices.
  bool overlay_xattr_whiteouts = false;
  /// Overlay mode: the directories of the layers below, bottom first, as
  /// ApplyLayer unpacked them in overlay mode ({} for the first layer).
  /// Read only for an opaque marker at the layer root (see above), which
  /// is Unsupported while this is nullopt. Ignored in merge mode.
  std::optional<std::vector<std::string>> lower_dirs;
  /// If set, the uncompressed tar must hash to this (DigestMismatch).
  std::optional<base::Digest> expected_diff_id;
};

/// What ApplyLayer did.
struct ApplyStats {
  int64_t entries = 0;            // tar entries read, markers included
  int64_t uncompressed_size = 0;  // bytes of the tar stream
  base::Digest diff_id;           // sha256 of the tar stream
  Compression compression = Compression::kNone;
  int64_t xattr_whiteouts = 0;  // overlay whiteouts written in xattr form
  /// Overlay mode: the result was made for ApplyOptions::lower_dirs (an
  /// opaque marker at the root) and is wrong over other lower layers.
  bool depends_on_lower_dirs = false;
  /// Things skipped because they were not permitted (devices without
  /// CAP_MKNOD, lchown or security.* xattrs without privilege, ...).
  int64_t warnings = 0;
  std::vector<std::string> warning_messages;  // the first 32
};

/// Decompresses `blob` and unpacks the tar into `root` (an existing
/// directory). Reads `blob` to its end, so diff_id covers every byte.
base::Result<ApplyStats> ApplyLayer(base::Source& blob, const std::string& root,
                                    const ApplyOptions& options = {});

}  // namespace strata::layer

#endif  // STRATA_LAYER_APPLY_H_
