#include "registry/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/file.h"
#include "support/test_support.h"

namespace strata::registry {
namespace {

using Json = nlohmann::ordered_json;

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// The test helper: keeps one credential in data/stored.json and records
// the server URLs it is given.
constexpr char kStoreHelper[] = R"(
case "$1" in
  store) cat > "$D/stored.json" ;;
  get)
    cat > "$D/get-url"
    if [ -f "$D/stored.json" ]; then cat "$D/stored.json"; exit 0; fi
    echo "credentials not found in native keychain"; exit 1 ;;
  erase)
    cat > "$D/erase-url"
    if [ -f "$D/stored.json" ]; then rm "$D/stored.json"; exit 0; fi
    echo "credentials not found in native keychain"; exit 1 ;;
  *) echo "unknown action $1" >&2; exit 2 ;;
esac
)";

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialsTest()
      : path_env_("PATH", (tmp_.path() + "/bin:" + OldPath()).c_str()) {
    src_.docker_config_dir = tmp_.path() + "/docker";
    ::mkdir((tmp_.path() + "/data").c_str(), 0700);
    WriteHelper("strata-test", kStoreHelper);
    WriteHelper("strata-fail",
                "cat >/dev/null; echo 'keychain is locked' >&2; exit 3\n");
    // Fails and echoes what it was given (a secret, for store).
    WriteHelper("strata-leak",
                "input=$(cat)\n"
                "if [ \"$1\" = get ]; then\n"
                "  echo '{\"Username\":\"u\",\"Secret\":\"leaked-get-42\"}'\n"
                "  exit 1\n"
                "fi\n"
                "echo \"rejected: $input\" >&2; exit 1\n");
    WriteHelper("strata-slow", "exec sleep 30\n");
  }

  static std::string OldPath() {
    const char* path = std::getenv("PATH");
    return path != nullptr ? path : "/usr/bin:/bin";
  }

  void WriteHelper(const std::string& name, const std::string& body) {
    std::string rel = "bin/docker-credential-" + name;
    tmp_.WriteFile(rel, "#!/bin/sh\nD='" + data() + "'\n" + body);
    ASSERT_EQ(::chmod((tmp_.path() + "/" + rel).c_str(), 0755), 0);
  }

  void WriteConfig(const std::string& text) {
    tmp_.WriteFile("docker/config.json", text);
  }
  std::string config_path() const {
    return src_.docker_config_dir + "/config.json";
  }
  Json ReadConfig() const {
    return Json::parse(testing::ReadTestFile(config_path()));
  }
  std::string data() const { return tmp_.path() + "/data"; }
  std::string ReadData(const std::string& name) const {
    Result<std::string> text = base::ReadFile(data() + "/" + name);
    return text ? *text : "<missing>";
  }

  // Credentials found for `host`; fails the test on an error.
  std::optional<Credentials> Find(const std::string& host) {
    Result<std::optional<Credentials>> found = FindCredentials(host, src_);
    EXPECT_TRUE(found.has_value()) << found.error().ToString();
    return found ? *found : std::nullopt;
  }
  // The error text of a lookup that must fail.
  std::string FindError(const std::string& host) {
    Result<std::optional<Credentials>> found = FindCredentials(host, src_);
    EXPECT_FALSE(found.has_value());
    return found ? "" : found.error().ToString();
  }

  template <typename T>
  using Result = base::Result<T>;

  testing::ScopedTempDir tmp_;
  ScopedEnv path_env_;
  CredentialSources src_;
};

// "user:pass" as docker writes it.
constexpr char kUserPassAuth[] = "dXNlcjpwYXNz";

TEST_F(CredentialsTest, NothingConfiguredIsAnonymous) {
  EXPECT_FALSE(Find("127.0.0.1:5000"));
  WriteConfig(R"({"auths": {"other:5000": {"auth": "dXNlcjpwYXNz"}}})");
  EXPECT_FALSE(Find("127.0.0.1:5000"));
}

