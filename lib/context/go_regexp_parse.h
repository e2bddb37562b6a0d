// Internal to go_regexp: the syntax tree and the parser that builds it.
#ifndef STRATA_CONTEXT_GO_REGEXP_PARSE_H_
#define STRATA_CONTEXT_GO_REGEXP_PARSE_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "context/go_regexp.h"

namespace strata::context::regexp_internal {

inline constexpr char32_t kMaxRune = 0x10FFFF;

/// Zero-width assertion flags, as in Go's syntax.EmptyOp (line flags are
/// not needed: Go's default OneLine flag makes ^ and $ whole-text anchors).
enum EmptyFlag : uint32_t {
  kEmptyBeginText = 1,
  kEmptyEndText = 2,
  kEmptyWordBoundary = 4,
  kEmptyNoWordBoundary = 8,
};

/// A syntax-tree node.
struct Node {
  enum class Kind {
    kEmpty,      // matches the empty string
    kClass,      // one rune from `ranges` (a literal is a one-rune class)
    kAnyNotNL,   // `.`
    kAssert,     // zero-width `assertion`
    kConcat,     // subs in order
    kAlternate,  // any of subs
    kStar,       // subs[0]*
    kPlus,       // subs[0]+
    kQuest,      // subs[0]?
    kRepeat,     // subs[0]{min,max}; max -1 means no upper bound
    kGroup,      // (subs[0]): matters only for the size limit
  };
  Kind kind = Kind::kEmpty;
  GoRegexp::RangeList ranges;
  uint32_t assertion = 0;
  int min = 0;
  int max = 0;
  std::vector<std::unique_ptr<Node>> subs;
};

/// Go refuses a parse tree taller than this ("expression nests too
/// deeply"), so at most 999 nested groups. The limit also bounds the
/// recursion of our compiler over the tree.
inline constexpr int kMaxNesting = 1000;

/// Go's limit on a compiled program ("expression too large"): 128 MiB of
/// 40-byte instructions, counted as Go's parser estimates them.
inline constexpr int64_t kMaxProgramSize = (int64_t{128} << 20) / 40;

/// Go's largest repeat count in {n,m}.
inline constexpr int kMaxRepeat = 1000;

/// Parses `source` with Go's Perl flags (ClassNL | OneLine | PerlX |
/// UnicodeGroups, no case folding), including Go's size limit.
base::Result<std::unique_ptr<Node>> Parse(std::string_view source);

/// Sorts and merges ranges in place.
void CleanRanges(GoRegexp::RangeList& ranges);

}  // namespace strata::context::regexp_internal

#endif  // STRATA_CONTEXT_GO_REGEXP_PARSE_H_
