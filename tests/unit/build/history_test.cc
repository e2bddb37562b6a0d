#include "build/history.h"

#include <gtest/gtest.h>

namespace strata::build {
namespace {

TEST(HistoryTest, GoDuration) {
  EXPECT_EQ(GoDuration(0), "0s");
  EXPECT_EQ(GoDuration(1), "1ns");
  EXPECT_EQ(GoDuration(1500), "1.5\xc2\xb5s");
  EXPECT_EQ(GoDuration(500000000), "500ms");
  EXPECT_EQ(GoDuration(1500000), "1.5ms");
  EXPECT_EQ(GoDuration(1000000000), "1s");
  EXPECT_EQ(GoDuration(1500000000), "1.5s");
  EXPECT_EQ(GoDuration(30000000000), "30s");
  EXPECT_EQ(GoDuration(90000000000), "1m30s");
  EXPECT_EQ(GoDuration(3600000000000), "1h0m0s");
  EXPECT_EQ(GoDuration(-2000000000), "-2s");
}

TEST(HistoryTest, GoQuoteRune) {
  EXPECT_EQ(GoQuoteRune(3), "'\\x03'");
  EXPECT_EQ(GoQuoteRune(0), "'\\x00'");
  EXPECT_EQ(GoQuoteRune(10), "'\\n'");
  EXPECT_EQ(GoQuoteRune('A'), "'A'");
  EXPECT_EQ(GoQuoteRune('\''), "'\\''");
  EXPECT_EQ(GoQuoteRune(0x7f), "'\\x7f'");
  EXPECT_EQ(GoQuoteRune(0xa0), "'\\u00a0'");
  EXPECT_EQ(GoQuoteRune(0xe9), "'\xc3\xa9'");
}

TEST(HistoryTest, BuildKitTexts) {
  image::HealthConfig h{{"CMD-SHELL", "curl -f http://x/ || exit 1"},
                        30000000000, 3000000000, 0, 0, 3};
  EXPECT_EQ(HealthcheckHistory(h),
            "HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f http://x/ || exit 1\"] "
            "\"30s\" \"3s\" \"0s\" \"0s\" '\\x03'}");
  EXPECT_EQ(ExposeHistory({"8000/tcp", "53/udp", "8000/tcp"}),
            "EXPOSE map[53/udp:{} 8000/tcp:{}]");
  EXPECT_EQ(GoList({"/bin/bash", "-c"}), "[/bin/bash -c]");
  EXPECT_EQ(RunCommandString({"/bin/sh", "-c", "make"}, {}, {}),
            "/bin/sh -c make");
  EXPECT_EQ(RunCommandString({"/bin/sh", "-c", "make"},
                             {{"A", "1"}, {"B", std::nullopt}, {"A", "2"}},
                             {{"A", "3"}}),
            "|2 A=3 B= /bin/sh -c make");
  image::History run = MakeHistory("RUN /bin/sh -c make", true, true);
  EXPECT_EQ(run.created_by, "RUN /bin/sh -c make # buildkit");
  EXPECT_FALSE(run.empty_layer);
  EXPECT_EQ(run.comment, kHistoryComment);
  EXPECT_TRUE(MakeHistory("ENV A=b", false, false).empty_layer);
}

}  // namespace
}  // namespace strata::build
