#include "sandbox/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace strata::sandbox::internal {

using base::Code;
using base::MakeError;
using base::Result;

Result<std::string> SecureJoin(const std::string& root,
                               const std::string& path) {
  std::vector<std::string> todo;  // components still to walk, last first
  auto push_path = [&todo](const std::string& p) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find('/', start);
      if (end == std::string::npos) end = p.size();
      if (end > start) parts.push_back(p.substr(start, end - start));
      start = end + 1;
    }
    todo.insert(todo.end(), parts.rbegin(), parts.rend());
  };
  push_path(path);
  std::vector<std::string> done;  // resolved components below root
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string current = root;
    for (const std::string& d : done) current += "/" + d;
    current += "/" + part;
    struct stat st;
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
      done.push_back(part);
      continue;
    }
    if (++links > 255) {
      return MakeError(Code::kInvalidArgument, "too many symlinks in ", path);
    }
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(current.c_str(), target.data(), target.size());
    if (n < 0) {
      return MakeError(Code::kIo, "readlink ", current, ": ",
                       std::strerror(errno));
    }
    target.resize(static_cast<size_t>(n));
    if (!target.empty() && target[0] == '/') done.clear();
    push_path(target);
  }
  std::string out = root;
  for (const std::string& d : done) out += "/" + d;
  return out;
}

namespace {

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// mkdir -p below an existing root; the modes are the usual 0755.
std::string MakeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    std::string part = path.substr(0, i);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      return Errno("mkdir " + part);
    }
  }
  return "";
}

// The paths below the root this setup created (relative, parents first),
// reported to the parent so they never reach the layer.
std::vector<std::string>* g_created = nullptr;
std::string g_root;

void NoteCreated(const std::string& host_path) {
  if (g_created && host_path.compare(0, g_root.size() + 1, g_root + "/") == 0) {
    g_created->push_back(host_path.substr(g_root.size() + 1));
  }
}

// Makes `rel` (inside the root, symlinks resolved inside it) exist as a
// directory or an empty file to mount on; returns its host path in *out.
std::string MountPoint(const std::string& rel, bool dir, std::string* out) {
  Result<std::string> resolved = SecureJoin(g_root, rel);
  if (!resolved) return resolved.error().message();
  *out = *resolved;
  if (Exists(*out)) return "";
  // Missing components: each created (no symlink can be among them).
  for (size_t i = g_root.size() + 1; i <= out->size(); ++i) {
    if (i != out->size() && (*out)[i] != '/') continue;
    std::string part = out->substr(0, i);
    if (Exists(part)) continue;
    if (i == out->size() && !dir) {
      int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                      0644);
      if (fd < 0) return Errno("create " + part);
      ::close(fd);
    } else if (::mkdir(part.c_str(), 0755) != 0) {
      return Errno("mkdir " + part);
    }
    NoteCreated(part);
  }
  return "";
}

std::string Bind(const std::string& source, const std::string& target,
                 bool read_only) {
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC,
              nullptr) != 0) {
    return Errno("bind " + source + " on " + target);
  }
  if (read_only &&
      ::mount(nullptr, target.c_str(), nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, nullptr) != 0) {
    return Errno("remount " + target + " read-only");
  }
  return "";
}

// The overlay's lowerdir option: top first. Paths go relative to their
// common parent (the caller chdirs there) when that keeps the option
// within the page the kernel reads.
std::string LowerDirOption(const std::vector<std::string>& dirs,
                           std::string* chdir_to) {
  std::string joined;
  for (const std::string& d : dirs) {
    if (!joined.empty()) joined += ':';
    joined += d;
  }
  if (joined.size() < 3000) return joined;
  std::string parent = dirs[0].substr(0, dirs[0].rfind('/'));
  std::string rel;
  for (const std::string& d : dirs) {
    if (d.compare(0, parent.size() + 1, parent + "/") != 0) return joined;
    if (!rel.empty()) rel += ':';
    rel += d.substr(parent.size() + 1);
  }
  *chdir_to = parent;
  return rel;
}

