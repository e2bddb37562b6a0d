#include "registry/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/base64.h"
#include "base/file.h"
#include "base/str.h"

namespace strata::registry {

using base::Code;
using base::MakeError;
using base::Result;
using base::StartsWith;
using base::Status;
using base::StrCat;
using Json = nlohmann::ordered_json;

namespace {

constexpr char kHelperPrefix[] = "docker-credential-";
// Output kept from a helper; more is read and dropped.
constexpr size_t kMaxHelperOutput = 1 << 20;


// ---- keys ----

// Docker Hub under one name, other hosts normalized.
std::string CanonicalHost(std::string_view key) {
  return IsDockerHub(key) ? "docker.io" : NormalizeRegistryHost(key);
}

// What a credential helper is given: docker's server address.
std::string ServerUrl(std::string_view host) {
  return IsDockerHub(host) ? kDockerHubLegacyKey : NormalizeRegistryHost(host);
}

// The keys of `object` naming `host`, best first: the host as written,
// Docker Hub's legacy key, then any key normalizing to it, in file order.
std::vector<std::string> MatchingKeys(const Json& object,
                                      std::string_view host) {
  std::vector<std::string> keys;
  auto add = [&](const std::string& key) {
    if (object.contains(key) &&
        std::find(keys.begin(), keys.end(), key) == keys.end()) {
      keys.push_back(key);
    }
  };
  std::string want = CanonicalHost(host);
  add(std::string(host));
  add(NormalizeRegistryHost(host));
  if (want == "docker.io") add(kDockerHubLegacyKey);
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (CanonicalHost(it.key()) == want) add(it.key());
  }
  return keys;
}

Status CheckHost(std::string_view host) {
  if (NormalizeRegistryHost(host).empty()) {
    return MakeError(Code::kInvalidArgument, "empty registry host");
  }
  return base::OkStatus();
}

// ---- config files ----

// A config file's JSON, nullopt when the file does not exist. The parser's
// own message is not shown: it quotes the file, secrets included.
Result<std::optional<Json>> ReadConfig(const std::string& path) {
  Result<std::string> text = base::ReadFile(path);
  if (!text) {
    if (text.error().code() == Code::kNotFound) return std::optional<Json>();
    return std::move(text).error();
  }
  if (base::TrimAscii(*text).empty())
    return std::optional<Json>(Json::object());
  Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return MakeError(Code::kParse, path, ": invalid JSON (not an object)");
  }
  for (const char* field : {"auths", "credHelpers", "credsStore"}) {
    if (j.contains(field) && j[field].is_null()) j.erase(field);
  }
  for (const char* field : {"auths", "credHelpers"}) {
    if (j.contains(field) && !j[field].is_object()) {
      return MakeError(Code::kParse, path, ": \"", field,
                       "\" is not an object");
    }
  }
  if (j.contains("credsStore") && !j["credsStore"].is_string()) {
    return MakeError(Code::kParse, path, ": \"credsStore\" is not a string");
  }
  return std::optional<Json>(std::move(j));
}

// Creates `dir` and missing parents with mode 0700.
Status MakeDirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return MakeError(Code::kIo, prefix, ": ", base::ErrnoText(errno));
    }
  }
  return base::OkStatus();
}

Status WriteConfig(const std::string& dir, const std::string& path,
                   const Json& config) {
  STRATA_TRY(MakeDirs(dir));
  // A symlinked config.json (dotfile managers) stays a symlink, as with
  // docker: the file it points to is replaced.
  std::string target = path;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    if (char* real = ::realpath(path.c_str(), nullptr)) {
      target = real;
      std::free(real);
    }
  }
  std::string text =
      config.dump(1, '\t', false, Json::error_handler_t::replace) + "\n";
  return base::WriteFileAtomic(target, text, 0600);
}

