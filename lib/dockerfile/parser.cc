#include "dockerfile/parser.h"

#include <optional>
#include <utility>

#include "base/go_unicode.h"
#include "base/str.h"
#include "base/utf8.h"
#include "dockerfile/parse_line.h"

namespace strata::dockerfile {
namespace {

using base::Code;
using base::MakeError;

// bufio.MaxScanTokenSize: BuildKit's scanner holds at most this many bytes,
// so a line with its '\n' may use all of them and a last line without one
// one less.
constexpr size_t kMaxScanTokenSize = 64 * 1024;

// bufio.Scanner with BuildKit's scanLines: lines keep their '\n'.
//
// A line too long for the scanner's buffer fails the scan, and bufio then
// hands out what its full buffer holds (the line's first 64 KiB) on the next
// call before stopping for good. BuildKit's parser makes that next call when
// the failure hit a continuation line, so the cut line is parsed too.
class LineScanner {
 public:
  explicit LineScanner(std::string_view data) : data_(data) {}

  bool Scan(std::string_view* line) {
    if (failed_) {
      if (truncated_.empty()) return false;
      *line = truncated_;
      truncated_ = {};
      return true;
    }
    if (pos_ >= data_.size()) return false;
    size_t newline = data_.find('\n', pos_);
    size_t length = newline == std::string_view::npos ? data_.size() - pos_
                                                      : newline - pos_ + 1;
    size_t limit = newline == std::string_view::npos ? kMaxScanTokenSize - 1
                                                     : kMaxScanTokenSize;
    if (length > limit) {
      failed_ = true;
      failed_line_ = lines_ + 1;
      truncated_ = data_.substr(pos_, kMaxScanTokenSize);
      return false;
    }
    *line = data_.substr(pos_, length);
    pos_ += length;
    ++lines_;
    return true;
  }

  /// True once a line was too long (bufio.ErrTooLong).
  bool too_long() const { return failed_; }
  /// The 1-based number of the line that was too long.
  int failed_line() const { return failed_line_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  int lines_ = 0;
  bool failed_ = false;
  int failed_line_ = 0;
  std::string_view truncated_;
};

// bytes.TrimRight(line, "\r\n").
std::string_view TrimNewline(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
    line.remove_suffix(1);
  }
  return line;
}

bool IsComment(std::string_view line) {
  line = base::TrimLeftUnicodeSpace(line);
  return !line.empty() && line[0] == '#';
}

// Matches ([^E])E[ \t]*$|^E[ \t]*$ and removes what follows the kept
// character. Returns the line and whether the instruction ends here.
std::pair<std::string_view, bool> TrimContinuation(std::string_view line,
                                                   char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0 || line[end - 1] != escape) return {line, true};
  if (end == 1) return {std::string_view(), false};
  // An escaped escape token does not continue the line (nor does one after
  // "\\\", which BuildKit's regular expression cannot tell apart).
  if (line[end - 2] == escape) return {line, true};
  return {line.substr(0, end - 1), false};
}

bool CanContainHeredoc(const Node& node) {
  const Node* n = &node;
  if (base::GoToLower(n->value) == "onbuild" && !n->next.empty() &&
      !n->next[0].children.empty()) {
    n = &n->next[0].children[0];
  }
  std::string lower = base::GoToLower(n->value);
  if (lower != "add" && lower != "copy" && lower != "run") return false;
  return !n->json;
}

class Parser {
 public:
  Parser(std::string_view content, const ParseOptions& options)
      : scanner_(content), options_(options) {}

  base::Result<ParseResult> Run();

 private:
  base::Error ErrorAt(base::Error error, int line) const {
    return std::move(error.At(options_.file_name, line));
  }
  // processLine: the line without its ending (and, for an instruction's
  // first line, its leading white space), directives taken, comments
  // emptied.
  base::Result<std::string_view> ProcessLine(std::string_view raw,
                                             bool strip_left,
                                             bool* directive_found);
  base::Result<bool> PossibleDirective(std::string_view token);
  // Reads the continuation lines of an instruction into `line`.
  base::Status ReadContinuation(std::string& line);
  base::Status ReadHeredocs(Node& child, std::string_view line, int start_line);

