#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/file.h"
#include "base/user_namespace.h"
#include "sandbox/copy_root.h"
#include "sandbox/rootfs.h"

namespace strata::sandbox {

namespace {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

// Reports a setup failure from a child over the error pipe and exits.
[[noreturn]] void Fail(int err_fd, const std::string& message) {
  std::string line = message + "\n";
  (void)!::write(err_fd, line.data(), line.size());
  ::_exit(127);
}

bool WriteProcFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) ==
            static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// The path execve needs for argv[0]: as given when it holds a '/', else
// the first executable match in the PATH of `env` (inside the new root).
std::string LookPath(const std::string& name,
                     const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const std::string& kv : env) {
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

// Docker's default capability set: what package managers and build scripts
// need (chown, setuid helpers, mknod for images that ship device files),
// and nothing that reaches past the sandbox (no CAP_SYS_ADMIN: no mount or
// remount; no CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_NET_ADMIN, ...).
constexpr int kKeptCapabilities[] = {
    CAP_CHOWN,    CAP_DAC_OVERRIDE,     CAP_FSETID,     CAP_FOWNER,
    CAP_MKNOD,    CAP_NET_RAW,          CAP_SETGID,     CAP_SETUID,
    CAP_SETFCAP,  CAP_SETPCAP,          CAP_NET_BIND_SERVICE,
    CAP_SYS_CHROOT, CAP_KILL,           CAP_AUDIT_WRITE,
};

// Drops every other capability from the bounding set: root's capabilities
// after execve are the bounding set, so this limits what the command holds.
std::string DropCapabilities() {
  int last = CAP_LAST_CAP;
  if (Result<std::string> text = base::ReadFile("/proc/sys/kernel/cap_last_cap")) {
    last = std::atoi(text->c_str());
  }
  for (int cap = 0; cap <= last; ++cap) {
    bool keep = false;
    for (int k : kKeptCapabilities) keep |= k == cap;
    if (keep) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return "drop capability " + std::to_string(cap) + ": " +
             std::strerror(errno);
    }
  }
  return "";
}

// Why a USER other than root fails in the single-id user namespace.
constexpr char kOnlyRootMapped[] =
    " (rootless: only root is mapped; give the user ranges in /etc/subuid "
    "and /etc/subgid, and install newuidmap)";

// PID 1 of the new PID namespace: builds the root, drops to the user and
// execs. Never returns.
[[noreturn]] void RunInit(const RunSpec& spec, bool in_userns,
                          bool user_xattrs, int out_fd, int err_fd,
                          int created_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
    Fail(err_fd, std::string("sethostname: ") + std::strerror(errno));
  }
  if (spec.network == Network::kNone) {
    if (std::string err = internal::BringUpLoopback(); !err.empty()) {
      Fail(err_fd, err);
    }
  }
  std::vector<std::string> created;
  std::string setup = internal::SetUpRootfs(spec, user_xattrs, &created);
  // Reported even on failure: what was created must still be cleaned.
  std::string list;
  for (const std::string& c : created) list += c + '\n';
  if (::write(created_fd, list.data(), list.size()) !=
      static_cast<ssize_t>(list.size())) {
    Fail(err_fd, std::string("report mount points: ") + std::strerror(errno));
  }
  ::close(created_fd);
  if (!setup.empty()) Fail(err_fd, setup);
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 ||
      ::dup2(out_fd, 2) < 0) {
    Fail(err_fd, std::string("set up stdio: ") + std::strerror(errno));
  }
  if (std::string err = DropCapabilities(); !err.empty()) Fail(err_fd, err);
  if (!in_userns) {
    if (::setgroups(spec.groups.size(), spec.groups.data()) != 0) {
      Fail(err_fd, std::string("setgroups: ") + std::strerror(errno));
    }
  }
  if (::setgid(spec.gid) != 0) {
    Fail(err_fd, "setgid " + std::to_string(spec.gid) + ": " +
                     std::strerror(errno) +
                     (in_userns ? kOnlyRootMapped : ""));
  }
  if (::setuid(spec.uid) != 0) {
    Fail(err_fd, "setuid " + std::to_string(spec.uid) + ": " +
                     std::strerror(errno) +
                     (in_userns ? kOnlyRootMapped : ""));
  }
  ::umask(022);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : spec.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  std::string exe = LookPath(spec.argv[0], spec.env);
  ::execve(exe.c_str(), argv.data(), envp.data());
  // As runc says it: the command is what failed, not the sandbox.
  std::string msg = "exec " + spec.argv[0] + ": " + std::strerror(errno);
  if (errno == ENOENT) msg += " (not found in the image)";
  std::string line = msg + "\n";
  (void)!::write(1, line.data(), line.size());
  ::_exit(errno == ENOENT ? 127 : 126);
}

