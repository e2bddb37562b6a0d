// Source filesystems of COPY: the build context (an in-memory index of what
// WalkContext sends) and stage/image views, plus path helpers and the
// RootPath resolver they share.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>

#include "base/file.h"
#include "base/str.h"
#include "build/copy_internal.h"
#include "context/safe_path.h"
#include "context/walker.h"
#include "layer/owner_xattr.h"

namespace strata::build::copy_internal {

using base::Code;
using base::MakeError;

// ---------------------------------------------------------------- paths

std::string KeyOf(std::string_view abs) {
  size_t start = abs.find_first_not_of('/');
  return start == std::string_view::npos ? "" : std::string(abs.substr(start));
}

std::string AbsOf(std::string_view key) { return base::StrCat("/", key); }

std::string ParentKey(std::string_view key) {
  size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(key.substr(0, slash));
}

std::string JoinKey(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  return base::StrCat(dir, "/", name);
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") return "/";
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path
                                                     : path.substr(slash + 1));
}

bool ContainsWildcards(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\\') {
      ++i;
    } else if (c == '*' || c == '?' || c == '[') {
      return true;
    }
  }
  return false;
}

base::Result<std::string> ResolveInRoot(const LinkLookup& lookup,
                                        std::string_view path,
                                        bool follow_final) {
  std::deque<std::string> todo;
  for (std::string& part : base::Split(path, '/')) {
    if (!part.empty()) todo.push_back(std::move(part));
  }
  std::vector<std::string> done;
  int links = 0;
  bool missing = false;  // a component was missing: the rest is lexical
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    if (missing || (todo.empty() && !follow_final)) {
      done.push_back(std::move(c));
      continue;
    }
    done.push_back(c);
    std::string candidate = base::StrCat("/", base::Join(done, "/"));
    STRATA_ASSIGN_OR_RETURN(LinkInfo info, lookup(candidate));
    if (!info.exists) {
      missing = true;
      continue;
    }
    if (!info.is_symlink) continue;
    done.pop_back();
    if (++links > 255) {
      return MakeError(Code::kIo, "resolving ", path,
                       ": too many levels of symbolic links");
    }
    if (info.target.starts_with('/')) done.clear();
    std::vector<std::string> parts = base::Split(info.target, '/');
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (!it->empty()) todo.push_front(std::move(*it));
    }
  }
  return base::StrCat("/", base::Join(done, "/"));
}

bool KeepXattr(std::string_view name, bool keep_selinux) {
  if (name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.") ||
      layer::IsOwnerXattr(name))
    return false;
  return keep_selinux || name != "security.selinux";
}

// ---------------------------------------------------------- SourceFs

base::Result<std::string> SourceFs::Resolve(std::string_view path,
                                            bool follow_final) const {
  LinkLookup lookup = [this](const std::string& abs) -> base::Result<LinkInfo> {
    STRATA_ASSIGN_OR_RETURN(std::optional<FsNode> node, Lstat(abs));
    LinkInfo info;
    if (!node) return info;
    info.exists = true;
    info.is_symlink = node->type == layer::EntryType::kSymlink;
    info.target = node->link_target;
    return info;
  };
  return ResolveInRoot(lookup, path, follow_final);
}

base::Result<base::Digest> SourceFs::ContentDigest(const std::string& abs,
                                                   const FsNode& node) const {
  {
    std::lock_guard lock(digest_mu_);
    auto it = digests_.find(abs);
    if (it != digests_.end()) return it->second;
  }
  FileIdentity id{node.size, node.mtime.sec * 1'000'000'000 + node.mtime.nsec,
                  node.ctime_ns, node.inode, node.device};
  if (stat_cache_ && node.ctime_ns != 0) {
    if (std::optional<base::Digest> known = stat_cache_->Find(abs, id)) {
      std::lock_guard lock(digest_mu_);
      digests_.emplace(abs, *known);
      return *known;
    }
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<base::Source> source,
                          Open(abs, node));
  base::DigestingSink sink(nullptr);
  STRATA_ASSIGN_OR_RETURN(int64_t size, base::CopyStream(*source, sink));
  if (size != node.size) {
    return MakeError(Code::kIo, abs, " in ", Describe(),
                     " changed while it was read");
  }
  base::Digest digest = sink.Finish();
  if (stat_cache_ && node.ctime_ns != 0) stat_cache_->Remember(abs, id, digest);
  std::lock_guard lock(digest_mu_);
  digests_.emplace(abs, digest);
  return digest;
}

