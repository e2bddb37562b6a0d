// COPY/ADD --chmod values: octal ("0755", "644") or symbolic as chmod(1)
// writes them ("u+x", "go-w,a+X", "u=rwx,g=rx,o="), applied per file.
#ifndef STRATA_BUILD_FILE_MODE_H_
#define STRATA_BUILD_FILE_MODE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::build {

/// A parsed --chmod value.
class ModeSpec {
 public:
  /// Parses octal (at most 07777) or symbolic clauses; errors name the
  /// value ("invalid chmod \"u+q\"").
  static base::Result<ModeSpec> Parse(std::string_view text);

  /// The permission bits (07777 part) a file with `mode` gets; `is_dir`
  /// matters for X.
  uint32_t Apply(uint32_t mode, bool is_dir) const;

  /// The value as given, for cache keys and history.
  const std::string& text() const { return text_; }

 private:
  struct Clause {
    uint32_t who = 0;  // mask of u/g/o bits (0 = as "a")
    char op = '+';     // + - =
    uint32_t perms = 0;
    bool cap_x = false;  // X
    bool copy_u = false, copy_g = false, copy_o = false;  // =u, +g, ...
  };

  std::string text_;
  std::optional<uint32_t> absolute_;
  std::vector<Clause> clauses_;
};

}  // namespace strata::build

#endif  // STRATA_BUILD_FILE_MODE_H_
