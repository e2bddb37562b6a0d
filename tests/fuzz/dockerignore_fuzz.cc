// libFuzzer target: reading a .dockerignore and matching with it. The input
// is the ignore file; its own lines double as the paths to match.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/str.h"
#include "context/ignore_file.h"
#include "context/pattern_matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata::context;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto patterns = ReadIgnoreFile(text);
  if (!patterns) return 0;
  auto matcher = PatternMatcher::New(*patterns);
  if (!matcher) return 0;
  for (const std::string& line : strata::base::Split(text, '\n')) {
    (void)matcher->MatchesOrParentMatches(line);
    (void)matcher->MatchesDeprecated(line);
  }
  for (const char* path : {"a", "a/b", "a/b/c.txt", ".git", "src/main.c"}) {
    (void)matcher->MatchesOrParentMatches(path);
  }
  return 0;
}
