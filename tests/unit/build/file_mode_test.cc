#include "build/file_mode.h"

#include <gtest/gtest.h>

namespace strata::build {
namespace {

uint32_t Apply(const char* spec, uint32_t mode, bool dir = false) {
  base::Result<ModeSpec> m = ModeSpec::Parse(spec);
  EXPECT_TRUE(m) << spec;
  return m ? m->Apply(mode, dir) : 0xFFFFFFFF;
}

TEST(ModeSpecTest, Octal) {
  EXPECT_EQ(Apply("755", 0644), 0755u);
  EXPECT_EQ(Apply("0600", 0777), 0600u);
  EXPECT_EQ(Apply("4755", 0), 04755u);
  EXPECT_EQ(Apply("00644", 0), 0644u);
  EXPECT_FALSE(ModeSpec::Parse("17777"));
  EXPECT_FALSE(ModeSpec::Parse("789"));
  EXPECT_FALSE(ModeSpec::Parse(""));
}

TEST(ModeSpecTest, Symbolic) {
  EXPECT_EQ(Apply("u+x", 0644), 0744u);
  EXPECT_EQ(Apply("+x", 0644), 0755u);
  EXPECT_EQ(Apply("a-w", 0666), 0444u);
  EXPECT_EQ(Apply("go-rwx", 0777), 0700u);
  EXPECT_EQ(Apply("u=rwx,g=rx,o=", 0000), 0750u);
  EXPECT_EQ(Apply("a+X", 0644), 0644u);
  EXPECT_EQ(Apply("a+X", 0744), 0755u);
  EXPECT_EQ(Apply("a+X", 0600, /*dir=*/true), 0711u);
  EXPECT_EQ(Apply("g=u", 0750), 0770u);
  EXPECT_EQ(Apply("u+s", 0755), 04755u);
  EXPECT_EQ(Apply("+t", 0777, true), 01777u);
  EXPECT_EQ(Apply("u+x-w", 0644), 0544u);
}

TEST(ModeSpecTest, SymbolicErrors) {
  for (const char* bad : {"u", "u*x", "q+x", "u+q", "u+x,", ","}) {
    base::Result<ModeSpec> m = ModeSpec::Parse(bad);
    ASSERT_FALSE(m) << bad;
    EXPECT_EQ(m.error().message().rfind("invalid chmod \"", 0), 0u);
  }
}

}  // namespace
}  // namespace strata::build
