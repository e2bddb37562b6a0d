// A port of the parts of Go's regexp/syntax parser that glob-generated
// expressions can reach. Each step follows parse.go; comments name the Go
// function so the two can be read side by side.
#include "context/go_regexp_parse.h"

#include <algorithm>
#include <string>

#include "base/str.h"
#include "base/utf8.h"

namespace strata::context::regexp_internal {
namespace {

using RangeList = GoRegexp::RangeList;

base::Error SyntaxError(std::string_view what, std::string_view expr) {
  return base::MakeError(base::Code::kParse, "error parsing regexp: ", what,
                         ": `", expr, "`");
}

bool IsAlnum(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

int Unhex(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

// Go's nextRune: an invalid byte is an error, an empty string gives U+FFFD.
base::Result<char32_t> NextRune(std::string_view& t) {
  base::DecodedRune r = base::DecodeRune(t);
  if (r.rune == base::kRuneError && r.size == 1) {
    return SyntaxError("invalid UTF-8", t);
  }
  t.remove_prefix(r.size);
  return r.rune;
}

RangeList Negate(const RangeList& clean) {
  RangeList out;
  char32_t next = 0;
  for (const auto& [lo, hi] : clean) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxRune) out.emplace_back(next, kMaxRune);
  return out;
}

// Go's posixGroup (perl_groups.go): ASCII only.
struct NamedClass {
  std::string_view name;
  RangeList ranges;
};

const std::vector<NamedClass>& PosixClasses() {
  static const std::vector<NamedClass> kClasses = {
      {"alnum", {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}}},
      {"alpha", {{'A', 'Z'}, {'a', 'z'}}},
      {"ascii", {{0, 0x7F}}},
      {"blank", {{'\t', '\t'}, {' ', ' '}}},
      {"cntrl", {{0, 0x1F}, {0x7F, 0x7F}}},
      {"digit", {{'0', '9'}}},
      {"graph", {{'!', '~'}}},
      {"lower", {{'a', 'z'}}},
      {"print", {{' ', '~'}}},
      {"punct", {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}}},
      {"space", {{'\t', '\r'}, {' ', ' '}}},
      {"upper", {{'A', 'Z'}}},
      {"word", {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}},
      {"xdigit", {{'0', '9'}, {'A', 'F'}, {'a', 'f'}}},
  };
  return kClasses;
}

// Go's perlGroup: \d \s \w and their negations. False if `c` is none.
bool AppendPerlClass(char c, RangeList& ranges) {
  RangeList add;
  switch (c) {
    case 'd':
    case 'D':
      add = {{'0', '9'}};
      break;
    case 's':
    case 'S':
      add = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
      break;
    case 'w':
    case 'W':
      add = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
      break;
    default:
      return false;
  }
  if (c >= 'A' && c <= 'Z') add = Negate(add);
  ranges.insert(ranges.end(), add.begin(), add.end());
  return true;
}

std::unique_ptr<Node> MakeNode(Node::Kind kind) {
  auto node = std::make_unique<Node>();
  node->kind = kind;
  return node;
}

std::unique_ptr<Node> MakeClass(RangeList ranges) {
  auto node = MakeNode(Node::Kind::kClass);
  node->ranges = std::move(ranges);
  return node;
}

std::unique_ptr<Node> MakeAssert(uint32_t flag) {
  auto node = MakeNode(Node::Kind::kAssert);
  node->assertion = flag;
  return node;
}

// Go's parseInt for repeat counts: digits without a leading zero; -1 when
// too large. False if `t` does not start with a valid number.
bool ParseRepeatInt(std::string_view& t, int* n) {
  if (t.empty() || t[0] < '0' || t[0] > '9') return false;
  if (t.size() >= 2 && t[0] == '0' && t[1] >= '0' && t[1] <= '9') return false;
  *n = 0;
  bool too_big = false;
  while (!t.empty() && t[0] >= '0' && t[0] <= '9') {
    if (*n >= 100000000) too_big = true;
    if (!too_big) *n = *n * 10 + (t[0] - '0');
    t.remove_prefix(1);
  }
  if (too_big) *n = -1;
  return true;
}

// Go's parseRepeat: "{n}", "{n,}" or "{n,m}" at the start of `t`. False if
// it is not one (the '{' is then a literal). *max is -1 for "{n,}".
bool ParseRepeatCount(std::string_view t, int* min, int* max,
                      std::string_view* rest) {
  if (t.empty() || t[0] != '{') return false;
  t.remove_prefix(1);
  if (!ParseRepeatInt(t, min) || t.empty()) return false;
  if (t[0] != ',') {
    *max = *min;
  } else {
    t.remove_prefix(1);
    if (t.empty()) return false;
    if (t[0] == '}') {
      *max = -1;
    } else if (!ParseRepeatInt(t, max)) {
      return false;
    } else if (*max < 0) {
      *min = -1;  // too big
    }
  }
  if (t.empty() || t[0] != '}') return false;
  *rest = t.substr(1);
  return true;
}

// Go's calcSize: the estimated number of program instructions.
int64_t CalcSize(const Node& node) {
  int64_t size = 0;
  switch (node.kind) {
    case Node::Kind::kGroup:
    case Node::Kind::kStar:
      size = 2 + CalcSize(*node.subs[0]);
      break;
    case Node::Kind::kPlus:
    case Node::Kind::kQuest:
      size = 1 + CalcSize(*node.subs[0]);
      break;
    case Node::Kind::kConcat:
      for (const auto& sub : node.subs) size += CalcSize(*sub);
      break;
    case Node::Kind::kAlternate:
      for (const auto& sub : node.subs) size += CalcSize(*sub);
      size += static_cast<int64_t>(node.subs.size()) - 1;
      break;
    case Node::Kind::kRepeat: {
      int64_t sub = CalcSize(*node.subs[0]);
      if (node.max == -1) {
        size = node.min == 0 ? 2 + sub : 1 + int64_t{node.min} * sub;
      } else {
        size = int64_t{node.max} * sub + (node.max - node.min);
      }
      break;
    }
    default:
      break;
  }
  return size < 1 ? 1 : size;
}

std::unique_ptr<Node> FinishConcat(std::vector<std::unique_ptr<Node>> items) {
  if (items.empty()) return MakeNode(Node::Kind::kEmpty);
  if (items.size() == 1) return std::move(items[0]);
  auto node = MakeNode(Node::Kind::kConcat);
  node->subs = std::move(items);
  return node;
}

// Iterative, like Go's parser, so nesting costs heap, not stack.
class Parser {
 public:
  explicit Parser(std::string_view source) : whole_(source), t_(source) {}

