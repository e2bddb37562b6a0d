// ADD engine tests (build/copy.h): local archives (every compression,
// recognised by content, --unpack, containment of hostile members) and
// http URLs from a loopback server (names, modes, Last-Modified,
// --checksum, failures, what ContentDigest fetches).
#include <gtest/gtest.h>

#include "../layer/layer_test_util.h"
#include "base/str.h"
#include "build/http_fetch.h"
#include "copy_test_util.h"

namespace strata::build {
namespace {

using Lines = std::vector<std::string>;
using layer::testutil::MakeRawTar;
using layer::testutil::RawEntry;
using testutil::Compress;
using testutil::CopyFixture;
using testutil::ErrorOf;
using testutil::TestHttpServer;

// One archive member: `body` is a file's data or a link's target.
RawEntry Member(char type, const std::string& name, const std::string& body,
                int mode = 0644, int64_t uid = 0, int64_t gid = 0,
                int64_t mtime = 500000) {
  RawEntry e;
  e.type = type;
  e.name = name;
  (type == 'f' ? e.data : e.target) = body;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  e.mtime = mtime;
  return e;
}

// A tar with a directory, a file, a hard link and a symlink, owned by
// non-root ids, with mtimes below kEpoch (so the layer shows them).
std::string SampleTar() {
  return MakeRawTar({
      Member('d', "top/", "", 0750, 1000, 1000, 400000),
      Member('f', "top/f.txt", "inside", 0640, 1000, 1001),
      Member('h', "top/hard", "top/f.txt", 0640, 1000, 1001),
      Member('l', "top/link", "f.txt", 0777, 1000, 1001),
  });
}

// What SampleTar gives extracted into "dst/" (created by the step).
const Lines kSampleInDst = {
    "dst/|dir|755|0:0|0|1000000||",
    "dst/top/|dir|750|1000:1000|0|400000||",
    "dst/top/f.txt|file|640|1000:1001|6|500000||",
    "dst/top/hard|hardlink|640|1000:1001|0|500000|dst/top/f.txt|",
    "dst/top/link|symlink|777|1000:1001|0|500000|f.txt|",
};

CopyOptions Add() {
  CopyOptions options;
  options.is_add = true;
  return options;
}

// ------------------------------------------------------------ local archives

class CopyArchiveTest : public CopyFixture,
                        public ::testing::WithParamInterface<const char*> {};

TEST_P(CopyArchiveTest, ExtractedIntoDest) {
  std::string ext = GetParam();
  std::string tar = SampleTar();
  std::string data = ext == "tar"   ? tar
                     : ext == "gz"  ? Compress(tar, "gzip")
                     : ext == "bz2" ? Compress(tar, "bzip2")
                     : ext == "xz"  ? Compress(tar, "xz")
                                    : Compress(tar, "zstd");
  if (ext != "tar") {
    ASSERT_NE(data.substr(0, 512), tar.substr(0, 512)) << "not compressed";
  }
  Ctx("a." + ext, data);
  auto r = Run({"a." + ext}, "/dst/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), kSampleInDst);
  EXPECT_EQ(FileIn(r->blob, "dst/top/f.txt"), "inside");
}

// The prefix starts with "Copy" so that --gtest_filter='Copy*' runs them.
INSTANTIATE_TEST_SUITE_P(CopyAdd, CopyArchiveTest,
                         ::testing::Values("tar", "gz", "bz2", "xz", "zst"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

class CopyAddTest : public CopyFixture {};

TEST_F(CopyAddTest, ArchiveRecognisedByContentNotName) {
  Ctx("data.bin", Compress(SampleTar(), "gzip"));
  auto r = Run({"data.bin"}, "/dst", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), kSampleInDst);
}

TEST_F(CopyAddTest, UnpackFalseKeepsTheArchive) {
  std::string gz = Compress(SampleTar(), "gzip");
  Ctx("a.tar.gz", gz);
  CopyOptions options = Add();
  options.unpack = false;
  auto r = Run({"a.tar.gz"}, "/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     base::StrCat("dst/a.tar.gz|file|644|0:0|",
                                                  gz.size(), "|1000000||")}));
  EXPECT_EQ(FileIn(r->blob, "dst/a.tar.gz"), gz);
}

TEST_F(CopyAddTest, CopyNeverExtracts) {
  std::string tar = SampleTar();
  Ctx("a.tar", tar);
  auto r = Run({"a.tar"}, "/dst/");
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     base::StrCat("dst/a.tar|file|644|0:0|",
                                                  tar.size(), "|1000000||")}));
}

