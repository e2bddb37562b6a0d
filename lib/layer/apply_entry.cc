// Creating one layer entry in the tree and restoring its metadata.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer/owner_xattr.h"
#include "layer/apply_internal.h"
#include "layer/entry.h"
#include "layer/root_fs.h"

namespace strata::layer::internal {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;
using base::UniqueFd;

namespace {

Status Errno(std::string_view what, std::string_view path) {
  return MakeError(Code::kIo, what, " ", path, ": ", base::ErrnoText(errno));
}

bool IsOverlayXattr(std::string_view name) {
  return base::StartsWith(name, "trusted.overlay.") ||
         base::StartsWith(name, "user.overlay.");
}

}  // namespace

Owner OwnerOf(archive_entry* e) {
  return {static_cast<uid_t>(archive_entry_uid(e)),
          static_cast<gid_t>(archive_entry_gid(e))};
}

void EntryTimes(archive_entry* e, timespec out[2]) {
  out[1].tv_sec = archive_entry_mtime(e);
  out[1].tv_nsec = archive_entry_mtime_nsec(e);
  out[0] = out[1];
  if (archive_entry_atime_is_set(e)) {
    timespec atime{archive_entry_atime(e), archive_entry_atime_nsec(e)};
    if (atime.tv_sec > out[1].tv_sec ||
        (atime.tv_sec == out[1].tv_sec && atime.tv_nsec > out[1].tv_nsec)) {
      out[0] = atime;
    }
  }
}

Status Applier::Create(const std::string& path, int parent_fd,
                       const std::string& name, archive* a, archive_entry* e) {
  const char* hardlink = archive_entry_hardlink(e);
  mode_t type = hardlink ? 0 : archive_entry_filetype(e);
  struct stat st;
  bool exists =
      ::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!exists && errno != ENOENT) return Errno("inspecting", path);
  // An existing path is replaced, except dir over dir, which merges.
  bool merge_dir = exists && S_ISDIR(st.st_mode) && type == AE_IFDIR;
  if (exists && !merge_dir) STRATA_TRY(RemoveAllAt(parent_fd, name));
  if (hardlink != nullptr) return CreateHardlink(path, parent_fd, name, e);

  switch (type) {
    case AE_IFREG:
      return WriteRegular(path, parent_fd, name, a, e);
    case AE_IFDIR:
      return CreateDirectory(path, parent_fd, name, merge_dir, e);
    case AE_IFLNK:
      return CreateSymlink(path, parent_fd, name, e);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      return CreateNode(path, parent_fd, name, type, e);
    default:
      return MakeError(Code::kUnsupported, "unsupported tar entry type for ",
                       path);
  }
}

