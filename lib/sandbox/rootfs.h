// The root file system of a sandboxed process, set up from inside its new
// mount namespace (sandbox.cc calls this in the init process). Internal to
// lib/sandbox.
#ifndef STRATA_SANDBOX_ROOTFS_H_
#define STRATA_SANDBOX_ROOTFS_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/sandbox.h"

namespace strata::sandbox::internal {

/// `path` (absolute or relative) inside `root`, symlinks followed as the
/// kernel would after chroot(root): an absolute link restarts at `root`,
/// ".." stops at it. Components that do not exist are appended as they
/// are. The result always lies below `root`, whatever the image's links
/// say (runc's securejoin).
base::Result<std::string> SecureJoin(const std::string& root,
                                     const std::string& path);

/// Mounts the overlay, /proc, /dev, /sys, the /etc files and spec.mounts,
/// then pivot_roots into it and changes to spec.cwd. `user_xattrs`: the
/// mounts are made by root of a user namespace (overlay needs "userxattr"
/// then). Every mount point it had to create is appended to `created`
/// (paths relative to the root, parents before children). Returns a
/// message naming what failed, empty on success. The caller is a fresh
/// single-threaded process.
std::string SetUpRootfs(const RunSpec& spec, bool user_xattrs,
                        std::vector<std::string>* created);

/// Brings the loopback interface up (in a new network namespace).
std::string BringUpLoopback();

}  // namespace strata::sandbox::internal

#endif  // STRATA_SANDBOX_ROOTFS_H_
