// Word expansion for Dockerfile instructions: a port of BuildKit's shell
// lexer (frontend/dockerfile/shell/lex.go), which must agree byte for byte.
//
// Supported syntax, as BuildKit has it:
//   $V ${V}                  value of V (empty when unset)
//   ${V:-w} ${V-w}           w when V is unset (or, with ':', empty)
//   ${V:+w} ${V+w}           w when V is set (and, with ':', not empty)
//   ${V:?m} ${V?m}           error "V: m" when V is unset (':' also empty)
//   ${V#p} ${V##p}           V without its shortest / longest prefix p
//   ${V%p} ${V%%p}           V without its shortest / longest suffix p
//   ${V/p/r} ${V//p/r}       first / every match of p replaced by r
//   '...'  "..."             quotes; escapes with the escape token
// Patterns know '*', '?' and escapes of '*', '?', '\', '}', '/'; every
// other character (brackets too) is literal. $1, $@, $# ... are names
// that are never set.
//
// Errors have Code::kParse and no location (the caller adds the Dockerfile
// line); their text is BuildKit's, e.g.
//   failed to process "${A:?}": A: is not allowed to be unset
#ifndef STRATA_DOCKERFILE_SHELL_LEX_H_
#define STRATA_DOCKERFILE_SHELL_LEX_H_

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"

namespace strata::dockerfile {

/// Variable lookup for expansion.
class EnvGetter {
 public:
  virtual ~EnvGetter() = default;
  /// The value of `key`, or nullopt when it is not set (set-but-empty is
  /// "").
  virtual std::optional<std::string> Get(std::string_view key) const = 0;
  /// The names that are set, each once, in the order they were first set.
  virtual std::vector<std::string> Keys() const = 0;
};

/// An ordered KEY=VALUE list where later entries win. With
/// `case_insensitive` names compare after Go's strings.ToUpper, as BuildKit
/// does on Windows.
class EnvList : public EnvGetter {
 public:
  explicit EnvList(bool case_insensitive = false)
      : case_insensitive_(case_insensitive) {}

  /// Builds a list from (key, value) pairs, later pairs winning.
  static EnvList FromPairs(
      const std::vector<std::pair<std::string, std::string>>& pairs,
      bool case_insensitive = false);
  /// Builds a list from "KEY=VALUE" strings like BuildKit's EnvsFromSlice:
  /// the key ends at the first '='; an entry without '=' sets "".
  static EnvList FromStrings(const std::vector<std::string>& entries,
                             bool case_insensitive = false);

  /// Sets `key` (replacing an equal key's value; the first spelling is
  /// kept for Keys()).
  void Set(std::string_view key, std::string_view value);

  std::optional<std::string> Get(std::string_view key) const override;
  std::vector<std::string> Keys() const override;

  bool case_insensitive() const { return case_insensitive_; }

 private:
  std::string Normalize(std::string_view key) const;

  bool case_insensitive_;
  std::vector<std::pair<std::string, std::string>> entries_;
  std::unordered_map<std::string, size_t> index_;  // normalized key -> entry
};

/// BuildKit's Lex options.
struct LexOptions {
  /// The Dockerfile escape token: '\\' or '`'.
  char escape_token = '\\';
  /// Keep quote characters in the result (quotes are still processed).
  bool raw_quotes = false;
  /// Keep escape tokens in the result.
  bool raw_escapes = false;
  /// Leave references to unset variables as written ("$V", "${V:-x}").
  bool skip_unset_env = false;
  /// Treat quote characters as ordinary characters.
  bool skip_process_quotes = false;
};

/// Everything one expansion produces.
struct WordResult {
  /// The expanded word (ProcessWord's answer).
  std::string result;
  /// The word split like a shell (ProcessWords' answer).
  std::vector<std::string> words;
  /// Referenced names that were set (even to "") / not set.
  std::set<std::string> matched, unmatched;
};

/// Expands words like BuildKit's shell.Lex. Stateless, so safe to share.
class ShellLex {
 public:
  explicit ShellLex(LexOptions options) : options_(options) {}

  /// Expands `word` into one string.
  base::Result<std::string> ProcessWord(std::string_view word,
                                        const EnvGetter& env) const;
  /// Expands `word` and splits it on unquoted white space (white space
  /// that comes from an unquoted variable splits too). As in BuildKit, a
  /// ${...} with a modifier drops the part of the current word before it
  /// ("a${X:-b}c" gives "bc"); ProcessWord is not affected.
  base::Result<std::vector<std::string>> ProcessWords(
      std::string_view word, const EnvGetter& env) const;
  /// Expands `word`, also reporting which referenced names were set.
  base::Result<WordResult> ProcessWordWithMatches(std::string_view word,
                                                  const EnvGetter& env) const;

  const LexOptions& options() const { return options_; }

  /// How deeply ${...} may nest (BuildKit has no limit; ours keeps the
  /// stack bounded). Deeper input is a parse error.
  static constexpr int kMaxNesting = 256;
  /// How many bytes all ${V//p/r} in one word may produce together. Each
  /// can multiply its input's size, so without a bound a short word could
  /// ask for gigabytes. Beyond it is a parse error (BuildKit has no limit).
  static constexpr size_t kMaxReplaceAllBytes = size_t{1} << 20;

 private:
  LexOptions options_;
};

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_SHELL_LEX_H_