  LineScanner scanner_;
  const ParseOptions& options_;
  DirectiveParser directive_parser_;
  ParseResult result_;
  int current_line_ = 0;
  std::vector<std::string> comments_;
};

base::Result<bool> Parser::PossibleDirective(std::string_view token) {
  STRATA_ASSIGN_OR_RETURN(std::optional<Directive> directive,
                          directive_parser_.ParseLine(token));
  if (!directive) return false;
  if (directive->name == "escape") {
    if (directive->value != "`" && directive->value != "\\") {
      return MakeError(Code::kParse, "invalid escape token '", directive->value,
                       "' does not match ` or \\");
    }
    result_.escape_token = directive->value[0];
  }
  result_.directives.push_back(std::move(*directive));
  return true;
}

base::Result<std::string_view> Parser::ProcessLine(std::string_view raw,
                                                   bool strip_left,
                                                   bool* directive_found) {
  std::string_view token = TrimNewline(raw);
  if (strip_left) token = base::TrimLeftUnicodeSpace(token);
  base::Result<bool> found = PossibleDirective(token);
  // BuildKit reports the 0-based index of the line here; strata reports the
  // line itself.
  if (!found) return ErrorAt(std::move(found).error(), current_line_ + 1);
  if (directive_found) *directive_found = *found;
  if (IsComment(token)) return std::string_view();
  return token;
}

base::Status Parser::ReadContinuation(std::string& line) {
  bool has_empty_line = false;
  bool end_of_line = false;
  std::string_view raw;
  while (!end_of_line && scanner_.Scan(&raw)) {
    STRATA_ASSIGN_OR_RETURN(std::string_view token,
                            ProcessLine(raw, false, nullptr));
    ++current_line_;
    if (IsComment(raw)) continue;
    if (base::TrimLeftUnicodeSpace(token).empty()) {
      has_empty_line = true;
      continue;
    }
    auto [piece, eol] = TrimContinuation(token, result_.escape_token);
    end_of_line = eol;
    line.append(piece);
  }
  if (has_empty_line) {
    result_.warnings.push_back(Warning{
        .short_text = base::StrCat("Empty continuation line found in: ", line),
        .detail =
            "Empty continuation lines will become errors in a future release",
        .start_line = current_line_,
        .end_line = current_line_});
  }
  return base::OkStatus();
}

base::Status Parser::ReadHeredocs(Node& child, std::string_view line,
                                  int start_line) {
  base::Result<std::vector<Heredoc>> heredocs = HeredocsFromLine(line);
  if (!heredocs) return ErrorAt(std::move(heredocs).error(), start_line);
  for (Heredoc& heredoc : *heredocs) {
    bool terminated = false;
    std::string_view raw;
    while (scanner_.Scan(&raw)) {
      ++current_line_;
      std::string_view candidate = TrimNewline(raw);
      if (heredoc.chomp) {
        size_t tabs = candidate.find_first_not_of('\t');
        candidate.remove_prefix(
            tabs == std::string_view::npos ? candidate.size() : tabs);
      }
      if (candidate == heredoc.name) {
        terminated = true;
        break;
      }
      heredoc.content.append(raw);
    }
    if (!terminated) {
      return ErrorAt(MakeError(Code::kParse, "unterminated heredoc"),
                     start_line);
    }
    child.heredocs.push_back(std::move(heredoc));
  }
  return base::OkStatus();
}

base::Result<ParseResult> Parser::Run() {
  std::string_view raw;
  while (scanner_.Scan(&raw)) {
    if (current_line_ == 0 && base::StartsWith(raw, "\xEF\xBB\xBF")) {
      raw.remove_prefix(3);
    }
    if (IsComment(raw)) {
      // BuildKit drops the first byte, whatever it is, then trims.
      std::string_view comment = base::TrimUnicodeSpace(raw.substr(1));
      if (comment.empty()) {
        comments_.clear();
      } else {
        comments_.emplace_back(comment);
      }
    }
    bool directive_found = false;
    STRATA_ASSIGN_OR_RETURN(std::string_view token,
                            ProcessLine(raw, true, &directive_found));
    // A directive was collected as a comment just above; it is none.
    if (directive_found && !comments_.empty()) comments_.pop_back();
    ++current_line_;

    const int start_line = current_line_;
    auto [first, end_of_line] = TrimContinuation(token, result_.escape_token);
    if (end_of_line && first.empty()) continue;
    std::string line(first);
    if (!end_of_line) STRATA_TRY(ReadContinuation(line));

    base::Result<Node> child = internal::NewNodeFromLine(
        line, result_.escape_token, std::move(comments_));
    comments_.clear();
    if (!child) return ErrorAt(std::move(child).error(), start_line);
    if (CanContainHeredoc(*child) && line.find("<<") != std::string::npos) {
      STRATA_TRY(ReadHeredocs(*child, line, start_line));
    }
    child->start_line = start_line;
    child->end_line = current_line_;
    if (result_.root.children.empty()) result_.root.start_line = start_line;
    result_.root.end_line = current_line_;
    result_.root.children.push_back(std::move(*child));
  }
  if (result_.root.children.empty()) {
    return ErrorAt(MakeError(Code::kParse, "file with no instructions"),
                   current_line_ == 0 ? 1 : current_line_);
  }
  if (scanner_.too_long()) {
    return ErrorAt(MakeError(Code::kParse,
                             "dockerfile line greater than max allowed size "
                             "of ",
                             kMaxScanTokenSize - 1),
                   scanner_.failed_line());
  }
  return std::move(result_);
}

}  // namespace

base::Result<ParseResult> Parse(std::string_view content,
                                const ParseOptions& options) {
  Parser parser(content, options);
  return parser.Run();
}

}  // namespace strata::dockerfile
