#include "base/base64.h"

#include <gtest/gtest.h>

namespace strata::base {
namespace {

TEST(Base64, EncodesWithPaddingAsRfc4648) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("user:pa:ss"), "dXNlcjpwYTpzcw==");
}

TEST(Base64, DecodesWithOrWithoutPaddingAndRejectsJunk) {
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(Base64Decode("Zm9vYg"), "foob");
  EXPECT_EQ(Base64Decode("dXNlcjpwYTpzcw=="), "user:pa:ss");
  EXPECT_FALSE(Base64Decode("Zm9v!"));
  EXPECT_FALSE(Base64Decode("Z"));
}

}  // namespace
}  // namespace strata::base
