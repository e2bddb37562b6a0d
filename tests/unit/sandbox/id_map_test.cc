#include "sandbox/id_map.h"

#include <gtest/gtest.h>

namespace strata::sandbox {
namespace {

TEST(FindSubIds, MatchesTheUserByNameOrId) {
  const char text[] = "alice:100000:65536\nbob:165536:65536\n1003:231072:1000\n";
  auto bob = FindSubIds(text, "bob", 1002);
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->start, 165536u);
  EXPECT_EQ(bob->count, 65536u);
  auto by_id = FindSubIds(text, "carol", 1003);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->start, 231072u);
  EXPECT_EQ(by_id->count, 1000u);
  EXPECT_FALSE(FindSubIds(text, "dave", 1004));
}

TEST(FindSubIds, TakesTheFirstValidRangeAndSkipsBrokenLines) {
  const char text[] =
      "# comment\nbob:x:65536\nbob:10:\nbob:10:0\nbob:4294967000:65536\n"
      "bob:200000:500\nbob:300000:65536\n";
  auto bob = FindSubIds(text, "bob", 1);
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->start, 200000u);
  EXPECT_EQ(bob->count, 500u);
  EXPECT_FALSE(FindSubIds("", "bob", 1));
  EXPECT_FALSE(FindSubIds("bobby:1:2\n", "bob", 1));
}

}  // namespace
}  // namespace strata::sandbox
