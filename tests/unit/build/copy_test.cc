// COPY engine tests (build/copy.h): where a step writes (dest, WORKDIR,
// created parents, stage symlinks), directory sources and several sources.
// Layer lines are "name|type|mode|uid:gid|size|mtime|link|xattrs"; context
// files are newer than kEpoch, so their mtimes show as kEpoch.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "../layer/layer_test_util.h"
#include "copy_test_util.h"

namespace strata::build {
namespace {

using Lines = std::vector<std::string>;
using layer::testutil::SetMtime;
using testutil::CopyFixture;
using testutil::ErrorOf;
using testutil::HostOwner;

constexpr char kMultiError[] =
    "When using COPY with more than one source file, the destination must "
    "be a directory and end with a /";

class CopyDestTest : public CopyFixture {};

TEST_F(CopyDestTest, FileToFileName) {
  Ctx("a.txt", "hello", 0640);
  auto r = Run({"a.txt"}, "/b.txt");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"b.txt|file|640|0:0|5|1000000||"}));
  EXPECT_EQ(FileIn(r->blob, "b.txt"), "hello");
  EXPECT_EQ(r->entries, 1);
}

TEST_F(CopyDestTest, FileIntoDirWithTrailingSlash) {
  Ctx("a.txt", "hello");
  for (const char* dest : {"/d/", "/d/."}) {
    auto r = Run({"a.txt"}, dest);
    ASSERT_TRUE(r) << dest << ": " << ErrorOf(r);
    EXPECT_EQ(Entries(r->blob), Lines({"d/|dir|755|0:0|0|1000000||",
                                       "d/a.txt|file|644|0:0|5|1000000||"}))
        << dest;
  }
}

TEST_F(CopyDestTest, FileIntoExistingStageDirWithoutSlash) {
  StageDir("d", 0750);
  SetMtime(stage_dir_ + "/d", 400000);
  Ctx("a.txt", "hello");
  auto r = Run({"a.txt"}, "/d");
  ASSERT_TRUE(r) << ErrorOf(r);
  // The existing parent is written with the stage's metadata and mtime.
  EXPECT_EQ(Entries(r->blob),
            Lines({"d/|dir|750|" + HostOwner() + "|0|400000||",
                   "d/a.txt|file|644|0:0|5|1000000||"}));
}

TEST_F(CopyDestTest, KeepsSourceMtimeBelowEpoch) {
  Ctx("a.txt", "hello");
  SetMtime(CtxPath("a.txt"), 500000, 123456789);
  auto r = Run({"a.txt"}, "/a");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"a|file|644|0:0|5|500000||"}));
}

TEST_F(CopyDestTest, RelativeDestResolvedAgainstWorkdir) {
  Ctx("a.txt", "hello");
  CopyOptions options;
  options.workdir = "/app/src";
  auto r = Run({"a.txt"}, "sub/b.txt", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"app/|dir|755|0:0|0|1000000||",
                                     "app/src/|dir|755|0:0|0|1000000||",
                                     "app/src/sub/|dir|755|0:0|0|1000000||",
                                     "app/src/sub/b.txt|file|644|0:0|5|"
                                     "1000000||"}));
}

TEST_F(CopyDestTest, DotDestIsTheWorkdir) {
  Ctx("a.txt", "hello");
  for (const char* dest : {".", "./"}) {
    CopyOptions options;
    options.workdir = "/app";
    auto r = Run({"a.txt"}, dest, options);
    ASSERT_TRUE(r) << dest << ": " << ErrorOf(r);
    EXPECT_EQ(Entries(r->blob), Lines({"app/|dir|755|0:0|0|1000000||",
                                       "app/a.txt|file|644|0:0|5|1000000||"}))
        << "dest \"" << dest << "\"";
  }
}

TEST_F(CopyDestTest, CreatedParentsAre0755RootWithEpochMtime) {
  Ctx("a.txt", "hello", 0600);
  CopyOptions options;
  options.source_date_epoch = 300000;
  auto r = Run({"a.txt"}, "/x/y/z.txt", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"x/|dir|755|0:0|0|300000||", "x/y/|dir|755|0:0|0|300000||",
                   "x/y/z.txt|file|600|0:0|5|1000000||"}));
}

TEST_F(CopyDestTest, CreatedParentsGetChownOwner) {
  Ctx("a.txt", "hello");
  CopyOptions options;
  options.chown = Owner{1234, 5678};
  auto r = Run({"a.txt"}, "/x/y/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"x/|dir|755|1234:5678|0|1000000||",
                   "x/y/|dir|755|1234:5678|0|1000000||",
                   "x/y/a.txt|file|644|1234:5678|5|1000000||"}));
}

