#include "dockerfile/directives.h"

#include <algorithm>

#include "base/str.h"
#include "base/utf8.h"

namespace strata::dockerfile {
namespace internal {
namespace {

// RE2's \s: [\t\n\f\r ] (no \v).
bool IsReSpace(char c) {
  return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

bool IsAsciiAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || (c >= '0' && c <= '9'); }

}  // namespace

bool MatchDirective(std::string_view text, std::string_view* key,
                    std::string_view* value) {
  if (text.empty() || !IsAsciiAlpha(text[0])) return false;
  size_t pos = 1;
  while (pos < text.size() && IsAsciiAlnum(text[pos])) ++pos;
  const size_t key_end = pos;
  while (pos < text.size() && IsReSpace(text[pos])) ++pos;
  if (pos == text.size() || text[pos] != '=') return false;
  std::string_view rest = text.substr(pos + 1);

  // The value is lazy (.+?) between a greedy \s* and a trailing \s*$, and
  // '.' is any character but '\n'. So the value runs from the first to the
  // last non-space character, unless a '\n' lies between them (no match);
  // when there is white space only, the greedy prefix leaves the value its
  // last character that is not '\n'.
  size_t lead = 0;
  while (lead < rest.size() && IsReSpace(rest[lead])) ++lead;
  size_t tail = rest.size();
  while (tail > lead && IsReSpace(rest[tail - 1])) --tail;
  if (lead < rest.size()) {
    std::string_view v = rest.substr(lead, tail - lead);
    if (v.find('\n') != std::string_view::npos) return false;
    *key = text.substr(0, key_end);
    *value = v;
    return true;
  }
  size_t last = rest.find_last_not_of('\n');
  if (last == std::string_view::npos) return false;
  *key = text.substr(0, key_end);
  *value = rest.substr(last, 1);
  return true;
}

}  // namespace internal

base::Result<std::optional<Directive>> DirectiveParser::ParseLine(
    std::string_view line) {
  ++line_;
  if (done_) return std::optional<Directive>();
  if (line.empty() || line[0] != '#') {
    done_ = true;
    return std::optional<Directive>();
  }
  std::string_view text = base::TrimLeftUnicodeSpace(line.substr(1));
  std::string_view key;
  std::string_view value;
  if (!internal::MatchDirective(text, &key, &value)) {
    done_ = true;
    return std::optional<Directive>();
  }
  std::string name = base::AsciiLower(key);
  if (name != "syntax" && name != "escape" && name != "check") {
    done_ = true;
    return std::optional<Directive>();
  }
  if (std::find(seen_.begin(), seen_.end(), name) != seen_.end()) {
    return base::MakeError(base::Code::kParse, "only one ", name,
                           " parser directive can be used");
  }
  seen_.push_back(name);
  return std::optional<Directive>(Directive{
      .name = std::move(name), .value = std::string(value), .line = line_});
}

}  // namespace strata::dockerfile
