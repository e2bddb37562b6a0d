#include "image/platform.h"

#include <gtest/gtest.h>

namespace strata::image {
namespace {

struct PlatformCase {
  const char* input;
  const char* want;  // nullptr: an error is expected
};

class ParsePlatformTest : public ::testing::TestWithParam<PlatformCase> {};

TEST_P(ParsePlatformTest, Parses) {
  const PlatformCase& c = GetParam();
  base::Result<Platform> p = ParsePlatform(c.input);
  if (c.want == nullptr) {
    ASSERT_FALSE(p) << c.input;
    EXPECT_NE(p.error().message().find(c.input), std::string::npos);
    return;
  }
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->ToString(), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParsePlatformTest,
    ::testing::Values(PlatformCase{"linux/amd64", "linux/amd64"},
                      PlatformCase{"linux/x86_64", "linux/amd64"},
                      PlatformCase{"linux/arm64/v8", "linux/arm64"},
                      PlatformCase{"linux/aarch64", "linux/arm64"},
                      PlatformCase{"linux/arm", "linux/arm/v7"},
                      PlatformCase{"linux/armhf", "linux/arm/v7"},
                      PlatformCase{"linux/arm/v6", "linux/arm/v6"},
                      PlatformCase{"Linux/AMD64", "linux/amd64"},
                      PlatformCase{"windows/amd64", "windows/amd64"},
                      PlatformCase{"linux/s390x", "linux/s390x"},
                      PlatformCase{"linux/pdp11", nullptr},
                      PlatformCase{"beos/amd64", nullptr},
                      PlatformCase{"linux//amd64", nullptr},
                      PlatformCase{"linux/amd64/v1/x", nullptr},
                      PlatformCase{"", nullptr}));

TEST(PlatformTest, HostIsLinux) {
  Platform host = HostPlatform();
  EXPECT_EQ(host.os, "linux");
  EXPECT_FALSE(host.architecture.empty());
  // A lone architecture takes the host's os.
  base::Result<Platform> p = ParsePlatform("arm64");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ToString(), "linux/arm64");
}

}  // namespace
}  // namespace strata::image
