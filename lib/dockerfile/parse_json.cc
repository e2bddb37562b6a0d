#include "dockerfile/parse_json.h"

#include <charconv>
#include <cstdint>

#include "base/utf8.h"

namespace strata::dockerfile::internal {
namespace {

// Go's encoding/json refuses input nested deeper than this.
constexpr size_t kMaxNestingDepth = 10000;

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's getu4: the value of a "\uXXXX" at the start of `s`, or -1.
int32_t GetU4(std::string_view s) {
  if (s.size() < 6 || s[0] != '\\' || s[1] != 'u') return -1;
  int32_t r = 0;
  for (size_t i = 2; i < 6; ++i) {
    int h = HexValue(s[i]);
    if (h < 0) return -1;
    r = r * 16 + h;
  }
  return r;
}

// Adds `b` to `a`, saturating far beyond any exponent that matters.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  constexpr int64_t kLimit = int64_t{1} << 60;
  int64_t sum = a + b;
  if (sum > kLimit) return kLimit;
  if (sum < -kLimit) return -kLimit;
  return sum;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  void SkipSpace() {
    while (pos_ < s_.size() && IsJsonSpace(s_[pos_])) ++pos_;
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return s_[pos_]; }
  void Advance() { ++pos_; }
  bool overflow() const { return overflow_; }

  // Scans a string starting at '"'; decodes it into `out` when non-null.
  bool ScanString(std::string* out);
  // Scans a number; records whether it overflows float64 (Go then fails
  // the whole Unmarshal with an UnmarshalTypeError).
  bool ScanNumber();
  bool ScanLiteral();

 private:
  bool ScanEscape(std::string* out);
  void CheckOverflow(std::string_view int_part, std::string_view frac_part,
                     int64_t exponent);

  std::string_view s_;
  size_t pos_ = 0;
  bool overflow_ = false;
};

bool Scanner::ScanString(std::string* out) {
  ++pos_;  // opening quote
  while (pos_ < s_.size()) {
    unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c == '\\') {
      if (!ScanEscape(out)) return false;
      continue;
    }
    if (c < 0x20) return false;
    if (c < 0x80) {
      if (out) out->push_back(static_cast<char>(c));
      ++pos_;
      continue;
    }
    // Go's scanner accepts any high byte; unquote turns each byte that is
    // not valid UTF-8 into U+FFFD.
    base::DecodedRune d = base::DecodeRune(s_.substr(pos_));
    if (out) {
      if (d.rune == base::kRuneError && d.size == 1) {
        base::AppendRune(*out, base::kRuneError);
      } else {
        out->append(s_.substr(pos_, d.size));
      }
    }
    pos_ += d.size;
  }
  return false;
}

bool Scanner::ScanEscape(std::string* out) {
  if (pos_ + 1 >= s_.size()) return false;
  char e = s_[pos_ + 1];
  char simple = 0;
  switch (e) {
    case '"':
    case '\\':
    case '/':
      simple = e;
      break;
    case 'b':
      simple = '\b';
      break;
    case 'f':
      simple = '\f';
      break;
    case 'n':
      simple = '\n';
      break;
    case 'r':
      simple = '\r';
      break;
    case 't':
      simple = '\t';
      break;
    case 'u':
      break;
    default:
      return false;
  }
  if (simple != 0) {
    if (out) out->push_back(simple);
    pos_ += 2;
    return true;
  }
  int32_t r = GetU4(s_.substr(pos_));
  if (r < 0) return false;
  pos_ += 6;
  if (r >= 0xD800 && r < 0xE000) {
    // A surrogate: Go pairs it with a following \uXXXX when the two form a
    // valid pair, and otherwise writes U+FFFD and leaves what follows.
    int32_t r2 = GetU4(s_.substr(pos_));
    if (r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000) {
      r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
      pos_ += 6;
    } else {
      r = base::kRuneError;
    }
  }
  if (out) base::AppendRune(*out, static_cast<char32_t>(r));
  return true;
}

bool Scanner::ScanNumber() {
  if (s_[pos_] == '-') ++pos_;
  size_t int_start = pos_;
  if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return false;
  if (s_[pos_] == '0') {
    ++pos_;
  } else {
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
  }
  std::string_view int_part = s_.substr(int_start, pos_ - int_start);
  std::string_view frac_part;
  if (pos_ < s_.size() && s_[pos_] == '.') {
    size_t frac_start = ++pos_;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    if (pos_ == frac_start) return false;
    frac_part = s_.substr(frac_start, pos_ - frac_start);
  }
  int64_t exponent = 0;
  if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
    ++pos_;
    bool negative = false;
    if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
      negative = s_[pos_] == '-';
      ++pos_;
    }
    size_t exp_start = pos_;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) {
      // Exponents beyond 10^15 all mean "overflow" or "zero" alike.
      if (exponent < 1000000000000000)
        exponent = exponent * 10 + (s_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == exp_start) return false;
    if (negative) exponent = -exponent;
  }
  CheckOverflow(int_part, frac_part, exponent);
  return true;
}

