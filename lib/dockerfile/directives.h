// Parser directives (`# syntax=...`, `# escape=...`, `# check=...`) as
// BuildKit's DirectiveParser reads them.
//
// Rules: only the leading run of comment lines is examined. A line is a
// directive when, after '#' and any white space, it matches
// ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ (\s being [\t\n\f\r ]) and its key,
// lower-cased, is syntax, escape or check. The first line that is anything
// else (a blank line, an instruction, an ordinary comment, an unknown key)
// ends the run for good. A key given twice is an error.
#ifndef STRATA_DOCKERFILE_DIRECTIVES_H_
#define STRATA_DOCKERFILE_DIRECTIVES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::dockerfile {

/// One parser directive found at the top of a Dockerfile.
struct Directive {
  /// Lower-cased key: "syntax", "escape" or "check".
  std::string name;
  /// The value as written, surrounding white space trimmed.
  std::string value;
  /// 1-based line number.
  int line = 0;

  bool operator==(const Directive&) const = default;
};

/// BuildKit's DirectiveParser: feed it every line, in order.
class DirectiveParser {
 public:
  /// Reads one line (line ending removed; BuildKit also strips the leading
  /// white space of an instruction's first line before this call). Returns
  /// the directive on it, nullopt if it is none, or an error for a repeated
  /// key ("only one escape parser directive can be used").
  base::Result<std::optional<Directive>> ParseLine(std::string_view line);

  /// True once a line that is no directive has been seen.
  bool done() const { return done_; }

 private:
  int line_ = 0;
  bool done_ = false;
  std::vector<std::string> seen_;
};

namespace internal {

/// Matches ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ against `text` with Go's
/// leftmost-first semantics. On a match stores the key and value.
bool MatchDirective(std::string_view text, std::string_view* key,
                    std::string_view* value);

}  // namespace internal

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_DIRECTIVES_H_
