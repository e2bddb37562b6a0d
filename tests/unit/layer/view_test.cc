// LayeredView over layer stacks built by hand on disk: each merge rule,
// both whiteout forms, symlink resolution, Open containment and Walk.
#include "layer/view.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "layer_test_util.h"
#include "support/test_support.h"

namespace strata::layer {
namespace {

namespace fs = std::filesystem;
using base::Code;
using testutil::Privileged;

#define REQUIRE_PRIVILEGE()                                   \
  do {                                                        \
    if (!Privileged()) GTEST_SKIP() << "needs mknod/trusted"; \
  } while (0)

std::string Err(const base::Error& e) {
  return base::StrCat("ERROR ", base::CodeName(e.code()), ": ", e.ToString());
}

std::string Describe(const std::string& path, const ViewStat& st) {
  std::string out = base::StrCat(path, " ", EntryTypeName(st.type), " ");
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%o", st.mode);
  // Files the test makes belong to whoever runs it: shown as 0:0, so the
  // expectations hold with and without root.
  int64_t uid = st.uid == ::geteuid() ? 0 : st.uid;
  int64_t gid = st.gid == ::getegid() ? 0 : st.gid;
  base::StrAppend(out, mode, " ", uid, ":", gid);
  if (st.type == EntryType::kRegular) base::StrAppend(out, " size=", st.size);
  if (st.type == EntryType::kSymlink)
    base::StrAppend(out, " -> ", st.link_target);
  if (st.type == EntryType::kCharDevice || st.type == EntryType::kBlockDevice) {
    base::StrAppend(out, " dev=", st.dev_major, ",", st.dev_minor);
  }
  base::StrAppend(out, " L", st.layer);
  return out;
}

class LayeredViewTest : public ::testing::Test {
 protected:
  std::string L(int layer) {
    std::string dir = base::StrCat(tmp_.path(), "/l", layer);
    fs::create_directories(dir);
    return dir;
  }
  std::string P(int layer, const std::string& rel) {
    return base::StrCat(L(layer), "/", rel);
  }
  void MkFile(int layer, const std::string& rel, const std::string& data = "",
              mode_t mode = 0644) {
    testutil::PutFile(P(layer, rel), data, mode);
  }
  void MkDir(int layer, const std::string& rel, mode_t mode = 0755) {
    fs::create_directories(P(layer, rel));
    ASSERT_EQ(::chmod(P(layer, rel).c_str(), mode), 0);
  }
  void MkLink(int layer, const std::string& rel, const std::string& target) {
    fs::create_directories(fs::path(P(layer, rel)).parent_path());
    ASSERT_EQ(::symlink(target.c_str(), P(layer, rel).c_str()), 0) << rel;
  }
  void MkNode(int layer, const std::string& rel, mode_t type, int maj,
              int min) {
    fs::create_directories(fs::path(P(layer, rel)).parent_path());
    ASSERT_EQ(::mknod(P(layer, rel).c_str(), type | 0644, makedev(maj, min)), 0)
        << rel;
  }
  void MkWhiteout(int layer, const std::string& rel) {
    MkNode(layer, rel, S_IFCHR, 0, 0);
  }
  void SetXattr(int layer, const std::string& rel, const std::string& name,
                const std::string& value) {
    ASSERT_EQ(::lsetxattr(P(layer, rel).c_str(), name.c_str(), value.data(),
                          value.size(), 0),
              0)
        << rel << " " << name;
  }
  // The applier's xattr form: an empty file with mode 0 (so that only
  // listing, not reading, its xattrs is allowed without root), its
  // directory marked "x".
  void MkXattrWhiteout(int layer, const std::string& rel,
                       const std::string& prefix, bool mark_parent = true) {
    MkFile(layer, rel, "", 0600);
    SetXattr(layer, rel, prefix + ".overlay.whiteout", "y");
    ASSERT_EQ(::chmod(P(layer, rel).c_str(), 0), 0);
    if (mark_parent) {
      SetXattr(layer, fs::path(rel).parent_path().string(),
               prefix + ".overlay.opaque", "x");
    }
  }
  LayeredView View(int layers) {
    std::vector<std::string> dirs;
    for (int i = 0; i < layers; ++i) dirs.push_back(L(i));
    return LayeredView(dirs);
  }

