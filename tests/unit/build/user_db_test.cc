#include "build/user_db.h"

#include <gtest/gtest.h>

namespace strata::build {
namespace {

const char kPasswd[] =
    "root:x:0:0:root:/root:/bin/bash\n"
    "# comment\n"
    "broken line\n"
    "app:x:1000:1001::/home/app:/bin/sh\n"
    "bad:x:notanumber:1:::\n";
const char kGroup[] = "root:x:0:\nwheel:x:10:root,app\nstaff:x:50:\n";

TEST(UserDbTest, Parses) {
  std::vector<PasswdEntry> users = ParsePasswd(kPasswd);
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[1].name, "app");
  EXPECT_EQ(users[1].uid, 1000u);
  EXPECT_EQ(users[1].gid, 1001u);
  EXPECT_EQ(users[1].home, "/home/app");
  std::vector<GroupEntry> groups = ParseGroup(kGroup);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[1].members, (std::vector<std::string>{"root", "app"}));
}

TEST(UserDbTest, ResolveChown) {
  std::optional<std::string> p = kPasswd, g = kGroup;
  EXPECT_EQ(*ResolveChown("1000", p, g), (Owner{1000, 1000}));
  EXPECT_EQ(*ResolveChown("10:11", std::nullopt, std::nullopt),
            (Owner{10, 11}));
  EXPECT_EQ(*ResolveChown("app", p, g), (Owner{1000, 1001}));
  EXPECT_EQ(*ResolveChown("app:staff", p, g), (Owner{1000, 50}));
  EXPECT_EQ(*ResolveChown("app:", p, g), (Owner{1000, 1001}));
  EXPECT_EQ(*ResolveChown("7:wheel", p, g), (Owner{7, 10}));
  auto missing = ResolveChown("nobody", p, g);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            "unable to find user nobody: no matching entries in passwd file");
  auto no_file = ResolveChown("app", std::nullopt, std::nullopt);
  ASSERT_FALSE(no_file);
  EXPECT_EQ(no_file.error().message(),
            "unable to find user app: the image has no /etc/passwd");
  EXPECT_FALSE(ResolveChown("app:nogroup", p, g));
  EXPECT_FALSE(ResolveChown(":staff", p, g));
  EXPECT_TRUE(ChownNeedsLookup("app"));
  EXPECT_TRUE(ChownNeedsLookup("1:staff"));
  EXPECT_FALSE(ChownNeedsLookup("1:2"));
  EXPECT_FALSE(ChownNeedsLookup("0"));
}

}  // namespace
}  // namespace strata::build
