// Rootless with subordinate ids, as podman and buildah do it: an
// unprivileged strata moves itself, at start, into a user namespace where
// root is the user and ids 1..N are the user's ranges from /etc/subuid and
// /etc/subgid (written by the setuid helpers newuidmap and newgidmap).
// Inside, strata is root of that namespace: it unpacks layers with their
// real owners, RUN's `chown app /data` and `useradd` work, and snapshots
// read every file with its owner as the image sees it. Without ranges or
// helpers strata stays as it is, and RUN uses a single-id map (root only).
#ifndef STRATA_SANDBOX_ID_MAP_H_
#define STRATA_SANDBOX_ID_MAP_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::sandbox {

/// A range of subordinate ids: `count` host ids from `start`.
struct SubIdRange {
  uint32_t start = 0;
  uint32_t count = 0;
};

/// The first range in `text` (the format of /etc/subuid: "owner:start:count"
/// lines, owner a name or a numeric id) belonging to `name` or `id`.
std::optional<SubIdRange> FindSubIds(std::string_view text,
                                     std::string_view name, uint32_t id);

/// Enters the id-mapped user namespace when strata is not root, the user
/// has ranges in both files and newuidmap/newgidmap are installed, and
/// STRATA_SUBIDS is not "0". The calling process then stays outside: it
/// waits for the one inside, passes on the signals sent to it, and exits
/// as it does; only the inside returns (true). Returns false, having
/// changed nothing, when one of the conditions is not met; `why_not`
/// then says which, when it is worth telling.
bool EnterIdMappedUserNamespace(std::string* why_not);

}  // namespace strata::sandbox

#endif  // STRATA_SANDBOX_ID_MAP_H_