  testing::ScopedTempDir tmp_;
};

// Every entry under `root` as Describe lines.
std::string Tree(const LayeredView& view, const std::string& root = "/") {
  std::string out;
  base::Status s =
      view.Walk(root, [&](const std::string& p, const ViewStat& st) {
        base::StrAppend(out, Describe(p, st), "\n");
        return base::OkStatus();
      });
  if (!s) return Err(s.error());
  return out;
}

std::string Names(const LayeredView& view, const std::string& dir) {
  auto names = view.ReadDir(dir);
  if (!names) return Err(names.error());
  return base::Join(*names, ",");
}

std::string Content(const LayeredView& view, const std::string& path) {
  auto source = view.Open(path);
  if (!source) return Err(source.error());
  base::StringSink sink;
  auto n = base::CopyStream(**source, sink);
  if (!n) return Err(n.error());
  return sink.str();
}

// "<none>" when missing, Describe line otherwise, "ERROR ..." on error.
std::string LstatOf(const LayeredView& view, const std::string& path) {
  auto st = view.Lstat(path);
  if (!st) return Err(st.error());
  return *st ? Describe(path, **st) : "<none>";
}
std::string StatOf(const LayeredView& view, const std::string& path) {
  auto st = view.Stat(path);
  if (!st) return Err(st.error());
  return *st ? Describe(path, **st) : "<none>";
}
std::string ResolveOf(const LayeredView& view, const std::string& path,
                      bool follow) {
  auto r = view.Resolve(path, follow);
  if (!r) return Err(r.error());
  return *r;
}

TEST_F(LayeredViewTest, EmptyViewIsAnEmptyRoot) {
  LayeredView view({});
  EXPECT_EQ(Tree(view), "/ dir 755 0:0 L-1\n");
  auto root = view.Lstat("/");
  ASSERT_TRUE(root && *root);
  EXPECT_EQ((*root)->host_path, "");
  EXPECT_EQ(LstatOf(view, "/etc"), "<none>");
  EXPECT_EQ(Names(view, "/"), "");
  EXPECT_EQ(ResolveOf(view, "/x", false), "/x");
  EXPECT_EQ(ResolveOf(view, "/a/b", true),
            "ERROR not found: /a/b: no such file or directory");
  EXPECT_EQ(Content(view, "x"),
            "ERROR not found: /x: no such file or directory");
}

TEST_F(LayeredViewTest, PathSpellings) {
  MkFile(0, "etc/passwd", "root");
  LayeredView view = View(1);
  for (const char* root : {"", ".", "/", "//", "/./.", "/..", "../."}) {
    EXPECT_EQ(ResolveOf(view, root, true), "/") << root;
    EXPECT_EQ(LstatOf(view, root), Describe(root, *view.Lstat("/").value()));
  }
  EXPECT_EQ(ResolveOf(view, "etc//passwd", false), "/etc/passwd");
  EXPECT_EQ(Content(view, "etc/passwd"), "root");
  EXPECT_EQ(Content(view, "/etc/./../etc/passwd"), "root");
  // A trailing '/' requires a directory, as in POSIX.
  EXPECT_EQ(LstatOf(view, "/etc/"), "/etc/ dir 755 0:0 L0");
  EXPECT_EQ(LstatOf(view, "/etc/passwd/"),
            "ERROR i/o: /etc/passwd/: /etc/passwd is not a directory");
  EXPECT_EQ(LstatOf(view, std::string("/etc\0x", 6)),
            "ERROR invalid argument: path contains a NUL byte");
}

TEST_F(LayeredViewTest, ReportsTheBackingFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs chown";
  MkFile(0, "f", "hello");
  ASSERT_EQ(::lchown(P(0, "f").c_str(), 12, 34), 0);
  ASSERT_EQ(::chmod(P(0, "f").c_str(), 04751), 0);  // after chown
  testutil::SetMtime(P(0, "f"), 1700000000, 123456789);
  ASSERT_EQ(::link(P(0, "f").c_str(), P(0, "hard").c_str()), 0);
  MkLink(0, "sym", "f");
  ASSERT_EQ(::mkfifo(P(0, "fifo").c_str(), 0600), 0);
  MkFile(1, "upper", "u");
  LayeredView view = View(2);
  auto f = view.Lstat("/f");
  ASSERT_TRUE(f && *f);
  const ViewStat& st = **f;
  EXPECT_EQ(st.type, EntryType::kRegular);
  EXPECT_EQ(st.mode, 04751u);
  EXPECT_EQ(st.uid, 12);
  EXPECT_EQ(st.gid, 34);
  EXPECT_EQ(st.size, 5);
  EXPECT_EQ(st.mtime, (Timestamp{1700000000, 123456789}));
  EXPECT_EQ(st.nlink, 2u);
  EXPECT_EQ(st.layer, 0);
  EXPECT_EQ(st.host_path, P(0, "f"));
  auto hard = view.Lstat("/hard");
  ASSERT_TRUE(hard && *hard);
  EXPECT_EQ((*hard)->device, st.device);
  EXPECT_EQ((*hard)->inode, st.inode);
  EXPECT_EQ(LstatOf(view, "/sym"), "/sym symlink 777 0:0 -> f L0");
  EXPECT_EQ((*view.Lstat("/sym").value()).size, 0);
  EXPECT_EQ(StatOf(view, "/sym"), "/sym file 4751 12:34 size=5 L0");
  EXPECT_EQ(LstatOf(view, "/fifo"), "/fifo fifo 600 0:0 L0");
  EXPECT_EQ(LstatOf(view, "/upper"), "/upper file 644 0:0 size=1 L1");
  auto root = view.Lstat("/");
  ASSERT_TRUE(root && *root);
  EXPECT_EQ((*root)->layer, 1);
  EXPECT_EQ((*root)->host_path, L(1));
}

TEST_F(LayeredViewTest, UpperNonDirectoryShadowsLower) {
  MkFile(0, "a", "a0");
  MkFile(0, "f", "lower");
  MkFile(1, "b", "b1");
  MkFile(1, "f", "upper!");
  LayeredView view = View(2);
  EXPECT_EQ(Names(view, "/"), "a,b,f");
  EXPECT_EQ(Content(view, "/f"), "upper!");
  EXPECT_EQ(Tree(view),
            "/ dir 755 0:0 L1\n"
            "/a file 644 0:0 size=2 L0\n"
            "/b file 644 0:0 size=2 L1\n"
            "/f file 644 0:0 size=6 L1\n");
}

TEST_F(LayeredViewTest, DeviceWhiteoutHidesTheNameInEveryLowerLayer) {
  REQUIRE_PRIVILEGE();
  MkFile(0, "d/x", "0");
  MkFile(0, "d/y", "y");
  MkFile(1, "d/x", "1");
  MkWhiteout(2, "d/x");
  MkDir(2, "d");
  EXPECT_EQ(Names(View(3), "/d"), "y");
  EXPECT_EQ(LstatOf(View(3), "/d/x"), "<none>");
  EXPECT_EQ(Content(View(3), "/d/x"),
            "ERROR not found: /d/x: no such file or directory");
  EXPECT_EQ(Tree(View(3)),
            "/ dir 755 0:0 L2\n"
            "/d dir 755 0:0 L2\n"
            "/d/y file 644 0:0 size=1 L0\n");
  // A layer above the whiteout brings the name back, on its own.
  MkFile(3, "d/x", "3");
  EXPECT_EQ(Names(View(4), "/d"), "x,y");
  EXPECT_EQ(Content(View(4), "/d/x"), "3");
}

TEST_F(LayeredViewTest, WhiteoutHidesADirectoryAndEverythingBelowIt) {
  REQUIRE_PRIVILEGE();
  MkFile(0, "d/sub/deep/f", "f");
  MkFile(0, "d/keep", "k");
  MkWhiteout(1, "d/sub");
  LayeredView view = View(2);
  EXPECT_EQ(LstatOf(view, "/d/sub"), "<none>");
  EXPECT_EQ(LstatOf(view, "/d/sub/deep/f"), "<none>");
  EXPECT_EQ(ResolveOf(view, "/d/sub/deep/f", false),
            "ERROR not found: /d/sub/deep/f: no such file or directory");
  EXPECT_EQ(Names(view, "/d/sub"),
            "ERROR not found: /d/sub: no such file or directory");
  EXPECT_EQ(Names(view, "/d"), "keep");
}

TEST_F(LayeredViewTest, WhiteoutIsNeverAnEntry) {
  REQUIRE_PRIVILEGE();
  MkWhiteout(0, "ghost");  // nothing below it
  MkWhiteout(0, "d/ghost");
  MkWhiteout(1, "ghost2");
  MkNode(1, "null", S_IFCHR, 1, 3);
  MkNode(1, "chr01", S_IFCHR, 0, 1);  // only 0/0 is a whiteout
  MkNode(1, "blk00", S_IFBLK, 0, 0);  // and only a char device
  LayeredView view = View(2);
  for (const char* p : {"/ghost", "/d/ghost", "/ghost2"}) {
    EXPECT_EQ(LstatOf(view, p), "<none>") << p;
    EXPECT_EQ(StatOf(view, p), "<none>") << p;
  }
  EXPECT_EQ(Names(view, "/d"), "");
  EXPECT_EQ(Tree(view),
            "/ dir 755 0:0 L1\n"
            "/blk00 block 644 0:0 dev=0,0 L1\n"
            "/chr01 char 644 0:0 dev=0,1 L1\n"
            "/d dir 755 0:0 L0\n"
            "/null char 644 0:0 dev=1,3 L1\n");
}

class XattrWhiteoutTest : public LayeredViewTest,
                          public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "trusted" && !Privileged()) GTEST_SKIP();
  }
};