TEST_F(CredentialsTest, AuthFieldIsBase64UserColonPassword) {
  WriteConfig(R"({"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpwYXNz"}}})");
  std::optional<Credentials> creds = Find("127.0.0.1:5000");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->username, "user");
  EXPECT_EQ(creds->password, "pass");
  EXPECT_EQ(creds->identity_token, "");
}

TEST_F(CredentialsTest, PasswordMayContainColons) {
  // base64("bob:pa:ss:") and the same without padding.
  WriteConfig(R"({"auths": {"a.example": {"auth": "Ym9iOnBhOnNzOg=="},
                            "b.example": {"auth": "Ym9iOnBhOnNzOg"}}})");
  for (const char* host : {"a.example", "b.example"}) {
    std::optional<Credentials> creds = Find(host);
    ASSERT_TRUE(creds) << host;
    EXPECT_EQ(creds->username, "bob");
    EXPECT_EQ(creds->password, "pa:ss:");
  }
}

TEST_F(CredentialsTest, SeparateUsernameAndPassword) {
  WriteConfig(
      R"({"auths": {"ghcr.io": {"username": "me", "password": "p:w"}}})");
  std::optional<Credentials> creds = Find("ghcr.io");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->username, "me");
  EXPECT_EQ(creds->password, "p:w");
}

TEST_F(CredentialsTest, IdentityToken) {
  WriteConfig(R"({"auths": {"myacr.example": {
      "auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==",
      "identitytoken": "refresh-token-xyz"}}})");
  std::optional<Credentials> creds = Find("myacr.example");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->username, "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(creds->password, "");
  EXPECT_EQ(creds->identity_token, "refresh-token-xyz");
}

TEST_F(CredentialsTest, DockerHubUsesTheLegacyKey) {
  WriteConfig(R"({"auths": {"https://index.docker.io/v1/":
                            {"auth": "dXNlcjpwYXNz"}}})");
  for (const char* host :
       {"docker.io", "index.docker.io", "registry-1.docker.io"}) {
    std::optional<Credentials> creds = Find(host);
    ASSERT_TRUE(creds) << host;
    EXPECT_EQ(creds->username, "user");
  }
  EXPECT_FALSE(Find("quay.io"));
}

TEST_F(CredentialsTest, DockerHubUnderPodmansKey) {
  WriteConfig(R"({"auths": {"docker.io": {"auth": "dXNlcjpwYXNz"}}})");
  EXPECT_TRUE(Find("registry-1.docker.io"));
  EXPECT_TRUE(Find("index.docker.io"));
}

TEST_F(CredentialsTest, KeysWithSchemeOrPathAreNormalized) {
  WriteConfig(R"({"auths": {
      "https://myreg:5000/v1/": {"username": "a", "password": "1"},
      "http://plain.example": {"username": "b", "password": "2"},
      "quay.io/someorg": {"username": "c", "password": "3"},
      "UPPER.example:443": {"username": "d", "password": "4"}}})");
  ASSERT_TRUE(Find("myreg:5000"));
  EXPECT_EQ(Find("myreg:5000")->username, "a");
  ASSERT_TRUE(Find("plain.example"));
  EXPECT_EQ(Find("plain.example")->username, "b");
  ASSERT_TRUE(Find("quay.io"));
  EXPECT_EQ(Find("quay.io")->username, "c");
  ASSERT_TRUE(Find("upper.example:443"));
  EXPECT_EQ(Find("upper.example:443")->username, "d");
  // A host given with a scheme matches too; other ports do not.
  ASSERT_TRUE(Find("https://myreg:5000"));
  EXPECT_FALSE(Find("myreg:5001"));
  EXPECT_FALSE(Find("myreg"));
}

TEST_F(CredentialsTest, ExactKeyWinsOverNormalizedOne) {
  WriteConfig(R"({"auths": {
      "https://myreg:5000/v1/": {"username": "old", "password": "1"},
      "myreg:5000": {"username": "new", "password": "2"}}})");
  ASSERT_TRUE(Find("myreg:5000"));
  EXPECT_EQ(Find("myreg:5000")->username, "new");
}

