// LayeredView's reads of the layer directories: per-name lookups across the
// layers, merged listings, metadata, xattrs and opening files.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "base/file.h"
#include "layer/owner_xattr.h"
#include "layer/view_internal.h"

namespace strata::layer::internal {

using base::Code;
using base::MakeError;
using base::Result;
using base::UniqueFd;

namespace {

constexpr const char* kWhiteoutXattrs[] = {"trusted.overlay.whiteout",
                                           "user.overlay.whiteout"};
constexpr const char* kOpaqueXattrs[] = {"trusted.overlay.opaque",
                                         "user.overlay.opaque"};

base::Error ErrnoError(int err, std::string_view what, std::string_view path) {
  return MakeError(err == ENOENT ? Code::kNotFound : Code::kIo, what, " ", path,
                   ": ", base::ErrnoText(err));
}

// The NUL-terminated xattr names of `host` (not following). Listing needs
// no read permission on the file, unlike reading a value: the applier makes
// xattr whiteouts with mode 0.
Result<std::string> ListXattrNames(const std::string& host) {
  std::string names;
  while (true) {
    ssize_t n = ::llistxattr(host.c_str(), nullptr, 0);
    if (n < 0) {
      if (errno == ENOTSUP) return std::string();
      return ErrnoError(errno, "listing xattrs of", host);
    }
    names.resize(static_cast<size_t>(n));
    n = ::llistxattr(host.c_str(), names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      return names;
    }
    if (errno != ERANGE) return ErrnoError(errno, "listing xattrs of", host);
  }
}

// Calls fn(name) for each name of a ListXattrNames() result.
template <typename Fn>
void ForEachXattrName(const std::string& names, Fn fn) {
  for (size_t pos = 0; pos < names.size();) {
    std::string_view name(names.c_str() + pos);
    pos += name.size() + 1;
    if (!name.empty()) fn(name);
  }
}

// The kernel's test (ovl_is_whiteout, ovl_path_check_xwhiteout_xattr): a
// char device 0/0, or an empty regular file with a whiteout xattr of any
// value. A failure to list means "not a whiteout", as in the kernel.
bool IsWhiteout(const std::string& host, const struct stat& st) {
  if (S_ISCHR(st.st_mode)) return st.st_rdev == makedev(0, 0);
  if (!S_ISREG(st.st_mode) || st.st_size != 0) return false;
  Result<std::string> names = ListXattrNames(host);
  bool found = false;
  if (names) {
    ForEachXattrName(*names, [&](std::string_view name) {
      for (const char* whiteout : kWhiteoutXattrs) found |= name == whiteout;
    });
  }
  return found;
}

// ovl_is_opaquedir: the value is exactly "y" ("x" marks xattr whiteouts).
bool IsOpaque(const std::string& host) {
  for (const char* name : kOpaqueXattrs) {
    char value[2];
    if (::lgetxattr(host.c_str(), name, value, sizeof(value)) == 1 &&
        value[0] == 'y') {
      return true;
    }
  }
  return false;
}

// The value of xattr `name` of `host` (not following); nullopt if it is
// gone (removed since it was listed).
Result<std::optional<std::string>> GetXattr(const std::string& host,
                                            const std::string& name) {
  std::string value;
  while (true) {
    ssize_t n = ::lgetxattr(host.c_str(), name.c_str(), nullptr, 0);
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      n = ::lgetxattr(host.c_str(), name.c_str(), value.data(), value.size());
    }
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      return value;
    }
    if (errno == ENODATA) return std::nullopt;
    if (errno != ERANGE) {
      return ErrnoError(errno, base::StrCat("reading xattr ", name, " of"),
                        host);
    }
  }
}

// Overlay's own xattrs, and strata's owner record (owner_xattr.h).
bool IsOverlayXattr(std::string_view name) {
  return base::StartsWith(name, "trusted.overlay.") ||
         base::StartsWith(name, "user.overlay.") || IsOwnerXattr(name);
}

