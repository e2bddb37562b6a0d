#include "dockerfile/parse_words.h"

#include <cstdint>
#include <utility>

#include "base/go_quote.h"
#include "base/go_unicode.h"
#include "base/str.h"
#include "base/utf8.h"

namespace strata::dockerfile::internal {
namespace {

using base::Code;
using base::MakeError;

constexpr int32_t kEof = -1;
constexpr int32_t kEscape = '\\';

// "${" may nest inside "${"; Go's stacks grow, ours do not, so nesting stops
// here with an error (no real Dockerfile comes close).
constexpr int kMaxNesting = 200;

// Appends a rune as Go's string(rune) does: anything that is not a valid
// code point (EOF included) becomes U+FFFD.
void AppendGoRune(std::string& out, int32_t r) {
  base::AppendRune(out, r < 0 ? base::kRuneError : static_cast<char32_t>(r));
}

bool IsSpace(int32_t r) {
  return r >= 0 && base::IsUnicodeSpace(static_cast<char32_t>(r));
}

// Go's text/scanner as the lexer uses it: runes, U+FFFD for each invalid
// byte, and a byte order mark skipped at the very start.
class Runes {
 public:
  explicit Runes(std::string_view s) : s_(s) {
    if (base::StartsWith(s_, "\xEF\xBB\xBF")) pos_ = 3;
  }
  int32_t Peek() const {
    if (pos_ >= s_.size()) return kEof;
    return static_cast<int32_t>(base::DecodeRune(s_.substr(pos_)).rune);
  }
  int32_t Next() {
    if (pos_ >= s_.size()) return kEof;
    base::DecodedRune d = base::DecodeRune(s_.substr(pos_));
    pos_ += d.size;
    return static_cast<int32_t>(d.rune);
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// The lexer's wordsStruct: splits on unquoted white space.
class Words {
 public:
  explicit Words(std::string* buf) : buf_(buf) {}
  void AddChar(int32_t ch) {
    if (IsSpace(ch)) {
      if (in_word_ && !buf_->empty()) Flush();
      return;
    }
    AddRawChar(ch);
  }
  void AddRawChar(int32_t ch) {
    AppendGoRune(*buf_, ch);
    in_word_ = true;
  }
  void AddString(std::string_view s) {
    while (!s.empty()) {
      base::DecodedRune d = base::DecodeRune(s);
      AddChar(static_cast<int32_t>(d.rune));
      s.remove_prefix(d.size);
    }
  }
  void AddRawString(std::string_view s) {
    buf_->append(s);
    in_word_ = true;
  }
  std::vector<std::string> Take() {
    if (!buf_->empty()) Flush();
    return std::move(words_);
  }

 private:
  void Flush() {
    words_.push_back(std::move(*buf_));
    buf_->clear();
    in_word_ = false;
  }

  std::string* buf_;
  std::vector<std::string> words_;
  bool in_word_ = false;
};

struct Processed {
  std::string result;
  std::vector<std::string> words;
};

class Lexer {
 public:
  Lexer(std::string_view text, HeredocLexOptions options)
      : runes_(text),
        raw_quotes_(options.raw_quotes),
        raw_escapes_(options.raw_escapes) {}

  base::Result<Processed> ProcessStopOn(int32_t stop, bool raw_escapes);

 private:
  base::Result<std::string> Special(int32_t ch);
  base::Result<std::string> ProcessSingleQuote();
  base::Result<std::string> ProcessDoubleQuote();
  base::Result<std::string> ProcessDollar();
  base::Result<std::string> ProcessBraced(std::string name);
  std::string ProcessPossibleHeredoc();
  std::string ProcessName();
  base::Result<std::string> Nested(int32_t stop, bool raw_escapes,
                                   std::string_view eof_message);

  Runes runes_;
  bool raw_quotes_;
  bool raw_escapes_;
  // One buffer for the word under construction, shared by every nesting
  // level as in BuildKit: a nested "${...}" starts by clearing it.
  std::string words_buffer_;
  int depth_ = 0;
};

base::Result<Processed> Lexer::ProcessStopOn(int32_t stop, bool raw_escapes) {
  std::string result;
  words_buffer_.clear();
  Words words(&words_buffer_);
  const bool saved_raw_escapes = raw_escapes_;
  raw_escapes_ = raw_escapes;
  struct Restore {
    bool& target;
    bool value;
    ~Restore() { target = value; }
  } restore{raw_escapes_, saved_raw_escapes};

  while (runes_.Peek() != kEof) {
    int32_t ch = runes_.Peek();
    if (stop != kEof && ch == stop) {
      runes_.Next();
      return Processed{std::move(result), words.Take()};
    }
    if (ch == '$' || ch == '<' || ch == '\'' || ch == '"') {
      STRATA_ASSIGN_OR_RETURN(std::string tmp, Special(ch));
      result.append(tmp);
      if (ch == '$') {
        words.AddString(tmp);
      } else {
        words.AddRawString(tmp);
      }
      continue;
    }
    ch = runes_.Next();
    if (ch == kEscape) {
      if (raw_escapes_) {
        words.AddRawChar(ch);
        AppendGoRune(result, ch);
      }
      ch = runes_.Next();
      if (ch == kEof) break;
      words.AddRawChar(ch);
    } else {
      words.AddChar(ch);
    }
    AppendGoRune(result, ch);
  }
  if (stop != kEof) {
    std::string stop_text;
    AppendGoRune(stop_text, stop);
    return MakeError(Code::kParse,
                     "unexpected end of statement while looking for matching ",
                     stop_text);
  }
  return Processed{std::move(result), words.Take()};
}

base::Result<std::string> Lexer::Special(int32_t ch) {
  switch (ch) {
    case '$':
      return ProcessDollar();
    case '<':
      return ProcessPossibleHeredoc();
    case '\'':
      return ProcessSingleQuote();
    default:
      return ProcessDoubleQuote();
  }
}

base::Result<std::string> Lexer::ProcessSingleQuote() {
  std::string result;
  int32_t ch = runes_.Next();
  if (raw_quotes_) AppendGoRune(result, ch);
  while (true) {
    ch = runes_.Next();
    if (ch == kEof) {
      return MakeError(Code::kParse,
                       "unexpected end of statement while looking for "
                       "matching single-quote");
    }
    if (ch == '\'') {
      if (raw_quotes_) AppendGoRune(result, ch);
      return result;
    }
    AppendGoRune(result, ch);
  }
}

base::Result<std::string> Lexer::ProcessDoubleQuote() {
  std::string result;
  int32_t ch = runes_.Next();
  if (raw_quotes_) AppendGoRune(result, ch);
  while (true) {
    int32_t peek = runes_.Peek();
    if (peek == kEof) {
      return MakeError(Code::kParse,
                       "unexpected end of statement while looking for "
                       "matching double-quote");
    }
    if (peek == '"') {
      ch = runes_.Next();
      if (raw_quotes_) AppendGoRune(result, ch);
      return result;
    }
    if (peek == '$') {
      STRATA_ASSIGN_OR_RETURN(std::string value, ProcessDollar());
      result.append(value);
      continue;
    }
    ch = runes_.Next();
    if (ch == kEscape) {
      if (raw_escapes_) AppendGoRune(result, ch);
      int32_t next = runes_.Peek();
      // A trailing escape is dropped; the loop then reports the missing
      // closing quote.
      if (next == kEof) continue;
      if (next == '"' || next == '$' || next == kEscape) ch = runes_.Next();
    }
    AppendGoRune(result, ch);
  }
}

base::Result<std::string> Lexer::ProcessDollar() {
  runes_.Next();  // '$'
  if (runes_.Peek() != '{') {
    std::string name = ProcessName();
    // Nothing is set, and unset variables are written back as they stood.
    if (name.empty()) return std::string("$");
    return base::StrCat("$", name);
  }
  runes_.Next();  // '{'
  int32_t peek = runes_.Peek();
  if (peek == kEof) {
    return MakeError(Code::kParse, "syntax error: missing '}'");
  }
  if (peek == '{' || peek == '}' || peek == ':') {
    return MakeError(Code::kParse, "syntax error: bad substitution");
  }
  return ProcessBraced(ProcessName());
}

base::Result<std::string> Lexer::ProcessBraced(std::string name) {
  int32_t ch = runes_.Next();
  std::string chs;
  AppendGoRune(chs, ch);
  if (ch == '}') return base::StrCat("${", name, "}");
  bool modifier = ch == '+' || ch == '-' || ch == '?' || ch == '#' || ch == '%';
  bool null_is_unset = false;
  if (ch == ':') {
    // Go falls through to the modifier case whatever follows the colon.
    null_is_unset = true;
    ch = runes_.Next();
    AppendGoRune(chs, ch);
    modifier = true;
  }
  if (modifier) {
    bool raw_escapes = ch == '#' || ch == '%';
    if (null_is_unset && raw_escapes) {
      return MakeError(Code::kParse, "unsupported modifier (", chs,
                       ") in substitution");
    }
    STRATA_ASSIGN_OR_RETURN(
        std::string word,
        Nested('}', raw_escapes, "syntax error: missing '}'"));
    return base::StrCat("${", name, chs, word, "}");
  }
  if (ch == '/') {
    if (runes_.Peek() == '/') runes_.Next();  // "//": replace all
    STRATA_ASSIGN_OR_RETURN(
        std::string pattern,
        Nested('/', true, "syntax error: missing '/' in ${}"));
    STRATA_ASSIGN_OR_RETURN(std::string replacement,
                            Nested('}', true, "syntax error: missing '}'"));
    return base::StrCat("${", name, "/", pattern, "/", replacement, "}");
  }
  return MakeError(Code::kParse, "unsupported modifier (", chs,
                   ") in substitution");
}

base::Result<std::string> Lexer::Nested(int32_t stop, bool raw_escapes,
                                        std::string_view eof_message) {
  if (depth_ >= kMaxNesting) {
    return MakeError(Code::kParse, "substitutions nested deeper than ",
                     kMaxNesting, " levels");
  }
  ++depth_;
  base::Result<Processed> r = ProcessStopOn(stop, raw_escapes);
  --depth_;
  if (!r) {
    if (runes_.Peek() == kEof) return MakeError(Code::kParse, eof_message);
    return std::move(r).error();
  }
  return std::move(r->result);
}

std::string Lexer::ProcessPossibleHeredoc() {
  runes_.Next();  // '<'
  if (runes_.Peek() != '<') return "<";
  runes_.Next();
  std::string result = "<<";
  // The blanks after "<<" stay in the word, so "<< EOF" is one word.
  while (runes_.Peek() == '\t' || runes_.Peek() == '\r' ||
         runes_.Peek() == ' ') {
    AppendGoRune(result, runes_.Next());
  }
  return result;
}

std::string Lexer::ProcessName() {
  std::string name;
  auto is_digit = [](int32_t r) {
    return r >= 0 && base::GoIsDigit(static_cast<char32_t>(r));
  };
  while (runes_.Peek() != kEof) {
    int32_t ch = runes_.Peek();
    if (name.empty() && is_digit(ch)) {
      while (is_digit(runes_.Peek())) AppendGoRune(name, runes_.Next());
      return name;
    }
    if (name.empty() && (ch == '@' || ch == '*' || ch == '#' || ch == '?' ||
                         ch == '-' || ch == '$' || ch == '!' || ch == '0')) {
      AppendGoRune(name, runes_.Next());
      return name;
    }
    if (!base::GoIsLetter(static_cast<char32_t>(ch)) && !is_digit(ch) &&
        ch != '_') {
      break;
    }
    AppendGoRune(name, runes_.Next());
  }
  return name;
}

}  // namespace

base::Result<std::vector<std::string>> ProcessHeredocWords(
    std::string_view text, HeredocLexOptions options) {
  Lexer lexer(text, options);
  base::Result<Processed> r = lexer.ProcessStopOn(kEof, options.raw_escapes);
  if (!r) {
    return MakeError(Code::kParse, "failed to process ", base::GoQuote(text),
                     ": ", r.error().message());
  }
  return std::move(r->words);
}

}  // namespace strata::dockerfile::internal
