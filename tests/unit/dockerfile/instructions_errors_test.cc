// Every instruction-level error BuildKit reports, with its exact text and
// the file:line it is reported at. One parameterized case each.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dockerfile/instructions.h"
#include "dockerfile/parser.h"
#include "support/test_support.h"

namespace strata::dockerfile {
namespace {

struct ErrorCase {
  const char* name;
  const char* dockerfile;
  const char* error;  // Error::ToString() with file name "Dockerfile"
};

const ErrorCase kCases[] = {
    // Instructions and stages.
    {"unknown_upper", "FROM a\nRUNN x",
     "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"},
    {"unknown_lower", "FROM a\nrunn x",
     "Dockerfile:2: unknown instruction: runn (did you mean run?)"},
    {"unknown_mixed", "FROM a\nRunn x",
     "Dockerfile:2: unknown instruction: Runn (did you mean run?)"},
    {"unknown_far", "FROM a\nFOOBAR x",
     "Dockerfile:2: unknown instruction: FOOBAR"},
    {"unknown_near_from", "FOO bar",
     "Dockerfile:1: unknown instruction: FOO (did you mean FROM?)"},
    {"no_stage", "RUN x", "Dockerfile:1: no build stage in current context"},
    {"no_stage_after_args", "ARG a\n\nCMD x",
     "Dockerfile:3: no build stage in current context"},
    {"only_args", "ARG a=1\nARG b", "dockerfile contains no stages to build"},
    {"from_no_args", "FROM",
     "Dockerfile:1: FROM requires either one or three arguments"},
    {"from_two_args", "FROM a b",
     "Dockerfile:1: FROM requires either one or three arguments"},
    {"from_four_args", "FROM a AS b c",
     "Dockerfile:1: FROM requires either one or three arguments"},
    {"from_not_as", "FROM a IS b",
     "Dockerfile:1: FROM requires either one or three arguments"},
    {"stage_name_digit", "FROM a AS 1st",
     "Dockerfile:1: invalid name for build stage: \"1st\", name can't start "
     "with a number or contain symbols"},
    {"stage_name_symbol", "FROM a AS b@c",
     "Dockerfile:1: invalid name for build stage: \"b@c\", name can't start "
     "with a number or contain symbols"},
    {"from_unknown_flag", "FROM --plaform=x a",
     "Dockerfile:1: unknown flag: --plaform (did you mean platform?)"},
    {"error_line_after_continuation",
     "FROM a\nRUN echo \\\n  x\nCOPY --bad a b",
     "Dockerfile:4: unknown flag: --bad"},
    // Argument counts.
    {"env_empty", "FROM a\nENV",
     "Dockerfile:2: ENV requires at least one argument"},
    {"env_blank_name", "FROM a\nENV =x",
     "Dockerfile:2: ENV names can not be blank"},
    {"label_empty", "FROM a\nLABEL",
     "Dockerfile:2: LABEL requires at least one argument"},
    {"label_blank_name", "FROM a\nLABEL =x",
     "Dockerfile:2: LABEL names can not be blank"},
    {"arg_empty", "FROM a\nARG",
     "Dockerfile:2: ARG requires at least one argument"},
    {"arg_blank_name", "ARG =x\nFROM a",
     "Dockerfile:1: ARG names can not be blank"},
    {"maintainer_none", "FROM a\nMAINTAINER",
     "Dockerfile:2: MAINTAINER requires exactly one argument"},
    {"workdir_none", "FROM a\nWORKDIR",
     "Dockerfile:2: WORKDIR requires exactly one argument"},
    {"user_none", "FROM a\nUSER",
     "Dockerfile:2: USER requires exactly one argument"},
    {"stopsignal_none", "FROM a\nSTOPSIGNAL",
     "Dockerfile:2: STOPSIGNAL requires exactly one argument"},
    {"expose_none", "FROM a\nEXPOSE",
     "Dockerfile:2: EXPOSE requires at least one argument"},
    {"volume_none", "FROM a\nVOLUME",
     "Dockerfile:2: VOLUME requires at least one argument"},
    {"volume_empty_string", "FROM a\nVOLUME [\"/a\", \" \"]",
     "Dockerfile:2: VOLUME specified can not be an empty string"},
    {"copy_one_arg", "FROM a\nCOPY a",
     "Dockerfile:2: COPY requires at least two arguments, but only one was "
     "provided. Destination could not be determined"},
    {"add_one_arg", "FROM a\nADD a",
     "Dockerfile:2: ADD requires at least two arguments, but only one was "
     "provided. Destination could not be determined"},
    {"copy_heredoc_dest", "FROM a\nCOPY a <<EOF\nx\nEOF\n",
     "Dockerfile:2: COPY cannot accept a heredoc as a destination"},
    {"shell_not_json", "FROM a\nSHELL /bin/sh -c",
     "Dockerfile:2: SHELL requires the arguments to be in JSON form"},
    {"shell_empty", "FROM a\nSHELL []",
     "Dockerfile:2: SHELL requires at least one argument"},
    // Flags.
    {"copy_unknown_flag", "FROM a\nCOPY --boo a b",
     "Dockerfile:2: unknown flag: --boo"},
    {"copy_flag_suggestion", "FROM a\nCOPY --form=x a b",
     "Dockerfile:2: unknown flag: --form (did you mean from?)"},
    {"copy_duplicate_flag", "FROM a\nCOPY --from=a --from=b x y",
     "Dockerfile:2: duplicate flag specified: --from"},
    {"copy_flag_no_value", "FROM a\nCOPY --from a b",
     "Dockerfile:2: missing a value on flag: --from"},
    {"copy_bool_empty_value", "FROM a\nCOPY --link= a b",
     "Dockerfile:2: missing a value on flag: --link"},
    {"copy_bool_bad_value", "FROM a\nCOPY --link=yes a b",
     "Dockerfile:2: expecting boolean value for flag --link, not: yes"},
    {"copy_checksum_not_allowed", "FROM a\nCOPY --checksum=x a b",
     "Dockerfile:2: unknown flag: --checksum"},
    {"add_from_not_allowed", "FROM a\nADD --from=x a b",
     "Dockerfile:2: unknown flag: --from"},
    {"add_exclude_needs_value", "FROM a\nADD --exclude a b",
     "Dockerfile:2: missing a value on flag: --exclude"},
    {"maintainer_flag", "FROM a\nMAINTAINER --boo joe@example.com",
     "Dockerfile:2: unknown flag: --boo"},
    {"cmd_flag", "FROM a\nCMD --doit [\"a\"]",
     "Dockerfile:2: unknown flag: --doit"},
    {"env_flag", "FROM a\nENV --x=1 a=b", "Dockerfile:2: unknown flag: --x"},
    {"run_flag_suggestion", "FROM a\nRUN --mout=type=cache x",
     "Dockerfile:2: unknown flag: --mout (did you mean mount?)"},
    {"run_network", "FROM a\nRUN --network=bridge x",
     "Dockerfile:2: invalid network mode \"bridge\""},
    {"run_security", "FROM a\nRUN --security=root x",
     "Dockerfile:2: security \"root\" is not valid"},
    {"run_network_twice", "FROM a\nRUN --network=none --network=host x",
     "Dockerfile:2: duplicate flag specified: --network"},
    {"run_mount_from_variable", "FROM a\nRUN --mount=from=$X,target=/x x",
     "Dockerfile:2: 'from' doesn't support variable expansion, define alias "
     "stage instead"},
    {"run_mount_empty", "FROM a\nRUN --mount= x",
     "Dockerfile:2: failed to parse csv mounts: EOF"},
    {"run_mount_bare_quote", "FROM a\nRUN --mount=a\\\"b x",
     "Dockerfile:2: failed to parse csv mounts: parse error on line 1, column "
     "2: bare \" in non-quoted field"},
    {"run_device_bad_field", "FROM a\nRUN --device=a,b x",
     "Dockerfile:2: invalid field 'b' must be a key=value pair"},
    {"run_device_two_names", "FROM a\nRUN --device=a,name=b x",
     "Dockerfile:2: device name already set to a"},
    // HEALTHCHECK.
    {"healthcheck_empty", "FROM a\nHEALTHCHECK",
     "Dockerfile:2: HEALTHCHECK requires at least one argument"},
    {"healthcheck_none_args", "FROM a\nHEALTHCHECK NONE x",
     "Dockerfile:2: HEALTHCHECK NONE takes no arguments"},
    {"healthcheck_cmd_missing", "FROM a\nHEALTHCHECK CMD",
     "Dockerfile:2: Missing command after HEALTHCHECK CMD"},
    {"healthcheck_unknown_type", "FROM a\nHEALTHCHECK connect tcp",
     "Dockerfile:2: Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)"},
    {"healthcheck_flag", "FROM a\nHEALTHCHECK --intervl=5s CMD x",
     "Dockerfile:2: unknown flag: --intervl (did you mean interval?)"},
    {"healthcheck_no_unit", "FROM a\nHEALTHCHECK --interval=1 CMD x",
     "Dockerfile:2: time: missing unit in duration \"1\""},
    {"healthcheck_bad_duration", "FROM a\nHEALTHCHECK --timeout=abc CMD x",
     "Dockerfile:2: time: invalid duration \"abc\""},
    {"healthcheck_unknown_unit", "FROM a\nHEALTHCHECK --start-period=5d CMD x",
     "Dockerfile:2: time: unknown unit \"d\" in duration \"5d\""},
    {"healthcheck_too_short", "FROM a\nHEALTHCHECK --interval=10us CMD x",
     "Dockerfile:2: Interval \"interval\" cannot be less than 1ms"},
    {"healthcheck_negative", "FROM a\nHEALTHCHECK --start-interval=-1s CMD x",
     "Dockerfile:2: Interval \"start-interval\" cannot be less than 1ms"},
    {"healthcheck_retries_syntax", "FROM a\nHEALTHCHECK --retries=x CMD y",
     "Dockerfile:2: strconv.ParseInt: parsing \"x\": invalid syntax"},
    {"healthcheck_retries_range",
     "FROM a\nHEALTHCHECK --retries=99999999999 CMD y",
     "Dockerfile:2: strconv.ParseInt: parsing \"99999999999\": value out of "
     "range"},
    {"healthcheck_retries_negative", "FROM a\nHEALTHCHECK --retries=-1 CMD y",
     "Dockerfile:2: --retries cannot be negative (-1)"},
    // ONBUILD.
    {"onbuild_empty", "FROM a\nONBUILD",
     "Dockerfile:2: ONBUILD requires at least one argument"},
    {"onbuild_chained", "FROM a\nONBUILD ONBUILD RUN touch foobar",
     "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"},
    {"onbuild_from", "FROM a\nONBUILD FROM scratch",
     "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"},
    {"onbuild_maintainer", "FROM a\nonbuild maintainer me",
     "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"},
};

class InstructionErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(InstructionErrorTest, ReportsBuildKitError) {
  const ErrorCase& c = GetParam();
  auto ast = Parse(c.dockerfile, ParseOptions{});
  ASSERT_TRUE(ast.has_value()) << ast.error().ToString();
  auto parsed = ParseInstructions(*ast);
  ASSERT_FALSE(parsed.has_value()) << c.dockerfile;
  EXPECT_EQ(parsed.error().ToString(), c.error);
}

INSTANTIATE_TEST_SUITE_P(Cases, InstructionErrorTest,
                         ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) {
                           return strata::testing::SanitizeTestName(
                               info.param.name);
                         });

TEST(InstructionErrorTest, FileNameFromOptions) {
  auto ast = Parse("FROM a\nRUNN x", ParseOptions{});
  ASSERT_TRUE(ast.has_value());
  auto parsed = ParseInstructions(*ast, {.file_name = "build/app.Dockerfile"});
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().file(), "build/app.Dockerfile");
  EXPECT_EQ(parsed.error().line(), 2);
  EXPECT_EQ(parsed.error().code(), base::Code::kParse);
}

TEST(InstructionErrorTest, ParseCommandRejectsFrom) {
  auto ast = Parse("FROM a\n", ParseOptions{});
  ASSERT_TRUE(ast.has_value());
  auto cmd = ParseCommand(ast->root.children[0]);
  ASSERT_FALSE(cmd.has_value());
  EXPECT_EQ(cmd.error().ToString(),
            "Dockerfile:1: *instructions.Stage is not a command type");
  auto ok = Parse("RUN echo hi\n", ParseOptions{});
  ASSERT_TRUE(ok.has_value());
  auto run = ParseCommand(ok->root.children[0]);
  ASSERT_TRUE(run.has_value());
  EXPECT_TRUE(std::holds_alternative<RunCommand>(*run));
}

}  // namespace
}  // namespace strata::dockerfile
