// Go's filepath.Match (Unix flavour), byte for byte.
//
// patternmatcher.New calls it only to reject malformed patterns, and
// BuildKit's COPY uses it for wildcard sources, so both its answers and its
// ErrBadPattern cases must equal Go's. Syntax:
//   '*'        any run of non-'/' bytes
//   '?'        one non-'/' character (a UTF-8 rune, or one invalid byte)
//   '[' [ '^' ] { lo [ '-' hi ] } ']'   a rune class (needs one range)
//   '\' c      the literal c
#ifndef STRATA_CONTEXT_GLOB_H_
#define STRATA_CONTEXT_GLOB_H_

#include <string_view>

#include "base/result.h"

namespace strata::context {

/// The text of Go's filepath.ErrBadPattern.
inline constexpr std::string_view kBadPatternText = "syntax error in pattern";

/// Go's filepath.Match(pattern, name) on Unix. Fails (kParse, message
/// kBadPatternText) for a malformed pattern. Like Go, the chunk (the text
/// between stars) being matched is checked whole even after a mismatch, but
/// chunks after a failed one are not checked (unlike Go's path.Match).
base::Result<bool> GlobMatch(std::string_view pattern, std::string_view name);

}  // namespace strata::context

#endif  // STRATA_CONTEXT_GLOB_H_