std::string PrefixName(const ::testing::TestParamInfo<std::string>& info) {
  return testing::SanitizeTestName(info.param);
}

TEST_P(XattrWhiteoutTest, HidesLowerEntries) {
  const std::string& prefix = GetParam();
  MkFile(0, "d/a", "a");
  MkFile(0, "d/b", "b");
  MkFile(0, "d/c", "c");
  MkFile(0, "e", "e");
  MkFile(0, "f/g", "g");
  MkXattrWhiteout(1, "d/a", prefix);
  // Not empty: a file that happens to carry the xattr, as in the kernel.
  MkFile(1, "d/b", "data");
  SetXattr(1, "d/b", prefix + ".overlay.whiteout", "y");
  // The kernel's lookup honours it in an unmarked directory too.
  MkXattrWhiteout(1, "e", prefix, /*mark_parent=*/false);
  MkXattrWhiteout(1, "f", prefix, /*mark_parent=*/false);
  LayeredView view = View(2);
  EXPECT_EQ(Names(view, "/d"), "b,c");
  EXPECT_EQ(Names(view, "/"), "d");
  EXPECT_EQ(LstatOf(view, "/d/a"), "<none>");
  EXPECT_EQ(LstatOf(view, "/e"), "<none>");
  EXPECT_EQ(LstatOf(view, "/f/g"), "<none>");
  EXPECT_EQ(LstatOf(view, "/d/b"), "/d/b file 644 0:0 size=4 L1");
  EXPECT_EQ(Content(view, "/d/c"), "c");
  // An xattr whiteout in the bottom layer is no entry either.
  MkXattrWhiteout(0, "d/z", prefix);
  EXPECT_EQ(Names(View(1), "/d"), "a,b,c");
  auto xattrs = View(2).Xattrs("/d");
  ASSERT_TRUE(xattrs);
  EXPECT_TRUE(xattrs->empty());
}