TEST_F(CredentialsTest, NormalizeRegistryHost) {
  EXPECT_EQ(NormalizeRegistryHost("https://index.docker.io/v1/"),
            "index.docker.io");
  EXPECT_EQ(NormalizeRegistryHost("http://Host:5000"), "host:5000");
  EXPECT_EQ(NormalizeRegistryHost("127.0.0.1:5000"), "127.0.0.1:5000");
  EXPECT_EQ(NormalizeRegistryHost("quay.io/org/repo"), "quay.io");
  EXPECT_TRUE(IsDockerHub("https://index.docker.io/v1/"));
  EXPECT_TRUE(IsDockerHub("registry-1.docker.io"));
  EXPECT_FALSE(IsDockerHub("docker.io.example"));
}

TEST_F(CredentialsTest, RegistryAuthFileComesFirst) {
  WriteConfig(R"({"auths": {"r.example": {"auth": "dXNlcjpwYXNz"}}})");
  tmp_.WriteFile("auth.json",
                 R"({"auths": {"r.example": {"auth": "cG9kOm1hbg=="}}})");
  src_.auth_file = tmp_.path() + "/auth.json";
  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->username, "pod");
  EXPECT_EQ(Find("r.example")->password, "man");
  // Hosts it does not name, or names with an empty entry, fall through.
  tmp_.WriteFile("auth.json", R"({"auths": {"r.example": {}}})");
  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->username, "user");
  // A missing auth file is no error.
  src_.auth_file = tmp_.path() + "/missing.json";
  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->username, "user");
}

TEST_F(CredentialsTest, ExplicitCredentialsOverrideFiles) {
  WriteConfig(R"({"auths": {"r.example": {"auth": "dXNlcjpwYXNz"}}})");
  Result<Credentials> flag = ParseCredsFlag("cli:se:cret");
  ASSERT_TRUE(flag.has_value());
  src_.explicit_credentials = *flag;
  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->username, "cli");
  EXPECT_EQ(Find("r.example")->password, "se:cret");
  // Even a broken file is not read.
  WriteConfig("{broken");
  EXPECT_TRUE(Find("r.example"));
}

TEST_F(CredentialsTest, ParseCredsFlag) {
  Result<Credentials> ok = ParseCredsFlag("u:");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->username, "u");
  EXPECT_EQ(ok->password, "");
  Result<Credentials> no_colon = ParseCredsFlag("justsecret");
  ASSERT_FALSE(no_colon.has_value());
  EXPECT_EQ(no_colon.error().message().find("justsecret"), std::string::npos);
  Result<Credentials> no_user = ParseCredsFlag(":secret1");
  ASSERT_FALSE(no_user.has_value());
  EXPECT_EQ(no_user.error().message().find("secret1"), std::string::npos);
}

TEST_F(CredentialsTest, SourcesFromEnvironment) {
  ScopedEnv home("HOME", (tmp_.path() + "/home").c_str());
  ScopedEnv auth_file("REGISTRY_AUTH_FILE", nullptr);
  {
    ScopedEnv docker_config("DOCKER_CONFIG", nullptr);
    CredentialSources src = CredentialSourcesFromEnv();
    EXPECT_EQ(src.docker_config_dir, tmp_.path() + "/home/.docker");
    EXPECT_EQ(src.auth_file, "");
    EXPECT_FALSE(src.explicit_credentials);
  }
  ScopedEnv docker_config("DOCKER_CONFIG", (tmp_.path() + "/dc").c_str());
  ScopedEnv auth_file2("REGISTRY_AUTH_FILE", "/run/containers/auth.json");
  CredentialSources src = CredentialSourcesFromEnv();
  EXPECT_EQ(src.docker_config_dir, tmp_.path() + "/dc");
  EXPECT_EQ(src.auth_file, "/run/containers/auth.json");
}

