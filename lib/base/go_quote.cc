#include "base/go_quote.h"

#include "base/go_unicode.h"
#include "base/utf8.h"

namespace strata::base {
namespace {

constexpr char kLowerHex[] = "0123456789abcdef";

void AppendHex(std::string& out, char32_t value, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kLowerHex[(value >> shift) & 0xF]);
  }
}

// Go's appendEscapedRune for a double-quoted, non-ASCII-only quote.
void AppendEscapedRune(std::string& out, char32_t r) {
  if (r == '"' || r == '\\') {
    out.push_back('\\');
    out.push_back(static_cast<char>(r));
    return;
  }
  if (GoIsPrint(r)) {
    AppendRune(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out.append("\\a");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    case '\v':
      out.append("\\v");
      return;
    default:
      break;
  }
  if (r < ' ' || r == 0x7F) {
    out.append("\\x");
    AppendHex(out, r, 2);
  } else if (r < 0x10000) {
    out.append("\\u");
    AppendHex(out, r, 4);
  } else {
    out.append("\\U");
    AppendHex(out, r, 8);
  }
}

}  // namespace

void AppendGoQuote(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  while (!s.empty()) {
    DecodedRune d = DecodeRune(s);
    if (d.rune == kRuneError && d.size == 1) {
      out.append("\\x");
      AppendHex(out, static_cast<unsigned char>(s[0]), 2);
    } else {
      AppendEscapedRune(out, d.rune);
    }
    s.remove_prefix(d.size);
  }
  out.push_back('"');
}

std::string GoQuote(std::string_view s) {
  std::string out;
  AppendGoQuote(out, s);
  return out;
}

std::string GoQuoteList(std::span<const std::string> items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(' ');
    AppendGoQuote(out, items[i]);
  }
  out.push_back(']');
  return out;
}

}  // namespace strata::base
