// The strata binary's registry authentication beyond passwords, against
// the real Debian docker-registry on loopback: an identity token from
// config.json traded for access tokens by the OAuth2 POST (as docker does),
// and client certificates from a certs.d dir for a registry that requires
// them (mutual TLS). Failures are one line that names no secret.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "build_fixture.h"
#include "support/registry_server.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kIdentityToken[] = "strata-test-identity-token-8a1f";
constexpr char kWrongToken[] = "strata-wrong-identity-token-77c3";
// What docker-registry (Go's crypto/tls) logs for each refused handshake.
constexpr char kNoClientCert[] = "client didn't provide a certificate";

class RegistryAuthTest : public BuildTest {
 protected:
  void SetUp() override {
    CommandResult base = RunCommand(
        {"bash", TestdataPath("../scripts/make-busybox-base.sh"),
         STRATA_BINARY, path("base"), "--root", path("base-root"), "-q"});
    ASSERT_EQ(base.exit_code, 0) << base.err;
    env_.push_back("DOCKER_CONFIG=" + path("docker-config"));
    env_.push_back("HOME=" + path("home"));
  }

  void StartRegistry(const RegistryServer::Options& options) {
    base::Result<std::unique_ptr<RegistryServer>> r =
        RegistryServer::Start(options);
    ASSERT_TRUE(r) << r.error().ToString();
    registry_ = std::move(r).value();
  }

  CommandResult Strata(std::vector<std::string> args) {
    return RunStrata(args, "", dir_.path(), env_);
  }

  CommandResult Skopeo(std::vector<std::string> args) {
    std::vector<std::string> full = {"timeout", "60", "skopeo",
                                     "--insecure-policy"};
    full.insert(full.end(), args.begin(), args.end());
    return RunCommand(full);
  }

  static std::string Creds() {
    return std::string(RegistryServer::username()) + ":" +
           RegistryServer::password();
  }

