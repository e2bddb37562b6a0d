// The typed Dockerfile instruction model: BuildKit's
// frontend/dockerfile/instructions package (commands.go, parse.go).
//
// ParseInstructions() turns the AST into the ARGs before the first FROM
// ("meta args") and the stages with their typed commands. Values stay as
// written; each command's Expand() later expands exactly the fields
// BuildKit's Expand does (Stage::ExpandBase for the FROM line).
// Errors carry BuildKit's wording and file:line, e.g.
//   Dockerfile:7: unknown instruction: RUNN (did you mean RUN?)
// (BuildKit says "dockerfile parse error on line 7: unknown ...").
#ifndef STRATA_DOCKERFILE_INSTRUCTIONS_H_
#define STRATA_DOCKERFILE_INSTRUCTIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "dockerfile/parser.h"
#include "dockerfile/run_mount.h"

namespace strata::dockerfile {

/// Expands one word into several (BuildKit's ProcessWords), for EXPOSE.
using WordsExpander = std::function<base::Result<std::vector<std::string>>(
    std::string_view word)>;

/// What every command has: its name as written ("RUN", "run", "Copy"), its
/// source text trimmed (BuildKit's String()), and its lines (1-based).
struct CommandBase {
  std::string name;
  std::string code;
  int start_line = 0;
  int end_line = 0;
};

/// A key and value of ENV or LABEL. `no_delim` marks the legacy `ENV k v`
/// form (no '=').
struct KeyValuePair {
  std::string key;
  std::string value;
  bool no_delim = false;
  bool operator==(const KeyValuePair&) const = default;
};

/// One name of an ARG, with its default if it has one and the description
/// taken from a `# name text` comment right above the instruction.
struct KeyValuePairOptional {
  std::string key;
  std::optional<std::string> value;
  std::string comment;
  bool operator==(const KeyValuePairOptional&) const = default;
};

/// ENV k=v ... (or the legacy ENV k v). Expand() does keys and values.
struct EnvCommand : CommandBase {
  std::vector<KeyValuePair> env;
  base::Status Expand(const WordExpander& expand);
};

/// LABEL k=v ... Expand() does keys and values.
struct LabelCommand : CommandBase {
  std::vector<KeyValuePair> labels;
  base::Status Expand(const WordExpander& expand);
};

/// MAINTAINER name (deprecated, still accepted).
struct MaintainerCommand : CommandBase {
  std::string maintainer;
};

/// A heredoc COPY/ADD source: file `path` (the heredoc name) with `data`
/// (chomped for <<-); `expand` is false for a quoted name.
struct SourceContent {
  std::string path;
  std::string data;
  bool expand = true;
  bool operator==(const SourceContent&) const = default;
};

/// The sources and destination of COPY/ADD.
struct SourcesAndDest {
  std::string dest_path;
  std::vector<std::string> source_paths;       // in order, heredocs excluded
  std::vector<SourceContent> source_contents;  // heredoc sources, in order
  /// Expands source_paths and dest_path.
  base::Status ExpandPaths(const WordExpander& expand);
  /// Expands the data of the heredocs whose `expand` is set (BuildKit calls
  /// this ExpandRaw and expands with quotes left alone).
  base::Status ExpandContents(const WordExpander& expand);
};

/// ADD [--chown --chmod --link --keep-git-dir --checksum --unpack --exclude]
struct AddCommand : CommandBase, SourcesAndDest {
  std::string chown;
  std::string chmod;
  bool link = false;
  std::vector<std::string> exclude_patterns;
  std::optional<bool> keep_git_dir;  // unset unless --keep-git-dir was given
  std::string checksum;
  std::optional<bool> unpack;  // unset unless --unpack was given
  /// Expands chown, chmod, checksum, the sources and the destination.
  base::Status Expand(const WordExpander& expand);
};

/// COPY [--from --chown --chmod --link --parents --exclude]
struct CopyCommand : CommandBase, SourcesAndDest {
  std::string from;
  std::string chown;
  std::string chmod;
  bool link = false;
  std::vector<std::string> exclude_patterns;
  bool parents = false;
  /// Expands chown, chmod, sources, dest (not `from`; instructions_deps.h).
  base::Status Expand(const WordExpander& expand);
};

/// ONBUILD <instruction>: the trigger kept as text (the instruction line
/// without "ONBUILD", then each heredoc as "\n" + content + name).
struct OnbuildCommand : CommandBase {
  std::string expression;
};

/// WORKDIR path
struct WorkdirCommand : CommandBase {
  std::string path;
  base::Status Expand(const WordExpander& expand);
};

/// A heredoc of RUN: name, raw content (not chomped) and whether to chomp.
struct ShellInlineFile {
  std::string name;
  std::string data;
  bool chomp = false;
  bool operator==(const ShellInlineFile&) const = default;
};

/// RUN/CMD/ENTRYPOINT command line: the JSON array (prepend_shell false) or
/// one shell-form string. An empty ENTRYPOINT stands for BuildKit's nil
/// (JSON null), an empty CMD for [].
struct ShellDependantCmdLine {
  std::vector<std::string> cmd_line;
  std::vector<ShellInlineFile> files;
  bool prepend_shell = true;
};

/// RUN [--mount --network --security --device] command
struct RunCommand : CommandBase, ShellDependantCmdLine {
  /// Names of the flags given ("mount", "network", ...), first use first.
  std::vector<std::string> flags_used;
  std::vector<std::string> mount_specs;  // raw --mount values, in order
  /// One per mount_specs entry. After parsing only `from` is set (see
  /// run_mount.h); after Expand() every field is.
  std::vector<Mount> mounts;
  std::string network = "default";   // default | none | host
  std::string security = "sandbox";  // sandbox | insecure
  std::vector<Device> devices;
  /// Parses every mount again with values expanded and checked.
  base::Status Expand(const WordExpander& expand);
};

/// CMD command / ENTRYPOINT command
struct CmdCommand : CommandBase, ShellDependantCmdLine {};
struct EntrypointCommand : CommandBase, ShellDependantCmdLine {};

/// `test` is {"NONE"}, {"CMD", args...} (JSON) or {"CMD-SHELL", command};
/// durations are in nanoseconds, 0 meaning "not set".
struct HealthConfig {
  std::vector<std::string> test;
  int64_t interval = 0;
  int64_t timeout = 0;
  int64_t start_period = 0;
  int64_t start_interval = 0;
  int retries = 0;
  bool operator==(const HealthConfig&) const = default;
};

/// HEALTHCHECK NONE | [--interval --timeout --start-period --start-interval
/// --retries] CMD command
struct HealthCheckCommand : CommandBase {
  HealthConfig health;
};

/// EXPOSE port[/proto] ... (sorted as BuildKit sorts them; checked by
/// ParseExposedPorts() of instructions_expose.h once expanded).
struct ExposeCommand : CommandBase {
  std::vector<std::string> ports;
  /// Replaces each entry by its words (BuildKit uses ProcessWords here).
  base::Status ExpandWords(const WordsExpander& expand);
};

/// USER user[:group]
struct UserCommand : CommandBase {
  std::string user;
  base::Status Expand(const WordExpander& expand);
};

/// VOLUME path ...
struct VolumeCommand : CommandBase {
  std::vector<std::string> volumes;
  base::Status Expand(const WordExpander& expand);
};

/// STOPSIGNAL signal
struct StopSignalCommand : CommandBase {
  std::string signal;
  base::Status Expand(const WordExpander& expand);
};

/// ARG name[=default] ...
struct ArgCommand : CommandBase {
  std::vector<KeyValuePairOptional> args;
  /// Expands keys and defaults (BuildKit's dispatcher does its own instead).
  base::Status Expand(const WordExpander& expand);
};

/// SHELL ["executable", "param", ...] (JSON form only)
struct ShellCommand : CommandBase {
  std::vector<std::string> shell;
};

/// Any command of a stage.
using Command =
    std::variant<AddCommand, ArgCommand, CmdCommand, CopyCommand,
                 EntrypointCommand, EnvCommand, ExposeCommand,
                 HealthCheckCommand, LabelCommand, MaintainerCommand,
                 OnbuildCommand, RunCommand, ShellCommand, StopSignalCommand,
                 UserCommand, VolumeCommand, WorkdirCommand>;

/// The fields every command has.
const CommandBase& GetBase(const Command& command);

/// Runs the command's Expand() if it has one (BuildKit's
/// SupportsSingleWordExpansion: ENV, LABEL, ADD, COPY, WORKDIR, RUN, USER,
/// VOLUME, STOPSIGNAL, ARG); other commands are left alone.
base::Status ExpandCommand(Command& command, const WordExpander& expand);

/// One build stage: its FROM line and the commands up to the next FROM.
struct Stage {
  std::string name;         // lower-cased AS name, "" if unnamed
  std::string orig_cmd;     // "FROM" as written
  std::string base_name;    // image or earlier stage, unexpanded
  std::string platform;     // --platform value, unexpanded; "" if none
  std::string comment;      // from a `# name text` comment above FROM
  std::string source_code;  // the FROM line, trimmed
  int start_line = 0;
  int end_line = 0;
  std::vector<Command> commands;

