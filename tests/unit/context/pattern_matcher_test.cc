#include "context/pattern_matcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "context/safe_path.h"
#include "tsv.h"

namespace strata::context {
namespace {

using testing::Describe;
using testing::ReadTsv;
using testing::RowName;
using testing::TsvRow;

std::string ToText(const base::Result<bool>& r) {
  if (!r) return "error";
  return *r ? "true" : "false";
}

// Matches `path` like upstream's test of the given api.
std::string RunApi(const std::string& api,
                   const std::vector<std::string>& patterns,
                   const std::string& path) {
  if (api == "Matches") return ToText(Matches(path, patterns));
  EXPECT_EQ(api, "MatchesOrParentMatches");
  base::Result<PatternMatcher> pm = PatternMatcher::New(patterns);
  if (!pm) return "error";
  return ToText(pm->MatchesOrParentMatches(path));
}

// MatchesUsingParentResults, fed each parent's results in turn as a walker
// does (upstream's "MatchesUsingParentResults" subtest).
std::string RunWithParentResults(const PatternMatcher& pm,
                                 const std::string& path) {
  MatchInfo info;
  std::string parent = DirName(path);
  if (parent != ".") {
    std::vector<std::string> dirs = base::Split(parent, '/');
    for (size_t i = 0; i < dirs.size(); ++i) {
      std::vector<std::string> prefix(dirs.begin(), dirs.begin() + i + 1);
      MatchInfo next;
      base::Result<bool> r =
          pm.MatchesUsingParentResults(base::Join(prefix, "/"), info, &next);
      if (!r) return "error";
      info = std::move(next);
    }
  }
  MatchInfo unused;
  return ToText(pm.MatchesUsingParentResults(path, info, &unused));
}

class MatchTsvTest : public ::testing::TestWithParam<TsvRow> {};

TEST_P(MatchTsvTest, Matches) {
  const TsvRow& row = GetParam();
  SCOPED_TRACE(Describe(row));
  const std::string& expected = row["expected_match"];
  EXPECT_EQ(RunApi(row["api"], {row["pattern"]}, row["path"]), expected);
  // Upstream checks the walker's API on the same rows.
  if (row["api"] == "MatchesOrParentMatches" && expected != "error") {
    base::Result<PatternMatcher> pm = PatternMatcher::New({row["pattern"]});
    ASSERT_TRUE(pm);
    EXPECT_EQ(RunWithParentResults(*pm, row["path"]), expected);
    MatchInfo unused;
    EXPECT_EQ(ToText(pm->MatchesUsingParentResults(row["path"], MatchInfo(),
                                                   &unused)),
              expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Conformance, MatchTsvTest,
                         ::testing::ValuesIn(ReadTsv("match.tsv")), RowName);

std::vector<TsvRow> MultiRows(bool context_rows) {
  std::vector<TsvRow> out;
  for (TsvRow& row : ReadTsv("match_multi.tsv")) {
    if ((row["api"] == "context") == context_rows) out.push_back(row);
  }
  return out;
}

std::vector<std::string> JsonList(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) {
    ADD_FAILURE() << "bad JSON list: " << text;
    return out;
  }
  for (const auto& item : j) out.push_back(item.get<std::string>());
  return out;
}

class MatchMultiTsvTest : public ::testing::TestWithParam<TsvRow> {};

TEST_P(MatchMultiTsvTest, Matches) {
  const TsvRow& row = GetParam();
  SCOPED_TRACE(Describe(row));
  std::vector<std::string> patterns = JsonList(row["patterns_json"]);
  const std::string& expected = row["expected_match"];
  EXPECT_EQ(RunApi(row["api"], patterns, row["path"]), expected);
  if (row["api"] == "MatchesOrParentMatches") {
    base::Result<PatternMatcher> pm = PatternMatcher::New(patterns);
    ASSERT_TRUE(pm);
    EXPECT_EQ(RunWithParentResults(*pm, row["path"]), expected);
  }
}

// The api=context rows run through the real walker in walker_test.cc.
INSTANTIATE_TEST_SUITE_P(Conformance, MatchMultiTsvTest,
                         ::testing::ValuesIn(MultiRows(false)), RowName);

class CompileTsvTest : public ::testing::TestWithParam<TsvRow> {};

TEST_P(CompileTsvTest, SlashSeparator) {
  const TsvRow& row = GetParam();
  SCOPED_TRACE(Describe(row));
  Pattern p = Pattern::Compile(CleanPath(row["pattern"]), false, '/');
  EXPECT_EQ(MatchTypeName(p.match_type()), row["match_type"]);
  std::string want = row["regexp_slash"] == "-" ? "" : row["regexp_slash"];
  EXPECT_EQ(p.regexp_source(), want);
}

TEST_P(CompileTsvTest, BackslashSeparator) {
  const TsvRow& row = GetParam();
  SCOPED_TRACE(Describe(row));
  // As upstream: clean with '/', then turn every '/' into '\'.
  std::string pattern = CleanPath(row["pattern"]);
  for (char& c : pattern) {
    if (c == '/') c = '\\';
  }
  Pattern p = Pattern::Compile(pattern, false, '\\');
  EXPECT_EQ(MatchTypeName(p.match_type()), row["match_type"]);
  std::string want =
      row["regexp_backslash"] == "-" ? "" : row["regexp_backslash"];
  EXPECT_EQ(p.regexp_source(), want);
}

INSTANTIATE_TEST_SUITE_P(Conformance, CompileTsvTest,
                         ::testing::ValuesIn(ReadTsv("compile.tsv")), RowName);

TEST(PatternMatcherTest, LoneExclamationIsAnError) {
  base::Result<PatternMatcher> pm = PatternMatcher::New({"docs", "!"});
  ASSERT_FALSE(pm);
  EXPECT_EQ(pm.error().message(), "illegal exclusion pattern: \"!\"");
}

TEST(PatternMatcherTest, MalformedPatternIsAnError) {
  base::Result<PatternMatcher> pm = PatternMatcher::New({"a[", "b"});
  ASSERT_FALSE(pm);
  EXPECT_EQ(pm.error().message(), "syntax error in pattern");
}

TEST(PatternMatcherTest, CleansAndDropsEmptyPatterns) {
  base::Result<PatternMatcher> pm =
      PatternMatcher::New({" docs/ ", "", "  ", "!docs/README.md  ", "./x"});
  ASSERT_TRUE(pm);
  ASSERT_EQ(pm->patterns().size(), 3u);
  EXPECT_EQ(pm->patterns()[0].str(), "docs");
  EXPECT_FALSE(pm->patterns()[0].exclusion());
  EXPECT_EQ(pm->patterns()[1].str(), "docs/README.md");
  EXPECT_TRUE(pm->patterns()[1].exclusion());
  EXPECT_EQ(pm->patterns()[2].str(), "x");
  EXPECT_TRUE(pm->exclusions());
  EXPECT_EQ(pm->patterns()[1].dirs(),
            (std::vector<std::string>{"docs", "README.md"}));
}

TEST(PatternMatcherTest, NoExclusions) {
  base::Result<PatternMatcher> pm = PatternMatcher::New({"a", "b/*"});
  ASSERT_TRUE(pm);
  EXPECT_FALSE(pm->exclusions());
}

// Upstream regression test: a pattern that passes New but whose regexp
// fails keeps failing, without crashing, on every call.
TEST(PatternMatcherTest, BadRegexpFailsOnEveryCall) {
  base::Result<PatternMatcher> pm = PatternMatcher::New({"[Local-Only]/"});
  ASSERT_TRUE(pm);
  EXPECT_EQ(pm->patterns()[0].match_type(), MatchType::kUnknown);
  for (int i = 0; i < 2; ++i) {
    base::Result<bool> r = pm->MatchesOrParentMatches("x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "syntax error in pattern");
  }
}

// A bad pattern is only reported when it is evaluated: an exclusion is not
// tried for a path nothing matched.
TEST(PatternMatcherTest, BadExclusionIsLazy) {
  base::Result<PatternMatcher> pm = PatternMatcher::New({"a", "![z-a]"});
  ASSERT_TRUE(pm);
  EXPECT_EQ(ToText(pm->MatchesOrParentMatches("b")), "false");
  EXPECT_EQ(ToText(pm->MatchesOrParentMatches("a")), "error");
}

TEST(PatternMatcherTest, MatchesExactIgnoresParents) {
  base::Result<PatternMatcher> pm = PatternMatcher::New({"dir"});
  ASSERT_TRUE(pm);
  EXPECT_EQ(ToText(pm->MatchesExact("dir")), "true");
  EXPECT_EQ(ToText(pm->MatchesExact("dir/file")), "false");
  EXPECT_EQ(ToText(pm->MatchesOrParentMatches("dir/file")), "true");
}

TEST(PatternMatcherTest, LastMatchWins) {
  std::vector<std::string> patterns = {"*.md", "!README.md", "README.md"};
  EXPECT_EQ(ToText(MatchesOrParentMatches("README.md", patterns)), "true");
  patterns.pop_back();
  EXPECT_EQ(ToText(MatchesOrParentMatches("README.md", patterns)), "false");
  EXPECT_EQ(ToText(MatchesOrParentMatches("CHANGES.md", patterns)), "true");
}

TEST(PatternMatcherTest, ParentResultsCarryExclusions) {
  // "a" matched a's parent result; the child keeps it even though the
  // exclusion "!a/b" applies only to a/b.
  base::Result<PatternMatcher> pm = PatternMatcher::New({"a", "!a/b"});
  ASSERT_TRUE(pm);
  MatchInfo a_info;
  ASSERT_EQ(ToText(pm->MatchesUsingParentResults("a", MatchInfo(), &a_info)),
            "true");
  EXPECT_EQ(a_info.parent_matched, (std::vector<bool>{true, false}));
  MatchInfo b_info;
  EXPECT_EQ(ToText(pm->MatchesUsingParentResults("a/b", a_info, &b_info)),
            "false");
  MatchInfo c_info;
  EXPECT_EQ(ToText(pm->MatchesUsingParentResults("a/c", a_info, &c_info)),
            "true");
  MatchInfo wrong;
  wrong.parent_matched = {true};
  EXPECT_FALSE(pm->MatchesUsingParentResults("a/c", wrong, &c_info));
}

TEST(PatternTest, FastPaths) {
  Pattern prefix = Pattern::Compile("dir/**", false);
  EXPECT_EQ(prefix.match_type(), MatchType::kPrefix);
  EXPECT_EQ(ToText(prefix.Match("dir/x/y")), "true");
  EXPECT_EQ(ToText(prefix.Match("dir")), "false");
  Pattern suffix = Pattern::Compile("**/foo", false);
  EXPECT_EQ(suffix.match_type(), MatchType::kSuffix);
  EXPECT_EQ(ToText(suffix.Match("a/b/foo")), "true");
  EXPECT_EQ(ToText(suffix.Match("foo")), "true");
  EXPECT_EQ(ToText(suffix.Match("afoo")), "false");
  Pattern suffix_no_sep = Pattern::Compile("**foo", false);
  EXPECT_EQ(ToText(suffix_no_sep.Match("afoo")), "true");
  Pattern exact = Pattern::Compile("a.b", false);
  EXPECT_EQ(exact.match_type(), MatchType::kExact);
  EXPECT_EQ(ToText(exact.Match("aXb")), "false");
}

// Quirks that come from running the glob through Go's regexp: they are
// what BuildKit does, so they are what we do.
TEST(PatternTest, RegexpQuirks) {
  // '^' outside a class is a begin-of-text anchor: never matches mid-way.
  Pattern caret = Pattern::Compile("a^b*", false);
  EXPECT_EQ(caret.regexp_source(), "^a^b[^/]*$");
  EXPECT_EQ(ToText(caret.Match("a^b")), "false");
  // Without a wildcard it is an exact match instead.
  EXPECT_EQ(ToText(Pattern::Compile("a^b", false).Match("a^b")), "true");
  // '*' inside a class becomes "[^/]*", whose ']' closes the class early.
  Pattern star_class = Pattern::Compile("[*]", false);
  EXPECT_EQ(star_class.regexp_source(), "^[[^/]*]$");
  EXPECT_EQ(ToText(star_class.Match("]")), "true");
  EXPECT_EQ(ToText(star_class.Match("[^]")), "true");
  EXPECT_EQ(ToText(star_class.Match("*")), "false");
  // `\d` is a regexp digit class, not the letter d.
  Pattern digit = Pattern::Compile("a\\d*", false);
  EXPECT_EQ(ToText(digit.Match("a5x")), "true");
  EXPECT_EQ(ToText(digit.Match("adx")), "false");
  // `*` matches '\n' ([^/]) but `**` does not (.*).
  EXPECT_EQ(ToText(Pattern::Compile("a*", false).Match("a\nb")), "true");
  EXPECT_EQ(ToText(Pattern::Compile("x/**/y", false).Match("x/a\nb/y")),
            "false");
  // An escaped non-ASCII rune is an invalid regexp escape.
  EXPECT_EQ(Pattern::Compile("a\\\xC3\xA9*", false).match_type(),
            MatchType::kUnknown);
}

TEST(PatternTest, RunesNotBytes) {
  // A leading BOM is skipped by Go's text/scanner when building the regexp.
  Pattern bom = Pattern::Compile(
      "\xEF\xBB\xBF"
      "a*",
      false);
  EXPECT_EQ(bom.regexp_source(), "^a[^/]*$");
  // An invalid byte becomes U+FFFD in the regexp and in the path.
  Pattern invalid = Pattern::Compile("a\xFF*", false);
  EXPECT_EQ(invalid.regexp_source(), "^a\xEF\xBF\xBD[^/]*$");
  EXPECT_EQ(ToText(invalid.Match("a\xFE")), "true");
  EXPECT_EQ(ToText(Pattern::Compile("a?b", false)
                       .Match("a\xE2\x98\xBA"
                              "b")),
            "true");
}

}  // namespace
}  // namespace strata::context
