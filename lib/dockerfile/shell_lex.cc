// The shell lexer proper: a port of BuildKit's shellWord (lex.go). It reads
// runes the way Go's text/scanner does (invalid bytes as U+FFFD, a leading
// byte order mark skipped) and re-encodes every rune it copies, so, like
// BuildKit, its output is valid UTF-8 except where it copies a variable's
// value.
#include "dockerfile/shell_lex.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/go_quote.h"
#include "base/go_unicode.h"
#include "base/result.h"
#include "base/str.h"
#include "base/utf8.h"
#include "dockerfile/shell_lex_internal.h"

namespace strata::dockerfile {

using base::Code;
using base::MakeError;
using base::Result;

namespace si = shell_internal;

std::string EnvList::Normalize(std::string_view key) const {
  return case_insensitive_ ? base::GoToUpper(key) : std::string(key);
}

EnvList EnvList::FromPairs(
    const std::vector<std::pair<std::string, std::string>>& pairs,
    bool case_insensitive) {
  EnvList env(case_insensitive);
  for (const auto& [key, value] : pairs) env.Set(key, value);
  return env;
}

EnvList EnvList::FromStrings(const std::vector<std::string>& entries,
                             bool case_insensitive) {
  EnvList env(case_insensitive);
  for (std::string_view entry : entries) {
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
      env.Set(entry, "");
    } else {
      env.Set(entry.substr(0, eq), entry.substr(eq + 1));
    }
  }
  return env;
}

void EnvList::Set(std::string_view key, std::string_view value) {
  std::string normalized = Normalize(key);
  auto it = index_.find(normalized);
  if (it != index_.end()) {
    entries_[it->second].second = std::string(value);
    return;
  }
  index_.emplace(std::move(normalized), entries_.size());
  entries_.emplace_back(std::string(key), std::string(value));
}

std::optional<std::string> EnvList::Get(std::string_view key) const {
  auto it = index_.find(Normalize(key));
  if (it == index_.end()) return std::nullopt;
  return entries_[it->second].second;
}

std::vector<std::string> EnvList::Keys() const {
  std::vector<std::string> keys;
  keys.reserve(entries_.size());
  for (const auto& entry : entries_) keys.push_back(entry.first);
  return keys;
}

namespace {

constexpr char32_t kEof = static_cast<char32_t>(-1);
constexpr char32_t kBom = 0xFEFF;

// Go's text/scanner as lex.go uses it: Peek() and Next() over runes.
class Scanner {
 public:
  explicit Scanner(std::string_view src) : src_(src) {
    ch_ = Read();
    if (ch_ == kBom) ch_ = Read();  // only at the very start
  }
  char32_t Peek() const { return ch_; }
  char32_t Next() {
    char32_t ch = ch_;
    if (ch != kEof) ch_ = Read();
    return ch;
  }

 private:
  char32_t Read() {
    if (src_.empty()) return kEof;
    base::DecodedRune d = base::DecodeRune(src_);
    src_.remove_prefix(d.size);
    return d.rune;
  }

  std::string_view src_;
  char32_t ch_;
};

// Go's string(rune): the EOF rune (-1) becomes U+FFFD.
std::string RuneString(char32_t r) {
  std::string s;
  base::AppendRune(s, r == kEof ? base::kRuneError : r);
  return s;
}

bool IsSpecialParam(char32_t r) {
  switch (r) {
    case '@':
    case '*':
    case '#':
    case '?':
    case '-':
    case '$':
    case '!':
    case '0':
      return true;
    default:
      return false;
  }
}

// BuildKit's wordsStruct: splits on white space that is not quoted or
// escaped. The buffer is the expander's shared one (see ProcessStopOn).
class WordSplitter {
 public:
  explicit WordSplitter(std::string* buf) : buf_(buf) {}

  void AddChar(char32_t ch) {
    bool space = base::IsUnicodeSpace(ch);
    if (space && in_word_) {
      if (!buf_->empty()) {
        words_.push_back(std::move(*buf_));
        buf_->clear();
        in_word_ = false;
      }
    } else if (!space) {
      AddRawChar(ch);
    }
  }
  void AddRawChar(char32_t ch) {
    base::AppendRune(*buf_, ch);
    in_word_ = true;
  }
  void AddString(std::string_view s) {
    while (!s.empty()) {
      base::DecodedRune d = base::DecodeRune(s);
      AddChar(d.rune);
      s.remove_prefix(d.size);
    }
  }
  void AddRawString(std::string_view s) {
    buf_->append(s);
    in_word_ = true;
  }
  std::vector<std::string> TakeWords() {
    if (!buf_->empty()) {
      words_.push_back(std::move(*buf_));
      buf_->clear();
      in_word_ = false;
    }
    return std::move(words_);
  }