std::string MountOverlay(const RunSpec& spec, bool user_xattrs) {
  if (!spec.copy_root.empty()) {
    // The fallback: the merged copy, bound as the root (nodev as well).
    if (::mount(spec.copy_root.c_str(), spec.rootfs_dir.c_str(), nullptr,
                MS_BIND | MS_REC, nullptr) != 0 ||
        ::mount(nullptr, spec.rootfs_dir.c_str(), nullptr,
                MS_BIND | MS_REMOUNT | MS_NODEV, nullptr) != 0) {
      return Errno("bind the root copy on " + spec.rootfs_dir);
    }
    return "";
  }
  std::vector<std::string> lower = spec.lower_dirs;
  if (lower.empty()) {
    // FROM scratch: overlayfs wants at least one lower dir.
    std::string empty = spec.state_dir + "/empty";
    if (std::string err = MakeDirs(empty); !err.empty()) return err;
    lower.push_back(empty);
  }
  std::string chdir_to;
  std::string options = "lowerdir=" + LowerDirOption(lower, &chdir_to) +
                        ",upperdir=" + spec.upper_dir +
                        ",workdir=" + spec.work_dir;
  if (user_xattrs) options += ",userxattr";
  if (!chdir_to.empty() && ::chdir(chdir_to.c_str()) != 0) {
    return Errno("chdir " + chdir_to);
  }
  // nodev: with no device cgroup to stop it, a device node made by mknod
  // (or shipped in a layer) could open the host's disks.
  if (::mount("overlay", spec.rootfs_dir.c_str(), "overlay", MS_NODEV,
              options.c_str()) != 0) {
    return Errno("mount overlay on " + spec.rootfs_dir +
                 " (is overlayfs available?)");
  }
  return "";
}