Status Applier::CreateDirectory(const std::string& path, int parent_fd,
                                const std::string& name, bool exists,
                                archive_entry* e) {
  // Created owner-writable so this layer can fill it; the real mode and
  // mtime are set by FinishDirectories().
  if (!exists && ::mkdirat(parent_fd, name.c_str(), 0700) != 0) {
    return Errno("creating directory", path);
  }
  UniqueFd fd(::openat(parent_fd, name.c_str(),
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Errno("opening directory", path);
  DirFixup fix{
      .path = path, .mode = archive_entry_perm(e) & 07777, .times = {}};
  EntryTimes(e, fix.times);
  dirs_.push_back(std::move(fix));
  STRATA_TRY(Chown(parent_fd, name, fd.get(), e));
  return SetXattrs(parent_fd, name, fd.get(), S_IFDIR, e);
}

Status Applier::CreateSymlink(const std::string& path, int parent_fd,
                              const std::string& name, archive_entry* e) {
  const char* target = archive_entry_symlink(e);
  if (target == nullptr || *target == '\0') {
    return MakeError(Code::kParse, "symlink ", path, " has no target");
  }
  if (::symlinkat(target, parent_fd, name.c_str()) != 0) {
    return Errno("creating symlink", path);
  }
  return Metadata(parent_fd, name, S_IFLNK, e);
}

Status Applier::CreateNode(const std::string& path, int parent_fd,
                           const std::string& name, mode_t type,
                           archive_entry* e) {
  dev_t dev = type == AE_IFIFO ? 0
                               : makedev(archive_entry_rdevmajor(e),
                                         archive_entry_rdevminor(e));
  mode_t perm = archive_entry_perm(e) & 07777;
  if (::mknodat(parent_fd, name.c_str(), type | perm, dev) != 0) {
    if (errno == EPERM && type != AE_IFIFO) {
      Warn(base::StrCat("skipped device ", path, ": not permitted"));
      if (options_.mode != ApplyMode::kOverlay) return base::OkStatus();
      // Merge mode has removed the lower layers' entry here; hide it too.
      STRATA_TRY(OverlayWhiteout(parent_fd, name, OwnerOf(e)));
      whiteouts_.insert(path);
      return base::OkStatus();
    }
    return Errno("creating", path);
  }
  return Metadata(parent_fd, name, type, e);
}

Status Applier::CreateHardlink(const std::string& path, int parent_fd,
                               const std::string& name, archive_entry* e) {
  const char* raw = archive_entry_hardlink(e);
  Result<std::string> target = CleanLayerPath(raw);
  if (!target || target->empty()) {
    return MakeError(Code::kInvalidArgument, "hardlink ", path, ": target \"",
                     raw, "\" is outside the layer root");
  }
  auto [target_parent, target_name] = SplitParent(*target);
  Result<UniqueFd> target_dir = OpenDirInRoot(root_fd_, target_parent);
  if (!target_dir) {
    return MakeError(Code::kNotFound, "hardlink ", path, ": target \"", raw,
                     "\" not found");
  }
  // Flags 0: a symlink target is linked itself, never followed out of root.
  if (::linkat(target_dir->get(), std::string(target_name).c_str(), parent_fd,
               name.c_str(), 0) != 0) {
    return MakeError(errno == ENOENT ? Code::kNotFound : Code::kIo, "hardlink ",
                     path, " -> ", raw, ": ", base::ErrnoText(errno));
  }
  struct stat st;
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno("inspecting", path);
  }
  return Metadata(parent_fd, name, st.st_mode & S_IFMT, e);
}

Status Applier::WriteRegular(const std::string& path, int parent_fd,
                             const std::string& name, archive* a,
                             archive_entry* e) {
  UniqueFd fd(::openat(parent_fd, name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600));
  if (!fd.valid()) return Errno("creating", path);
  while (true) {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return MakeError(Code::kParse, "reading data of ", path, ": ",
                       ArchiveErrorText(a));
    }
    // Blocks carry offsets, so holes of sparse entries stay holes.
    const char* p = static_cast<const char*>(buf);
    while (size > 0) {
      ssize_t n = ::pwrite(fd.get(), p, size, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("writing", path);
      }
      p += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
  }
  if (archive_entry_size_is_set(e) &&
      ::ftruncate(fd.get(), archive_entry_size(e)) != 0) {
    return Errno("sizing", path);
  }
  STRATA_TRY(Chown(parent_fd, name, fd.get(), e));
  STRATA_TRY(SetXattrs(parent_fd, name, fd.get(), S_IFREG, e));
  timespec times[2];
  EntryTimes(e, times);
  // After chown, which clears setuid/setgid.
  if (::fchmod(fd.get(), archive_entry_perm(e) & 07777) != 0 ||
      ::futimens(fd.get(), times) != 0) {
    return Errno("setting mode/mtime of", path);
  }
  return base::OkStatus();
}

Status Applier::Chown(int parent_fd, const std::string& name, int fd,
                      archive_entry* e) {
  return ChownTo(parent_fd, name, fd, OwnerOf(e));
}

Status Applier::ChownTo(int parent_fd, const std::string& name, int fd,
                        Owner owner) {
  if (!chown_) {
    if (options_.ownership == Ownership::kAuto && Unprivileged()) {
      // Not root: the owner is kept beside the file (owner_xattr.h).
      RecordOwner("/proc/self/fd/" + std::to_string(parent_fd) + "/" + name,
                  owner.uid, owner.gid);
    }
    return base::OkStatus();
  }
  uid_t uid = owner.uid;
  gid_t gid = owner.gid;
  int r = fd >= 0 ? ::fchown(fd, uid, gid)
                  : ::fchownat(parent_fd, name.c_str(), uid, gid,
                               AT_SYMLINK_NOFOLLOW);
  if (r == 0) return base::OkStatus();
  // EINVAL: the id is not mapped in this user namespace.
  if (options_.ownership == Ownership::kAuto &&
      (errno == EPERM || errno == EINVAL)) {
    Warn(base::StrCat("could not chown ", name, " to ", uid, ":", gid, ": ",
                      base::ErrnoText(errno)));
    return base::OkStatus();
  }
  return MakeError(Code::kIo, "chown ", name, " to ", uid, ":", gid, ": ",
                   base::ErrnoText(errno));
}

Status Applier::SetXattrs(int parent_fd, const std::string& name, int fd,
                          mode_t type, archive_entry* e) {
  archive_entry_xattr_reset(e);
  const char* key = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    std::string_view k = key;
    if (IsOverlayXattr(k)) {
      Warn(base::StrCat("ignored xattr ", k, " on ", name));
      continue;
    }
    int r = fd >= 0 ? ::fsetxattr(fd, key, value, size, 0)
                    : ::lsetxattr(FdRelativePath(parent_fd, name).c_str(), key,
                                  value, size, 0);
    if (r == 0) continue;
    int err = errno;
    bool privileged =
        base::StartsWith(k, "security.") || base::StartsWith(k, "trusted.");
    // The kernel allows user.* only on regular files and directories.
    bool user_on_special =
        base::StartsWith(k, "user.") && !S_ISREG(type) && !S_ISDIR(type);
    if (err == ENOTSUP ||
        ((err == EPERM || err == EACCES) && (privileged || user_on_special))) {
      Warn(base::StrCat("could not set xattr ", k, " on ", name, ": ",
                        base::ErrnoText(err)));
      continue;
    }
    return MakeError(Code::kIo, "setting xattr ", k, " on ", name, ": ",
                     base::ErrnoText(err));
  }
  return base::OkStatus();
}

Status Applier::Metadata(int parent_fd, const std::string& name, mode_t type,
                         archive_entry* e) {
  STRATA_TRY(Chown(parent_fd, name, -1, e));
  STRATA_TRY(SetXattrs(parent_fd, name, -1, type, e));
  // There is no lchmod; symlink modes are meaningless on Linux. The entry
  // was just created by us as a non-symlink, so following is safe.
  if (!S_ISLNK(type) && ::fchmodat(parent_fd, name.c_str(),
                                   archive_entry_perm(e) & 07777, 0) != 0) {
    return Errno("chmod", name);
  }
  timespec times[2];
  EntryTimes(e, times);
  if (::utimensat(parent_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno("setting mtime of", name);
  }
  return base::OkStatus();
}

}  // namespace strata::layer::internal
