#include "layer/apply.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "layer_test_util.h"
#include "support/test_support.h"

namespace strata::layer {
namespace {

using base::Code;
using base::Digest;
using testutil::ApplyBlob;
using testutil::GetFile;
using testutil::GetXattrOf;
using testutil::ListTree;
using testutil::MakeRawTar;
using testutil::Privileged;
using testutil::PutFile;
using testutil::RawEntry;
using testutil::RunCmd;

RawEntry F(std::string name, std::string data = "", int mode = 0644) {
  RawEntry e;
  e.name = std::move(name);
  e.data = std::move(data);
  e.mode = mode;
  return e;
}
RawEntry D(std::string name, int mode = 0755) {
  RawEntry e;
  e.type = 'd';
  e.name = std::move(name);
  e.mode = mode;
  return e;
}

ApplyOptions Overlay() {
  ApplyOptions o;
  o.mode = ApplyMode::kOverlay;
  return o;
}

// Applies raw layers in order and returns the tree listing (no mtimes).
std::string ApplyAll(const std::string& root,
                     const std::vector<std::vector<RawEntry>>& layers,
                     const ApplyOptions& options = {}) {
  for (const auto& layer : layers) {
    auto s = ApplyBlob(MakeRawTar(layer), root, options);
    EXPECT_TRUE(s) << s.error().ToString();
  }
  return ListTree(root, /*with_mtime=*/false);
}

std::string H(const std::string& data) {
  return Digest::Of(data).hex().substr(0, 12);
}

TEST(ApplyTest, WhiteoutsRemoveLowerEntries) {
  testing::ScopedTempDir root;
  std::string tree =
      ApplyAll(root.path(), {{D("a"), F("a/x", "x"), F("a/y", "y"), D("a/sub"),
                              D("a/sub/deep"), F("a/sub/deep/f", "f")},
                             {F("a/.wh.x"), F("a/.wh.sub"),
                              F("a/.wh.never-existed"), F("missing/.wh.z")}});
  EXPECT_EQ(tree,
            "a d 755 0:0\n"
            "a/y f 644 0:0 size=1 nlink=1 " +
                H("y") + "\n");
}

TEST(ApplyTest, WhiteoutNeverHidesThisLayersEntry) {
  testing::ScopedTempDir root;
  std::string tree = ApplyAll(
      root.path(),
      {{D("a"), F("a/x", "old")}, {D("a"), F("a/x", "new"), F("a/.wh.x")}});
  EXPECT_EQ(tree,
            "a d 755 0:0\n"
            "a/x f 644 0:0 size=3 nlink=1 " +
                H("new") + "\n");
}

std::vector<RawEntry> OpaqueLower() {
  return {D("d"),          F("d/old"),  D("d/olddir"),
          F("d/olddir/f"), D("d/keep"), F("d/keep/lowerfile"),
          F("other", "o")};
}

TEST(ApplyTest, OpaqueMarkerFirstHidesAllLowerEntries) {
  testing::ScopedTempDir root;
  std::string tree =
      ApplyAll(root.path(), {OpaqueLower(),
                             {D("d"), F("d/-early", "e"), F("d/.wh..wh..opq"),
                              D("d/keep"), F("d/keep/new", "n")}});
  EXPECT_EQ(tree,
            "d d 755 0:0\n"
            "d/-early f 644 0:0 size=1 nlink=1 " +
                H("e") +
                "\n"
                "d/keep d 755 0:0\n"
                "d/keep/new f 644 0:0 size=1 nlink=1 " +
                H("n") +
                "\n"
                "other f 644 0:0 size=1 nlink=1 " +
                H("o") + "\n");
}

TEST(ApplyTest, OpaqueMarkerLastKeepsThisLayersEntries) {
  testing::ScopedTempDir root;
  std::string tree =
      ApplyAll(root.path(), {OpaqueLower(),
                             {D("d"), D("d/keep"), F("d/keep/new", "n"),
                              F("d/zz", "z"), F("d/.wh..wh..opq")}});
  // d/keep was unpacked by this layer: kept, but its lower content goes.
  EXPECT_EQ(tree,
            "d d 755 0:0\n"
            "d/keep d 755 0:0\n"
            "d/keep/new f 644 0:0 size=1 nlink=1 " +
                H("n") +
                "\n"
                "d/zz f 644 0:0 size=1 nlink=1 " +
                H("z") +
                "\n"
                "other f 644 0:0 size=1 nlink=1 " +
                H("o") + "\n");
}

TEST(ApplyTest, ReplacesExistingPathsButMergesDirectories) {
  testing::ScopedTempDir root;
  std::string tree = ApplyAll(
      root.path(), {{F("p", "file"), D("q"), F("q/child"), D("r"),
                     F("r/child", "c"), F("s", "target")},
                    {D("p", 0700), F("q", "now a file"), D("r", 0750), [] {
                       RawEntry l;
                       l.type = 'l';
                       l.name = "s";
                       l.target = "p";
                       return l;
                     }()}});
  EXPECT_EQ(tree,
            "p d 700 0:0\n"
            "q f 644 0:0 size=10 nlink=1 " +
                H("now a file") +
                "\n"
                "r d 750 0:0\n"
                "r/child f 644 0:0 size=1 nlink=1 " +
                H("c") +
                "\n"
                "s l 777 0:0 -> p\n");
}

TEST(ApplyTest, HardlinkToLowerLayerFile) {
  testing::ScopedTempDir root;
  RawEntry link;
  link.type = 'h';
  link.name = "b";
  link.target = "/a";  // absolute targets are cleaned like names
  std::string tree = ApplyAll(root.path(), {{F("a", "data")}, {link}});
  EXPECT_EQ(tree, "a f 644 0:0 size=4 nlink=2 " + H("data") +
                      "\n"
                      "b f 644 0:0 size=4 nlink=2 " +
                      H("data") + "\n");
}

TEST(ApplyTest, DirectoryModesAndTimesSetAfterContents) {
  testing::ScopedTempDir root;
  RawEntry d = D("ro", 0555);
  d.mtime = 4242;
  RawEntry f = F("ro/f", "x");
  f.mtime = 77;
  auto s = ApplyBlob(MakeRawTar({d, f, D("ro/sub", 0500)}), root.path());
  ASSERT_TRUE(s) << s.error().ToString();
  struct stat st;
  ASSERT_EQ(::lstat((root.path() + "/ro").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(st.st_mtim.tv_sec, 4242);
  ASSERT_EQ(::lstat((root.path() + "/ro/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 77);
  ::chmod((root.path() + "/ro").c_str(), 0755);  // let cleanup in
}

TEST(ApplyTest, OwnershipCanBeIgnored) {
  testing::ScopedTempDir root;
  RawEntry f = F("f", "x");
  f.uid = 1234;
  f.gid = 4321;
  ApplyOptions o;
  o.ownership = Ownership::kIgnore;
  ASSERT_TRUE(ApplyBlob(MakeRawTar({f}), root.path(), o));
  struct stat st;
  ASSERT_EQ(::lstat((root.path() + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  if (::geteuid() == 0) {
    testing::ScopedTempDir kept;
    ASSERT_TRUE(ApplyBlob(MakeRawTar({f}), kept.path()));
    ASSERT_EQ(::lstat((kept.path() + "/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 4321u);
  }
}

TEST(ApplyTest, DotSlashRootAndAbsoluteNames) {
  testing::ScopedTempDir root;
  std::string tree =
      ApplyAll(root.path(), {{D("./"), D("./a/"), F("./a/f", "f"),
                              F("/abs", "b"), F("a//./g", "g")}});
  EXPECT_EQ(tree,
            "a d 755 0:0\n"
            "a/f f 644 0:0 size=1 nlink=1 " +
                H("f") +
                "\n"
                "a/g f 644 0:0 size=1 nlink=1 " +
                H("g") +
                "\n"
                "abs f 644 0:0 size=1 nlink=1 " +
                H("b") + "\n");
}

TEST(ApplyTest, AufsMetadataIsSkipped) {
  testing::ScopedTempDir root;
  std::string tree =
      ApplyAll(root.path(), {{D(".wh..wh.plnk"), F(".wh..wh.plnk/123.45", "p"),
                              F(".wh..wh.aufs"), F("real", "r")}});
  EXPECT_EQ(tree, "real f 644 0:0 size=1 nlink=1 " + H("r") + "\n");
}

TEST(ApplyTest, InvalidWhiteoutNames) {
  for (const char* name : {".wh.", "a/.wh..", "a/.wh..."}) {
    testing::ScopedTempDir root;
    auto s = ApplyBlob(MakeRawTar({F(name)}), root.path());
    ASSERT_FALSE(s) << name;
    EXPECT_EQ(s.error().code(), Code::kInvalidArgument) << name;
  }
}

TEST(ApplyTest, OverlayModeMakesWhiteoutDevicesAndOpaqueXattrs) {
  if (!Privileged()) GTEST_SKIP() << "needs CAP_MKNOD and trusted.* xattrs";
  testing::ScopedTempDir root;
  RawEntry wh = F("a/.wh.gone");
  wh.uid = 5;
  wh.gid = 6;
  auto s = ApplyBlob(MakeRawTar({D("a"), F("a/.wh..wh..opq"), wh, F(".wh.top"),
                                 F("a/kept", "k")}),
                     root.path(), Overlay());
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(ListTree(root.path(), false),
            "a d 755 0:0\n"
            "a/gone c 0 5:6 dev=0,0\n"
            "a/kept f 644 0:0 size=1 nlink=1 " +
                H("k") +
                "\n"
                "top c 0 0:0 dev=0,0\n");
  EXPECT_EQ(GetXattrOf(root.path() + "/a", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(s->xattr_whiteouts, 0);

  testing::ScopedTempDir user;
  ApplyOptions o = Overlay();
  o.overlay_user_xattrs = true;
  ASSERT_TRUE(
      ApplyBlob(MakeRawTar({D("a"), F("a/.wh..wh..opq")}), user.path(), o));
  EXPECT_EQ(GetXattrOf(user.path() + "/a", "user.overlay.opaque"), "y");
  EXPECT_EQ(GetXattrOf(user.path() + "/a", "trusted.overlay.opaque"), "<none>");
}

TEST(ApplyTest, OverlayXattrFormWhiteouts) {
  testing::ScopedTempDir root;
  ApplyOptions o = Overlay();
  o.overlay_xattr_whiteouts = true;
  o.overlay_user_xattrs = true;  // user.* works without privilege
  auto s = ApplyBlob(MakeRawTar({D("a"), F("a/.wh.gone"), D("b"),
                                 F("b/.wh..wh..opq"), F("b/.wh.x")}),
                     root.path(), o);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->xattr_whiteouts, 2);
  struct stat st;
  ASSERT_EQ(::lstat((root.path() + "/a/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(GetXattrOf(root.path() + "/a/gone", "user.overlay.whiteout"), "y");
  EXPECT_EQ(GetXattrOf(root.path() + "/a", "user.overlay.opaque"), "x");
  // An opaque directory stays "y": it hides the lower entries anyway.
  EXPECT_EQ(GetXattrOf(root.path() + "/b", "user.overlay.opaque"), "y");
}

// OCI: ".wh.d" in a layer that also has "d/" hides the lower d but keeps
// the layer's own, in either order: an opaque directory in overlay mode.
TEST(ApplyTest, OverlayWhiteoutAndDirectoryMakeAnOpaqueDirectory) {
  ApplyOptions o = Overlay();
  o.overlay_xattr_whiteouts = true;
  o.overlay_user_xattrs = true;
  for (bool whiteout_first : {true, false}) {
    SCOPED_TRACE(whiteout_first ? "whiteout first" : "directory first");
    testing::ScopedTempDir root;
    std::vector<RawEntry> layer = {D("d", 0750), F("d/new", "n")};
    layer.insert(whiteout_first ? layer.begin() : layer.end(), F(".wh.d"));
    layer.push_back(F("keep/.wh.x"));
    auto s = ApplyBlob(MakeRawTar(layer), root.path(), o);
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_EQ(ListTree(root.path(), false),
              "d d 750 0:0\n"
              "d/new f 644 0:0 size=1 nlink=1 " +
                  H("n") +
                  "\n"
                  "keep d 755 0:0\n"
                  "keep/x f 0 0:0 size=0 nlink=1 " +
                  H("") + "\n");
    EXPECT_EQ(GetXattrOf(root.path() + "/d", "user.overlay.opaque"), "y");
    EXPECT_EQ(GetXattrOf(root.path() + "/keep", "user.overlay.opaque"), "x");
  }
}

TEST(ApplyTest, OverlayRootOpaqueNeedsLowerDirs) {
  for (const char* marker : {".wh..wh..opq", "./.wh..wh..opq"}) {
    testing::ScopedTempDir root;
    auto s =
        ApplyBlob(MakeRawTar({F("a", "a"), F(marker)}), root.path(), Overlay());
    ASSERT_FALSE(s) << marker;
    EXPECT_EQ(s.error().code(), Code::kUnsupported) << marker;
    EXPECT_NE(s.error().ToString().find(
                  "opaque marker at the layer root (.wh..wh..opq)"),
              std::string::npos)
        << s.error().ToString();
  }
  // Below the root, or with the lower dirs known (none: the first layer),
  // it is fine.
  testing::ScopedTempDir root;
  ApplyOptions o = Overlay();
  o.overlay_user_xattrs = true;
  ASSERT_TRUE(ApplyBlob(MakeRawTar({F("a/.wh..wh..opq")}), root.path(), o));
  o.lower_dirs.emplace();
  auto s =
      ApplyBlob(MakeRawTar({F(".wh..wh..opq"), F("b", "b")}), root.path(), o);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(GetXattrOf(root.path(), "user.overlay.opaque"), "<none>");
}

// Overlay mode: a whiteout of every name the lowers show, except for what
// the layer writes; a directory it writes is made opaque.
TEST(ApplyTest, OverlayRootOpaqueWhitesOutTheLowerNames) {
  testing::ScopedTempDir lower0, lower1, root;
  ApplyOptions o = Overlay();
  o.overlay_xattr_whiteouts = true;
  o.overlay_user_xattrs = true;
  ASSERT_TRUE(
      ApplyBlob(MakeRawTar({D("a"), F("a/x"), F("b"), F("c"), F("gone")}),
                lower0.path(), o));
  ASSERT_TRUE(ApplyBlob(MakeRawTar({F(".wh.gone"), F("d")}), lower1.path(), o));
  o.lower_dirs = {lower0.path(), lower1.path()};
  RawEntry marker = F(".wh..wh..opq");
  marker.uid = 3;
  marker.gid = 4;
  auto s = ApplyBlob(
      MakeRawTar({D("a", 0700), marker, F("c", "new"), F(".wh.d"), F("e")}),
      root.path(), o);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->xattr_whiteouts, 2);  // .wh.d and b
  EXPECT_TRUE(s->depends_on_lower_dirs);
  EXPECT_EQ(ListTree(root.path(), false),
            "a d 700 0:0\n"
            "b f 0 3:4 size=0 nlink=1 " +
                H("") +
                "\n"
                "c f 644 0:0 size=3 nlink=1 " +
                H("new") +
                "\n"
                "d f 0 0:0 size=0 nlink=1 " +
                H("") +
                "\n"
                "e f 644 0:0 size=0 nlink=1 " +
                H("") + "\n");
  EXPECT_EQ(GetXattrOf(root.path() + "/a", "user.overlay.opaque"), "y");
  EXPECT_EQ(GetXattrOf(root.path() + "/b", "user.overlay.whiteout"), "y");
  EXPECT_EQ(GetXattrOf(root.path(), "user.overlay.opaque"), "x");
}

TEST(ApplyTest, OverlayXattrsFromTheLayerAreNeverApplied) {
  testing::ScopedTempDir root;
  RawEntry d = D("d");
  d.xattrs = {{"trusted.overlay.redirect", "/etc"},
              {"user.overlay.opaque", "y"},
              {"user.test", "ok"}};
  auto s = ApplyBlob(MakeRawTar({d}), root.path());
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(GetXattrOf(root.path() + "/d", "trusted.overlay.redirect"),
            "<none>");
  EXPECT_EQ(GetXattrOf(root.path() + "/d", "user.overlay.opaque"), "<none>");
  EXPECT_EQ(GetXattrOf(root.path() + "/d", "user.test"), "ok");
  EXPECT_EQ(s->warnings, 2);
}

TEST(ApplyTest, DiffIdCoversWholeStreamAndIsChecked) {
  testing::ScopedTempDir src;
  PutFile(src.path() + "/f", "content");
  // GNU tar pads the archive to 10 KiB records: diffID covers the padding.
  std::string tar = RunCmd("tar --numeric-owner -C " + src.path() + " -cf - f");
  ASSERT_EQ(tar.size(), 10240u);
  testing::ScopedTempDir root;
  ApplyOptions o;
  o.expected_diff_id = Digest::Of(tar);
  auto s = ApplyBlob(tar, root.path(), o);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->diff_id, Digest::Of(tar));
  EXPECT_EQ(s->uncompressed_size, 10240);
  EXPECT_EQ(s->entries, 1);
  o.expected_diff_id = Digest::Of("other");
  testing::ScopedTempDir root2;
  auto bad = ApplyBlob(tar, root2.path(), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Code::kDigestMismatch);
}

TEST(ApplyTest, CompressedArchivesMadeByTools) {
  testing::ScopedTempDir src;
  PutFile(src.path() + "/dir/file", "payload");
  struct Case {
    const char* flag;
    Compression want;
  };
  for (Case c :
       {Case{"-z", Compression::kGzip}, Case{"-j", Compression::kBzip2},
        Case{"-J", Compression::kXz}, Case{"--zstd", Compression::kZstd}}) {
    SCOPED_TRACE(c.flag);
    std::string blob = RunCmd(std::string("tar ") + c.flag + " -C " +
                              src.path() + " -cf - dir");
    testing::ScopedTempDir root;
    auto s = ApplyBlob(blob, root.path());
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_EQ(s->compression, c.want);
    EXPECT_EQ(GetFile(root.path() + "/dir/file"), "payload");
  }
}

TEST(ApplyTest, GarbageAndTruncatedInputFail) {
  testing::ScopedTempDir root;
  auto garbage = ApplyBlob(std::string(4096, 'x'), root.path());
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), Code::kParse);
  std::string tar = MakeRawTar({F("f", std::string(5000, 'a'))});
  auto cut = ApplyBlob(tar.substr(0, 2000), root.path());
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code(), Code::kParse);
  auto missing = ApplyBlob(tar, root.path() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

TEST(ApplyTest, DevicesAndFifos) {
  testing::ScopedTempDir root;
  RawEntry fifo;
  fifo.type = 'p';
  fifo.name = "fifo";
  fifo.mode = 0620;
  auto s = ApplyBlob(MakeRawTar({fifo}), root.path());
  ASSERT_TRUE(s) << s.error().ToString();
  struct stat st;
  ASSERT_EQ(::lstat((root.path() + "/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
}

}  // namespace
}  // namespace strata::layer
