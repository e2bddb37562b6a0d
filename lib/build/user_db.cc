#include "build/user_db.h"

namespace strata::build {

using base::Code;
using base::MakeError;

namespace {

bool ParseId(std::string_view s, uint32_t* out) {
  int64_t v = 0;
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos ||
      !base::ParseInt64(s, &v) || v > UINT32_MAX) {
    return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

std::vector<std::vector<std::string>> Records(std::string_view text,
                                              size_t min_fields) {
  std::vector<std::vector<std::string>> out;
  for (const std::string& raw : base::Split(text, '\n')) {
    std::string_view line = base::TrimAscii(raw);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = base::Split(line, ':');
    if (fields.size() < min_fields) continue;
    out.push_back(std::move(fields));
  }
  return out;
}

}  // namespace

std::vector<PasswdEntry> ParsePasswd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (const auto& f : Records(text, 4)) {
    PasswdEntry e;
    e.name = f[0];
    if (!ParseId(f[2], &e.uid) || !ParseId(f[3], &e.gid)) continue;
    if (f.size() > 5) e.home = f[5];
    if (f.size() > 6) e.shell = f[6];
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<GroupEntry> ParseGroup(std::string_view text) {
  std::vector<GroupEntry> out;
  for (const auto& f : Records(text, 3)) {
    GroupEntry e;
    e.name = f[0];
    if (!ParseId(f[2], &e.gid)) continue;
    if (f.size() > 3 && !f[3].empty()) e.members = base::Split(f[3], ',');
    out.push_back(std::move(e));
  }
  return out;
}

bool ChownNeedsLookup(std::string_view spec) {
  size_t colon = spec.find(':');
  uint32_t id;
  std::string_view user = spec.substr(0, colon);
  if (!user.empty() && !ParseId(user, &id)) return true;
  if (colon == std::string_view::npos) return false;
  std::string_view group = spec.substr(colon + 1);
  return !group.empty() && !ParseId(group, &id);
}

base::Result<Owner> ResolveChown(std::string_view spec,
                                 const std::optional<std::string>& passwd,
                                 const std::optional<std::string>& group) {
  size_t colon = spec.find(':');
  std::string_view user = spec.substr(0, colon);
  std::optional<std::string_view> grp;
  if (colon != std::string_view::npos) grp = spec.substr(colon + 1);
  if (user.empty()) {
    return MakeError(Code::kInvalidArgument, "invalid chown \"", spec,
                     "\": no user");
  }
  Owner owner;
  if (ParseId(user, &owner.uid)) {
    owner.gid = owner.uid;
  } else {
    bool found = false;
    for (const PasswdEntry& e : ParsePasswd(passwd.value_or(""))) {
      if (e.name == user) {
        owner = {e.uid, e.gid};
        found = true;
        break;
      }
    }
    if (!found) {
      return MakeError(Code::kNotFound, "unable to find user ", user,
                       passwd ? ": no matching entries in passwd file"
                              : ": the image has no /etc/passwd");
    }
  }
  if (grp && !grp->empty()) {
    if (!ParseId(*grp, &owner.gid)) {
      bool found = false;
      for (const GroupEntry& e : ParseGroup(group.value_or(""))) {
        if (e.name == *grp) {
          owner.gid = e.gid;
          found = true;
          break;
        }
      }
      if (!found) {
        return MakeError(Code::kNotFound, "unable to find group ", *grp,
                         group ? ": no matching entries in group file"
                               : ": the image has no /etc/group");
      }
    }
  }
  return owner;
}

}  // namespace strata::build
