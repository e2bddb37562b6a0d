// Users and groups of an image (/etc/passwd, /etc/group), for COPY/ADD
// --chown and, later, USER in RUN.
#ifndef STRATA_BUILD_USER_DB_H_
#define STRATA_BUILD_USER_DB_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::build {

/// A uid/gid pair.
struct Owner {
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool operator==(const Owner&) const = default;
};

/// One /etc/passwd line.
struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
  std::string shell;
};

/// One /etc/group line.
struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

/// Parses passwd text like runc's user package: comments and malformed
/// lines are skipped.
std::vector<PasswdEntry> ParsePasswd(std::string_view text);
/// Parses group text the same way.
std::vector<GroupEntry> ParseGroup(std::string_view text);

/// Resolves a --chown value "user[:group]" as BuildKit does: a number is
/// an id (and, alone, the gid too); a user name takes uid and primary gid
/// from `passwd`; a group name its gid from `group`. `passwd`/`group` are
/// the files' contents, nullopt when the image has none. Unlike BuildKit,
/// which silently uses 0 for a name it cannot find, an unknown name is an
/// error ("unable to find user app: no matching entries in passwd file").
base::Result<Owner> ResolveChown(std::string_view spec,
                                 const std::optional<std::string>& passwd,
                                 const std::optional<std::string>& group);

/// True if `spec` names a user or group by name (so /etc files are needed).
bool ChownNeedsLookup(std::string_view spec);

}  // namespace strata::build

#endif  // STRATA_BUILD_USER_DB_H_
