// COPY engine tests (build/copy.h): metadata (--chown, --chmod, owners of
// COPY --from), symlinks, hard links, --link, heredocs and ContentDigest.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "../layer/layer_test_util.h"
#include "base/str.h"
#include "build/step_context.h"
#include "copy_test_util.h"

namespace strata::build {
namespace {

using Lines = std::vector<std::string>;
using layer::testutil::PutFile;
using layer::testutil::SetMtime;
using testutil::CopyFixture;
using testutil::ErrorOf;
using testutil::HostOwner;

ModeSpec Mode(const char* text) {
  auto spec = ModeSpec::Parse(text);
  EXPECT_TRUE(spec) << text;
  return spec ? *spec : ModeSpec();
}

// ------------------------------------------------------------------ --chown

class CopyOwnerTest : public CopyFixture {};

TEST_F(CopyOwnerTest, NumericChownAppliesToEveryEntry) {
  Ctx("src/a", "A", 0600);
  CtxLink("src/l", "a");
  CopyOptions options;
  options.chown = Owner{1000, 1001};
  auto r = Run({"src"}, "/p/dst", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"p/|dir|755|1000:1001|0|1000000||",
                                     "p/dst/|dir|755|1000:1001|0|1000000||",
                                     "p/dst/a|file|600|1000:1001|1|1000000||",
                                     "p/dst/l|symlink|777|1000:1001|0|1000000|"
                                     "a|"}));
}

TEST_F(CopyOwnerTest, NamesResolvedThroughTheStageUserDb) {
  Stage("etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\n"
        "app:x:1234:2345::/home/app:/bin/sh\n");
  Stage("etc/group", "root:x:0:\nstaff:x:3456:app\n");
  Ctx("a", "A");
  auto passwd = ReadViewFile(stage(), "/etc/passwd");
  auto group = ReadViewFile(stage(), "/etc/group");
  ASSERT_TRUE(passwd && group);
  auto both = ResolveChown("app:staff", *passwd, *group);
  ASSERT_TRUE(both) << ErrorOf(both);
  auto user = ResolveChown("app", *passwd, *group);
  ASSERT_TRUE(user) << ErrorOf(user);
  EXPECT_EQ(ErrorOf(ResolveChown("nobody", *passwd, *group)),
            "unable to find user nobody: no matching entries in passwd file");

  CopyOptions options;
  options.chown = *both;
  auto r = Run({"a"}, "/d/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"d/|dir|755|1234:3456|0|1000000||",
                                     "d/a|file|644|1234:3456|1|1000000||"}));
  options.chown = *user;
  r = Run({"a"}, "/d/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"d/|dir|755|1234:2345|0|1000000||",
                                     "d/a|file|644|1234:2345|1|1000000||"}));
}

TEST_F(CopyOwnerTest, ExistingStageParentKeepsItsOwnerUnderChown) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown stage files";
  StageDir("app", 0750, 77, 88);
  Ctx("a", "A");
  CopyOptions options;
  options.chown = Owner{5, 6};
  auto r = Run({"a"}, "/app/sub/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"app/|dir|750|77:88|0|1000000||",
                                     "app/sub/|dir|755|5:6|0|1000000||",
                                     "app/sub/a|file|644|5:6|1|1000000||"}));
}

// ------------------------------------------------------------------ --chmod

TEST_F(CopyOwnerTest, OctalChmodAppliesToFilesAndDirsNotCreatedParents) {
  Ctx("src/a", "A", 0600);
  Ctx("src/sub/b", "B", 0755);
  CtxLink("src/l", "a");
  CopyOptions options;
  options.chmod = Mode("0640");
  auto r = Run({"src"}, "/p/q/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"p/|dir|755|0:0|0|1000000||", "p/q/|dir|755|0:0|0|1000000||",
                   "p/q/dst/|dir|755|0:0|0|1000000||",
                   "p/q/dst/a|file|640|0:0|1|1000000||",
                   "p/q/dst/l|symlink|777|0:0|0|1000000|a|",
                   "p/q/dst/sub/|dir|640|0:0|0|1000000||",
                   "p/q/dst/sub/b|file|640|0:0|1|1000000||"}));
}

