#include "dockerfile/parse_line.h"

#include <cstdint>
#include <utility>

#include "base/go_quote.h"
#include "base/go_unicode.h"
#include "base/str.h"
#include "base/utf8.h"
#include "dockerfile/parse_json.h"

namespace strata::dockerfile::internal {
namespace {

using base::Code;
using base::MakeError;

// The argument nodes an instruction's rule produced.
struct Args {
  std::vector<Node> nodes;
  bool json = false;
};

bool IsReWhitespace(char c) {
  return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

// unicode.IsSpace applied to a single byte read as a rune, as BuildKit's
// byte loops do: 0x85 and 0xA0 count as space even inside UTF-8 sequences.
bool IsByteSpace(char c) {
  return base::IsUnicodeSpace(static_cast<unsigned char>(c));
}

Node Arg(std::string value) {
  Node n;
  n.value = std::move(value);
  return n;
}

// extractBuilderFlags: the leading "--" words, and the rest of the line.
std::string_view ExtractBuilderFlags(std::string_view line, char escape,
                                     std::vector<std::string>* flags) {
  enum class Phase { kSpaces, kWord, kQuote } phase = Phase::kSpaces;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  char ch = 0;
  for (size_t pos = 0; pos <= line.size(); ++pos) {
    if (pos != line.size()) ch = line[pos];
    if (phase == Phase::kSpaces) {
      if (pos == line.size()) break;
      if (IsByteSpace(ch)) continue;
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') {
        return line.substr(pos);
      }
      phase = Phase::kWord;
    }
    if (pos == line.size()) {
      if (word != "--" && (blank_ok || !word.empty())) flags->push_back(word);
      break;
    }
    if (phase == Phase::kWord) {
      if (IsByteSpace(ch)) {
        phase = Phase::kSpaces;
        if (word == "--") return line.substr(pos);
        if (blank_ok || !word.empty()) flags->push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = Phase::kQuote;
        continue;
      }
    } else if (ch == quote) {
      phase = Phase::kWord;
      continue;
    }
    if (ch == escape) {
      if (pos + 1 == line.size()) {
        phase = Phase::kWord;  // an escape at the very end is dropped
        continue;
      }
      ch = line[++pos];
    }
    // Each byte becomes the rune of the same value (Latin-1), as in Go's
    // string(rune(line[pos])).
    base::AppendRune(word, static_cast<unsigned char>(ch));
  }
  return {};
}

// parseJSON: kInvalid also covers text that does not start with '['.
JsonArray ParseJson(std::string_view rest, std::vector<std::string>* items) {
  rest = base::TrimLeftUnicodeSpace(rest);
  if (rest.empty() || rest[0] != '[') return JsonArray::kInvalid;
  return DecodeJsonStringArray(rest, items);
}

base::Error NotStringsError() {
  return MakeError(Code::kParse,
                   "when using JSON array syntax, arrays must be comprised of "
                   "strings only");
}

Args JsonArgs(std::vector<std::string> items) {
  Args args;
  args.json = true;
  args.nodes.reserve(items.size());
  for (std::string& item : items) args.nodes.push_back(Arg(std::move(item)));
  return args;
}

Args WhitespaceDelimited(std::string_view rest) {
  Args args;
  if (rest.empty()) return args;
  for (std::string& piece : SplitWhitespace(rest, -1)) {
    args.nodes.push_back(Arg(std::move(piece)));
  }
  return args;
}

Args WholeString(std::string_view rest) {
  Args args;
  if (!rest.empty()) args.nodes.push_back(Arg(std::string(rest)));
  return args;
}

base::Result<Args> MaybeJson(std::string_view rest) {
  if (rest.empty()) return Args();
  std::vector<std::string> items;
  switch (ParseJson(rest, &items)) {
    case JsonArray::kStrings:
      return JsonArgs(std::move(items));
    case JsonArray::kNotStrings:
      return NotStringsError();
    case JsonArray::kInvalid:
      break;
  }
  return WholeString(rest);
}

base::Result<Args> MaybeJsonToList(std::string_view rest) {
  std::vector<std::string> items;
  switch (ParseJson(rest, &items)) {
    case JsonArray::kStrings:
      return JsonArgs(std::move(items));
    case JsonArray::kNotStrings:
      return NotStringsError();
    case JsonArray::kInvalid:
      break;
  }
  return WhitespaceDelimited(rest);
}

// parseNameVal (ENV, LABEL): "KEY=VALUE ..." or the old "KEY VALUE".
base::Result<Args> NameVal(std::string_view rest, std::string_view key,
                           char escape) {
  Args args;
  std::vector<std::string> words = ParseWords(rest, escape);
  if (words.empty()) return args;
  if (words[0].find('=') == std::string::npos) {
    std::vector<std::string> parts = SplitWhitespace(rest, 2);
    if (parts.size() < 2) {
      return MakeError(Code::kParse, key, " must have two arguments");
    }
    args.nodes.push_back(Arg(std::move(parts[0])));
    args.nodes.push_back(Arg(std::move(parts[1])));
    args.nodes.push_back(Arg(""));
    return args;
  }
  for (std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      return MakeError(Code::kParse, "Syntax error - can't find = in ",
                       base::GoQuote(word),
                       ". Must be of the form: name=value");
    }
    args.nodes.push_back(Arg(word.substr(0, eq)));
    args.nodes.push_back(Arg(word.substr(eq + 1)));
    args.nodes.push_back(Arg("="));
  }
  return args;
}

// parseHealthConfig: the type word, then as parseMaybeJSON. The type ends at
// the first byte that is a space when read as a rune.
base::Result<Args> HealthConfig(std::string_view rest) {
  size_t sep = 0;
  while (sep < rest.size() && !IsByteSpace(rest[sep])) ++sep;
  size_t next = sep;
  while (next < rest.size() && IsByteSpace(rest[next])) ++next;
  if (sep == 0) return Args();
  STRATA_ASSIGN_OR_RETURN(Args cmd, MaybeJson(rest.substr(next)));
  Args args;
  args.json = cmd.json;
  args.nodes.reserve(cmd.nodes.size() + 1);
  args.nodes.push_back(Arg(std::string(rest.substr(0, sep))));
  for (Node& n : cmd.nodes) args.nodes.push_back(std::move(n));
  return args;
}

base::Result<Node> NewNode(std::string_view line, char escape,
                           std::vector<std::string> comments, int depth);

// parseSubCommand (ONBUILD): the rest is a whole instruction of its own.
base::Result<Args> SubCommand(std::string_view rest, char escape, int depth) {
  Args args;
  if (rest.empty()) return args;
  if (depth >= kMaxOnbuildNesting) {
    return MakeError(Code::kParse, "ONBUILD nested deeper than ",
                     kMaxOnbuildNesting, " levels");
  }
  STRATA_ASSIGN_OR_RETURN(Node child, NewNode(rest, escape, {}, depth + 1));
  Node holder;
  holder.children.push_back(std::move(child));
  args.nodes.push_back(std::move(holder));
  return args;
}

base::Result<Args> Dispatch(std::string_view cmd, std::string_view rest,
                            char escape, int depth) {
  std::string lower = base::GoToLower(cmd);
  if (lower == "add" || lower == "copy" || lower == "volume") {
    return MaybeJsonToList(rest);
  }
  if (lower == "run" || lower == "cmd" || lower == "entrypoint" ||
      lower == "shell") {
    return MaybeJson(rest);
  }
  if (lower == "from" || lower == "expose") return WhitespaceDelimited(rest);
  if (lower == "user" || lower == "workdir" || lower == "maintainer" ||
      lower == "stopsignal") {
    return WholeString(rest);
  }
  if (lower == "env") return NameVal(rest, "ENV", escape);
  if (lower == "label") return NameVal(rest, "LABEL", escape);
  if (lower == "arg") {
    Args args;
    for (std::string& w : ParseWords(rest, escape)) {
      args.nodes.push_back(Arg(std::move(w)));
    }
    return args;
  }
  if (lower == "healthcheck") return HealthConfig(rest);
  if (lower == "onbuild") return SubCommand(rest, escape, depth);
  // Unknown instructions keep their word and one empty argument; the typed
  // stage rejects them later.
  Args args;
  args.nodes.push_back(Node());
  return args;
}

base::Result<Node> NewNode(std::string_view line, char escape,
                           std::vector<std::string> comments, int depth) {
  SplitLine split = SplitCommand(line, escape);
  STRATA_ASSIGN_OR_RETURN(Args args,
                          Dispatch(split.cmd, split.args, escape, depth));
  Node node;
  node.value = std::move(split.cmd);
  node.original = std::string(line);
  node.flags = std::move(split.flags);
  node.next = std::move(args.nodes);
  node.json = args.json;
  node.prev_comment = std::move(comments);
  return node;
}

}  // namespace