TEST_F(CredentialsTest, DockerConfigBeatsHome) {
  tmp_.WriteFile("home/.docker/config.json",
                 R"({"auths": {"r.example": {"auth": "aG9tZTpo"}}})");
  tmp_.WriteFile("dc/config.json",
                 R"({"auths": {"r.example": {"auth": "ZGM6ZA=="}}})");
  ScopedEnv home("HOME", (tmp_.path() + "/home").c_str());
  ScopedEnv auth_file("REGISTRY_AUTH_FILE", nullptr);
  {
    ScopedEnv docker_config("DOCKER_CONFIG", nullptr);
    src_ = CredentialSourcesFromEnv();
    ASSERT_TRUE(Find("r.example"));
    EXPECT_EQ(Find("r.example")->username, "home");
  }
  ScopedEnv docker_config("DOCKER_CONFIG", (tmp_.path() + "/dc").c_str());
  src_ = CredentialSourcesFromEnv();
  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->username, "dc");
}

TEST_F(CredentialsTest, EnvironmentIsRestored) {
  const char* before = std::getenv("DOCKER_CONFIG");
  std::string saved = before != nullptr ? before : "<unset>";
  {
    ScopedEnv docker_config("DOCKER_CONFIG", "/elsewhere");
    EXPECT_STREQ(std::getenv("DOCKER_CONFIG"), "/elsewhere");
  }
  const char* after = std::getenv("DOCKER_CONFIG");
  EXPECT_EQ(after != nullptr ? after : "<unset>", saved);
}

TEST_F(CredentialsTest, MalformedConfigNamesTheFileNotTheSecret) {
  WriteConfig(R"({"auths": {"r.example": {"auth": "c2VjcmV0OnMz"}}, )");
  std::string err = FindError("r.example");
  EXPECT_NE(err.find(config_path()), std::string::npos) << err;
  EXPECT_EQ(err.find("c2VjcmV0OnMz"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;

  WriteConfig(R"({"auths": {"r.example": {"auth": "not base64 s3cr3t!"}}})");
  err = FindError("r.example");
  EXPECT_NE(err.find(config_path()), std::string::npos) << err;
  EXPECT_EQ(err.find("s3cr3t"), std::string::npos) << err;

  // base64("nocolonsecret"): no ':' separates user and password.
  WriteConfig(R"({"auths": {"r.example": {"auth": "bm9jb2xvbnNlY3JldA=="}}})");
  err = FindError("r.example");
  EXPECT_EQ(err.find("bm9jb2xvbnNlY3JldA"), std::string::npos) << err;
  EXPECT_EQ(err.find("nocolonsecret"), std::string::npos) << err;

  WriteConfig(R"({"auths": ["r.example"]})");
  EXPECT_NE(FindError("r.example").find(config_path()), std::string::npos);
  WriteConfig(R"([])");
  EXPECT_NE(FindError("r.example").find(config_path()), std::string::npos);

  src_.auth_file = tmp_.path() + "/auth.json";
  tmp_.WriteFile("auth.json", "not json");
  EXPECT_NE(FindError("r.example").find(src_.auth_file), std::string::npos);
}

// ---- credential helpers ----

void StoreInHelper(const std::string& data_dir, const std::string& json) {
  ASSERT_TRUE(base::WriteFileAtomic(data_dir + "/stored.json", json));
}

TEST_F(CredentialsTest, CredHelperGet) {
  WriteConfig(R"({"credHelpers": {"r.example": "strata-test"},
                  "auths": {"r.example": {}}})");
  StoreInHelper(data(),
                R"({"ServerURL":"r.example","Username":"hu","Secret":"hs"})");
  std::optional<Credentials> creds = Find("r.example");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->username, "hu");
  EXPECT_EQ(creds->password, "hs");
  EXPECT_EQ(ReadData("get-url"), "r.example");
}

TEST_F(CredentialsTest, CredsStoreGetForDockerHub) {
  WriteConfig(R"({"credsStore": "strata-test"})");
  StoreInHelper(data(), R"({"Username":"<token>","Secret":"idtok"})");
  std::optional<Credentials> creds = Find("docker.io");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->username, "");
  EXPECT_EQ(creds->password, "");
  EXPECT_EQ(creds->identity_token, "idtok");
  EXPECT_EQ(ReadData("get-url"), kDockerHubLegacyKey);
}