// The credentials of one auths entry; nullopt for an empty one.
Result<std::optional<Credentials>> ParseAuthEntry(const Json& entry,
                                                  const std::string& path,
                                                  const std::string& key) {
  auto bad = [&](std::string_view what) {
    return MakeError(Code::kParse, path, ": auths entry \"", key, "\": ", what);
  };
  if (!entry.is_object()) return bad("not an object");
  auto get = [&](const char* field, std::string* out) -> Status {
    auto it = entry.find(field);
    if (it == entry.end() || it->is_null()) return base::OkStatus();
    if (!it->is_string()) return bad(StrCat("\"", field, "\" is not a string"));
    *out = it->get<std::string>();
    return base::OkStatus();
  };
  Credentials creds;
  std::string auth;
  STRATA_TRY(get("username", &creds.username));
  STRATA_TRY(get("password", &creds.password));
  STRATA_TRY(get("identitytoken", &creds.identity_token));
  STRATA_TRY(get("auth", &auth));
  if (!auth.empty()) {
    std::optional<std::string> decoded =
        base::Base64Decode(base::TrimAscii(auth));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return bad("\"auth\" is not base64 of user:password");
    }
    creds.username = decoded->substr(0, colon);
    creds.password = decoded->substr(colon + 1);
  }
  if (creds.username.empty() && creds.password.empty() &&
      creds.identity_token.empty()) {
    return std::optional<Credentials>();
  }
  return std::optional<Credentials>(std::move(creds));
}

// ---- credential helpers ----

struct HelperOutput {
  int status = 0;  // as from waitpid
  std::string out;
  std::string err;
};

// The executable `name` in PATH, or "". Empty PATH entries (the current
// dir) are skipped: a config file must not run a file from wherever we are.
std::string FindInPath(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& dir : base::Split(path, ':')) {
    if (dir.empty()) continue;
    std::string candidate = StrCat(dir, "/", name);
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

// Writing to a helper that exited must fail with EPIPE, not kill us:
// SIGPIPE is blocked for this thread and a SIGPIPE we caused is consumed.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~ScopedSigpipeBlock() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

Status MakePipe(base::UniqueFd* read_end, base::UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return MakeError(Code::kIo, "pipe: ", base::ErrnoText(errno));
  }
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  return base::OkStatus();
}

// In the forked child: makes `fd` the descriptor `target`, open across exec.
void MoveFdForExec(int fd, int target) {
  if (fd == target) {
    ::fcntl(fd, F_SETFD, 0);
  } else {
    ::dup2(fd, target);
  }
}

// Reads what is available from `fd` into `out`; closes it at EOF or error.
void Drain(base::UniqueFd& fd, std::string& out) {
  char buf[4096];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    fd.reset();
    return;
  }
  size_t keep =
      std::min(static_cast<size_t>(n),
               kMaxHelperOutput - std::min(kMaxHelperOutput, out.size()));
  out.append(buf, keep);
}

// A started helper: its pid and our ends of its stdin, stdout and stderr.
struct Child {
  pid_t pid = -1;
  base::UniqueFd in, out, err;
  // Readable once the helper exits, even if something it started holds
  // its pipes open; invalid on kernels without pidfd_open.
  base::UniqueFd pidfd;
  bool exited = false;
  int status = 0;  // as from waitpid, once exited
};

// Starts `exe action` without a shell.
Result<Child> Spawn(const std::string& exe, const std::string& action) {
  base::UniqueFd in_r, out_w, err_w;
  Child child;
  STRATA_TRY(MakePipe(&in_r, &child.in));
  STRATA_TRY(MakePipe(&child.out, &out_w));
  STRATA_TRY(MakePipe(&child.err, &err_w));
  std::string arg0 = exe;
  std::string arg1 = action;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  child.pid = ::fork();
  if (child.pid < 0) {
    return MakeError(Code::kIo, "fork: ", base::ErrnoText(errno));
  }
  if (child.pid == 0) {
    MoveFdForExec(in_r.get(), 0);
    MoveFdForExec(out_w.get(), 1);
    MoveFdForExec(err_w.get(), 2);
    ::execv(argv[0], argv);
    ::_exit(127);
  }
  ::fcntl(child.in.get(), F_SETFL, O_NONBLOCK);
#ifdef SYS_pidfd_open
  child.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
#endif
  return child;
}

// Feeds `input` and collects output until the helper is done with its
// pipes and has exited; false when `deadline` came first.
bool Pump(Child& child, std::string_view input,
          std::chrono::steady_clock::time_point deadline, HelperOutput* out) {
  size_t written = 0;
  if (input.empty()) child.in.reset();
  while (child.out.valid() || child.err.valid() ||
         (child.pidfd.valid() && !child.exited)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[4];
    nfds_t n = 0;
    for (base::UniqueFd* fd :
         {&child.in, &child.out, &child.err, &child.pidfd}) {
      if (!fd->valid() || (fd == &child.pidfd && child.exited)) continue;
      short events = fd == &child.in ? POLLOUT : POLLIN;
      fds[n++] = {fd->get(), events, 0};
    }
    int ms = static_cast<int>(std::min<int64_t>(left.count() + 1, INT_MAX));
    if (::poll(fds, n, ms) < 0) {
      if (errno == EINTR) continue;
      return false;  // cannot wait any more: treat as a hang
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      int fd = fds[i].fd;
      if (fd == child.in.get()) {
        ssize_t w = ::write(fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
            written == input.size()) {
          child.in.reset();
        }
      } else if (fd == child.out.get()) {
        Drain(child.out, out->out);
      } else if (fd == child.err.get()) {
        Drain(child.err, out->err);
      } else if (::waitpid(child.pid, &child.status, WNOHANG) == child.pid) {
        child.exited = true;
      }
    }
  }
  return true;
}

