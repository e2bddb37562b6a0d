// Go standard-library behaviours for the instruction model (see
// instructions_internal.h). Each function follows the Go source it names.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "base/go_quote.h"
#include "base/go_unicode.h"
#include "base/utf8.h"
#include "dockerfile/instructions_internal.h"

namespace strata::dockerfile::instr_internal {
namespace {

constexpr uint64_t kMaxUint64 = std::numeric_limits<uint64_t>::max();

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

bool IsDecDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return DigitValue(c) < 16; }

// Quotes like Go's time.quote: '"' and '\' escaped, control bytes and every
// byte of a non-ASCII rune as \xHH.
std::string TimeQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x80 || c < ' ') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<char>(c);
  }
  out += '"';
  return out;
}

// time.leadingInt: false on overflow past 1<<63.
bool LeadingInt(std::string_view& s, uint64_t* x) {
  *x = 0;
  size_t i = 0;
  for (; i < s.size() && IsDecDigit(s[i]); ++i) {
    if (*x > (uint64_t{1} << 63) / 10) return false;
    *x = *x * 10 + static_cast<uint64_t>(s[i] - '0');
    if (*x > (uint64_t{1} << 63)) return false;
  }
  s.remove_prefix(i);
  return true;
}

// time.leadingFraction.
uint64_t LeadingFraction(std::string_view& s, double* scale) {
  uint64_t x = 0;
  *scale = 1;
  bool overflow = false;
  size_t i = 0;
  for (; i < s.size() && IsDecDigit(s[i]); ++i) {
    if (overflow) continue;
    if (x > (kMaxUint64 >> 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = x * 10 + static_cast<uint64_t>(s[i] - '0');
    if (y > (uint64_t{1} << 63)) {
      overflow = true;
      continue;
    }
    x = y;
    *scale *= 10;
  }
  s.remove_prefix(i);
  return x;
}

uint64_t DurationUnit(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return 1000;
  if (u == "ms") return 1000000;
  if (u == "s") return 1000000000;
  if (u == "m") return 60000000000ULL;
  if (u == "h") return 3600000000000ULL;
  return 0;
}

// Go's strconv.ParseFloat grammar for the forms go-units can hand it (the
// text always ends in a digit or '.'): decimal with optional exponent, or
// hexadecimal with a mandatory 'p' exponent.
bool ValidGoFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool hex = s.size() >= i + 2 && s[i] == '0' && (s[i + 1] | 0x20) == 'x';
  if (hex) i += 2;
  auto is_digit = [hex](char c) { return hex ? IsHexDigit(c) : IsDecDigit(c); };
  bool digits = false;
  while (i < s.size() && is_digit(s[i])) ++i, digits = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, digits = true;
  }
  if (!digits) return false;
  if (i == s.size()) return !hex;
  char e = static_cast<char>(s[i] | 0x20);
  if (e != (hex ? 'p' : 'e')) return false;
  ++i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool exp_digits = false;
  while (i < s.size() && IsDecDigit(s[i])) ++i, exp_digits = true;
  return exp_digits && i == s.size();
}

}  // namespace

std::string Quote(std::string_view s) { return base::GoQuote(s); }

bool EqualFoldAs(std::string_view s) {
  base::DecodedRune a = base::DecodeRune(s);
  if (a.size != 1 || (s[0] != 'a' && s[0] != 'A')) return false;
  s.remove_prefix(1);
  base::DecodedRune b = base::DecodeRune(s);
  if (b.size != s.size() || s.empty()) return false;
  return b.rune == 's' || b.rune == 'S' || (b.rune == 0x17F && b.size == 2);
}

bool ParseBool(std::string_view s, bool* out) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" ||
      s == "True") {
    *out = true;
    return true;
  }
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" ||
      s == "False") {
    *out = false;
    return true;
  }
  return false;
}

NumError ParseUint(std::string_view s, int base, int bit_size, uint64_t* out) {
  *out = 0;
  if (s.empty()) return NumError::kSyntax;
  if (bit_size == 0) bit_size = 64;
  const uint64_t cutoff = kMaxUint64 / static_cast<uint64_t>(base) + 1;
  const uint64_t max_val =
      bit_size == 64 ? kMaxUint64 : (uint64_t{1} << bit_size) - 1;
  uint64_t n = 0;
  for (char c : s) {
    int d = DigitValue(c);
    if (d >= base) return NumError::kSyntax;
    if (n >= cutoff) {
      *out = max_val;
      return NumError::kRange;
    }
    n *= static_cast<uint64_t>(base);
    uint64_t n1 = n + static_cast<uint64_t>(d);
    if (n1 < n || n1 > max_val) {
      *out = max_val;
      return NumError::kRange;
    }
    n = n1;
  }
  *out = n;
  return NumError::kNone;
}