  /// Pushes the busybox base as `repo`:latest with skopeo (`extra` says
  /// how to reach the registry).
  void SeedBusybox(const std::string& repo, std::vector<std::string> extra) {
    std::vector<std::string> args = {"copy", "--dest-creds", Creds()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(),
                {"oci:" + path("base/busybox-oci") + ":latest",
                 "docker://" + registry_->host() + "/" + repo + ":latest"});
    CommandResult r = Skopeo(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  /// The digest of the manifest skopeo reads for `ref`.
  std::string SkopeoDigest(const std::string& ref,
                           std::vector<std::string> extra) {
    std::vector<std::string> args = {"inspect", "--raw", "--creds", Creds()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("docker://" + ref);
    CommandResult r = Skopeo(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return base::Digest::Of(r.out).ToString();
  }

  /// config.json as `docker login` leaves it after a registry gave it an
  /// identity token: the user name, no password, the token.
  void LoginWithIdentityToken(const std::string& token) {
    std::string auth =
        base::Base64Encode(std::string(RegistryServer::username()) + ":");
    nlohmann::json config = {
        {"auths",
         {{registry_->host(), {{"auth", auth}, {"identitytoken", token}}}}}};
    dir_.WriteFile("docker-config/config.json", config.dump());
  }

  int64_t TokenGets() {
    base::Result<int64_t> n = registry_->TokenRequestCount();
    EXPECT_TRUE(n) << n.error().ToString();
    return n ? *n : -1;
  }

  int64_t TokenPosts() {
    base::Result<int64_t> n = registry_->TokenPostCount();
    EXPECT_TRUE(n) << n.error().ToString();
    return n ? *n : -1;
  }

  std::unique_ptr<RegistryServer> registry_;
};

/// The lines of `text` that are not empty.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// config.json holds an identity token and no password: pull and push get
// their access tokens by POSTing it as a refresh_token grant, never by GET;
// a wrong one is refused in one line that does not show it.
TEST_F(RegistryAuthTest, IdentityTokenFromDockerConfig) {
  StartRegistry({.mode = RegistryServer::kToken,
                 .refresh_token = kIdentityToken,
                 .max_lifetime = std::chrono::seconds(600)});
  std::string reg = registry_->host();
  SeedBusybox("busybox", {"--dest-tls-verify=false"});
  LoginWithIdentityToken(kIdentityToken);
  int64_t gets = TokenGets();
  int64_t posts = TokenPosts();

  CommandResult pull = Strata({"pull", "--root", root(),
                               reg + "/busybox:latest"});
  ASSERT_EQ(pull.exit_code, 0) << pull.err << registry_->log(4096);
  int64_t after_pull = TokenPosts();
  EXPECT_GE(after_pull, posts + 1) << "no refresh_token grant was POSTed";
  CommandResult push = Strata({"push", "--root", root(),
                               reg + "/busybox:latest", reg + "/copy:v1"});
  ASSERT_EQ(push.exit_code, 0) << push.err << registry_->log(4096);
  EXPECT_GE(TokenPosts(), after_pull + 1) << "push scope: another grant";
  EXPECT_EQ(TokenGets(), gets) << "a token was fetched by GET";
  EXPECT_EQ(SkopeoDigest(reg + "/copy:v1", {"--tls-verify=false"}),
            SkopeoDigest(reg + "/busybox:latest", {"--tls-verify=false"}));

  LoginWithIdentityToken(kWrongToken);
  CommandResult denied = Strata({"pull", "--root", path("root2"),
                                 reg + "/busybox:latest"});
  EXPECT_EQ(denied.exit_code, 1);
  std::vector<std::string> lines = Lines(denied.err);
  ASSERT_EQ(lines.size(), 1u) << denied.err;
  EXPECT_NE(lines[0].find("token request denied"), std::string::npos)
      << denied.err;
  for (const CommandResult* r : {&pull, &push, &denied}) {
    for (const char* secret : {kIdentityToken, kWrongToken}) {
      EXPECT_EQ(r->err.find(secret), std::string::npos) << r->err;
      EXPECT_EQ(r->out.find(secret), std::string::npos) << r->out;
    }
  }
}

// A registry that requires a client certificate (http.tls.clientcas):
// --cert-dir DIR/HOST:PORT/ with ca.crt, client.cert and client.key lets
// pull and push through; with ca.crt alone the TLS handshake fails, in
// one line.
TEST_F(RegistryAuthTest, ClientCertificateFromCertsDir) {
  StartRegistry({.mode = RegistryServer::kBasicTls,
                 .require_client_cert = true,
                 .max_lifetime = std::chrono::seconds(600)});
  std::string reg = registry_->host();
  std::vector<std::string> skopeo_tls = {"--cert-dir", registry_->cert_dir()};
  SeedBusybox("busybox", {"--dest-cert-dir", registry_->cert_dir()});

  std::string certs = path("certs.d");
  fs::create_directories(certs + "/" + reg);
  fs::copy_file(registry_->ca_cert_path(), certs + "/" + reg + "/ca.crt");
  fs::copy_file(registry_->client_cert_path(),
                certs + "/" + reg + "/client.cert");
  fs::copy_file(registry_->client_key_path(),
                certs + "/" + reg + "/client.key");
  CommandResult pull = Strata({"pull", "--root", root(), "--cert-dir", certs,
                               "--creds", Creds(), reg + "/busybox:latest"});
  ASSERT_EQ(pull.exit_code, 0) << pull.err << registry_->log(4096);
  CommandResult push =
      Strata({"push", "--root", root(), "--cert-dir", certs, "--creds",
              Creds(), reg + "/busybox:latest", reg + "/copy:v1"});
  ASSERT_EQ(push.exit_code, 0) << push.err << registry_->log(4096);
  EXPECT_EQ(SkopeoDigest(reg + "/copy:v1", skopeo_tls),
            SkopeoDigest(reg + "/busybox:latest", skopeo_tls));

  // Without a client certificate: refused at once, saying what is
  // missing, whether the CA is given (verified TLS) or not (a loopback
  // registry: TLS without verification).
  std::string ca_only = path("ca-only.d");
  fs::create_directories(ca_only + "/" + reg);
  fs::copy_file(registry_->ca_cert_path(), ca_only + "/" + reg + "/ca.crt");
  for (const std::string& cert_dir : {ca_only, path("empty.d")}) {
    int refusals = Count(registry_->log(), kNoClientCert);
    CommandResult refused =
        Strata({"pull", "--root", path("root2"), "--cert-dir", cert_dir,
                "--creds", Creds(), reg + "/busybox:latest"});
    EXPECT_EQ(refused.exit_code, 1) << cert_dir;
    std::vector<std::string> lines = Lines(refused.err);
    ASSERT_EQ(lines.size(), 1u) << refused.err;
    EXPECT_NE(lines[0].find(reg), std::string::npos) << refused.err;
    EXPECT_NE(lines[0].find("requires a TLS client certificate"),
              std::string::npos)
        << refused.err;
    // Not retried as a network failure is (5 attempts): a few handshakes
    // (HEAD, then GET; a scheme probe without a CA), each refused once.
    EXPECT_LT(Count(registry_->log(), kNoClientCert) - refusals, 5)
        << registry_->log(2048);
  }
}

}  // namespace
}  // namespace strata::testing
