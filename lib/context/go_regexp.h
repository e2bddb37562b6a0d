// A small regular-expression engine with Go's regexp (RE2) syntax and
// semantics, for the expressions patternmatcher compiles globs into.
//
// Why not std::regex: Go matches runes, not bytes (`[a-ζ]` is a range of
// code points, an invalid byte reads as U+FFFD), its `.` skips only '\n',
// `[^/]` does match '\n', and `^` in mid-expression is a begin-of-text
// assertion. std::regex differs on all of these and backtracks
// exponentially. This engine is a Thompson NFA run as a Pike VM, so a match
// costs O(len(text) * len(program)) whatever the expression.
//
// Supported syntax (everything a .dockerignore glob can turn into):
//   literals (UTF-8), `.`, `^`, `$`, `\A`, `\z`, `\b`, `\B`, `{n,m}`,
//   `[...]` / `[^...]` with ranges, escapes, `[:alpha:]`-style POSIX classes
//   and `\d \s \w` (and negations), `(...)`, `|`, `*`, `+`, `?` (a trailing
//   `?` makes them non-greedy, which does not change whether they match),
//   `\Q...\E`, `\a \f \n \r \t \v`, octal `\0`-`\777`, `\xHH`, `\x{HHHH}`,
//   and `\` before any ASCII punctuation.
// Go's limits apply: repeat counts up to 1000, nesting up to 1000, and
// about 3.3 million instructions. Errors where Go accepts (a glob can only
// produce them through its escapes, e.g. `\pL`): `\p{...}` Unicode classes
// and `(?flags)` groups.
#ifndef STRATA_CONTEXT_GO_REGEXP_H_
#define STRATA_CONTEXT_GO_REGEXP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace strata::context {

/// A compiled expression. Copyable and immutable; matching is thread-safe.
class GoRegexp {
 public:
  /// Compiles `source` (Go's regexp.Compile with its default Perl flags).
  /// Fails with kParse for the expressions Go rejects (unclosed `[` or `(`,
  /// bad escapes, reversed ranges, `**`, ...) and for the unsupported forms
  /// listed above.
  static base::Result<GoRegexp> Compile(std::string_view source);

  /// Go's Regexp.MatchString: whether any substring of `text` matches.
  bool MatchString(std::string_view text) const;

  /// The source text, as Go's Regexp.String() returns it.
  const std::string& source() const { return source_; }

  /// One program instruction (public only for the compiler in the .cc).
  struct Inst {
    enum class Op : uint8_t { kRune, kAnyNotNL, kEmpty, kSplit, kMatch };
    Op op = Op::kMatch;
    uint32_t out = 0;
    // kRune: index into classes_; kSplit: second branch; kEmpty: flags.
    uint32_t arg = 0;
  };
  using RangeList = std::vector<std::pair<char32_t, char32_t>>;

 private:
  bool AddThread(std::vector<uint32_t>& sparse, std::vector<uint32_t>& dense,
                 size_t& size, std::vector<uint32_t>& stack, uint32_t pc,
                 uint32_t context) const;
  bool InClass(uint32_t index, char32_t r) const;

  std::string source_;
  std::vector<Inst> prog_;
  std::vector<RangeList> classes_;  // sorted, merged ranges
  uint32_t start_ = 0;
};

}  // namespace strata::context

#endif  // STRATA_CONTEXT_GO_REGEXP_H_