INSTANTIATE_TEST_SUITE_P(Prefixes, XattrWhiteoutTest,
                         ::testing::Values("trusted", "user"), PrefixName);

class OpaqueTest : public XattrWhiteoutTest {};

TEST_P(OpaqueTest, OpaqueDirectoryHidesLowerContents) {
  const std::string& prefix = GetParam();
  MkFile(0, "d/old", "o");
  MkFile(0, "d/sub/f", "f");
  MkFile(0, "other", "x");
  MkFile(1, "d/mine", "m");
  SetXattr(1, "d", prefix + ".overlay.opaque", "y");
  MkFile(2, "d/top", "t");
  LayeredView view = View(3);
  EXPECT_EQ(Names(view, "/d"), "mine,top");
  EXPECT_EQ(LstatOf(view, "/d/old"), "<none>");
  EXPECT_EQ(LstatOf(view, "/d/sub/f"), "<none>");
  EXPECT_EQ(Names(view, "/"), "d,other");
  // Only "y" is opaque: "x" marks xattr whiteouts, anything else is noise.
  for (const char* value : {"x", "n", "yes", ""}) {
    SetXattr(1, "d", prefix + ".overlay.opaque", value);
    EXPECT_EQ(Names(View(3), "/d"), "mine,old,sub,top") << value;
    EXPECT_EQ(Content(View(3), "/d/sub/f"), "f") << value;
  }
}