Result<std::string> ReadLink(const std::string& host, const struct stat& st) {
  // st_size is the target length on Linux; grow in case it changed.
  std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
  while (true) {
    ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoError(errno, "reading symlink", host);
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

// Calls `fn(dir_fd, name, d_type)` for each entry of directory `host`.
template <typename Fn>
base::Status ForEachDirent(const std::string& host, Fn fn) {
  UniqueFd fd(
      ::open(host.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(errno, "listing", host);
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) return ErrnoError(errno, "listing", host);
  int dir_fd = fd.release();  // now owned by `dir`
  base::Status status;
  errno = 0;
  while (dirent* d = ::readdir(dir)) {
    std::string_view name = d->d_name;
    if (name != "." && name != "..") {
      status = fn(dir_fd, name, d->d_type);
      if (!status) break;
    }
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (!status) return status;
  if (err != 0) return ErrnoError(err, "listing", host);
  return base::OkStatus();
}

EntryType TypeOf(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return EntryType::kDirectory;
    case S_IFLNK:
      return EntryType::kSymlink;
    case S_IFCHR:
      return EntryType::kCharDevice;
    case S_IFBLK:
      return EntryType::kBlockDevice;
    case S_IFIFO:
      return EntryType::kFifo;
    default:
      return EntryType::kRegular;
  }
}

// openat2 confined beneath the layer directory, following no symlink at
// all; -1 with errno set.
int OpenBeneath(int layer_fd, const std::string& rel, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0; attempt < 16; ++attempt) {
    long fd = ::syscall(SYS_openat2, layer_fd, rel.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EAGAIN && errno != EINTR) return -1;
  }
  return -1;
}

}  // namespace

std::string JoinRel(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : base::StrCat(dir, "/", name);
}

std::string ViewLayers::HostPath(int layer, std::string_view rel) const {
  const std::string& dir = dirs_[static_cast<size_t>(layer)];
  if (rel.empty()) return dir;
  if (base::EndsWith(dir, "/")) return base::StrCat(dir, rel);
  return base::StrCat(dir, "/", rel);
}

Result<ViewNode> ViewLayers::Root() const {
  ViewNode root;
  if (dirs_.empty()) {
    root.st.st_mode = S_IFDIR | 0755;
    root.st.st_nlink = 1;
    return root;
  }
  root.layer = static_cast<int>(dirs_.size()) - 1;
  // The layer directories themselves are the caller's: follow symlinks.
  std::string host = HostPath(root.layer, "");
  if (::stat(host.c_str(), &root.st) != 0) {
    return ErrnoError(errno, "layer directory", host);
  }
  if (!S_ISDIR(root.st.st_mode)) {
    return MakeError(Code::kIo, "layer directory ", host,
                     " is not a directory");
  }
  // overlayfs ignores an opaque mark on a lower root: all layers merge.
  for (int i = root.layer; i >= 0; --i) root.layers.push_back(i);
  return root;
}

Result<std::optional<ViewNode>> ViewLayers::Lookup(
    const ViewNode& dir, std::string_view name) const {
  std::string rel = JoinRel(dir.rel, name);
  std::optional<ViewNode> found;
  for (size_t i = 0; i < dir.layers.size(); ++i) {
    int layer = dir.layers[i];
    std::string host = HostPath(layer, rel);
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoError(errno, "inspecting", host);
    }
    // Below the entry found, a whiteout or a non-directory only ends the
    // merge of a directory.
    if (IsWhiteout(host, st)) break;
    if (!found) found = ViewNode{layer, rel, st, {}};
    if (!S_ISDIR(st.st_mode)) break;
    found->layers.push_back(layer);
    // Opacity only matters when there are layers below to hide.
    if (i + 1 < dir.layers.size() && IsOpaque(host)) break;
  }
  return found;
}

