// strata's Dockerfile parser: BuildKit's frontend/dockerfile/parser.Parse,
// producing the same AST (see node.h), warnings and errors.
//
// Reading rules, in BuildKit's order:
// - The file is read as lines that keep their endings ('\n' splits); a UTF-8
//   byte order mark is dropped from line 1. A line longer than 65535 bytes
//   (bufio.Scanner's limit) is an error.
// - Parser directives are taken from the leading comment lines
//   (directives.h); `# escape=` sets the escape token ('\' or '`').
// - An instruction's first line loses its line ending and leading white
//   space; comment lines and blank lines are skipped there.
// - A line whose last non-blank character is the escape token (not itself
//   escaped) continues; continuation lines keep their leading white space,
//   comment lines among them are skipped, blank ones are skipped with a
//   warning. The pieces are joined with nothing in between.
// - ADD, COPY and RUN lines (also under ONBUILD, not in JSON form) with "<<"
//   take heredoc bodies from the raw lines that follow (heredoc.h).
#ifndef STRATA_DOCKERFILE_PARSER_H_
#define STRATA_DOCKERFILE_PARSER_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "dockerfile/directives.h"
#include "dockerfile/heredoc.h"
#include "dockerfile/node.h"

namespace strata::dockerfile {

/// A non-fatal finding of the parser (BuildKit's parser.Warning).
struct Warning {
  /// "Empty continuation line found in: <joined line>".
  std::string short_text;
  /// "Empty continuation lines will become errors in a future release".
  std::string detail;
  /// The line BuildKit reports: the instruction's last line.
  int start_line = 0;
  int end_line = 0;

  bool operator==(const Warning&) const = default;
};

/// Everything Parse() found.
struct ParseResult {
  /// The root node: children are the instructions; start_line/end_line span
  /// them.
  Node root;
  std::vector<Warning> warnings;
  /// '\\' unless `# escape=` said '`'.
  char escape_token = '\\';
  /// The parser directives at the top of the file, in order.
  std::vector<Directive> directives;
};

/// Options for Parse().
struct ParseOptions {
  /// Name used in error locations.
  std::string file_name = "Dockerfile";
};

/// Parses a whole Dockerfile as BuildKit does. Errors are Code::kParse with
/// a location (options.file_name and a 1-based line) and BuildKit's message,
/// e.g. "unterminated heredoc", "file with no instructions", "only one
/// escape parser directive can be used".
base::Result<ParseResult> Parse(std::string_view content,
                                const ParseOptions& options = {});

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_PARSER_H_
