// ParseInstructions over every conformance Dockerfile: the parser test files
// and the real-world files. Each must give what BuildKit's
// instructions.Parse gives: success, or the error listed below.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "dockerfile/instructions.h"
#include "dockerfile/instructions_deps.h"
#include "dockerfile/parser.h"
#include "support/test_support.h"

namespace strata::dockerfile {
namespace {

using strata::testing::ListSubdirs;
using strata::testing::ReadTestFile;
using strata::testing::SanitizeTestName;
using strata::testing::TestdataPath;

// Parser test files that BuildKit's instructions.Parse rejects: they only
// test the parser (instructions before FROM, bogus flags, an empty
// HEALTHCHECK).
const std::map<std::string, std::string>& ExpectedErrors() {
  static const std::map<std::string, std::string> errors = {
      {"parser/flags", "Dockerfile:3: unknown flag: --user"},
      {"parser/health",
       "Dockerfile:4: HEALTHCHECK requires at least one argument"},
      {"parser/json", "Dockerfile:1: no build stage in current context"},
      {"parser/jeztah-invalid-json-json-inside-string",
       "Dockerfile:1: no build stage in current context"},
      {"parser/jeztah-invalid-json-json-inside-string-double",
       "Dockerfile:1: no build stage in current context"},
      {"parser/jeztah-invalid-json-single-quotes",
       "Dockerfile:1: no build stage in current context"},
      {"parser/jeztah-invalid-json-unterminated-bracket",
       "Dockerfile:1: no build stage in current context"},
      {"parser/jeztah-invalid-json-unterminated-string",
       "Dockerfile:1: no build stage in current context"},
  };
  return errors;
}

std::vector<std::string> AllCases() {
  std::vector<std::string> cases;
  for (const char* group : {"parser", "real-dockerfiles"}) {
    for (const std::string& dir :
         ListSubdirs(TestdataPath(std::string("conformance/") + group))) {
      cases.push_back(std::string(group) + "/" + dir);
    }
  }
  return cases;
}

class InstructionsConformanceTest
    : public ::testing::TestWithParam<std::string> {};

TEST_P(InstructionsConformanceTest, MatchesBuildKit) {
  const std::string& name = GetParam();
  std::string text =
      ReadTestFile(TestdataPath("conformance/" + name + "/Dockerfile"));
  auto ast = Parse(text, ParseOptions{});
  ASSERT_TRUE(ast.has_value()) << ast.error().ToString();
  auto parsed = ParseInstructions(*ast);
  auto expected = ExpectedErrors().find(name);
  if (expected != ExpectedErrors().end()) {
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().ToString(), expected->second);
    return;
  }
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  // Every instruction lands somewhere, in order.
  size_t count = parsed->meta_args.size();
  int last_line = 0;
  for (const Stage& stage : parsed->stages) {
    count += 1 + stage.commands.size();
    EXPECT_GT(stage.start_line, last_line);
    last_line = stage.start_line;
    for (const Command& cmd : stage.commands) {
      EXPECT_GT(GetBase(cmd).start_line, last_line);
      last_line = GetBase(cmd).start_line;
    }
  }
  EXPECT_EQ(count, ast->root.children.size());
  // Stage references resolve as BuildKit resolves them.
  auto graph = BuildStageGraph(*parsed, ast->escape_token);
  EXPECT_TRUE(graph.has_value()) << graph.error().ToString();
}

INSTANTIATE_TEST_SUITE_P(Files, InstructionsConformanceTest,
                         ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return SanitizeTestName(info.param);
                         });

TEST(InstructionsConformanceTest, ExpectedErrorsNameRealCases) {
  std::vector<std::string> cases = AllCases();
  for (const auto& [name, error] : ExpectedErrors()) {
    EXPECT_NE(std::find(cases.begin(), cases.end(), name), cases.end()) << name;
  }
}

}  // namespace
}  // namespace strata::dockerfile
