#include "dockerfile/node.h"

#include "base/go_quote.h"
#include "base/go_unicode.h"
#include "base/utf8.h"

namespace strata::dockerfile {

std::string Node::Dump() const {
  std::string out = base::GoToLower(value);
  if (!flags.empty()) {
    out.push_back(' ');
    out.append(base::GoQuoteList(flags));
  }
  for (const Node& child : children) {
    out.push_back('(');
    out.append(child.Dump());
    out.append(")\n");
  }
  for (const Node& arg : next) {
    out.push_back(' ');
    if (arg.children.empty()) {
      base::AppendGoQuote(out, arg.value);
    } else {
      out.append(arg.Dump());
    }
  }
  std::string_view trimmed = base::TrimUnicodeSpace(out);
  if (trimmed.size() == out.size()) return out;
  return std::string(trimmed);
}

}  // namespace strata::dockerfile