TEST_F(CredentialsTest, CredHelpersBeatCredsStore) {
  WriteConfig(R"({"credsStore": "strata-fail",
                  "credHelpers": {"https://r.example": "strata-test"}})");
  StoreInHelper(data(), R"({"Username":"hu","Secret":"hs"})");
  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->username, "hu");
  // Other hosts go to credsStore, which fails.
  std::string err = FindError("other.example");
  EXPECT_NE(err.find("docker-credential-strata-fail get"), std::string::npos)
      << err;
  EXPECT_NE(err.find("keychain is locked"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
}

TEST_F(CredentialsTest, HelperWithoutCredentialsMeansNone) {
  WriteConfig(R"({"credsStore": "strata-test", "auths": {"r.example": {}}})");
  EXPECT_FALSE(Find("r.example"));
  EXPECT_EQ(ReadData("get-url"), "r.example");
  // ... and the file's own entry is still used.
  WriteConfig(R"({"credsStore": "strata-test",
                  "auths": {"r.example": {"auth": "dXNlcjpwYXNz"}}})");
  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->username, "user");
}

TEST_F(CredentialsTest, HelperErrorsNameTheHelperNotTheSecret) {
  WriteConfig(R"({"credsStore": "strata-leak"})");
  std::string err = FindError("r.example");
  EXPECT_NE(err.find("docker-credential-strata-leak get"), std::string::npos)
      << err;
  EXPECT_EQ(err.find("leaked-get-42"), std::string::npos) << err;

  WriteConfig(R"({"credsStore": "strata-missing"})");
  err = FindError("r.example");
  EXPECT_NE(err.find("docker-credential-strata-missing"), std::string::npos)
      << err;

  WriteConfig(R"({"credsStore": "../../bin/sh"})");
  EXPECT_NE(FindError("r.example").find("invalid credential helper"),
            std::string::npos);
}

