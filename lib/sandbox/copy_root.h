// The fallback where overlayfs cannot be mounted (old kernels, some
// rootless setups): the lower dirs are merged into a plain copy, the
// command runs on the copy, and the copy is compared with the lower dirs
// to find what changed. Slower (every file is copied once per RUN) but the
// same result. Internal to lib/sandbox.
#ifndef STRATA_SANDBOX_COPY_ROOT_H_
#define STRATA_SANDBOX_COPY_ROOT_H_

#include <sys/stat.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace strata::sandbox::internal {

/// The entry `rel` of the merged view of `lower_dirs` (top first): its
/// path in the layer that provides it, and its lstat. False if absent.
bool MergedLstat(const std::vector<std::string>& lower_dirs,
                 const std::string& rel, std::string* path, struct stat* st);

/// Copies the merged view of `lower_dirs` (overlay format: 0/0 character
/// devices are whiteouts, an opaque xattr hides what is below; top first)
/// into the empty directory `dest`, keeping owners, modes, times, symlinks
/// and security.capability.
base::Status MergeLowerDirs(const std::vector<std::string>& lower_dirs,
                            const std::string& dest);

/// Writes into the empty directory `diff` what differs between `copy` (the
/// root after the command) and `lower_dirs`: new and changed entries are
/// moved out of `copy` (directories recreated with their metadata), and a
/// deleted name becomes an empty regular file ".wh.<name>" beside it (the
/// OCI whiteout, written to the layer as is).
base::Status DiffCopy(const std::string& copy,
                      const std::vector<std::string>& lower_dirs,
                      const std::string& diff);

}  // namespace strata::sandbox::internal

#endif  // STRATA_SANDBOX_COPY_ROOT_H_