TEST_P(OpaqueTest, OpaqueMarkOnALayerRootIsIgnored) {
  // As overlayfs does (checked on Linux 6.18): the root merges all layers.
  const std::string& prefix = GetParam();
  MkFile(0, "r", "r");
  MkFile(1, "s", "s");
  SetXattr(1, "", prefix + ".overlay.opaque", "y");
  EXPECT_EQ(Names(View(2), "/"), "r,s");
}

INSTANTIATE_TEST_SUITE_P(Prefixes, OpaqueTest,
                         ::testing::Values("trusted", "user"), PrefixName);

TEST_F(LayeredViewTest, NonDirectoryReplacesADirectory) {
  MkFile(0, "d/x", "x");
  MkFile(0, "d/sub/y", "y");
  MkFile(0, "s/z", "z");
  MkFile(0, "t/u", "u");
  MkFile(1, "d", "file");
  MkLink(1, "s", "t");
  LayeredView view = View(2);
  EXPECT_EQ(LstatOf(view, "/d"), "/d file 644 0:0 size=4 L1");
  EXPECT_EQ(LstatOf(view, "/d/x"), "ERROR i/o: /d/x: /d is not a directory");
  EXPECT_EQ(Names(view, "/d"), "ERROR i/o: /d: not a directory");
  EXPECT_EQ(Names(view, "/s"), "u");  // the symlink is followed
  EXPECT_EQ(LstatOf(view, "/s/z"), "<none>");
  EXPECT_EQ(Tree(view),
            "/ dir 755 0:0 L1\n"
            "/d file 644 0:0 size=4 L1\n"
            "/s symlink 777 0:0 -> t L1\n"
            "/t dir 755 0:0 L0\n"
            "/t/u file 644 0:0 size=1 L0\n");
}

TEST_F(LayeredViewTest, DirectoryOverANonDirectoryShowsOnlyTheUpperOne) {
  REQUIRE_PRIVILEGE();
  MkFile(0, "d", "file");
  MkFile(1, "d/x", "x");
  // A directory below the non-directory is cut off too.
  MkFile(0, "e/lower", "l");
  MkFile(1, "e", "file");
  MkFile(2, "e/upper", "u");
  // And below a whiteout.
  MkFile(0, "w/lower", "l");
  MkWhiteout(1, "w");
  MkFile(2, "w/upper", "u");
  LayeredView view = View(3);
  EXPECT_EQ(Tree(view),
            "/ dir 755 0:0 L2\n"
            "/d dir 755 0:0 L1\n"
            "/d/x file 644 0:0 size=1 L1\n"
            "/e dir 755 0:0 L2\n"
            "/e/upper file 644 0:0 size=1 L2\n"
            "/w dir 755 0:0 L2\n"
            "/w/upper file 644 0:0 size=1 L2\n");
  EXPECT_EQ(LstatOf(view, "/e/lower"), "<none>");
}

