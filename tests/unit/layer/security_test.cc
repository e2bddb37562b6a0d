// Hostile layers: nothing may be written outside the root, whichever
// resolver (openat2 or the component walk) is in use.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "layer/apply.h"
#include "layer/root_fs.h"
#include "layer_test_util.h"
#include "support/test_support.h"

namespace strata::layer {
namespace {

namespace fs = std::filesystem;
using base::Code;
using internal::ResolveMode;
using testutil::ApplyBlob;
using testutil::GetFile;
using testutil::ListTree;
using testutil::MakeRawTar;
using testutil::PutFile;
using testutil::RawEntry;

RawEntry File(std::string name, std::string data = "pwned") {
  RawEntry e;
  e.name = std::move(name);
  e.data = std::move(data);
  return e;
}
RawEntry Link(char type, std::string name, std::string target) {
  RawEntry e;
  e.type = type;
  e.name = std::move(name);
  e.target = std::move(target);
  e.mode = 0777;
  return e;
}
RawEntry Dir(std::string name) {
  RawEntry e;
  e.type = 'd';
  e.name = std::move(name);
  e.mode = 0755;
  return e;
}

class SecurityTest : public ::testing::TestWithParam<ResolveMode> {
 protected:
  void SetUp() override {
    internal::SetResolveModeForTesting(GetParam());
    root_ = base_.path() + "/root";
    outside_ = base_.path() + "/outside";
    fs::create_directories(root_);
    PutFile(outside_ + "/secret", "secret");
    PutFile(outside_ + "/dir/keep", "keep");
    outside_before_ = ListTree(outside_);
  }
  void TearDown() override {
    internal::SetResolveModeForTesting(ResolveMode::kAuto);
    // The point of every test: the outside tree is untouched and nothing
    // new appeared next to the root.
    EXPECT_EQ(ListTree(outside_), outside_before_);
    std::vector<std::string> top;
    for (const auto& e : fs::directory_iterator(base_.path())) {
      top.push_back(e.path().filename());
    }
    std::sort(top.begin(), top.end());
    EXPECT_EQ(top, (std::vector<std::string>{"outside", "root"}));
  }

  base::Result<ApplyStats> Apply(const std::vector<RawEntry>& entries,
                                 const ApplyOptions& options = {}) {
    return ApplyBlob(MakeRawTar(entries), root_, options);
  }

  void ExpectRefused(const std::vector<RawEntry>& entries,
                     const std::string& name, Code code) {
    auto s = Apply(entries);
    ASSERT_FALSE(s) << name;
    EXPECT_EQ(s.error().code(), code) << s.error().ToString();
    EXPECT_NE(s.error().ToString().find(name), std::string::npos)
        << s.error().ToString();
  }

