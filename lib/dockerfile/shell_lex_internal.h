// BuildKit's glob patterns for ${V#p}, ${V%p} and ${V/p/r}, shared between
// the shell lexer's .cc files. Not a public interface.
#ifndef STRATA_DOCKERFILE_SHELL_LEX_INTERNAL_H_
#define STRATA_DOCKERFILE_SHELL_LEX_INTERNAL_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::dockerfile::shell_internal {

// ${V#p} / ${V##p}: `value` without the shortest (longest when `greedy`)
// prefix matching `pattern`. Errors carry BuildKit's message text.
base::Result<std::string> TrimPrefix(std::string_view pattern,
                                     std::string_view value, bool greedy);

// ${V%p} / ${V%%p}: the same for a suffix.
base::Result<std::string> TrimSuffix(std::string_view pattern,
                                     std::string_view value, bool greedy);

// ${V/p/r} / ${V//p/r}: the first (or every) match of `pattern` replaced.
// Like Go's Regexp.ReplaceAllString, the replace-all form expands "$0" /
// "${0}" in `replacement` to the match and other "$name"s to "". Nullopt
// when a replace-all result would be longer than `max_output` bytes.
base::Result<std::optional<std::string>> ReplacePattern(
    std::string_view pattern, std::string_view value,
    std::string_view replacement, bool replace_all, size_t max_output);

}  // namespace strata::dockerfile::shell_internal

#endif  // STRATA_DOCKERFILE_SHELL_LEX_INTERNAL_H_