TEST_F(CredentialsTest, HelperThatHangsIsKilled) {
  WriteConfig(R"({"credsStore": "strata-slow"})");
  src_.helper_timeout = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  std::string err = FindError("r.example");
  EXPECT_NE(err.find("docker-credential-strata-slow get: timed out"),
            std::string::npos)
      << err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// ---- login / logout ----

TEST_F(CredentialsTest, LoginLogoutRoundTripKeepsOtherKeys) {
  WriteConfig(R"({"psFormat": "table {{.ID}}",
                  "auths": {"keep.example": {"auth": "a2VlcDpr"}},
                  "proxies": {"default": {"httpProxy": "http://p:3128"}}})");
  ::chmod(config_path().c_str(), 0644);
  Credentials creds{.username = "u", .password = "p:1", .identity_token = ""};
  ASSERT_TRUE(Login("127.0.0.1:5000", creds, src_));

  Json j = ReadConfig();
  EXPECT_EQ(j["psFormat"], "table {{.ID}}");
  EXPECT_EQ(j["proxies"]["default"]["httpProxy"], "http://p:3128");
  EXPECT_EQ(j["auths"]["keep.example"]["auth"], "a2VlcDpr");
  EXPECT_EQ(j["auths"]["127.0.0.1:5000"]["auth"], "dTpwOjE=");
  struct stat st;
  ASSERT_EQ(::stat(config_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  std::optional<Credentials> found = Find("127.0.0.1:5000");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "u");
  EXPECT_EQ(found->password, "p:1");

  ASSERT_TRUE(Logout("127.0.0.1:5000", src_));
  EXPECT_FALSE(Find("127.0.0.1:5000"));
  j = ReadConfig();
  EXPECT_FALSE(j["auths"].contains("127.0.0.1:5000"));
  EXPECT_EQ(j["auths"]["keep.example"]["auth"], "a2VlcDpr");
  EXPECT_EQ(j["psFormat"], "table {{.ID}}");
  ASSERT_EQ(::stat(config_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  base::Status again = Logout("127.0.0.1:5000", src_);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().ToString(), "not logged in to 127.0.0.1:5000");
  EXPECT_EQ(again.error().code(), base::Code::kNotFound);
}

TEST_F(CredentialsTest, LoginCreatesThePrivateConfigDir) {
  src_.docker_config_dir = tmp_.path() + "/new/nested/.docker";
  Credentials creds{.username = "u", .password = "p", .identity_token = ""};
  ASSERT_TRUE(Login("r.example", creds, src_));
  struct stat st;
  ASSERT_EQ(::stat(src_.docker_config_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat(config_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(ReadConfig()["auths"]["r.example"]["auth"], "dTpw");
  // No temp file is left behind.
  int entries = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(src_.docker_config_dir)) {
    EXPECT_EQ(e.path().filename(), "config.json");
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(CredentialsTest, LoginToDockerHubUsesTheLegacyKey) {
  Credentials creds{
      .username = "user", .password = "pass", .identity_token = ""};
  ASSERT_TRUE(Login("docker.io", creds, src_));
  EXPECT_EQ(ReadConfig()["auths"][kDockerHubLegacyKey]["auth"], kUserPassAuth);
  EXPECT_TRUE(Find("registry-1.docker.io"));
  ASSERT_TRUE(Logout("index.docker.io", src_));
  EXPECT_FALSE(Find("docker.io"));
}

TEST_F(CredentialsTest, LoginWithIdentityToken) {
  Credentials creds{.username = "", .password = "", .identity_token = "rt"};
  ASSERT_TRUE(Login("r.example", creds, src_));
  Json entry = ReadConfig()["auths"]["r.example"];
  EXPECT_FALSE(entry.contains("auth"));
  EXPECT_EQ(entry["identitytoken"], "rt");
  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->identity_token, "rt");
}

TEST_F(CredentialsTest, Base64RoundTripsEveryLength) {
  std::string password;
  for (int len = 0; len < 12; ++len) {
    Credentials creds{.username = "u",
                      .password = password,
                      .identity_token = len == 0 ? "t" : ""};
    ASSERT_TRUE(Login("r.example", creds, src_));
    std::optional<Credentials> found = Find("r.example");
    ASSERT_TRUE(found) << len;
    EXPECT_EQ(found->password, password) << len;
    password.push_back(static_cast<char>(0xf0 + len));  // non-ASCII bytes
  }
}

TEST_F(CredentialsTest, LogoutRemovesEveryKeyForTheHost) {
  WriteConfig(R"({"auths": {
      "https://r.example/v1/": {"auth": "dXNlcjpwYXNz"},
      "r.example": {"auth": "dXNlcjpwYXNz"},
      "http://r.example": {"auth": "dXNlcjpwYXNz"},
      "s.example": {"auth": "dXNlcjpwYXNz"}}})");
  ASSERT_TRUE(Logout("r.example", src_));
  EXPECT_FALSE(Find("r.example"));
  Json j = ReadConfig();
  EXPECT_EQ(j["auths"].size(), 1u);
  EXPECT_TRUE(Find("s.example"));
}

TEST_F(CredentialsTest, LoginRejectsUnusableCredentials) {
  Credentials no_password{
      .username = "u", .password = "", .identity_token = ""};
  EXPECT_FALSE(Login("r.example", no_password, src_));
  Credentials colon{
      .username = "a:b", .password = "pw-secret", .identity_token = ""};
  base::Status st = Login("r.example", colon, src_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().ToString().find("pw-secret"), std::string::npos);
  EXPECT_FALSE(base::PathExists(config_path()));
  Credentials fine{.username = "u", .password = "p", .identity_token = ""};
  EXPECT_FALSE(Login("", fine, src_));
}

TEST_F(CredentialsTest, LoginKeepsASymlinkedConfig) {
  tmp_.WriteFile("dotfiles/docker.json", R"({"auths": {}})");
  ::mkdir(src_.docker_config_dir.c_str(), 0700);
  ASSERT_EQ(::symlink((tmp_.path() + "/dotfiles/docker.json").c_str(),
                      config_path().c_str()),
            0);
  Credentials creds{.username = "u", .password = "p", .identity_token = ""};
  ASSERT_TRUE(Login("r.example", creds, src_));
  struct stat st;
  ASSERT_EQ(::lstat(config_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_TRUE(Find("r.example"));
}

TEST_F(CredentialsTest, LoginThroughHelper) {
  WriteConfig(R"({"credsStore": "strata-test", "currentContext": "x"})");
  Credentials creds{
      .username = "hu", .password = "helper-secret", .identity_token = ""};
  ASSERT_TRUE(Login("r.example", creds, src_));
  Json stored = Json::parse(ReadData("stored.json"));
  EXPECT_EQ(stored["ServerURL"], "r.example");
  EXPECT_EQ(stored["Username"], "hu");
  EXPECT_EQ(stored["Secret"], "helper-secret");
  // The file holds a placeholder, never the secret.
  std::string text = testing::ReadTestFile(config_path());
  EXPECT_EQ(text.find("helper-secret"), std::string::npos);
  Json j = ReadConfig();
  EXPECT_EQ(j["auths"]["r.example"], Json::object());
  EXPECT_EQ(j["currentContext"], "x");

  ASSERT_TRUE(Find("r.example"));
  EXPECT_EQ(Find("r.example")->password, "helper-secret");

  ASSERT_TRUE(Logout("r.example", src_));
  EXPECT_EQ(ReadData("erase-url"), "r.example");
  EXPECT_FALSE(base::PathExists(data() + "/stored.json"));
  EXPECT_FALSE(ReadConfig()["auths"].contains("r.example"));
  EXPECT_FALSE(Find("r.example"));
  base::Status again = Logout("r.example", src_);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().ToString(), "not logged in to r.example");
}

TEST_F(CredentialsTest, LoginThroughHelperWithTokenForDockerHub) {
  WriteConfig(R"({"credHelpers": {"docker.io": "strata-test"}})");
  Credentials creds{.username = "", .password = "", .identity_token = "tk"};
  ASSERT_TRUE(Login("docker.io", creds, src_));
  Json stored = Json::parse(ReadData("stored.json"));
  EXPECT_EQ(stored["ServerURL"], kDockerHubLegacyKey);
  EXPECT_EQ(stored["Username"], "<token>");
  EXPECT_EQ(stored["Secret"], "tk");
  ASSERT_TRUE(Find("docker.io"));
  EXPECT_EQ(Find("docker.io")->identity_token, "tk");
}

TEST_F(CredentialsTest, FailingHelperStoreDoesNotLeakTheSecret) {
  WriteConfig(R"({"credsStore": "strata-leak", "keep": 1})");
  std::string before = testing::ReadTestFile(config_path());
  Credentials creds{
      .username = "u", .password = "store-secret-77", .identity_token = ""};
  base::Status st = Login("r.example", creds, src_);
  ASSERT_FALSE(st.has_value());
  std::string err = st.error().ToString();
  EXPECT_NE(err.find("docker-credential-strata-leak store"), std::string::npos)
      << err;
  EXPECT_EQ(err.find("store-secret-77"), std::string::npos) << err;
  EXPECT_EQ(testing::ReadTestFile(config_path()), before);

  WriteConfig(R"({"credsStore": "strata-fail"})");
  st = Login("r.example", creds, src_);
  ASSERT_FALSE(st.has_value());
  err = st.error().ToString();
  EXPECT_NE(err.find("strata-fail store: exit status 3: keychain is locked"),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("store-secret-77"), std::string::npos) << err;
}

TEST_F(CredentialsTest, LoginToMalformedConfigFails) {
  WriteConfig("{\"auths\": ");
  Credentials creds{.username = "u", .password = "p", .identity_token = ""};
  base::Status st = Login("r.example", creds, src_);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().ToString().find(config_path()), std::string::npos);
  EXPECT_EQ(testing::ReadTestFile(config_path()), "{\"auths\": ");
}

}  // namespace
}  // namespace strata::registry
