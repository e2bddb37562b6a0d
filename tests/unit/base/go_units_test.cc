#include "base/go_units.h"

#include <gtest/gtest.h>

namespace strata::base {
namespace {

// Expected values are what go-units prints for the same inputs.
TEST(HumanSizeTest, DecimalUnitsWithThreeSignificantDigits) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(512), "512B");
  EXPECT_EQ(HumanSize(1000), "1kB");
  EXPECT_EQ(HumanSize(1234567), "1.23MB");
  EXPECT_EQ(HumanSize(44'000'000), "44MB");
  EXPECT_EQ(HumanSize(5'500'000'000LL), "5.5GB");
  EXPECT_EQ(HumanSize(1234567, 4), "1.235MB");
}

TEST(HumanDurationTest, DockerAges) {
  EXPECT_EQ(HumanDuration(0), "Less than a second");
  EXPECT_EQ(HumanDuration(1), "1 second");
  EXPECT_EQ(HumanDuration(45), "45 seconds");
  EXPECT_EQ(HumanDuration(90), "About a minute");
  EXPECT_EQ(HumanDuration(600), "10 minutes");
  EXPECT_EQ(HumanDuration(3600), "About an hour");
  EXPECT_EQ(HumanDuration(5 * 3600), "5 hours");
  EXPECT_EQ(HumanDuration(3 * 86400), "3 days");
}

}  // namespace
}  // namespace strata::base
