#include "context/ignore_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "base/file.h"
#include "base/str.h"
#include "base/utf8.h"
#include "context/safe_path.h"

namespace strata::context {
namespace {

using base::Code;
using base::MakeError;

// bufio.MaxScanTokenSize: the Scanner's buffer never grows past this, so a
// line that fills it without a '\n' is an error.
constexpr size_t kMaxLineBytes = 64 * 1024;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// One ignore-file line to a pattern; nullopt for comments and blank lines.
std::optional<std::string> ParseLine(std::string_view line) {
  if (base::StartsWith(line, "#")) return std::nullopt;
  std::string_view pattern = base::TrimUnicodeSpace(line);
  if (pattern.empty()) return std::nullopt;
  // Normalize absolute paths to context-relative ones, keeping the '!'.
  const bool invert = pattern[0] == '!';
  if (invert) pattern = base::TrimUnicodeSpace(pattern.substr(1));
  std::string out;
  if (!pattern.empty()) {
    out = CleanPath(pattern);
    if (out.size() > 1 && out[0] == '/') out.erase(0, 1);
  }
  if (invert) return base::StrCat("!", out);
  return out;
}

// Reads a regular file at `rel` inside `root`, resolving symlinks within
// the root. nullopt when it is missing or not a regular file.
base::Result<std::optional<std::string>> ReadFileInRoot(
    const std::string& root, const std::string& rel, std::string* host_path) {
  STRATA_ASSIGN_OR_RETURN(std::string resolved, ResolveInRoot(root, rel));
  std::string full = resolved == "." ? root : base::StrCat(root, "/", resolved);
  // O_NONBLOCK: a FIFO named .dockerignore must not hang the build.
  base::UniqueFd fd(
      ::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) return std::nullopt;
    return MakeError(Code::kIo, "open ", full, ": ", base::ErrnoText(err));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return MakeError(Code::kIo, "stat ", full, ": ", base::ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  std::string data;
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return MakeError(Code::kIo, "read ", full, ": ", base::ErrnoText(errno));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  *host_path = full;
  return std::optional<std::string>(std::move(data));
}

}  // namespace

base::Result<std::vector<std::string>> ReadIgnoreFile(
    std::string_view content) {
  std::vector<std::string> patterns;
  bool first = true;
  while (!content.empty()) {
    size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content.remove_prefix(nl == std::string_view::npos ? content.size()
                                                       : nl + 1);
    if (line.size() >= kMaxLineBytes) {
      return base::Error(Code::kParse, "bufio.Scanner: token too long");
    }
    if (base::EndsWith(line, "\r")) line.remove_suffix(1);
    if (first && base::StartsWith(line, kUtf8Bom)) {
      line.remove_prefix(kUtf8Bom.size());
    }
    first = false;
    std::optional<std::string> pattern = ParseLine(line);
    if (pattern) patterns.push_back(std::move(*pattern));
  }
  return patterns;
}

base::Result<BuildIgnore> LoadBuildIgnore(const std::string& context_dir,
                                          const std::string& dockerfile_path) {
  struct Candidate {
    std::string root;
    std::string name;
  };
  std::vector<Candidate> candidates;
  if (!dockerfile_path.empty()) {
    // BuildKit reads it from the Dockerfile's own directory ("dockerfile"
    // local), named after the Dockerfile.
    size_t slash = dockerfile_path.rfind('/');
    std::string base_name = slash == std::string::npos
                                ? dockerfile_path
                                : dockerfile_path.substr(slash + 1);
    candidates.push_back(
        {DirName(dockerfile_path), base::StrCat(base_name, ".dockerignore")});
  }
  candidates.push_back({context_dir, std::string(kDockerignoreName)});

  for (const Candidate& c : candidates) {
    BuildIgnore out;
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> data,
                            ReadFileInRoot(c.root, c.name, &out.path));
    if (!data) continue;
    base::Result<std::vector<std::string>> patterns = ReadIgnoreFile(*data);
    if (!patterns) {
      return MakeError(Code::kParse, "failed parsing ", c.name, ": ",
                       patterns.error().message());
    }
    out.name = c.name;
    out.patterns = std::move(*patterns);
    return out;
  }
  return BuildIgnore{};
}

}  // namespace strata::context
