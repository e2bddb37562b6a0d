#include "layer/snapshot.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "layer/apply.h"
#include "layer_test_util.h"
#include "support/test_support.h"

namespace strata::layer {
namespace {

namespace fs = std::filesystem;
using base::Code;
using testutil::ListTar;
using testutil::ListTree;
using testutil::Privileged;
using testutil::PutFile;
using testutil::SetMtime;
using testutil::WriteLayer;

WriterOptions Plain() {
  WriterOptions o;
  o.compression.compression = Compression::kNone;
  return o;
}

std::pair<std::string, DirectoryStats> Snapshot(
    const std::string& dir, const DirectoryOptions& options = {},
    WriterOptions writer_options = Plain()) {
  DirectoryStats stats;
  auto [tar, info] = WriteLayer(writer_options, [&](LayerWriter& w) {
    auto s = WriteDirectoryLayer(dir, w, options);
    ASSERT_TRUE(s) << s.error().ToString();
    stats = *s;
  });
  return {tar, stats};
}

// Names only, from ListTar lines.
std::vector<std::string> Names(const std::string& tar) {
  std::vector<std::string> out;
  for (const std::string& line : ListTar(tar)) {
    out.push_back(line.substr(0, line.find('|')));
  }
  return out;
}

// Fixed metadata so listings do not depend on the clock.
void Settle(const std::string& root) {
  std::vector<std::string> paths;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    paths.push_back(e.path());
  }
  for (const std::string& p : paths) SetMtime(p, 1234);
}

TEST(SnapshotTest, WalkOrderIsPerDirectoryByteOrder) {
  testing::ScopedTempDir dir;
  std::string t = dir.path();
  for (const char* f : {"b", "a/z", "a/B", "a.txt", "A", "a-b/c", "_x"}) {
    PutFile(t + "/" + f, f);
  }
  fs::create_directory(t + "/a/empty");
  auto [tar, stats] = Snapshot(t);
  EXPECT_EQ(Names(tar),
            (std::vector<std::string>{"A", "_x", "a/", "a/B", "a/empty/", "a/z",
                                      "a-b/", "a-b/c", "a.txt", "b"}));
  EXPECT_EQ(stats.entries, 10);
}

TEST(SnapshotTest, RoundTripsATree) {
  testing::ScopedTempDir src;
  std::string t = src.path();
  PutFile(t + "/bin/tool", "#!/bin/sh\n", 0755);
  PutFile(t + "/etc/conf", "k=v\n", 0640);
  PutFile(t + "/big", std::string(2 << 20, 'b'));
  ::chmod((t + "/bin").c_str(), 0711);
  ::symlink("../etc/conf", (t + "/bin/link").c_str());
  ::link((t + "/etc/conf").c_str(), (t + "/bin/conf-hard").c_str());
  ::mkfifo((t + "/fifo").c_str(), 0640);
  ::lsetxattr((t + "/etc/conf").c_str(), "user.test", "abc", 3, 0);
  if (::geteuid() == 0) ::lchown((t + "/etc/conf").c_str(), 33, 44);
  Settle(t);
  auto [tar, stats] = Snapshot(t);
  testing::ScopedTempDir dst;
  auto applied = testutil::ApplyBlob(tar, dst.path());
  ASSERT_TRUE(applied) << applied.error().ToString();
  EXPECT_EQ(ListTree(dst.path()), ListTree(t));
  // The second name of the inode is a tar hardlink to the first path.
  std::vector<std::string> lines = ListTar(tar);
  auto line_of = [&](const std::string& prefix) {
    for (const std::string& l : lines) {
      if (l.rfind(prefix, 0) == 0) return l;
    }
    return std::string();
  };
  if (::geteuid() == 0) {
    EXPECT_EQ(line_of("bin/conf-hard|"),
              "bin/conf-hard|file|640|33:44|4|1234.0||user.test");
    EXPECT_EQ(line_of("etc/conf|"),
              "etc/conf|hardlink|640|33:44|0|1234.0|bin/conf-hard|user.test");
  }
  EXPECT_EQ(stats.entries, 8);
}

TEST(SnapshotTest, ByteIdenticalTwiceAndClamped) {
  testing::ScopedTempDir src;
  std::string t = src.path();
  PutFile(t + "/a/b/c", "c");
  PutFile(t + "/a/d", "d");
  Settle(t);
  SetMtime(t + "/a/d", 999999, 5);
  WriterOptions o;
  o.compression.compression = Compression::kGzip;
  o.source_date_epoch = 5000;
  auto first = Snapshot(t, {}, o);
  auto second = Snapshot(t, {}, o);
  EXPECT_EQ(first.first, second.first);
  o.compression.compression = Compression::kNone;
  auto plain = Snapshot(t, {}, o);
  EXPECT_EQ(ListTar(plain.first).back(), "a/d|file|644|0:0|1|5000.0||");
  EXPECT_EQ(ListTar(plain.first).front(), "a/|dir|755|0:0|0|1234.0||");
}

TEST(SnapshotTest, PrefixPlacesTreeUnderTarget) {
  testing::ScopedTempDir src;
  PutFile(src.path() + "/x/y", "y");
  DirectoryOptions o;
  o.prefix = "/app/src/";
  auto [tar, stats] = Snapshot(src.path(), o);
  EXPECT_EQ(Names(tar),
            (std::vector<std::string>{"app/src/x/", "app/src/x/y"}));
  o.prefix = "../up";
  WriteLayer(Plain(), [&](LayerWriter& w) {
    auto s = WriteDirectoryLayer(src.path(), w, o);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Code::kInvalidArgument);
  });
}

