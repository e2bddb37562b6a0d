// The typed instruction model, one test per instruction kind (happy paths),
// with the AST built by the real parser from Dockerfile text.
#include "dockerfile/instructions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dockerfile/instructions_expose.h"
#include "dockerfile/parser.h"

namespace strata::dockerfile {
namespace {

using Strings = std::vector<std::string>;

ParsedInstructions MustParse(std::string_view text) {
  auto ast = Parse(text, ParseOptions{});
  EXPECT_TRUE(ast.has_value()) << ast.error().ToString();
  if (!ast) return {};
  auto parsed = ParseInstructions(*ast);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().ToString();
  if (!parsed) return {};
  return std::move(*parsed);
}

// The only command of the only stage of "FROM scratch\n" + `line`.
template <typename T>
T One(std::string_view line) {
  ParsedInstructions df = MustParse("FROM scratch\n" + std::string(line));
  if (df.stages.size() != 1 || df.stages[0].commands.size() != 1) {
    ADD_FAILURE() << "expected one command in: " << line;
    return T{};
  }
  const T* cmd = std::get_if<T>(&df.stages[0].commands[0]);
  if (cmd == nullptr) {
    ADD_FAILURE() << "wrong command type for: " << line;
    return T{};
  }
  return *cmd;
}

base::Result<std::string> Upper(std::string_view w) {
  std::string out(w);
  for (char& c : out) c = static_cast<char>(std::toupper(c));
  return out;
}

TEST(InstructionsTest, FromWithPlatformAndName) {
  ParsedInstructions df = MustParse(
      "# builder compiles things\n"
      "FROM --platform=$BUILDPLATFORM golang:1.22 AS Builder\n"
      "RUN true\n"
      "from alpine\n");
  ASSERT_EQ(df.stages.size(), 2u);
  const Stage& s0 = df.stages[0];
  EXPECT_EQ(s0.name, "builder");
  EXPECT_EQ(s0.base_name, "golang:1.22");
  EXPECT_EQ(s0.platform, "$BUILDPLATFORM");
  EXPECT_EQ(s0.orig_cmd, "FROM");
  EXPECT_EQ(s0.comment, "compiles things");
  EXPECT_EQ(s0.source_code,
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS Builder");
  EXPECT_EQ(s0.start_line, 2);
  EXPECT_EQ(s0.end_line, 2);
  EXPECT_EQ(s0.commands.size(), 1u);
  const Stage& s1 = df.stages[1];
  EXPECT_EQ(s1.name, "");
  EXPECT_EQ(s1.base_name, "alpine");
  EXPECT_EQ(s1.orig_cmd, "from");
  EXPECT_EQ(s1.start_line, 4);
  EXPECT_TRUE(s1.commands.empty());
}

TEST(InstructionsTest, MetaArgsBeforeFirstFrom) {
  ParsedInstructions df = MustParse(
      "# VERSION the version\n"
      "ARG VERSION=1.0 OTHER\n"
      "ARG BASE\n"
      "FROM img:$VERSION\n"
      "ARG VERSION\n");
  ASSERT_EQ(df.meta_args.size(), 2u);
  ASSERT_EQ(df.meta_args[0].args.size(), 2u);
  EXPECT_EQ(df.meta_args[0].args[0],
            (KeyValuePairOptional{"VERSION", "1.0", "the version"}));
  EXPECT_EQ(df.meta_args[0].args[1],
            (KeyValuePairOptional{"OTHER", std::nullopt, ""}));
  EXPECT_EQ(df.meta_args[1].start_line, 3);
  ASSERT_EQ(df.stages.size(), 1u);
  ASSERT_EQ(df.stages[0].commands.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<ArgCommand>(df.stages[0].commands[0]));
}

TEST(InstructionsTest, ArgKeepsQuotesAndEmptyValues) {
  auto arg = One<ArgCommand>("ARG abc=\"123 456\" def= ghi");
  ASSERT_EQ(arg.args.size(), 3u);
  EXPECT_EQ(arg.args[0].key, "abc");
  EXPECT_EQ(arg.args[0].value, "\"123 456\"");
  EXPECT_EQ(arg.args[1].value, "");
  EXPECT_EQ(arg.args[2].value, std::nullopt);
  // BuildKit never parses ARG flags, so an unknown one is ignored.
  EXPECT_EQ(One<ArgCommand>("ARG --foo=bar x").args[0].key, "x");
}

TEST(InstructionsTest, RunShellForm) {
  auto run = One<RunCommand>("RUN echo hi && \\\n  echo there");
  EXPECT_EQ(run.name, "RUN");
  EXPECT_EQ(run.cmd_line, (Strings{"echo hi &&   echo there"}));
  EXPECT_TRUE(run.prepend_shell);
  EXPECT_TRUE(run.files.empty());
  EXPECT_EQ(run.start_line, 2);
  EXPECT_EQ(run.end_line, 3);
  EXPECT_EQ(run.code, "RUN echo hi &&   echo there");
  EXPECT_EQ(run.network, "default");
  EXPECT_EQ(run.security, "sandbox");
  EXPECT_TRUE(run.flags_used.empty());
}

TEST(InstructionsTest, RunJsonForm) {
  auto run = One<RunCommand>("RUN [\"echo\", \"a b\"]");
  EXPECT_EQ(run.cmd_line, (Strings{"echo", "a b"}));
  EXPECT_FALSE(run.prepend_shell);
}

TEST(InstructionsTest, RunHeredocsKept) {
  auto run = One<RunCommand>(
      "RUN <<EOF bash\n"
      "echo one\n"
      "EOF\n");
  EXPECT_EQ(run.cmd_line, (Strings{"<<EOF bash"}));
  ASSERT_EQ(run.files.size(), 1u);
  EXPECT_EQ(run.files[0], (ShellInlineFile{"EOF", "echo one\n", false}));
  auto chomped = One<RunCommand>("RUN <<-EOT\n\techo x\nEOT\n");
  ASSERT_EQ(chomped.files.size(), 1u);
  EXPECT_EQ(chomped.files[0], (ShellInlineFile{"EOT", "\techo x\n", true}));
}

TEST(InstructionsTest, RunFlags) {
  auto run = One<RunCommand>(
      "RUN --network=none --security=insecure "
      "--mount=type=cache,target=/c,from=base --device=nvidia.com/gpu=all "
      "--mount=type=secret,id=tok make");
  EXPECT_EQ(run.network, "none");
  EXPECT_EQ(run.security, "insecure");
  EXPECT_EQ(run.flags_used,
            (Strings{"network", "security", "mount", "device"}));
  EXPECT_EQ(run.mount_specs,
            (Strings{"type=cache,target=/c,from=base", "type=secret,id=tok"}));
  // Before expansion BuildKit only reads `from`.
  ASSERT_EQ(run.mounts.size(), 2u);
  EXPECT_EQ(run.mounts[0].from, "base");
  EXPECT_EQ(run.mounts[0].type, MountType::kBind);
  EXPECT_EQ(run.mounts[0].target, "");
  ASSERT_EQ(run.devices.size(), 1u);
  EXPECT_EQ(run.devices[0], (Device{"nvidia.com/gpu=all", false}));
  ASSERT_TRUE(run.Expand(Upper).has_value());
  EXPECT_EQ(run.mounts[0].type, MountType::kCache);
  EXPECT_EQ(run.mounts[0].target, "/C");
  EXPECT_EQ(run.mounts[0].from, "BASE");
  EXPECT_EQ(run.mounts[1].type, MountType::kSecret);
  EXPECT_EQ(run.mounts[1].cache_id, "TOK");
}

TEST(InstructionsTest, CmdForms) {
  EXPECT_EQ(One<CmdCommand>("CMD [\"a\", \"b\"]").cmd_line,
            (Strings{"a", "b"}));
  auto shell = One<CmdCommand>("CMD echo  $HOME");
  EXPECT_EQ(shell.cmd_line, (Strings{"echo  $HOME"}));
  EXPECT_TRUE(shell.prepend_shell);
  auto empty = One<CmdCommand>("CMD []");
  EXPECT_TRUE(empty.cmd_line.empty());
  EXPECT_FALSE(empty.prepend_shell);
  EXPECT_TRUE(One<CmdCommand>("CMD").cmd_line.empty());
}

TEST(InstructionsTest, EntrypointForms) {
  auto json = One<EntrypointCommand>("ENTRYPOINT [\"/bin/app\", \"-v\"]");
  EXPECT_EQ(json.cmd_line, (Strings{"/bin/app", "-v"}));
  EXPECT_FALSE(json.prepend_shell);
  auto shell = One<EntrypointCommand>("ENTRYPOINT exec /bin/app");
  EXPECT_EQ(shell.cmd_line, (Strings{"exec /bin/app"}));
  EXPECT_TRUE(shell.prepend_shell);
}

TEST(InstructionsTest, ShellJson) {
  auto shell = One<ShellCommand>("SHELL [\"powershell\", \"-command\"]");
  EXPECT_EQ(shell.shell, (Strings{"powershell", "-command"}));
}

TEST(InstructionsTest, EnvForms) {
  auto env = One<EnvCommand>("ENV A=1 B=\"two words\" C=");
  ASSERT_EQ(env.env.size(), 3u);
  EXPECT_EQ(env.env[0], (KeyValuePair{"A", "1", false}));
  EXPECT_EQ(env.env[1], (KeyValuePair{"B", "\"two words\"", false}));
  EXPECT_EQ(env.env[2], (KeyValuePair{"C", "", false}));
  auto legacy = One<EnvCommand>("ENV PATH /usr/bin:$PATH");
  ASSERT_EQ(legacy.env.size(), 1u);
  EXPECT_EQ(legacy.env[0], (KeyValuePair{"PATH", "/usr/bin:$PATH", true}));
  ASSERT_TRUE(env.Expand(Upper).has_value());
  EXPECT_EQ(env.env[1].value, "\"TWO WORDS\"");
}

TEST(InstructionsTest, Label) {
  auto label = One<LabelCommand>("LABEL a=b \"c d\"=e");
  ASSERT_EQ(label.labels.size(), 2u);
  EXPECT_EQ(label.labels[0], (KeyValuePair{"a", "b", false}));
  EXPECT_EQ(label.labels[1].key, "\"c d\"");
  ASSERT_TRUE(label.Expand(Upper).has_value());
  EXPECT_EQ(label.labels[0], (KeyValuePair{"A", "B", false}));
}

TEST(InstructionsTest, ExposeSortedAndParsed) {
  auto expose = One<ExposeCommand>("EXPOSE 8080/udp 443 8000-8002/TCP");
  EXPECT_EQ(expose.ports, (Strings{"443", "8000-8002/TCP", "8080/udp"}));
  std::vector<LintWarning> warnings;
  auto ports = ParseExposedPorts(expose.ports, expose, &warnings);
  ASSERT_TRUE(ports.has_value()) << ports.error().ToString();
  EXPECT_EQ(*ports, (Strings{"443/tcp", "8000/tcp", "8001/tcp", "8002/tcp",
                             "8080/udp"}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rule, "ExposeProtoCasing");
  EXPECT_EQ(warnings[0].message,
            "Defined protocol '8000-8002/TCP' in EXPOSE instruction should be "
            "lowercase");
  EXPECT_EQ(warnings[0].start_line, 2);
}

TEST(InstructionsTest, ExposeExpandWords) {
  auto expose = One<ExposeCommand>("EXPOSE $PORTS");
  WordsExpander split = [](std::string_view) -> base::Result<Strings> {
    return Strings{"80", "443/tcp"};
  };
  ASSERT_TRUE(expose.ExpandWords(split).has_value());
  EXPECT_EQ(expose.ports, (Strings{"80", "443/tcp"}));
}

TEST(InstructionsTest, CopyAllFlags) {
  auto copy = One<CopyCommand>(
      "COPY --from=build --chown=1000:1000 --chmod=0755 --link --parents "
      "--exclude=*.md --exclude=tmp a b /dst/");
  EXPECT_EQ(copy.from, "build");
  EXPECT_EQ(copy.chown, "1000:1000");
  EXPECT_EQ(copy.chmod, "0755");
  EXPECT_TRUE(copy.link);
  EXPECT_TRUE(copy.parents);
  EXPECT_EQ(copy.exclude_patterns, (Strings{"*.md", "tmp"}));
  EXPECT_EQ(copy.source_paths, (Strings{"a", "b"}));
  EXPECT_EQ(copy.dest_path, "/dst/");
  auto json = One<CopyCommand>("COPY [\"a b\", \"/c d/\"]");
  EXPECT_EQ(json.source_paths, (Strings{"a b"}));
  EXPECT_EQ(json.dest_path, "/c d/");
  auto nolink = One<CopyCommand>("COPY --link=false a b");
  EXPECT_FALSE(nolink.link);
}

TEST(InstructionsTest, CopyExpandLeavesFromAlone) {
  auto copy = One<CopyCommand>("COPY --from=x --chown=$u --chmod=$m $s $d");
  ASSERT_TRUE(copy.Expand(Upper).has_value());
  EXPECT_EQ(copy.from, "x");
  EXPECT_EQ(copy.chown, "$U");
  EXPECT_EQ(copy.chmod, "$M");
  EXPECT_EQ(copy.source_paths, (Strings{"$S"}));
  EXPECT_EQ(copy.dest_path, "$D");
}

TEST(InstructionsTest, AddAllFlags) {
  auto add = One<AddCommand>(
      "ADD --chown=a --chmod=644 --link --keep-git-dir=false "
      "--checksum=sha256:abc --unpack=true --exclude=x "
      "https://example.com/a.tar.gz /dst");
  EXPECT_EQ(add.chown, "a");
  EXPECT_EQ(add.chmod, "644");
  EXPECT_TRUE(add.link);
  EXPECT_EQ(add.keep_git_dir, false);
  EXPECT_EQ(add.checksum, "sha256:abc");
  EXPECT_EQ(add.unpack, true);
  EXPECT_EQ(add.exclude_patterns, (Strings{"x"}));
  EXPECT_EQ(add.source_paths, (Strings{"https://example.com/a.tar.gz"}));
  auto plain = One<AddCommand>("ADD a b");
  EXPECT_EQ(plain.keep_git_dir, std::nullopt);
  EXPECT_EQ(plain.unpack, std::nullopt);
  ASSERT_TRUE(add.Expand(Upper).has_value());
  EXPECT_EQ(add.checksum, "SHA256:ABC");
  EXPECT_EQ(add.exclude_patterns, (Strings{"x"}));
}

TEST(InstructionsTest, CopyHeredocSources) {
  auto copy = One<CopyCommand>(
      "COPY <<one <<-\"two\" /dest/\n"
      "hello $X\n"
      "one\n"
      "\tworld\n"
      "two\n");
  EXPECT_TRUE(copy.source_paths.empty());
  ASSERT_EQ(copy.source_contents.size(), 2u);
  EXPECT_EQ(copy.source_contents[0],
            (SourceContent{"one", "hello $X\n", true}));
  EXPECT_EQ(copy.source_contents[1], (SourceContent{"two", "world\n", false}));
  EXPECT_EQ(copy.dest_path, "/dest/");
  ASSERT_TRUE(copy.ExpandContents(Upper).has_value());
  EXPECT_EQ(copy.source_contents[0].data, "HELLO $X\n");
  EXPECT_EQ(copy.source_contents[1].data, "world\n");
}

TEST(InstructionsTest, WorkdirUserStopsignalMaintainer) {
  auto workdir = One<WorkdirCommand>("WORKDIR /app/$NAME");
  EXPECT_EQ(workdir.path, "/app/$NAME");
  ASSERT_TRUE(workdir.Expand(Upper).has_value());
  EXPECT_EQ(workdir.path, "/APP/$NAME");
  EXPECT_EQ(One<UserCommand>("USER app:app").user, "app:app");
  EXPECT_EQ(One<StopSignalCommand>("STOPSIGNAL SIGTERM").signal, "SIGTERM");
  EXPECT_EQ(
      One<MaintainerCommand>("MAINTAINER Jane <j@example.com>").maintainer,
      "Jane <j@example.com>");
}

TEST(InstructionsTest, Volume) {
  EXPECT_EQ(One<VolumeCommand>("VOLUME /a /b").volumes, (Strings{"/a", "/b"}));
  EXPECT_EQ(One<VolumeCommand>("VOLUME [\"/a\", \" /b \"]").volumes,
            (Strings{"/a", "/b"}));
}

TEST(InstructionsTest, HealthcheckNone) {
  auto hc = One<HealthCheckCommand>("HEALTHCHECK NONE");
  EXPECT_EQ(hc.health, (HealthConfig{{"NONE"}}));
  // BuildKit does not look at flags for NONE.
  EXPECT_EQ(One<HealthCheckCommand>("HEALTHCHECK --bogus none").health.test,
            (Strings{"NONE"}));
}

TEST(InstructionsTest, HealthcheckCmd) {
  auto hc = One<HealthCheckCommand>(
      "HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=100ms "
      "--start-interval=2s --retries=3 CMD curl -f http://localhost/");
  HealthConfig want{{"CMD-SHELL", "curl -f http://localhost/"},
                    90000000000,
                    1500000000,
                    100000000,
                    2000000000,
                    3};
  EXPECT_EQ(hc.health, want);
  auto json = One<HealthCheckCommand>("HEALTHCHECK cmd [\"/check\", \"-q\"]");
  EXPECT_EQ(json.health.test, (Strings{"CMD", "/check", "-q"}));
  auto zero =
      One<HealthCheckCommand>("HEALTHCHECK --interval=0s --retries=0 CMD true");
  EXPECT_EQ(zero.health.interval, 0);
  EXPECT_EQ(zero.health.retries, 0);
}

TEST(InstructionsTest, Onbuild) {
  auto onbuild = One<OnbuildCommand>("ONBUILD RUN echo hi");
  EXPECT_EQ(onbuild.name, "ONBUILD");
  EXPECT_EQ(onbuild.expression, "RUN echo hi");
  auto copy = One<OnbuildCommand>("onbuild   COPY --from=x a b");
  EXPECT_EQ(copy.expression, "COPY --from=x a b");
  auto heredoc = One<OnbuildCommand>("ONBUILD RUN <<EOF\necho a\nEOF\n");
  EXPECT_EQ(heredoc.expression, "RUN <<EOF\necho a\nEOF");
}

TEST(InstructionsTest, ExpandCommandDispatchesOnlyExpandable) {
  ParsedInstructions df =
      MustParse("FROM x\nRUN echo $a\nCMD echo $a\nUSER $u\nONBUILD RUN $x\n");
  std::vector<Command>& cmds = df.stages[0].commands;
  for (Command& c : cmds) ASSERT_TRUE(ExpandCommand(c, Upper).has_value());
  EXPECT_EQ(std::get<RunCommand>(cmds[0]).cmd_line, (Strings{"echo $a"}));
  EXPECT_EQ(std::get<CmdCommand>(cmds[1]).cmd_line, (Strings{"echo $a"}));
  EXPECT_EQ(std::get<UserCommand>(cmds[2]).user, "$U");
  EXPECT_EQ(std::get<OnbuildCommand>(cmds[3]).expression, "RUN $x");
  EXPECT_EQ(GetBase(cmds[2]).name, "USER");
  EXPECT_EQ(GetBase(cmds[2]).start_line, 4);
}

TEST(InstructionsTest, StageExpandBase) {
  ParsedInstructions df =
      MustParse("FROM --platform=$P $IMG AS a\nFROM $EMPTY\n");
  ASSERT_TRUE(df.stages[0].ExpandBase(Upper).has_value());
  EXPECT_EQ(df.stages[0].base_name, "$IMG");
  EXPECT_EQ(df.stages[0].platform, "$P");
  WordExpander empty = [](std::string_view) -> base::Result<std::string> {
    return std::string();
  };
  auto err = df.stages[1].ExpandBase(empty);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().message(), "base name ($EMPTY) should not be blank");
  auto plat = df.stages[0].ExpandBase(empty);
  ASSERT_FALSE(plat.has_value());
  EXPECT_EQ(plat.error().message(), "base name ($IMG) should not be blank");
}

TEST(InstructionsTest, LintWarnings) {
  ParsedInstructions df = MustParse(
      "FROM a AS Build\n"
      "MAINTAINER me\n"
      "FROM b as build\n"
      "from c AS scratch\n"
      "run true\n");
  std::vector<std::string> got;
  for (const LintWarning& w : df.warnings) {
    got.push_back(w.rule + "@" + std::to_string(w.start_line) + ": " +
                  w.message);
  }
  EXPECT_EQ(got,
            (Strings{
                "StageNameCasing@1: Stage name 'Build' should be lowercase",
                "MaintainerDeprecated@2: Maintainer instruction is deprecated "
                "in favor of using label",
                "FromAsCasing@3: 'as' and 'FROM' keywords' casing do not match",
                "FromAsCasing@4: 'AS' and 'from' keywords' casing do not match",
                "DuplicateStageName@3: Duplicate stage name \"build\", stage "
                "names should be unique",
                "ReservedStageName@4: Stage name should not use the same name "
                "as reserved stage \"scratch\"",
                "ConsistentInstructionCasing@4: Command 'from' should match "
                "the case of the command majority (uppercase)",
                "ConsistentInstructionCasing@5: Command 'run' should match the "
                "case of the command majority (uppercase)",
            }));
}

}  // namespace
}  // namespace strata::dockerfile
