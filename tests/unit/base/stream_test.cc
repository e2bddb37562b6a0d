#include "base/stream.h"

#include <gtest/gtest.h>

namespace strata::base {
namespace {

TEST(StreamTest, DigestingSinkHashesCountsAndForwards) {
  StringSink out;
  DigestingSink d(&out);
  ASSERT_TRUE(d.Write("ab"));
  ASSERT_TRUE(d.Write("c"));
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.Finish(), Digest::Of("abc"));
  EXPECT_EQ(out.str(), "abc");
}

TEST(StreamTest, CopyStreamMovesEverything) {
  std::string big(3 * (1 << 20) + 17, 'z');
  StringSource src(big);
  StringSink sink;
  Result<int64_t> n = CopyStream(src, sink);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, static_cast<int64_t>(big.size()));
  EXPECT_EQ(sink.str(), big);
}

TEST(StreamTest, FdSourceMissingFile) {
  Result<FdSource> src = FdSource::Open("/nonexistent/strata");
  ASSERT_FALSE(src);
  EXPECT_EQ(src.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace strata::base
