#include "context/glob.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

namespace strata::context {
namespace {

using namespace std::string_view_literals;

struct GlobCase {
  std::string_view pattern;
  std::string_view name;
  const char* want;  // "true", "false" or "error" (ErrBadPattern)
};

void PrintTo(const GlobCase&, std::ostream* os) {
  *os << "glob case";  // the pattern may hold bytes ctest cannot show
}

// Go's own filepath.Match tests plus the error cases patternmatcher relies
// on; expected values come from Go 1.19's filepath.Match.
const GlobCase kCases[] = {
    {"abc"sv, "abc"sv, "true"},
    {"*"sv, "abc"sv, "true"},
    {"*c"sv, "abc"sv, "true"},
    {"a*"sv, "a"sv, "true"},
    {"a*"sv, "abc"sv, "true"},
    {"a*"sv, "ab/c"sv, "false"},
    {"a*/b"sv, "abc/b"sv, "true"},
    {"a*/b"sv, "a/c/b"sv, "false"},
    {"a*b*c*d*e*/f"sv, "axbxcxdxe/f"sv, "true"},
    {"a*b*c*d*e*/f"sv, "axbxcxdxexxx/f"sv, "true"},
    {"a*b*c*d*e*/f"sv, "axbxcxdxe/xxx/f"sv, "false"},
    {"a*b*c*d*e*/f"sv, "axbxcxdxexxx/fff"sv, "false"},
    {"a*b?c*x"sv, "abxbbxdbxebxczzx"sv, "true"},
    {"a*b?c*x"sv, "abxbbxdbxebxczzy"sv, "false"},
    {"ab[c]"sv, "abc"sv, "true"},
    {"ab[b-d]"sv, "abc"sv, "true"},
    {"ab[e-g]"sv, "abc"sv, "false"},
    {"ab[^c]"sv, "abc"sv, "false"},
    {"ab[^b-d]"sv, "abc"sv, "false"},
    {"ab[^e-g]"sv, "abc"sv, "true"},
    {"a\\*b"sv, "a*b"sv, "true"},
    {"a\\*b"sv, "ab"sv, "false"},
    {"a?b"sv, "a\342\230\272b"sv, "true"},
    {"a[^a]b"sv, "a\342\230\272b"sv, "true"},
    {"a???b"sv, "a\342\230\272b"sv, "false"},
    {"a[^a][^a][^a]b"sv, "a\342\230\272b"sv, "false"},
    {"[a-\316\266]*"sv, "\316\261"sv, "true"},
    {"*[a-\316\266]"sv, "A"sv, "false"},
    {"a?b"sv, "a/b"sv, "false"},
    {"a*b"sv, "a/b"sv, "false"},
    {"[\\]a]"sv, "]"sv, "true"},
    {"[\\-]"sv, "-"sv, "true"},
    {"[x\\-]"sv, "x"sv, "true"},
    {"[x\\-]"sv, "-"sv, "true"},
    {"[x\\-]"sv, "z"sv, "false"},
    {"[\\-x]"sv, "x"sv, "true"},
    {"[\\-x]"sv, "-"sv, "true"},
    {"[\\-x]"sv, "a"sv, "false"},
    {"[]a]"sv, "]"sv, "error"},
    {"[-]"sv, "-"sv, "error"},
    {"[x-]"sv, "x"sv, "error"},
    {"[x-]"sv, "-"sv, "error"},
    {"[x-]"sv, "z"sv, "error"},
    {"[-x]"sv, "x"sv, "error"},
    {"[-x]"sv, "-"sv, "error"},
    {"[-x]"sv, "a"sv, "error"},
    {"\\"sv, "a"sv, "error"},
    {"[a-b-c]"sv, "a"sv, "error"},
    {"["sv, "a"sv, "error"},
    {"[^"sv, "a"sv, "error"},
    {"[^bc"sv, "a"sv, "error"},
    {"a["sv, "a"sv, "error"},
    {"a["sv, "ab"sv, "error"},
    {"a["sv, "x"sv, "error"},
    {"a/b["sv, "x"sv, "error"},
    {"*x"sv, "xxx"sv, "true"},
    {"a*["sv, "x"sv, "false"},
    {"x*["sv, "x"sv, "error"},
    {"[\377]"sv, "a"sv, "error"},
    {"[Local-Only]"sv, "."sv, "false"},
    {"[l-O]"sv, "m"sv, "false"},
    {"**"sv, "a/b"sv, "false"},
    {""sv, ""sv, "true"},
    {""sv, "a"sv, "false"},
};

class GlobTest : public ::testing::TestWithParam<GlobCase> {};

TEST_P(GlobTest, MatchesLikeGo) {
  const GlobCase& c = GetParam();
  base::Result<bool> r = GlobMatch(c.pattern, c.name);
  std::string got = !r ? "error" : *r ? "true" : "false";
  EXPECT_EQ(got, c.want) << "pattern `" << c.pattern << "` name \"" << c.name
                         << "\"";
  if (!r) {
    EXPECT_EQ(r.error().message(), kBadPatternText);
  }
}

INSTANTIATE_TEST_SUITE_P(Go, GlobTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<GlobCase>& info) {
                           return "case_" + std::to_string(info.index);
                         });

}  // namespace
}  // namespace strata::context