// Runs `exe action` with `input` on stdin, collecting stdout and stderr;
// killed once `timeout` has passed.
Result<HelperOutput> RunHelper(const std::string& exe, const std::string& name,
                               const std::string& action,
                               std::string_view input,
                               std::chrono::milliseconds timeout) {
  STRATA_ASSIGN_OR_RETURN(Child child, Spawn(exe, action));
  HelperOutput result;
  bool done;
  {
    ScopedSigpipeBlock no_sigpipe;
    done =
        Pump(child, input, std::chrono::steady_clock::now() + timeout, &result);
  }
  // Only a helper not yet reaped may be killed: its pid is still ours.
  if (!done && !child.exited) ::kill(child.pid, SIGKILL);
  while (!child.exited) {
    if (::waitpid(child.pid, &child.status, 0) == child.pid) break;
    if (errno != EINTR) break;
  }
  if (!done) {
    return MakeError(Code::kAuth, kHelperPrefix, name, " ", action,
                     ": timed out after ", timeout.count(), " ms");
  }
  result.status = child.status;
  return result;
}

bool SaysNotFound(const HelperOutput& run) {
  for (const std::string* text : {&run.out, &run.err}) {
    if (base::AsciiLower(*text).find("credentials not found") !=
        std::string::npos) {
      return true;
    }
  }
  return false;
}

// "docker-credential-NAME ACTION: exit status N: first line of output",
// the output left out when it holds a secret or looks like JSON.
base::Error HelperFailure(const std::string& name, const std::string& action,
                          const HelperOutput& run,
                          const std::vector<std::string>& secrets) {
  std::string how = WIFEXITED(run.status)
                        ? StrCat("exit status ", WEXITSTATUS(run.status))
                        : StrCat("killed by signal ", WTERMSIG(run.status));
  if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 127) {
    how = "could not be run";
  }
  std::string_view text = base::TrimAscii(run.err);
  if (text.empty()) text = base::TrimAscii(run.out);
  text = text.substr(0, text.find('\n'));
  text = base::TrimAscii(text.substr(0, 200));
  bool leaks = StartsWith(text, "{");
  for (const std::string& secret : secrets) {
    if (!secret.empty() && text.find(secret) != std::string_view::npos) {
      leaks = true;
    }
  }
  if (leaks) text = {};
  return MakeError(Code::kAuth, kHelperPrefix, name, " ", action, ": ", how,
                   text.empty() ? "" : ": ", text);
}

// Runs helper `name`; Auth errors name it.
Result<HelperOutput> CallHelper(const std::string& name,
                                const std::string& action,
                                std::string_view input,
                                std::chrono::milliseconds timeout) {
  if (name.find('/') != std::string::npos) {
    return MakeError(Code::kAuth, "invalid credential helper name \"", name,
                     "\"");
  }
  std::string exe = FindInPath(kHelperPrefix + name);
  if (exe.empty()) {
    return MakeError(Code::kAuth, kHelperPrefix, name, ": not found in PATH");
  }
  return RunHelper(exe, name, action, input, timeout);
}

Result<std::optional<Credentials>> HelperGet(
    const std::string& name, const std::string& server_url,
    std::chrono::milliseconds timeout) {
  STRATA_ASSIGN_OR_RETURN(HelperOutput run,
                          CallHelper(name, "get", server_url, timeout));
  if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0) {
    if (SaysNotFound(run)) return std::optional<Credentials>();
    return HelperFailure(name, "get", run, {});
  }
  Json j = Json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  auto field = [&](const char* key) -> const Json* {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? &*it : nullptr;
  };
  const Json* user = field("Username");
  const Json* secret = field("Secret");
  if (user == nullptr || secret == nullptr) {
    return MakeError(Code::kAuth, kHelperPrefix, name,
                     " get: output is not {\"Username\",\"Secret\"} JSON");
  }
  Credentials creds;
  if (user->get<std::string>() == "<token>") {
    creds.identity_token = secret->get<std::string>();
  } else {
    creds.username = user->get<std::string>();
    creds.password = secret->get<std::string>();
  }
  if (creds.username.empty() && creds.password.empty() &&
      creds.identity_token.empty()) {
    return std::optional<Credentials>();
  }
  return std::optional<Credentials>(std::move(creds));
}