TEST_F(CopyDestTest, RootDest) {
  Ctx("a.txt", "hello");
  auto r = Run({"a.txt"}, "/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"a.txt|file|644|0:0|5|1000000||"}));
}

TEST_F(CopyDestTest, DestThroughStageSymlinkResolvesInsideStage) {
  StageDir("srv/app", 0755);
  StageDir("opt", 0755);
  StageLink("opt/app", "/srv/app");  // absolute: from the stage's root
  Ctx("a.txt", "hello");
  auto r = Run({"a.txt"}, "/opt/app/");
  ASSERT_TRUE(r) << ErrorOf(r);
  std::string o = HostOwner();
  EXPECT_EQ(Entries(r->blob),
            Lines({"srv/|dir|755|" + o + "|0|1000000||",
                   "srv/app/|dir|755|" + o + "|0|1000000||",
                   "srv/app/a.txt|file|644|0:0|5|1000000||"}));
}

TEST_F(CopyDestTest, EscapingStageSymlinkStaysInsideStage) {
  StageLink("out", "../../../../../tmp");
  Ctx("a.txt", "hello");
  auto r = Run({"a.txt"}, "/out/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"tmp/|dir|755|0:0|0|1000000||",
                                     "tmp/a.txt|file|644|0:0|5|1000000||"}));
}

TEST_F(CopyDestTest, DirectoryOntoStageFileFails) {
  Stage("f", "file");
  CtxDir("src");
  Ctx("src/a", "A");
  auto r = Run({"src"}, "/f");
  EXPECT_EQ(ErrorOf(r), "cannot copy to non-directory: /f");
}

TEST_F(CopyDestTest, ParentThatIsAStageFileFails) {
  Stage("f", "file");
  Ctx("a.txt", "hello");
  EXPECT_EQ(ErrorOf(Run({"a.txt"}, "/f/x")), "mkdir /f: not a directory");
}

// ------------------------------------------------------------ directories

class CopySelectTest : public CopyFixture {};

TEST_F(CopySelectTest, DirectorySourceCopiesItsContents) {
  CtxDir("src", 0750);
  Ctx("src/a", "A");
  Ctx("src/sub/deeper/b", "BB", 0600);
  CtxDir("src/sub", 0700);
  auto r = Run({"src"}, "/dst");
  ASSERT_TRUE(r) << ErrorOf(r);
  // A missing dest is made with MkdirAll(0755) first (fsutil's
  // prepareTargetDir), so it does not get the source's mode; the
  // directories below it do.
  EXPECT_EQ(
      Entries(r->blob),
      Lines({"dst/|dir|755|0:0|0|1000000||", "dst/a|file|644|0:0|1|1000000||",
             "dst/sub/|dir|700|0:0|0|1000000||",
             "dst/sub/deeper/|dir|755|0:0|0|1000000||",
             "dst/sub/deeper/b|file|600|0:0|2|1000000||"}));
  EXPECT_EQ(FileIn(r->blob, "dst/sub/deeper/b"), "BB");
}

TEST_F(CopySelectTest, DirectoryIntoExistingDirWithSlash) {
  CtxDir("src");
  Ctx("src/a", "A");
  auto r = Run({"src/"}, "/dst/");
  ASSERT_TRUE(r) << ErrorOf(r);
  // Never "dst/src": the directory itself is not copied.
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/a|file|644|0:0|1|1000000||"}));
}

TEST_F(CopySelectTest, MergesIntoExistingStageDirectories) {
  StageDir("dst/sub", 0700);
  StageDir("dst", 0711);
  SetMtime(stage_dir_ + "/dst", 400000);
  Stage("dst/sub/old", "stays");
  Ctx("src/sub/new", "N");
  CtxDir("src/sub", 0750);
  SetMtime(CtxPath("src"), 600000);
  SetMtime(CtxPath("src/sub"), 650000);
  auto r = Run({"src"}, "/dst");
  ASSERT_TRUE(r) << ErrorOf(r);
  // The top directory keeps the stage's metadata but gets the source's
  // mtime; a nested one takes the source's metadata (fsutil's
  // copyDirectory with overwriteTargetMetadata). Names the step does not
  // write ("old") are not in the layer.
  EXPECT_EQ(Entries(r->blob),
            Lines({"dst/|dir|711|" + HostOwner() + "|0|600000||",
                   "dst/sub/|dir|750|0:0|0|650000||",
                   "dst/sub/new|file|644|0:0|1|1000000||"}));
}

TEST_F(CopySelectTest, FileCannotReplaceAStageDirectory) {
  StageDir("d/a", 0755);
  Ctx("src/a", "A");
  EXPECT_EQ(ErrorOf(Run({"src"}, "/d")),
            "cannot replace to directory /d/a with file");
}

TEST_F(CopySelectTest, SocketsAreSkippedFifosCopied) {
  Ctx("src/f", "F");
  ASSERT_EQ(::mkfifo(CtxPath("src/pipe").c_str(), 0640), 0);
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string sock = CtxPath("src/sock");
  ASSERT_LT(sock.size(), sizeof(addr.sun_path)) << sock;
  std::memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  auto r = Run({"src"}, "/d");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"d/|dir|755|0:0|0|1000000||", "d/f|file|644|0:0|1|1000000||",
                   "d/pipe|fifo|640|0:0|0|1000000||"}));
  // Named directly, a socket is no source at all.
  r = Run({"src/sock"}, "/s");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines());
}