NumError ParseInt(std::string_view s, int base, int bit_size, int64_t* out) {
  *out = 0;
  if (s.empty()) return NumError::kSyntax;
  if (bit_size == 0) bit_size = 64;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t un = 0;
  NumError err = ParseUint(s, base, bit_size, &un);
  if (err == NumError::kSyntax) return err;
  const uint64_t cutoff = uint64_t{1} << (bit_size - 1);
  if (err == NumError::kRange || (!neg && un >= cutoff) ||
      (neg && un > cutoff)) {
    return NumError::kRange;
  }
  *out = neg ? static_cast<int64_t>(0 - un) : static_cast<int64_t>(un);
  return NumError::kNone;
}

std::string NumErrorText(std::string_view func, std::string_view input,
                         NumError error) {
  return base::StrCat(
      "strconv.", func, ": parsing ", Quote(input), ": ",
      error == NumError::kRange ? "value out of range" : "invalid syntax");
}

base::Result<int64_t> ParseDuration(std::string_view s) {
  const std::string_view orig = s;
  auto invalid = [orig] {
    return base::MakeError(base::Code::kParse, "time: invalid duration ",
                           TimeQuote(orig));
  };
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDecDigit(s[0]))) return invalid();
    size_t pl = s.size();
    uint64_t v = 0;
    if (!LeadingInt(s, &v)) return invalid();
    bool pre = pl != s.size();
    bool post = false;
    uint64_t f = 0;
    double scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t before = s.size();
      f = LeadingFraction(s, &scale);
      post = before != s.size();
    }
    if (!pre && !post) return invalid();
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !IsDecDigit(s[i])) ++i;
    if (i == 0) {
      return base::MakeError(base::Code::kParse,
                             "time: missing unit in duration ",
                             TimeQuote(orig));
    }
    std::string_view u = s.substr(0, i);
    s.remove_prefix(i);
    uint64_t unit = DurationUnit(u);
    if (unit == 0) {
      return base::MakeError(base::Code::kParse, "time: unknown unit ",
                             TimeQuote(u), " in duration ", TimeQuote(orig));
    }
    if (v > (uint64_t{1} << 63) / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) *
                                 (static_cast<double>(unit) / scale));
      if (v > (uint64_t{1} << 63)) return invalid();
    }
    d += v;
    if (d > (uint64_t{1} << 63)) return invalid();
  }
  if (neg) return static_cast<int64_t>(0 - d);
  if (d > (uint64_t{1} << 63) - 1) return invalid();
  return static_cast<int64_t>(d);
}

bool RamInBytes(std::string_view s, int64_t* out) {
  size_t sep = s.find_last_of("01234567890. ");
  if (sep == std::string_view::npos) return false;
  std::string_view num = s.substr(0, s[sep] == ' ' ? sep : sep + 1);
  std::string sfx = base::GoToLower(s.substr(sep + 1));
  if (!ValidGoFloat(num)) return false;
  std::string num_text(num);
  double size = std::strtod(num_text.c_str(), nullptr);
  if (std::isinf(size) || size < 0) return false;
  if (!sfx.empty()) {
    if (s.size() - sep - 1 > 3) return false;
    if (sfx[0] == 'b') {
      if (sfx.size() > 1) return false;
    } else {
      static constexpr std::string_view kUnits = "kmgtp";
      size_t power = kUnits.find(sfx[0]);
      if (power == std::string_view::npos) return false;
      size *= std::pow(1024.0, static_cast<double>(power + 1));
      if ((sfx.size() == 2 && sfx[1] != 'b') ||
          (sfx.size() == 3 && sfx.substr(1) != "ib")) {
        return false;
      }
    }
  }
  // Go converts an out-of-range float64 to int64 as the minimum value on
  // amd64 (CVTTSD2SQ); do the same rather than hit undefined behaviour.
  *out = size >= 9223372036854775808.0 ? std::numeric_limits<int64_t>::min()
                                       : static_cast<int64_t>(size);
  return true;
}

int Levenshtein(std::string_view a, std::string_view b) {
  auto runes = [](std::string_view s) {
    std::vector<char32_t> out;
    while (!s.empty()) {
      base::DecodedRune d = base::DecodeRune(s);
      out.push_back(d.rune);
      s.remove_prefix(d.size);
    }
    return out;
  };
  std::vector<char32_t> ra = runes(a), rb = runes(b);
  std::vector<int> row(rb.size() + 1);
  for (size_t j = 0; j <= rb.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= ra.size(); ++i) {
    int diag = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= rb.size(); ++j) {
      int up = row[j];
      int cost = ra[i - 1] == rb[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[rb.size()];
}

std::string_view TrimSpace(std::string_view s) {
  return base::TrimUnicodeSpace(s);
}

}  // namespace strata::dockerfile::instr_internal