Status HelperStore(const std::string& name, const std::string& server_url,
                   const Credentials& creds,
                   std::chrono::milliseconds timeout) {
  bool token = !creds.identity_token.empty();
  Json msg = Json::object();
  msg["ServerURL"] = server_url;
  msg["Username"] = token ? std::string("<token>") : creds.username;
  msg["Secret"] = token ? creds.identity_token : creds.password;
  std::string input = msg.dump(-1, ' ', false, Json::error_handler_t::replace);
  STRATA_ASSIGN_OR_RETURN(HelperOutput run,
                          CallHelper(name, "store", input, timeout));
  if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) {
    return base::OkStatus();
  }
  return HelperFailure(
      name, "store", run,
      {creds.password, creds.identity_token, msg["Secret"].get<std::string>(),
       base::Base64Encode(StrCat(creds.username, ":", creds.password))});
}

// True when the helper erased something, false when it had nothing.
Result<bool> HelperErase(const std::string& name, const std::string& server_url,
                         std::chrono::milliseconds timeout) {
  STRATA_ASSIGN_OR_RETURN(HelperOutput run,
                          CallHelper(name, "erase", server_url, timeout));
  if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) return true;
  if (SaysNotFound(run)) return false;
  return HelperFailure(name, "erase", run, {});
}

// The helper configured for `host`: credHelpers, else credsStore.
std::optional<std::string> HelperFor(const Json& config,
                                     std::string_view host) {
  if (auto helpers = config.find("credHelpers"); helpers != config.end()) {
    for (const std::string& key : MatchingKeys(*helpers, host)) {
      const Json& name = (*helpers)[key];
      if (name.is_string() && !name.get<std::string>().empty()) {
        return name.get<std::string>();
      }
    }
  }
  if (auto store = config.find("credsStore"); store != config.end()) {
    if (!store->get<std::string>().empty()) return store->get<std::string>();
  }
  return std::nullopt;
}

Result<std::optional<Credentials>> FindInFile(
    const std::string& path, std::string_view host,
    std::chrono::milliseconds timeout) {
  STRATA_ASSIGN_OR_RETURN(std::optional<Json> config, ReadConfig(path));
  if (!config) return std::optional<Credentials>();
  if (std::optional<std::string> helper = HelperFor(*config, host)) {
    STRATA_ASSIGN_OR_RETURN(std::optional<Credentials> creds,
                            HelperGet(*helper, ServerUrl(host), timeout));
    if (creds) return creds;
  }
  auto auths = config->find("auths");
  if (auths == config->end()) return std::optional<Credentials>();
  for (const std::string& key : MatchingKeys(*auths, host)) {
    STRATA_ASSIGN_OR_RETURN(std::optional<Credentials> creds,
                            ParseAuthEntry((*auths)[key], path, key));
    if (creds) return creds;
  }
  return std::optional<Credentials>();
}

std::string HomeDir() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home) {
    return home;
  }
  std::vector<char> buf(16384);
  passwd pw;
  passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 &&
      found != nullptr && found->pw_dir != nullptr) {
    return found->pw_dir;
  }
  return "";
}

Result<std::string> ConfigPath(const CredentialSources& src) {
  if (src.docker_config_dir.empty()) {
    return MakeError(Code::kInvalidArgument,
                     "no docker config dir: set DOCKER_CONFIG or HOME");
  }
  return StrCat(src.docker_config_dir, "/config.json");
}

}  // namespace

CredentialSources CredentialSourcesFromEnv() {
  CredentialSources src;
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir) {
    src.docker_config_dir = dir;
  } else if (std::string home = HomeDir(); !home.empty()) {
    src.docker_config_dir = StrCat(home, "/.docker");
  }
  if (const char* file = std::getenv("REGISTRY_AUTH_FILE");
      file != nullptr && *file) {
    src.auth_file = file;
  }
  return src;
}

