#include "context/go_regexp.h"

#include <algorithm>
#include <map>

#include "base/utf8.h"
#include "context/go_regexp_parse.h"

namespace strata::context {

namespace {

using Inst = GoRegexp::Inst;
using Op = GoRegexp::Inst::Op;
using regexp_internal::Node;

// A half-built program piece: its entry and the dangling exits to patch.
// An exit is encoded as inst * 2 + (0 for `out`, 1 for `arg`).
struct Frag {
  uint32_t start = 0;
  std::vector<uint32_t> exits;
};

class Compiler {
 public:
  Compiler(std::vector<Inst>& prog, std::vector<GoRegexp::RangeList>& classes)
      : prog_(prog), classes_(classes) {}

  // Recursion depth is the tree height, which the parser caps.
  Frag Compile(const Node& node) {
    switch (node.kind) {
      case Node::Kind::kEmpty:
        return Emit(Op::kEmpty, 0);
      case Node::Kind::kClass:
        return Emit(Op::kRune, InternClass(node.ranges));
      case Node::Kind::kAnyNotNL:
        return Emit(Op::kAnyNotNL, 0);
      case Node::Kind::kAssert:
        return Emit(Op::kEmpty, node.assertion);
      case Node::Kind::kConcat: {
        Frag whole = Compile(*node.subs[0]);
        for (size_t i = 1; i < node.subs.size(); ++i) {
          Frag next = Compile(*node.subs[i]);
          Patch(whole.exits, next.start);
          whole.exits = std::move(next.exits);
        }
        return whole;
      }
      case Node::Kind::kAlternate: {
        Frag whole = Compile(*node.subs.back());
        for (size_t i = node.subs.size() - 1; i-- > 0;) {
          Frag left = Compile(*node.subs[i]);
          uint32_t split = NewInst(Op::kSplit, 0);
          prog_[split].out = left.start;
          prog_[split].arg = whole.start;
          left.exits.insert(left.exits.end(), whole.exits.begin(),
                            whole.exits.end());
          whole = Frag{split, std::move(left.exits)};
        }
        return whole;
      }
      case Node::Kind::kStar:
      case Node::Kind::kPlus:
      case Node::Kind::kQuest:
        return CompileRepeat(node);
      case Node::Kind::kGroup:
        return Compile(*node.subs[0]);
      case Node::Kind::kRepeat:
        return CompileCounted(node);
    }
    return Emit(Op::kEmpty, 0);
  }

  void Patch(const std::vector<uint32_t>& exits, uint32_t target) {
    for (uint32_t e : exits) {
      Inst& inst = prog_[e / 2];
      (e % 2 == 0 ? inst.out : inst.arg) = target;
    }
  }

  uint32_t NewInst(Op op, uint32_t arg) {
    prog_.push_back(Inst{op, 0, arg});
    return static_cast<uint32_t>(prog_.size() - 1);
  }

 private:
  // Identical classes share one range list: x{1000} repeats its class.
  uint32_t InternClass(const GoRegexp::RangeList& ranges) {
    auto [it, inserted] =
        class_index_.emplace(ranges, static_cast<uint32_t>(classes_.size()));
    if (inserted) classes_.push_back(ranges);
    return it->second;
  }

  Frag Emit(Op op, uint32_t arg) {
    uint32_t pc = NewInst(op, arg);
    return Frag{pc, {pc * 2}};
  }

  Frag CompileRepeat(const Node& node) {
    Frag sub = Compile(*node.subs[0]);
    uint32_t split = NewInst(Op::kSplit, 0);
    prog_[split].out = sub.start;
    switch (node.kind) {
      case Node::Kind::kStar:
        Patch(sub.exits, split);
        return Frag{split, {split * 2 + 1}};
      case Node::Kind::kPlus:
        Patch(sub.exits, split);
        return Frag{sub.start, {split * 2 + 1}};
      default:  // kQuest
        sub.exits.push_back(split * 2 + 1);
        return Frag{split, std::move(sub.exits)};
    }
  }

  // x{min,max} as Go's simplify spells it: min copies of x, then x* when
  // unbounded, else max-min nested optional copies (x(x)?)?.
  Frag CompileCounted(const Node& node) {
    const Node& sub = *node.subs[0];
    if (node.min == 0 && node.max == 0) return Emit(Op::kEmpty, 0);
    Frag whole;
    bool have = false;
    auto append = [&](Frag next) {
      if (have) {
        Patch(whole.exits, next.start);
        whole.exits = std::move(next.exits);
      } else {
        whole = std::move(next);
        have = true;
      }
    };
    for (int i = 0; i < node.min; ++i) append(Compile(sub));
    if (node.max == -1) {
      append(StarOf(sub));
    } else if (node.max > node.min) {
      append(NestedQuests(sub, node.max - node.min));
    }
    return whole;
  }

  Frag StarOf(const Node& sub) {
    Frag body = Compile(sub);
    uint32_t split = NewInst(Op::kSplit, 0);
    prog_[split].out = body.start;
    Patch(body.exits, split);
    return Frag{split, {split * 2 + 1}};
  }

  // (x(x(x)?)?)? with `count` copies of x, built innermost first.
  Frag NestedQuests(const Node& sub, int count) {
    Frag inner;
    bool have = false;
    for (int i = 0; i < count; ++i) {
      Frag body = Compile(sub);
      if (have) {
        Patch(body.exits, inner.start);
        body.exits.insert(body.exits.end(), inner.exits.begin(),
                          inner.exits.end());
      }
      uint32_t split = NewInst(Op::kSplit, 0);
      prog_[split].out = body.start;
      body.exits.push_back(split * 2 + 1);
      inner = Frag{split, std::move(body.exits)};
      have = true;
    }
    return inner;
  }

