// registry::Client's Bearer tokens against the real docker-registry in
// kToken mode (tests/support/token_server.py issues them): a token is
// cached per scope for its expires_in, less the client's early-renewal
// margin, and then fetched again; an identity token is traded for access
// tokens by an OAuth2 POST each time. The registry itself accepts a token
// for a while past its expiry, so the tests count the issuer's requests
// rather than wait for refusals, and they move a fake clock (the client's
// ClientOptions::now) instead of sleeping.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/digest.h"
#include "registry/client.h"
#include "support/registry_server.h"

namespace strata::registry {
namespace {

using namespace std::chrono_literals;
using strata::testing::RegistryServer;

constexpr int kExpiresIn = 300;  // seconds, as the issuer says
// The client renews this much before expiry (tokens living over 10 s).
constexpr std::chrono::seconds kMargin{5};
constexpr char kRefreshToken[] = "strata-test-identity-token-31415";

class ClientAuthTest : public ::testing::Test {
 protected:
  void StartRegistry(const std::string& refresh_token = "") {
    base::Result<std::unique_ptr<RegistryServer>> registry =
        RegistryServer::Start({.mode = RegistryServer::kToken,
                               .token_expires_in = kExpiresIn,
                               .refresh_token = refresh_token,
                               .max_lifetime = 300s});
    ASSERT_TRUE(registry) << registry.error().ToString();
    registry_ = std::move(*registry);
  }

  /// A client of the registry on the fake clock, with `creds`.
  std::unique_ptr<Client> MakeClient(const Credentials& creds) {
    ClientOptions options;
    options.allow_http = true;
    options.credentials = creds;
    options.first_backoff = 20ms;
    options.now = [this] { return now_; };
    return std::make_unique<Client>(registry_->host(), options);
  }

  static Credentials Password() {
    Credentials creds;
    creds.username = RegistryServer::username();
    creds.password = RegistryServer::password();
    return creds;
  }

  /// As config.json's "identitytoken" (no password).
  static Credentials IdentityToken(const std::string& token) {
    Credentials creds;
    creds.username = RegistryServer::username();
    creds.identity_token = token;
    return creds;
  }

  /// One pull-scoped request (a HEAD for a blob nobody pushed): it must
  /// be authorized, and answer "not there".
  void Request(Client& client) {
    base::Result<bool> exists =
        client.BlobExists("auth/probe", base::Digest::Of("absent"));
    ASSERT_TRUE(exists) << exists.error().ToString() << "\n"
                        << registry_->log(4096);
    EXPECT_FALSE(*exists);
  }

  int64_t Gets() {
    base::Result<int64_t> n = registry_->TokenRequestCount();
    EXPECT_TRUE(n) << n.error().ToString();
    return n ? *n : -1;
  }

  int64_t Posts() {
    base::Result<int64_t> n = registry_->TokenPostCount();
    EXPECT_TRUE(n) << n.error().ToString();
    return n ? *n : -1;
  }

  std::chrono::steady_clock::time_point now_ =
      std::chrono::steady_clock::now();
  std::unique_ptr<RegistryServer> registry_;
};

TEST_F(ClientAuthTest, TokenIsFetchedAgainOnlyAfterItExpires) {
  StartRegistry();
  std::unique_ptr<Client> client = MakeClient(Password());
  const std::chrono::steady_clock::time_point start = now_;
  int64_t before = Gets();

  Request(*client);
  EXPECT_EQ(Gets(), before + 1) << "the first request fetches a token";
  Request(*client);
  EXPECT_EQ(Gets(), before + 1) << "the cached token serves the second";

  // Just inside the renewal margin: still cached.
  now_ = start + std::chrono::seconds(kExpiresIn) - kMargin - 1s;
  Request(*client);
  EXPECT_EQ(Gets(), before + 1) << "renewed before its time";

  // Past expires_in less the margin: a new token, then cached again.
  now_ = start + std::chrono::seconds(kExpiresIn) - kMargin + 1s;
  Request(*client);
  EXPECT_EQ(Gets(), before + 2) << "an expired token was used";
  Request(*client);
  EXPECT_EQ(Gets(), before + 2);

  // The new token's life counts from when it came.
  now_ += std::chrono::seconds(kExpiresIn);
  Request(*client);
  EXPECT_EQ(Gets(), before + 3);
  EXPECT_EQ(Posts(), 0) << "a password goes in GET, not the OAuth2 POST";
}

TEST_F(ClientAuthTest, IdentityTokenIsTradedByPostAndAgainAfterExpiry) {
  StartRegistry(kRefreshToken);
  std::unique_ptr<Client> client = MakeClient(IdentityToken(kRefreshToken));
  int64_t gets = Gets();

  Request(*client);
  EXPECT_EQ(Posts(), 1);
  Request(*client);
  EXPECT_EQ(Posts(), 1) << "the access token is cached";
  now_ += std::chrono::seconds(kExpiresIn);
  Request(*client);
  EXPECT_EQ(Posts(), 2) << "an expired access token was used";
  EXPECT_EQ(Gets(), gets) << "the identity token never goes in a GET";
}

TEST_F(ClientAuthTest, WrongIdentityTokenIsDeniedWithoutShowingIt) {
  StartRegistry(kRefreshToken);
  const std::string wrong = "strata-wrong-identity-token-27182";
  std::unique_ptr<Client> client = MakeClient(IdentityToken(wrong));
  base::Result<bool> exists =
      client->BlobExists("auth/probe", base::Digest::Of("absent"));
  ASSERT_FALSE(exists);
  EXPECT_EQ(exists.error().code(), base::Code::kAuth);
  std::string text = exists.error().ToString();
  EXPECT_NE(text.find("token request denied"), std::string::npos) << text;
  EXPECT_EQ(text.find(wrong), std::string::npos) << text;
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(Posts(), 1) << "a denied grant is not retried";
}

}  // namespace
}  // namespace strata::registry
