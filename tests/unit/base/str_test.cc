#include "base/str.h"

#include <gtest/gtest.h>

namespace strata::base {
namespace {

TEST(StrTest, StrCatMixesTypes) {
  EXPECT_EQ(StrCat("a", 1, 'b', std::string("c"), std::string_view("d"), true,
                   int64_t{-3}, size_t{9}),
            "a1bcdtrue-39");
}

TEST(StrTest, SplitKeepsEmptyPieces) {
  EXPECT_EQ(Split("a,,b,", ','), (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(Split("", ','), (std::vector<std::string>{""}));
}

TEST(StrTest, JoinTrimLower) {
  EXPECT_EQ(Join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(TrimAscii(" \t x y \r\n"), "x y");
  EXPECT_EQ(AsciiLower("RuN É"), "run É");
  EXPECT_TRUE(StartsWith("--from=x", "--"));
  EXPECT_TRUE(EndsWith("file.tar.gz", ".gz"));
  EXPECT_FALSE(EndsWith("gz", ".tar.gz"));
}

TEST(StrTest, ParseInt64) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt64("42", &v));
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(ParseInt64("-7", &v));
  EXPECT_EQ(v, -7);
  EXPECT_FALSE(ParseInt64("", &v));
  EXPECT_FALSE(ParseInt64("4x", &v));
  EXPECT_FALSE(ParseInt64("99999999999999999999", &v));
}

}  // namespace
}  // namespace strata::base
