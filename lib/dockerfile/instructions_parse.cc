// AST -> typed instructions: BuildKit's instructions/parse.go, one parse*
// function per instruction, in the same order of checks so that the first
// error reported is BuildKit's first error.
#include <algorithm>

#include "base/go_unicode.h"
#include "base/str.h"
#include "dockerfile/bflag.h"
#include "dockerfile/heredoc.h"
#include "dockerfile/instructions.h"
#include "dockerfile/instructions_internal.h"
#include "dockerfile/instructions_parse_internal.h"

namespace strata::dockerfile {
namespace parse_internal {

using base::Code;
using base::MakeError;
namespace ii = instr_internal;

base::Error ErrAtLeastOneArgument(std::string_view command) {
  return MakeError(Code::kParse, command, " requires at least one argument");
}

base::Error ErrExactlyOneArgument(std::string_view command) {
  return MakeError(Code::kParse, command, " requires exactly one argument");
}

namespace {

base::Error ErrNoDestinationArgument(std::string_view command) {
  return MakeError(Code::kParse, command,
                   " requires at least two arguments, but only one was "
                   "provided. Destination could not be determined");
}

base::Error ErrBlankCommandNames(std::string_view command) {
  return MakeError(Code::kParse, command, " names can not be blank");
}

// BuildKit's nodeArgs: the argument values, with ONBUILD's inner
// instruction flattened into its word and arguments.
void NodeArgs(const Node& node, std::vector<std::string>& out) {
  for (const Node& arg : node.next) {
    if (arg.children.empty()) {
      out.push_back(arg.value);
    } else if (arg.children.size() == 1) {
      out.push_back(arg.children[0].value);
      NodeArgs(arg.children[0], out);
    }
  }
}

// parse.go parseKvps: the parser gives (key, value, "=" or "") triples.
base::Result<std::vector<KeyValuePair>> ParseKvps(
    const std::vector<std::string>& args, std::string_view command) {
  if (args.empty()) return ErrAtLeastOneArgument(command);
  if (args.size() % 3 != 0) {
    return MakeError(Code::kParse, "Bad input to ", command,
                     ", too many arguments");
  }
  std::vector<KeyValuePair> out;
  for (size_t j = 0; j < args.size(); j += 3) {
    if (args[j].empty()) return ErrBlankCommandNames(command);
    out.push_back({args[j], args[j + 1], args[j + 2].empty()});
  }
  return out;
}

base::Result<Command> ParseEnv(Request& req) {
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<EnvCommand>();
  STRATA_ASSIGN_OR_RETURN(cmd.env, ParseKvps(req.args, "ENV"));
  return Command(std::move(cmd));
}

base::Result<Command> ParseMaintainer(Request& req) {
  if (req.args.size() != 1) return ErrExactlyOneArgument("MAINTAINER");
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<MaintainerCommand>();
  cmd.maintainer = req.args[0];
  return Command(std::move(cmd));
}

base::Result<Command> ParseLabel(Request& req) {
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<LabelCommand>();
  STRATA_ASSIGN_OR_RETURN(cmd.labels, ParseKvps(req.args, "LABEL"));
  return Command(std::move(cmd));
}

// parser.MustParseHeredoc: the heredoc a word opens; errors count as none.
std::optional<Heredoc> HeredocOfWord(std::string_view word) {
  auto heredoc = ParseHeredoc(word);
  return heredoc ? *heredoc : std::nullopt;
}

// parse.go parseSourcesAndDest: heredoc words become inline files.
base::Status FillSourcesAndDest(const Request& req, std::string_view command,
                                SourcesAndDest& out) {
  const std::string& dest = req.args.back();
  if (HeredocOfWord(dest)) {
    return MakeError(Code::kParse, command,
                     " cannot accept a heredoc as a destination");
  }
  out.dest_path = dest;
  for (size_t i = 0; i + 1 < req.args.size(); ++i) {
    const std::string& src = req.args[i];
    std::optional<Heredoc> heredoc = HeredocOfWord(src);
    if (!heredoc) {
      out.source_paths.push_back(src);
      continue;
    }
    // Like BuildKit's map lookup: the last heredoc of that name, or none.
    std::string content;
    for (const Heredoc& h : req.node.heredocs) {
      if (h.name == heredoc->name) content = h.content;
    }
    if (heredoc->chomp) content = ChompHeredocContent(content);
    out.source_contents.push_back(
        {heredoc->name, std::move(content), heredoc->expand});
  }
  return base::OkStatus();
}

base::Result<Command> ParseAdd(Request& req) {
  if (req.args.size() < 2) return ErrNoDestinationArgument("ADD");
  BFlags::Flag* chown = req.flags.AddString("chown", "");
  BFlags::Flag* chmod = req.flags.AddString("chmod", "");
  BFlags::Flag* link = req.flags.AddBool("link", false);
  BFlags::Flag* keep_git_dir = req.flags.AddBool("keep-git-dir", false);
  BFlags::Flag* checksum = req.flags.AddString("checksum", "");
  BFlags::Flag* unpack = req.flags.AddBool("unpack", false);
  BFlags::Flag* excludes = req.flags.AddStrings("exclude");
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<AddCommand>();
  STRATA_TRY(FillSourcesAndDest(req, "ADD", cmd));
  cmd.chown = chown->value;
  cmd.chmod = chmod->value;
  cmd.link = link->value == "true";
  if (req.flags.IsUsed("keep-git-dir")) {
    cmd.keep_git_dir = keep_git_dir->value == "true";
  }
  cmd.checksum = checksum->value;
  if (req.flags.IsUsed("unpack")) cmd.unpack = unpack->value == "true";
  cmd.exclude_patterns = excludes->values;
  return Command(std::move(cmd));
}

base::Result<Command> ParseCopy(Request& req) {
  if (req.args.size() < 2) return ErrNoDestinationArgument("COPY");
  BFlags::Flag* chown = req.flags.AddString("chown", "");
  BFlags::Flag* from = req.flags.AddString("from", "");
  BFlags::Flag* chmod = req.flags.AddString("chmod", "");
  BFlags::Flag* link = req.flags.AddBool("link", false);
  BFlags::Flag* excludes = req.flags.AddStrings("exclude");
  BFlags::Flag* parents = req.flags.AddBool("parents", false);
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<CopyCommand>();
  STRATA_TRY(FillSourcesAndDest(req, "COPY", cmd));
  cmd.from = from->value;
  cmd.chown = chown->value;
  cmd.chmod = chmod->value;
  cmd.link = link->value == "true";
  cmd.exclude_patterns = excludes->values;
  cmd.parents = parents->value == "true";
  return Command(std::move(cmd));
}

// Matches BuildKit's `^[a-z][a-z0-9-_.]*$`.
bool ValidStageName(std::string_view name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

// parse.go getComment: the text after "<name> " in a comment above.
std::string GetComment(const std::vector<std::string>& comments,
                       std::string_view name) {
  if (name.empty()) return "";
  std::string prefix = base::StrCat(name, " ");
  for (const std::string& line : comments) {
    if (base::StartsWith(line, prefix)) return line.substr(prefix.size());
  }
  return "";
}

base::Result<Stage> ParseFrom(Request& req) {
  const std::vector<std::string>& args = req.args;
  std::string stage_name;
  if (args.size() == 3 && ii::EqualFoldAs(args[1])) {
    stage_name = base::GoToLower(args[2]);
    if (!ValidStageName(stage_name)) {
      return MakeError(Code::kParse,
                       "invalid name for build stage: ", ii::Quote(args[2]),
                       ", name can't start with a number or contain symbols");
    }
  } else if (args.size() != 1) {
    return base::Error(Code::kParse,
                       "FROM requires either one or three arguments");
  }
  BFlags::Flag* platform = req.flags.AddString("platform", "");
  STRATA_TRY(req.flags.Parse());
  Stage stage;
  stage.base_name = args[0];
  stage.orig_cmd = req.node.value;
  stage.name = stage_name;
  stage.source_code = std::string(ii::TrimSpace(req.node.original));
  stage.platform = platform->value;
  stage.start_line = req.node.start_line;
  stage.end_line = req.node.end_line;
  stage.comment = GetComment(req.node.prev_comment, stage_name);
  return stage;
}

// Go's regexp `(?i)^\s*ONBUILD\s*` (\s is [\t\n\f\r ]) replaced by "".
std::string StripOnbuildWord(std::string_view original) {
  auto is_space = [](char c) {
    return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
  };
  size_t i = 0;
  while (i < original.size() && is_space(original[i])) ++i;
  if (original.size() - i < 7 ||
      base::AsciiLower(original.substr(i, 7)) != "onbuild") {
    return std::string(original);
  }
  i += 7;
  while (i < original.size() && is_space(original[i])) ++i;
  return std::string(original.substr(i));
}

base::Result<Command> ParseOnBuild(Request& req) {
  if (req.args.empty()) return ErrAtLeastOneArgument("ONBUILD");
  STRATA_TRY(req.flags.Parse());
  std::string trigger = base::GoToUpper(ii::TrimSpace(req.args[0]));
  if (trigger == "ONBUILD") {
    return base::Error(Code::kParse,
                       "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  }
  if (trigger == "MAINTAINER" || trigger == "FROM") {
    return MakeError(Code::kParse, trigger,
                     " isn't allowed as an ONBUILD trigger");
  }
  auto cmd = req.Make<OnbuildCommand>();
  cmd.expression = StripOnbuildWord(req.node.original);
  for (const Heredoc& heredoc : req.node.heredocs) {
    base::StrAppend(cmd.expression, "\n", heredoc.content, heredoc.name);
  }
  return Command(std::move(cmd));
}

base::Result<Command> ParseWorkdir(Request& req) {
  if (req.args.size() != 1) return ErrExactlyOneArgument("WORKDIR");
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<WorkdirCommand>();
  cmd.path = req.args[0];
  return Command(std::move(cmd));
}

base::Result<Command> ParseRun(Request& req) {
  // The RUN flags come from per-feature hooks in BuildKit, registered in
  // file-name order: device, mount, network, security.
  BFlags::Flag* device = req.flags.AddStrings("device");
  BFlags::Flag* mount = req.flags.AddStrings("mount");
  BFlags::Flag* network = req.flags.AddString("network", "default");
  BFlags::Flag* security = req.flags.AddString("security", "sandbox");
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.MakeWithCmdLine<RunCommand>();
  cmd.flags_used = req.flags.used();
  for (const std::string& value : device->values) {
    STRATA_ASSIGN_OR_RETURN(Device d, ParseDevice(value));
    cmd.devices.push_back(std::move(d));
  }
  cmd.mount_specs = mount->values;
  for (const std::string& value : mount->values) {
    STRATA_ASSIGN_OR_RETURN(Mount m, ParseMount(value, nullptr));
    cmd.mounts.push_back(std::move(m));
  }
  cmd.network = network->value;
  if (cmd.network != "default" && cmd.network != "none" &&
      cmd.network != "host") {
    return MakeError(Code::kParse, "invalid network mode ",
                     ii::Quote(cmd.network));
  }
  cmd.security = security->value;
  if (cmd.security != "insecure" && cmd.security != "sandbox") {
    return MakeError(Code::kParse, "security ", ii::Quote(cmd.security),
                     " is not valid");
  }
  return Command(std::move(cmd));
}

base::Result<Command> ParseCmd(Request& req) {
  STRATA_TRY(req.flags.Parse());
  return Command(req.MakeWithCmdLine<CmdCommand>());
}

base::Result<Command> ParseEntrypoint(Request& req) {
  STRATA_TRY(req.flags.Parse());
  return Command(req.MakeWithCmdLine<EntrypointCommand>());
}

base::Result<Command> ParseExpose(Request& req) {
  if (req.args.empty()) return ErrAtLeastOneArgument("EXPOSE");
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<ExposeCommand>();
  cmd.ports = req.args;
  std::sort(cmd.ports.begin(), cmd.ports.end());
  return Command(std::move(cmd));
}

base::Result<Command> ParseUser(Request& req) {
  if (req.args.size() != 1) return ErrExactlyOneArgument("USER");
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<UserCommand>();
  cmd.user = req.args[0];
  return Command(std::move(cmd));
}

base::Result<Command> ParseVolume(Request& req) {
  if (req.args.empty()) return ErrAtLeastOneArgument("VOLUME");
  STRATA_TRY(req.flags.Parse());
  auto cmd = req.Make<VolumeCommand>();
  for (const std::string& arg : req.args) {
    std::string_view v = ii::TrimSpace(arg);
    if (v.empty()) {
      return base::Error(Code::kParse,
                         "VOLUME specified can not be an empty string");
    }
    cmd.volumes.emplace_back(v);
  }
  return Command(std::move(cmd));
}

// BuildKit never parses the flags of STOPSIGNAL or ARG: unknown flags there
// are silently ignored.
base::Result<Command> ParseStopSignal(Request& req) {
  if (req.args.size() != 1) return ErrExactlyOneArgument("STOPSIGNAL");
  auto cmd = req.Make<StopSignalCommand>();
  cmd.signal = req.args[0];
  return Command(std::move(cmd));
}

base::Result<Command> ParseArg(Request& req) {
  if (req.args.empty()) return ErrAtLeastOneArgument("ARG");
  auto cmd = req.Make<ArgCommand>();
  for (const std::string& arg : req.args) {
    KeyValuePairOptional kv;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      if (eq == 0) return ErrBlankCommandNames("ARG");
      kv.key = arg.substr(0, eq);
      kv.value = arg.substr(eq + 1);
    } else {
      kv.key = arg;
    }
    kv.comment = GetComment(req.node.prev_comment, kv.key);
    cmd.args.push_back(std::move(kv));
  }
  return Command(std::move(cmd));
}

base::Result<Command> ParseShell(Request& req) {
  STRATA_TRY(req.flags.Parse());
  ShellDependantCmdLine line = req.CmdLine();
  if (line.cmd_line.empty()) return ErrAtLeastOneArgument("SHELL");
  if (!req.node.json) {
    return base::Error(Code::kParse,
                       "SHELL requires the arguments to be in JSON form");
  }
  auto cmd = req.Make<ShellCommand>();
  cmd.shell = std::move(line.cmd_line);
  return Command(std::move(cmd));
}

}  // namespace

Request::Request(const Node& n) : node(n), command(n.value), flags(n.flags) {
  NodeArgs(n, args);
}

CommandBase Request::Base() const {
  return {command, std::string(ii::TrimSpace(node.original)), node.start_line,
          node.end_line};
}

ShellDependantCmdLine Request::CmdLine() const {
  ShellDependantCmdLine line;
  for (const Heredoc& heredoc : node.heredocs) {
    line.files.push_back({heredoc.name, heredoc.content, heredoc.chomp});
  }
  // handleJSONArgs: JSON arrays stay as they are, shell form is one string.
  if (!args.empty()) {
    line.cmd_line =
        node.json ? args : std::vector<std::string>{base::Join(args, " ")};
  }
  line.prepend_shell = !node.json;
  return line;
}

base::Result<Instruction> ParseOne(Request& req,
                                   std::vector<LintWarning>* warnings) {
  std::string word = base::GoToLower(req.command);
  auto as_instruction =
      [](base::Result<Command> r) -> base::Result<Instruction> {
    if (!r) return std::move(r).error();
    return Instruction(std::move(*r));
  };
  if (word == "env") return as_instruction(ParseEnv(req));
  if (word == "maintainer") {
    AddWarning(warnings, req, "MaintainerDeprecated",
               "Maintainer instruction is deprecated in favor of using label");
    return as_instruction(ParseMaintainer(req));
  }
  if (word == "label") return as_instruction(ParseLabel(req));
  if (word == "add") return as_instruction(ParseAdd(req));
  if (word == "copy") return as_instruction(ParseCopy(req));
  if (word == "from") {
    LintFrom(req, warnings);
    STRATA_ASSIGN_OR_RETURN(Stage stage, ParseFrom(req));
    return Instruction(std::move(stage));
  }
  if (word == "onbuild") return as_instruction(ParseOnBuild(req));
  if (word == "workdir") return as_instruction(ParseWorkdir(req));
  if (word == "run") return as_instruction(ParseRun(req));
  if (word == "cmd") return as_instruction(ParseCmd(req));
  if (word == "healthcheck") return as_instruction(ParseHealthcheck(req));
  if (word == "entrypoint") return as_instruction(ParseEntrypoint(req));
  if (word == "expose") return as_instruction(ParseExpose(req));
  if (word == "user") return as_instruction(ParseUser(req));
  if (word == "volume") return as_instruction(ParseVolume(req));
  if (word == "stopsignal") return as_instruction(ParseStopSignal(req));
  if (word == "arg") return as_instruction(ParseArg(req));
  if (word == "shell") return as_instruction(ParseShell(req));
  static const std::vector<std::string> kInstructionNames = {
      "ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
      "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
      "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};
  return base::Error(
      Code::kParse,
      WithSuggestion(base::StrCat("unknown instruction: ", req.command),
                     req.command, kInstructionNames,
                     /*case_sensitive=*/false));
}

}  // namespace parse_internal
}  // namespace strata::dockerfile
