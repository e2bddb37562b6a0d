// The root file system of a sandboxed process, set up from inside its new
// mount namespace (sandbox.cc calls this in the init process). Internal to
// lib/sandbox.
#ifndef STRATA_SANDBOX_ROOTFS_H_
#define STRATA_SANDBOX_ROOTFS_H_

#include <string>

#include "sandbox/sandbox.h"

namespace strata::sandbox::internal {

/// The paths below the root that the sandbox mounts over, so may create.
inline constexpr const char* kMountPoints[] = {
    "proc", "dev", "sys", "etc/resolv.conf", "etc/hosts",
};

/// Mounts the overlay, /proc, /dev, /sys and the /etc files, then
/// pivot_roots into it and changes to spec.cwd. `in_userns`: the mounts are
/// made by root of a user namespace (overlay needs "userxattr" then).
/// Returns a message naming what failed, empty on success. Async-signal
/// safety is not needed: the caller is a fresh single-threaded process.
std::string SetUpRootfs(const RunSpec& spec, bool in_userns);

/// Brings the loopback interface up (in a new network namespace).
std::string BringUpLoopback();

}  // namespace strata::sandbox::internal

#endif  // STRATA_SANDBOX_ROOTFS_H_