TEST_F(CopyOwnerTest, SymbolicChmod) {
  Ctx("src/plain", "p", 0644);
  Ctx("src/exe", "x", 0700);
  CtxDir("src/dir", 0750);
  CopyOptions options;
  options.chmod = Mode("a+X,g+w");
  auto r = Run({"src"}, "/dst", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/dir/|dir|771|0:0|0|1000000||",
                                     "dst/exe|file|731|0:0|1|1000000||",
                                     "dst/plain|file|664|0:0|1|1000000||"}));
  // A single file source too.
  r = Run({"src/plain"}, "/one", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"one|file|664|0:0|1|1000000||"}));
}

// ---------------------------------------------------------------- symlinks

class CopyLinkTest : public CopyFixture {};

TEST_F(CopyLinkTest, SymlinksBelowASourceAreCopiedAsSymlinks) {
  Ctx("src/a.txt", "A");
  CtxLink("src/rel", "a.txt");
  CtxLink("src/abs", "/etc/passwd");
  CtxLink("src/up", "../../../outside");
  auto r = Run({"src"}, "/d/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(
      Entries(r->blob),
      Lines({"d/|dir|755|0:0|0|1000000||", "d/a.txt|file|644|0:0|1|1000000||",
             "d/abs|symlink|777|0:0|0|1000000|/etc/passwd|",
             "d/rel|symlink|777|0:0|0|1000000|a.txt|",
             "d/up|symlink|777|0:0|0|1000000|../../../outside|"}));
}

TEST_F(CopyLinkTest, SourcePathThatIsASymlinkIsFollowed) {
  Ctx("real.txt", "real", 0600);
  CtxLink("link.txt", "real.txt");
  Ctx("realdir/f", "F");
  CtxLink("linkdir", "realdir");
  auto r = Run({"link.txt"}, "/d/");
  ASSERT_TRUE(r) << ErrorOf(r);
  // Named after the source as written, with the target's content and mode.
  EXPECT_EQ(Entries(r->blob), Lines({"d/|dir|755|0:0|0|1000000||",
                                     "d/link.txt|file|600|0:0|4|1000000||"}));
  EXPECT_EQ(FileIn(r->blob, "d/link.txt"), "real");
  r = Run({"linkdir"}, "/e");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"e/|dir|755|0:0|0|1000000||",
                                     "e/f|file|644|0:0|1|1000000||"}));
}

TEST_F(CopyLinkTest, FollowedSymlinkNeverLeavesTheContext) {
  CtxLink("evil", "../../../../../../etc/passwd");
  CtxLink("evil_abs", "/etc/passwd");
  CtxLink("sub/evil_abs", "/etc/passwd");
  // Nothing named etc/passwd in the context: not found, the host file is
  // never read.
  auto r = Run({"evil"}, "/x");
  EXPECT_EQ(ErrorOf(r), "\"/evil\": not found in build context");
  EXPECT_EQ(ErrorOf(Run({"evil_abs"}, "/x")),
            "\"/evil_abs\": not found in build context");
  EXPECT_EQ(ErrorOf(Run({"sub/evil_abs"}, "/x")),
            "\"/sub/evil_abs\": not found in build context");
  // With one, the link resolves to it.
  Ctx("etc/passwd", "context passwd");
  Rescan();
  for (const char* src : {"evil", "evil_abs", "sub/evil_abs"}) {
    r = Run({src}, "/x");
    ASSERT_TRUE(r) << src << ": " << ErrorOf(r);
    EXPECT_EQ(FileIn(r->blob, "x"), "context passwd") << src;
  }
}