namespace {

layer::Timestamp FromNanos(int64_t ns) {
  return {ns / 1000000000, ns % 1000000000};
}

// ---------------------------------------------------------- context

// The build context as an index of what WalkContext reports. Built once,
// on first use; copies of the CopySource share it.
class ContextFs : public SourceFs {
 public:
  ContextFs(std::string dir, std::vector<std::string> patterns,
            std::string stat_cache_path)
      : dir_(std::move(dir)), patterns_(std::move(patterns)) {
    if (!stat_cache_path.empty()) {
      stat_cache_ = std::make_shared<StatCache>(std::move(stat_cache_path));
    }
  }

  std::string Describe() const override { return "build context"; }
  std::string NotFoundHint() const override {
    return patterns_.empty() ? "" : " (or excluded by .dockerignore)";
  }

  base::Result<std::optional<FsNode>> Lstat(
      const std::string& abs) const override {
    STRATA_TRY(EnsureIndex());
    auto it = entries_.find(abs);
    if (it == entries_.end()) return std::optional<FsNode>();
    return std::optional<FsNode>(it->second.node);
  }

  base::Result<std::unique_ptr<base::Source>> Open(
      const std::string& abs, const FsNode& node) const override;

  base::Result<std::vector<layer::Xattr>> Xattrs(
      const std::string& abs) const override;

  base::Status Walk(const std::string& dir, const FsWalkFn& fn) const override {
    STRATA_TRY(EnsureIndex());
    return WalkFrom(dir, fn);
  }

 private:
  struct Entry {
    FsNode node;
    std::vector<std::string> children;  // in byte order (walk order)
  };

  base::Status EnsureIndex() const;
  base::Status BuildIndex() const;
  base::Status WalkFrom(const std::string& dir, const FsWalkFn& fn) const;
  std::string HostPath(const std::string& abs) const {
    return abs == "/" ? dir_ : dir_ + abs;
  }

