#include "context/safe_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/file.h"
#include "base/str.h"

namespace strata::context {

using base::Code;
using base::MakeError;

// continuity's fs.RootPath (which BuildKit uses to read files from a context
// snapshot) gives up after 255 links; so do we.
constexpr int kMaxSymlinks = 255;

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  const size_t n = path.size();
  std::string out;
  out.reserve(n);
  size_t r = 0;
  // Output before `dotdot` is a leading "/" or "../.." that ".." must keep.
  size_t dotdot = 0;
  if (rooted) {
    out.push_back('/');
    r = 1;
    dotdot = 1;
  }
  while (r < n) {
    if (path[r] == '/') {
      ++r;
    } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
      ++r;
    } else if (path[r] == '.' && path[r + 1] == '.' &&
               (r + 2 == n || path[r + 2] == '/')) {
      r += 2;
      if (out.size() > dotdot) {
        size_t w = out.size() - 1;
        while (w > dotdot && out[w] != '/') --w;
        out.resize(w);
      } else if (!rooted) {
        if (!out.empty()) out.push_back('/');
        out += "..";
        dotdot = out.size();
      }
    } else {
      if ((rooted && out.size() != 1) || (!rooted && !out.empty())) {
        out.push_back('/');
      }
      for (; r < n && path[r] != '/'; ++r) out.push_back(path[r]);
    }
  }
  if (out.empty()) return ".";
  return out;
}

std::string DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  return CleanPath(path.substr(0, slash + 1));
}

base::Result<std::string> CleanBeneath(std::string_view path) {
  std::string clean = CleanPath(path);
  if (clean[0] == '/') return clean == "/" ? std::string(".") : clean.substr(1);
  if (clean == ".." || base::StartsWith(clean, "../")) {
    return MakeError(Code::kInvalidArgument, "path \"", path,
                     "\" escapes the root");
  }
  return clean;
}

base::Result<std::string> JoinBeneath(std::string_view root,
                                      std::string_view path) {
  STRATA_ASSIGN_OR_RETURN(std::string rel, CleanBeneath(path));
  std::string clean_root = CleanPath(root);
  if (rel == ".") return clean_root;
  if (clean_root == "/") return "/" + rel;
  return base::StrCat(clean_root, "/", rel);
}

std::string ScopedClean(std::string_view path) {
  std::string clean = CleanPath(base::StrCat("/", path));
  return clean == "/" ? std::string(".") : clean.substr(1);
}

namespace {

base::Result<std::string> ReadLink(const std::string& path) {
  std::string buf(256, '\0');
  while (true) {
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) {
      return MakeError(Code::kIo, "readlink ", path, ": ",
                       base::ErrnoText(errno));
    }
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

// Drops the last component of a root-relative path ("" is the root).
void PopComponent(std::string& resolved) {
  size_t slash = resolved.rfind('/');
  resolved.resize(slash == std::string::npos ? 0 : slash);
}

}  // namespace

base::Result<std::string> ResolveInRoot(const std::string& root,
                                        std::string_view path) {
  std::string resolved;  // root-relative, symlink-free, "" is the root
  std::string remaining(path);
  int links = 0;
  while (!remaining.empty()) {
    size_t slash = remaining.find('/');
    std::string part = remaining.substr(0, slash);
    remaining.erase(0,
                    slash == std::string::npos ? remaining.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      PopComponent(resolved);
      continue;
    }
    std::string next = resolved.empty() ? part : resolved + "/" + part;
    std::string full = base::StrCat(root, "/", next);
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) {
      int err = errno;
      // A missing component is kept as written: the caller reports it when
      // it opens the result.
      if (err == ENOENT || err == ENOTDIR) {
        resolved = std::move(next);
        continue;
      }
      return MakeError(Code::kIo, "lstat ", full, ": ", base::ErrnoText(err));
    }
    if (!S_ISLNK(st.st_mode)) {
      resolved = std::move(next);
      continue;
    }
    if (++links > kMaxSymlinks) {
      return MakeError(Code::kIo, "resolving ", path, " in ", root,
                       ": too many links");
    }
    STRATA_ASSIGN_OR_RETURN(std::string target, ReadLink(full));
    if (!target.empty() && target[0] == '/') resolved.clear();
    remaining = remaining.empty() ? target : target + "/" + remaining;
  }
  return resolved.empty() ? std::string(".") : resolved;
}

}  // namespace strata::context