TEST_F(CopyLinkTest, SymlinkLoopsFailInsteadOfHanging) {
  CtxLink("loop", "loop2");
  CtxLink("loop2", "/loop");
  EXPECT_EQ(ErrorOf(Run({"loop"}, "/x")),
            "resolving /loop: too many levels of symbolic links");
  StageLink("a", "b");
  StageLink("b", "/a");
  Ctx("f", "F");
  EXPECT_EQ(ErrorOf(Run({"f"}, "/a/")),
            "resolving /a: too many levels of symbolic links");
}

TEST_F(CopyLinkTest, SymlinkInSourceParentsResolvesInsideContext) {
  Ctx("a.txt", "top");
  CtxLink("sub/up", "../..");
  // "../.." from /sub climbs to the context root and stops there.
  for (const char* src : {"sub/up/a.txt", "sub/up/sub/up/a.txt"}) {
    auto r = Run({src}, "/x");
    ASSERT_TRUE(r) << src << ": " << ErrorOf(r);
    EXPECT_EQ(Entries(r->blob), Lines({"x|file|644|0:0|3|1000000||"}));
    EXPECT_EQ(FileIn(r->blob, "x"), "top");
  }
}

// -------------------------------------------------------------- hard links

TEST_F(CopyLinkTest, HardLinksWithinOneSourceStayHardLinks) {
  Ctx("h/a", "same", 0640);
  ASSERT_EQ(::link(CtxPath("h/a").c_str(), CtxPath("h/b").c_str()), 0);
  Ctx("h/c", "other");
  auto r = Run({"h"}, "/d");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"d/|dir|755|0:0|0|1000000||", "d/a|file|640|0:0|4|1000000||",
                   "d/b|hardlink|640|0:0|0|1000000|d/a|",
                   "d/c|file|644|0:0|5|1000000||"}));
  // Applied, they share an inode (owners are the layer's only as root).
  std::string o = HostOwner();
  std::string same = base::Digest::Of("same").hex().substr(0, 12);
  std::string other = base::Digest::Of("other").hex().substr(0, 12);
  EXPECT_EQ(Applied(r->blob),
            base::StrCat("d d 755 ", o, "\n",                              //
                         "d/a f 640 ", o, " size=4 nlink=2 ", same, "\n",  //
                         "d/b f 640 ", o, " size=4 nlink=2 ", same, "\n",  //
                         "d/c f 644 ", o, " size=5 nlink=1 ", other, "\n"));
}

TEST_F(CopyLinkTest, HardLinksAcrossSourcesAreSeparateFiles) {
  Ctx("h/a", "same");
  ASSERT_EQ(::link(CtxPath("h/a").c_str(), CtxPath("h/b").c_str()), 0);
  auto r = Run({"h/a", "h/b"}, "/d/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"d/|dir|755|0:0|0|1000000||", "d/a|file|644|0:0|4|1000000||",
                   "d/b|file|644|0:0|4|1000000||"}));
}

// ----------------------------------------------------------- COPY --from

class CopyFromTest : public CopyFixture {
 protected:
  CopyFromTest()
      : from_dir_(tmp_.path() + "/from"),
        from_view_(std::vector<std::string>{from_dir_}),
        from_(CopySource::View(&from_view_, "stage builder")) {
    std::filesystem::create_directories(from_dir_);
    ::chmod(from_dir_.c_str(), 0755);
  }
  void From(const std::string& rel, const std::string& data, mode_t mode,
            uid_t uid, gid_t gid) {
    PutFile(from_dir_ + "/" + rel, data, mode);
    if (::geteuid() != 0 && uid == 0 && gid == 0) return;  // cannot
    ASSERT_EQ(::lchown((from_dir_ + "/" + rel).c_str(), uid, gid), 0);
  }

  std::string from_dir_;
  layer::LayeredView from_view_;
  CopySource from_;
};