  std::string dir_;
  std::vector<std::string> patterns_;
  mutable std::mutex mu_;
  mutable bool built_ = false;
  mutable std::optional<base::Error> build_error_;
  // Written once under mu_, then only read.
  mutable std::unordered_map<std::string, Entry> entries_;
};

FsNode NodeOfWalkEntry(const context::WalkEntry& e) {
  FsNode n;
  n.mode = e.stat.mode & 07777;
  n.mtime = FromNanos(e.stat.mtime_ns);
  n.device = e.stat.device;
  n.inode = e.stat.inode;
  n.nlink = e.stat.nlink;
  n.ctime_ns = e.stat.ctime_ns;
  // uid/gid stay 0: BuildKit's client resets them before sending.
  switch (e.type) {
    case context::FileType::kDir: n.type = layer::EntryType::kDirectory; break;
    case context::FileType::kSymlink:
      n.type = layer::EntryType::kSymlink;
      n.link_target = e.link_target;
      break;
    case context::FileType::kFile:
      n.type = layer::EntryType::kRegular;
      n.size = e.stat.size;
      break;
    case context::FileType::kOther: {
      uint32_t fmt = e.stat.mode & S_IFMT;
      n.type = fmt == S_IFCHR   ? layer::EntryType::kCharDevice
               : fmt == S_IFBLK ? layer::EntryType::kBlockDevice
                                : layer::EntryType::kFifo;
      n.socket = fmt == S_IFSOCK;
      n.dev_major = major(e.stat.rdev);
      n.dev_minor = minor(e.stat.rdev);
      break;
    }
  }
  return n;
}

base::Status ContextFs::EnsureIndex() const {
  std::lock_guard lock(mu_);
  if (!built_) {
    built_ = true;
    base::Status status = BuildIndex();
    if (!status) {
      build_error_ = std::move(status).error();
      entries_.clear();
    }
  }
  if (build_error_) return *build_error_;
  return base::OkStatus();
}

base::Status ContextFs::BuildIndex() const {
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0) {
    return MakeError(Code::kIo, "build context ", dir_, ": ",
                     base::ErrnoText(errno));
  }
  Entry root;
  root.node.type = layer::EntryType::kDirectory;
  root.node.mode = st.st_mode & 07777;
  root.node.mtime = {st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  root.node.device = st.st_dev;
  root.node.inode = st.st_ino;
  entries_.emplace("/", std::move(root));
  context::WalkOptions options;
  options.exclude_patterns = patterns_;
  return context::WalkContext(
      dir_, options, [this](const context::WalkEntry& e) -> base::Status {
        std::string abs = AbsOf(e.path);
        std::string parent = AbsOf(ParentKey(e.path));
        auto it = entries_.find(parent);
        if (it == entries_.end()) {
          return MakeError(Code::kInternal, "context walk reported ", e.path,
                           " before its directory");
        }
        it->second.children.push_back(BaseName(e.path));
        entries_[abs].node = NodeOfWalkEntry(e);
        return base::OkStatus();
      });
}

base::Status ContextFs::WalkFrom(const std::string& dir,
                                 const FsWalkFn& fn) const {
  auto it = entries_.find(dir);
  if (it == entries_.end()) return base::OkStatus();
  // Explicit stack: contexts can be deep.
  struct Pos {
    const Entry* entry;
    std::string abs;
    size_t next = 0;
  };
  std::vector<Pos> stack{{&it->second, dir}};
  while (!stack.empty()) {
    Pos& top = stack.back();
    if (top.next == top.entry->children.size()) {
      stack.pop_back();
      continue;
    }
    const std::string& name = top.entry->children[top.next++];
    std::string abs = top.abs == "/" ? "/" + name : top.abs + "/" + name;
    const Entry& child = entries_.at(abs);
    STRATA_ASSIGN_OR_RETURN(bool descend, fn(abs, child.node));
    if (descend && child.node.type == layer::EntryType::kDirectory) {
      stack.push_back({&child, std::move(abs)});
    }
  }
  return base::OkStatus();
}

// Opens `rel` below `root_fd` without following any symlink (openat2 where
// the kernel has it), so a file swapped for a link cannot lead outside.
int OpenBeneath(int root_fd, const std::string& rel) {
  struct open_how how = {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
  if (fd >= 0) return static_cast<int>(fd);
  if (errno != ENOSYS && errno != EPERM) return -1;
  return ::openat(root_fd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

base::Result<std::unique_ptr<base::Source>> ContextFs::Open(
    const std::string& abs, const FsNode& node) const {
  base::UniqueFd root(::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return MakeError(Code::kIo, "build context ", dir_, ": ",
                     base::ErrnoText(errno));
  }
  base::UniqueFd fd(OpenBeneath(root.get(), KeyOf(abs)));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    return MakeError(Code::kIo, "open ", abs, " in build context: ",
                     base::ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode) || st.st_ino != node.inode ||
      st.st_dev != node.device) {
    return MakeError(Code::kIo, abs,
                     " in build context changed while the build ran");
  }
  return std::unique_ptr<base::Source>(
      new base::FdSource(std::move(fd), base::StrCat(abs)));
}

// The xattrs of host file `path` (not following it) that COPY keeps.
base::Result<std::vector<layer::Xattr>> HostXattrs(const std::string& path,
                                                   bool keep_selinux) {
  std::vector<layer::Xattr> out;
  std::string names(1024, '\0');
  ssize_t n;
  while ((n = ::llistxattr(path.c_str(), names.data(), names.size())) < 0) {
    if (errno == ERANGE) {
      names.resize(names.size() * 4);
      continue;
    }
    if (errno == ENOTSUP || errno == ENOENT) return out;
    return MakeError(Code::kIo, "listxattr ", path, ": ",
                     base::ErrnoText(errno));
  }
  names.resize(static_cast<size_t>(n));
  for (const std::string& name : base::Split(names, '\0')) {
    if (name.empty() || !KeepXattr(name, keep_selinux)) continue;
    std::string value(256, '\0');
    ssize_t v;
    while ((v = ::lgetxattr(path.c_str(), name.c_str(), value.data(),
                            value.size())) < 0 &&
           errno == ERANGE) {
      value.resize(value.size() * 4);
    }
    if (v < 0) continue;  // vanished, or not readable without privilege
    value.resize(static_cast<size_t>(v));
    out.push_back({name, std::move(value)});
  }
  std::sort(out.begin(), out.end(),
            [](const layer::Xattr& a, const layer::Xattr& b) {
              return a.name < b.name;
            });
  return out;
}

base::Result<std::vector<layer::Xattr>> ContextFs::Xattrs(
    const std::string& abs) const {
  return HostXattrs(HostPath(abs), /*keep_selinux=*/false);
}

// ---------------------------------------------------------- views

class ViewFs : public SourceFs {
 public:
  ViewFs(const layer::LayeredView* view, std::string name)
      : view_(view), name_(std::move(name)) {}

  std::string Describe() const override { return name_; }

  base::Result<std::optional<FsNode>> Lstat(
      const std::string& abs) const override {
    auto st = view_->Lstat(abs);
    if (!st) {
      // A parent that is not a directory: missing, as for the context.
      if (st.error().code() == Code::kIo &&
          st.error().message().find("not a directory") != std::string::npos) {
        return std::optional<FsNode>();
      }
      return std::move(st).error();
    }
    if (!*st) return std::optional<FsNode>();
    return std::optional<FsNode>(FromView(**st));
  }

  base::Result<std::unique_ptr<base::Source>> Open(
      const std::string& abs, const FsNode&) const override {
    return view_->Open(abs);
  }

  base::Result<std::vector<layer::Xattr>> Xattrs(
      const std::string& abs) const override {
    STRATA_ASSIGN_OR_RETURN(std::vector<layer::Xattr> all, view_->Xattrs(abs));
    std::erase_if(all, [](const layer::Xattr& x) {
      return !KeepXattr(x.name, /*keep_selinux=*/true);
    });
    return all;
  }

  base::Status Walk(const std::string& dir, const FsWalkFn& fn) const override {
    std::string skip;  // a directory whose contents are not wanted
    return view_->Walk(dir, [&](const std::string& abs,
                                const layer::ViewStat& st) -> base::Status {
      if (abs == dir) return base::OkStatus();
      if (!skip.empty()) {
        if (abs.starts_with(skip) && abs[skip.size()] == '/') {
          return base::OkStatus();
        }
        skip.clear();
      }
      STRATA_ASSIGN_OR_RETURN(bool descend, fn(abs, FromView(st)));
      if (!descend && st.type == layer::EntryType::kDirectory) skip = abs;
      return base::OkStatus();
    });
  }

 private:
  static FsNode FromView(const layer::ViewStat& st) {
    FsNode n;
    n.type = st.type;
    n.mode = st.mode & 07777;
    n.uid = st.uid;
    n.gid = st.gid;
    n.size = st.size;
    n.mtime = st.mtime;
    n.link_target = st.link_target;
    n.dev_major = st.dev_major;
    n.dev_minor = st.dev_minor;
    n.device = st.device;
    n.inode = st.inode;
    n.nlink = st.nlink;
    return n;
  }

  const layer::LayeredView* view_;
  std::string name_;
};

}  // namespace

std::shared_ptr<SourceFs> NewContextFs(std::string dir,
                                       std::vector<std::string> patterns,
                                       std::string stat_cache_path) {
  return std::make_shared<ContextFs>(std::move(dir), std::move(patterns),
                                     std::move(stat_cache_path));
}

std::shared_ptr<SourceFs> NewViewFs(const layer::LayeredView* view,
                                    std::string name) {
  return std::make_shared<ViewFs>(view, std::move(name));
}

}  // namespace strata::build::copy_internal