TEST(SnapshotTest, SymlinksAreNotFollowedAndSocketsSkipped) {
  testing::ScopedTempDir outside;
  PutFile(outside.path() + "/secret", "s");
  testing::ScopedTempDir src;
  ::symlink(outside.path().c_str(), (src.path() + "/out").c_str());
  std::string sock_path = src.path() + "/sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  auto [tar, stats] = Snapshot(src.path());
  ::close(fd);
  ASSERT_EQ(ListTar(tar).size(), 1u);
  EXPECT_NE(ListTar(tar)[0].find("out|symlink|777|"), std::string::npos);
  EXPECT_NE(ListTar(tar)[0].find("|" + outside.path() + "|"),
            std::string::npos);
  EXPECT_EQ(stats.skipped, 1);
}

TEST(SnapshotTest, XattrPolicies) {
  if (!Privileged()) GTEST_SKIP() << "security.capability needs root";
  testing::ScopedTempDir src;
  std::string f = src.path() + "/f";
  PutFile(f, "f");
  ::lsetxattr(f.c_str(), "user.test", "1", 1, 0);
  std::string cap(20, '\0');
  cap[0] = 1;
  cap[3] = 2;
  cap[5] = 4;
  ASSERT_EQ(
      ::lsetxattr(f.c_str(), "security.capability", cap.data(), cap.size(), 0),
      0);
  auto xattrs_of = [&](XattrPolicy p) {
    DirectoryOptions o;
    o.xattrs = p;
    std::string line = ListTar(Snapshot(src.path(), o).first).at(0);
    return line.substr(line.rfind('|') + 1);
  };
  EXPECT_EQ(xattrs_of(XattrPolicy::kAll), "security.capability,user.test");
  EXPECT_EQ(xattrs_of(XattrPolicy::kCapabilityOnly), "security.capability");
  EXPECT_EQ(xattrs_of(XattrPolicy::kNone), "");
}

TEST(SnapshotTest, ConvertsOverlayUpperDirMarkers) {
  if (!Privileged()) GTEST_SKIP() << "whiteout devices need CAP_MKNOD";
  testing::ScopedTempDir upper;
  std::string u = upper.path();
  PutFile(u + "/keep", "k");
  ASSERT_EQ(::mknod((u + "/deleted").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::mknod((u + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ::chmod((u + "/null").c_str(), 0666);  // past the umask
  fs::create_directories(u + "/opq/sub");
  PutFile(u + "/opq/-first", "1");
  ASSERT_EQ(
      ::lsetxattr((u + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0),
      0);
  fs::create_directories(u + "/uopq");
  ASSERT_EQ(
      ::lsetxattr((u + "/uopq").c_str(), "user.overlay.opaque", "y", 1, 0), 0);
  fs::create_directories(u + "/notopq");
  ASSERT_EQ(
      ::lsetxattr((u + "/notopq").c_str(), "trusted.overlay.opaque", "x", 1, 0),
      0);
  Settle(u);
  DirectoryOptions o;
  o.convert_overlay_whiteouts = true;
  auto [tar, stats] = Snapshot(u, o);
  EXPECT_EQ(ListTar(tar), (std::vector<std::string>{
                              ".wh.deleted|file|0|0:0|0|0.0||",
                              "keep|file|644|0:0|1|1234.0||",
                              "notopq/|dir|755|0:0|0|1234.0||",
                              "null|char|666|0:0|0|1234.0||",
                              "opq/|dir|755|0:0|0|1234.0||",
                              "opq/.wh..wh..opq|file|0|0:0|0|0.0||",
                              "opq/-first|file|644|0:0|1|1234.0||",
                              "opq/sub/|dir|755|0:0|0|1234.0||",
                              "uopq/|dir|755|0:0|0|1234.0||",
                              "uopq/.wh..wh..opq|file|0|0:0|0|0.0||",
                          }));
  EXPECT_EQ(stats.whiteouts, 3);
  // Without conversion the device is an ordinary entry, overlay xattrs are
  // still dropped.
  auto [raw, raw_stats] = Snapshot(u);
  EXPECT_EQ(ListTar(raw).at(0), "deleted|char|0|0:0|0|1234.0||");
  EXPECT_EQ(raw.find("overlay"), std::string::npos);
}

TEST(SnapshotTest, MissingDirectoryIsAnError) {
  WriteLayer(Plain(), [&](LayerWriter& w) {
    auto s = WriteDirectoryLayer("/nonexistent/strata", w);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), Code::kNotFound);
  });
}

}  // namespace
}  // namespace strata::layer