TEST_F(CopyFromTest, OwnersAreKept) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown view files";
  From("app/bin/tool", "tool", 0755, 1000, 1001);
  From("app/data", "data", 0640, 1002, 1003);
  ::chmod((from_dir_ + "/app/bin").c_str(), 0710);
  ASSERT_EQ(::lchown((from_dir_ + "/app/bin").c_str(), 1004, 1005), 0);
  ASSERT_EQ(::symlink("bin/tool", (from_dir_ + "/app/t").c_str()), 0);
  ASSERT_EQ(::lchown((from_dir_ + "/app/t").c_str(), 1006, 1007), 0);
  auto r = Run({"/app"}, "/opt/", {}, &from_);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"opt/|dir|755|0:0|0|1000000||",
                   "opt/bin/|dir|710|1004:1005|0|1000000||",
                   "opt/bin/tool|file|755|1000:1001|4|1000000||",
                   "opt/data|file|640|1002:1003|4|1000000||",
                   "opt/t|symlink|777|1006:1007|0|1000000|bin/tool|"}));
  // --chown overrides them.
  CopyOptions options;
  options.chown = Owner{7, 8};
  r = Run({"/app/data"}, "/data", options, &from_);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"data|file|640|7:8|4|1000000||"}));
}

TEST_F(CopyFromTest, ExcludeAndWildcardsWalkTheView) {
  From("app/skip/x", "x", 0644, 0, 0);
  From("app/skipper/y", "y", 0644, 0, 0);
  From("app/z.txt", "z", 0644, 0, 0);
  From("app/w.txt", "w", 0644, 0, 0);
  CopyOptions options;
  options.excludes = {"skip", "w.*"};
  auto r = Run({"/app"}, "/d", options, &from_);
  ASSERT_TRUE(r) << ErrorOf(r);
  Lines names;
  for (const std::string& e : Entries(r->blob)) {
    names.push_back(e.substr(0, e.find('|')));
  }
  EXPECT_EQ(names, Lines({"d/", "d/skipper/", "d/skipper/y", "d/z.txt"}));
  r = Run({"/app/*.txt"}, "/g/", {}, &from_);
  ASSERT_TRUE(r) << ErrorOf(r);
  names.clear();
  for (const std::string& e : Entries(r->blob)) {
    names.push_back(e.substr(0, e.find('|')));
  }
  EXPECT_EQ(names, Lines({"g/", "g/w.txt", "g/z.txt"}));
}

TEST_F(CopyFromTest, HardLinksInTheView) {
  From("h/a", "same", 0600, 0, 0);
  ASSERT_EQ(::link((from_dir_ + "/h/a").c_str(), (from_dir_ + "/h/b").c_str()),
            0);
  auto r = Run({"/h"}, "/d", {}, &from_);
  ASSERT_TRUE(r) << ErrorOf(r);
  std::string o = HostOwner();
  EXPECT_EQ(
      Entries(r->blob),
      Lines({"d/|dir|755|0:0|0|1000000||", "d/a|file|600|" + o + "|4|1000000||",
             "d/b|hardlink|600|" + o + "|0|1000000|d/a|"}));
}

TEST_F(CopyFromTest, AbsoluteSymlinkResolvesInsideTheView) {
  From("real/f", "in view", 0644, 0, 0);
  ASSERT_EQ(::symlink("/real/f", (from_dir_ + "/link").c_str()), 0);
  auto r = Run({"/link"}, "/x", {}, &from_);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(FileIn(r->blob, "x"), "in view");
}

TEST_F(CopyFromTest, MissingSourceNamesTheStage) {
  EXPECT_EQ(ErrorOf(Run({"/nope"}, "/x", {}, &from_)),
            "\"/nope\": not found in stage builder");
}

// -------------------------------------------------------------------- --link

class CopyLinkModeTest : public CopyFixture {};

