#include "base/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace strata::base {
namespace {

TEST(ParallelForTest, RunsEachIndexOnceOnSeveralThreads) {
  std::mutex mu;
  std::multiset<size_t> seen;
  std::set<std::thread::id> threads;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  Status s = ParallelFor(64, 3, [&](size_t i) {
    if (++running > 1) overlapped = true;
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.insert(i);
      threads.insert(std::this_thread::get_id());
    }
    // Give the other workers a chance to pick up work meanwhile.
    std::this_thread::yield();
    --running;
    return OkStatus();
  });
  ASSERT_TRUE(s);
  ASSERT_EQ(seen.size(), 64u);
  for (size_t i = 0; i < 64; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
  EXPECT_LE(threads.size(), 3u);
}

TEST(ParallelForTest, OneWorkerRunsInOrderOnTheCallersThread) {
  std::vector<size_t> order;
  std::thread::id caller = std::this_thread::get_id();
  ASSERT_TRUE(ParallelFor(5, 1, [&](size_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    order.push_back(i);
    return OkStatus();
  }));
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
}

TEST(ParallelForTest, FirstErrorStopsNewWorkAndIsReturned) {
  std::atomic<size_t> started{0};
  Status s = ParallelFor(1000, 1, [&](size_t i) -> Status {
    ++started;
    if (i == 3) return MakeError(Code::kIo, "blob ", i, " failed");
    return OkStatus();
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "blob 3 failed");
  EXPECT_EQ(started.load(), 4u);
}

TEST(ParallelForTest, NothingToDo) {
  EXPECT_TRUE(ParallelFor(0, 3, [](size_t) -> Status {
    ADD_FAILURE() << "called";
    return OkStatus();
  }));
}

}  // namespace
}  // namespace strata::base