Result<Credentials> ParseCredsFlag(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return MakeError(Code::kInvalidArgument,
                     "--creds: expected USERNAME:PASSWORD");
  }
  if (colon == 0) {
    return MakeError(Code::kInvalidArgument, "--creds: the username is empty");
  }
  Credentials creds;
  creds.username = std::string(text.substr(0, colon));
  creds.password = std::string(text.substr(colon + 1));
  return creds;
}

std::string NormalizeRegistryHost(std::string_view key) {
  key = base::TrimAscii(key);
  std::string lower = base::AsciiLower(key);
  for (std::string_view scheme : {"https://", "http://"}) {
    if (StartsWith(lower, scheme)) {
      lower.erase(0, scheme.size());
      break;
    }
  }
  return lower.substr(0, lower.find('/'));
}

bool IsDockerHub(std::string_view host) {
  std::string h = NormalizeRegistryHost(host);
  return h == "docker.io" || h == "index.docker.io" ||
         h == "registry-1.docker.io";
}

Result<std::optional<Credentials>> FindCredentials(
    const std::string& registry_host, const CredentialSources& src) {
  STRATA_TRY(CheckHost(registry_host));
  if (src.explicit_credentials) return src.explicit_credentials;
  if (!src.auth_file.empty()) {
    STRATA_ASSIGN_OR_RETURN(
        std::optional<Credentials> creds,
        FindInFile(src.auth_file, registry_host, src.helper_timeout));
    if (creds) return creds;
  }
  if (src.docker_config_dir.empty()) return std::optional<Credentials>();
  STRATA_ASSIGN_OR_RETURN(std::string path, ConfigPath(src));
  return FindInFile(path, registry_host, src.helper_timeout);
}

Status Login(const std::string& registry_host, const Credentials& creds,
             const CredentialSources& src) {
  STRATA_TRY(CheckHost(registry_host));
  bool has_password = !creds.username.empty() && !creds.password.empty();
  if (!has_password && creds.identity_token.empty()) {
    return MakeError(Code::kInvalidArgument, "login to ", registry_host,
                     ": a username and password, or an identity token, "
                     "are required");
  }
  if (creds.username.find(':') != std::string::npos) {
    return MakeError(Code::kInvalidArgument, "login to ", registry_host,
                     ": the username must not contain ':'");
  }
  STRATA_ASSIGN_OR_RETURN(std::string path, ConfigPath(src));
  STRATA_ASSIGN_OR_RETURN(std::optional<Json> read, ReadConfig(path));
  Json config = read ? std::move(*read) : Json::object();
  std::string key = IsDockerHub(registry_host)
                        ? std::string(kDockerHubLegacyKey)
                        : NormalizeRegistryHost(registry_host);
  Json entry = Json::object();
  if (std::optional<std::string> helper = HelperFor(config, registry_host)) {
    STRATA_TRY(HelperStore(*helper, ServerUrl(registry_host), creds,
                           src.helper_timeout));
  } else {
    if (!creds.username.empty() || !creds.password.empty()) {
      entry["auth"] =
          base::Base64Encode(StrCat(creds.username, ":", creds.password));
    }
    if (!creds.identity_token.empty()) {
      entry["identitytoken"] = creds.identity_token;
    }
  }
  config["auths"][key] = std::move(entry);
  return WriteConfig(src.docker_config_dir, path, config);
}

Status Logout(const std::string& registry_host, const CredentialSources& src) {
  STRATA_TRY(CheckHost(registry_host));
  STRATA_ASSIGN_OR_RETURN(std::string path, ConfigPath(src));
  STRATA_ASSIGN_OR_RETURN(std::optional<Json> config, ReadConfig(path));
  bool removed = false;
  bool file_changed = false;
  if (config) {
    if (std::optional<std::string> helper = HelperFor(*config, registry_host)) {
      STRATA_ASSIGN_OR_RETURN(
          bool erased,
          HelperErase(*helper, ServerUrl(registry_host), src.helper_timeout));
      removed = erased;
    }
    auto auths = config->find("auths");
    if (auths != config->end()) {
      for (const std::string& key : MatchingKeys(*auths, registry_host)) {
        auths->erase(key);
        removed = file_changed = true;
      }
    }
  }
  if (!removed) {
    return MakeError(Code::kNotFound, "not logged in to ", registry_host);
  }
  if (!file_changed) return base::OkStatus();
  return WriteConfig(src.docker_config_dir, path, *config);
}

}  // namespace strata::registry