TEST_F(CopyAddTest, ArchivesInsideADirectorySourceAreNotExtracted) {
  std::string tar = SampleTar();
  Ctx("dir/a.tar", tar);
  auto r = Run({"dir"}, "/dst", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     base::StrCat("dst/a.tar|file|644|0:0|",
                                                  tar.size(), "|1000000||")}));
}

TEST_F(CopyAddTest, NonArchivesAreCopiedAsIs) {
  std::string gz_text = Compress("just text, not a tar", "gzip");
  Ctx("fake.tar.gz", "not an archive");
  Ctx("text.gz", gz_text);
  auto r = Run({"fake.tar.gz", "text.gz"}, "/dst/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"dst/|dir|755|0:0|0|1000000||",
                   "dst/fake.tar.gz|file|644|0:0|14|1000000||",
                   base::StrCat("dst/text.gz|file|644|0:0|", gz_text.size(),
                                "|1000000||")}));
  EXPECT_EQ(FileIn(r->blob, "dst/text.gz"), gz_text);  // not decompressed
}

TEST_F(CopyAddTest, ChownAppliesToMembersChmodDoesNot) {
  Ctx("a.tar", SampleTar());
  CopyOptions options = Add();
  options.chown = Owner{5, 6};
  auto chmod = ModeSpec::Parse("0777");
  ASSERT_TRUE(chmod);
  options.chmod = *chmod;
  auto r = Run({"a.tar"}, "/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(
      Entries(r->blob),
      Lines({"dst/|dir|755|5:6|0|1000000||", "dst/top/|dir|750|5:6|0|400000||",
             "dst/top/f.txt|file|640|5:6|6|500000||",
             "dst/top/hard|hardlink|640|5:6|0|500000|dst/top/f.txt|",
             "dst/top/link|symlink|777|5:6|0|500000|f.txt|"}));
}

TEST_F(CopyAddTest, MissingArchiveParentsAreCreatedRootOwned) {
  Ctx("a.tar", MakeRawTar({Member('f', "x/y/f", "f", 0644, 9, 9)}));
  CopyOptions options = Add();
  options.chown = Owner{5, 6};
  auto r = Run({"a.tar"}, "/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|5:6|0|1000000||",
                                     "dst/x/|dir|755|0:0|0|1000000||",
                                     "dst/x/y/|dir|755|0:0|0|1000000||",
                                     "dst/x/y/f|file|644|5:6|1|500000||"}));
}

TEST_F(CopyAddTest, DotDotMembersAreRefused) {
  for (const char* name : {"../evil", "a/../../evil", "../../../../etc/x"}) {
    Ctx("evil.tar", MakeRawTar({Member('f', name, "x")}));
    Rescan();
    EXPECT_EQ(ErrorOf(Run({"evil.tar"}, "/dst/", Add())),
              base::StrCat("extracting /evil.tar: archive path \"", name,
                           "\" is outside extraction root"));
  }
}

TEST_F(CopyAddTest, AbsoluteMembersLandInsideDest) {
  Ctx("abs.tar", MakeRawTar({Member('f', "/etc/evil", "x")}));
  auto r = Run({"abs.tar"}, "/dst/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/etc/|dir|755|0:0|0|1000000||",
                                     "dst/etc/evil|file|644|0:0|1|500000||"}));
}

TEST_F(CopyAddTest, SymlinkMembersCannotRedirectOutsideDest) {
  Ctx("esc.tar", MakeRawTar({
                     Member('l', "up", "../../../../tmp", 0777),
                     Member('f', "up/pwned", "x"),
                     Member('l', "abs", "/etc", 0777),
                     Member('f', "abs/passwd", "y"),
                 }));
  auto r = Run({"esc.tar"}, "/dst/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  // Both links resolve inside the extraction root, "dst".
  EXPECT_EQ(Entries(r->blob),
            Lines({"dst/|dir|755|0:0|0|1000000||",
                   "dst/abs|symlink|777|0:0|0|500000|/etc|",
                   "dst/etc/|dir|755|0:0|0|1000000||",
                   "dst/etc/passwd|file|644|0:0|1|500000||",
                   "dst/tmp/|dir|755|0:0|0|1000000||",
                   "dst/tmp/pwned|file|644|0:0|1|500000||",
                   "dst/up|symlink|777|0:0|0|500000|../../../../tmp|"}));
}

TEST_F(CopyAddTest, HardlinkOutsideTheArchiveIsRefused) {
  Ctx("h.tar", MakeRawTar({Member('h', "h", "../x")}));
  EXPECT_EQ(ErrorOf(Run({"h.tar"}, "/dst/", Add())),
            "extracting /h.tar: archive hardlink \"h\" points outside "
            "extraction root");
}

TEST_F(CopyAddTest, LaterSourcesWinOverArchiveMembers) {
  Ctx("a.tar", MakeRawTar({Member('f', "b.txt", "from tar")}));
  Ctx("b.txt", "from context");
  auto r = Run({"a.tar", "b.txt"}, "/dst/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/b.txt|file|644|0:0|12|1000000||"}));
  EXPECT_EQ(FileIn(r->blob, "dst/b.txt"), "from context");
  r = Run({"b.txt", "a.tar"}, "/dst/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/b.txt|file|644|0:0|8|500000||"}));
  EXPECT_EQ(FileIn(r->blob, "dst/b.txt"), "from tar");
}