 private:
  std::string* buf_;
  std::vector<std::string> words_;
  bool in_word_ = false;
};

// One expansion: BuildKit's shellWord.
class Expander {
 public:
  Expander(const LexOptions& options, std::string_view word,
           const EnvGetter& env, WordResult* out)
      : options_(options),
        escape_(static_cast<unsigned char>(options.escape_token)),
        scanner_(word),
        env_(env),
        raw_escapes_(options.raw_escapes),
        out_(out) {}

  // Expands the whole word into out_->result and out_->words.
  base::Status Run() {
    WordSplitter words(&words_buffer_);
    Result<std::string> result = ProcessStopOn(kEof, raw_escapes_, &words);
    if (!result) return std::move(result).error();
    out_->result = std::move(*result);
    out_->words = words.TakeWords();
    return base::OkStatus();
  }

 private:
  Result<std::string> ProcessStopOn(char32_t stop, bool raw_escapes,
                                    WordSplitter* words);
  Result<std::string> ProcessSingleQuote();
  Result<std::string> ProcessDoubleQuote();
  Result<std::string> ProcessDollar();
  Result<std::string> ProcessModifier(const std::string& name, char32_t ch,
                                      std::string chs, bool null_is_unset);
  Result<std::string> ProcessReplace(const std::string& name);
  std::string ProcessName();
  std::optional<std::string> GetEnv(const std::string& name);

