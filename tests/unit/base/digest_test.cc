#include "base/digest.h"

#include <gtest/gtest.h>

namespace strata::base {
namespace {

constexpr char kEmpty[] =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(Digest::Of("").ToString(), kEmpty);
  EXPECT_EQ(Digest::Of("abc").ToString(), kAbc);
}

TEST(DigestTest, StreamingEqualsOneShot) {
  Sha256 h;
  h.Update("a");
  h.Update("");
  h.Update("bc");
  EXPECT_EQ(h.Finish().ToString(), kAbc);
  // Finish resets the hasher.
  EXPECT_EQ(h.Finish().ToString(), kEmpty);
}

TEST(DigestTest, ParseRoundTripAndErrors) {
  Result<Digest> d = Digest::Parse(kAbc);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ToString(), kAbc);
  EXPECT_EQ(*d, Digest::Of("abc"));
  EXPECT_FALSE(Digest::Parse("sha512:abc"));
  EXPECT_FALSE(Digest::Parse("sha256:abc"));
  EXPECT_FALSE(Digest::Parse(std::string("sha256:") + std::string(64, 'G')));
  EXPECT_FALSE(Digest::Parse(std::string("sha256:") + std::string(64, 'A')));
  EXPECT_TRUE(Digest().empty());
  EXPECT_EQ(Digest().ToString(), "");
}

}  // namespace
}  // namespace strata::base
