#include "base/utf8.h"

namespace strata::base {

DecodedRune DecodeRune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c0 = b(0);
  if (c0 < 0x80) return {c0, 1};
  auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    if (!cont(1)) return {kRuneError, 1};
    return {static_cast<char32_t>(((c0 & 0x1F) << 6) | (b(1) & 0x3F)), 2};
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    // Go's accept ranges: E0 needs A0..BF (no overlongs), ED needs 80..9F
    // (no surrogates).
    unsigned char lo = c0 == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = c0 == 0xED ? 0x9F : 0xBF;
    if (s.size() < 2 || b(1) < lo || b(1) > hi) return {kRuneError, 1};
    if (!cont(2)) return {kRuneError, 1};
    return {static_cast<char32_t>(((c0 & 0x0F) << 12) | ((b(1) & 0x3F) << 6) |
                                  (b(2) & 0x3F)),
            3};
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    unsigned char lo = c0 == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c0 == 0xF4 ? 0x8F : 0xBF;
    if (s.size() < 2 || b(1) < lo || b(1) > hi) return {kRuneError, 1};
    if (!cont(2) || !cont(3)) return {kRuneError, 1};
    return {static_cast<char32_t>(((c0 & 0x07) << 18) | ((b(1) & 0x3F) << 12) |
                                  ((b(2) & 0x3F) << 6) | (b(3) & 0x3F)),
            4};
  }
  return {kRuneError, 1};
}

DecodedRune DecodeLastRune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  // Walk back over at most 3 continuation bytes to a possible start byte.
  size_t end = s.size();
  size_t start = end - 1;
  size_t limit = end >= 4 ? end - 4 : 0;
  while (start > limit &&
         (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
    --start;
  }
  DecodedRune r = DecodeRune(s.substr(start));
  if (start + r.size != end) return {kRuneError, 1};
  return r;
}

void AppendRune(std::string& out, char32_t r) {
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

bool IsUnicodeSpace(char32_t r) {
  if (r <= 0xFF) {
    return r == ' ' || (r >= '\t' && r <= '\r') || r == 0x85 || r == 0xA0;
  }
  return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 ||
         r == 0x2029 || r == 0x202F || r == 0x205F || r == 0x3000;
}

std::string_view TrimLeftUnicodeSpace(std::string_view s) {
  while (!s.empty()) {
    DecodedRune r = DecodeRune(s);
    // An invalid byte decodes to U+FFFD, which is not a space: stop there.
    if (!IsUnicodeSpace(r.rune) || (r.rune == kRuneError && r.size == 1)) break;
    s.remove_prefix(r.size);
  }
  return s;
}

std::string_view TrimUnicodeSpace(std::string_view s) {
  s = TrimLeftUnicodeSpace(s);
  while (!s.empty()) {
    DecodedRune r = DecodeLastRune(s);
    if (!IsUnicodeSpace(r.rune)) break;
    s.remove_suffix(r.size);
  }
  return s;
}

}  // namespace strata::base
