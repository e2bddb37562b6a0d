#include "layer/root_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <optional>

namespace strata::layer::internal {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;
using base::UniqueFd;

namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's MAXSYMLINKS

std::atomic<ResolveMode> g_mode{ResolveMode::kAuto};
std::atomic<bool> g_openat2_unavailable{false};

Result<UniqueFd> ErrnoFailure(int err, std::string_view what,
                              std::string_view rel) {
  return MakeError(err == ENOENT ? Code::kNotFound : Code::kIo, what, " \"",
                   rel, "\": ", base::ErrnoText(err));
}

void SplitInto(std::string_view path, std::deque<std::string>* out,
               bool front) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (front) {
    out->insert(out->begin(), parts.begin(), parts.end());
  } else {
    out->insert(out->end(), parts.begin(), parts.end());
  }
}

// openat2(RESOLVE_IN_ROOT); returns -1 with errno set.
int Openat2InRoot(int root_fd, std::string_view rel) {
  std::string path = rel.empty() ? std::string(".") : std::string(rel);
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0; attempt < 16; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a rename raced with ".." resolution; the kernel asks to retry.
    if (errno != EAGAIN && errno != EINTR) return -1;
  }
  return -1;
}

// The component walk: each component is opened with O_NOFOLLOW; a symlink
// is read and its target spliced in front of the remaining components,
// restarting at the root for absolute targets. ".." pops a level but never
// above the root. With `create`, a missing component is made (mode
// *create) and entered, so missing directories named by a symlink's target
// are created inside the root, as containerd's RootPath + MkdirAll do.
Result<UniqueFd> ManualOpenInRoot(int root_fd, std::string_view rel,
                                  std::optional<mode_t> create) {
  std::vector<UniqueFd> stack;  // directories below the root
  std::deque<std::string> todo;
  SplitInto(rel, &todo, /*front=*/false);
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    int cur = stack.empty() ? root_fd : stack.back().get();
    UniqueFd fd(::openat(cur, part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() && errno == ENOENT && create) {
      if (::mkdirat(cur, part.c_str(), *create) != 0 && errno != EEXIST) {
        return ErrnoFailure(errno, "creating directory in", rel);
      }
      fd.reset(::openat(cur, part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!fd.valid()) return ErrnoFailure(errno, "resolving", rel);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) {
      return ErrnoFailure(errno, "resolving", rel);
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) return ErrnoFailure(ELOOP, "resolving", rel);
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(fd.get(), "", target.data(), target.size());
      if (n < 0) return ErrnoFailure(errno, "reading symlink in", rel);
      target.resize(static_cast<size_t>(n));
      if (!target.empty() && target.front() == '/') stack.clear();
      SplitInto(target, &todo, /*front=*/true);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) return ErrnoFailure(ENOTDIR, "resolving", rel);
    stack.push_back(std::move(fd));
  }
  if (!stack.empty()) return std::move(stack.back());
  UniqueFd root(::openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoFailure(errno, "opening root for", rel);
  return root;
}

}  // namespace

void SetResolveModeForTesting(ResolveMode mode) { g_mode = mode; }

Result<UniqueFd> OpenDirInRoot(int root_fd, std::string_view rel) {
  ResolveMode mode = g_mode.load();
  if (mode == ResolveMode::kManual ||
      (mode == ResolveMode::kAuto && g_openat2_unavailable.load())) {
    return ManualOpenInRoot(root_fd, rel, std::nullopt);
  }
  int fd = Openat2InRoot(root_fd, rel);
  if (fd >= 0) return UniqueFd(fd);
  int err = errno;
  // ENOSYS: kernel before 5.6; EPERM: seccomp profiles that predate
  // openat2 (Docker's returned EPERM for unknown syscalls). A genuine
  // permission problem shows up again in the walk.
  if (mode == ResolveMode::kAuto && (err == ENOSYS || err == EPERM)) {
    g_openat2_unavailable = true;
    return ManualOpenInRoot(root_fd, rel, std::nullopt);
  }
  return ErrnoFailure(err, "resolving", rel);
}

Result<UniqueFd> MkdirAllInRoot(int root_fd, std::string_view rel,
                                mode_t mode) {
  Result<UniqueFd> fd = OpenDirInRoot(root_fd, rel);
  if (fd || fd.error().code() != Code::kNotFound) return fd;
  // Creation always takes the walk: it is as confined as openat2, and
  // concurrent renames inside the root are not part of the threat model
  // (the layer is the only writer).
  return ManualOpenInRoot(root_fd, rel, mode);
}

Result<std::vector<std::string>> ListDirAt(int dir_fd) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError(Code::kIo, "listing directory: ", base::ErrnoText(errno));
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return MakeError(Code::kIo, "listing directory: ", base::ErrnoText(err));
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* d = ::readdir(dir)) {
    std::string_view name = d->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) {
    return MakeError(Code::kIo, "listing directory: ", base::ErrnoText(err));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status RemoveAllAt(int dir_fd, const std::string& name) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return base::OkStatus();
    return MakeError(Code::kIo, "removing ", name, ": ",
                     base::ErrnoText(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd fd(::openat(dir_fd, name.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() && errno == EACCES) {
      // An unreadable directory (mode 0) we own: open it up to empty it.
      ::fchmodat(dir_fd, name.c_str(), 0700, 0);
      fd.reset(::openat(dir_fd, name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!fd.valid()) {
      return MakeError(Code::kIo, "removing ", name, ": ",
                       base::ErrnoText(errno));
    }
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> children,
                            ListDirAt(fd.get()));
    for (const std::string& child : children) {
      STRATA_TRY(RemoveAllAt(fd.get(), child));
    }
  }
  int flags = S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0;
  if (::unlinkat(dir_fd, name.c_str(), flags) != 0 && errno != ENOENT) {
    return MakeError(Code::kIo, "removing ", name, ": ",
                     base::ErrnoText(errno));
  }
  return base::OkStatus();
}

std::string FdRelativePath(int dir_fd, std::string_view name) {
  return base::StrCat("/proc/self/fd/", dir_fd, "/", name);
}

}  // namespace strata::layer::internal