TEST_F(CopyLinkModeTest, DestIsNotConsulted) {
  StageDir("app", 0700);
  StageDir("srv");
  StageLink("lnk", "/srv");
  Ctx("a.txt", "A");
  // Without --link: into the existing directory, through the symlink.
  auto r = Run({"a.txt"}, "/app");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"app/|dir|700|" + HostOwner() + "|0|1000000||",
                   "app/a.txt|file|644|0:0|1|1000000||"}));
  CopyOptions options;
  options.link = true;
  r = Run({"a.txt"}, "/app", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"app|file|644|0:0|1|1000000||"}));
  // A trailing '/' makes a directory, created as a new one (0755 0:0).
  r = Run({"a.txt"}, "/app/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"app/|dir|755|0:0|0|1000000||",
                                     "app/a.txt|file|644|0:0|1|1000000||"}));
  r = Run({"a.txt"}, "/lnk/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"lnk/|dir|755|0:0|0|1000000||",
                                     "lnk/a.txt|file|644|0:0|1|1000000||"}));
}

TEST_F(CopyLinkModeTest, IgnoredWithChmod) {
  StageDir("app", 0700);
  Ctx("a.txt", "A");
  CopyOptions options;
  options.link = true;
  options.chmod = Mode("600");
  auto r = Run({"a.txt"}, "/app", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"app/|dir|700|" + HostOwner() + "|0|1000000||",
                   "app/a.txt|file|600|0:0|1|1000000||"}));
}

// ------------------------------------------------------------------ heredocs

class CopyHeredocTest : public CopyFixture {};

TEST_F(CopyHeredocTest, BecomesA0644File) {
  std::vector<dockerfile::SourceContent> docs = {{"EOF", "echo hi\n", true}};
  auto r = Run({}, "/run.sh", {}, nullptr, docs);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"run.sh|file|644|0:0|8|1000000||"}));
  EXPECT_EQ(FileIn(r->blob, "run.sh"), "echo hi\n");
}

TEST_F(CopyHeredocTest, IntoDirNamedAfterTheHeredoc) {
  std::vector<dockerfile::SourceContent> docs = {{"one", "1", true},
                                                 {"two", "22", true}};
  CopyOptions options;
  options.chown = Owner{3, 4};
  options.source_date_epoch = 200000;
  auto r = Run({}, "/d/", options, nullptr, docs);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"d/|dir|755|3:4|0|200000||", "d/one|file|644|3:4|1|200000||",
                   "d/two|file|644|3:4|2|200000||"}));
  // Two heredocs onto a file name: the classic builder's error.
  EXPECT_EQ(ErrorOf(Run({}, "/f", {}, nullptr, docs)),
            "When using COPY with more than one source file, the destination "
            "must be a directory and end with a /");
}

TEST_F(CopyHeredocTest, ChmodApplies) {
  std::vector<dockerfile::SourceContent> docs = {{"EOF", "#!/bin/sh\n", true}};
  CopyOptions options;
  options.chmod = Mode("755");
  auto r = Run({}, "/run.sh", options, nullptr, docs);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"run.sh|file|755|0:0|10|1000000||"}));
}

// ------------------------------------------------------------ ContentDigest

class CopyDigestTest : public CopyFixture {
 protected:
  void SetUp() override {
    Ctx("src/a", "alpha");
    Ctx("src/b", "bravo");
    Ctx("other", "unrelated");
  }
  // The digest of COPY `sources` /dst/ over a fresh view of the context.
  std::string DigestOf(const std::vector<std::string>& sources,
                       const CopyOptions& options = {}) {
    Rescan();
    auto r = Run(sources, "/dst/", options);
    if (!r) {
      ADD_FAILURE() << ErrorOf(r);
      return "";
    }
    last_blob_ = r->blob;
    return r->content_digest.ToString();
  }
  std::string last_blob_;
};

TEST_F(CopyDigestTest, SameInputsSameDigestAndBytes) {
  std::string d1 = DigestOf({"src"});
  std::string blob1 = last_blob_;
  std::string d2 = DigestOf({"src"});
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(blob1, last_blob_);
  EXPECT_TRUE(d1.starts_with("sha256:")) << d1;
}

TEST_F(CopyDigestTest, ContentChangesIt) {
  std::string before = DigestOf({"src"});
  Ctx("src/a", "alphA");  // same size
  EXPECT_NE(DigestOf({"src"}), before);
}