// The helper: enters the new namespaces, forks init and reports its exit.
[[noreturn]] void RunHelper(const RunSpec& spec, int out_fd, int err_fd,
                            int created_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Root of a user namespace strata entered at start (id_map.h) needs no
  // new one, but its overlay, like a new one's, needs user.* xattrs.
  bool in_userns = !RunningAsRoot();
  bool user_xattrs = !base::HostRoot();
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  if (spec.network == Network::kNone) flags |= CLONE_NEWNET;
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  if (in_userns) flags |= CLONE_NEWUSER;
  if (::unshare(flags) != 0) {
    std::string msg = std::string("cannot create the sandbox's namespaces: ") +
                      std::strerror(errno);
    if (in_userns) {
      msg += " (rootless builds need user namespaces: check the sysctls "
             "kernel.unprivileged_userns_clone and user.max_user_namespaces)";
    }
    Fail(err_fd, msg);
  }
  if (in_userns) {
    // Root inside is the caller outside; only that one id is mapped.
    if (!WriteProcFile("/proc/self/setgroups", "deny") ||
        !WriteProcFile("/proc/self/uid_map",
                       "0 " + std::to_string(uid) + " 1") ||
        !WriteProcFile("/proc/self/gid_map",
                       "0 " + std::to_string(gid) + " 1")) {
      Fail(err_fd, std::string("write the user namespace's id maps: ") +
                       std::strerror(errno));
    }
  }
  pid_t init = ::fork();
  if (init < 0) Fail(err_fd, std::string("fork: ") + std::strerror(errno));
  if (init == 0) {
    RunInit(spec, in_userns, user_xattrs, out_fd, err_fd, created_fd);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(created_fd);
  int status = 0;
  while (::waitpid(init, &status, 0) < 0) {
    if (errno != EINTR) ::_exit(127);
  }
  if (WIFSIGNALED(status)) ::_exit(128 + WTERMSIG(status));
  ::_exit(WEXITSTATUS(status));
}

// Copies the host's name service files for the sandbox to bind (a RUN
// that writes them changes only the copy).
Status CopyEtcFiles(const std::string& state_dir) {
  for (const char* name : {"resolv.conf", "hosts"}) {
    Result<std::string> data = base::ReadFile(std::string("/etc/") + name);
    if (!data) continue;  // the host has none: the image keeps its own
    STRATA_TRY(base::WriteFileAtomic(state_dir + "/" + name, *data));
  }
  return base::OkStatus();
}

// Whether `rel` exists in the merged view of `lower_dirs` (top first).
bool ExistsBelow(const std::vector<std::string>& lower_dirs,
                 const std::string& rel) {
  std::string path;
  struct stat st;
  return internal::MergedLstat(lower_dirs, rel, &path, &st);
}

}  // namespace

bool RunningAsRoot() { return ::geteuid() == 0; }

Status CleanMountPoints(const std::string& upper_dir,
                        const std::vector<std::string>& lower_dirs,
                        const std::vector<std::string>& created) {
  namespace fs = std::filesystem;
  std::vector<std::string> parents;
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    const std::string& rel = *it;
    std::string path = upper_dir + "/" + rel;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (ExistsBelow(lower_dirs, rel)) continue;
    std::error_code ec;
    bool empty_file = S_ISREG(st.st_mode) && st.st_size == 0;
    bool empty_dir = S_ISDIR(st.st_mode) && fs::is_empty(path, ec);
    if (!empty_file && !empty_dir) continue;  // the command put data there
    if (::remove(path.c_str()) != 0) {
      return MakeError(Code::kIo, "remove mount point ", path, ": ",
                       std::strerror(errno));
    }
    if (rel.find('/') != std::string::npos) {
      parents.push_back(rel.substr(0, rel.rfind('/')));
    }
  }
  // A parent that exists below and was copied up only to hold a mount
  // point goes too (an opaque one hides what is below: it is a change).
  for (std::string parent : parents) {
    while (true) {
      std::string p = upper_dir + "/" + parent;
      std::error_code ec;
      if (!fs::is_directory(p, ec) || !fs::is_empty(p, ec) ||
          !ExistsBelow(lower_dirs, parent)) {
        break;
      }
      char opaque[2];
      if (::lgetxattr(p.c_str(), "trusted.overlay.opaque", opaque, 1) > 0 ||
          ::lgetxattr(p.c_str(), "user.overlay.opaque", opaque, 1) > 0) {
        break;
      }
      if (::rmdir(p.c_str()) != 0) break;
      if (parent.find('/') == std::string::npos) break;
      parent = parent.substr(0, parent.rfind('/'));
    }
  }
  return base::OkStatus();
}