  const LexOptions& options_;
  const char32_t escape_;
  Scanner scanner_;
  const EnvGetter& env_;
  bool raw_escapes_;
  int depth_ = 0;
  size_t replace_budget_ = ShellLex::kMaxReplaceAllBytes;
  // BuildKit keeps one word buffer per expansion, and every nested
  // ProcessStopOn (for ${V:-...} and friends) clears it. So a partial
  // word before such an expansion is lost from ProcessWords' answer
  // ("a${X:-b}c" splits to "bc"). We keep that for byte-equal output.
  std::string words_buffer_;
  WordResult* out_;
};

// Reads up to `stop` (consumed) or the end, expanding as it goes. `words`
// is null for nested calls, whose words BuildKit throws away.
Result<std::string> Expander::ProcessStopOn(char32_t stop, bool raw_escapes,
                                            WordSplitter* words) {
  std::string result;
  WordSplitter nested(&words_buffer_);
  if (words == nullptr) {
    words_buffer_.clear();
    words = &nested;
  }
  // Set raw_escapes_ for this call only.
  struct Restore {
    bool& flag;
    bool saved;
    ~Restore() { flag = saved; }
  } restore{raw_escapes_, raw_escapes_};
  raw_escapes_ = raw_escapes;

  while (scanner_.Peek() != kEof) {
    char32_t ch = scanner_.Peek();
    if (stop != kEof && ch == stop) {
      scanner_.Next();
      if (words == &nested) nested.TakeWords();
      return result;
    }
    bool quote = !options_.skip_process_quotes && (ch == '\'' || ch == '"');
    if (ch == '$' || quote) {
      Result<std::string> part = ch == '$'   ? ProcessDollar()
                                 : ch == '"' ? ProcessDoubleQuote()
                                             : ProcessSingleQuote();
      if (!part) return std::move(part).error();
      result += *part;
      if (ch == '$') {
        words->AddString(*part);
      } else {
        words->AddRawString(*part);
      }
      continue;
    }
    ch = scanner_.Next();
    if (ch == escape_) {
      if (raw_escapes_) {
        words->AddRawChar(ch);
        base::AppendRune(result, ch);
      }
      // The escape token escapes the next character; at the end it is
      // dropped.
      ch = scanner_.Next();
      if (ch == kEof) break;
      words->AddRawChar(ch);
    } else {
      words->AddChar(ch);
    }
    base::AppendRune(result, ch);
  }
  if (stop != kEof) {
    return MakeError(Code::kParse,
                     "unexpected end of statement while looking for matching ",
                     RuneString(stop));
  }
  return result;
}

Result<std::string> Expander::ProcessSingleQuote() {
  // Everything up to the next single quote is literal; it cannot be
  // escaped.
  std::string result;
  char32_t ch = scanner_.Next();
  if (options_.raw_quotes) base::AppendRune(result, ch);
  while (true) {
    ch = scanner_.Next();
    if (ch == kEof) {
      return MakeError(Code::kParse,
                       "unexpected end of statement while looking for "
                       "matching single-quote");
    }
    if (ch == '\'') {
      if (options_.raw_quotes) base::AppendRune(result, ch);
      return result;
    }
    base::AppendRune(result, ch);
  }
}

Result<std::string> Expander::ProcessDoubleQuote() {
  // Everything up to the next double quote is literal except '$'; the
  // escape token escapes only '"', '$' and itself and is otherwise kept.
  std::string result;
  char32_t ch = scanner_.Next();
  if (options_.raw_quotes) base::AppendRune(result, ch);
  while (true) {
    char32_t peek = scanner_.Peek();
    if (peek == kEof) {
      return MakeError(Code::kParse,
                       "unexpected end of statement while looking for "
                       "matching double-quote");
    }
    if (peek == '"') {
      ch = scanner_.Next();
      if (options_.raw_quotes) base::AppendRune(result, ch);
      return result;
    }
    if (peek == '$') {
      STRATA_ASSIGN_OR_RETURN(std::string value, ProcessDollar());
      result += value;
      continue;
    }
    ch = scanner_.Next();
    if (ch == escape_) {
      if (raw_escapes_) base::AppendRune(result, ch);
      peek = scanner_.Peek();
      if (peek == kEof) continue;  // the loop then reports the open quote
      if (peek == '"' || peek == '$' || peek == escape_) ch = scanner_.Next();
    }
    base::AppendRune(result, ch);
  }
}

Result<std::string> Expander::ProcessDollar() {
  scanner_.Next();  // '$'
  if (scanner_.Peek() != '{') {
    std::string name = ProcessName();
    if (name.empty()) return std::string("$");
    std::optional<std::string> value = GetEnv(name);
    if (!value && options_.skip_unset_env) return base::StrCat("$", name);
    return value.value_or("");
  }
  scanner_.Next();  // '{'
  char32_t peek = scanner_.Peek();
  if (peek == kEof) return MakeError(Code::kParse, "syntax error: missing '}'");
  if (peek == '{' || peek == '}' || peek == ':') {
    return MakeError(Code::kParse, "syntax error: bad substitution");
  }
  if (depth_ >= ShellLex::kMaxNesting) {
    return MakeError(Code::kParse, "syntax error: ${...} nested more than ",
                     ShellLex::kMaxNesting, " deep");
  }
  std::string name = ProcessName();
  char32_t ch = scanner_.Next();
  std::string chs = RuneString(ch);
  switch (ch) {
    case '}': {
      std::optional<std::string> value = GetEnv(name);
      if (!value && options_.skip_unset_env) {
        return base::StrCat("${", name, "}");
      }
      return value.value_or("");
    }
    case ':':
      ch = scanner_.Next();
      chs += RuneString(ch);
      return ProcessModifier(name, ch, std::move(chs), /*null_is_unset=*/true);
    case '+':
    case '-':
    case '?':
    case '#':
    case '%':
      return ProcessModifier(name, ch, std::move(chs), false);
    case '/':
      return ProcessReplace(name);
    default:
      return MakeError(Code::kParse, "unsupported modifier (", chs,
                       ") in substitution");
  }
}

// ${name<chs>word}: chs is the modifier as written (":-", "#", ...), ch its
// last rune.
Result<std::string> Expander::ProcessModifier(const std::string& name,
                                              char32_t ch, std::string chs,
                                              bool null_is_unset) {
  bool raw_escapes = ch == '#' || ch == '%';
  if (null_is_unset && raw_escapes) {
    return MakeError(Code::kParse, "unsupported modifier (", chs,
                     ") in substitution");
  }
  ++depth_;
  Result<std::string> word_or = ProcessStopOn('}', raw_escapes, nullptr);
  --depth_;
  if (!word_or) {
    if (scanner_.Peek() == kEof) {
      return MakeError(Code::kParse, "syntax error: missing '}'");
    }
    return std::move(word_or).error();
  }
  std::string word = std::move(*word_or);
  std::optional<std::string> value = GetEnv(name);
  if (!value && options_.skip_unset_env) {
    return base::StrCat("${", name, chs, word, "}");
  }
  bool unset = !value || (null_is_unset && value->empty());
  switch (ch) {
    case '-':
      return unset ? word : *value;
    case '+':
      return unset ? std::string() : word;
    case '?':
      if (!value) {
        return MakeError(Code::kParse, name, ": ",
                         word.empty() ? "is not allowed to be unset" : word);
      }
      if (unset) {
        return MakeError(Code::kParse, name, ": ",
                         word.empty() ? "is not allowed to be empty" : word);
      }
      return *value;
    case '%':
    case '#': {
      // '%' / '#' take the shortest match, '%%' / '##' the longest.
      bool greedy = !word.empty() && static_cast<unsigned char>(word[0]) == ch;
      std::string_view pattern = word;
      if (greedy) pattern.remove_prefix(1);
      std::string_view subject = value ? std::string_view(*value) : "";
      if (ch == '%') return si::TrimSuffix(pattern, subject, greedy);
      return si::TrimPrefix(pattern, subject, greedy);
    }
    default:
      return MakeError(Code::kParse, "unsupported modifier (", chs,
                       ") in substitution");
  }
}

// ${name/pattern/replacement} and ${name//pattern/replacement}.
Result<std::string> Expander::ProcessReplace(const std::string& name) {
  bool replace_all = scanner_.Peek() == '/';
  if (replace_all) scanner_.Next();
  ++depth_;
  Result<std::string> pattern = ProcessStopOn('/', true, nullptr);
  if (!pattern) {
    --depth_;
    if (scanner_.Peek() == kEof) {
      return MakeError(Code::kParse, "syntax error: missing '/' in ${}");
    }
    return std::move(pattern).error();
  }
  Result<std::string> replacement = ProcessStopOn('}', true, nullptr);
  --depth_;
  if (!replacement) {
    if (scanner_.Peek() == kEof) {
      return MakeError(Code::kParse, "syntax error: missing '}'");
    }
    return std::move(replacement).error();
  }
  std::optional<std::string> value = GetEnv(name);
  if (!value && options_.skip_unset_env) {
    return base::StrCat("${", name, "/", *pattern, "/", *replacement, "}");
  }
  STRATA_ASSIGN_OR_RETURN(
      std::optional<std::string> replaced,
      si::ReplacePattern(*pattern, value.value_or(""), *replacement,
                         replace_all, replace_budget_));
  if (!replaced) {
    return MakeError(Code::kParse, "${", name,
                     "//...} results in this word exceed ",
                     ShellLex::kMaxReplaceAllBytes, " bytes");
  }
  // Only replace-all can multiply sizes; charge it to the word's budget.
  if (replace_all) replace_budget_ -= replaced->size();
  return std::move(*replaced);
}

// A name: letters, digits and '_'; or a run of digits (positional); or one
// special parameter character.
std::string Expander::ProcessName() {
  std::string name;
  while (scanner_.Peek() != kEof) {
    char32_t ch = scanner_.Peek();
    if (name.empty() && base::GoIsDigit(ch)) {
      while (scanner_.Peek() != kEof && base::GoIsDigit(scanner_.Peek())) {
        base::AppendRune(name, scanner_.Next());
      }
      return name;
    }
    if (name.empty() && IsSpecialParam(ch)) {
      scanner_.Next();
      return RuneString(ch);
    }
    if (!base::GoIsLetter(ch) && !base::GoIsDigit(ch) && ch != '_') break;
    base::AppendRune(name, scanner_.Next());
  }
  return name;
}

std::optional<std::string> Expander::GetEnv(const std::string& name) {
  std::optional<std::string> value = env_.Get(name);
  (value ? out_->matched : out_->unmatched).insert(name);
  return value;
}

Result<WordResult> Process(const LexOptions& options, std::string_view word,
                           const EnvGetter& env) {
  WordResult out;
  Expander expander(options, word, env, &out);
  base::Status status = expander.Run();
  if (!status) {
    return MakeError(Code::kParse, "failed to process ", base::GoQuote(word),
                     ": ", status.error().message());
  }
  return out;
}

}  // namespace

Result<std::string> ShellLex::ProcessWord(std::string_view word,
                                          const EnvGetter& env) const {
  STRATA_ASSIGN_OR_RETURN(WordResult out, Process(options_, word, env));
  return std::move(out.result);
}

Result<std::vector<std::string>> ShellLex::ProcessWords(
    std::string_view word, const EnvGetter& env) const {
  STRATA_ASSIGN_OR_RETURN(WordResult out, Process(options_, word, env));
  return std::move(out.words);
}

Result<WordResult> ShellLex::ProcessWordWithMatches(
    std::string_view word, const EnvGetter& env) const {
  return Process(options_, word, env);
}

}  // namespace strata::dockerfile
