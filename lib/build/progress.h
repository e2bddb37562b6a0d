// Build progress in BuildKit's styles:
//  - plain: one line per event, each prefixed by the step's number:
//      #4 [build 2/5] COPY requirements.txt .
//      #4 CACHED
//      #5 [build 3/5] RUN pip install -r requirements.txt
//      #5 0.412 Collecting flask
//      #5 DONE 3.1s
//  - tty: a compact view redrawn in place ("[+] Building 3.1s (5/9)" and one
//    line per step), with the plain lines of a failed step kept on error;
//  - quiet: nothing (the image id is printed by the caller).
// Safe to call from several threads: stages build in parallel.
#ifndef STRATA_BUILD_PROGRESS_H_
#define STRATA_BUILD_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "build/options.h"

namespace strata::build {

/// Receives build events and shows them.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  /// Starts a step ("[build 2/5] COPY . ."); returns its number (#N).
  virtual int Start(std::string name) = 0;
  /// A line of output of step `id` (RUN's stdout/stderr).
  virtual void Log(int id, std::string_view line) = 0;
  /// A sub-status of step `id` ("writing image sha256:... done").
  virtual void Status(int id, std::string_view text) = 0;
  /// The step's result was taken from the cache.
  virtual void Cached(int id) = 0;
  /// The step finished.
  virtual void Done(int id) = 0;
  /// The step failed with `message`.
  virtual void Error(int id, std::string_view message) = 0;
  /// Called once at the end of the build.
  virtual void Finish() {}
};

/// Picks the sink for `mode`: auto means tty when `out` is a terminal.
std::unique_ptr<ProgressSink> NewProgress(Progress mode, std::FILE* out);

/// The plain format, exposed for tests.
class PlainProgress : public ProgressSink {
 public:
  explicit PlainProgress(std::FILE* out);
  int Start(std::string name) override;
  void Log(int id, std::string_view line) override;
  void Status(int id, std::string_view text) override;
  void Cached(int id) override;
  void Done(int id) override;
  void Error(int id, std::string_view message) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Step {
    std::string name;
    Clock::time_point start;
  };
  double Elapsed(int id) const;
  void Header(int id);  // re-prints "#N name" when another step spoke last

  std::mutex mu_;
  std::FILE* out_;
  std::vector<Step> steps_;
  int last_id_ = -1;
};

/// Prints nothing.
class QuietProgress : public ProgressSink {
 public:
  int Start(std::string) override { return ++next_; }
  void Log(int, std::string_view) override {}
  void Status(int, std::string_view) override {}
  void Cached(int) override {}
  void Done(int) override {}
  void Error(int, std::string_view) override {}

 private:
  std::atomic<int> next_{0};
};

}  // namespace strata::build

#endif  // STRATA_BUILD_PROGRESS_H_
