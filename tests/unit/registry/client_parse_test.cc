#include <gtest/gtest.h>

#include "registry/client.h"
#include "registry/hosts.h"

namespace strata::registry {
namespace {

TEST(ParseChallenge, BearerWithQuotedParams) {
  auto c = ParseChallenge(
      "Bearer realm=\"https://auth.example/token\",service=\"reg.example\","
      "scope=\"repository:a/b:pull,push\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->params["realm"], "https://auth.example/token");
  EXPECT_EQ(c->params["service"], "reg.example");
  EXPECT_EQ(c->params["scope"], "repository:a/b:pull,push");
}

TEST(ParseChallenge, BasicAndUnquoted) {
  auto c = ParseChallenge("Basic realm=Registry");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "basic");
  EXPECT_EQ(c->params["realm"], "Registry");
  EXPECT_FALSE(ParseChallenge(""));
}

TEST(Hosts, LoopbackIsPlainUnlessCertsDirGivesACa) {
  EXPECT_TRUE(IsLoopback("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopback("localhost"));
  EXPECT_TRUE(IsLoopback("[::1]:5000"));
  EXPECT_FALSE(IsLoopback("registry.example:5000"));
  HostsConfig config;
  config.cert_dirs = {"/nonexistent-strata-certs"};
  EXPECT_TRUE(OptionsFor("127.0.0.1:5000", config).allow_http);
  EXPECT_FALSE(OptionsFor("ghcr.io", config).allow_http);
  EXPECT_TRUE(OptionsFor("ghcr.io", config).tls.verify);
  config.insecure = {"reg.internal:5000"};
  EXPECT_TRUE(OptionsFor("reg.internal:5000", config).allow_http);
}

TEST(RepoScope, PullAndPush) {
  EXPECT_EQ(RepoScope("library/python", false),
            "repository:library/python:pull");
  EXPECT_EQ(RepoScope("a/b", true), "repository:a/b:pull,push");
}

}  // namespace
}  // namespace strata::registry
