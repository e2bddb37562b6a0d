// The registry harness against a real client: skopeo pushes a small OCI
// layout (made by umoci) into the real docker-registry in each mode and
// reads it back, wrong credentials and a missing CA fail, and the harness
// leaves no process and no temp dir behind.
#include <dirent.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "support/registry_server.h"
#include "support/run_command.h"
#include "support/test_support.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

class RegistryHarnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"docker-registry", "skopeo", "umoci", "openssl",
                             "htpasswd", "python3"}) {
      ASSERT_EQ(
          RunCommand({"sh", "-c", std::string("command -v ") + tool}).exit_code,
          0)
          << tool << " is needed (scripts/install-deps.sh --test installs it)";
    }
    // A one-layer image: a config, a layer with /hello.txt, a manifest.
    std::string layout = path("layout");
    dir_.WriteFile("hello.txt", "hello from the registry harness\n");
    for (std::vector<std::string> argv :
         {std::vector<std::string>{"umoci", "init", "--layout", layout},
          {"umoci", "new", "--image", layout + ":small"},
          {"umoci", "insert", "--rootless", "--image", layout + ":small",
           path("hello.txt"), "/hello.txt"}}) {
      CommandResult r = RunCommand(argv);
      ASSERT_EQ(r.exit_code, 0) << argv[1] << ": " << r.err;
    }
    auto index = nlohmann::json::parse(*base::ReadFile(layout + "/index.json"),
                                       nullptr, false);
    ASSERT_TRUE(index.is_object());
    ASSERT_EQ(index["manifests"].size(), 1u);
    manifest_digest_ = index["manifests"][0]["digest"].get<std::string>();
  }

  std::string path(const std::string& rel) const {
    return dir_.path() + "/" + rel;
  }
  std::string source() const { return "oci:" + path("layout") + ":small"; }

  /// skopeo with a private, empty auth file (no stored credentials leak
  /// in), bounded in time.
  CommandResult Skopeo(const std::string& command,
                       std::vector<std::string> args) {
    std::vector<std::string> argv = {"timeout", "-k", "5", "60", "skopeo"};
    argv.insert(argv.end(), {"--insecure-policy", command, "--authfile",
                             path("auth.json")});
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  static std::string Creds(const std::string& password) {
    return std::string(RegistryServer::username()) + ":" + password;
  }

  /// The digest skopeo inspect reports for `ref`, or "" with the error.
  std::string InspectDigest(std::vector<std::string> args, std::string* err) {
    CommandResult r = Skopeo("inspect", std::move(args));
    *err = r.err;
    if (r.exit_code != 0) return "";
    auto out = nlohmann::json::parse(r.out, nullptr, false);
    if (!out.is_object() || !out.contains("Digest")) return "";
    return out["Digest"].get<std::string>();
  }

  static std::unique_ptr<RegistryServer> MustStart(
      const RegistryServer::Options& options) {
    base::Result<std::unique_ptr<RegistryServer>> server =
        RegistryServer::Start(options);
    EXPECT_TRUE(server.has_value()) << server.error().ToString();
    return server ? std::move(server).value() : nullptr;
  }

  ScopedTempDir dir_;
  std::string manifest_digest_;
};

/// Pids of the live processes whose command line mentions `needle`.
std::vector<int> ProcessesMentioning(const std::string& needle) {
  std::vector<int> pids;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return pids;
  while (dirent* e = ::readdir(proc.get())) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    base::Result<std::string> cmdline =
        base::ReadFile(std::string("/proc/") + e->d_name + "/cmdline");
    if (cmdline && cmdline->find(needle) != std::string::npos) {
      pids.push_back(pid);
    }
  }
  return pids;
}

TEST_F(RegistryHarnessTest, PlainHttpTakesAPushAndServesItBack) {
  std::unique_ptr<RegistryServer> server = MustStart({});
  ASSERT_TRUE(server);
  EXPECT_EQ(server->url(), "http://" + server->host());
  EXPECT_TRUE(server->ca_cert_path().empty());
  std::string ref = "docker://" + server->host() + "/strata/small:v1";

  CommandResult copy =
      Skopeo("copy", {"--dest-tls-verify=false", source(), ref});
  ASSERT_EQ(copy.exit_code, 0) << copy.err << "\n" << server->log(4096);
  std::string err;
  EXPECT_EQ(InspectDigest({"--tls-verify=false", ref}, &err), manifest_digest_)
      << err;
  // What the registry stored, where the harness says it keeps it.
  EXPECT_TRUE(fs::is_directory(server->data_dir() +
                               "/docker/registry/v2/repositories/strata/"
                               "small/_manifests"));
}

