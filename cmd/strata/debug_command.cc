// `strata debug`: developer aids. `dump-ast FILE` prints the parsed
// Dockerfile in BuildKit's Node.Dump() format, for comparing with BuildKit.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "base/file.h"
#include "commands.h"
#include "dockerfile/parser.h"

namespace strata::cli {
namespace {

constexpr char kUsage[] =
    "Usage: strata debug dump-ast FILE\n"
    "\n"
    "Print FILE's syntax tree as BuildKit's parser dumps it (- reads stdin).\n";

}  // namespace

int RunDebug(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (args.size() != 2 || args[0] != "dump-ast") {
    return UsageError("debug", "expected: strata debug dump-ast FILE");
  }
  const std::string& path = args[1];
  std::string content;
  if (path == "-") {
    content.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    base::Result<std::string> data = base::ReadFile(path);
    if (!data) {
      std::fprintf(stderr, "%s\n", data.error().ToString().c_str());
      return kExitFailure;
    }
    content = std::move(data).value();
  }
  dockerfile::ParseOptions options;
  options.file_name = path == "-" ? "Dockerfile" : path;
  base::Result<dockerfile::ParseResult> parsed =
      dockerfile::Parse(content, options);
  if (!parsed) {
    std::fprintf(stderr, "%s\n", parsed.error().ToString().c_str());
    return kExitFailure;
  }
  for (const dockerfile::Warning& w : parsed->warnings) {
    std::fprintf(stderr, "%s:%d: warning: %s\n", options.file_name.c_str(),
                 w.start_line, w.short_text.c_str());
  }
  std::printf("%s\n", parsed->root.Dump().c_str());
  return kExitOk;
}

}  // namespace strata::cli