TEST_F(LayeredViewTest, DirectoryMetadataComesFromTheTopmostLayer) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs chown";
  const mode_t modes[] = {0700, 0750, 02775};
  for (int i = 0; i < 3; ++i) {
    MkFile(i, base::StrCat("d/f", i), "x");
    MkDir(i, "d", modes[i]);
    ASSERT_EQ(::lchown(P(i, "d").c_str(), 100 + i, 200 + i), 0);
    testutil::SetMtime(P(i, "d"), 1000 * (i + 1), i);
  }
  auto d = View(3).Lstat("/d");
  ASSERT_TRUE(d && *d);
  EXPECT_EQ(Describe("/d", **d), "/d dir 2775 102:202 L2");
  EXPECT_EQ((*d)->mtime, (Timestamp{3000, 2}));
  EXPECT_EQ(Names(View(3), "/d"), "f0,f1,f2");
  EXPECT_EQ(LstatOf(View(2), "/d"), "/d dir 750 101:201 L1");
}

TEST_F(LayeredViewTest, SymlinksResolveInsideTheView) {
  MkFile(0, "etc/passwd", "root:x:0:0");
  MkFile(0, "usr/bin/sh", "sh");
  MkLink(1, "bin", "usr/bin");
  MkLink(1, "abs", "/etc");
  MkLink(1, "usr/bin/up", "../../../../../../etc");
  MkLink(1, "usr/bin/self", ".");
  MkLink(1, "lib", "usr/lib");  // dangling
  MkLink(1, "etc/alt", "../etc/./passwd");
  MkLink(1, "chain1", "chain2");
  MkLink(1, "chain2", "/abs/alt");
  MkLink(1, "slash", "/usr/");
  MkLink(1, "empty-parent", "usr/none/x");
  MkFile(2, "usr/bin/ls", "ls");
  LayeredView view = View(3);
  EXPECT_EQ(ResolveOf(view, "/bin/sh", true), "/usr/bin/sh");
  EXPECT_EQ(Content(view, "/bin/sh"), "sh");
  EXPECT_EQ(Names(view, "/bin"), "ls,self,sh,up");
  EXPECT_EQ(ResolveOf(view, "/abs/passwd", false), "/etc/passwd");
  EXPECT_EQ(ResolveOf(view, "/bin/up/passwd", false), "/etc/passwd");
  EXPECT_EQ(ResolveOf(view, "/../../etc/../../etc/passwd", false),
            "/etc/passwd");
  EXPECT_EQ(ResolveOf(view, "/usr/bin/self/self/sh", true), "/usr/bin/sh");
  EXPECT_EQ(ResolveOf(view, "/chain1", true), "/etc/passwd");
  EXPECT_EQ(ResolveOf(view, "/chain1", false), "/chain1");
  EXPECT_EQ(Content(view, "/chain1"), "root:x:0:0");
  EXPECT_EQ(LstatOf(view, "/chain1"), "/chain1 symlink 777 0:0 -> chain2 L1");
  EXPECT_EQ(StatOf(view, "/chain1"), "/chain1 file 644 0:0 size=10 L0");
  // ".." after a symlink is taken from where the link led (physically).
  EXPECT_EQ(ResolveOf(view, "/bin/../etc", false), "/usr/etc");
  EXPECT_EQ(LstatOf(view, "/bin/../bin/sh"),
            "/bin/../bin/sh file 644 0:0 size=2 L0");
  // Dangling links: Lstat sees them, Stat does not; Resolve says where.
  EXPECT_EQ(LstatOf(view, "/lib"), "/lib symlink 777 0:0 -> usr/lib L1");
  EXPECT_EQ(StatOf(view, "/lib"), "<none>");
  EXPECT_EQ(ResolveOf(view, "/lib", true), "/usr/lib");
  EXPECT_EQ(LstatOf(view, "/lib/x"), "<none>");
  EXPECT_EQ(ResolveOf(view, "/lib/x", false),
            "ERROR not found: /lib/x: no such file or directory");
  EXPECT_EQ(ResolveOf(view, "/empty-parent", true),
            "ERROR not found: /empty-parent: no such file or directory");
  // A trailing '/' follows the final link.
  EXPECT_EQ(LstatOf(view, "/bin"), "/bin symlink 777 0:0 -> usr/bin L1");
  EXPECT_EQ(LstatOf(view, "/bin/"), "/bin/ dir 755 0:0 L2");
  EXPECT_EQ(ResolveOf(view, "/bin/", false), "/usr/bin");
  EXPECT_EQ(ResolveOf(view, "/slash", true), "/usr");
  EXPECT_EQ(ResolveOf(view, "/slash", false), "/slash");
}

