#include "layer/writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/apply.h"
#include "layer_test_util.h"
#include "support/test_support.h"

namespace strata::layer {
namespace {

using base::Code;
using base::Digest;
using testutil::GetFile;
using testutil::ListTar;
using testutil::ListTree;
using testutil::Privileged;
using testutil::PutFile;
using testutil::RunCmd;
using testutil::WriteLayer;

WriterOptions Opts(Compression c = Compression::kNone) {
  WriterOptions o;
  o.compression.compression = c;
  return o;
}

Entry Make(EntryType type, std::string path, uint32_t mode,
           int64_t mtime = 1000) {
  Entry e;
  e.type = type;
  e.path = std::move(path);
  e.mode = mode;
  e.mtime = {mtime, 0};
  return e;
}

base::Status AddContent(LayerWriter& w, Entry e, const std::string& data) {
  e.size = static_cast<int64_t>(data.size());
  base::StringSource src(data);
  return w.AddFile(e, src);
}

std::string Hash12(const std::string& data) {
  return Digest::Of(data).hex().substr(0, 12);
}

// A 20-byte VFS_CAP_REVISION_2 value granting CAP_NET_BIND_SERVICE.
std::string CapNetBindService() {
  std::string v(20, '\0');
  v[0] = 1;     // VFS_CAP_FLAGS_EFFECTIVE
  v[3] = 2;     // revision 2 (little-endian 0x02000001)
  v[5] = 0x04;  // permitted bit 10
  return v;
}

// Adds one of every entry type (devices only when privileged).
void AddEveryType(LayerWriter& w) {
  Entry d = Make(EntryType::kDirectory, "d", 0755);
  d.uid = 1000;
  d.gid = 1001;
  ASSERT_TRUE(w.Add(d));
  Entry f = Make(EntryType::kRegular, "d/f", 04755);
  f.uid = 1000;
  f.gid = 1000;
  f.xattrs = {{"user.test", "v"}};
  ASSERT_TRUE(AddContent(w, f, "hello"));
  ASSERT_TRUE(AddContent(w, Make(EntryType::kRegular, "d/g", 02711), "g"));
  Entry h = f;
  h.type = EntryType::kHardlink;
  h.path = "d/h";
  h.link_target = "d/f";
  ASSERT_TRUE(w.Add(h));
  Entry s = Make(EntryType::kSymlink, "d/s", 0777);
  s.link_target = "f";
  ASSERT_TRUE(w.Add(s));
  ASSERT_TRUE(w.Add(Make(EntryType::kFifo, "d/fifo", 0600)));
  ASSERT_TRUE(w.Add(Make(EntryType::kDirectory, "d/sticky/", 01777, 2000)));
  if (Privileged()) {
    Entry c = Make(EntryType::kCharDevice, "d/null", 0666);
    c.dev_major = 1;
    c.dev_minor = 3;
    ASSERT_TRUE(w.Add(c));
    Entry b = Make(EntryType::kBlockDevice, "d/loop9", 0660);
    b.dev_major = 7;
    b.dev_minor = 9;
    ASSERT_TRUE(w.Add(b));
    Entry cap = Make(EntryType::kRegular, "d/ping", 0755);
    cap.xattrs = {{"security.capability", CapNetBindService()}};
    ASSERT_TRUE(AddContent(w, cap, "ping"));
  }
  ASSERT_TRUE(w.Add(Make(EntryType::kRegular, "e", 0600, 3000)));
}

TEST(WriterTest, EveryEntryTypeRoundTrips) {
  testing::ScopedTempDir dir;
  auto [blob, info] = WriteLayer(Opts(Compression::kGzip), AddEveryType);
  ASSERT_FALSE(blob.empty());
  auto stats = testutil::ApplyBlob(blob, dir.path());
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->diff_id, info.diff_id);
  EXPECT_EQ(stats->compression, Compression::kGzip);
  EXPECT_EQ(stats->warnings, 0) << stats->warning_messages.front();
  std::string want =
      "d d 755 1000:1001 t=1000\n"
      "d/f f 4755 1000:1000 t=1000 size=5 nlink=2 " +
      Hash12("hello") +
      " user.test=1b\n"
      "d/fifo p 600 0:0 t=1000\n"
      "d/g f 2711 0:0 t=1000 size=1 nlink=1 " +
      Hash12("g") +
      "\n"
      "d/h f 4755 1000:1000 t=1000 size=5 nlink=2 " +
      Hash12("hello") + " user.test=1b\n";
  if (Privileged()) {
    want += "d/loop9 b 660 0:0 t=1000 dev=7,9\n";
    want += "d/null c 666 0:0 t=1000 dev=1,3\n";
    want += "d/ping f 755 0:0 t=1000 size=4 nlink=1 " + Hash12("ping") +
            " security.capability=20b\n";
  }
  want +=
      "d/s l 777 0:0 -> f\n"
      "d/sticky d 1777 0:0 t=2000\n"
      "e f 600 0:0 t=3000 size=0 nlink=1 " +
      Hash12("") + "\n";
  if (::geteuid() != 0) GTEST_SKIP() << "ownership needs root";
  EXPECT_EQ(ListTree(dir.path()), want);
  // Both names are one inode.
  struct stat a, b;
  ASSERT_EQ(::stat((dir.path() + "/d/f").c_str(), &a), 0);
  ASSERT_EQ(::stat((dir.path() + "/d/h").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(WriterTest, TarHeadersAsWritten) {
  auto [tar, info] = WriteLayer(Opts(), [](LayerWriter& w) {
    Entry d = Make(EntryType::kDirectory, "d", 0755);
    d.uid = 7;
    d.gid = 8;
    ASSERT_TRUE(w.Add(d));
    Entry f = Make(EntryType::kRegular, "d/f", 0644);
    f.xattrs = {{"user.b", "2"}, {"user.a", "1"}};
    ASSERT_TRUE(AddContent(w, f, "abc"));
    Entry h = Make(EntryType::kHardlink, "d/h", 0644);
    h.link_target = "d/f";
    ASSERT_TRUE(w.Add(h));
    Entry s = Make(EntryType::kSymlink, "d/s", 0777);
    s.link_target = "../x";
    ASSERT_TRUE(w.Add(s));
    ASSERT_TRUE(w.AddWhiteout("d", "gone"));
    ASSERT_TRUE(w.AddOpaqueWhiteout(""));
  });
  EXPECT_EQ(ListTar(tar), (std::vector<std::string>{
                              "d/|dir|755|7:8|0|1000.0||",
                              "d/f|file|644|0:0|3|1000.0||user.a,user.b",
                              "d/h|hardlink|644|0:0|0|1000.0|d/f|",
                              "d/s|symlink|777|0:0|0|1000.0|../x|",
                              "d/.wh.gone|file|0|0:0|0|0.0||",
                              ".wh..wh..opq|file|0|0:0|0|0.0||",
                          }));
  // Xattrs only as SCHILY records; no atime/ctime; no user/group names.
  EXPECT_NE(tar.find("SCHILY.xattr.user.a=1\n"), std::string::npos);
  EXPECT_EQ(tar.find("LIBARCHIVE"), std::string::npos);
  EXPECT_EQ(tar.find("atime"), std::string::npos);
  EXPECT_EQ(tar.find("ctime"), std::string::npos);
  EXPECT_EQ(tar.find("root"), std::string::npos);
  // The archive ends right after the two zero blocks: no record padding.
  EXPECT_EQ(tar.size() % 512, 0u);
  EXPECT_EQ(tar.substr(tar.size() - 1024), std::string(1024, '\0'));
  EXPECT_EQ(info.uncompressed_size, static_cast<int64_t>(tar.size()));
}

TEST(WriterTest, EmptyLayerIsTwoZeroBlocks) {
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    auto [blob, info] = WriteLayer(Opts(c), [](LayerWriter&) {});
    EXPECT_EQ(info.diff_id, Digest::Of(std::string(1024, '\0')));
    EXPECT_EQ(info.uncompressed_size, 1024);
    EXPECT_EQ(info.size, static_cast<int64_t>(blob.size()));
  }
}

TEST(WriterTest, GnuTarListsLayer) {
  testing::ScopedTempDir dir;
  auto [blob, info] = WriteLayer(Opts(Compression::kGzip), AddEveryType);
  PutFile(dir.path() + "/layer.tar.gz", blob);
  std::string listing = RunCmd("gzip -dc " + dir.path() +
                               "/layer.tar.gz | TZ=UTC tar --numeric-owner "
                               "--full-time -tvf - 2>&1");
  std::string want =
      "drwxr-xr-x 1000/1001         0 1970-01-01 00:16:40 d/\n"
      "-rwsr-xr-x 1000/1000         5 1970-01-01 00:16:40 d/f\n"
      "-rwx--s--x 0/0               1 1970-01-01 00:16:40 d/g\n"
      "hrwsr-xr-x 1000/1000         0 1970-01-01 00:16:40 d/h link to d/f\n"
      "lrwxrwxrwx 0/0               0 1970-01-01 00:16:40 d/s -> f\n"
      "prw------- 0/0               0 1970-01-01 00:16:40 d/fifo\n"
      "drwxrwxrwt 0/0               0 1970-01-01 00:33:20 d/sticky/\n";
  if (Privileged()) {
    want +=
        "crw-rw-rw- 0/0             1,3 1970-01-01 00:16:40 d/null\n"
        "brw-rw---- 0/0             7,9 1970-01-01 00:16:40 d/loop9\n"
        "-rwxr-xr-x 0/0               4 1970-01-01 00:16:40 d/ping\n";
  }
  want += "-rw------- 0/0               0 1970-01-01 00:50:00 e\n";
  EXPECT_EQ(listing, want);
}

TEST(WriterTest, DigestsMatchIndependentComputation) {
  testing::ScopedTempDir dir;
  struct Case {
    Compression compression;
    const char* tool;  // decompresses stdin to stdout
  };
  for (Case c : {Case{Compression::kGzip, "gzip -dc"},
                 Case{Compression::kZstd, "zstd -q -dc"},
                 Case{Compression::kNone, "cat"}}) {
    SCOPED_TRACE(CompressionName(c.compression));
    auto [blob, info] = WriteLayer(Opts(c.compression), AddEveryType);
    PutFile(dir.path() + "/blob", blob);
    std::string tar =
        RunCmd(std::string(c.tool) + " < " + dir.path() + "/blob");
    EXPECT_EQ(info.digest, Digest::Of(GetFile(dir.path() + "/blob")));
    EXPECT_EQ(info.size, static_cast<int64_t>(blob.size()));
    EXPECT_EQ(info.diff_id, Digest::Of(tar));
    EXPECT_EQ(info.uncompressed_size, static_cast<int64_t>(tar.size()));
    EXPECT_EQ(info.media_type, *LayerMediaType(c.compression));
    if (c.compression == Compression::kNone) {
      EXPECT_EQ(info.digest, info.diff_id);
    }
  }
}

TEST(WriterTest, ByteIdenticalAcrossWrites) {
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    WriterOptions o = Opts(c);
    o.compression.workers = c == Compression::kZstd ? 2 : 0;
    auto first = WriteLayer(o, AddEveryType);
    auto second = WriteLayer(o, AddEveryType);
    EXPECT_EQ(first.first, second.first);
    EXPECT_EQ(first.second.digest, second.second.digest);
  }
}

TEST(WriterTest, SourceDateEpochClampsMtimes) {
  WriterOptions o = Opts();
  o.source_date_epoch = 1500;
  auto [tar, info] = WriteLayer(o, [](LayerWriter& w) {
    ASSERT_TRUE(w.Add(Make(EntryType::kDirectory, "old", 0755, 100)));
    ASSERT_TRUE(w.Add(Make(EntryType::kDirectory, "new", 0755, 999999)));
    Entry exact = Make(EntryType::kRegular, "exact", 0644, 1500);
    exact.mtime.nsec = 1;  // just after the epoch: clamped too
    ASSERT_TRUE(w.Add(exact));
    ASSERT_TRUE(w.AddWhiteout("", "gone"));
  });
  EXPECT_EQ(ListTar(tar), (std::vector<std::string>{
                              "old/|dir|755|0:0|0|100.0||",
                              "new/|dir|755|0:0|0|1500.0||",
                              "exact|file|644|0:0|0|1500.0||",
                              ".wh.gone|file|0|0:0|0|1500.0||",
                          }));
}

TEST(WriterTest, SubsecondMtimeIsOptIn) {
  auto add = [](LayerWriter& w) {
    Entry f = Make(EntryType::kRegular, "f", 0644);
    f.mtime = {1000, 123456789};
    ASSERT_TRUE(w.Add(f));
  };
  auto [truncated, info1] = WriteLayer(Opts(), add);
  EXPECT_EQ(ListTar(truncated),
            std::vector<std::string>{"f|file|644|0:0|0|1000.0||"});
  EXPECT_EQ(truncated.find("mtime="), std::string::npos);

  WriterOptions o = Opts();
  o.subsecond_mtime = true;
  auto [precise, info2] = WriteLayer(o, add);
  EXPECT_EQ(ListTar(precise),
            std::vector<std::string>{"f|file|644|0:0|0|1000.123456789||"});
  EXPECT_NE(precise.find("mtime=1000.123456789\n"), std::string::npos);
  testing::ScopedTempDir dir;
  ASSERT_TRUE(testutil::ApplyBlob(precise, dir.path()));
  struct stat st;
  ASSERT_EQ(::lstat((dir.path() + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
}

TEST(WriterTest, LongNamesAndLinkTargets) {
  std::string d1 = "long/" + std::string(120, 'a');
  std::string file = d1 + "/" + std::string(200, 'b');  // 326 bytes
  std::string target =
      "/" + std::string(150, 't') + "/" + std::string(150, 'u');
  auto [tar, info] = WriteLayer(Opts(Compression::kGzip), [&](LayerWriter& w) {
    ASSERT_TRUE(w.Add(Make(EntryType::kDirectory, "long", 0755)));
    ASSERT_TRUE(w.Add(Make(EntryType::kDirectory, d1, 0755)));
    ASSERT_TRUE(AddContent(w, Make(EntryType::kRegular, file, 0644), "x"));
    Entry s = Make(EntryType::kSymlink, d1 + "/s", 0777);
    s.link_target = target;
    ASSERT_TRUE(w.Add(s));
    Entry h = Make(EntryType::kHardlink, "h", 0644);
    h.link_target = file;
    ASSERT_TRUE(w.Add(h));
  });
  testing::ScopedTempDir dir;
  auto stats = testutil::ApplyBlob(tar, dir.path() + "");
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(GetFile(dir.path() + "/" + file), "x");
  char buf[1024];
  ssize_t n =
      ::readlink((dir.path() + "/" + d1 + "/s").c_str(), buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), target);
  struct stat st;
  ASSERT_EQ(::stat((dir.path() + "/h").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  // GNU tar reads the PAX names back too.
  PutFile(dir.path() + "/l.tgz", tar);
  EXPECT_EQ(RunCmd("tar -tzf " + dir.path() + "/l.tgz"),
            "long/\n" + d1 + "/\n" + file + "\n" + d1 + "/s\nh\n");
}

TEST(WriterTest, NonAsciiNames) {
  std::string utf8 = "caf\xc3\xa9";
  std::string raw = "bad\xff\xfe";
  auto [tar, info] = WriteLayer(Opts(), [&](LayerWriter& w) {
    ASSERT_TRUE(w.Add(Make(EntryType::kRegular, utf8, 0644)));
    ASSERT_TRUE(w.Add(Make(EntryType::kRegular, raw, 0644)));
  });
  // Valid UTF-8 goes out as a plain PAX path record, as Go writes it.
  EXPECT_NE(tar.find("path=" + utf8 + "\n"), std::string::npos);
  EXPECT_EQ(ListTar(tar), (std::vector<std::string>{
                              utf8 + "|file|644|0:0|0|1000.0||",
                              raw + "|file|644|0:0|0|1000.0||",
                          }));
  testing::ScopedTempDir dir;
  ASSERT_TRUE(testutil::ApplyBlob(tar, dir.path()));
  EXPECT_TRUE(base::PathExists(dir.path() + "/" + utf8));
  EXPECT_TRUE(base::PathExists(dir.path() + "/" + raw));
}

TEST(WriterTest, RefusesInvalidEntriesAndStaysUsable) {
  base::StringSink sink;
  auto w = *LayerWriter::Create(&sink, Opts());
  std::vector<Entry> bad = {
      Make(EntryType::kRegular, "/abs", 0644),
      Make(EntryType::kRegular, "a/../b", 0644),
      Make(EntryType::kRegular, "./a", 0644),
      Make(EntryType::kRegular, "a//b", 0644),
      Make(EntryType::kRegular, "", 0644),
      Make(EntryType::kRegular, "file/", 0644),
      Make(EntryType::kRegular, "m", 010644),
      Make(EntryType::kSymlink, "s", 0777),  // no target
      Make(EntryType::kHardlink, "h", 0644),
  };
  bad.back().link_target = "never-added";
  Entry sized = Make(EntryType::kRegular, "sized", 0644);
  sized.size = 3;  // content needs AddFile
  bad.push_back(sized);
  Entry negative = Make(EntryType::kRegular, "neg", 0644);
  negative.uid = -1;
  bad.push_back(negative);
  for (const Entry& e : bad) {
    base::Status s = w->Add(e);
    ASSERT_FALSE(s) << e.path;
    EXPECT_EQ(s.error().code(), Code::kInvalidArgument) << e.path;
  }
  EXPECT_FALSE(w->AddWhiteout("", "a/b"));
  EXPECT_FALSE(w->AddWhiteout("", ".."));
  ASSERT_TRUE(w->Add(Make(EntryType::kRegular, "ok", 0644)));
  auto info = w->Finish();
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(ListTar(sink.str()),
            std::vector<std::string>{"ok|file|644|0:0|0|1000.0||"});
  EXPECT_FALSE(w->Finish());  // only once
}

TEST(WriterTest, ContentSizeMismatchFailsTheLayer) {
  for (std::string data : {"ab", "abcdef"}) {
    base::StringSink sink;
    auto w = *LayerWriter::Create(&sink, Opts());
    Entry f = Make(EntryType::kRegular, "f", 0644);
    f.size = 4;
    base::StringSource src(data);
    base::Status s = w->AddFile(f, src);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Code::kIo);
    EXPECT_FALSE(w->Add(Make(EntryType::kRegular, "g", 0644)));
    EXPECT_FALSE(w->Finish());
  }
}

class FailAfterSink : public base::Sink {
 public:
  explicit FailAfterSink(size_t limit) : limit_(limit) {}
  base::Status Write(std::span<const uint8_t> data) override {
    written_ += data.size();
    if (written_ > limit_) return base::MakeError(Code::kIo, "disk full");
    return base::OkStatus();
  }
  using base::Sink::Write;

 private:
  size_t limit_;
  size_t written_ = 0;
};

TEST(WriterTest, SinkErrorsSurface) {
  FailAfterSink sink(1000);
  auto w = *LayerWriter::Create(&sink, Opts());
  Entry f = Make(EntryType::kRegular, "f", 0644);
  std::string data(100000, 'x');
  base::Status s = AddContent(*w, f, data);
  if (s) {
    auto info = w->Finish();
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().message(), "disk full");
  } else {
    EXPECT_EQ(s.error().message(), "disk full");
  }
}

TEST(WriterTest, DroppedWriterWritesNothingMore) {
  base::StringSink sink;
  {
    auto w = *LayerWriter::Create(&sink, Opts());
    ASSERT_TRUE(w->Add(Make(EntryType::kRegular, "f", 0644)));
  }
  // libarchive held the header in its 10 KiB block; nothing was flushed.
  EXPECT_EQ(sink.str(), "");
}

TEST(WriterTest, AddFileFromPathStreamsAFile) {
  testing::ScopedTempDir dir;
  std::string data(3 << 20, 'q');
  data[12345] = 'z';
  PutFile(dir.path() + "/big", data);
  auto [tar, info] = WriteLayer(Opts(), [&](LayerWriter& w) {
    Entry e = Make(EntryType::kRegular, "big", 0644);
    e.size = static_cast<int64_t>(data.size());
    ASSERT_TRUE(w.AddFileFromPath(e, dir.path() + "/big"));
    e.path = "missing";
    base::Status s = w.AddFileFromPath(e, dir.path() + "/missing");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Code::kNotFound);
  });
  testing::ScopedTempDir out;
  ASSERT_TRUE(testutil::ApplyBlob(tar, out.path()));
  EXPECT_EQ(GetFile(out.path() + "/big"), data);
}

}  // namespace
}  // namespace strata::layer
