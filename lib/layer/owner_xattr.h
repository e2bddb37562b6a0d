// Ownership when strata is not root. It cannot chown what it unpacks, so
// the owner a layer gives a file is kept in the xattr "user.strata.owner"
// ("uid:gid", only when not 0:0), and files it owns itself read as root's:
// that is what they are inside the single-id user namespace RUN uses. The
// xattr is strata's bookkeeping and never written to a layer.
#ifndef STRATA_LAYER_OWNER_XATTR_H_
#define STRATA_LAYER_OWNER_XATTR_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace strata::layer {

inline constexpr char kOwnerXattr[] = "user.strata.owner";

/// Whether this process cannot chown (it is not root).
bool Unprivileged();

/// Records `uid:gid` as the owner of `path` (not followed) when it is not
/// 0:0; symlinks, which cannot carry user xattrs, are left as they are.
void RecordOwner(const std::string& path, int64_t uid, int64_t gid);

/// The owner of `path` as a layer should see it: unprivileged, the
/// recorded owner, else 0 for ids that are this process's own; privileged,
/// the ids as they are.
void ReadOwner(const std::string& path, int64_t* uid, int64_t* gid);

/// True for xattrs that are strata's bookkeeping, never copied to layers.
inline bool IsOwnerXattr(std::string_view name) { return name == kOwnerXattr; }

}  // namespace strata::layer

#endif  // STRATA_LAYER_OWNER_XATTR_H_
