// Small string helpers: libstdc++ 12 has no <format>, so StrCat builds
// messages, and the splitting/trimming helpers keep parsers short.
#ifndef STRATA_BASE_STR_H_
#define STRATA_BASE_STR_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace strata::base {

namespace internal {
inline void AppendPiece(std::string& out, std::string_view piece) {
  out.append(piece);
}
inline void AppendPiece(std::string& out, const char* piece) {
  out.append(piece);
}
inline void AppendPiece(std::string& out, const std::string& piece) {
  out.append(piece);
}
inline void AppendPiece(std::string& out, char c) { out.push_back(c); }
inline void AppendPiece(std::string& out, bool b) {
  out.append(b ? "true" : "false");
}
template <typename N>
requires(std::is_arithmetic_v<N> && !std::is_same_v<N, char> &&
         !std::is_same_v<N, bool>) void AppendPiece(std::string& out, N n) {
  out.append(std::to_string(n));
}
}  // namespace internal

/// Appends each piece (strings, chars, numbers, bools) to `out`.
template <typename... Parts>
void StrAppend(std::string& out, const Parts&... parts) {
  (internal::AppendPiece(out, parts), ...);
}

/// Concatenates pieces into a new string.
template <typename... Parts>
std::string StrCat(const Parts&... parts) {
  std::string out;
  StrAppend(out, parts...);
  return out;
}

/// Joins `items` with `sep` between them.
std::string Join(const std::vector<std::string>& items, std::string_view sep);

/// Splits on every occurrence of `sep` (empty pieces kept).
std::vector<std::string> Split(std::string_view s, char sep);

/// Removes ASCII whitespace (space, \t, \n, \v, \f, \r) from both ends.
std::string_view TrimAscii(std::string_view s);

/// ASCII lower-casing; other bytes are kept.
std::string AsciiLower(std::string_view s);

/// True if `s` begins / ends with `part`.
inline bool StartsWith(std::string_view s, std::string_view part) {
  return s.substr(0, part.size()) == part;
}
inline bool EndsWith(std::string_view s, std::string_view part) {
  return s.size() >= part.size() && s.substr(s.size() - part.size()) == part;
}

/// Parses a whole decimal integer; false on junk, sign misuse or overflow.
bool ParseInt64(std::string_view s, int64_t* out);

}  // namespace strata::base

#endif  // STRATA_BASE_STR_H_
