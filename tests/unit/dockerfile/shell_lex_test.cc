#include "dockerfile/shell_lex.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/str.h"
#include "base/utf8.h"
#include "support/test_support.h"

namespace strata::dockerfile {
namespace {

using strata::testing::ReadTestFile;
using strata::testing::SanitizeTestName;
using strata::testing::TestdataPath;

// Upstream's TestShellParser4EnvVars environment.
const std::vector<std::string> kDefaultEnv = {"PWD=/home", "SHELL=bash",
                                              "KOREAN=한국어", "NULL="};

// The lines of a file as bufio.Scanner gives them (a final "\r" dropped).
std::vector<std::string> FileLines(const std::string& relative) {
  std::vector<std::string> lines =
      base::Split(ReadTestFile(TestdataPath(relative)), '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (std::string& line : lines) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
  }
  return lines;
}

std::string ShowWords(const std::vector<std::string>& words) {
  return "[" + base::Join(words, "|") + "]";
}

// --- envVarTest: ProcessWord with the default environment. ---------------

struct EnvVarCase {
  int line;
  char platform;  // 'A', 'U' or 'W'; 0 when the line is malformed
  std::string input, expected;
};

std::vector<EnvVarCase> LoadEnvVarCases() {
  std::vector<EnvVarCase> cases;
  std::vector<std::string> lines = FileLines("conformance/shell/envVarTest");
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (base::StartsWith(line, "#")) continue;
    if (base::TrimUnicodeSpace(line).empty()) continue;
    std::vector<std::string> fields = base::Split(line, '|');
    EnvVarCase c{static_cast<int>(i + 1), 0, line, ""};
    if (fields.size() == 3) {
      std::string_view platform = base::TrimUnicodeSpace(fields[0]);
      if (platform == "A" || platform == "U" || platform == "W") {
        c.platform = platform[0];
      }
      c.input = std::string(base::TrimUnicodeSpace(fields[1]));
      c.expected = std::string(base::TrimUnicodeSpace(fields[2]));
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// gtest puts the printed parameter into each ctest name; the input could
// hold bytes that ctest names cannot, so print only what is safe.
void PrintTo(const EnvVarCase& c, std::ostream* os) {
  *os << (c.platform ? c.platform : '?');
}

class EnvVarTest : public ::testing::TestWithParam<EnvVarCase> {};

TEST_P(EnvVarTest, ProcessWord) {
  const EnvVarCase& c = GetParam();
  ASSERT_NE(c.platform, 0) << "malformed line: " << c.input;
  // 'W' lines hold for BuildKit on Windows, where names ignore case.
  EnvList env = EnvList::FromStrings(kDefaultEnv, c.platform == 'W');
  ShellLex lex(LexOptions{});
  base::Result<std::string> got = lex.ProcessWord(c.input, env);
  if (c.expected == "error") {
    EXPECT_FALSE(got) << c.input << " gave " << *got;
    return;
  }
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, c.expected) << c.input;
}

INSTANTIATE_TEST_SUITE_P(Upstream, EnvVarTest,
                         ::testing::ValuesIn(LoadEnvVarCases()),
                         [](const ::testing::TestParamInfo<EnvVarCase>& info) {
                           return SanitizeTestName(
                               base::StrCat("line_", info.param.line));
                         });

// --- wordsTest: ProcessWords, with ENV lines adding to the environment. --

struct WordsCase {
  int line;
  std::vector<std::string> env;
  std::string input;
  std::vector<std::string> expected;
  bool malformed = false;
};

std::vector<WordsCase> LoadWordsCases() {
  std::vector<WordsCase> cases;
  std::vector<std::string> env;
  std::vector<std::string> lines = FileLines("conformance/shell/wordsTest");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (base::StartsWith(line, "#")) continue;
    if (base::StartsWith(line, "ENV ")) {
      std::string_view entry = line.substr(3);
      while (base::StartsWith(entry, " ")) entry.remove_prefix(1);
      env.emplace_back(entry);
      continue;
    }
    WordsCase c{static_cast<int>(i + 1), env, std::string(line), {}};
    std::vector<std::string> fields = base::Split(line, '|');
    if (fields.size() != 2) {
      c.malformed = true;
    } else {
      c.input = std::string(base::TrimUnicodeSpace(fields[0]));
      std::string_view expected = fields[1];
      while (base::StartsWith(expected, " ")) expected.remove_prefix(1);
      c.expected = base::Split(expected, ',');
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

void PrintTo(const WordsCase& c, std::ostream* os) { *os << c.line; }

class WordsTest : public ::testing::TestWithParam<WordsCase> {};

TEST_P(WordsTest, ProcessWords) {
  const WordsCase& c = GetParam();
  ASSERT_FALSE(c.malformed) << "malformed line: " << c.input;
  ShellLex lex(LexOptions{});
  base::Result<std::vector<std::string>> got =
      lex.ProcessWords(c.input, EnvList::FromStrings(c.env));
  std::vector<std::string> words =
      got ? *got : std::vector<std::string>{"error"};
  EXPECT_EQ(words, c.expected) << c.input << " gave " << ShowWords(words)
                               << ", want " << ShowWords(c.expected);
}

INSTANTIATE_TEST_SUITE_P(Upstream, WordsTest,
                         ::testing::ValuesIn(LoadWordsCases()),
                         [](const ::testing::TestParamInfo<WordsCase>& info) {
                           return SanitizeTestName(
                               base::StrCat("line_", info.param.line));
                         });

// --- process_word_cases.json: ProcessWordWithMatches. --------------------

struct MatchCase {
  int index;
  nlohmann::json json;
};

std::vector<MatchCase> LoadMatchCases() {
  std::string text =
      ReadTestFile(TestdataPath("conformance/shell/process_word_cases.json"));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  std::vector<MatchCase> cases;
  if (!doc.is_object() || !doc["cases"].is_array()) {
    // One failing case rather than none, so a broken file is noticed.
    cases.push_back({-1, nlohmann::json()});
    return cases;
  }
  int index = 0;
  for (const nlohmann::json& c : doc["cases"]) cases.push_back({index++, c});
  return cases;
}

std::set<std::string> JsonSet(const nlohmann::json& array) {
  std::set<std::string> out;
  for (const nlohmann::json& v : array) out.insert(v.get<std::string>());
  return out;
}

void PrintTo(const MatchCase& c, std::ostream* os) { *os << c.index; }

class ProcessWordCasesTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(ProcessWordCasesTest, WithMatches) {
  const nlohmann::json& c = GetParam().json;
  ASSERT_TRUE(c.is_object() && c["input"].is_string()) << "bad case file";
  std::string input = c["input"].get<std::string>();
  EnvList env;
  for (const auto& [key, value] : c["envs"].items()) {
    env.Set(key, value.get<std::string>());
  }
  ShellLex lex(LexOptions{});
  base::Result<WordResult> got = lex.ProcessWordWithMatches(input, env);
  if (c.value("expected_error", false)) {
    ASSERT_FALSE(got) << input << " gave " << got->result;
    if (c.contains("error_contains")) {
      std::string want = c["error_contains"].get<std::string>();
      EXPECT_NE(got.error().message().find(want), std::string::npos)
          << got.error().message();
    }
    EXPECT_EQ(got.error().code(), base::Code::kParse);
    return;
  }
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->result, c["expected"].get<std::string>()) << input;
  if (c.contains("matched")) {
    EXPECT_EQ(got->matched, JsonSet(c["matched"]));
  }
  if (c.contains("unmatched")) {
    EXPECT_EQ(got->unmatched, JsonSet(c["unmatched"]));
  }
}

INSTANTIATE_TEST_SUITE_P(Upstream, ProcessWordCasesTest,
                         ::testing::ValuesIn(LoadMatchCases()),
                         [](const ::testing::TestParamInfo<MatchCase>& info) {
                           return info.param.index < 0
                                      ? std::string("unreadable")
                                      : SanitizeTestName(base::StrCat(
                                            "case_", info.param.index));
                         });

// --- Our own cases: options, escape tokens, patterns, errors. -------------
// Expected values were checked against BuildKit's lex.go itself.

struct OwnCase {
  std::string name;
  LexOptions options;
  std::string input;
  // The expansion, or the whole error message after "error: ".
  std::string want;
  std::vector<std::string> want_words = {};  // checked unless an error
  std::vector<std::string> env = kDefaultEnv;
  bool windows = false;
};

constexpr LexOptions kBacktick{.escape_token = '`'};
constexpr LexOptions kRawQuotes{.raw_quotes = true};
constexpr LexOptions kRawEscapes{.raw_escapes = true};
constexpr LexOptions kSkipUnset{.skip_unset_env = true};
constexpr LexOptions kSkipQuotes{.skip_process_quotes = true};

std::vector<OwnCase> OwnCases() {
  const LexOptions plain{};
  return {
      // The backtick escape token (# escape=`): '\' is an ordinary char.
      {"backtick_quote", kBacktick, "he`'llo", "he'llo", {"he'llo"}},
      {"backtick_keeps_backslash",
       kBacktick,
       R"(C:\Windows\$PWD)",
       R"(C:\Windows\/home)",
       {R"(C:\Windows\/home)"}},
      {"backtick_in_double_quotes", kBacktick, "\"a`\"b\"", "a\"b", {"a\"b"}},
      {"backtick_only_escapes_some",
       kBacktick,
       "\"a`b\\c``\"",
       "a`b\\c`",
       {"a`b\\c`"}},
      {"backtick_at_end", kBacktick, "a`", "a", {"a"}},
      {"backtick_brace", kBacktick, "${X:-`}}", "}", {"}"}},
      {"backtick_dollar", kBacktick, "`$PWD", "$PWD", {"$PWD"}},
      {"backtick_space", kBacktick, "a` b c", "a b c", {"a b", "c"}},
      // RawQuotes keeps the quote characters, still grouping words.
      {"raw_quotes", kRawQuotes, "'a'\"b\"", "'a'\"b\"", {"'a'\"b\""}},
      {"raw_quotes_words",
       kRawQuotes,
       "\"a b\" 'c d' e",
       "\"a b\" 'c d' e",
       {"\"a b\"", "'c d'", "e"}},
      // RawEscapes keeps escape tokens; in double quotes an escape of an
      // ordinary char is then doubled, as in BuildKit.
      {"raw_escapes", kRawEscapes, "a\\ b", "a\\ b", {"a\\ b"}},
      {"raw_escapes_quoted",
       kRawEscapes,
       "\"a\\\"b\\x\"",
       "a\\\"b\\\\x",
       {"a\\\"b\\\\x"}},
      {"raw_escapes_at_end", kRawEscapes, "a\\", "a\\", {"a\\"}},
      // SkipUnsetEnv leaves unset references as written ('//' loses one
      // '/', as upstream).
      {"skip_unset",
       kSkipUnset,
       "$X ${X} ${X:-d} ${X/a/b} ${X//a/b} ${X?} $PWD",
       "$X ${X} ${X:-d} ${X/a/b} ${X/a/b} ${X?} /home",
       {"$X", "${X}", "${X:-d}", "${X/a/b}", "${X/a/b}", "${X?}", "/home"}},
      {"skip_unset_raw_quotes",
       LexOptions{.raw_quotes = true, .skip_unset_env = true},
       "$X-${X:+y}",
       "$X-${X:+y}",
       {"${X:+y}"}},
      {"skip_process_quotes",
       kSkipQuotes,
       "'$PWD' \"a b\"",
       "'/home' \"a b\"",
       {"'/home'", "\"a", "b\""}},
      // Patterns work on runes, not bytes.
      {"utf8_patterns",
       plain,
       "${KOREAN#한} ${KOREAN%어} ${KOREAN#?} ${KOREAN%?} ${KOREAN/국/-} "
       "${KOREAN//?/x} ${KOREAN##*국}",
       "국어 한국 국어 한국 한-어 xxx 어",
       {"국어", "한국", "국어", "한국", "한-어", "xxx", "어"}},
      {"utf8_emoji_patterns",
       plain,
       "${V%%🚀*} ${V#👽?} ${V/🚀/\\*} ${V//[?]/_}",
       "👽 🖖 👽\\*🖖 👽🚀🖖",
       {"👽", "🖖", "👽\\*🖖", "👽🚀🖖"},
       {"V=👽🚀🖖"}},
      {"brackets_are_literal",
       plain,
       "${W//[?]/_} ${W#[} ${W%]}",
       "_ 👽] [👽",
       {"_", "👽]", "[👽"},
       {"W=[👽]"}},
      // Only replace-all expands $0 in the replacement (Go's
      // ReplaceAllString); the lexer expands "$0" first, so it must be
      // escaped, and the escape stays.
      {"replace_all_expands_match",
       plain,
       R"(${FOO//o/[\$0]} ${FOO/o/[\$0]} ${FOO//o/\${0}\$1\$$})",
       R"(f[\o][\o] f[\$0]o f\${0\${0$1$$})",
       {R"(f[\o][\o])", R"(f[\$0]o)", R"(f\${0\${0$1$$})"},
       {"FOO=foo"}},
      // BuildKit shares one word buffer with nested ${...:...} expansions,
      // which drops a partial word in ProcessWords (not in the result).
      {"words_lose_prefix_before_modifier",
       plain,
       "a${X:-b}c d",
       "abc d",
       {"bc", "d"}},
      {"words_lose_prefix_before_quoted_modifier",
       plain,
       "a\"${X:-b}\"c",
       "abc",
       {"bc"}},
      // Go's text/scanner skips a leading byte order mark and reads an
      // invalid byte as U+FFFD.
      {"leading_bom_skipped",
       plain,
       "\uFEFFabc\uFEFF",
       "abc\uFEFF",
       {"abc\uFEFF"}},
      {"invalid_utf8",
       plain,
       "a\xff"
       "b",
       "a\uFFFDb",
       {"a\uFFFDb"}},
      // Names: Unicode letters and digits, positional and special params.
      {"unicode_names",
       plain,
       "${été}|${٣}|$1a|${_x}",
       "1|arabic|a|u",
       {"1|arabic|a|u"},
       {"été=1", "٣=arabic", "_x=u"}},
      // Windows: names compare after Go's strings.ToUpper.
      {"windows_names",
       plain,
       "he$pwd.|${Pwd:-x}|${ǅ}|${ß}",
       "he/home.|/home|dz|",
       {"/home|dz|"},
       {"PWD=/home", "Ǆ=dz", "SS=no"},
       true},
      {"unix_names",
       plain,
       "he$pwd.|${Pwd:-x}|${ǅ}",
       "he.|x|",
       {"x|"},
       {"PWD=/home", "Ǆ=dz"}},
      // Errors, word for word.
      {"err_unset", plain, "${A:?}",
       "error: failed to process \"${A:?}\": A: is not allowed to be unset"},
      {"err_empty", plain, "${NULL:?}",
       "error: failed to process \"${NULL:?}\": NULL: is not allowed to be "
       "empty"},
      {"err_custom", plain, "${A:?custom $PWD}",
       "error: failed to process \"${A:?custom $PWD}\": A: custom /home"},
      {"err_open_name", plain, "${A",
       "error: failed to process \"${A\": unsupported modifier (\uFFFD) in "
       "substitution"},
      {"err_empty_braces", plain, "${}",
       "error: failed to process \"${}\": syntax error: bad substitution"},
      {"err_missing_brace", plain, "${A:-x",
       "error: failed to process \"${A:-x\": syntax error: missing '}'"},
      {"err_missing_slash", plain, "${A/x",
       "error: failed to process \"${A/x\": syntax error: missing '/' in "
       "${}"},
      {"err_colon_hash", plain, "${A:#x}",
       "error: failed to process \"${A:#x}\": unsupported modifier (:#) in "
       "substitution"},
      {"err_assign", plain, "${A=x}",
       "error: failed to process \"${A=x}\": unsupported modifier (=) in "
       "substitution"},
      {"err_single_quote", plain, "'abc",
       "error: failed to process \"'abc\": unexpected end of statement "
       "while looking for matching single-quote"},
      {"err_double_quote", plain, "\"abc",
       "error: failed to process \"\\\"abc\": unexpected end of statement "
       "while looking for matching double-quote"},
      {"err_bad_escape", plain, R"(${PWD#\x})",
       R"(error: failed to process "${PWD#\\x}": invalid pattern (\x) in )"
       R"(substitution: invalid escape '\x')"},
      {"err_bad_escape_suffix_shows_reversed", plain, R"(${PWD%ab\x})",
       R"(error: failed to process "${PWD%ab\\x}": invalid pattern (\xba) )"
       R"(in substitution: invalid escape '\x')"},
      {"err_quoted_source", plain, "a\tb'",
       "error: failed to process \"a\\tb'\": unexpected end of statement "
       "while looking for matching single-quote"},
      {"err_nested_quote", plain, "${A:-${B:-'x}}",
       "error: failed to process \"${A:-${B:-'x}}\": syntax error: missing "
       "'}'"},
      {"err_combining_mark_not_a_name", plain, "${e\u0301}",
       "error: failed to process \"${e\u0301}\": unsupported modifier "
       "(\u0301) in substitution"},
  };
}

void PrintTo(const OwnCase& c, std::ostream* os) { *os << c.name; }

class OwnCasesTest : public ::testing::TestWithParam<OwnCase> {};

TEST_P(OwnCasesTest, Expands) {
  const OwnCase& c = GetParam();
  EnvList env = EnvList::FromStrings(c.env, c.windows);
  ShellLex lex(c.options);
  base::Result<WordResult> got = lex.ProcessWordWithMatches(c.input, env);
  if (base::StartsWith(c.want, "error: ")) {
    ASSERT_FALSE(got) << c.input << " gave " << got->result;
    EXPECT_EQ(got.error().message(), c.want.substr(7));
    EXPECT_EQ(got.error().code(), base::Code::kParse);
    EXPECT_TRUE(got.error().file().empty());
    return;
  }
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->result, c.want);
  EXPECT_EQ(got->words, c.want_words) << ShowWords(got->words);
  // The three entry points agree.
  EXPECT_EQ(*lex.ProcessWord(c.input, env), c.want);
  EXPECT_EQ(*lex.ProcessWords(c.input, env), c.want_words);
}

INSTANTIATE_TEST_SUITE_P(Own, OwnCasesTest, ::testing::ValuesIn(OwnCases()),
                         [](const ::testing::TestParamInfo<OwnCase>& info) {
                           return info.param.name;
                         });

TEST(ShellLexTest, MatchesCoverAllReferences) {
  ShellLex lex(LexOptions{});
  EnvList env = EnvList::FromStrings({"A=1", "E="});
  base::Result<WordResult> got = lex.ProcessWordWithMatches(
      "$A ${E:-x} ${U} ${V#y} ${W/a/b} \"$Q\" '$S' ${+x}", env);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->result, "1 x     $S ");
  EXPECT_EQ(got->matched, (std::set<std::string>{"A", "E"}));
  // ${+x} has the empty name, which BuildKit looks up too.
  EXPECT_EQ(got->unmatched, (std::set<std::string>{"", "Q", "U", "V", "W"}));
}

TEST(ShellLexTest, NestingIsBounded) {
  ShellLex lex(LexOptions{});
  EnvList env;
  auto nested = [](int depth) {
    std::string word;
    for (int i = 0; i < depth; ++i) word += "${X:-";
    word += "a";
    for (int i = 0; i < depth; ++i) word += "}";
    return word;
  };
  base::Result<std::string> ok =
      lex.ProcessWord(nested(ShellLex::kMaxNesting), env);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ok, "a");
  base::Result<std::string> deep = lex.ProcessWord(nested(100000), env);
  ASSERT_FALSE(deep);
  EXPECT_NE(deep.error().message().find("nested more than 256 deep"),
            std::string::npos);
}

TEST(ShellLexTest, LongValuesStayFast) {
  // Patterns run in O(value x pattern) without backtracking blow-ups.
  ShellLex lex(LexOptions{});
  EnvList env;
  env.Set("V", std::string(200000, 'a') + "b");
  std::string stars;
  for (int i = 0; i < 50; ++i) stars += "*a";
  base::Result<std::string> got = lex.ProcessWord(
      "${V%%" + stars + "*c}|${V##" + stars + "}|${V//a/}", env);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, std::string(200000, 'a') + "b|b|b");
}

TEST(ShellLexTest, ReplaceAllOutputIsBounded) {
  ShellLex lex(LexOptions{});
  EnvList env;
  env.Set("V", std::string(1000, 'a'));
  env.Set("R", std::string(600, 'r'));
  base::Result<std::string> one = lex.ProcessWord("${V//a/$R}", env);
  ASSERT_TRUE(one) << one.error().message();
  EXPECT_EQ(one->size(), 600000u);
  // Two of them pass the word's budget of ShellLex::kMaxReplaceAllBytes.
  base::Result<std::string> two = lex.ProcessWord("${V//a/$R}${V//a/$R}", env);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().message(),
            "failed to process \"${V//a/$R}${V//a/$R}\": ${V//...} results in "
            "this word exceed 1048576 bytes");
}

