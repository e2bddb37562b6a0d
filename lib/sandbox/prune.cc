// PruneUnchanged: drops from an overlay upper dir what a command copied up
// without changing (chmod to the same mode, touch -r, rewriting a config
// with the same bytes), so the layer holds only real changes.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "base/file.h"
#include "sandbox/copy_root.h"
#include "sandbox/sandbox.h"

namespace strata::sandbox {

namespace {

using base::Code;
using base::MakeError;
using base::Status;

// Files larger than this are kept without comparing their bytes.
constexpr off_t kMaxCompare = 64 << 20;

std::string Xattr(const std::string& path, const char* name) {
  char buf[512];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

bool SameMeta(const struct stat& a, const struct stat& b) {
  return a.st_mode == b.st_mode && a.st_uid == b.st_uid &&
         a.st_gid == b.st_gid;
}

bool SameBytes(const std::string& a, const std::string& b, off_t size) {
  if (size > kMaxCompare) return false;
  base::UniqueFd fa(::open(a.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  base::UniqueFd fb(::open(b.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fa.valid() || !fb.valid()) return false;
  char ba[65536], bb[65536];
  while (true) {
    ssize_t na = ::read(fa.get(), ba, sizeof ba);
    if (na < 0) return false;
    ssize_t got = 0;
    while (got < na) {
      ssize_t nb = ::read(fb.get(), bb + got, static_cast<size_t>(na - got));
      if (nb <= 0) return false;
      got += nb;
    }
    if (na == 0) {
      char extra;
      return ::read(fb.get(), &extra, 1) == 0;
    }
    if (std::memcmp(ba, bb, static_cast<size_t>(na)) != 0) return false;
  }
}

bool Opaque(const std::string& path) {
  return !Xattr(path, "trusted.overlay.opaque").empty() ||
         !Xattr(path, "user.overlay.opaque").empty();
}

// Whether upper entry `rel` equals what is below it.
bool Unchanged(const std::string& upper, const std::string& rel,
               const struct stat& st,
               const std::vector<std::string>& lower_dirs) {
  std::string lower;
  struct stat lst;
  if (!internal::MergedLstat(lower_dirs, rel, &lower, &lst)) return false;
  if (!SameMeta(st, lst)) return false;
  std::string path = upper + "/" + rel;
  if (Xattr(path, "security.capability") !=
      Xattr(lower, "security.capability")) {
    return false;
  }
  if (S_ISLNK(st.st_mode)) {
    char a[4096], b[4096];
    ssize_t na = ::readlink(path.c_str(), a, sizeof a);
    ssize_t nb = ::readlink(lower.c_str(), b, sizeof b);
    return na >= 0 && na == nb && std::memcmp(a, b, static_cast<size_t>(na)) == 0;
  }
  if (S_ISREG(st.st_mode)) {
    // A hard link to other files: keep, the layer must record the link.
    if (st.st_nlink > 1) return false;
    return st.st_size == lst.st_size && SameBytes(path, lower, st.st_size);
  }
  if (S_ISDIR(st.st_mode)) return !Opaque(path);
  return false;
}

// Post-order: children first, so a dir emptied by pruning can go too.
Status PruneDir(const std::string& upper, const std::string& rel,
                const std::vector<std::string>& lower_dirs) {
  std::string dir_path = rel.empty() ? upper : upper + "/" + rel;
  DIR* d = ::opendir(dir_path.c_str());
  if (d == nullptr) {
    return MakeError(Code::kIo, "read ", dir_path, ": ", std::strerror(errno));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  for (const std::string& name : names) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    std::string path = upper + "/" + child;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      STRATA_TRY(PruneDir(upper, child, lower_dirs));
      // Left empty and the same below (only copied up on the way to a
      // change that turned out to be none): rmdir fails if not empty.
      if (Unchanged(upper, child, st, lower_dirs)) ::rmdir(path.c_str());
      continue;
    }
    if (Unchanged(upper, child, st, lower_dirs)) {
      if (::unlink(path.c_str()) != 0) {
        return MakeError(Code::kIo, "remove ", path, ": ",
                         std::strerror(errno));
      }
    }
  }
  return base::OkStatus();
}

}  // namespace

Status PruneUnchanged(const std::string& upper_dir,
                      const std::vector<std::string>& lower_dirs) {
  return PruneDir(upper_dir, "", lower_dirs);
}

}  // namespace strata::sandbox
