#include "layer/owner_xattr.h"

#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>

namespace strata::layer {

bool Unprivileged() {
  static const bool unprivileged = ::geteuid() != 0;
  return unprivileged;
}

void RecordOwner(const std::string& path, int64_t uid, int64_t gid) {
  if (uid == 0 && gid == 0) {
    ::lremovexattr(path.c_str(), kOwnerXattr);
    return;
  }
  std::string value = std::to_string(uid) + ":" + std::to_string(gid);
  // Fails on symlinks (user xattrs are not allowed there): they keep the
  // caller's ids, read as root's.
  ::lsetxattr(path.c_str(), kOwnerXattr, value.data(), value.size(), 0);
}

void ReadOwner(const std::string& path, int64_t* uid, int64_t* gid) {
  if (!Unprivileged()) return;
  char buf[64];
  ssize_t n = ::lgetxattr(path.c_str(), kOwnerXattr, buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    long long u = 0, g = 0;
    if (std::sscanf(buf, "%lld:%lld", &u, &g) == 2) {
      *uid = u;
      *gid = g;
      return;
    }
  }
  if (*uid == static_cast<int64_t>(::geteuid())) *uid = 0;
  if (*gid == static_cast<int64_t>(::getegid())) *gid = 0;
}

}  // namespace strata::layer