TEST(EnvListTest, LaterEntriesWin) {
  EnvList env = EnvList::FromStrings({"A=1", "B", "A=2=3", "C="});
  EXPECT_EQ(env.Get("A"), "2=3");
  EXPECT_EQ(env.Get("B"), "");
  EXPECT_EQ(env.Get("C"), "");
  EXPECT_EQ(env.Get("a"), std::nullopt);
  EXPECT_EQ(env.Keys(), (std::vector<std::string>{"A", "B", "C"}));
}

TEST(EnvListTest, CaseInsensitiveUsesGoToUpper) {
  EnvList env = EnvList::FromPairs({{"Path", "x"}, {"PATH", "y"}},
                                   /*case_insensitive=*/true);
  EXPECT_EQ(env.Get("path"), "y");
  EXPECT_EQ(env.Keys(), (std::vector<std::string>{"Path"}));
  env.Set("straße", "s");
  // Go's simple upper-case mapping leaves ß alone; ǆ, ǅ and Ǆ are one name.
  EXPECT_EQ(env.Get("STRASSE"), std::nullopt);
  EXPECT_EQ(env.Get("STRAßE"), "s");
  env.Set("ǆ", "dz");
  EXPECT_EQ(env.Get("ǅ"), "dz");
  EXPECT_EQ(env.Get("Ǆ"), "dz");
}

}  // namespace
}  // namespace strata::dockerfile
