// Conformance tests: strata's parser against BuildKit's outputs recorded in
// testdata/conformance (see its README.md for every format). Each case is its
// own test instance, so a failure names the case.
#include "dockerfile/parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace strata::dockerfile {
namespace {

using nlohmann::json;
using strata::testing::ListSubdirs;
using strata::testing::ReadTestFile;
using strata::testing::SanitizeTestName;
using strata::testing::TestdataPath;

json ReadJson(const std::string& path) {
  json j = json::parse(ReadTestFile(path), nullptr,
                       /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << path;
  return j;
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  return SanitizeTestName(info.param);
}

// Parses `dir`/Dockerfile and checks its dump against `dir`/result.
ParseResult ParseAndCheckDump(const std::string& dir) {
  std::string input = ReadTestFile(dir + "/Dockerfile");
  base::Result<ParseResult> parsed = Parse(input);
  if (!parsed) {
    ADD_FAILURE() << dir << ": " << parsed.error().ToString();
    return ParseResult();
  }
  EXPECT_EQ(parsed->root.Dump() + "\n", ReadTestFile(dir + "/result"));
  return std::move(parsed).value();
}

// Checks the generated ast.json: escape token, lines, heredocs, warnings.
void CheckAstJson(const ParseResult& parsed, const std::string& path) {
  json ast = ReadJson(path);
  EXPECT_EQ(std::string(1, parsed.escape_token),
            ast["escape_token"].get<std::string>());
  EXPECT_EQ(parsed.root.start_line, ast["root_lines"][0].get<int>());
  EXPECT_EQ(parsed.root.end_line, ast["root_lines"][1].get<int>());
  const json& children = ast["children"];
  ASSERT_EQ(parsed.root.children.size(), children.size());
  for (const json& expected : children) {
    size_t index = expected["index"].get<size_t>();
    ASSERT_LT(index, parsed.root.children.size());
    const Node& child = parsed.root.children[index];
    SCOPED_TRACE("child " + std::to_string(index) + ": " + child.original);
    EXPECT_EQ(child.start_line, expected["start_line"].get<int>());
    EXPECT_EQ(child.end_line, expected["end_line"].get<int>());
    std::vector<Heredoc> want;
    if (expected.contains("heredocs")) {
      for (const json& h : expected["heredocs"]) {
        want.push_back(Heredoc{.name = h["name"].get<std::string>(),
                               .file_descriptor = h["fd"].get<int>(),
                               .expand = h["expand"].get<bool>(),
                               .chomp = h["chomp"].get<bool>(),
                               .content = h["content"].get<std::string>()});
      }
    }
    EXPECT_EQ(child.heredocs, want);
  }
  std::vector<std::string> warnings;
  for (const Warning& w : parsed.warnings) warnings.push_back(w.short_text);
  EXPECT_EQ(warnings, ast["warnings"].get<std::vector<std::string>>());
}

// --- parser/<case>: BuildKit's own testfiles. ------------------------------

class ParserConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParserConformanceTest, DumpMatchesResult) {
  ParseAndCheckDump(TestdataPath("conformance/parser/" + GetParam()));
}

INSTANTIATE_TEST_SUITE_P(
    Conformance, ParserConformanceTest,
    ::testing::ValuesIn(ListSubdirs(TestdataPath("conformance/parser"))),
    CaseName);

TEST(ParserConformanceCount, AllCasesPresent) {
  EXPECT_EQ(ListSubdirs(TestdataPath("conformance/parser")).size(), 33u);
  EXPECT_EQ(ListSubdirs(TestdataPath("conformance/real-dockerfiles")).size(),
            37u);
  EXPECT_EQ(ListSubdirs(TestdataPath("conformance/parser-negative")).size(),
            4u);
}

// --- real-dockerfiles/<case>: dump and ast.json. ---------------------------

class RealDockerfileTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RealDockerfileTest, DumpAndAstMatch) {
  std::string dir = TestdataPath("conformance/real-dockerfiles/" + GetParam());
  ParseResult parsed = ParseAndCheckDump(dir);
  CheckAstJson(parsed, dir + "/ast.json");
}

INSTANTIATE_TEST_SUITE_P(Conformance, RealDockerfileTest,
                         ::testing::ValuesIn(ListSubdirs(
                             TestdataPath("conformance/real-dockerfiles"))),
                         CaseName);

// --- parser-negative/<case>: must fail with BuildKit's message. ------------

class ParserNegativeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParserNegativeTest, FailsWithMessage) {
  std::string dir = TestdataPath("conformance/parser-negative/" + GetParam());
  std::string expected = ReadTestFile(dir + "/error");
  while (!expected.empty() &&
         (expected.back() == '\n' || expected.back() == '\r')) {
    expected.pop_back();
  }
  base::Result<ParseResult> parsed = Parse(ReadTestFile(dir + "/Dockerfile"));
  ASSERT_FALSE(parsed.has_value());
  const base::Error& error = parsed.error();
  EXPECT_EQ(error.code(), base::Code::kParse);
  EXPECT_NE(error.message().find(expected), std::string::npos)
      << error.message();
  EXPECT_EQ(error.file(), "Dockerfile");
  EXPECT_GT(error.line(), 0);
  EXPECT_EQ(error.ToString().find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Conformance, ParserNegativeTest,
                         ::testing::ValuesIn(ListSubdirs(
                             TestdataPath("conformance/parser-negative"))),
                         CaseName);

TEST(ParserNegativeLines, LinesAreBuildKitsOrFirst) {
  std::string base = TestdataPath("conformance/parser-negative/");
  auto line_of = [&](const std::string& name) {
    base::Result<ParseResult> r =
        Parse(ReadTestFile(base + name + "/Dockerfile"));
    return r ? -1 : r.error().line();
  };
  EXPECT_EQ(line_of("empty_dockerfile"), 1);
  EXPECT_EQ(line_of("only_comments"), 3);  // the last line
  EXPECT_EQ(line_of("env_no_value"), 3);
  EXPECT_EQ(line_of("shykes-nested-json"), 1);
}

// --- parser-lines: TestParseIncludesLineNumbers. ---------------------------

TEST(ParserLinesTest, LineNumbers) {
  std::string dir = TestdataPath("conformance/parser-lines");
  ParseResult parsed = ParseAndCheckDump(dir);
  CheckAstJson(parsed, dir + "/ast.json");
  json expected = ReadJson(dir + "/expected_lines.json");
  EXPECT_EQ(parsed.root.start_line, expected["root"][0].get<int>());
  EXPECT_EQ(parsed.root.end_line, expected["root"][1].get<int>());
  ASSERT_EQ(parsed.root.children.size(), expected["children"].size());
  for (size_t i = 0; i < parsed.root.children.size(); ++i) {
    EXPECT_EQ(parsed.root.children[i].start_line,
              expected["children"][i][0].get<int>());
    EXPECT_EQ(parsed.root.children[i].end_line,
              expected["children"][i][1].get<int>());
  }
}

// --- parser-heredoc/{extracts,json-form}. ----------------------------------

class ParserHeredocTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParserHeredocTest, HeredocsMatch) {
  std::string dir = TestdataPath("conformance/parser-heredoc/" + GetParam());
  ParseResult parsed = ParseAndCheckDump(dir);
  CheckAstJson(parsed, dir + "/ast.json");
  json expected = ReadJson(dir + "/expected_heredocs.json");
  size_t first = expected["children_from_index"].get<size_t>();
  const json& lists = expected["heredocs"];
  ASSERT_EQ(parsed.root.children.size(), first + lists.size());
  for (size_t i = 0; i < lists.size(); ++i) {
    const Node& child = parsed.root.children[first + i];
    SCOPED_TRACE(child.original);
    std::vector<Heredoc> want;
    if (!lists[i].is_null()) {
      for (const json& h : lists[i]) {
        want.push_back(
            Heredoc{.name = h["Name"].get<std::string>(),
                    .file_descriptor = h["FileDescriptor"].get<int>(),
                    .expand = h["Expand"].get<bool>(),
                    .chomp = h["Chomp"].get<bool>(),
                    .content = h["Content"].get<std::string>()});
      }
    }
    EXPECT_EQ(child.heredocs, want);
  }
}

INSTANTIATE_TEST_SUITE_P(Conformance, ParserHeredocTest,
                         ::testing::Values("extracts", "json-form"), CaseName);

// --- parser-warnings/empty-continuation. -----------------------------------

TEST(ParserWarningsTest, EmptyContinuation) {
  std::string dir =
      TestdataPath("conformance/parser-warnings/empty-continuation");
  ParseResult parsed = ParseAndCheckDump(dir);
  CheckAstJson(parsed, dir + "/ast.json");
  json expected = ReadJson(dir + "/expected.json");
  ASSERT_EQ(parsed.warnings.size(), expected["warning_count"].get<size_t>());
  const json& contains = expected["warnings_short_contains"];
  for (size_t i = 0; i < contains.size(); ++i) {
    for (const json& part : contains[i]) {
      EXPECT_NE(parsed.warnings[i].short_text.find(part.get<std::string>()),
                std::string::npos)
          << parsed.warnings[i].short_text;
    }
  }
  EXPECT_NE(parsed.warnings[0].detail.find(
                expected["warning0_detail_contains"].get<std::string>()),
            std::string::npos);
  // BuildKit puts each warning on the instruction's last line.
  EXPECT_EQ(parsed.warnings[0].start_line, 11);
  EXPECT_EQ(parsed.warnings[1].start_line, 15);
}

}  // namespace
}  // namespace strata::dockerfile
