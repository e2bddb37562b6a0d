#include "sandbox/copy_root.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "base/file.h"

namespace strata::sandbox::internal {

namespace {

using base::Code;
using base::MakeError;
using base::Status;

constexpr char kCapability[] = "security.capability";

bool IsWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool IsOpaque(const std::string& path) {
  char v[2];
  return ::lgetxattr(path.c_str(), "trusted.overlay.opaque", v, 1) > 0 ||
         ::lgetxattr(path.c_str(), "user.overlay.opaque", v, 1) > 0;
}

std::string Join(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "/" + b;
}

Status Errno(const std::string& what) {
  return MakeError(Code::kIo, what, ": ", std::strerror(errno));
}

// Whether layer `dir` hides `rel` from the layers below it by an ancestor
// that is whited out, not a directory, or opaque.
bool AncestorHides(const std::string& dir, const std::string& rel) {
  size_t slash = 0;
  while ((slash = rel.find('/', slash)) != std::string::npos) {
    std::string p = dir + "/" + rel.substr(0, slash);
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0) {
      if (IsWhiteout(st) || !S_ISDIR(st.st_mode) || IsOpaque(p)) return true;
    }
    ++slash;
  }
  return false;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

}  // namespace

bool MergedLstat(const std::vector<std::string>& lower_dirs,
                 const std::string& rel, std::string* path, struct stat* st) {
  for (const std::string& dir : lower_dirs) {
    std::string p = dir + "/" + rel;
    if (::lstat(p.c_str(), st) == 0) {
      if (IsWhiteout(*st)) return false;
      *path = p;
      return true;
    }
    if (AncestorHides(dir, rel)) return false;
  }
  return false;
}

namespace {

// The names in directory `rel` of the merged view.
std::set<std::string> MergedChildren(const std::vector<std::string>& lowers,
                                     const std::string& rel) {
  std::set<std::string> names, seen;
  for (const std::string& dir : lowers) {
    std::string p = rel.empty() ? dir : dir + "/" + rel;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) {
      if (!rel.empty() && AncestorHides(dir, rel)) break;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) break;  // a file or whiteout hides below
    for (const std::string& name : ListDir(p)) {
      if (!seen.insert(name).second) continue;
      struct stat cst;
      if (::lstat((p + "/" + name).c_str(), &cst) == 0 && !IsWhiteout(cst)) {
        names.insert(name);
      }
    }
    if (IsOpaque(p)) break;
  }
  return names;
}

// Owner, mode, times and capability of `src` onto `dst`.
Status CopyMeta(const std::string& src, const struct stat& st,
                const std::string& dst) {
  if (::lchown(dst.c_str(), st.st_uid, st.st_gid) != 0 && ::geteuid() == 0) {
    return Errno("chown " + dst);
  }
  if (!S_ISLNK(st.st_mode) && ::chmod(dst.c_str(), st.st_mode & 07777) != 0) {
    return Errno("chmod " + dst);
  }
  char cap[256];
  ssize_t n = ::lgetxattr(src.c_str(), kCapability, cap, sizeof cap);
  if (n > 0) ::lsetxattr(dst.c_str(), kCapability, cap, n, 0);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno("set times of " + dst);
  }
  return base::OkStatus();
}

Status CopyFile(const std::string& src, const std::string& dst) {
  base::UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!in.valid()) return Errno("open " + src);
  base::UniqueFd out(::open(dst.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) return Errno("create " + dst);
  while (true) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr,
                                  1 << 30, 0);
    if (n == 0) break;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    // Not supported across these file systems: plain reads and writes.
    char buf[65536];
    while ((n = ::read(in.get(), buf, sizeof buf)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("read " + src);
      if (::write(out.get(), buf, static_cast<size_t>(n)) != n) {
        return Errno("write " + dst);
      }
    }
    break;
  }
  return base::OkStatus();
}

Status CopyEntry(const std::string& src, const struct stat& st,
                 const std::string& dst) {
  if (S_ISREG(st.st_mode)) {
    STRATA_TRY(CopyFile(src, dst));
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
    if (n < 0) return Errno("readlink " + src);
    target.resize(static_cast<size_t>(n));
    if (::symlink(target.c_str(), dst.c_str()) != 0) {
      return Errno("symlink " + dst);
    }
  } else if (::mknod(dst.c_str(), st.st_mode, st.st_rdev) != 0) {
    return base::OkStatus();  // a device we may not make: left out
  }
  return CopyMeta(src, st, dst);
}

Status MergeDir(const std::vector<std::string>& lowers, const std::string& rel,
                const std::string& dest) {
  for (const std::string& name : MergedChildren(lowers, rel)) {
    std::string child = Join(rel, name);
    std::string src;
    struct stat st;
    if (!MergedLstat(lowers, child, &src, &st)) continue;
    std::string dst = dest + "/" + child;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdir(dst.c_str(), 0700) != 0) return Errno("mkdir " + dst);
      STRATA_TRY(MergeDir(lowers, child, dest));
      STRATA_TRY(CopyMeta(src, st, dst));  // after: writes change mtime
      continue;
    }
    STRATA_TRY(CopyEntry(src, st, dst));
  }
  return base::OkStatus();
}