TEST_F(CopyDigestTest, ModeChangesIt) {
  std::string before = DigestOf({"src"});
  ::chmod(CtxPath("src/a").c_str(), 0600);
  EXPECT_NE(DigestOf({"src"}), before);
}

TEST_F(CopyDigestTest, NameChangesIt) {
  std::string before = DigestOf({"src"});
  std::filesystem::rename(CtxPath("src/b"), CtxPath("src/c"));
  EXPECT_NE(DigestOf({"src"}), before);
  // So does the destination.
  Rescan();
  auto r1 = Run({"src"}, "/x/");
  auto r2 = Run({"src"}, "/y/");
  ASSERT_TRUE(r1 && r2);
  EXPECT_NE(r1->content_digest, r2->content_digest);
}

TEST_F(CopyDigestTest, MtimeAloneDoesNotChangeIt) {
  SetMtime(CtxPath("src/a"), 500000);
  std::string before = DigestOf({"src"});
  std::string blob_before = last_blob_;
  SetMtime(CtxPath("src/a"), 600000);
  EXPECT_EQ(DigestOf({"src"}), before);
  // The layer itself does record the new mtime.
  EXPECT_NE(last_blob_, blob_before);
}

TEST_F(CopyDigestTest, OnlySelectedFilesCount) {
  std::string before = DigestOf({"src"});
  Ctx("other", "changed");
  Ctx("new_outside_src", "x");
  EXPECT_EQ(DigestOf({"src"}), before);
  Ctx("src/new", "x");
  EXPECT_NE(DigestOf({"src"}), before);
}

TEST_F(CopyDigestTest, SameContentElsewhereSameDigest) {
  // Nothing about the context's host path goes in.
  std::string here = DigestOf({"src"});
  std::string moved = tmp_.path() + "/ctx2";
  std::filesystem::rename(ctx_dir_, moved);
  context_ = CopySource::Context(moved, {});
  auto r = Run({"src"}, "/dst/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(r->content_digest.ToString(), here);
}

TEST_F(CopyDigestTest, ChownAndChmodChangeIt) {
  std::string plain = DigestOf({"src"});
  CopyOptions chown;
  chown.chown = Owner{1, 1};
  std::string with_chown = DigestOf({"src"}, chown);
  CopyOptions chmod;
  chmod.chmod = Mode("600");
  std::string with_chmod = DigestOf({"src"}, chmod);
  EXPECT_NE(plain, with_chown);
  EXPECT_NE(plain, with_chmod);
  EXPECT_NE(with_chown, with_chmod);
  // A --chmod that changes nothing gives the same result, and digest.
  chmod.chmod = Mode("644");
  EXPECT_EQ(DigestOf({"src"}, chmod), plain);
}

TEST_F(CopyDigestTest, IgnoredFilesDoNotCount) {
  SetIgnore({"src/b"});
  auto r = Run({"src"}, "/dst/");
  ASSERT_TRUE(r) << ErrorOf(r);
  Ctx("src/b", "changed ignored file");
  SetIgnore({"src/b"});
  auto r2 = Run({"src"}, "/dst/");
  ASSERT_TRUE(r2) << ErrorOf(r2);
  EXPECT_EQ(r->content_digest, r2->content_digest);
}

TEST_F(CopyDigestTest, HeredocContentChangesIt) {
  std::vector<dockerfile::SourceContent> one = {{"EOF", "one", true}};
  std::vector<dockerfile::SourceContent> two = {{"EOF", "two", true}};
  auto r1 = Run({}, "/f", {}, nullptr, one);
  auto r2 = Run({}, "/f", {}, nullptr, two);
  auto r3 = Run({}, "/f", {}, nullptr, one);
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_NE(r1->content_digest, r2->content_digest);
  EXPECT_EQ(r1->content_digest, r3->content_digest);
}

}  // namespace
}  // namespace strata::build