namespace {

// One run on an overlay, or on spec.copy_root when set.
Result<RunResult> RunOnce(const RunSpec& spec) {
  if (spec.argv.empty()) {
    return MakeError(Code::kInvalidArgument, "RUN has no command");
  }
  STRATA_TRY(CopyEtcFiles(spec.state_dir));
  // out: the command's output; err: a setup failure; created: the mount
  // points made (small: the pipe buffer holds them until read).
  int out[2], err[2], made[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return MakeError(Code::kIo, "pipe: ", std::strerror(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return MakeError(Code::kIo, "pipe: ", std::strerror(errno));
  }
  if (::pipe2(made, O_CLOEXEC) != 0) {
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    return MakeError(Code::kIo, "pipe: ", std::strerror(errno));
  }
  pid_t helper = ::fork();
  if (helper < 0) {
    for (int fd : {out[0], out[1], err[0], err[1], made[0], made[1]}) {
      ::close(fd);
    }
    return MakeError(Code::kIo, "fork: ", std::strerror(errno));
  }
  if (helper == 0) {
    ::close(out[0]);
    ::close(err[0]);
    ::close(made[0]);
    RunHelper(spec, out[1], err[1], made[1]);
  }
  ::close(out[1]);
  ::close(err[1]);
  ::close(made[1]);

  // The command's output as it comes; the setup error pipe when it closes.
  std::string setup_error;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[16384];
  while (open_fds > 0) {
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    for (pollfd& p : fds) {
      if (p.fd < 0 || p.revents == 0) continue;
      ssize_t n = ::read(p.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(p.fd);
        p.fd = -1;
        --open_fds;
        continue;
      }
      std::string_view chunk(buf, static_cast<size_t>(n));
      if (p.fd == err[0]) {
        setup_error.append(chunk);
      } else if (spec.on_output) {
        spec.on_output(chunk);
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  int status = 0;
  while (::waitpid(helper, &status, 0) < 0) {
    if (errno != EINTR) {
      return MakeError(Code::kIo, "wait for the sandbox: ",
                       std::strerror(errno));
    }
  }
  std::string made_text;
  while (true) {
    ssize_t n = ::read(made[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    made_text.append(buf, static_cast<size_t>(n));
  }
  ::close(made[0]);
  std::vector<std::string> created;
  for (size_t start = 0, nl; (nl = made_text.find('\n', start)) !=
                              std::string::npos;
       start = nl + 1) {
    created.push_back(made_text.substr(start, nl - start));
  }
  const std::string& changed =
      spec.copy_root.empty() ? spec.upper_dir : spec.copy_root;
  STRATA_TRY(CleanMountPoints(changed, spec.lower_dirs, created));
  if (setup_error.empty() && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
      spec.copy_root.empty()) {
    STRATA_TRY(PruneUnchanged(spec.upper_dir, spec.lower_dirs));
  }
  if (!setup_error.empty()) {
    while (!setup_error.empty() && setup_error.back() == '\n') {
      setup_error.pop_back();
    }
    return MakeError(Code::kUnsupported, "sandbox: ", setup_error);
  }
  RunResult result;
  if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  } else {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

// Whether a setup error says the kernel cannot give us an overlay (not
// that our own directories are wrong): no overlayfs, not permitted here,
// or options (userxattr) it does not know.
bool OverlayUnavailable(const std::string& message) {
  if (message.find("mount overlay on ") == std::string::npos) return false;
  for (int err : {ENODEV, EPERM, EINVAL}) {
    if (message.find(std::strerror(err)) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Result<RunResult> Run(const RunSpec& spec) {
  std::string notice;
  if (!spec.force_copy) {
    Result<RunResult> r = RunOnce(spec);
    if (r || !OverlayUnavailable(r.error().message())) return r;
    notice = "overlayfs could not be mounted (" + r.error().message() +
             "): RUN copies the root file system instead, which is slower";
  } else {
    notice = "STRATA_SANDBOX_COPY is set: RUN copies the root file system";
  }
  RunSpec copy = spec;
  copy.copy_root = spec.state_dir + "/copy";
  if (::mkdir(copy.copy_root.c_str(), 0755) != 0) {
    return MakeError(Code::kIo, "mkdir ", copy.copy_root, ": ",
                     std::strerror(errno));
  }
  STRATA_TRY(internal::MergeLowerDirs(spec.lower_dirs, copy.copy_root));
  STRATA_ASSIGN_OR_RETURN(RunResult result, RunOnce(copy));
  if (result.exit_code == 0) {
    STRATA_TRY(internal::DiffCopy(copy.copy_root, spec.lower_dirs,
                                  spec.upper_dir));
    STRATA_TRY(PruneUnchanged(spec.upper_dir, spec.lower_dirs));
  }
  result.oci_whiteouts = true;
  result.notice = notice;
  return result;
}

}  // namespace strata::sandbox