TEST_F(LayeredViewTest, SymlinkLoopsFail) {
  MkLink(0, "a", "b");
  MkLink(0, "b", "/a");
  MkLink(0, "self", "self");
  MkLink(0, "dir/up", "../dir/up");
  // A chain of exactly 255 links resolves; one more does not.
  MkFile(0, "target", "t");
  MkLink(0, "c255", "target");
  for (int i = 254; i >= 0; --i) {
    MkLink(0, base::StrCat("c", i), base::StrCat("c", i + 1));
  }
  LayeredView view = View(1);
  EXPECT_EQ(LstatOf(view, "/a"), "/a symlink 777 0:0 -> b L0");
  const std::string loop = ": too many levels of symbolic links";
  EXPECT_EQ(StatOf(view, "/a"), "ERROR i/o: /a" + loop);
  EXPECT_EQ(LstatOf(view, "/a/x"), "ERROR i/o: /a/x" + loop);
  EXPECT_EQ(ResolveOf(view, "/self", true), "ERROR i/o: /self" + loop);
  EXPECT_EQ(Content(view, "/dir/up"), "ERROR i/o: /dir/up" + loop);
  EXPECT_EQ(Names(view, "/self"), "ERROR i/o: /self" + loop);
  EXPECT_EQ(Content(view, "/c1"), "t");  // 255 links
  EXPECT_EQ(Content(view, "/c0"), "ERROR i/o: /c0" + loop);
}

TEST_F(LayeredViewTest, MissingAndNonDirectoryParents) {
  MkFile(0, "f", "x");
  LayeredView view = View(1);
  EXPECT_EQ(LstatOf(view, "/missing/x"), "<none>");
  EXPECT_EQ(StatOf(view, "/missing/x"), "<none>");
  EXPECT_EQ(ResolveOf(view, "/missing", false), "/missing");
  EXPECT_EQ(ResolveOf(view, "/missing/x", false),
            "ERROR not found: /missing/x: no such file or directory");
  EXPECT_EQ(LstatOf(view, "/f/x"), "ERROR i/o: /f/x: /f is not a directory");
  EXPECT_EQ(ResolveOf(view, "/f/..", false),
            "ERROR i/o: /f/..: /f is not a directory");
  auto walk = view.Walk("/missing", [](const std::string&, const ViewStat&) {
    return base::OkStatus();
  });
  ASSERT_FALSE(walk);
  EXPECT_EQ(walk.error().code(), Code::kNotFound);
}

TEST_F(LayeredViewTest, OpenReadsRegularFilesOnly) {
  MkFile(0, "f", "lower");
  MkFile(1, "f", "upper");
  MkDir(0, "d");
  MkLink(1, "link", "f");
  ASSERT_EQ(::mkfifo(P(0, "fifo").c_str(), 0644), 0);
  LayeredView view = View(2);
  EXPECT_EQ(Content(view, "/f"), "upper");
  EXPECT_EQ(Content(view, "/link"), "upper");
  EXPECT_EQ(Content(view, "/d"),
            "ERROR invalid argument: /d: not a regular file");
  EXPECT_EQ(Content(view, "/fifo"),
            "ERROR invalid argument: /fifo: not a regular file");
  EXPECT_EQ(Content(view, "/none"),
            "ERROR not found: /none: no such file or directory");
}