TEST_F(CopySelectTest, UserXattrsAreKept) {
  Ctx("src/f", "F");
  const char value[] = "v1";
  if (::lsetxattr(CtxPath("src/f").c_str(), "user.test", value, 2, 0) != 0) {
    GTEST_SKIP() << "no user xattrs on this filesystem";
  }
  auto r = Run({"src"}, "/d");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"d/|dir|755|0:0|0|1000000||",
                                     "d/f|file|644|0:0|1|1000000||user.test"}));
}

TEST_F(CopySelectTest, EmptyDirectories) {
  CtxDir("empty", 0700);
  CtxDir("src/e", 0711);
  auto r = Run({"empty"}, "/e");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"e/|dir|755|0:0|0|1000000||"}));
  r = Run({"src"}, "/s");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"s/|dir|755|0:0|0|1000000||",
                                     "s/e/|dir|711|0:0|0|1000000||"}));
}

TEST_F(CopySelectTest, WholeContext) {
  Ctx("a", "A");
  Ctx("d/b", "B");
  auto r = Run({"."}, "/dst/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/a|file|644|0:0|1|1000000||",
                                     "dst/d/|dir|755|0:0|0|1000000||",
                                     "dst/d/b|file|644|0:0|1|1000000||"}));
}

TEST_F(CopySelectTest, LayerOrderPutsADirectoryBeforeItsContents) {
  // '-' sorts before '/': a plain sort would write "a-b" between "a" and
  // "a/x".
  Ctx("a/x", "x");
  Ctx("a-b", "ab");
  Ctx("a.c/y", "y");
  auto r = Run({"."}, "/d/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(
      Entries(r->blob),
      Lines({"d/|dir|755|0:0|0|1000000||", "d/a/|dir|755|0:0|0|1000000||",
             "d/a/x|file|644|0:0|1|1000000||", "d/a-b|file|644|0:0|2|1000000||",
             "d/a.c/|dir|755|0:0|0|1000000||",
             "d/a.c/y|file|644|0:0|1|1000000||"}));
}

TEST_F(CopySelectTest, NonAsciiNamesAreKept) {
  Ctx("caf\xc3\xa9/na\xc3\xafve.txt", "utf8");
  auto r = Run({"caf\xc3\xa9"}, "/d/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"d/|dir|755|0:0|0|1000000||",
                   "d/na\xc3\xafve.txt|file|644|0:0|4|1000000||"}));
}

TEST_F(CopySelectTest, DotDotInSourceStaysInsideContext) {
  Ctx("a.txt", "inside");
  auto r = Run({"../../a.txt"}, "/x");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"x|file|644|0:0|6|1000000||"}));
  EXPECT_EQ(FileIn(r->blob, "x"), "inside");
}

// ------------------------------------------------------- several sources

TEST_F(CopySelectTest, SeveralSourcesNeedDirDest) {
  Ctx("a", "A");
  Ctx("b", "B");
  EXPECT_EQ(ErrorOf(Run({"a", "b"}, "/out")), kMultiError);
  CopyOptions add;
  add.is_add = true;
  EXPECT_EQ(ErrorOf(Run({"a", "b"}, "/out", add)),
            "When using ADD with more than one source file, the destination "
            "must be a directory and end with a /");
}

TEST_F(CopySelectTest, SeveralSourcesIntoDir) {
  Ctx("a", "A");
  Ctx("b", "BB");
  auto r = Run({"b", "a"}, "/out/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"out/|dir|755|0:0|0|1000000||",
                                     "out/a|file|644|0:0|1|1000000||",
                                     "out/b|file|644|0:0|2|1000000||"}));
}

TEST_F(CopySelectTest, SeveralSourcesIntoExistingStageDirWithoutSlash) {
  StageDir("out", 0755);
  Ctx("a", "A");
  Ctx("b", "B");
  auto r = Run({"a", "b"}, "/out");
  ASSERT_TRUE(r) << ErrorOf(r);
  Lines entries = Entries(r->blob);
  ASSERT_EQ(entries.size(), 3u) << ::testing::PrintToString(entries);
  EXPECT_EQ(entries[1], "out/a|file|644|0:0|1|1000000||");
  EXPECT_EQ(entries[2], "out/b|file|644|0:0|1|1000000||");
}

TEST_F(CopySelectTest, SeveralDirectorySourcesMergeWithoutSlash) {
  Ctx("d1/x", "X");
  Ctx("d2/y", "Y");
  auto r = Run({"d1", "d2"}, "/out");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"out/|dir|755|0:0|0|1000000||",
                                     "out/x|file|644|0:0|1|1000000||",
                                     "out/y|file|644|0:0|1|1000000||"}));
}

TEST_F(CopySelectTest, LaterSourceOverwritesEarlier) {
  Ctx("one/f", "first");
  Ctx("two/f", "second!");
  auto r = Run({"one", "two"}, "/out/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"out/|dir|755|0:0|0|1000000||",
                                     "out/f|file|644|0:0|7|1000000||"}));
  EXPECT_EQ(FileIn(r->blob, "out/f"), "second!");
}

}  // namespace
}  // namespace strata::build
