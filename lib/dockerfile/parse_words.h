// The slice of BuildKit's shell lexer (frontend/dockerfile/shell, Lex) that
// the parser itself runs to find heredocs: ProcessWords with '\' as escape,
// SkipUnsetEnv and an empty environment, so every variable reference is
// written back as it stood ("$A", "${A:-x}") and only quoting, escaping and
// word splitting take effect. Word expansion proper lives in shell_lex.h.
#ifndef STRATA_DOCKERFILE_PARSE_WORDS_H_
#define STRATA_DOCKERFILE_PARSE_WORDS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::dockerfile::internal {

/// Lex flags that heredoc detection toggles.
struct HeredocLexOptions {
  /// Keep quote characters in the words (Lex.RawQuotes).
  bool raw_quotes = false;
  /// Keep escape characters in the words (Lex.RawEscapes).
  bool raw_escapes = false;
};

/// Go's shell.Lex.ProcessWords(text, empty env) with SkipUnsetEnv set and
/// '\' as escape token. Errors carry BuildKit's text, e.g. `failed to process
/// "'EOF": unexpected end of statement while looking for matching
/// single-quote`. Reproduces two quirks: an unquoted "<<" keeps the blanks
/// after it in its word, and a nested "${...}" clears the word being built
/// before it (the lexer shares one word buffer across nesting levels).
base::Result<std::vector<std::string>> ProcessHeredocWords(
    std::string_view text, HeredocLexOptions options);

}  // namespace strata::dockerfile::internal

#endif  // STRATA_DOCKERFILE_PARSE_WORDS_H_