Result<std::vector<std::string>> ViewLayers::Names(const ViewNode& dir) const {
  // A name's topmost occurrence decides whether it shows, as in Lookup.
  std::map<std::string, bool> visible;
  for (int layer : dir.layers) {
    std::string host = HostPath(layer, dir.rel);
    STRATA_TRY(ForEachDirent(
        host,
        [&](int dir_fd, std::string_view name,
            unsigned char type) -> base::Status {
          std::string key(name);
          if (visible.contains(key)) return base::OkStatus();
          bool shows = true;
          if (type == DT_CHR || type == DT_REG || type == DT_UNKNOWN) {
            struct stat st;
            if (::fstatat(dir_fd, key.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
              if (errno == ENOENT) return base::OkStatus();
              return ErrnoError(errno, "inspecting", JoinRel(host, name));
            }
            shows = !IsWhiteout(JoinRel(host, name), st);
          }
          visible.emplace(std::move(key), shows);
          return base::OkStatus();
        }));
  }
  std::vector<std::string> names;
  names.reserve(visible.size());
  for (auto& [name, shows] : visible) {
    if (shows) names.push_back(name);
  }
  return names;
}

Result<ViewStat> ViewLayers::Stat(const ViewNode& node) const {
  const struct stat& st = node.st;
  if (S_ISSOCK(st.st_mode)) {
    return MakeError(Code::kUnsupported, "/", node.rel,
                     ": sockets are not supported");
  }
  ViewStat out;
  out.type = TypeOf(st.st_mode);
  out.mode = st.st_mode & 07777;
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  if (node.layer >= 0 && Unprivileged()) {
    ReadOwner(JoinRel(dirs_[static_cast<size_t>(node.layer)], node.rel),
              &out.uid, &out.gid);
  }
  out.size = S_ISREG(st.st_mode) ? st.st_size : 0;
  out.mtime = Timestamp{.sec = st.st_mtim.tv_sec, .nsec = st.st_mtim.tv_nsec};
  out.device = st.st_dev;
  out.inode = st.st_ino;
  out.nlink = st.st_nlink;
  out.layer = node.layer;
  if (node.layer < 0) return out;  // the root of an empty view
  out.host_path = HostPath(node.layer, node.rel);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    out.dev_major = major(st.st_rdev);
    out.dev_minor = minor(st.st_rdev);
  }
  if (S_ISLNK(st.st_mode)) {
    STRATA_ASSIGN_OR_RETURN(out.link_target, ReadLink(out.host_path, st));
  }
  return out;
}

Result<std::unique_ptr<base::Source>> ViewLayers::OpenFile(
    const ViewNode& node) const {
  std::string layer_dir = HostPath(node.layer, "");
  UniqueFd layer_fd(
      ::open(layer_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!layer_fd.valid()) {
    return ErrnoError(errno, "opening layer directory", layer_dir);
  }
  // O_NONBLOCK: should a fifo have replaced the file, fail instead of
  // waiting for a writer (the identity check below rejects it).
  int flags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
  UniqueFd fd(OpenBeneath(layer_fd.get(), node.rel, flags));
  if (!fd.valid() && (errno == ENOSYS || errno == EPERM)) {
    // No openat2 (before Linux 5.6, or an old seccomp profile). Every
    // parent was seen to be a directory during the lookup; the identity
    // check below catches a swap since.
    fd.reset(::openat(layer_fd.get(), node.rel.c_str(), flags));
  }
  std::string host = HostPath(node.layer, node.rel);
  if (!fd.valid()) return ErrnoError(errno, "opening", host);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(errno, "inspecting", host);
  if (!S_ISREG(st.st_mode) || st.st_dev != node.st.st_dev ||
      st.st_ino != node.st.st_ino) {
    return MakeError(Code::kIo, "opening ", host,
                     ": the file changed after it was looked up");
  }
  return std::unique_ptr<base::Source>(
      std::make_unique<base::FdSource>(std::move(fd), std::move(host)));
}

Result<std::vector<Xattr>> ViewLayers::Xattrs(const ViewNode& node) const {
  std::vector<Xattr> out;
  if (node.layer < 0) return out;
  std::string host = HostPath(node.layer, node.rel);
  STRATA_ASSIGN_OR_RETURN(std::string names, ListXattrNames(host));
  std::vector<std::string> wanted;
  ForEachXattrName(names, [&](std::string_view name) {
    if (!IsOverlayXattr(name)) wanted.emplace_back(name);
  });
  for (std::string& name : wanted) {
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            GetXattr(host, name));
    if (!value) continue;  // removed since it was listed
    out.push_back(Xattr{.name = std::move(name), .value = std::move(*value)});
  }
  std::sort(out.begin(), out.end(),
            [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

}  // namespace strata::layer::internal