  testing::ScopedTempDir base_;
  std::string root_;
  std::string outside_;
  std::string outside_before_;
};

TEST_P(SecurityTest, DotDotEscapesAreRefused) {
  for (const char* name :
       {"../outside/pwn", "a/../../outside/pwn", "./../pwn", "../pwn",
        "../../../../../../../../tmp/pwn", "a/b/../../../pwn"}) {
    ExpectRefused({File(name)}, name, Code::kInvalidArgument);
    ExpectRefused({Link('l', name, "x")}, name, Code::kInvalidArgument);
    ExpectRefused({Dir(name)}, name, Code::kInvalidArgument);
  }
  // ".." that stays inside is only cleaned away.
  ASSERT_TRUE(Apply({File("a/../inside", "ok")}));
  EXPECT_EQ(GetFile(root_ + "/inside"), "ok");
}

TEST_P(SecurityTest, AbsoluteNamesLandInsideRoot) {
  std::string abs = outside_ + "/pwn";
  auto s = Apply({File(abs, "inside"), File("/etc/passwd", "x")});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(GetFile(root_ + abs), "inside");
  EXPECT_EQ(GetFile(root_ + "/etc/passwd"), "x");
}

TEST_P(SecurityTest, HardlinkTargetsMustStayInside) {
  ExpectRefused({Link('h', "h", "../outside/secret")}, "../outside/secret",
                Code::kInvalidArgument);
  ExpectRefused({Link('h', "h", "a/../../../secret")}, "a/../../../secret",
                Code::kInvalidArgument);
  // An absolute target means root-relative: the outside file is not there.
  ExpectRefused({Link('h', "h", outside_ + "/secret")}, outside_ + "/secret",
                Code::kNotFound);
  struct stat st;
  ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_P(SecurityTest, SymlinkedParentsResolveInsideRoot) {
  // Layer 1 plants the links, layer 2 writes through them.
  ASSERT_TRUE(Apply(
      {Link('l', "evil", outside_), Link('l', "rel", "../../../../../../../.."),
       Link('l', "chain", "evil"), Link('l', "etc", "/real/etc")}));
  auto s = Apply({File("evil/pwn", "1"), File("rel/pwn2", "2"),
                  File("chain/dir/pwn3", "3"), File("etc/passwd", "4"),
                  Dir("evil/newdir"), Link('l', "evil/newdir/l", "/")});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(GetFile(root_ + outside_ + "/pwn"), "1");
  EXPECT_EQ(GetFile(root_ + "/pwn2"), "2");
  EXPECT_EQ(GetFile(root_ + outside_ + "/dir/pwn3"), "3");
  EXPECT_EQ(GetFile(root_ + "/real/etc/passwd"), "4");
  EXPECT_TRUE(fs::is_directory(root_ + outside_ + "/newdir"));
}

TEST_P(SecurityTest, SymlinkInSameLayerResolvesInsideRoot) {
  auto s = Apply({Link('l', "evil", outside_), File("evil/secret", "mine")});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(GetFile(root_ + outside_ + "/secret"), "mine");
}

TEST_P(SecurityTest, WhiteoutsAndOpaqueMarkersStayInside) {
  ASSERT_TRUE(Apply({Link('l', "evil", outside_), File("inner", "i")}));
  auto s = Apply({File("evil/.wh.secret"), File("evil/.wh..wh..opq"),
                  File("evil/dir/.wh.keep"), File("evil/dir/.wh..wh..opq")});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(GetFile(root_ + "/inner"), "i");
}

TEST_P(SecurityTest, OverlayModeStaysInside) {
  ApplyOptions o;
  o.mode = ApplyMode::kOverlay;
  o.overlay_user_xattrs = true;
  o.overlay_xattr_whiteouts = !testutil::Privileged();
  auto s = Apply({Link('l', "evil", outside_), File("evil/.wh.secret"),
                  File("evil/dir/.wh..wh..opq"), File("evil/pwn")},
                 o);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_TRUE(fs::exists(fs::symlink_status(root_ + outside_ + "/secret")));
  EXPECT_EQ(testutil::GetXattrOf(outside_ + "/dir", "user.overlay.opaque"),
            "<none>");
}

TEST_P(SecurityTest, LastComponentSymlinkIsReplacedNotFollowed) {
  ASSERT_TRUE(Apply({Link('l', "file", outside_ + "/secret"),
                     Link('l', "dir", outside_ + "/dir"),
                     Link('l', "rel", "../outside/secret")}));
  auto s = Apply({File("file", "new"), Dir("dir"), File("rel", "r")});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(GetFile(root_ + "/file"), "new");
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(root_ + "/dir")));
  EXPECT_FALSE(fs::exists(root_ + "/dir/keep"));
  EXPECT_EQ(GetFile(root_ + "/rel"), "r");
}

TEST_P(SecurityTest, HardlinkToSymlinkLinksTheSymlinkItself) {
  auto s = Apply({Link('l', "s", outside_ + "/secret"), Link('h', "h", "s")});
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_TRUE(fs::is_symlink(root_ + "/h"));
  struct stat st;
  ASSERT_EQ(::stat((outside_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST_P(SecurityTest, SymlinkLoopsAreErrors) {
  auto s = Apply({Link('l', "loop1", "loop2"), Link('l', "loop2", "loop1"),
                  File("loop1/x")});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().ToString().find("loop1/x"), std::string::npos);
  // A link to its own absolute path is a loop inside the root.
  auto self = Apply({Link('l', "etc", "/etc"), File("etc/passwd")});
  ASSERT_FALSE(self);
  EXPECT_NE(self.error().ToString().find("etc/passwd"), std::string::npos);
}

TEST_P(SecurityTest, ResolverClampsAndReportsErrors) {
  fs::create_directories(root_ + "/a/b");
  PutFile(root_ + "/a/file", "f");
  fs::create_symlink("/a", root_ + "/abs");
  fs::create_symlink("../../../../a/b/../..", root_ + "/a/b/up");
  base::UniqueFd rootfd(::open(root_.c_str(), O_PATH | O_DIRECTORY));
  auto same = [&](const std::string& rel, const std::string& want) {
    auto fd = internal::OpenDirInRoot(rootfd.get(), rel);
    ASSERT_TRUE(fd) << rel << ": " << fd.error().ToString();
    struct stat got, exp;
    ASSERT_EQ(::fstat(fd->get(), &got), 0);
    ASSERT_EQ(::stat(want.c_str(), &exp), 0);
    EXPECT_EQ(got.st_ino, exp.st_ino) << rel;
  };
  same("", root_);
  same("abs/b", root_ + "/a/b");
  same("a/b/up", root_);
  same("a/b/up/a", root_ + "/a");
  auto missing = internal::OpenDirInRoot(rootfd.get(), "a/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  auto notdir = internal::OpenDirInRoot(rootfd.get(), "a/file");
  ASSERT_FALSE(notdir);
  EXPECT_EQ(notdir.error().code(), Code::kIo);
  auto made = internal::MkdirAllInRoot(rootfd.get(), "abs/new/deeper");
  ASSERT_TRUE(made) << made.error().ToString();
  EXPECT_TRUE(fs::is_directory(root_ + "/a/new/deeper"));
}

INSTANTIATE_TEST_SUITE_P(Resolvers, SecurityTest,
                         ::testing::Values(ResolveMode::kOpenat2,
                                           ResolveMode::kManual),
                         [](const auto& info) {
                           return std::string(
                               info.param == ResolveMode::kOpenat2 ? "openat2"
                                                                   : "walk");
                         });

}  // namespace
}  // namespace strata::layer