void Scanner::CheckOverflow(std::string_view int_part,
                            std::string_view frac_part, int64_t exponent) {
  // value = 0.D x 10^scale, D being the digits without leading zeros.
  std::string digits;
  int64_t scale = static_cast<int64_t>(int_part.size());
  bool leading = true;
  for (std::string_view part : {int_part, frac_part}) {
    for (char c : part) {
      if (leading && c == '0') {
        --scale;
        continue;
      }
      leading = false;
      digits.push_back(c);
    }
  }
  if (digits.empty()) return;  // zero
  scale = SaturatingAdd(scale, exponent);
  // The largest float64 is 0.17976931348623157e309.
  if (scale < 309) return;
  if (scale > 309) {
    overflow_ = true;
    return;
  }
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  std::string text = "0." + digits + "e309";
  double value = 0;
  std::from_chars_result r =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec == std::errc::result_out_of_range) overflow_ = true;
}

bool Scanner::ScanLiteral() {
  for (std::string_view word : {"true", "false", "null"}) {
    if (s_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
  }
  return false;
}

// What the decoder expects next.
enum class Expect {
  kValueOrClose,
  kValue,
  kCommaOrClose,
  kKeyOrClose,
  kKey,
  kColon
};

// A state machine over Go's JSON grammar, with an explicit stack so that
// nesting costs no C++ stack.
class ArrayDecoder {
 public:
  ArrayDecoder(std::string_view text, std::vector<std::string>* out)
      : sc_(text), out_(out) {}

  JsonArray Run() {
    out_->clear();
    sc_.SkipSpace();
    if (sc_.AtEnd() || sc_.Peek() != '[') return JsonArray::kInvalid;
    sc_.Advance();
    stack_.push_back('[');
    while (!stack_.empty()) {
      sc_.SkipSpace();
      if (sc_.AtEnd()) return JsonArray::kInvalid;
      bool consumed = false;
      if (!Structure(sc_.Peek(), &consumed)) return JsonArray::kInvalid;
      if (!consumed && !Value(sc_.Peek())) return JsonArray::kInvalid;
    }
    sc_.SkipSpace();
    if (!sc_.AtEnd() || sc_.overflow()) return JsonArray::kInvalid;
    if (not_strings_) {
      out_->clear();
      return JsonArray::kNotStrings;
    }
    return JsonArray::kStrings;
  }

 private:
  // Takes `c` if it is the punctuation (or object key) expected here. Sets
  // `consumed` when it did; returns false on a syntax error.
  bool Structure(char c, bool* consumed) {
    *consumed = true;
    bool closer = c == (stack_.back() == '[' ? ']' : '}');
    switch (expect_) {
      case Expect::kValue:
        *consumed = false;
        return true;
      case Expect::kKey:
        if (c != '"' || !sc_.ScanString(nullptr)) return false;
        expect_ = Expect::kColon;
        return true;
      case Expect::kColon:
        if (c != ':') return false;
        sc_.Advance();
        expect_ = Expect::kValue;
        return true;
      default:
        break;
    }
    if (closer) {
      sc_.Advance();
      stack_.pop_back();
      expect_ = Expect::kCommaOrClose;
      return true;
    }
    if (expect_ == Expect::kCommaOrClose) {
      if (c != ',') return false;
      sc_.Advance();
      expect_ = stack_.back() == '[' ? Expect::kValue : Expect::kKey;
      return true;
    }
    if (expect_ == Expect::kKeyOrClose) {
      expect_ = Expect::kKey;
      return true;
    }
    *consumed = false;  // kValueOrClose: a value follows
    return true;
  }

  // Scans one value; elements of the outermost array must be strings.
  bool Value(char c) {
    bool top = stack_.size() == 1;
    expect_ = Expect::kCommaOrClose;
    if (c == '[' || c == '{') {
      if (stack_.size() >= kMaxNestingDepth) return false;
      stack_.push_back(c);
      sc_.Advance();
      expect_ = c == '[' ? Expect::kValueOrClose : Expect::kKeyOrClose;
      not_strings_ = not_strings_ || top;
      return true;
    }
    if (c == '"') {
      decoded_.clear();
      if (!sc_.ScanString(top ? &decoded_ : nullptr)) return false;
      if (top) out_->push_back(decoded_);
      return true;
    }
    not_strings_ = not_strings_ || top;
    return (c == '-' || IsDigit(c)) ? sc_.ScanNumber() : sc_.ScanLiteral();
  }

  Scanner sc_;
  std::vector<std::string>* out_;
  std::vector<char> stack_;
  Expect expect_ = Expect::kValueOrClose;
  bool not_strings_ = false;
  std::string decoded_;
};

}  // namespace

JsonArray DecodeJsonStringArray(std::string_view text,
                                std::vector<std::string>* out) {
  return ArrayDecoder(text, out).Run();
}

}  // namespace strata::dockerfile::internal
