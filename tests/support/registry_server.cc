#include "support/registry_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/file.h"
#include "base/str.h"
#include "support/run_command.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using base::Code;
using base::MakeError;
using namespace std::chrono_literals;

constexpr int kMaxPortAttempts = 5;
constexpr const char* kIssuer = "strata-test-issuer";

/// Runs a setup tool (openssl, htpasswd) with a time bound; its stdout.
base::Result<std::string> RunTool(const std::vector<std::string>& argv,
                                  const std::string& cwd) {
  std::vector<std::string> full = {"timeout", "-k", "5", "60"};
  full.insert(full.end(), argv.begin(), argv.end());
  CommandResult r = RunCommand(full, "", cwd);
  if (r.exit_code != 0) {
    return MakeError(Code::kInternal, argv[0], " failed (exit ", r.exit_code,
                     "): ", r.err);
  }
  return std::move(r.out);
}

/// A loopback port free right now (it may be taken before the registry
/// binds it: the caller retries on "address already in use").
base::Result<int> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return MakeError(Code::kIo, "socket: ", base::ErrnoText(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  int err = errno;
  ::close(fd);
  if (port <= 0) return MakeError(Code::kIo, "bind: ", base::ErrnoText(err));
  return port;
}

/// A YAML single-quoted scalar: only ' needs escaping (as '').
std::string YamlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/// GET `url` (trusting `ca` and presenting `client_cert` and its
/// `client_key` when given) with a short time bound: the HTTP status, or an
/// error when nothing answered.
base::Result<long> HttpGet(const std::string& url, const std::string& ca,
                           std::string* body,
                           const std::string& client_cert = "",
                           const std::string& client_key = "") {
  static const bool initialized =
      curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return MakeError(Code::kInternal, "curl_global_init");
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return MakeError(Code::kInternal, "curl_easy_init");
  std::string sink;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // loopback: never a proxy
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body ? body : &sink);
  if (!ca.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
  if (!client_cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, client_cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, client_key.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return MakeError(Code::kNetwork, url, ": ", curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

std::string Tail(const std::string& path, size_t max_bytes) {
  base::Result<std::string> text = base::ReadFile(path);
  if (!text) return "";
  if (text->size() <= max_bytes) return *text;
  return "..." + text->substr(text->size() - max_bytes);
}

}  // namespace

base::Result<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    const Options& options) {
  if (RunCommand({"sh", "-c", "command -v docker-registry"}).exit_code != 0) {
    return MakeError(Code::kNotFound,
                     "docker-registry is needed (scripts/install-deps.sh "
                     "--test installs it)");
  }
  std::unique_ptr<RegistryServer> server(new RegistryServer());
  server->mode_ = options.mode;
  std::error_code ec;
  fs::create_directories(server->data_dir(), ec);
  if (ec) return MakeError(Code::kIo, server->data_dir(), ": ", ec.message());
  if (options.mode == kBasicTls) {
    STRATA_TRY(server->MakeTlsFiles());
    if (options.require_client_cert) STRATA_TRY(server->MakeClientCert());
  }
  if (options.mode == kToken) {
    STRATA_TRY(server->MakeTokenCert());
    STRATA_TRY(server->StartTokenServer(options));
  }
  STRATA_TRY(server->StartRegistry(options));
  return server;
}

RegistryServer::~RegistryServer() {
  StopProcess(registry_);
  StopProcess(token_server_);
  // dir_ goes with the members, after both processes are gone.
}

void RegistryServer::StopProcess(std::unique_ptr<BackgroundProcess>& process) {
  if (!process) return;
  process->Signal(SIGTERM);
  (void)process->Wait(5s);  // whatever it says, Stop() finishes the job
  process->Stop();
  process.reset();
}

std::string RegistryServer::url() const {
  return (mode_ == kBasicTls ? "https://" : "http://") + host_;
}

std::string RegistryServer::data_dir() const { return dir() + "/data"; }

std::string RegistryServer::log(size_t max_bytes) const {
  std::string out = Tail(dir() + "/registry.log", max_bytes);
  if (mode_ == kToken) {
    out += "\n--- token server ---\n" + Tail(dir() + "/token.log", max_bytes);
    if (token_server_) out += token_server_->output();
  }
  return out;
}

base::Result<int64_t> RegistryServer::TokenRequestCount() const {
  return TokenStat("token_requests");
}

base::Result<int64_t> RegistryServer::TokenPostCount() const {
  return TokenStat("token_posts");
}

base::Result<int64_t> RegistryServer::TokenStat(const std::string& key) const {
  if (token_base_.empty()) {
    return MakeError(Code::kInvalidArgument, "not a kToken registry");
  }
  std::string body;
  STRATA_ASSIGN_OR_RETURN(long status,
                          HttpGet(token_base_ + "/stats", "", &body));
  nlohmann::json stats = nlohmann::json::parse(body, nullptr, false);
  if (status != 200 || !stats.is_object() || !stats.contains(key) ||
      !stats[key].is_number_integer()) {
    return MakeError(Code::kParse, "GET /stats: ", status, " ", body);
  }
  return stats[key].get<int64_t>();
}

base::Status RegistryServer::MakeTlsFiles() {
  const std::string& d = dir();
  const std::vector<std::string> ec_key = {
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  std::vector<std::string> ca = {"openssl", "req", "-x509"};
  ca.insert(ca.end(), ec_key.begin(), ec_key.end());
  ca.insert(ca.end(), {"-keyout", d + "/ca.key", "-out", d + "/ca.crt", "-days",
                       "2", "-subj", "/CN=strata-test-ca", "-addext",
                       "basicConstraints=critical,CA:TRUE", "-addext",
                       "keyUsage=critical,keyCertSign,cRLSign"});
  STRATA_TRY(RunTool(ca, d));
  std::vector<std::string> csr = {"openssl", "req", "-new"};
  csr.insert(csr.end(), ec_key.begin(), ec_key.end());
  csr.insert(csr.end(), {"-keyout", d + "/server.key", "-out",
                         d + "/server.csr", "-subj", "/CN=127.0.0.1"});
  STRATA_TRY(RunTool(csr, d));
  // Go checks the SAN only (no CN fallback): both names a client may use.
  dir_.WriteFile("server.ext",
                 "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                 "basicConstraints=critical,CA:FALSE\n"
                 "keyUsage=critical,digitalSignature\n"
                 "extendedKeyUsage=serverAuth\n");
  STRATA_TRY(RunTool(
      {"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA",
       d + "/ca.crt", "-CAkey", d + "/ca.key", "-set_serial", "2", "-days", "2",
       "-extfile", d + "/server.ext", "-out", d + "/server.crt"},
      d));
  STRATA_ASSIGN_OR_RETURN(std::string ca_pem, base::ReadFile(d + "/ca.crt"));
  dir_.WriteFile("certs/ca.crt", ca_pem);  // skopeo wants a dir of *.crt
  ca_cert_path_ = d + "/ca.crt";
  cert_dir_ = d + "/certs";
  STRATA_ASSIGN_OR_RETURN(
      std::string htpasswd,
      RunTool({"htpasswd", "-Bbn", username(), password()}, d));
  dir_.WriteFile("htpasswd", htpasswd);
  return {};
}

base::Status RegistryServer::MakeClientCert() {
  const std::string& d = dir();
  // A CA of its own, so the server's CA signing a client proves nothing.
  STRATA_TRY(RunTool(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
       d + "/client-ca.key", "-out", d + "/client-ca.crt", "-days", "2",
       "-subj", "/CN=strata-test-client-ca", "-addext",
       "basicConstraints=critical,CA:TRUE", "-addext",
       "keyUsage=critical,keyCertSign,cRLSign"},
      d));
  STRATA_TRY(RunTool(
      {"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
       d + "/client.key", "-out", d + "/client.csr", "-subj",
       "/CN=strata-test-client"},
      d));
  dir_.WriteFile("client.ext",
                 "basicConstraints=critical,CA:FALSE\n"
                 "keyUsage=critical,digitalSignature\n"
                 "extendedKeyUsage=clientAuth\n");
  STRATA_TRY(RunTool(
      {"openssl", "x509", "-req", "-in", d + "/client.csr", "-CA",
       d + "/client-ca.crt", "-CAkey", d + "/client-ca.key", "-set_serial",
       "3", "-days", "2", "-extfile", d + "/client.ext", "-out",
       d + "/client.cert"},
      d));
  STRATA_ASSIGN_OR_RETURN(std::string cert, base::ReadFile(d + "/client.cert"));
  STRATA_ASSIGN_OR_RETURN(std::string key, base::ReadFile(d + "/client.key"));
  dir_.WriteFile("certs/client.cert", cert);  // skopeo's --cert-dir layout
  dir_.WriteFile("certs/client.key", key);
  client_ca_path_ = d + "/client-ca.crt";
  client_cert_path_ = d + "/client.cert";
  client_key_path_ = d + "/client.key";
  return {};
}

base::Status RegistryServer::MakeTokenCert() {
  const std::string& d = dir();
  STRATA_TRY(
      RunTool({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
               "-keyout", d + "/token.key", "-out", d + "/token.crt", "-days",
               "2", "-subj", "/CN=strata-test-token-issuer", "-addext",
               "basicConstraints=critical,CA:TRUE", "-addext",
               "keyUsage=critical,digitalSignature,keyCertSign"},
              d));
  return {};
}

base::Status RegistryServer::StartTokenServer(const Options& options) {
  std::string script = TestdataPath("../tests/support/token_server.py");
  std::string lifetime = std::to_string(options.max_lifetime.count());
  std::vector<std::string> argv = {"timeout", "-k", "5",   lifetime,
                                   "python3", "-u", script};
  argv.insert(argv.end(),
              {"--key", dir() + "/token.key", "--cert", dir() + "/token.crt",
               "--log", dir() + "/token.log"});
  argv.insert(argv.end(), {"--service", token_service(), "--issuer", kIssuer,
                           "--username", username(), "--password", password()});
  argv.insert(argv.end(),
              {"--expires-in", std::to_string(options.token_expires_in)});
  if (options.anonymous_pull) argv.push_back("--anonymous-pull");
  if (!options.refresh_token.empty()) {
    argv.insert(argv.end(), {"--refresh-token", options.refresh_token});
  }
  token_server_ = std::make_unique<BackgroundProcess>(argv, dir());
  if (!token_server_->started()) {
    return MakeError(Code::kInternal, "cannot start token_server.py");
  }
  const std::string prefix = "listening on ";
  std::optional<std::string> line =
      token_server_->WaitForLine(prefix, options.ready_timeout);
  if (!line) {
    return MakeError(Code::kInternal, "token_server.py did not start: ",
                     token_server_->output());
  }
  token_base_ = "http://" + line->substr(line->find(prefix) + prefix.size());
  token_realm_ = token_base_ + "/token";
  return {};
}

std::string RegistryServer::Config(int port) const {
  std::string c = "version: 0.1\nlog:\n  level: info\n  formatter: text\n";
  c += "storage:\n  filesystem:\n    rootdirectory: " + YamlQuote(data_dir());
  c += "\n  delete:\n    enabled: true\n";
  c += "  maintenance:\n    uploadpurging:\n      enabled: false\n";
  c += base::StrCat("http:\n  addr: 127.0.0.1:", port, "\n");
  c += "  secret: strata-test-http-secret\n";
  if (mode_ == kBasicTls) {
    c += "  tls:\n    certificate: " + YamlQuote(dir() + "/server.crt");
    c += "\n    key: " + YamlQuote(dir() + "/server.key") + "\n";
    if (!client_ca_path_.empty()) {
      c += "    clientcas:\n      - " + YamlQuote(client_ca_path_) + "\n";
    }
    c += "auth:\n  htpasswd:\n    realm: strata-test\n";
    c += "    path: " + YamlQuote(dir() + "/htpasswd") + "\n";
  } else if (mode_ == kToken) {
    c += "auth:\n  token:\n    realm: " + YamlQuote(token_realm_) + "\n";
    c += base::StrCat("    service: ", token_service(),
                      "\n    issuer: ", kIssuer, "\n");
    c += "    rootcertbundle: " + YamlQuote(dir() + "/token.crt") + "\n";
  }
  return c;
}

base::Status RegistryServer::StartRegistry(const Options& options) {
  const std::string config = dir() + "/config.yml";
  const std::string log_path = dir() + "/registry.log";
  for (int attempt = 1; attempt <= kMaxPortAttempts; ++attempt) {
    int port = options.port;
    if (port == 0) {
      STRATA_ASSIGN_OR_RETURN(port, FreePort());
    }
    host_ = base::StrCat("127.0.0.1:", port);
    dir_.WriteFile("config.yml", Config(port));
    // Its log goes to a file: nobody drains a pipe while a test runs, and a
    // full pipe would block the registry.
    registry_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{
            "sh", "-c",
            "exec timeout -k 5 \"$1\" docker-registry serve \"$2\" "
            ">\"$3\" 2>&1",
            "sh", std::to_string(options.max_lifetime.count()), config,
            log_path},
        dir());
    if (!registry_->started()) {
      return MakeError(Code::kInternal, "cannot start docker-registry");
    }
    auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
    std::string last_error;
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      base::Result<long> status =
          HttpGet(url() + "/v2/", ca_cert_path_, nullptr, client_cert_path_,
                  client_key_path_);
      if (status && (*status == 200 || *status == 401)) return {};
      last_error = status ? base::StrCat("GET /v2/: ", *status)
                          : status.error().ToString();
      if (registry_->Wait(0ms).has_value()) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(20ms);  // a poll interval, not a timing
    }
    std::string log_text = Tail(log_path, 4096);
    StopProcess(registry_);
    if (exited && options.port == 0 &&
        log_text.find("address already in use") != std::string::npos) {
      continue;  // lost the port to someone else: another one
    }
    return MakeError(Code::kInternal, "docker-registry on ", host_,
                     exited ? " exited" : " did not answer in time", " (",
                     last_error, "):\n", log_text);
  }
  return MakeError(Code::kInternal, "docker-registry: no free port after ",
                   kMaxPortAttempts, " attempts");
}

}  // namespace strata::testing