// mkdir of `rel` in `diff` (and its parents), with the copy's metadata.
Status EnsureDiffDir(const std::string& copy, const std::string& diff,
                     const std::string& rel) {
  if (rel.empty()) return base::OkStatus();
  std::string dst = diff + "/" + rel;
  struct stat st;
  if (::lstat(dst.c_str(), &st) == 0) return base::OkStatus();
  size_t slash = rel.rfind('/');
  if (slash != std::string::npos) {
    STRATA_TRY(EnsureDiffDir(copy, diff, rel.substr(0, slash)));
  }
  std::string src = copy + "/" + rel;
  if (::lstat(src.c_str(), &st) != 0) return Errno("stat " + src);
  if (::mkdir(dst.c_str(), 0700) != 0) return Errno("mkdir " + dst);
  return CopyMeta(src, st, dst);
}

bool Changed(const struct stat& now, const std::string& now_path,
             const struct stat& was, const std::string& was_path) {
  if ((now.st_mode & S_IFMT) != (was.st_mode & S_IFMT) ||
      now.st_mode != was.st_mode || now.st_uid != was.st_uid ||
      now.st_gid != was.st_gid) {
    return true;
  }
  if (S_ISDIR(now.st_mode)) return false;  // children decide
  if (now.st_size != was.st_size ||
      now.st_mtim.tv_sec != was.st_mtim.tv_sec ||
      now.st_mtim.tv_nsec != was.st_mtim.tv_nsec || now.st_rdev != was.st_rdev) {
    return true;
  }
  if (S_ISLNK(now.st_mode)) {
    char a[4096], b[4096];
    ssize_t na = ::readlink(now_path.c_str(), a, sizeof a);
    ssize_t nb = ::readlink(was_path.c_str(), b, sizeof b);
    return na != nb || na < 0 || std::memcmp(a, b, static_cast<size_t>(na));
  }
  char ca[256], cb[256];
  ssize_t na = ::lgetxattr(now_path.c_str(), kCapability, ca, sizeof ca);
  ssize_t nb = ::lgetxattr(was_path.c_str(), kCapability, cb, sizeof cb);
  if (na != nb) return true;
  return na > 0 && std::memcmp(ca, cb, static_cast<size_t>(na)) != 0;
}

Status DiffDir(const std::string& copy, const std::vector<std::string>& lowers,
               const std::string& diff, const std::string& rel) {
  std::string here = rel.empty() ? copy : copy + "/" + rel;
  std::vector<std::string> names = ListDir(here);
  std::set<std::string> present(names.begin(), names.end());
  for (const std::string& gone : MergedChildren(lowers, rel)) {
    if (present.count(gone)) continue;
    STRATA_TRY(EnsureDiffDir(copy, diff, rel));
    std::string wh = diff + "/" + Join(rel, ".wh." + gone);
    base::UniqueFd fd(::open(wh.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0));
    if (!fd.valid()) return Errno("create " + wh);
  }
  for (const std::string& name : names) {
    std::string child = Join(rel, name);
    std::string now_path = copy + "/" + child;
    struct stat now;
    if (::lstat(now_path.c_str(), &now) != 0) continue;
    std::string was_path;
    struct stat was;
    bool existed = MergedLstat(lowers, child, &was_path, &was);
    if (S_ISDIR(now.st_mode)) {
      if (!existed || Changed(now, now_path, was, was_path)) {
        STRATA_TRY(EnsureDiffDir(copy, diff, child));
      }
      if (existed && !S_ISDIR(was.st_mode)) {
        // A file became a directory: everything below is new.
        STRATA_TRY(EnsureDiffDir(copy, diff, child));
      }
      STRATA_TRY(DiffDir(copy, lowers, diff, child));
      continue;
    }
    if (existed && !Changed(now, now_path, was, was_path)) continue;
    STRATA_TRY(EnsureDiffDir(copy, diff, rel));
    std::string dst = diff + "/" + child;
    if (::rename(now_path.c_str(), dst.c_str()) != 0) {
      return Errno("move " + now_path);
    }
  }
  return base::OkStatus();
}

}  // namespace

Status MergeLowerDirs(const std::vector<std::string>& lower_dirs,
                      const std::string& dest) {
  STRATA_TRY(MergeDir(lower_dirs, "", dest));
  // The root's own metadata, from the topmost layer that has it.
  for (const std::string& dir : lower_dirs) {
    struct stat st;
    if (::lstat(dir.c_str(), &st) == 0) return CopyMeta(dir, st, dest);
  }
  return base::OkStatus();
}

Status DiffCopy(const std::string& copy,
                const std::vector<std::string>& lower_dirs,
                const std::string& diff) {
  return DiffDir(copy, lower_dirs, diff, "");
}

}  // namespace strata::sandbox::internal
