// File-system operations confined to a root directory, for the layer
// applier. Internal to lib/layer (tests include it to cover both resolvers).
//
// Containment: every path is resolved with symlinks evaluated as if the
// root were "/" (a chroot-like view, as containerd's fs.RootPath does), so
// a symlink "evil -> /etc" followed by an entry "evil/passwd" writes
// <root>/etc/passwd, never /etc/passwd. Two resolvers implement this:
//   - openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (Linux 5.6+),
//     which the kernel enforces even against concurrent renames;
//   - where openat2 is unavailable (ENOSYS, or EPERM from a seccomp
//     filter), a component-by-component walk with O_PATH | O_NOFOLLOW that
//     reads each symlink and splices its target in, clamping ".." at root.
// Only parent directories are resolved this way; the last component of an
// entry is always handled with *at() calls that do not follow it.
#ifndef STRATA_LAYER_ROOT_FS_H_
#define STRATA_LAYER_ROOT_FS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/file.h"
#include "base/result.h"

namespace strata::layer::internal {

/// Which resolver OpenDirInRoot uses.
enum class ResolveMode { kAuto, kOpenat2, kManual };

/// Forces a resolver (tests). kAuto: openat2 when the kernel allows it.
void SetResolveModeForTesting(ResolveMode mode);

/// Opens the directory `rel` ("" is the root; a clean relative path)
/// inside the directory `root_fd`, resolving symlinks within the root.
/// Returns an O_PATH descriptor usable as the dirfd of *at() calls.
/// NotFound when a component is missing, Io otherwise (e.g. ENOTDIR).
base::Result<base::UniqueFd> OpenDirInRoot(int root_fd, std::string_view rel);

/// OpenDirInRoot, creating missing directories (mode `mode`, before umask)
/// one component at a time, each inside the root.
base::Result<base::UniqueFd> MkdirAllInRoot(int root_fd, std::string_view rel,
                                            mode_t mode = 0755);

/// Removes `name` in `dir_fd` and, for a directory, everything below it,
/// never following symlinks. A missing `name` is not an error.
base::Status RemoveAllAt(int dir_fd, const std::string& name);

/// The names in directory `dir_fd` (no "." or ".."), in byte order.
base::Result<std::vector<std::string>> ListDirAt(int dir_fd);

/// "/proc/self/fd/<dir_fd>/<name>": a path for calls with no *at() form
/// (l*xattr) that reaches `name` through the already resolved directory.
std::string FdRelativePath(int dir_fd, std::string_view name);

}  // namespace strata::layer::internal

#endif  // STRATA_LAYER_ROOT_FS_H_
