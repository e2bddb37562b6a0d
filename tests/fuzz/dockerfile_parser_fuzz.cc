// libFuzzer target: the Dockerfile front-end end to end (parse, Dump, typed
// instructions and word expansion of every stage's FROM line), which must
// never crash, leak or trip a sanitizer whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dockerfile/instructions.h"
#include "dockerfile/parser.h"
#include "dockerfile/shell_lex.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata::dockerfile;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = Parse(text);
  if (!parsed) return 0;
  (void)parsed->root.Dump();
  auto instructions = ParseInstructions(*parsed);
  if (!instructions) return 0;
  ShellLex lex(LexOptions{.escape_token = parsed->escape_token});
  EnvList env;
  env.Set("A", "value with spaces");
  for (Stage& stage : instructions->stages) {
    (void)lex.ProcessWordWithMatches(stage.base_name, env);
    (void)lex.ProcessWords(stage.base_name, env);
    for (Command& command : stage.commands) {
      (void)ExpandCommand(command, [&](std::string_view word) {
        return lex.ProcessWord(word, env);
      });
    }
  }
  return 0;
}
