// strata: a daemonless OCI image builder. This file only dispatches to the
// subcommands; each lives in its own *_command.cc.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "sandbox/id_map.h"

namespace strata::cli {
namespace {

constexpr char kHelp[] =
    "Usage: strata [--help | --version] COMMAND [ARGS]\n"
    "\n"
    "A daemonless, rootless OCI image builder that reads Dockerfiles exactly\n"
    "as BuildKit does.\n"
    "\n"
    "Commands:\n"
    "  build        Build an image from a Dockerfile and a context directory\n"
    "  debug        Developer aids (dump-ast FILE)\n"
    "  du           Show the store's disk usage\n"
    "  images       List the images in the local store\n"
    "  inspect      Show an image's manifest, config and layers as JSON\n"
    "  login        Store credentials for a registry\n"
    "  logout       Remove the credentials stored for a registry\n"
    "  prune        Remove build cache and unused blobs and layers\n"
    "  pull         Pull an image from a registry into the local store\n"
    "  push         Push a local image to a registry\n"
    "  rmi          Untag images (their blobs go at the next prune)\n"
    "  save         Save images to a docker-archive or OCI layout tar\n"
    "  tag          Give a local image another name\n"
    "\n"
    "Run 'strata COMMAND --help' for a command's options.\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

int Main(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" ||
      argv[0] == "help") {
    std::fputs(kHelp, stdout);
    return argv.empty() ? kExitUsage : kExitOk;
  }
  if (argv[0] == "--version" || argv[0] == "-v" || argv[0] == "version") {
    std::printf("strata version %s\n", STRATA_VERSION);
    return kExitOk;
  }
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] != "debug" && argv[0] != "login" && argv[0] != "logout") {
    // Rootless: every command that touches the store runs inside the
    // id-mapped user namespace, where the store's files have their owners.
    std::string why_not;
    if (!sandbox::EnterIdMappedUserNamespace(&why_not) && !why_not.empty() &&
        argv[0] == "build") {
      std::fprintf(stderr, "strata: note: %s\n", why_not.c_str());
    }
  }
  if (argv[0] == "build") return RunBuild(rest);
  if (argv[0] == "debug") return RunDebug(rest);
  if (argv[0] == "images") return RunImages(rest);
  if (argv[0] == "rmi") return RunRmi(rest);
  if (argv[0] == "prune") return RunPrune(rest);
  if (argv[0] == "du") return RunDu(rest);
  if (argv[0] == "save") return RunSave(rest);
  if (argv[0] == "pull") return RunPull(rest);
  if (argv[0] == "push") return RunPush(rest);
  if (argv[0] == "tag") return RunTag(rest);
  if (argv[0] == "inspect") return RunInspect(rest);
  if (argv[0] == "login") return RunLogin(rest);
  if (argv[0] == "logout") return RunLogout(rest);
  if (!argv[0].empty() && argv[0][0] == '-') {
    return UsageError("", "unknown flag: " + argv[0]);
  }
  return UsageError("", "unknown command: " + argv[0]);
}

}  // namespace

int UsageError(const std::string& command, const std::string& message) {
  std::string help = command.empty() ? "strata --help"
                                     : "strata " + command + " --help";
  std::fprintf(stderr, "strata: %s (see '%s')\n", message.c_str(),
               help.c_str());
  return kExitUsage;
}

}  // namespace strata::cli

int main(int argc, char** argv) {
  try {
    return strata::cli::Main(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    // Our code never throws; this only catches library failures such as
    // std::bad_alloc, and reports them as an internal error.
    std::fprintf(stderr, "strata: internal error: %s\n", e.what());
    return strata::cli::kExitFailure;
  }
}
