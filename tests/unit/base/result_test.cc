#include "base/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace strata::base {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return MakeError(Code::kInvalidArgument, n, " is odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  STRATA_ASSIGN_OR_RETURN(int half, Half(n));
  STRATA_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int n) {
  STRATA_TRY(Half(n));
  return OkStatus();
}

TEST(ResultTest, ValueAndError) {
  Result<int> ok = Half(4);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 2);
  Result<int> bad = Half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "3 is odd");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(ResultTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "3 is odd");
  EXPECT_TRUE(CheckEven(2));
  EXPECT_FALSE(CheckEven(1));
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ErrorTest, ToStringWithLocationAndContext) {
  Error e = MakeError(Code::kParse, "unknown instruction: RUNN");
  EXPECT_EQ(e.ToString(), "unknown instruction: RUNN");
  e.At("Dockerfile", 7);
  EXPECT_EQ(e.ToString(), "Dockerfile:7: unknown instruction: RUNN");
  e.WithContext("building app");
  EXPECT_EQ(e.ToString(),
            "building app: Dockerfile:7: unknown instruction: RUNN");
  EXPECT_FALSE(e.IsRetryable());
  e.SetRetryable();
  EXPECT_TRUE(e.IsRetryable());
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> bad = Half(1);
  EXPECT_DEATH((void)bad.value(), "");
}

}  // namespace
}  // namespace strata::base
