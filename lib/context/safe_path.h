// Path cleaning and joining that cannot leave a root directory.
//
// The build context is a root: nothing a Dockerfile or a .dockerignore names
// may resolve outside it. These helpers are lexical (CleanPath, CleanBeneath,
// JoinBeneath, ScopedClean) except ResolveInRoot, which reads symlinks but
// interprets every link target inside the root, as BuildKit does when it
// reads a file from a context snapshot (continuity's fs.RootPath).
//
// All paths are Unix paths with '/' separators.
#ifndef STRATA_CONTEXT_SAFE_PATH_H_
#define STRATA_CONTEXT_SAFE_PATH_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::context {

/// Go's filepath.Clean on Unix: the shortest equivalent path by lexical
/// processing. "" gives ".", "a//b/./c/.." gives "a/b", "/../x" gives "/x",
/// "../x" stays "../x", and a trailing '/' is dropped (except for "/").
std::string CleanPath(std::string_view path);

/// Go's filepath.Dir on Unix: everything before the last '/', cleaned.
/// "a/b" gives "a", "a" gives ".", "/" gives "/", "a/b/" gives "a/b".
std::string DirName(std::string_view path);

/// Cleans `path` as a path inside a root and returns it relative to the root
/// ("." for the root itself). A leading '/' means the root ("/etc/x" gives
/// "etc/x"). Fails with kInvalidArgument when a ".." would climb above the
/// root ("..", "../x", "a/../../b").
base::Result<std::string> CleanBeneath(std::string_view path);

/// `root` + "/" + CleanBeneath(path); just `root` (cleaned) when `path` names
/// the root. Fails like CleanBeneath.
base::Result<std::string> JoinBeneath(std::string_view root,
                                      std::string_view path);

/// Like CleanBeneath, but ".." at the root is dropped instead of failing,
/// the way BuildKit scopes COPY sources (path.Join("/", p)): "../x" gives
/// "x", "/" and ".." give ".".
std::string ScopedClean(std::string_view path);

/// Resolves the symlinks in `path` (relative to `root`, or absolute meaning
/// the root) component by component, reading each link target as if `root`
/// were "/": an absolute target restarts at the root and ".." never climbs
/// above it. Returns the resolved path relative to the root ("." for the
/// root). Components that do not exist are kept as written, so the result
/// may name a missing file. Fails with kIo on more than 255 links (a loop) or
/// an unreadable component.
base::Result<std::string> ResolveInRoot(const std::string& root,
                                        std::string_view path);

}  // namespace strata::context

#endif  // STRATA_CONTEXT_SAFE_PATH_H_
