#include "base/go_quote.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace strata::base {
namespace {

// Expected values below were printed by Go 1.19's strconv.Quote / %q, except
// for runes assigned in Unicode 14 or 15 (printable now, see go_unicode.h).

TEST(GoQuoteTest, PlainAndBackslashed) {
  EXPECT_EQ(GoQuote(""), R"("")");
  EXPECT_EQ(GoQuote("abc"), R"("abc")");
  EXPECT_EQ(GoQuote(" "), R"(" ")");
  EXPECT_EQ(GoQuote("a\"b\\c"), R"("a\"b\\c")");
}

TEST(GoQuoteTest, ControlCharacters) {
  EXPECT_EQ(GoQuote(std::string("\x00\x01\x1f\x7f", 4)),
            R"("\x00\x01\x1f\x7f")");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
}

TEST(GoQuoteTest, InvalidUtf8BytesAreHexEscaped) {
  EXPECT_EQ(GoQuote("\xff"), R"("\xff")");
  EXPECT_EQ(GoQuote("a\xc3"), R"("a\xc3")");
  // UTF-8 encoded surrogate and an overlong '/': one escape per byte.
  EXPECT_EQ(GoQuote("\xed\xa0\x80"), R"("\xed\xa0\x80")");
  EXPECT_EQ(GoQuote("\xc0\xaf"), R"("\xc0\xaf")");
}

TEST(GoQuoteTest, SpacesOtherThanAsciiSpaceAreEscaped) {
  EXPECT_EQ(GoQuote("\u00a0"), R"("\u00a0")");
  EXPECT_EQ(GoQuote("\u2028"), R"("\u2028")");
  EXPECT_EQ(GoQuote("\u3000"), R"("\u3000")");
  // Format characters are not printable either.
  EXPECT_EQ(GoQuote("\u00ad"), R"("\u00ad")");
  EXPECT_EQ(GoQuote("\u200b"), R"("\u200b")");
  EXPECT_EQ(GoQuote("\ufeff"), R"("\ufeff")");
}

TEST(GoQuoteTest, PrintableRunesStayAsIs) {
  EXPECT_EQ(GoQuote("\u00e9"), "\"\u00e9\"");
  EXPECT_EQ(GoQuote("\ud55c\uad6d\uc5b4"), "\"\ud55c\uad6d\uc5b4\"");
  EXPECT_EQ(GoQuote("\ufffd"), "\"\ufffd\"");  // a real U+FFFD is printable
  EXPECT_EQ(GoQuote("\U0001F600"), "\"\U0001F600\"");
}

TEST(GoQuoteTest, NonBmpAndUnassignedRunes) {
  EXPECT_EQ(GoQuote("\U000E0001"), R"("\U000e0001")");
  EXPECT_EQ(GoQuote("\U0010FFFF"), R"("\U0010ffff")");
  EXPECT_EQ(GoQuote("\u0378"), R"("\u0378")");
  EXPECT_EQ(GoQuote("\U0001FB93"), R"("\U0001fb93")");
  // Unassigned (U+0378, U+1FB93) is escaped; U+0870, assigned in Unicode 14,
  // is printable with Unicode 15 tables (Go 1.19 escaped it as \u0870).
  EXPECT_EQ(GoQuote("\u0870"), "\"\u0870\"");
  EXPECT_EQ(GoQuote("\U0001FA75"), "\"\U0001FA75\"");  // Unicode 15
}

TEST(GoQuoteTest, QuoteList) {
  std::vector<std::string> flags = {"--from=build", "a b",
                                    std::string("\u00e9\x00", 3)};
  EXPECT_EQ(GoQuoteList(flags), "[\"--from=build\" \"a b\" \"\u00e9\\x00\"]");
  EXPECT_EQ(GoQuoteList(std::vector<std::string>{}), "[]");
}

}  // namespace
}  // namespace strata::base