TEST_F(CopyAddTest, ArchivesAloneMayShareADestWithoutSlash) {
  Ctx("a.tar", MakeRawTar({Member('f', "a", "A")}));
  Ctx("b.tar.gz", Compress(MakeRawTar({Member('f', "b", "B")}), "gzip"));
  auto r = Run({"a.tar", "b.tar.gz"}, "/dst", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"dst/|dir|755|0:0|0|1000000||",
                                     "dst/a|file|644|0:0|1|500000||",
                                     "dst/b|file|644|0:0|1|500000||"}));
}

TEST_F(CopyAddTest, ArchiveDigestFollowsItsBytes) {
  Ctx("a.tar", SampleTar());
  auto r1 = Run({"a.tar"}, "/dst/", Add());
  Rescan();
  auto r2 = Run({"a.tar"}, "/dst/", Add());
  Ctx("a.tar", MakeRawTar({Member('f', "other", "o")}));
  Rescan();
  auto r3 = Run({"a.tar"}, "/dst/", Add());
  ASSERT_TRUE(r1 && r2 && r3) << ErrorOf(r1) << ErrorOf(r2) << ErrorOf(r3);
  EXPECT_EQ(r1->content_digest, r2->content_digest);
  EXPECT_NE(r1->content_digest, r3->content_digest);
}

// ---------------------------------------------------------------------- URLs

// 1970-01-06T00:00:00Z, below kEpoch so the layer shows it unclamped.
constexpr char kLastModified[] = "Last-Modified: Tue, 06 Jan 1970 00:00:00 GMT";
constexpr int64_t kLastModifiedSec = 5 * 86400;

class CopyUrlTest : public CopyFixture {
 protected:
  CopyUrlTest()
      : server_({
            {"/files/data.bin", {200, "payload-1", {kLastModified}}},
            {"/files/plain", {200, "no date", {}}},
            {"/files/q.bin?x=1", {200, "query", {}}},
            {"/", {200, "root", {}}},
            {"/sample.tar", {200, SampleTar(), {}}},
        }) {}

  TestHttpServer server_;
};

TEST_F(CopyUrlTest, DownloadedIntoDirNamedAfterTheUrl) {
  auto r = Run({server_.Url("/files/data.bin")}, "/dst/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"dst/|dir|755|0:0|0|1000000||",
                   base::StrCat("dst/data.bin|file|600|0:0|9|",
                                kLastModifiedSec, "||")}));
  EXPECT_EQ(FileIn(r->blob, "dst/data.bin"), "payload-1");
  // Fetched once: for the digest, and the file reused for the layer.
  EXPECT_EQ(server_.requests(), 1);
}

TEST_F(CopyUrlTest, DownloadedToAFileName) {
  auto r = Run({server_.Url("/files/data.bin")}, "/opt/out.bin", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"opt/|dir|755|0:0|0|1000000||",
                                     base::StrCat("opt/out.bin|file|600|0:0|9|",
                                                  kLastModifiedSec, "||")}));
}

TEST_F(CopyUrlTest, WithoutLastModifiedTheMtimeIsTheEpoch) {
  CopyOptions options = Add();
  options.source_date_epoch = 300000;
  auto r = Run({server_.Url("/files/plain")}, "/d/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"d/|dir|755|0:0|0|300000||",
                                     "d/plain|file|600|0:0|7|300000||"}));
}

TEST_F(CopyUrlTest, FileNameIgnoresQueryAndDefaults) {
  auto r = Run({server_.Url("/files/q.bin?x=1")}, "/d/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"d/|dir|755|0:0|0|1000000||",
                                     "d/q.bin|file|600|0:0|5|1000000||"}));
  r = Run({server_.Url("/")}, "/d/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"d/|dir|755|0:0|0|1000000||",
                   "d/__unnamed__|file|600|0:0|4|1000000||"}));
}

TEST_F(CopyUrlTest, ChownAndChmodApply) {
  CopyOptions options = Add();
  options.chown = Owner{5, 6};
  auto chmod = ModeSpec::Parse("u+x,g+r");
  ASSERT_TRUE(chmod);
  options.chmod = *chmod;
  auto r = Run({server_.Url("/files/plain")}, "/d/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), Lines({"d/|dir|755|5:6|0|1000000||",
                                     "d/plain|file|740|5:6|7|1000000||"}));
}

