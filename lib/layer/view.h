// LayeredView: a read-only merged view over a stack of layer directories
// unpacked in overlay mode (see apply.h), showing what overlayfs shows
// when they are mounted as lower dirs, without mounting anything.
//
// Merge rules (those of the kernel's ovl_lookup, checked against Linux
// 6.18 mounts). A name is looked up in the layers of its parent directory,
// topmost first, and the first layer that has it decides:
//   - a whiteout there hides the name (and everything below it);
//   - a non-directory there is the entry; lower layers do not matter;
//   - a directory there is the entry (its metadata comes from that layer)
//     and its contents merge with the directories of the same name in the
//     layers below, down to the first layer where the name is missing
//     (skipped), a whiteout or a non-directory (the merge stops there), or
//     down to and including a directory marked opaque.
// The root merges every layer; an opaque mark on a layer's root is ignored,
// as the kernel ignores it.
//
// On disk, in each layer directory:
//   - whiteout: a char device 0/0, or a zero-length regular file carrying
//     the xattr "<p>.overlay.whiteout" (any value; the Linux 6.7+ form).
//     The kernel's lookup honours the xattr form in any directory (its
//     readdir only in one marked "<p>.overlay.opaque=x", a quirk not
//     copied: a name the view cannot look up is never listed either);
//   - opaque directory: "<p>.overlay.opaque" is exactly "y" ("x" only marks
//     a directory holding xattr whiteouts; it hides nothing);
// where <p> is "trusted" or "user". Both prefixes are honoured, since the
// applier writes one of them and never copies overlay xattrs from images.
// Redirects and metacopy (which the applier never writes) are ignored.
//
// Paths are absolute paths inside the image ("/etc/passwd"); "", "." and
// "/" are the root, a relative path is taken from the root, and a trailing
// '/' means "/." (as in POSIX: it follows a final symlink and requires a
// directory). Symlinks are resolved inside the view, chroot-like: ".."
// stops at the root, an absolute target starts at the view's root, and at
// most 255 symlinks are followed per path ("too many levels of symbolic
// links" beyond). Parent directories are always resolved through symlinks.
//
// Cost: resolving a path of depth d makes O(d x layers) lstat calls (plus
// xattr reads on directories and empty files); only ReadDir and Walk list
// directories. The view holds no open files or caches: it is immutable and
// safe to use from several threads, provided nobody changes the layer
// directories meanwhile.
#ifndef STRATA_LAYER_VIEW_H_
#define STRATA_LAYER_VIEW_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/stream.h"
#include "layer/entry.h"

namespace strata::layer {

/// One entry of the view, with the metadata of the file that provides it.
struct ViewStat {
  /// Never kHardlink: files with several links are kRegular (see nlink).
  EntryType type = EntryType::kDirectory;
  uint32_t mode = 0;  // permission bits with setuid/setgid/sticky (07777)
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;  // regular files; 0 for every other type
  Timestamp mtime;
  std::string link_target;  // symlinks
  uint32_t dev_major = 0;   // char and block devices
  uint32_t dev_minor = 0;
  /// Of the backing file: files sharing device and inode are hard links.
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t nlink = 0;
  /// Index (in the constructor's list) of the layer providing the entry;
  /// -1 for the root of an empty view.
  int layer = -1;
  /// The backing path on the host ("" for the root of an empty view).
  std::string host_path;
};

/// Read-only merged view over overlay-mode layer directories.
class LayeredView {
 public:
  /// `layer_dirs`: directories unpacked with ApplyMode::kOverlay, bottom
  /// layer first. May be empty (scratch): the view is then an empty root
  /// directory (mode 0755, root-owned, mtime 0).
  explicit LayeredView(std::vector<std::string> layer_dirs);

  const std::vector<std::string>& layer_dirs() const { return layer_dirs_; }

  /// The entry at `path`, its final component not followed. nullopt when
  /// it (or one of its parents) does not exist; an Io error when a parent
  /// is not a directory, on a symlink loop or a failed system call.
  base::Result<std::optional<ViewStat>> Lstat(std::string_view path) const;

  /// Lstat, but a final symlink is followed (nullopt if dangling).
  base::Result<std::optional<ViewStat>> Stat(std::string_view path) const;

  /// The canonical absolute path ("/a/b", "/" for the root) `path` resolves
  /// to, a final symlink followed only if `follow_final`. Every component
  /// but the last must exist (NotFound otherwise); a missing last component
  /// (or a dangling final symlink's missing target) is where it would be,
  /// as `readlink -f` does.
  base::Result<std::string> Resolve(std::string_view path,
                                    bool follow_final) const;

  /// The names in directory `dir` (symlinks followed, the final one too),
  /// merged over the layers, whiteouts and opaque directories honoured, in
  /// byte order. NotFound if `dir` does not exist, Io if it is not a
  /// directory.
  base::Result<std::vector<std::string>> ReadDir(std::string_view dir) const;

  /// Opens the regular file at `path` (symlinks followed inside the view)
  /// for reading. NotFound if missing, InvalidArgument if not a regular
  /// file. The backing file is opened beneath its layer directory without
  /// following any symlink, and must be the one that was looked up.
  base::Result<std::unique_ptr<base::Source>> Open(std::string_view path) const;

  /// The extended attributes of the entry at `path` (final component not
  /// followed), sorted by name, without trusted.overlay.* / user.overlay.*.
  /// NotFound if missing.
  base::Result<std::vector<Xattr>> Xattrs(std::string_view path) const;

  /// Called by Walk with a canonical absolute path and its entry.
  using WalkFn =
      std::function<base::Status(const std::string& path, const ViewStat&)>;

  /// Calls `fn` for `root` (final component not followed) and, if it is a
  /// directory, for everything below it: depth first, a directory before
  /// its contents, names of a directory in byte order. Symlinks below
  /// `root` are reported, never followed. Stops at the first error `fn`
  /// returns and returns it. NotFound if `root` does not exist.
  base::Status Walk(std::string_view root, const WalkFn& fn) const;

 private:
  std::vector<std::string> layer_dirs_;
};

}  // namespace strata::layer

#endif  // STRATA_LAYER_VIEW_H_
