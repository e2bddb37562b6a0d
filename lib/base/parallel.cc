#include "base/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace strata::base {

Status ParallelFor(size_t count, size_t workers,
                   const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error = OkStatus();
  auto work = [&] {
    for (size_t i; (i = next++) < count;) {
      Status s = fn(i);
      if (!s) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error) first_error = std::move(s);
        next = count;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(workers, count); ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return first_error;
}

}  // namespace strata::base
