// A small command-line flag parser with docker's (cobra/pflag) conventions:
// `--name=value`, `--name value`, `-n value`, `-nvalue`, grouped short bools
// (`-qt app`), `--` ending flags, and flags anywhere among positionals.
#ifndef STRATA_CMD_STRATA_FLAG_SET_H_
#define STRATA_CMD_STRATA_FLAG_SET_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::cli {

/// Declares flags bound to variables, parses argv and prints help.
class FlagSet {
 public:
  /// Checks a flag's value as it is parsed; an error names the flag.
  using Validator = std::function<base::Status(const std::string& value)>;

  /// A boolean flag: `--name`, `--name=true|false`.
  void Bool(std::string name, char short_name, bool* out, std::string help);
  /// A flag taking one value; given twice, the last one wins.
  void String(std::string name, char short_name, std::string* out,
              std::string value_name, std::string help,
              Validator validate = nullptr);
  /// A repeatable flag; each use appends one value.
  void StringList(std::string name, char short_name,
                  std::vector<std::string>* out, std::string value_name,
                  std::string help, Validator validate = nullptr);

  /// Parses `args` (without the program and command words) and returns the
  /// positional arguments. Errors read like docker's: "unknown flag: --x".
  base::Result<std::vector<std::string>> Parse(
      const std::vector<std::string>& args) const;

  /// The "Options:" block of a help text, one line per flag.
  std::string Help() const;

 private:
  enum class Kind { kBool, kString, kStringList };
  struct Flag {
    std::string name;
    char short_name;
    Kind kind;
    void* out;
    std::string value_name;
    std::string help;
    Validator validate;
  };

  const Flag* FindLong(std::string_view name) const;
  const Flag* FindShort(char c) const;
  base::Status Set(const Flag& flag, const std::string& shown,
                   const std::string& value) const;

  std::vector<Flag> flags_;
};

}  // namespace strata::cli

#endif  // STRATA_CMD_STRATA_FLAG_SET_H_