TEST_F(LayeredViewTest, OpenCannotEscapeTheLayers) {
  testing::ScopedTempDir host;
  host.WriteFile("secret", "host secret");
  std::string secret = host.path() + "/secret";
  MkLink(0, "abs", secret);
  MkLink(0, "rel", "../../../../../../../../../.." + secret);
  MkLink(0, "dir", host.path());
  MkLink(0, "up", "..");
  LayeredView view = View(1);
  std::string missing = ": no such file or directory";
  EXPECT_EQ(Content(view, "/abs"), "ERROR not found: /abs" + missing);
  EXPECT_EQ(Content(view, "/rel"), "ERROR not found: /rel" + missing);
  EXPECT_EQ(Content(view, "/dir/secret"),
            "ERROR not found: /dir/secret" + missing);
  EXPECT_EQ(ResolveOf(view, "/up/up/l0", false), "/l0");
  // The same file inside the view is found at the same spelling.
  MkFile(0, secret.substr(1), "view file");
  EXPECT_EQ(Content(view, "/abs"), "view file");
  EXPECT_EQ(Content(view, "/rel"), "view file");
  EXPECT_EQ(Content(view, "/dir/secret"), "view file");
}

TEST_F(LayeredViewTest, XattrsWithoutOverlayOnes) {
  MkFile(0, "f", "x");
  SetXattr(0, "f", "user.b", "2");
  SetXattr(0, "f", "user.a", std::string("\0\1", 2));
  SetXattr(0, "f", "user.overlay.whiteout", "y");  // not empty: a file
  MkDir(1, "d");
  SetXattr(1, "d", "user.overlay.opaque", "x");
  SetXattr(1, "d", "user.z", "z");
  MkLink(1, "link", "f");
  LayeredView view = View(2);
  auto f = view.Xattrs("/f");
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ(*f, (std::vector<Xattr>{{"user.a", std::string("\0\1", 2)},
                                    {"user.b", "2"}}));
  auto d = view.Xattrs("/d");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (std::vector<Xattr>{{"user.z", "z"}}));
  auto link = view.Xattrs("/link");  // not followed
  ASSERT_TRUE(link);
  EXPECT_TRUE(link->empty());
  auto none = view.Xattrs("/none");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Code::kNotFound);
}

TEST_F(LayeredViewTest, WalkIsDepthFirstInByteOrder) {
  MkFile(0, "a/x", "x");
  MkFile(0, "a.c", "");
  MkFile(0, "\xc3\xa9", "");
  MkFile(1, "B", "");
  MkFile(1, "a-b/y", "");
  MkFile(1, "z", "");
  MkLink(1, "l", "a");
  LayeredView view = View(2);
  EXPECT_EQ(Tree(view),
            "/ dir 755 0:0 L1\n"
            "/B file 644 0:0 size=0 L1\n"
            "/a dir 755 0:0 L0\n"
            "/a/x file 644 0:0 size=1 L0\n"
            "/a-b dir 755 0:0 L1\n"
            "/a-b/y file 644 0:0 size=0 L1\n"
            "/a.c file 644 0:0 size=0 L0\n"
            "/l symlink 777 0:0 -> a L1\n"
            "/z file 644 0:0 size=0 L1\n"
            "/\xc3\xa9 file 644 0:0 size=0 L0\n");
  EXPECT_EQ(Tree(view, "a"),
            "/a dir 755 0:0 L0\n"
            "/a/x file 644 0:0 size=1 L0\n");
  EXPECT_EQ(Tree(view, "/l"), "/l symlink 777 0:0 -> a L1\n");
  EXPECT_EQ(Tree(view, "/l/"),
            "/a dir 755 0:0 L0\n"
            "/a/x file 644 0:0 size=1 L0\n");
  EXPECT_EQ(Tree(view, "/a/x"), "/a/x file 644 0:0 size=1 L0\n");
}

TEST_F(LayeredViewTest, WalkStopsAtTheCallbacksError) {
  MkFile(0, "a", "");
  MkFile(0, "b", "");
  MkFile(0, "c", "");
  std::vector<std::string> seen;
  base::Status s =
      View(1).Walk("/", [&](const std::string& p, const ViewStat&) {
        seen.push_back(p);
        if (p == "/b")
          return base::Status(base::MakeError(Code::kCancelled, "stop"));
        return base::OkStatus();
      });
  ASSERT_FALSE(s);
  EXPECT_EQ(Err(s.error()), "ERROR cancelled: stop");
  EXPECT_EQ(seen, (std::vector<std::string>{"/", "/a", "/b"}));
}

}  // namespace
}  // namespace strata::layer
