// A server program a test starts and always stops: http.server, a
// registry. The process gets its own process group, killed (SIGKILL) when
// the object dies, so a failing test never leaves a server behind.
#ifndef STRATA_TESTS_SUPPORT_BACKGROUND_PROCESS_H_
#define STRATA_TESTS_SUPPORT_BACKGROUND_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace strata::testing {

class BackgroundProcess {
 public:
  /// Starts argv (searched in PATH) in `cwd` with stdout and stderr on one
  /// pipe. started() says whether it could.
  explicit BackgroundProcess(const std::vector<std::string>& argv,
                             const std::string& cwd = "");
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool started() const { return pid_ > 0; }

  /// Reads output until a line contains `needle` and returns that line;
  /// nullopt when the program exits or `timeout` passes first. Everything
  /// read so far is kept in output().
  std::optional<std::string> WaitForLine(const std::string& needle,
                                         std::chrono::milliseconds timeout);
  const std::string& output() const { return output_; }

  /// Sends `sig` to the process alone (not its group).
  void Signal(int sig);

  /// Waits up to `timeout` for the process to exit and reaps it: its exit
  /// code, 128+N if signal N killed it, nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

  /// Kills the process group and reaps the process. Idempotent.
  void Stop();

 private:
  pid_t pid_ = -1;   // until reaped
  pid_t pgid_ = -1;  // until Stop()
  int out_fd_ = -1;
  std::string output_;
  size_t scanned_ = 0;
};

}  // namespace strata::testing

#endif  // STRATA_TESTS_SUPPORT_BACKGROUND_PROCESS_H_
