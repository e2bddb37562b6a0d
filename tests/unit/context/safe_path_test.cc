#include "context/safe_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/test_support.h"

namespace strata::context {
namespace {

TEST(SafePathTest, CleanPathLikeGo) {
  // From Go's path/filepath cleantests.
  const std::pair<const char*, const char*> kCases[] = {
      {"abc", "abc"},
      {"abc/def", "abc/def"},
      {"a/b/c", "a/b/c"},
      {".", "."},
      {"..", ".."},
      {"../..", "../.."},
      {"../../abc", "../../abc"},
      {"/abc", "/abc"},
      {"/", "/"},
      {"", "."},
      {"abc/", "abc"},
      {"abc/def/", "abc/def"},
      {"a/b/c/", "a/b/c"},
      {"./", "."},
      {"../", ".."},
      {"../../", "../.."},
      {"/abc/", "/abc"},
      {"abc//def//ghi", "abc/def/ghi"},
      {"//abc", "/abc"},
      {"///abc", "/abc"},
      {"//abc//", "/abc"},
      {"abc//", "abc"},
      {"abc/./def", "abc/def"},
      {"/./abc/def", "/abc/def"},
      {"abc/.", "abc"},
      {"abc/def/ghi/../jkl", "abc/def/jkl"},
      {"abc/def/../ghi/../jkl", "abc/jkl"},
      {"abc/def/..", "abc"},
      {"abc/def/../..", "."},
      {"/abc/def/../..", "/"},
      {"abc/def/../../..", ".."},
      {"/abc/def/../../..", "/"},
      {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
      {"/../abc", "/abc"},
      {"abc/./../def", "def"},
      {"abc//./../def", "def"},
      {"abc/../../././../def", "../../def"},
  };
  for (const auto& [in, want] : kCases) EXPECT_EQ(CleanPath(in), want) << in;
}

TEST(SafePathTest, DirNameLikeGo) {
  EXPECT_EQ(DirName(""), ".");
  EXPECT_EQ(DirName("a"), ".");
  EXPECT_EQ(DirName("a/b"), "a");
  EXPECT_EQ(DirName("a/b/"), "a/b");
  EXPECT_EQ(DirName("/"), "/");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(DirName("a//b"), "a");
  EXPECT_EQ(DirName("file/"), "file");
}

TEST(SafePathTest, CleanBeneathRejectsEscapes) {
  EXPECT_FALSE(CleanBeneath(".."));
  EXPECT_FALSE(CleanBeneath("../x"));
  EXPECT_FALSE(CleanBeneath("a/../../b"));
  EXPECT_FALSE(CleanBeneath("./../.."));
  base::Result<std::string> err = CleanBeneath("a/../../b");
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code(), base::Code::kInvalidArgument);
  EXPECT_EQ(err.error().message(), "path \"a/../../b\" escapes the root");
}

TEST(SafePathTest, CleanBeneathKeepsInsidePaths) {
  EXPECT_EQ(*CleanBeneath("a/../b"), "b");
  EXPECT_EQ(*CleanBeneath("a/b/.."), "a");
  EXPECT_EQ(*CleanBeneath("./a//b/"), "a/b");
  EXPECT_EQ(*CleanBeneath(""), ".");
  EXPECT_EQ(*CleanBeneath("a/.."), ".");
  // Absolute paths are taken relative to the root; a rooted ".." stops at
  // the root, as in Go's Clean.
  EXPECT_EQ(*CleanBeneath("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(*CleanBeneath("/"), ".");
  EXPECT_EQ(*CleanBeneath("/../x"), "x");
  // "..." is a name, not a parent reference.
  EXPECT_EQ(*CleanBeneath(".../x"), ".../x");
}

TEST(SafePathTest, JoinBeneath) {
  EXPECT_EQ(*JoinBeneath("/ctx", "a/b"), "/ctx/a/b");
  EXPECT_EQ(*JoinBeneath("/ctx/", "/a"), "/ctx/a");
  EXPECT_EQ(*JoinBeneath("/ctx", "."), "/ctx");
  EXPECT_EQ(*JoinBeneath("/", "a"), "/a");
  EXPECT_EQ(*JoinBeneath("rel", "x/../y"), "rel/y");
  EXPECT_FALSE(JoinBeneath("/ctx", "../etc/passwd"));
  EXPECT_FALSE(JoinBeneath("/ctx", "a/../../b"));
}

TEST(SafePathTest, ScopedCleanClampsAtRoot) {
  EXPECT_EQ(ScopedClean("../x"), "x");
  EXPECT_EQ(ScopedClean("a/../../b"), "b");
  EXPECT_EQ(ScopedClean(".."), ".");
  EXPECT_EQ(ScopedClean("/"), ".");
  EXPECT_EQ(ScopedClean("/a/./b/"), "a/b");
}

class ResolveInRootTest : public ::testing::Test {
 protected:
  void Symlink(const std::string& target, const std::string& rel) {
    ASSERT_EQ(::symlink(target.c_str(), (dir_.path() + "/" + rel).c_str()), 0)
        << rel;
  }
  std::string Resolve(const std::string& rel) {
    base::Result<std::string> r = ResolveInRoot(dir_.path(), rel);
    return r ? *r : "error: " + r.error().message();
  }
  strata::testing::ScopedTempDir dir_;
};

TEST_F(ResolveInRootTest, PlainPaths) {
  dir_.WriteFile("a/b/file", "x");
  EXPECT_EQ(Resolve("a/b/file"), "a/b/file");
  EXPECT_EQ(Resolve("/a/./b/../b/file"), "a/b/file");
  EXPECT_EQ(Resolve(""), ".");
  EXPECT_EQ(Resolve("../../.."), ".");
  // Missing components are kept as written.
  EXPECT_EQ(Resolve("a/missing/../x/y"), "a/x/y");
}

TEST_F(ResolveInRootTest, SymlinksStayInsideTheRoot) {
  dir_.WriteFile("real/file", "x");
  Symlink("real", "rel");
  Symlink("/real", "abs");
  Symlink("../../../real", "up");
  Symlink("/etc/passwd", "outside");
  Symlink("rel/file", "chain");
  std::filesystem::create_directories(dir_.path() + "/sub");
  Symlink("../real", "sub/back");
  EXPECT_EQ(Resolve("rel/file"), "real/file");
  EXPECT_EQ(Resolve("abs/file"), "real/file");
  EXPECT_EQ(Resolve("up/file"), "real/file");
  EXPECT_EQ(Resolve("outside"), "etc/passwd");
  EXPECT_EQ(Resolve("chain"), "real/file");
  EXPECT_EQ(Resolve("sub/back/file"), "real/file");
  EXPECT_EQ(Resolve("rel/../rel/file"), "real/file");
}

TEST_F(ResolveInRootTest, LoopIsAnError) {
  Symlink("loop", "loop");
  Symlink("pong", "ping");
  Symlink("ping", "pong");
  EXPECT_EQ(Resolve("loop").substr(0, 6), "error:");
  EXPECT_NE(Resolve("ping/x").find("too many links"), std::string::npos);
}

}  // namespace
}  // namespace strata::context
