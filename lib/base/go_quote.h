// Go's strconv.Quote and fmt's %q for string slices, byte for byte.
//
// BuildKit prints its parse tree (Node.Dump) and many error messages with
// strconv.Quote, so strata escapes exactly as Go does: invalid UTF-8 bytes
// become \xHH, the C escapes \a \b \f \n \r \t \v are kept short, other
// control runes and 0x7F become \xHH, and runes that strconv.IsPrint rejects
// (GoIsPrint in go_unicode.h: Unicode 15.0.0, letters, marks, numbers,
// punctuation, symbols and the ASCII space) become \uHHHH or \UHHHHHHHH.
#ifndef STRATA_BASE_GO_QUOTE_H_
#define STRATA_BASE_GO_QUOTE_H_

#include <span>
#include <string>
#include <string_view>

namespace strata::base {

/// Appends strconv.Quote(s) to `out`: `s` in double quotes, escaped as Go
/// does. `s` is read as UTF-8; each invalid byte is written as \xHH.
void AppendGoQuote(std::string& out, std::string_view s);

/// Returns strconv.Quote(s).
std::string GoQuote(std::string_view s);

/// Returns fmt.Sprintf("%q", items) for a Go []string: "[", each item quoted
/// with GoQuote and separated by one space, then "]".
std::string GoQuoteList(std::span<const std::string> items);

}  // namespace strata::base

#endif  // STRATA_BASE_GO_QUOTE_H_
