// Splitting a Dockerfile into meta ARGs and stages (BuildKit's
// instructions.Parse), and the lint rules BuildKit checks on the result
// (parse.go's FROM checks, convert.go's validateStageNames and
// validateCommandCasing).
#include <map>

#include "base/go_unicode.h"
#include "base/str.h"
#include "dockerfile/instructions.h"
#include "dockerfile/instructions_internal.h"
#include "dockerfile/instructions_parse_internal.h"

namespace strata::dockerfile {
namespace parse_internal {

void AddWarning(std::vector<LintWarning>* warnings, const Request& req,
                std::string rule, std::string message) {
  if (warnings == nullptr) return;
  warnings->push_back({std::move(rule), std::move(message), req.node.start_line,
                       req.node.end_line});
}

void LintFrom(const Request& req, std::vector<LintWarning>* warnings) {
  const std::vector<std::string>& args = req.args;
  if (args.size() == 3 && args[2] != base::GoToLower(args[2])) {
    AddWarning(warnings, req, "StageNameCasing",
               base::StrCat("Stage name '", args[2], "' should be lowercase"));
  }
  if (args.size() < 3) return;
  // Only a self-consistent FROM is compared with its AS; mixed-case FROM is
  // ConsistentInstructionCasing's business.
  const std::string& from = req.command;
  bool from_lower = from == base::GoToLower(from);
  bool from_upper = from == base::GoToUpper(from);
  if (!from_lower && !from_upper) return;
  const std::string& as = args[1];
  bool matches =
      from_lower ? as == base::GoToLower(as) : as == base::GoToUpper(as);
  if (!matches) {
    AddWarning(warnings, req, "FromAsCasing",
               base::StrCat("'", as, "' and '", from,
                            "' keywords' casing do not match"));
  }
}

}  // namespace parse_internal

namespace {

using base::Code;
using parse_internal::Instruction;
using parse_internal::Request;
namespace ii = instr_internal;

LintWarning StageWarning(const Stage& stage, std::string rule,
                         std::string message) {
  return {std::move(rule), std::move(message), stage.start_line,
          stage.end_line};
}

// convert.go validateStageNames.
void LintStageNames(const std::vector<Stage>& stages,
                    std::vector<LintWarning>& warnings) {
  std::map<std::string, bool> seen;
  for (const Stage& stage : stages) {
    if (stage.name.empty()) continue;
    if (stage.name == "context" || stage.name == "scratch") {
      warnings.push_back(StageWarning(
          stage, "ReservedStageName",
          base::StrCat("Stage name should not use the same name as reserved "
                       "stage ",
                       ii::Quote(stage.name))));
    }
    if (seen.count(stage.name) != 0) {
      warnings.push_back(StageWarning(
          stage, "DuplicateStageName",
          base::StrCat("Duplicate stage name ", ii::Quote(stage.name),
                       ", stage names should be unique")));
    }
    seen[stage.name] = true;
  }
}

// convert.go validateCommandCasing: every instruction word should follow the
// casing most self-consistent words use.
void LintCommandCasing(const std::vector<Stage>& stages,
                       std::vector<LintWarning>& warnings) {
  int lower = 0, upper = 0;
  auto count = [&](const std::string& name) {
    bool is_lower = name == base::GoToLower(name);
    if (is_lower) {
      ++lower;
    } else if (name == base::GoToUpper(name)) {
      ++upper;
    }
  };
  for (const Stage& stage : stages) {
    count(stage.orig_cmd);
    for (const Command& cmd : stage.commands) count(GetBase(cmd).name);
  }
  bool majority_lower = lower > upper;
  auto check = [&](const std::string& name, int start, int end) {
    const char* want = nullptr;
    if (majority_lower && base::GoToLower(name) != name) {
      want = "lowercase";
    } else if (!majority_lower && base::GoToUpper(name) != name) {
      want = "uppercase";
    }
    if (want == nullptr) return;
    warnings.push_back({"ConsistentInstructionCasing",
                        base::StrCat("Command '", name,
                                     "' should match the case of the command "
                                     "majority (",
                                     want, ")"),
                        start, end});
  };
  for (const Stage& stage : stages) {
    check(stage.orig_cmd, stage.start_line, stage.end_line);
    for (const Command& cmd : stage.commands) {
      const CommandBase& base = GetBase(cmd);
      check(base.name, base.start_line, base.end_line);
    }
  }
}

}  // namespace

base::Result<ParsedInstructions> ParseInstructions(
    const ParseResult& ast, const InstructionOptions& options) {
  ParsedInstructions out;
  for (const Node& node : ast.root.children) {
    Request req(node);
    auto parsed = parse_internal::ParseOne(req, &out.warnings);
    if (!parsed) {
      return std::move(parsed).error().At(options.file_name, node.start_line);
    }
    if (Stage* stage = std::get_if<Stage>(&*parsed)) {
      out.stages.push_back(std::move(*stage));
      continue;
    }
    Command& cmd = std::get<Command>(*parsed);
    if (out.stages.empty()) {
      if (ArgCommand* arg = std::get_if<ArgCommand>(&cmd)) {
        out.meta_args.push_back(std::move(*arg));
        continue;
      }
      return base::Error(Code::kParse, "no build stage in current context")
          .At(options.file_name, node.start_line);
    }
    out.stages.back().commands.push_back(std::move(cmd));
  }
  if (out.stages.empty()) {
    return base::Error(Code::kParse, "dockerfile contains no stages to build");
  }
  LintStageNames(out.stages, out.warnings);
  LintCommandCasing(out.stages, out.warnings);
  return out;
}

base::Result<Command> ParseCommand(const Node& node,
                                   const InstructionOptions& options) {
  Request req(node);
  auto parsed = parse_internal::ParseOne(req, nullptr);
  if (!parsed) {
    return std::move(parsed).error().At(options.file_name, node.start_line);
  }
  if (std::holds_alternative<Stage>(*parsed)) {
    return base::Error(Code::kParse,
                       "*instructions.Stage is not a command type")
        .At(options.file_name, node.start_line);
  }
  return std::get<Command>(std::move(*parsed));
}

}  // namespace strata::dockerfile
