// The CLI's contract with scripts: help, version, exit codes and one-line
// errors that name the offending flag, file and line.
#include <gtest/gtest.h>

#include "support/run_command.h"
#include "support/test_support.h"

namespace strata::testing {
namespace {

bool OneLine(const std::string& s) {
  return !s.empty() && s.back() == '\n' &&
         s.find('\n') == s.size() - 1;
}

TEST(CliTest, HelpAndVersion) {
  CommandResult help = RunStrata({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage: strata"), std::string::npos);
  EXPECT_NE(help.out.find("build"), std::string::npos);
  CommandResult version = RunStrata({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("strata version ", 0), 0u) << version.out;
  CommandResult build_help = RunStrata({"build", "--help"});
  EXPECT_EQ(build_help.exit_code, 0);
  for (const char* flag :
       {"--file", "--tag", "--build-arg", "--target", "--no-cache",
        "--platform", "--label", "--iidfile", "--progress", "--quiet",
        "--output", "--secret", "--network", "--dry-run"}) {
    EXPECT_NE(build_help.out.find(flag), std::string::npos) << flag;
  }
  CommandResult none = RunStrata({});
  EXPECT_EQ(none.exit_code, 2);
}

struct UsageCase {
  std::vector<std::string> args;
  std::string message;  // must appear in the one-line error
};

class UsageErrorTest : public ::testing::TestWithParam<UsageCase> {};

TEST_P(UsageErrorTest, NamesTheProblemAndExits2) {
  CommandResult r = RunStrata(GetParam().args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(GetParam().message), std::string::npos) << r.err;
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UsageErrorTest,
    ::testing::Values(
        UsageCase{{"frobnicate"}, "unknown command: frobnicate"},
        UsageCase{{"--frob"}, "unknown flag: --frob"},
        UsageCase{{"build", "--frob", "."}, "unknown flag: --frob"},
        UsageCase{{"build", "-Z", "."}, "unknown shorthand flag: 'Z' in -Z"},
        UsageCase{{"build"}, "requires exactly 1 argument"},
        UsageCase{{"build", "a", "b"}, "requires exactly 1 argument"},
        UsageCase{{"build", "-f"}, "flag needs an argument"},
        UsageCase{{"build", "--platform", "linux/pdp11", "."},
                  "invalid argument \"linux/pdp11\" for \"--platform\""},
        UsageCase{{"build", "-t", "Bad:Tag", "."},
                  "invalid argument \"Bad:Tag\" for \"-t\" flag: invalid "
                  "reference format: repository name must be lowercase"},
        UsageCase{{"build", "--output", "type=floppy", "."},
                  "for \"--output\" flag: unknown output type \"floppy\""},
        UsageCase{{"build", "--secret", "id=x,color=red", "."},
                  "unexpected key 'color'"},
        UsageCase{{"build", "--progress=fancy", "."}, "--progress"},
        UsageCase{{"build", "--network", "bridge", "."}, "--network"},
        UsageCase{{"build", "--build-arg", "=x", "."}, "--build-arg"},
        UsageCase{{"build", "--label", "=x", "."}, "--label"},
        UsageCase{{"build", "--no-cache=maybe", "."}, "--no-cache"},
        UsageCase{{"debug", "dump-ast"}, "strata debug dump-ast FILE"}),
    [](const ::testing::TestParamInfo<UsageCase>& info) {
      return "case" + std::to_string(info.index);
    });

TEST(CliTest, RunMountSaysWhatIsMissing) {
  ScopedTempDir dir;
  dir.WriteFile("ctx/Dockerfile",
                "FROM scratch AS a\nFROM scratch\n"
                "RUN --mount=type=secret,id=nope,required=true true\n");
  CommandResult r = RunStrata({"build", "--root", dir.path() + "/root",
                               "-q", dir.path() + "/ctx"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Dockerfile:3: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
  EXPECT_TRUE(OneLine(r.err)) << r.err;
}

TEST(CliTest, DumpAstMatchesBuildKit) {
  std::string dir = TestdataPath("conformance/parser/docker");
  CommandResult r = RunStrata({"debug", "dump-ast", dir + "/Dockerfile"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ReadTestFile(dir + "/result"));
  // From stdin too.
  CommandResult in = RunStrata({"debug", "dump-ast", "-"},
                               ReadTestFile(dir + "/Dockerfile"));
  EXPECT_EQ(in.out, r.out);
}

TEST(CliTest, DumpAstParseErrorNamesFileAndLine) {
  ScopedTempDir dir;
  dir.WriteFile("Dockerfile", "FROM busybox\n\nENV PATH\n");
  CommandResult r = RunStrata({"debug", "dump-ast", "Dockerfile"}, "",
                              dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Dockerfile:3: ENV must have two arguments\n");
}

}  // namespace
}  // namespace strata::testing
