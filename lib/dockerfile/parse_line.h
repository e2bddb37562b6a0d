// One logical Dockerfile line into an instruction node: BuildKit's
// splitCommand, extractBuilderFlags, the per-instruction line parsers
// (line_parsers.go) and newNodeFromLine.
//
//   cmd       first word of the trimmed line (split on [\t\v\f\r ]+)
//   flags     leading "--" words of the rest (quotes removed, escape token
//             taken literally, bytes read one at a time)
//   args      what follows the flags, trimmed; parsed by the instruction's
//             rule (JSON or words for ADD/COPY/VOLUME, JSON or one string
//             for RUN/CMD/ENTRYPOINT/SHELL, key/value for ENV/LABEL, ...)
#ifndef STRATA_DOCKERFILE_PARSE_LINE_H_
#define STRATA_DOCKERFILE_PARSE_LINE_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "dockerfile/node.h"

namespace strata::dockerfile::internal {

/// How deep ONBUILD may nest inside ONBUILD before the parser gives up.
/// BuildKit has no limit (and its later stages refuse any nesting).
inline constexpr int kMaxOnbuildNesting = 64;

/// splitCommand's result.
struct SplitLine {
  /// The instruction word as written.
  std::string cmd;
  /// The leading "--" words, quotes and escapes resolved.
  std::vector<std::string> flags;
  /// The rest of the line, trimmed.
  std::string args;
};

/// BuildKit's splitCommand with `escape` as escape token.
SplitLine SplitCommand(std::string_view line, char escape);

/// Go's regexp `[\t\v\f\r ]+`.Split(s, n) for n == -1 (all) or n == 2.
std::vector<std::string> SplitWhitespace(std::string_view s, int n);

/// BuildKit's parseWords: words split on white space, with quotes and escapes
/// kept in them (an escape at the very end is dropped).
std::vector<std::string> ParseWords(std::string_view rest, char escape);

/// BuildKit's newNodeFromLine: the instruction node for one logical line
/// (value, flags, arguments, json, original, prev_comment). Errors carry
/// BuildKit's messages, e.g. "ENV must have two arguments".
base::Result<Node> NewNodeFromLine(std::string_view line, char escape,
                                   std::vector<std::string> comments);

}  // namespace strata::dockerfile::internal

#endif  // STRATA_DOCKERFILE_PARSE_LINE_H_
