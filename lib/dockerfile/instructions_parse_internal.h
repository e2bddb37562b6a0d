// Pieces shared by the instructions_*.cc files that turn AST nodes into
// typed instructions. Not a public interface.
#ifndef STRATA_DOCKERFILE_INSTRUCTIONS_PARSE_INTERNAL_H_
#define STRATA_DOCKERFILE_INSTRUCTIONS_PARSE_INTERNAL_H_

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "dockerfile/bflag.h"
#include "dockerfile/instructions.h"

namespace strata::dockerfile::parse_internal {

/// BuildKit's parseRequest: one instruction node, its argument words and
/// its flags (not yet parsed).
struct Request {
  explicit Request(const Node& node);

  /// The command fields (name, trimmed original text, lines).
  CommandBase Base() const;
  /// parseShellDependentCommand: heredocs as files, JSON or shell form.
  /// (Its emptyAsNil only matters to Go; see ShellDependantCmdLine.)
  ShellDependantCmdLine CmdLine() const;

  /// A command of type T with Base() filled in.
  template <typename T>
  T Make() const {
    T cmd;
    static_cast<CommandBase&>(cmd) = Base();
    return cmd;
  }
  /// The same for RUN/CMD/ENTRYPOINT, with CmdLine() filled in too.
  template <typename T>
  T MakeWithCmdLine() const {
    T cmd = Make<T>();
    static_cast<ShellDependantCmdLine&>(cmd) = CmdLine();
    return cmd;
  }

  const Node& node;
  std::string command;            // the instruction word as written
  std::vector<std::string> args;  // BuildKit's nodeArgs
  BFlags flags;
};

/// A FROM (which starts a stage) or any other command.
using Instruction = std::variant<Stage, Command>;

/// BuildKit's ParseInstructionWithLinter for one node (no location added).
base::Result<Instruction> ParseOne(Request& req,
                                   std::vector<LintWarning>* warnings);

/// parse.go parseHealthcheck.
base::Result<Command> ParseHealthcheck(Request& req);

/// The lint checks BuildKit runs on a FROM before parsing it.
void LintFrom(const Request& req, std::vector<LintWarning>* warnings);

/// Appends a warning located at the request's node (if `warnings` is set).
void AddWarning(std::vector<LintWarning>* warnings, const Request& req,
                std::string rule, std::string message);

base::Error ErrAtLeastOneArgument(std::string_view command);
base::Error ErrExactlyOneArgument(std::string_view command);

}  // namespace strata::dockerfile::parse_internal

#endif  // STRATA_DOCKERFILE_INSTRUCTIONS_PARSE_INTERNAL_H_
