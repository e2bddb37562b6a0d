// `strata build --dry-run`: the plan it prints and the errors it finds,
// on small contexts written by each test and on the embedded example.
#include <gtest/gtest.h>

#include <map>

#include "support/run_command.h"
#include "support/test_support.h"

namespace strata::testing {
namespace {

struct DryRunCase {
  std::string name;
  std::map<std::string, std::string> files;  // the context
  std::vector<std::string> flags;            // before the context path
  int exit_code;
  std::string out;  // exact stdout
  std::string err;  // exact stderr
};

void PrintTo(const DryRunCase& c, std::ostream* os) { *os << c.name; }

class DryRunTest : public ::testing::TestWithParam<DryRunCase> {};

TEST_P(DryRunTest, PrintsPlanOrError) {
  const DryRunCase& c = GetParam();
  ScopedTempDir dir;
  for (const auto& [path, content] : c.files) dir.WriteFile(path, content);
  std::vector<std::string> args = {"build", "--dry-run", "--platform",
                                   "linux/amd64"};
  args.insert(args.end(), c.flags.begin(), c.flags.end());
  args.push_back("ctx");
  CommandResult r = RunStrata(args, "", dir.path());
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  EXPECT_EQ(r.out, c.out);
  EXPECT_EQ(r.err, c.err);
}

const char kMultiStage[] =
    "ARG BASE=alpine\n"
    "ARG TAG\n"
    "FROM ${BASE}:${TAG:-3.19} AS build\n"
    "ARG TAG\n"
    "ARG MODE=release\n"
    "ENV OUT=/out/$MODE\n"
    "WORKDIR /src\n"
    "COPY *.c ./\n"
    "RUN cc -o $OUT/app main.c\n"
    "\n"
    "FROM build AS test\n"
    "RUN ./run-tests\n"
    "\n"
    "FROM scratch\n"
    "COPY --from=build /out/release/app /app\n"
    "ENTRYPOINT [\"/app\"]\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, DryRunTest,
    ::testing::Values(
        DryRunCase{
            "multistage_args_and_pruning",
            {{"ctx/Dockerfile", kMultiStage},
             {"ctx/main.c", "int main(){}\n"},
             {"ctx/util.c", "\n"}},
            {"--build-arg", "TAG=3.20", "--build-arg", "UNUSED=1"},
            0,
            "Dockerfile: ctx/Dockerfile\n"
            "Context: ctx (3 files)\n"
            "Platform: linux/amd64 (build platform linux/amd64)\n"
            "Target: stage-2 (needs build, stage-2)\n"
            "Global ARGs: BASE=alpine TAG=3.20\n"
            "\n"
            "stage 0 build: FROM alpine:3.20\n"
            "  [build 1/4] FROM alpine:3.20\n"
            "    ARG TAG\n"
            "    ARG MODE=release\n"
            "    ENV OUT=/out/release\n"
            "  [build 2/4] WORKDIR /src\n"
            "  [build 3/4] COPY *.c ./\n"
            "  [build 4/4] RUN cc -o /out/release/app main.c\n"
            "\n"
            "stage 1 test: FROM stage build\n"
            "  skipped: the target does not need it\n"
            "\n"
            "stage 2 stage-2: FROM scratch\n"
            "  [stage-2 1/1] COPY --from=build /out/release/app /app\n"
            "    ENTRYPOINT [/app]\n"
            "\n"
            "Warnings:\n"
            "  build-arg UNUSED was not consumed\n",
            ""},
        DryRunCase{"target_selects_stage",
                   {{"ctx/Dockerfile", kMultiStage},
                    {"ctx/main.c", "int main(){}\n"}},
                   {"--target", "TEST"},
                   0,
                   "Dockerfile: ctx/Dockerfile\n"
                   "Context: ctx (2 files)\n"
                   "Platform: linux/amd64 (build platform linux/amd64)\n"
                   "Target: test (needs build, test)\n"
                   "Global ARGs: BASE=alpine TAG (unset)\n"
                   "\n"
                   "stage 0 build: FROM alpine:3.19\n"
                   "  [build 1/4] FROM alpine:3.19\n"
                   "    ARG TAG\n"
                   "    ARG MODE=release\n"
                   "    ENV OUT=/out/release\n"
                   "  [build 2/4] WORKDIR /src\n"
                   "  [build 3/4] COPY *.c ./\n"
                   "  [build 4/4] RUN cc -o /out/release/app main.c\n"
                   "\n"
                   "stage 1 test: FROM stage build\n"
                   "  [test 1/1] RUN ./run-tests\n"
                   "\n"
                   "stage 2 stage-2: FROM scratch\n"
                   "  skipped: the target does not need it\n",
                   ""},
        DryRunCase{"dockerignore_next_to_dockerfile_wins",
                   {{"ctx/Dockerfile", "FROM scratch\nCOPY . /\n"},
                    {"ctx/.dockerignore", "*\n"},
                    {"ctx/Dockerfile.dockerignore", "secret\n"},
                    {"ctx/secret", "x"},
                    {"ctx/keep", "y"}},
                   {},
                   0,
                   "Dockerfile: ctx/Dockerfile\n"
                   "Context: ctx (4 files after ctx/Dockerfile.dockerignore, "
                   "1 patterns)\n"
                   "Platform: linux/amd64 (build platform linux/amd64)\n"
                   "Target: stage-0 (needs stage-0)\n"
                   "\n"
                   "stage 0 stage-0: FROM scratch\n"
                   "  [1/1] COPY . /\n",
                   ""},
        DryRunCase{"copy_from_unknown_name_is_an_image",
                   {{"ctx/Dockerfile",
                     "FROM scratch AS build\nFROM scratch\n"
                     "COPY --from=biuld /a /a\n"}},
                   {},
                   0,
                   "Dockerfile: ctx/Dockerfile\n"
                   "Context: ctx (1 files)\n"
                   "Platform: linux/amd64 (build platform linux/amd64)\n"
                   "Target: stage-1 (needs stage-1)\n"
                   "\n"
                   "stage 0 build: FROM scratch\n"
                   "  skipped: the target does not need it\n"
                   "\n"
                   "stage 1 stage-1: FROM scratch\n"
                   "  [stage-1 1/1] COPY --from=biuld /a /a\n"
                   "\n"
                   "Warnings:\n"
                   "  ctx/Dockerfile:3: COPY --from=biuld names no stage; it "
                   "will be read from the image \"biuld\"\n",
                   ""},
        DryRunCase{"copy_from_bad_index",
                   {{"ctx/Dockerfile", "FROM scratch\nCOPY --from=5 /a /a\n"}},
                   {},
                   1,
                   "",
                   "ctx/Dockerfile:2: invalid stage index 5\n"},
        DryRunCase{"unknown_instruction",
                   {{"ctx/Dockerfile",
                     "FROM scratch\n# one\n# two\n\nCOPY a b\n\nRUNN x\n"}},
                   {},
                   1,
                   "",
                   "ctx/Dockerfile:7: unknown instruction: RUNN (did you "
                   "mean RUN?)\n"},
        DryRunCase{"missing_copy_source",
                   {{"ctx/Dockerfile", "FROM scratch\nCOPY nope.txt /\n"},
                    {"ctx/.dockerignore", "secret\n"}},
                   {},
                   1,
                   "",
                   "ctx/Dockerfile:2: COPY source \"nope.txt\" not found in "
                   "the build context (or excluded by ctx/.dockerignore)\n"},
        DryRunCase{"excluded_copy_source",
                   {{"ctx/Dockerfile", "FROM scratch\nCOPY secret /\n"},
                    {"ctx/secret", "x"},
                    {"ctx/.dockerignore", "secret\n"}},
                   {},
                   1,
                   "",
                   "ctx/Dockerfile:2: COPY source \"secret\" not found in "
                   "the build context (or excluded by ctx/.dockerignore)\n"},
        DryRunCase{"duplicate_stage_name",
                   {{"ctx/Dockerfile",
                     "FROM scratch AS a\nFROM scratch AS b\nFROM scratch AS "
                     "a\n"}},
                   {},
                   1,
                   "",
                   "ctx/Dockerfile:3: duplicate stage name \"a\" (first used "
                   "on line 1)\n"},
        DryRunCase{"copy_from_later_stage",
                   {{"ctx/Dockerfile",
                     "FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS "
                     "b\n"}},
                   {"--target", "a"},
                   1,
                   "",
                   "ctx/Dockerfile:2: cannot copy from stage \"b\", it needs "
                   "to be defined before current stage \"a\"\n"},
        DryRunCase{"instruction_before_from",
                   {{"ctx/Dockerfile", "ARG X\nRUN true\nFROM scratch\n"}},
                   {},
                   1,
                   "",
                   "ctx/Dockerfile:2: no build stage in current context\n"},
        DryRunCase{"bad_mount_option",
                   {{"ctx/Dockerfile",
                     "FROM scratch\nRUN --mount=type=cache,color=red true\n"}},
                   {},
                   1,
                   "",
                   "ctx/Dockerfile:2: unexpected key 'color' in "
                   "'color=red'\n"},
        DryRunCase{"invalid_stage_name",
                   {{"ctx/Dockerfile", "FROM scratch AS 1abc\n"}},
                   {},
                   1,
                   "",
                   "ctx/Dockerfile:1: invalid name for build stage: \"1abc\", "
                   "name can't start with a number or contain symbols\n"},
        DryRunCase{"unknown_target",
                   {{"ctx/Dockerfile", "FROM scratch AS a\n"}},
                   {"--target", "b"},
                   1,
                   "",
                   "target stage \"b\" could not be found\n"},
        DryRunCase{"missing_dockerfile",
                   {{"ctx/file", "x"}},
                   {},
                   1,
                   "",
                   "failed to read Dockerfile: ctx/Dockerfile: No such file "
                   "or directory\n"}),
    [](const ::testing::TestParamInfo<DryRunCase>& info) {
      return info.param.name;
    });

TEST(DryRunExampleTest, EmbeddedExampleMatchesGolden) {
  CommandResult r = RunStrata(
      {"build", "--dry-run", "--platform", "linux/amd64", "--build-arg",
       "PYTHON_VERSION=3.11", "-t", "example/python-app:dev",
       "examples/python-app"},
      "", TestdataPath(""));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ReadTestFile(TestdataPath("cli/python-app.dry-run.txt")));
}

TEST(DryRunExampleTest, DockerfileFromStdin) {
  CommandResult r = RunStrata(
      {"build", "--dry-run", "--platform", "linux/amd64", "-f", "-", "."},
      "FROM scratch\nLABEL a=b\n", TestdataPath("examples/python-app"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stage-0: FROM scratch\n    LABEL a=b\n"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace strata::testing
