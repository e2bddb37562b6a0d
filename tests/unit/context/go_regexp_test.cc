#include "context/go_regexp.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

namespace strata::context {
namespace {

using namespace std::string_view_literals;

struct RegexpCase {
  std::string_view source;
  std::string_view text;
  const char* want;  // "true", "false" or "error" (compile fails)
};

void PrintTo(const RegexpCase&, std::ostream* os) {
  *os << "regexp case";  // the source may hold bytes ctest cannot show
}

// Expected values come from Go 1.19's regexp (Compile + MatchString).
const RegexpCase kCases[] = {
    {"^abc$"sv, "abc"sv, "true"},
    {"^abc$"sv, "abcd"sv, "false"},
    {"abc"sv, "xabcx"sv, "true"},
    {"^a.c$"sv, "a\nc"sv, "false"},
    {"^a.c$"sv, "a\303\251c"sv, "true"},
    {"^a[^/]c$"sv, "a\nc"sv, "true"},
    {"^[a-\316\266]$"sv, "\316\261"sv, "true"},
    {"^[a-\316\266]$"sv, "A"sv, "false"},
    {"^a^b$"sv, "a^b"sv, "false"},
    {"^a|b$"sv, "ax"sv, "true"},
    {"^a|b$"sv, "xb"sv, "true"},
    {"^a|b$"sv, "xa"sv, "false"},
    {"^a{2}$"sv, "aa"sv, "true"},
    {"^a{2}$"sv, "aaa"sv, "false"},
    {"^a{2,}$"sv, "aaaa"sv, "true"},
    {"^a{1,2}$"sv, "aaa"sv, "false"},
    {"^a{,2}$"sv, "a{,2}"sv, "true"},
    {"^a{01}$"sv, "a{01}"sv, "true"},
    {"^{$"sv, "{"sv, "true"},
    {"^a}$"sv, "a}"sv, "true"},
    {"^x\\d$"sv, "x5"sv, "true"},
    {"^x\\d$"sv, "xd"sv, "false"},
    {"^\\w+$"sv, "a_1"sv, "true"},
    {"^\\W$"sv, "\n"sv, "true"},
    {"^\\s$"sv, "\013"sv, "false"},
    {"^[\\s]$"sv, "\t"sv, "true"},
    {"^[[:alpha:]]+$"sv, "abZ"sv, "true"},
    {"^[[:^alpha:]]$"sv, "1"sv, "true"},
    {"^[[:word:]]$"sv, "_"sv, "true"},
    {"\\bfoo\\b"sv, "a foo b"sv, "true"},
    {"\\bfoo\\b"sv, "afoo"sv, "false"},
    {"\\Bo"sv, "foo"sv, "true"},
    {"^\\Qa.b\\E.$"sv, "a.bx"sv, "true"},
    {"^\\Qa.b$"sv, "a.b$"sv, "true"},
    {"^\\x41\\x{42}\\101$"sv, "ABA"sv, "true"},
    {"^\\0$"sv, "\000"sv, "true"},
    {"^\\a\\f\\t\\n\\r\\v$"sv, "\007\014\t\n\015\013"sv, "true"},
    {"^[\\]a]$"sv, "]"sv, "true"},
    {"^[]a]$"sv, "]"sv, "true"},
    {"^[^]a]$"sv, "b"sv, "true"},
    {"^[a-]$"sv, "-"sv, "true"},
    {"^[[^/]*]$"sv, "[^]"sv, "true"},
    {"^(.*/)?b$"sv, "a/b"sv, "true"},
    {"^(.*/)?b$"sv, "a\n/b"sv, "false"},
    {"^.*$"sv, "a\nb"sv, "false"},
    {"^\\A\\z$"sv, ""sv, "true"},
    {"^a*?$"sv, "aa"sv, "true"},
    {"^a+$"sv, ""sv, "false"},
    {"^a??$"sv, ""sv, "true"},
    {"^$"sv, ""sv, "true"},
    {"x^"sv, "x"sv, "false"},
    {"^\\xff$"sv, "\303\277"sv, "true"},
    {"^\\x{FFFD}$"sv, "\377"sv, "true"},
    {"^[a"sv, "a"sv, "error"},
    {"^[z-a]$"sv, "a"sv, "error"},
    {"^a**$"sv, "a"sv, "error"},
    {"^a*+$"sv, "a"sv, "error"},
    {"^a\\\\"sv, "a"sv, "false"},
    {"^a\\"sv, "a"sv, "error"},
    {"^\\q$"sv, "q"sv, "error"},
    {"^\\C$"sv, "a"sv, "error"},
    {"^\\8$"sv, "8"sv, "error"},
    {"^\\1$"sv, "1"sv, "error"},
    {"^(a$"sv, "a"sv, "error"},
    {"^a)$"sv, "a"sv, "error"},
    {"^a{1001}$"sv, "a"sv, "error"},
    {"^a{3,2}$"sv, "a"sv, "error"},
    {"^*$"sv, "a"sv, "true"},
    {"^(*)$"sv, "a"sv, "error"},
    {"^[[:foo:]]$"sv, "a"sv, "error"},
    {"^\\\303\251$"sv, "\303\251"sv, "error"},
    {"^\\x{110000}$"sv, "a"sv, "error"},
    {"^\\xZ1$"sv, "a"sv, "error"},
    {"^\\x{}$"sv, "a"sv, "error"},
    {"^a{2}{3}$"sv, "aaaaaa"sv, "error"},
    {"^a|*$"sv, "a"sv, "error"},
};

class GoRegexpTest : public ::testing::TestWithParam<RegexpCase> {};

TEST_P(GoRegexpTest, MatchesLikeGo) {
  const RegexpCase& c = GetParam();
  base::Result<GoRegexp> re = GoRegexp::Compile(c.source);
  std::string got = !re ? "error" : re->MatchString(c.text) ? "true" : "false";
  EXPECT_EQ(got, c.want) << "regexp `" << c.source << "` text \"" << c.text
                         << "\"";
  if (re) {
    EXPECT_EQ(re->source(), c.source);
  }
}

INSTANTIATE_TEST_SUITE_P(Go, GoRegexpTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<RegexpCase>& info) {
                           return "case_" + std::to_string(info.index);
                         });

TEST(GoRegexpTest, UnicodeClassesAreUnsupported) {
  // Go accepts these; we do not carry Unicode tables (see go_regexp.h).
  EXPECT_FALSE(GoRegexp::Compile("^\\pL$"));
  EXPECT_FALSE(GoRegexp::Compile("^[\\p{Greek}]$"));
}

TEST(GoRegexpTest, NoCatastrophicBacktracking) {
  // Exponential for a backtracker; linear for the Pike VM.
  base::Result<GoRegexp> re = GoRegexp::Compile("^(a*)*(a|a)*b$");
  ASSERT_TRUE(re);
  EXPECT_FALSE(re->MatchString(std::string(20000, 'a')));
  base::Result<GoRegexp> glob =
      GoRegexp::Compile("^[^/]*a[^/]*a[^/]*a[^/]*a[^/]*a[^/]*b$");
  ASSERT_TRUE(glob);
  EXPECT_FALSE(glob->MatchString(std::string(20000, 'a')));
}

TEST(GoRegexpTest, SizeLimit) {
  std::string big = "^";
  for (int i = 0; i < 3400; ++i) big += "a{1000}";
  EXPECT_FALSE(GoRegexp::Compile(big + "$"));
  std::string ok = "^";
  for (int i = 0; i < 30; ++i) ok += "a{1000}";
  base::Result<GoRegexp> re = GoRegexp::Compile(ok + "$");
  ASSERT_TRUE(re);
  EXPECT_TRUE(re->MatchString(std::string(30000, 'a')));
  EXPECT_FALSE(re->MatchString(std::string(29999, 'a')));
}

TEST(GoRegexpTest, NestingLimit) {
  // Go (and we) accept 999 nested groups and refuse 1000.
  for (int n : {999, 1000}) {
    std::string deep = std::string(n, '(') + "a" + std::string(n, ')');
    base::Result<GoRegexp> re = GoRegexp::Compile(deep);
    EXPECT_EQ(static_cast<bool>(re), n == 999) << n;
    if (re) {
      EXPECT_TRUE(re->MatchString("a"));
    }
  }
  EXPECT_FALSE(GoRegexp::Compile(std::string(100000, '(')));
}

}  // namespace
}  // namespace strata::context