  /// Expands base_name and platform (with the meta args), failing like
  /// BuildKit: "base name (X) should not be blank", "empty platform value
  /// from expression X", "failed to process arguments for platform ...".
  base::Status ExpandBase(const WordExpander& expand);
};

/// A lint warning BuildKit reports while reading instructions: the rule
/// name (e.g. "DuplicateStageName"), its message and where.
struct LintWarning {
  std::string rule;
  std::string message;
  int start_line = 0;
  int end_line = 0;
  bool operator==(const LintWarning&) const = default;
};

/// The typed Dockerfile.
struct ParsedInstructions {
  std::vector<ArgCommand> meta_args;  // ARGs before the first FROM
  std::vector<Stage> stages;
  /// BuildKit's non-experimental lint rules on the instructions alone, in
  /// its order: MaintainerDeprecated, StageNameCasing, FromAsCasing,
  /// ReservedStageName, DuplicateStageName, ConsistentInstructionCasing.
  /// (A duplicate stage name is only a warning in BuildKit.)
  std::vector<LintWarning> warnings;
};

/// Options of ParseInstructions().
struct InstructionOptions {
  /// Put into every error's location.
  std::string file_name = "Dockerfile";
};

/// BuildKit's instructions.Parse, plus its "dockerfile contains no stages
/// to build" check. Any instruction before the first FROM other than ARG
/// fails with "no build stage in current context".
base::Result<ParsedInstructions> ParseInstructions(
    const ParseResult& ast, const InstructionOptions& options = {});

/// BuildKit's ParseCommand, for ONBUILD triggers: FROM fails with
/// "*instructions.Stage is not a command type".
base::Result<Command> ParseCommand(const Node& node,
                                   const InstructionOptions& options = {});

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_INSTRUCTIONS_H_
