// strata's Dockerfile AST: BuildKit's parser.Node with its Next chain
// flattened into a vector, and its Dump() text.
//
// Shape (BuildKit's, frontend/dockerfile/parser):
//   root.children          one Node per instruction, in file order
//   instruction.value      the instruction word as written ("Run", "COPY")
//   instruction.flags      "--from=build", ... in source order
//   instruction.next       the argument nodes (BuildKit's Next chain)
//   ONBUILD's next[0]      a node whose children[0] is the inner instruction
//
// Dump() format, one line per instruction of the root:
//   (copy ["--from=build"] "a" "b")
// that is the lower-cased word, the flags as Go's %q of a []string, then each
// argument as strconv.Quote, or as a nested dump for ONBUILD's argument.
#ifndef STRATA_DOCKERFILE_NODE_H_
#define STRATA_DOCKERFILE_NODE_H_

#include <string>
#include <vector>

namespace strata::dockerfile {

/// A here-document attached to an instruction (`RUN <<EOF` ... `EOF`).
struct Heredoc {
  /// The terminator word, with its quotes removed ("EOF").
  std::string name;
  /// The descriptor written before `<<` (`3<<EOF`), else 0. BuildKit keeps a
  /// uint; values that do not fit an int are clamped to INT_MAX.
  int file_descriptor = 0;
  /// False when any part of the name was quoted (`<<'EOF'`): no expansion.
  bool expand = true;
  /// True for `<<-`: leading tabs are to be stripped from the content (the
  /// parser keeps them; see ChompHeredocContent).
  bool chomp = false;
  /// The raw body lines, each with its line ending, terminator excluded.
  std::string content;

  bool operator==(const Heredoc&) const = default;
};

/// One node of BuildKit's parse tree: the root, an instruction or an
/// argument.
struct Node {
  /// The instruction word as written, or an argument's text.
  std::string value;
  /// BuildKit's Next chain, flattened: an instruction's argument nodes.
  std::vector<Node> next;
  /// Root: the instructions. ONBUILD's argument node: the inner instruction.
  std::vector<Node> children;
  /// Builder flags such as "--from=build", in source order.
  std::vector<std::string> flags;
  /// Heredocs of the instruction (also of the one inside ONBUILD).
  std::vector<Heredoc> heredocs;
  /// BuildKit's Attributes["json"]: the arguments were a JSON array.
  bool json = false;
  /// The instruction's line, continuation lines joined.
  std::string original;
  /// First and last physical line, 1-based (root: of its children). Zero on
  /// argument nodes and on the instruction inside ONBUILD, as in BuildKit.
  int start_line = 0;
  int end_line = 0;
  /// The comment lines above the instruction, '#' and blanks trimmed.
  std::vector<std::string> prev_comment;

  /// BuildKit's Node.Dump(): the lower-cased value, the flags, each child as
  /// "(" + dump + ")\n", then each argument quoted; trimmed of white space.
  std::string Dump() const;

  bool operator==(const Node&) const = default;
};

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_NODE_H_
