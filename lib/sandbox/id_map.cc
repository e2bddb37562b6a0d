#include "sandbox/id_map.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/file.h"
#include "base/str.h"

extern char** environ;

namespace strata::sandbox {

namespace {

// The outside process's child: the strata inside the namespace.
pid_t g_inside = -1;

// Passes on signals another process sent (kill, timeout). A terminal's
// ^C (si_code SI_KERNEL) already reached the whole process group.
void ForwardSignal(int sig, siginfo_t* info, void*) {
  if (info->si_code <= 0 && g_inside > 0) ::kill(g_inside, sig);
}

// Waits for the inside process and exits as it did. Never returns.
[[noreturn]] void WaitAndExitAsChild() {
  struct sigaction sa = {};
  sa.sa_sigaction = ForwardSignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    ::sigaction(sig, &sa, nullptr);
  }
  int status = 0;
  while (::waitpid(g_inside, &status, 0) < 0) {
    if (errno != EINTR) ::_exit(1);
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    ::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
    ::_exit(128 + sig);
  }
  ::_exit(WEXITSTATUS(status));
}

// The first executable `name` in PATH (or the usual dirs), or "".
std::string FindTool(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr ? env : "";
  path += ":/usr/sbin:/usr/bin:/sbin:/bin";
  for (const std::string& dir : base::Split(path, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Runs `argv` and waits; returns "" or what went wrong (with its stderr).
std::string RunTool(const std::vector<std::string>& argv) {
  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) return std::strerror(errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr,
                         args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(err[1]);
  std::string output;
  char buf[512];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  ::close(err[0]);
  if (rc != 0) return argv[0] + ": " + std::strerror(rc);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return argv[0] + " failed" + (output.empty() ? "" : ": " + output);
}

}  // namespace

std::optional<SubIdRange> FindSubIds(std::string_view text,
                                     std::string_view name, uint32_t id) {
  std::string id_text = std::to_string(id);
  for (std::string_view line : base::Split(text, '\n')) {
    std::vector<std::string> fields = base::Split(line, ':');
    if (fields.size() != 3) continue;
    if (fields[0] != name && fields[0] != id_text) continue;
    char* end = nullptr;
    unsigned long long start = std::strtoull(fields[1].c_str(), &end, 10);
    if (fields[1].empty() || *end != '\0') continue;
    unsigned long long count = std::strtoull(fields[2].c_str(), &end, 10);
    if (fields[2].empty() || *end != '\0' || count == 0) continue;
    if (start + count > 4294967295ULL) continue;
    return SubIdRange{static_cast<uint32_t>(start),
                      static_cast<uint32_t>(count)};
  }
  return std::nullopt;
}

bool EnterIdMappedUserNamespace(std::string* why_not) {
  why_not->clear();
  if (::geteuid() == 0) return false;
  if (const char* env = std::getenv("STRATA_SUBIDS");
      env != nullptr && std::string_view(env) == "0") {
    return false;
  }
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  std::string name;
  if (const passwd* pw = ::getpwuid(uid)) name = pw->pw_name;
  base::Result<std::string> subuid = base::ReadFile("/etc/subuid");
  base::Result<std::string> subgid = base::ReadFile("/etc/subgid");
  std::optional<SubIdRange> uids, gids;
  if (subuid) uids = FindSubIds(*subuid, name, uid);
  if (subgid) gids = FindSubIds(*subgid, name, uid);
  if (!uids || !gids) return false;  // the single-id map it is
  std::string newuidmap = FindTool("newuidmap");
  std::string newgidmap = FindTool("newgidmap");
  if (newuidmap.empty() || newgidmap.empty()) {
    *why_not = "newuidmap/newgidmap not found (Debian: apt-get install "
               "uidmap): RUN maps only root, so it cannot switch users";
    return false;
  }

  int up[2], down[2];  // inside -> outside: ready; outside -> inside: go
  if (::pipe2(up, O_CLOEXEC) != 0) return false;
  if (::pipe2(down, O_CLOEXEC) != 0) {
    ::close(up[0]);
    ::close(up[1]);
    return false;
  }
  pid_t outside = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {up[0], up[1], down[0], down[1]}) ::close(fd);
    *why_not = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    ::close(up[0]);
    ::close(down[1]);
    // Dies with the outside process, as a single strata process would.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != outside) ::_exit(1);
    char ready = ::unshare(CLONE_NEWUSER) == 0 ? 'r' : 'f';
    (void)!::write(up[1], &ready, 1);
    ::close(up[1]);
    char go = 0;
    while (::read(down[0], &go, 1) < 0 && errno == EINTR) {
    }
    ::close(down[0]);
    if (ready != 'r' || go != 'g') ::_exit(0);
    return true;  // root of the new namespace, with the maps in place
  }
  ::close(up[1]);
  ::close(down[0]);
  char ready = 0;
  while (::read(up[0], &ready, 1) < 0 && errno == EINTR) {
  }
  ::close(up[0]);
  std::string failure;
  if (ready != 'r') {
    failure = "cannot create a user namespace";
  } else {
    std::string p = std::to_string(pid);
    failure = RunTool({newuidmap, p, "0", std::to_string(uid), "1", "1",
                       std::to_string(uids->start),
                       std::to_string(uids->count)});
    if (failure.empty()) {
      failure = RunTool({newgidmap, p, "0", std::to_string(gid), "1", "1",
                         std::to_string(gids->start),
                         std::to_string(gids->count)});
    }
  }
  char go = failure.empty() ? 'g' : 'n';
  (void)!::write(down[1], &go, 1);
  ::close(down[1]);
  if (go == 'g') {
    g_inside = pid;
    WaitAndExitAsChild();
  }
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  *why_not = "subordinate ids unusable (" + failure +
             "): RUN maps only root, so it cannot switch users";
  return false;
}

}  // namespace strata::sandbox
