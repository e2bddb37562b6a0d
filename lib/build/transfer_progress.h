// Shows registry transfers as `docker push` and `docker pull` do: on a
// terminal, one row per blob redrawn in place with the bytes moved and the
// rate ("3f2a1b2c4d5e: Pushing 12.3MB/45.6MB 5.1MB/s"), each row replaced
// by its final line when the blob is done; elsewhere only the final lines,
// one per blob, so logs stay readable.
#ifndef STRATA_BUILD_TRANSFER_PROGRESS_H_
#define STRATA_BUILD_TRANSFER_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "build/registry_access.h"

namespace strata::build {

class TransferDisplay {
 public:
  /// `live`: redraw rows in place (a terminal).
  TransferDisplay(std::FILE* out, bool live) : out_(out), live_(live) {}

  /// Takes one update; safe from several threads (blobs move in parallel).
  void Update(const TransferUpdate& update);
  RegistryProgress Callback() {
    return [this](const TransferUpdate& u) { Update(u); };
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Row {
    std::string id;
    std::string text;  // the final line once finished
    std::string action;
    int64_t done = 0;
    int64_t total = 0;
    Clock::time_point start;
    bool finished = false;
  };
  Row& RowFor(const std::string& id);
  void Redraw();

  std::mutex mu_;
  std::FILE* out_;
  bool live_;
  std::vector<Row> rows_;
  int drawn_ = 0;  // rows on screen below which the cursor sits
  Clock::time_point last_draw_{};
};

}  // namespace strata::build

#endif  // STRATA_BUILD_TRANSFER_PROGRESS_H_