std::string MountDev(const RunSpec& spec) {
  std::string dev;
  if (std::string err = MountPoint("dev", true, &dev); !err.empty()) {
    return err;
  }
  // nodev here too; the nodes bound on it keep their own mounts' flags.
  if (::mount("tmpfs", dev.c_str(), "tmpfs",
              MS_NOSUID | MS_NODEV | MS_STRICTATIME,
              "mode=755,size=65536k") != 0) {
    return Errno("mount tmpfs on /dev");
  }
  // Below here is our fresh tmpfs: no link of the image can interfere.
  for (const char* node : {"null", "zero", "full", "random", "urandom",
                           "tty"}) {
    std::string target = dev + "/" + node;
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("create " + target);
    ::close(fd);
    std::string source = std::string("/dev/") + node;
    if (std::string err = Bind(source, target, false); !err.empty()) {
      return err;
    }
  }
  std::string pts = dev + "/pts";
  if (std::string err = MakeDirs(pts); !err.empty()) return err;
  // A private devpts instance; without it (some user namespaces) a shell
  // still runs, only without terminals.
  if (::mount("devpts", pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620") == 0) {
    ::symlink("pts/ptmx", (dev + "/ptmx").c_str());
  }
  std::string shm = dev + "/shm";
  if (std::string err = MakeDirs(shm); !err.empty()) return err;
  if (::mount("shm", shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=1777,size=65536k") != 0) {
    return Errno("mount tmpfs on /dev/shm");
  }
  ::symlink("/proc/self/fd", (dev + "/fd").c_str());
  ::symlink("/proc/self/fd/0", (dev + "/stdin").c_str());
  ::symlink("/proc/self/fd/1", (dev + "/stdout").c_str());
  ::symlink("/proc/self/fd/2", (dev + "/stderr").c_str());
  if (!spec.pipe_files.empty()) {
    std::string pipes = dev + "/pipes";
    if (std::string err = MakeDirs(pipes); !err.empty()) return err;
    for (const PipeFile& f : spec.pipe_files) {
      if (f.name.empty() || f.name.find('/') != std::string::npos ||
          f.name == "." || f.name == "..") {
        return "invalid heredoc file name " + f.name;
      }
      std::string path = pipes + "/" + f.name;
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                      f.mode);
      if (fd < 0) return Errno("create " + path);
      size_t done = 0;
      while (done < f.data.size()) {
        ssize_t n = ::write(fd, f.data.data() + done, f.data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          ::close(fd);
          return Errno("write " + path);
        }
        done += static_cast<size_t>(n);
      }
      ::fchmod(fd, f.mode);
      ::close(fd);
    }
  }
  return "";
}

std::string MountProcAndSys(const RunSpec&) {
  std::string proc;
  if (std::string err = MountPoint("proc", true, &proc); !err.empty()) {
    return err;
  }
  if (::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0) {
    return Errno("mount /proc");
  }
  std::string sys;
  if (std::string err = MountPoint("sys", true, &sys); !err.empty()) {
    return err;
  }
  if (::mount("sysfs", sys.c_str(), "sysfs",
              MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, nullptr) != 0) {
    // A user namespace without its own network namespace may not mount
    // sysfs; the host's, read-only, serves the same readers.
    if (std::string err = Bind("/sys", sys, true); !err.empty()) return err;
  }
  return "";
}

std::string BindEtcFiles(const RunSpec& spec) {
  Result<std::string> etc = SecureJoin(g_root, "etc");
  if (!etc) return etc.error().message();
  struct stat st;
  if (::lstat(etc->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return "";  // an image without /etc gets none
  }
  for (const char* name : {"resolv.conf", "hosts"}) {
    std::string copy = spec.state_dir + "/" + name;
    if (!Exists(copy)) continue;
    std::string target;
    if (std::string err = MountPoint(std::string("etc/") + name, false,
                                     &target);
        !err.empty()) {
      return err;
    }
    if (::stat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (std::string err = Bind(copy, target, false); !err.empty()) return err;
  }
  return "";
}

// RUN --mount targets: each resolved inside the root, created if missing.
std::string MountExtra(const RunSpec& spec) {
  int staged = 0;
  for (const MountSpec& m : spec.mounts) {
    std::string source = m.source;
    if (m.kind == MountSpec::Kind::kOverlay) {
      // Mounted beside the root first, then the wanted part bound in.
      source = spec.state_dir + "/mnt-" + std::to_string(staged++);
      if (std::string err = MakeDirs(source); !err.empty()) return err;
      std::string chdir_to;
      std::string options = "lowerdir=" +
                            LowerDirOption(m.lower_dirs, &chdir_to) +
                            ",upperdir=" + m.upper_dir +
                            ",workdir=" + m.work_dir;
      if (!chdir_to.empty() && ::chdir(chdir_to.c_str()) != 0) {
        return Errno("chdir " + chdir_to);
      }
      if (::mount("overlay", source.c_str(), "overlay", MS_NODEV,
                  options.c_str()) != 0) {
        return Errno("mount overlay for " + m.target);
      }
      if (!m.subpath.empty()) {
        Result<std::string> sub = SecureJoin(source, m.subpath);
        if (!sub) return sub.error().message();
        source = *sub;
      }
    }
    bool dir = true;
    if (m.kind != MountSpec::Kind::kTmpfs) {
      struct stat st;
      if (::stat(source.c_str(), &st) != 0) {
        return Errno("mount source " + (m.subpath.empty() ? source
                                                          : m.subpath));
      }
      dir = S_ISDIR(st.st_mode);
    }
    std::string target;
    if (std::string err = MountPoint(m.target, dir, &target); !err.empty()) {
      return err;
    }
    if (m.kind == MountSpec::Kind::kTmpfs) {
      std::string options = "mode=1777";
      if (m.size > 0) options += ",size=" + std::to_string(m.size);
      if (::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                  options.c_str()) != 0) {
        return Errno("mount tmpfs on " + m.target);
      }
      continue;
    }
    if (std::string err = Bind(source, target, m.read_only); !err.empty()) {
      return err;
    }
  }
  return "";
}

std::string PivotRoot(const RunSpec& spec) {
  if (::chdir(spec.rootfs_dir.c_str()) != 0) return Errno("chdir rootfs");
  // pivot_root(".", "."): the old root ends up on top of the new one and
  // is detached at once; no directory for it is needed in the image.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Errno("pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) return Errno("detach old root");
  if (::chdir("/") != 0) return Errno("chdir /");
  return "";
}

}  // namespace

std::string SetUpRootfs(const RunSpec& spec, bool user_xattrs,
                        std::vector<std::string>* created) {
  g_root = spec.rootfs_dir;
  g_created = created;
  // Nothing mounted here propagates back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Errno("make mounts private");
  }
  if (std::string err = MountOverlay(spec, user_xattrs); !err.empty()) {
    return err;
  }
  for (auto step : {&MountDev, &MountProcAndSys, &BindEtcFiles, &MountExtra}) {
    if (std::string err = step(spec); !err.empty()) return err;
  }
  if (std::string err = PivotRoot(spec); !err.empty()) return err;
  if (::chdir(spec.cwd.c_str()) != 0) {
    if (std::string err = MakeDirs(spec.cwd); !err.empty()) return err;
    if (::chdir(spec.cwd.c_str()) != 0) return Errno("chdir " + spec.cwd);
  }
  return "";
}

std::string BringUpLoopback() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  struct ifreq req;
  std::memset(&req, 0, sizeof req);
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ::ioctl(fd, SIOCGIFFLAGS, &req);
  if (rc == 0) {
    req.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ::ioctl(fd, SIOCSIFFLAGS, &req);
  }
  ::close(fd);
  return rc == 0 ? "" : Errno("bring up loopback");
}

}  // namespace strata::sandbox::internal
