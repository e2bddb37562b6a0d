// UTF-8 decoding with Go's exact rules, because the Dockerfile front-end must
// treat bytes the way BuildKit (written in Go) does: invalid sequences decode
// to U+FFFD one byte at a time, and "space" means Go's unicode.IsSpace.
#ifndef STRATA_BASE_UTF8_H_
#define STRATA_BASE_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace strata::base {

inline constexpr char32_t kRuneError = 0xFFFD;

/// A decoded rune and how many bytes it used (1 for an invalid byte).
struct DecodedRune {
  char32_t rune;
  size_t size;
};

/// Decodes the rune at the start of `s` like Go's utf8.DecodeRuneInString.
/// An empty `s` gives {kRuneError, 0}.
DecodedRune DecodeRune(std::string_view s);

/// Decodes the last rune of `s` like Go's utf8.DecodeLastRuneInString.
DecodedRune DecodeLastRune(std::string_view s);

/// Appends the UTF-8 encoding of `r` (invalid runes become U+FFFD).
void AppendRune(std::string& out, char32_t r);

/// Go's unicode.IsSpace.
bool IsUnicodeSpace(char32_t r);

/// Go's strings.TrimSpace: cuts Unicode white space from both ends.
std::string_view TrimUnicodeSpace(std::string_view s);

/// Go's strings.TrimLeftFunc(s, unicode.IsSpace).
std::string_view TrimLeftUnicodeSpace(std::string_view s);

}  // namespace strata::base

#endif  // STRATA_BASE_UTF8_H_
