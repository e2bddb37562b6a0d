// Which user namespace strata runs in. Root of the host can do everything a
// build needs; root inside a user namespace (sandbox/id_map.h) can chown to
// the ids mapped there and mount overlays, but cannot write trusted.*
// xattrs, so overlayfs must use user.* ones (userxattr) there.
#ifndef STRATA_BASE_USER_NAMESPACE_H_
#define STRATA_BASE_USER_NAMESPACE_H_

namespace strata::base {

/// Whether this process is in the host's (initial) user namespace, whose
/// uid_map is the identity over all ids.
bool InInitialUserNamespace();

/// Effective uid 0 in the initial user namespace.
bool HostRoot();

}  // namespace strata::base

#endif  // STRATA_BASE_USER_NAMESPACE_H_
