#include "base/go_unicode.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "base/utf8.h"

namespace strata::base {
namespace {

// What a rune is, for the predicates: one table answers all three.
enum RuneClass : uint8_t {
  kL,  // letter (L*)
  kD,  // decimal digit (Nd)
  kP,  // any other printable rune (M*, Nl, No, P*, S*, U+0020)
};

struct ClassRun {
  char32_t lo;
  char32_t hi;
  RuneClass rune_class;
};

// Every rune in lo..hi maps to itself + upper (ToUpper) and itself + lower
// (ToLower), unless both are kUpperLower: then the runes at even offsets
// from lo are upper case and map down to the next rune, those at odd
// offsets are lower case and map up to the previous one (Go's UpperLower).
struct CaseRun {
  char32_t lo;
  char32_t hi;
  int32_t upper;
  int32_t lower;
};

constexpr int32_t kUpperLower = 0x110000;

#include "base/go_unicode_tables.inc"

static_assert(kTablesVersion == kGoUnicodeVersion,
              "regenerated tables: update kGoUnicodeVersion and the tests");

// The run holding `r`, or null when `r` is in none (not printable).
const ClassRun* FindClassRun(char32_t r) {
  // The first run whose hi is >= r is the only one that can hold r.
  const ClassRun* it = std::lower_bound(
      std::begin(kClassRuns), std::end(kClassRuns), r,
      [](const ClassRun& run, char32_t value) { return run.hi < value; });
  if (it == std::end(kClassRuns) || it->lo > r) return nullptr;
  return it;
}

bool HasClass(char32_t r, RuneClass rune_class) {
  const ClassRun* run = FindClassRun(r);
  return run != nullptr && run->rune_class == rune_class;
}

// Go's unicode.To for UpperCase (`upper`) or LowerCase.
char32_t MapCase(char32_t r, bool upper) {
  const CaseRun* it = std::lower_bound(
      std::begin(kCaseRuns), std::end(kCaseRuns), r,
      [](const CaseRun& run, char32_t value) { return run.hi < value; });
  if (it == std::end(kCaseRuns) || it->lo > r) return r;
  if (it->upper == kUpperLower) {
    // Clearing the low bit of the offset gives the upper-case rune of the
    // pair, setting it the lower-case one.
    char32_t offset = r - it->lo;
    return it->lo + (upper ? (offset & ~char32_t{1}) : (offset | 1));
  }
  int32_t delta = upper ? it->upper : it->lower;
  return static_cast<char32_t>(static_cast<int32_t>(r) + delta);
}

// strings.Map(mapping, s) for a mapping that never drops a rune.
template <typename Mapping>
std::string MapRunes(std::string_view s, Mapping mapping) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    // An invalid byte decodes to {U+FFFD, 1}, which no mapping changes, so
    // it is written as U+FFFD just as Go writes it.
    DecodedRune d = DecodeRune(s);
    AppendRune(out, mapping(d.rune));
    s.remove_prefix(d.size);
  }
  return out;
}

}  // namespace

bool GoIsLetter(char32_t r) {
  if (r < 0x80) return (r | 0x20) >= 'a' && (r | 0x20) <= 'z';
  return HasClass(r, kL);
}

bool GoIsDigit(char32_t r) {
  if (r < 0x80) return r >= '0' && r <= '9';
  return HasClass(r, kD);
}

bool GoIsPrint(char32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7F;
  return FindClassRun(r) != nullptr;
}

char32_t GoToUpperRune(char32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') ? r - ('a' - 'A') : r;
  return MapCase(r, /*upper=*/true);
}

char32_t GoToLowerRune(char32_t r) {
  if (r < 0x80) return (r >= 'A' && r <= 'Z') ? r + ('a' - 'A') : r;
  return MapCase(r, /*upper=*/false);
}

std::string GoToUpper(std::string_view s) { return MapRunes(s, GoToUpperRune); }

std::string GoToLower(std::string_view s) { return MapRunes(s, GoToLowerRune); }

}  // namespace strata::base