TEST_F(CopyUrlTest, ChecksumMatchingPassesAndDigestNeedsNoFetch) {
  CopyOptions options = Add();
  options.checksum = base::Digest::Of("payload-1").ToString();
  auto op = PlanOp({server_.Url("/files/data.bin")}, "/dst/", options);
  ASSERT_TRUE(op) << ErrorOf(op);
  auto digest = op->ContentDigest();
  ASSERT_TRUE(digest) << ErrorOf(digest);
  EXPECT_EQ(server_.requests(), 0);
  auto r = Finish(*op);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(server_.requests(), 1);
  EXPECT_EQ(r->content_digest, *digest);
  EXPECT_EQ(FileIn(r->blob, "dst/data.bin"), "payload-1");
}

TEST_F(CopyUrlTest, ChecksumMismatchFailsNamingBothDigests) {
  std::string url = server_.Url("/files/data.bin");
  std::string want = base::Digest::Of("something else").ToString();
  std::string got = base::Digest::Of("payload-1").ToString();
  CopyOptions options = Add();
  options.checksum = want;
  auto r = Run({url}, "/dst/", options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::Code::kDigestMismatch);
  EXPECT_EQ(r.error().message(),
            base::StrCat("digest mismatch for ", url, ": expected ", want,
                         ", got ", got));
}

TEST_F(CopyUrlTest, ChecksumRules) {
  CopyOptions options = Add();
  options.checksum = "sha256:1234";
  EXPECT_EQ(ErrorOf(Run({server_.Url("/files/plain")}, "/d/", options)),
            "invalid checksum \"sha256:1234\": only sha256:<64 hex digits> is "
            "supported");
  options.checksum = base::Digest::Of("x").ToString();
  Ctx("local", "x");
  EXPECT_EQ(ErrorOf(Run({"local"}, "/d/", options)),
            "checksum requires HTTP(S) or Git sources");
  CopyOptions copy;
  copy.checksum = options.checksum;
  EXPECT_EQ(ErrorOf(Run({server_.Url("/files/plain")}, "/d/", copy)),
            "checksum can't be specified for COPY");
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(CopyUrlTest, NotFoundFailsClearly) {
  std::string url = server_.Url("/missing");
  auto r = Run({url}, "/x", Add());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::Code::kNetwork);
  EXPECT_EQ(r.error().message(),
            base::StrCat("GET ", url, ": invalid response status 404"));
}

TEST_F(CopyUrlTest, UrlsAreOnlyForAdd) {
  EXPECT_EQ(ErrorOf(Run({server_.Url("/files/plain")}, "/x")),
            "source can't be a URL for COPY");
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(CopyUrlTest, GitSourcesAreRefused) {
  auto r = Run({"https://127.0.0.1:1/repo.git"}, "/src/", Add());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::Code::kUnsupported);
  EXPECT_EQ(r.error().message(),
            "ADD https://127.0.0.1:1/repo.git: git sources are not supported");
}

TEST_F(CopyUrlTest, TarIsKeptUnlessUnpackIsSet) {
  std::string tar = SampleTar();
  auto r = Run({server_.Url("/sample.tar")}, "/dst/", Add());
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob),
            Lines({"dst/|dir|755|0:0|0|1000000||",
                   base::StrCat("dst/sample.tar|file|600|0:0|", tar.size(),
                                "|1000000||")}));
  CopyOptions options = Add();
  options.unpack = true;
  r = Run({server_.Url("/sample.tar")}, "/dst/", options);
  ASSERT_TRUE(r) << ErrorOf(r);
  EXPECT_EQ(Entries(r->blob), kSampleInDst);
}

TEST_F(CopyUrlTest, DigestFollowsTheDownloadedContent) {
  TestHttpServer other({{"/files/data.bin", {200, "payload-2", {}}},
                        {"/files/same", {200, "payload-1", {}}}});
  auto r1 = Run({server_.Url("/files/data.bin")}, "/d/x", Add());
  auto r2 = Run({other.Url("/files/data.bin")}, "/d/x", Add());
  auto r3 = Run({other.Url("/files/same")}, "/d/x", Add());
  ASSERT_TRUE(r1 && r2 && r3) << ErrorOf(r1) << ErrorOf(r2) << ErrorOf(r3);
  EXPECT_NE(r1->content_digest, r2->content_digest);
  // Same bytes to the same path: same digest (the URL itself is part of
  // the step's key, not of its content digest).
  EXPECT_EQ(r1->content_digest, r3->content_digest);
}

}  // namespace
}  // namespace strata::build
