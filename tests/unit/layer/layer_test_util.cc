#include "layer_test_util.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "base/digest.h"

namespace strata::layer::testutil {

namespace fs = std::filesystem;

std::string MakeRawTar(const std::vector<RawEntry>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY");
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(client)->append(static_cast<const char*>(buf),
                                                  n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const RawEntry& r : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, r.name.c_str());
    archive_entry_set_perm(e, r.mode);
    archive_entry_set_uid(e, r.uid);
    archive_entry_set_gid(e, r.gid);
    archive_entry_set_mtime(e, r.mtime, 0);
    switch (r.type) {
      case 'd':
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, r.target.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, r.target.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(e, AE_IFCHR);
        break;
      case 'p':
        archive_entry_set_filetype(e, AE_IFIFO);
        break;
      default:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(r.data.size()));
    }
    for (const auto& [k, v] : r.xattrs) {
      archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    }
    EXPECT_GE(archive_write_header(a, e), ARCHIVE_WARN)
        << archive_error_string(a);
    if (r.type == 'f' && !r.data.empty()) {
      archive_write_data(a, r.data.data(), r.data.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

base::Result<ApplyStats> ApplyBlob(const std::string& blob,
                                   const std::string& root,
                                   const ApplyOptions& options) {
  base::StringSource source(blob);
  return ApplyLayer(source, root, options);
}

std::string GetXattrOf(const std::string& path, const std::string& name) {
  char buf[4096];
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buf, sizeof(buf));
  if (n < 0) return "<none>";
  return std::string(buf, static_cast<size_t>(n));
}

std::string ListTree(const std::string& root, bool with_mtime) {
  std::ostringstream out;
  std::function<void(const std::string&, const std::string&)> walk =
      [&](const std::string& dir, const std::string& rel) {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir)) {
          names.push_back(e.path().filename());
        }
        std::sort(names.begin(), names.end());
        for (const std::string& name : names) {
          std::string path = dir + "/" + name;
          std::string r = rel.empty() ? name : rel + "/" + name;
          struct stat st;
          if (::lstat(path.c_str(), &st) != 0) continue;
          char type = S_ISDIR(st.st_mode)    ? 'd'
                      : S_ISLNK(st.st_mode)  ? 'l'
                      : S_ISCHR(st.st_mode)  ? 'c'
                      : S_ISBLK(st.st_mode)  ? 'b'
                      : S_ISFIFO(st.st_mode) ? 'p'
                                             : 'f';
          out << r << " " << type << " " << std::oct << (st.st_mode & 07777)
              << std::dec << " " << st.st_uid << ":" << st.st_gid;
          if (with_mtime && type != 'l') out << " t=" << st.st_mtim.tv_sec;
          if (type == 'f') {
            out << " size=" << st.st_size << " nlink=" << st.st_nlink << " "
                << base::Digest::Of(GetFile(path)).hex().substr(0, 12);
          } else if (type == 'l') {
            out << " -> " << fs::read_symlink(path).string();
          } else if (type == 'c' || type == 'b') {
            out << " dev=" << major(st.st_rdev) << "," << minor(st.st_rdev);
          }
          for (const char* x :
               {"user.test", "user.other", "security.capability"}) {
            std::string v = GetXattrOf(path, x);
            if (v != "<none>") out << " " << x << "=" << v.size() << "b";
          }
          out << "\n";
          if (type == 'd') walk(path, r);
        }
      };
  walk(root, "");
  return out.str();
}

std::vector<std::string> ListTar(const std::string& tar) {
  std::vector<std::string> lines;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  archive_entry* e = nullptr;
  while (true) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      lines.push_back(std::string("ERROR: ") + archive_error_string(a));
      break;
    }
    std::ostringstream l;
    const char* hard = archive_entry_hardlink(e);
    const char* sym = archive_entry_symlink(e);
    mode_t t = archive_entry_filetype(e);
    std::string type = hard            ? "hardlink"
                       : t == AE_IFDIR ? "dir"
                       : t == AE_IFLNK ? "symlink"
                       : t == AE_IFCHR ? "char"
                       : t == AE_IFBLK ? "block"
                       : t == AE_IFIFO ? "fifo"
                                       : "file";
    l << archive_entry_pathname(e) << "|" << type << "|" << std::oct
      << archive_entry_perm(e) << std::dec << "|" << archive_entry_uid(e) << ":"
      << archive_entry_gid(e) << "|" << archive_entry_size(e) << "|"
      << archive_entry_mtime(e) << "." << archive_entry_mtime_nsec(e) << "|"
      << (hard  ? hard
          : sym ? sym
                : "")
      << "|";
    archive_entry_xattr_reset(e);
    const char* name;
    const void* value;
    size_t size;
    bool first = true;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      l << (first ? "" : ",") << name;
      first = false;
    }
    lines.push_back(l.str());
  }
  archive_read_free(a);
  return lines;
}

std::string RunCmd(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return out;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  EXPECT_EQ(status, 0) << "command failed: " << command;
  return out;
}

void PutFile(const std::string& path, const std::string& data, mode_t mode) {
  fs::create_directories(fs::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }
  ::chmod(path.c_str(), mode);
}

std::string GetFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void SetMtime(const std::string& path, int64_t sec, int64_t nsec) {
  timespec times[2] = {{sec, nsec}, {sec, nsec}};
  ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

bool Privileged() {
  static const bool privileged = [] {
    char templ[] = "/tmp/strata-priv-XXXXXX";
    if (::mkdtemp(templ) == nullptr) return false;
    std::string dev = std::string(templ) + "/null";
    bool ok = ::mknod(dev.c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0 &&
              ::lsetxattr(templ, "trusted.strata", "1", 1, 0) == 0;
    ::unlink(dev.c_str());
    ::rmdir(templ);
    return ok;
  }();
  return privileged;
}

}  // namespace strata::layer::testutil