std::vector<std::string> SplitWhitespace(std::string_view s, int n) {
  std::vector<std::string> out;
  size_t begin = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    if (n > 0 && static_cast<int>(out.size()) == n - 1) break;
    if (!IsReWhitespace(s[pos])) {
      ++pos;
      continue;
    }
    size_t run_end = pos;
    while (run_end < s.size() && IsReWhitespace(s[run_end])) ++run_end;
    out.emplace_back(s.substr(begin, pos - begin));
    begin = pos = run_end;
  }
  out.emplace_back(s.substr(begin));
  return out;
}

SplitLine SplitCommand(std::string_view line, char escape) {
  SplitLine out;
  std::vector<std::string> parts =
      SplitWhitespace(base::TrimUnicodeSpace(line), 2);
  out.cmd = std::move(parts[0]);
  if (parts.size() == 2) {
    std::string_view rest = ExtractBuilderFlags(parts[1], escape, &out.flags);
    out.args = std::string(base::TrimUnicodeSpace(rest));
  }
  return out;
}

std::vector<std::string> ParseWords(std::string_view rest, char escape_char) {
  const char32_t escape = static_cast<unsigned char>(escape_char);
  enum class Phase { kSpaces, kWord, kQuote } phase = Phase::kSpaces;
  std::vector<std::string> words;
  std::string word;
  char32_t quote = 0;
  bool blank_ok = false;
  char32_t ch = 0;
  size_t width = 0;
  auto decode = [&](size_t at) {
    base::DecodedRune d = base::DecodeRune(rest.substr(at));
    ch = d.rune;
    width = d.size;
  };
  for (size_t pos = 0; pos <= rest.size(); pos += width) {
    if (pos != rest.size()) decode(pos);
    if (phase == Phase::kSpaces) {
      if (pos == rest.size()) break;
      if (base::IsUnicodeSpace(ch)) continue;
      phase = Phase::kWord;
    }
    if (pos == rest.size()) {
      if (blank_ok || !word.empty()) words.push_back(std::move(word));
      break;
    }
    if (phase == Phase::kWord) {
      if (base::IsUnicodeSpace(ch)) {
        phase = Phase::kSpaces;
        if (blank_ok || !word.empty()) words.push_back(word);
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = Phase::kQuote;
      }
      if (ch == escape) {
        if (pos + width == rest.size()) continue;  // drop a final escape
        // Unquoted, the escape and the character after it are both kept.
        base::AppendRune(word, ch);
        pos += width;
        decode(pos);
      }
      base::AppendRune(word, ch);
      continue;
    }
    if (ch == quote) phase = Phase::kWord;
    if (ch == escape && quote != '\'') {
      if (pos + width == rest.size()) {
        phase = Phase::kWord;
        continue;
      }
      pos += width;
      base::AppendRune(word, ch);
      decode(pos);
    }
    base::AppendRune(word, ch);
  }
  return words;
}

base::Result<Node> NewNodeFromLine(std::string_view line, char escape,
                                   std::vector<std::string> comments) {
  return NewNode(line, escape, std::move(comments), 0);
}

}  // namespace strata::dockerfile::internal
