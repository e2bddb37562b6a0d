#include "image/reference.h"

#include <gtest/gtest.h>

namespace strata::image {
namespace {

constexpr char kDigest[] =
    "sha256:"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct RefCase {
  std::string input;
  std::string normalized;  // empty: an error is expected
  std::string familiar;
};

class ParseReferenceTest : public ::testing::TestWithParam<RefCase> {};

TEST_P(ParseReferenceTest, Normalizes) {
  const RefCase& c = GetParam();
  base::Result<Reference> ref = ParseReference(c.input);
  if (c.normalized.empty()) {
    ASSERT_FALSE(ref) << c.input << " parsed as " << ref->ToString();
    EXPECT_EQ(ref.error().message().rfind("invalid", 0), 0u)
        << ref.error().message();
    return;
  }
  ASSERT_TRUE(ref) << c.input << ": " << ref.error().ToString();
  EXPECT_EQ(ref->ToString(), c.normalized);
  EXPECT_EQ(ref->Familiar(), c.familiar);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseReferenceTest,
    ::testing::Values(
        RefCase{"python", "docker.io/library/python", "python"},
        RefCase{"python:3.11-slim", "docker.io/library/python:3.11-slim",
                "python:3.11-slim"},
        RefCase{"team/app:v1", "docker.io/team/app:v1", "team/app:v1"},
        RefCase{"index.docker.io/library/redis", "docker.io/library/redis",
                "redis"},
        RefCase{"localhost/app", "localhost/app", "localhost/app"},
        RefCase{"localhost:5000/a/b:c", "localhost:5000/a/b:c",
                "localhost:5000/a/b:c"},
        RefCase{"127.0.0.1:5000/busybox:latest",
                "127.0.0.1:5000/busybox:latest",
                "127.0.0.1:5000/busybox:latest"},
        RefCase{"[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app"},
        RefCase{std::string("app@") + kDigest,
                std::string("docker.io/library/app@") + kDigest,
                std::string("app@") + kDigest},
        RefCase{std::string("app:v1@") + kDigest,
                std::string("docker.io/library/app:v1@") + kDigest,
                std::string("app:v1@") + kDigest},
        RefCase{"Example.com/app", "Example.com/app", "Example.com/app"},
        RefCase{"a__b/c-d/e.f", "docker.io/a__b/c-d/e.f", "a__b/c-d/e.f"},
        RefCase{"App", "", ""}, RefCase{"", "", ""}, RefCase{"app:", "", ""},
        RefCase{"app:-x", "", ""}, RefCase{"app@sha256:abc", "", ""},
        RefCase{"a//b", "", ""}, RefCase{"a_/b", "", ""}, RefCase{"-a", "", ""},
        RefCase{"app tag", "", ""}, RefCase{"a/B", "", ""},
        RefCase{"host:port/app", "", ""},
        RefCase{std::string(64, 'a'), "", ""}));

TEST(ReferenceTest, TagOrLatest) {
  EXPECT_EQ(ParseReference("app")->TagOrLatest(), "latest");
  EXPECT_EQ(ParseReference("app:v2")->TagOrLatest(), "v2");
  EXPECT_EQ(ParseReference(std::string("app@") + kDigest)->TagOrLatest(), "");
}

TEST(ReferenceTest, Digests) {
  EXPECT_TRUE(IsValidDigest(kDigest));
  EXPECT_FALSE(IsValidDigest("sha256:abc"));
  EXPECT_FALSE(IsValidDigest("sha256"));
  EXPECT_FALSE(IsValidDigest(":abc"));
  EXPECT_TRUE(IsValidDigest("multihash+base58:" + std::string(40, 'a')));
}

}  // namespace
}  // namespace strata::image
