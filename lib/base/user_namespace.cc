#include "base/user_namespace.h"

#include <unistd.h>

#include <sstream>

#include "base/file.h"

namespace strata::base {

bool InInitialUserNamespace() {
  Result<std::string> map = ReadFile("/proc/self/uid_map");
  if (!map) return true;  // no /proc: assume the host's
  std::istringstream in(*map);
  unsigned long long inside = 1, outside = 1, count = 0;
  in >> inside >> outside >> count;
  return inside == 0 && outside == 0 && count == 4294967295ULL;
}

bool HostRoot() { return ::geteuid() == 0 && InInitialUserNamespace(); }

}  // namespace strata::base