  base::Result<std::unique_ptr<Node>> Run();

 private:
  using Items = std::vector<std::unique_ptr<Node>>;

  // One open group (the whole expression is the outermost): its finished
  // alternatives and the concatenation being built.
  struct Level {
    Items alternatives;
    Items items;
  };

  static std::unique_ptr<Node> FinishAlternate(Level& level);
  base::Result<bool> ParseItem(Items& items, bool last_repeat);
  base::Result<bool> ParseBrace(Items& items, bool last_repeat);
  base::Status ParseRepeat(Items& items, bool last_repeat, int min, int max,
                           size_t op_len);
  base::Status ParseEscapeAtom(Items& items);
  base::Result<char32_t> ParseEscape();
  base::Result<char32_t> ParseHexEscape(std::string_view& t);
  base::Result<RangeList> ParseClass();
  base::Result<bool> ParseNamedClass(RangeList& ranges);
  base::Result<char32_t> ParseClassChar(std::string_view whole_class);

  std::string_view whole_;
  std::string_view t_;  // the unparsed rest
};

std::unique_ptr<Node> Parser::FinishAlternate(Level& level) {
  level.alternatives.push_back(FinishConcat(std::move(level.items)));
  if (level.alternatives.size() == 1) return std::move(level.alternatives[0]);
  auto node = MakeNode(Node::Kind::kAlternate);
  node->subs = std::move(level.alternatives);
  return node;
}

base::Result<std::unique_ptr<Node>> Parser::Run() {
  std::vector<Level> levels(1);
  bool last_repeat = false;
  while (!t_.empty()) {
    bool repeat = false;
    switch (t_[0]) {
      case '(':
        // Go stops at a tree height of 1000: 999 nested groups.
        if (levels.size() >= kMaxNesting) {
          return SyntaxError("expression nests too deeply", whole_);
        }
        if (t_.size() >= 2 && t_[1] == '?') {
          return SyntaxError("unsupported group syntax", t_);
        }
        t_.remove_prefix(1);
        levels.emplace_back();
        break;
      case '|': {
        t_.remove_prefix(1);
        Level& level = levels.back();
        level.alternatives.push_back(FinishConcat(std::move(level.items)));
        level.items.clear();
        break;
      }
      case ')': {
        if (levels.size() == 1) return SyntaxError("unexpected )", whole_);
        t_.remove_prefix(1);
        auto group = MakeNode(Node::Kind::kGroup);
        group->subs.push_back(FinishAlternate(levels.back()));
        levels.pop_back();
        levels.back().items.push_back(std::move(group));
        break;
      }
      default:
        STRATA_ASSIGN_OR_RETURN(repeat,
                                ParseItem(levels.back().items, last_repeat));
        break;
    }
    last_repeat = repeat;
  }
  if (levels.size() > 1) return SyntaxError("missing closing )", whole_);
  return FinishAlternate(levels[0]);
}

// One step of Go's parse loop: adds an item to `items` or wraps the last
// one in a repetition. Returns whether it was a repetition operator.
base::Result<bool> Parser::ParseItem(Items& items, bool last_repeat) {
  switch (t_[0]) {
    case '[': {
      STRATA_ASSIGN_OR_RETURN(RangeList ranges, ParseClass());
      items.push_back(MakeClass(std::move(ranges)));
      return false;
    }
    case '.':
      t_.remove_prefix(1);
      items.push_back(MakeNode(Node::Kind::kAnyNotNL));
      return false;
    case '^':
      t_.remove_prefix(1);
      items.push_back(MakeAssert(kEmptyBeginText));
      return false;
    case '$':
      t_.remove_prefix(1);
      items.push_back(MakeAssert(kEmptyEndText));
      return false;
    case '*':
      STRATA_TRY(ParseRepeat(items, last_repeat, 0, -1, 1));
      return true;
    case '+':
      STRATA_TRY(ParseRepeat(items, last_repeat, 1, -1, 1));
      return true;
    case '?':
      STRATA_TRY(ParseRepeat(items, last_repeat, 0, 1, 1));
      return true;
    case '\\':
      STRATA_TRY(ParseEscapeAtom(items));
      return false;
    case '{':
      return ParseBrace(items, last_repeat);
    default: {
      STRATA_ASSIGN_OR_RETURN(char32_t r, NextRune(t_));
      items.push_back(MakeClass({{r, r}}));
      return false;
    }
  }
}

// '{': a counted repetition "{n}", "{n,}" or "{n,m}", else a literal '{'.
// Returns whether it was a repetition.
base::Result<bool> Parser::ParseBrace(Items& items, bool last_repeat) {
  int min = 0;
  int max = 0;
  std::string_view after;
  if (!ParseRepeatCount(t_, &min, &max, &after)) {
    t_.remove_prefix(1);
    items.push_back(MakeClass({{'{', '{'}}));
    return false;
  }
  const size_t op_len = t_.size() - after.size();
  if (min < 0 || min > kMaxRepeat || max > kMaxRepeat ||
      (max >= 0 && min > max)) {
    return SyntaxError("invalid repeat count", t_.substr(0, op_len));
  }
  STRATA_TRY(ParseRepeat(items, last_repeat, min, max, op_len));
  return true;
}

// Go's parser.repeat: applies the operator (the next `op_len` bytes: '*',
// '+', '?' or "{n,m}") to the last item. * is {0,-1}, + {1,-1}, ? {0,1}.
base::Status Parser::ParseRepeat(Items& items, bool last_repeat, int min,
                                 int max, size_t op_len) {
  std::string_view before = t_;
  char op = t_[0];
  t_.remove_prefix(op_len);
  if (!t_.empty() && t_[0] == '?') t_.remove_prefix(1);  // non-greedy
  std::string_view text = before.substr(0, before.size() - t_.size());
  if (last_repeat) {
    return SyntaxError("invalid nested repetition operator", text);
  }
  if (items.empty()) {
    return SyntaxError("missing argument to repetition operator", text);
  }
  Node::Kind kind = op == '*'   ? Node::Kind::kStar
                    : op == '+' ? Node::Kind::kPlus
                    : op == '?' ? Node::Kind::kQuest
                                : Node::Kind::kRepeat;
  auto node = MakeNode(kind);
  node->min = min;
  node->max = max;
  node->subs.push_back(std::move(items.back()));
  items.back() = std::move(node);
  return base::OkStatus();
}

// A '\' outside a class: assertions, \Q...\E, Perl classes, or one rune.
base::Status Parser::ParseEscapeAtom(Items& items) {
  if (t_.size() >= 2) {
    switch (t_[1]) {
      case 'A':
        items.push_back(MakeAssert(kEmptyBeginText));
        t_.remove_prefix(2);
        return base::OkStatus();
      case 'b':
        items.push_back(MakeAssert(kEmptyWordBoundary));
        t_.remove_prefix(2);
        return base::OkStatus();
      case 'B':
        items.push_back(MakeAssert(kEmptyNoWordBoundary));
        t_.remove_prefix(2);
        return base::OkStatus();
      case 'z':
        items.push_back(MakeAssert(kEmptyEndText));
        t_.remove_prefix(2);
        return base::OkStatus();
      case 'C':
        return SyntaxError("invalid escape sequence", t_.substr(0, 2));
      case 'Q': {
        // Everything up to \E (or the end) is literal text.
        std::string_view lit = t_.substr(2);
        size_t end = lit.find("\\E");
        t_ = end == std::string_view::npos ? std::string_view()
                                           : lit.substr(end + 2);
        if (end != std::string_view::npos) lit = lit.substr(0, end);
        while (!lit.empty()) {
          STRATA_ASSIGN_OR_RETURN(char32_t r, NextRune(lit));
          items.push_back(MakeClass({{r, r}}));
        }
        return base::OkStatus();
      }
      case 'p':
      case 'P':
        return SyntaxError("unsupported Unicode class", t_.substr(0, 2));
      default:
        break;
    }
    RangeList ranges;
    if (AppendPerlClass(t_[1], ranges)) {
      CleanRanges(ranges);
      items.push_back(MakeClass(std::move(ranges)));
      t_.remove_prefix(2);
      return base::OkStatus();
    }
  }
  STRATA_ASSIGN_OR_RETURN(char32_t r, ParseEscape());
  items.push_back(MakeClass({{r, r}}));
  return base::OkStatus();
}

// Go's parseEscape: t_ starts at '\'; returns the rune it stands for.
base::Result<char32_t> Parser::ParseEscape() {
  std::string_view s = t_;
  std::string_view t = s.substr(1);
  if (t.empty()) {
    return SyntaxError("trailing backslash at end of expression", "");
  }
  STRATA_ASSIGN_OR_RETURN(char32_t c, NextRune(t));
  auto bad = [&] {
    return SyntaxError("invalid escape sequence",
                       s.substr(0, s.size() - t.size()));
  };
  if (c < 0x80 && !IsAlnum(c)) {
    t_ = t;
    return c;
  }
  switch (c) {
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
      // A single non-zero digit would be a backreference: unsupported.
      if (t.empty() || t[0] < '0' || t[0] > '7') return bad();
      [[fallthrough]];
    case '0': {
      char32_t r = c - '0';
      for (int i = 1; i < 3; ++i) {
        if (t.empty() || t[0] < '0' || t[0] > '7') break;
        r = r * 8 + static_cast<char32_t>(t[0] - '0');
        t.remove_prefix(1);
      }
      t_ = t;
      return r;
    }
    case 'x': {
      base::Result<char32_t> r = ParseHexEscape(t);
      if (!r) return bad();
      t_ = t;
      return *r;
    }
    default:
      break;
  }
  // C escapes. There is no \b: Go reserves it for the word boundary.
  static constexpr std::string_view kLetters = "afnrtv";
  static constexpr std::u32string_view kRunes = U"\a\f\n\r\t\v";
  size_t i = kLetters.find(static_cast<char>(c));
  if (c < 0x80 && i != std::string_view::npos) {
    t_ = t;
    return kRunes[i];
  }
  return bad();
}

// The digits of "\x": two hex digits or "{hex...}" (at most U+10FFFF).
// Advances `t` past them; any error stands for "invalid escape sequence".
base::Result<char32_t> Parser::ParseHexEscape(std::string_view& t) {
  base::Error invalid = SyntaxError("invalid escape sequence", "\\x");
  if (t.empty()) return invalid;
  STRATA_ASSIGN_OR_RETURN(char32_t c, NextRune(t));
  if (c != '{') {
    int x = Unhex(c);
    STRATA_ASSIGN_OR_RETURN(c, NextRune(t));
    int y = Unhex(c);
    if (x < 0 || y < 0) return invalid;
    return static_cast<char32_t>(x * 16 + y);
  }
  int nhex = 0;
  char32_t r = 0;
  while (true) {
    if (t.empty()) return invalid;
    STRATA_ASSIGN_OR_RETURN(c, NextRune(t));
    if (c == '}') break;
    int v = Unhex(c);
    if (v < 0) return invalid;
    r = r * 16 + static_cast<char32_t>(v);
    if (r > kMaxRune) return invalid;
    ++nhex;
  }
  if (nhex == 0) return invalid;
  return r;
}

// Go's parseClass; t_ starts at '['.
base::Result<RangeList> Parser::ParseClass() {
  std::string_view whole_class = t_;
  t_.remove_prefix(1);
  bool negate = false;
  if (!t_.empty() && t_[0] == '^') {
    negate = true;
    t_.remove_prefix(1);
  }
  RangeList ranges;
  bool first = true;  // ']' is literal as the first character
  while (t_.empty() || t_[0] != ']' || first) {
    first = false;
    if (t_.size() > 2 && t_[0] == '[' && t_[1] == ':') {
      STRATA_ASSIGN_OR_RETURN(bool named, ParseNamedClass(ranges));
      if (named) continue;
    }
    if (t_.size() >= 2 && t_[0] == '\\') {
      if (t_[1] == 'p' || t_[1] == 'P') {
        return SyntaxError("unsupported Unicode class", t_.substr(0, 2));
      }
      if (AppendPerlClass(t_[1], ranges)) {
        t_.remove_prefix(2);
        continue;
      }
    }
    std::string_view range_start = t_;
    STRATA_ASSIGN_OR_RETURN(char32_t lo, ParseClassChar(whole_class));
    char32_t hi = lo;
    // "[a-]" means a or '-': only a '-' before something else is a range.
    if (t_.size() >= 2 && t_[0] == '-' && t_[1] != ']') {
      t_.remove_prefix(1);
      STRATA_ASSIGN_OR_RETURN(hi, ParseClassChar(whole_class));
      if (hi < lo) {
        return SyntaxError(
            "invalid character class range",
            range_start.substr(0, range_start.size() - t_.size()));
      }
    }
    ranges.emplace_back(lo, hi);
  }
  t_.remove_prefix(1);  // ']'
  CleanRanges(ranges);
  if (negate) ranges = Negate(ranges);
  return ranges;
}

// Go's parseNamedClass: "[:alpha:]" or "[:^alpha:]". False (and nothing
// consumed) when t_ has no closing ":]".
base::Result<bool> Parser::ParseNamedClass(RangeList& ranges) {
  size_t end = t_.substr(2).find(":]");
  if (end == std::string_view::npos) return false;
  std::string_view name = t_.substr(0, end + 4);
  std::string_view inner = name.substr(2, name.size() - 4);
  bool negated = !inner.empty() && inner[0] == '^';
  if (negated) inner.remove_prefix(1);
  for (const NamedClass& c : PosixClasses()) {
    if (c.name != inner) continue;
    RangeList add = c.ranges;
    if (negated) add = Negate(add);
    ranges.insert(ranges.end(), add.begin(), add.end());
    t_.remove_prefix(name.size());
    return true;
  }
  return SyntaxError("invalid character class range", name);
}

// Go's parseClassChar.
base::Result<char32_t> Parser::ParseClassChar(std::string_view whole_class) {
  if (t_.empty()) return SyntaxError("missing closing ]", whole_class);
  if (t_[0] == '\\') return ParseEscape();
  return NextRune(t_);
}

}  // namespace

void CleanRanges(GoRegexp::RangeList& ranges) {
  std::sort(ranges.begin(), ranges.end());
  RangeList merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  ranges = std::move(merged);
}

base::Result<std::unique_ptr<Node>> Parse(std::string_view source) {
  // Go checks the whole expression for valid UTF-8 first.
  for (std::string_view t = source; !t.empty();) {
    base::DecodedRune r = base::DecodeRune(t);
    if (r.rune == base::kRuneError && r.size == 1) {
      return SyntaxError("invalid UTF-8", t);
    }
    t.remove_prefix(r.size);
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<Node> tree, Parser(source).Run());
  if (CalcSize(*tree) > kMaxProgramSize) {
    return SyntaxError("expression too large", source);
  }
  return tree;
}

}  // namespace strata::context::regexp_internal
