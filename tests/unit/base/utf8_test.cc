#include "base/utf8.h"

#include <gtest/gtest.h>

namespace strata::base {
namespace {

TEST(Utf8Test, DecodeValidAndInvalid) {
  EXPECT_EQ(DecodeRune("a").rune, U'a');
  DecodedRune e = DecodeRune("\xc3\xa9");
  EXPECT_EQ(e.rune, U'\u00e9');
  EXPECT_EQ(e.size, 2u);
  DecodedRune k = DecodeRune("\xed\x95\x9c");  // 한
  EXPECT_EQ(k.rune, U'\ud55c');
  EXPECT_EQ(k.size, 3u);
  DecodedRune emoji = DecodeRune("\xf0\x9f\x98\x80");
  EXPECT_EQ(emoji.rune, U'\U0001F600');
  EXPECT_EQ(emoji.size, 4u);
  // Overlong, surrogate, truncated and stray continuation bytes: one byte each.
  for (std::string_view bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                               "\xe2\x82", "\x80", "\xff", "\xf5\x80\x80\x80"}) {
    DecodedRune r = DecodeRune(bad);
    EXPECT_EQ(r.rune, kRuneError) << bad;
    EXPECT_EQ(r.size, 1u) << bad;
  }
}

TEST(Utf8Test, DecodeLastRune) {
  EXPECT_EQ(DecodeLastRune("ab").rune, U'b');
  DecodedRune r = DecodeLastRune("x\xc3\xa9");
  EXPECT_EQ(r.rune, U'\u00e9');
  EXPECT_EQ(r.size, 2u);
  EXPECT_EQ(DecodeLastRune("x\xa9").size, 1u);
}

TEST(Utf8Test, AppendRuneRoundTrips) {
  for (char32_t c : {U'a', U'\u00e9', U'\ud55c', U'\U0001F600'}) {
    std::string s;
    AppendRune(s, c);
    EXPECT_EQ(DecodeRune(s).rune, c);
    EXPECT_EQ(DecodeRune(s).size, s.size());
  }
}

TEST(Utf8Test, TrimSpaceUsesGoDefinition) {
  EXPECT_EQ(TrimUnicodeSpace(" \t\v\f\r\n x \u00a0\u3000"), "x");
  EXPECT_EQ(TrimUnicodeSpace("\xc2\x85y\xe2\x80\xa8"), "y");
  EXPECT_EQ(TrimLeftUnicodeSpace("  a b "), "a b ");
  // Zero-width space is not white space in Go.
  EXPECT_EQ(TrimUnicodeSpace("\u200bz"), "\u200bz");
  EXPECT_EQ(TrimUnicodeSpace(" \xff "), "\xff");
}

}  // namespace
}  // namespace strata::base
