// The subcommands of the strata CLI. Each takes its arguments (after the
// command words) and returns the process exit code.
#ifndef STRATA_CMD_STRATA_COMMANDS_H_
#define STRATA_CMD_STRATA_COMMANDS_H_

#include <string>
#include <vector>

namespace strata::cli {

/// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the build or operation failed
inline constexpr int kExitUsage = 2;    // bad flags or arguments

/// `strata build [OPTIONS] CONTEXT`.
int RunBuild(const std::vector<std::string>& args);

/// `strata debug dump-ast FILE` and other developer aids.
int RunDebug(const std::vector<std::string>& args);

/// Store commands: `strata images|rmi|prune|du|save` (images_command.cc,
/// prune_command.cc, save_command.cc).
int RunImages(const std::vector<std::string>& args);
int RunRmi(const std::vector<std::string>& args);
int RunPrune(const std::vector<std::string>& args);
int RunDu(const std::vector<std::string>& args);
int RunSave(const std::vector<std::string>& args);

/// Registry commands (registry_commands.cc): `strata pull|push|tag|login|
/// logout`.
int RunPull(const std::vector<std::string>& args);
int RunPush(const std::vector<std::string>& args);
int RunTag(const std::vector<std::string>& args);
int RunInspect(const std::vector<std::string>& args);
int RunLogin(const std::vector<std::string>& args);
int RunLogout(const std::vector<std::string>& args);

/// Prints "strata: <message>" style usage errors as one line on stderr.
int UsageError(const std::string& command, const std::string& message);

}  // namespace strata::cli

#endif  // STRATA_CMD_STRATA_COMMANDS_H_