  std::vector<Inst>& prog_;
  std::vector<GoRegexp::RangeList>& classes_;
  std::map<GoRegexp::RangeList, uint32_t> class_index_;
};

bool IsWordChar(int64_t r) {
  return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
         (r >= '0' && r <= '9') || r == '_';
}

// Go's EmptyOpContext; -1 stands for "no rune" (either end of the text).
uint32_t EmptyContext(int64_t before, int64_t after) {
  uint32_t flags = 0;
  if (before < 0) flags |= regexp_internal::kEmptyBeginText;
  if (after < 0) flags |= regexp_internal::kEmptyEndText;
  flags |= IsWordChar(before) != IsWordChar(after)
               ? regexp_internal::kEmptyWordBoundary
               : regexp_internal::kEmptyNoWordBoundary;
  return flags;
}

// The rune at `pos` (an invalid byte reads as U+FFFD, one byte wide, as in
// Go's regexp input) or -1 at the end.
int64_t RuneAt(std::string_view text, size_t pos, size_t* width) {
  if (pos >= text.size()) {
    *width = 0;
    return -1;
  }
  base::DecodedRune r = base::DecodeRune(text.substr(pos));
  *width = r.size;
  return r.rune;
}

}  // namespace

base::Result<GoRegexp> GoRegexp::Compile(std::string_view source) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<Node> tree,
                          regexp_internal::Parse(source));
  GoRegexp re;
  re.source_ = std::string(source);
  Compiler compiler(re.prog_, re.classes_);
  Frag frag = compiler.Compile(*tree);
  uint32_t match = compiler.NewInst(Inst::Op::kMatch, 0);
  compiler.Patch(frag.exits, match);
  re.start_ = frag.start;
  return re;
}

bool GoRegexp::InClass(uint32_t index, char32_t r) const {
  const RangeList& ranges = classes_[index];
  auto it = std::upper_bound(
      ranges.begin(), ranges.end(), r,
      [](char32_t v, const std::pair<char32_t, char32_t>& range) {
        return v < range.first;
      });
  return it != ranges.begin() && r <= std::prev(it)->second;
}

// Adds `pc` and everything reachable from it without consuming a rune to
// the thread set (a sparse set), evaluating assertions against `context`.
// Uses an explicit stack: epsilon chains can be as long as the program.
// Returns true if the match instruction is reachable.
bool GoRegexp::AddThread(std::vector<uint32_t>& sparse,
                         std::vector<uint32_t>& dense, size_t& size,
                         std::vector<uint32_t>& stack, uint32_t pc,
                         uint32_t context) const {
  stack.clear();
  stack.push_back(pc);
  while (!stack.empty()) {
    uint32_t cur = stack.back();
    stack.pop_back();
    uint32_t slot = sparse[cur];
    if (slot < size && dense[slot] == cur) continue;
    sparse[cur] = static_cast<uint32_t>(size);
    dense[size++] = cur;
    const Inst& inst = prog_[cur];
    switch (inst.op) {
      case Inst::Op::kMatch:
        return true;
      case Inst::Op::kSplit:
        stack.push_back(inst.arg);
        stack.push_back(inst.out);
        break;
      case Inst::Op::kEmpty:
        if ((inst.arg & ~context) == 0) stack.push_back(inst.out);
        break;
      case Inst::Op::kRune:
      case Inst::Op::kAnyNotNL:
        break;
    }
  }
  return false;
}

bool GoRegexp::MatchString(std::string_view text) const {
  const size_t n = prog_.size();
  std::vector<uint32_t> sparse_a(n), dense_a(n), sparse_b(n), dense_b(n);
  std::vector<uint32_t> stack;
  size_t size_a = 0;
  size_t size_b = 0;
  std::vector<uint32_t>* cur_sparse = &sparse_a;
  std::vector<uint32_t>* cur_dense = &dense_a;
  size_t* cur_size = &size_a;
  std::vector<uint32_t>* next_sparse = &sparse_b;
  std::vector<uint32_t>* next_dense = &dense_b;
  size_t* next_size = &size_b;

  size_t pos = 0;
  size_t width = 0;
  int64_t cur = RuneAt(text, 0, &width);
  uint32_t context = EmptyContext(-1, cur);
  while (true) {
    // Unanchored search: a match may start at every position.
    if (AddThread(*cur_sparse, *cur_dense, *cur_size, stack, start_, context)) {
      return true;
    }
    if (cur < 0) return false;
    size_t next_width = 0;
    int64_t next = RuneAt(text, pos + width, &next_width);
    uint32_t next_context = EmptyContext(cur, next);
    *next_size = 0;
    for (size_t i = 0; i < *cur_size; ++i) {
      const Inst& inst = prog_[(*cur_dense)[i]];
      bool step = (inst.op == Inst::Op::kRune &&
                   InClass(inst.arg, static_cast<char32_t>(cur))) ||
                  (inst.op == Inst::Op::kAnyNotNL && cur != '\n');
      if (step && AddThread(*next_sparse, *next_dense, *next_size, stack,
                            inst.out, next_context)) {
        return true;
      }
    }
    std::swap(cur_sparse, next_sparse);
    std::swap(cur_dense, next_dense);
    std::swap(cur_size, next_size);
    pos += width;
    width = next_width;
    cur = next;
    context = next_context;
  }
}

}  // namespace strata::context