TEST_F(RegistryHarnessTest, BasicTlsNeedsTheCaAndTheRightCredentials) {
  std::unique_ptr<RegistryServer> server =
      MustStart({.mode = RegistryServer::kBasicTls});
  ASSERT_TRUE(server);
  EXPECT_EQ(server->url(), "https://" + server->host());
  ASSERT_TRUE(fs::exists(server->cert_dir() + "/ca.crt"));
  std::string ref = "docker://" + server->host() + "/strata/small:v1";
  std::string good = Creds(RegistryServer::password());

  CommandResult no_ca = Skopeo("copy", {"--dest-creds", good, source(), ref});
  EXPECT_NE(no_ca.exit_code, 0);
  EXPECT_NE(no_ca.err.find("certificate signed by unknown authority"),
            std::string::npos)
      << no_ca.err;

  CommandResult wrong =
      Skopeo("copy", {"--dest-cert-dir", server->cert_dir(), "--dest-creds",
                      Creds("not-the-password"), source(), ref});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("unauthorized"), std::string::npos) << wrong.err;

  CommandResult copy = Skopeo("copy", {"--dest-cert-dir", server->cert_dir(),
                                       "--dest-creds", good, source(), ref});
  ASSERT_EQ(copy.exit_code, 0) << copy.err << "\n" << server->log(4096);
  std::string err;
  EXPECT_EQ(InspectDigest(
                {"--cert-dir", server->cert_dir(), "--creds", good, ref}, &err),
            manifest_digest_)
      << err;
  EXPECT_EQ(InspectDigest({"--cert-dir", server->cert_dir(), ref}, &err), "")
      << "anonymous pull must be refused";
  EXPECT_NE(err.find("unauthorized"), std::string::npos) << err;
  // localhost is in the cert too.
  std::string by_name = "docker://localhost:" +
                        server->host().substr(server->host().find(':') + 1) +
                        "/strata/small:v1";
  EXPECT_EQ(
      InspectDigest(
          {"--cert-dir", server->cert_dir(), "--creds", good, by_name}, &err),
      manifest_digest_)
      << err;
}

TEST_F(RegistryHarnessTest, TokenModeIssuesBearerTokensToKnownUsers) {
  std::unique_ptr<RegistryServer> server =
      MustStart({.mode = RegistryServer::kToken});
  ASSERT_TRUE(server);
  EXPECT_EQ(server->token_realm().rfind("http://127.0.0.1:", 0), 0u)
      << server->token_realm();
  base::Result<int64_t> before = server->TokenRequestCount();
  ASSERT_TRUE(before) << before.error().ToString();
  EXPECT_EQ(*before, 0);
  std::string ref = "docker://" + server->host() + "/strata/small:v1";
  std::string good = Creds(RegistryServer::password());

  CommandResult wrong =
      Skopeo("copy", {"--dest-tls-verify=false", "--dest-creds",
                      Creds("not-the-password"), source(), ref});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("unauthorized"), std::string::npos) << wrong.err;

  CommandResult copy = Skopeo(
      "copy", {"--dest-tls-verify=false", "--dest-creds", good, source(), ref});
  ASSERT_EQ(copy.exit_code, 0) << copy.err << "\n" << server->log(4096);
  base::Result<int64_t> after = server->TokenRequestCount();
  ASSERT_TRUE(after) << after.error().ToString();
  EXPECT_GT(*after, *before) << "the registry sent skopeo to the issuer";

  std::string err;
  EXPECT_EQ(InspectDigest({"--tls-verify=false", "--creds", good, ref}, &err),
            manifest_digest_)
      << err << "\n"
      << server->log(4096);
  EXPECT_EQ(InspectDigest({"--tls-verify=false", ref}, &err), "")
      << "no anonymous pull unless asked for";
}

TEST_F(RegistryHarnessTest, TokenModeCanGrantAnonymousPullOnly) {
  std::unique_ptr<RegistryServer> server =
      MustStart({.mode = RegistryServer::kToken, .anonymous_pull = true});
  ASSERT_TRUE(server);
  std::string ref = "docker://" + server->host() + "/strata/small:v1";

  CommandResult anonymous_push =
      Skopeo("copy", {"--dest-tls-verify=false", source(), ref});
  EXPECT_NE(anonymous_push.exit_code, 0) << "anonymous gets no push";

  CommandResult copy =
      Skopeo("copy", {"--dest-tls-verify=false", "--dest-creds",
                      Creds(RegistryServer::password()), source(), ref});
  ASSERT_EQ(copy.exit_code, 0) << copy.err << "\n" << server->log(4096);
  std::string err;
  EXPECT_EQ(InspectDigest({"--tls-verify=false", ref}, &err), manifest_digest_)
      << err << "\n"
      << server->log(4096);
}

TEST_F(RegistryHarnessTest, DestructorLeavesNoProcessAndNoTempDir) {
  for (RegistryServer::Mode mode :
       {RegistryServer::kPlain, RegistryServer::kBasicTls,
        RegistryServer::kToken}) {
    SCOPED_TRACE(mode);
    std::unique_ptr<RegistryServer> server = MustStart({.mode = mode});
    ASSERT_TRUE(server);
    std::string dir = server->dir();
    ASSERT_TRUE(fs::is_directory(dir));
    // timeout + docker-registry, and in kToken timeout + python3 as well.
    std::vector<int> pids = ProcessesMentioning(dir);
    EXPECT_GE(pids.size(), mode == RegistryServer::kToken ? 4u : 2u);
    server.reset();
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_TRUE(ProcessesMentioning(dir).empty())
        << "a process outlived the harness";
  }
}

}  // namespace
}  // namespace strata::testing
