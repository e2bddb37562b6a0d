// Decoding of exec-form arguments (`CMD ["a", "b"]`) exactly as BuildKit's
// parseJSON does it with Go's encoding/json: json.Unmarshal into []any, then
// a check that every element is a string.
//
// nlohmann::json differs from Go here (Go replaces invalid UTF-8 and lone
// surrogates with U+FFFD, caps nesting at 10000, and rejects numbers that
// overflow float64 only when decoding), and any difference changes the AST,
// so this small validator follows Go's scanner and unquote rules instead.
#ifndef STRATA_DOCKERFILE_PARSE_JSON_H_
#define STRATA_DOCKERFILE_PARSE_JSON_H_

#include <string>
#include <string_view>
#include <vector>

namespace strata::dockerfile::internal {

/// What Go makes of `text` as a []any.
enum class JsonArray {
  /// Valid JSON array of strings only; the strings are stored.
  kStrings,
  /// Valid JSON array holding something other than a string: BuildKit's
  /// "arrays must be comprised of strings only" error.
  kNotStrings,
  /// Anything else Unmarshal rejects (syntax error, a top level that is not
  /// an array, a number overflowing float64, nesting deeper than 10000).
  kInvalid,
};

/// Decodes `text` as Go's json.Unmarshal(text, &[]any{}) would. On kStrings,
/// `out` holds the decoded strings (invalid UTF-8 and unpaired surrogates
/// replaced by U+FFFD, as Go does).
JsonArray DecodeJsonStringArray(std::string_view text,
                                std::vector<std::string>* out);

}  // namespace strata::dockerfile::internal

#endif  // STRATA_DOCKERFILE_PARSE_JSON_H_
