// Runs a program for a test and captures what it printed.
#ifndef STRATA_TESTS_SUPPORT_RUN_COMMAND_H_
#define STRATA_TESTS_SUPPORT_RUN_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

namespace strata::testing {

/// What a finished program left behind.
struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal or could not start
  std::string out;
  std::string err;
  int64_t max_rss_kb = 0;  // the child's peak resident set size
};

/// Runs argv[0] (searched in PATH) with `stdin_data` on its standard input,
/// in `cwd` when given, with `env` added to the environment ("K=V"), and
/// waits for it.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::string& stdin_data = "",
                         const std::string& cwd = "",
                         const std::vector<std::string>& env = {});

/// Runs the strata binary under test with `args`.
CommandResult RunStrata(const std::vector<std::string>& args,
                        const std::string& stdin_data = "",
                        const std::string& cwd = "",
                        const std::vector<std::string>& env = {});

}  // namespace strata::testing

#endif  // STRATA_TESTS_SUPPORT_RUN_COMMAND_H_
