// The store commands (images, rmi, prune, du, save) on a store this test
// writes by hand, file by file, from the formats documented in
// lib/store/store.h, lib/image/local_images.h and lib/cache/cache.h.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "base/digest.h"
#include "base/file.h"
#include "support/run_command.h"
#include "support/test_support.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

// store::EncodeKey: everything but [A-Za-z0-9_-] as %XX.
std::string EncodeKey(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string Rfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A version-1 store laid out by hand.
class HandStore {
 public:
  explicit HandStore(std::string root) : root_(std::move(root)) {
    fs::create_directories(root_ + "/blobs/sha256");
    Write("store-version", "1\n");
  }
  const std::string& root() const { return root_; }

  void Write(const std::string& rel, const std::string& data) const {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    ASSERT_TRUE(base::WriteFileAtomic(root_ + "/" + rel, data));
  }
  // Stores a blob; returns its digest.
  base::Digest Blob(const std::string& data) const {
    base::Digest d = base::Digest::Of(data);
    Write("blobs/sha256/" + d.hex(), data);
    return d;
  }
  bool HasBlob(const base::Digest& d) const {
    return fs::exists(root_ + "/blobs/sha256/" + d.hex());
  }
  size_t BlobCount() const {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(root_ + "/blobs/sha256"),
                      fs::directory_iterator()));
  }

  // A one-layer image; returns the manifest JSON's digest.
  struct Image {
    base::Digest manifest, config, layer;
    int64_t manifest_size = 0, bytes = 0;
  };
  Image PutImage(const std::string& layer, const std::string& created) const {
    Image img;
    img.layer = Blob(layer);
    std::string config =
        "{\"created\":\"" + created +
        "\",\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" +
        base::Digest::Of("diff:" + layer).ToString() + "\"]}}";
    img.config = Blob(config);
    std::string manifest =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image."
        "manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci."
        "image.config.v1+json\",\"digest\":\"" +
        img.config.ToString() + "\",\"size\":" +
        std::to_string(config.size()) +
        "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1."
        "tar+gzip\",\"digest\":\"" +
        img.layer.ToString() + "\",\"size\":" + std::to_string(layer.size()) +
        "}]}";
    img.manifest = Blob(manifest);
    img.manifest_size = static_cast<int64_t>(manifest.size());
    img.bytes = static_cast<int64_t>(layer.size() + config.size() +
                                     manifest.size());
    return img;
  }
  void Tag(const std::string& key, const Image& img) const {
    Write("records/images/" + EncodeKey(key),
          "{\"digest\":\"" + img.manifest.ToString() +
              "\",\"mediaType\":\"application/vnd.oci.image.manifest.v1+"
              "json\",\"size\":" +
              std::to_string(img.manifest_size) +
              ",\"created\":\"2020-01-01T00:00:00Z\"}");
  }
  // A cache record naming a layer blob.
  void Cache(const std::string& name, const base::Digest& layer,
             int64_t size) const {
    Write("records/cache/" + base::Digest::Of(name).hex(),
          "{\"v\":1,\"layer\":{\"mediaType\":\"application/vnd.oci.image."
          "layer.v1.tar+gzip\",\"digest\":\"" +
              layer.ToString() + "\",\"size\":" + std::to_string(size) +
              ",\"diffID\":\"" + base::Digest::Of("d:" + name).ToString() +
              "\",\"uncompressedSize\":1}}");
  }

 private:
  std::string root_;
};

class StoreCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    created_ = Rfc3339(std::time(nullptr) - 7200);
    app_ = store_.PutImage("app layer", created_);
    other_ = store_.PutImage("other layer!", created_);
    store_.Tag("docker.io/library/app:v1", app_);
    store_.Tag("docker.io/library/app:v2", app_);
    store_.Tag("localhost:5000/team/x:1", other_);
  }
  CommandResult Run(std::vector<std::string> args,
                    const std::string& stdin_data = "") {
    args.push_back("--root");
    args.push_back(store_.root());
    return RunStrata(args, stdin_data);
  }
  std::string Id(const HandStore::Image& img) const {
    return img.config.hex().substr(0, 12);
  }

  ScopedTempDir tmp_;
  HandStore store_{tmp_.path() + "/store"};
  std::string created_;
  HandStore::Image app_, other_;
};

TEST_F(StoreCommandsTest, ImagesTable) {
  CommandResult r = Run({"images"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // app: 9 + 196 + 399 bytes; x: 12 + 196 + 400.
  ASSERT_EQ(app_.bytes, 604);
  ASSERT_EQ(other_.bytes, 608);
  EXPECT_EQ(r.out,
            "REPOSITORY              TAG       IMAGE ID       CREATED       "
            "SIZE\n"
            "app                     v1        " + Id(app_) +
                "   2 hours ago   604B\n"
                "app                     v2        " + Id(app_) +
                "   2 hours ago   604B\n"
                "localhost:5000/team/x   1         " + Id(other_) +
                "   2 hours ago   608B\n");

  r = Run({"images", "-q"});
  EXPECT_EQ(r.out, Id(app_) + "\n" + Id(app_) + "\n" + Id(other_) + "\n");
  r = Run({"images", "--no-trunc", "-q", "localhost:5000/team/x"});
  EXPECT_EQ(r.out, other_.config.ToString() + "\n");
  r = Run({"images", "app:v2", "--digests"});
  EXPECT_EQ(r.out,
            "REPOSITORY   TAG       DIGEST" + std::string(68, ' ') +
                "IMAGE ID       CREATED       SIZE\n"
                "app          v2        " + app_.manifest.ToString() +
                "   " + Id(app_) + "   2 hours ago   604B\n");
  r = Run({"images", "nothing"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n");
}

TEST_F(StoreCommandsTest, RootDefaultsToStrataRoot) {
  CommandResult r = RunStrata({"images", "-q"}, "", "",
                              {"STRATA_ROOT=" + store_.root()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, Id(app_) + "\n" + Id(app_) + "\n" + Id(other_) + "\n");
}

TEST_F(StoreCommandsTest, RmiUntagsAndNamesUnknownImages) {
  CommandResult r = Run({"rmi", "app:v1", "nope", "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "Untagged: app:v1\n");
  EXPECT_EQ(r.err,
            "strata: no such image: nope:latest\n"
            "strata: no such image: app:latest\n");
  r = Run({"images", "-q"});
  EXPECT_EQ(r.out, Id(app_) + "\n" + Id(other_) + "\n");
  // Blobs stay until prune.
  EXPECT_TRUE(store_.HasBlob(app_.layer));
  // By image ID prefix: every tag of that image.
  r = Run({"rmi", "sha256:" + other_.config.hex().substr(0, 8)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Untagged: localhost:5000/team/x:1\n");
  r = Run({"rmi"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "strata: requires at least 1 argument (see 'strata rmi "
            "--help')\n");
}

TEST_F(StoreCommandsTest, DamagedRecordIsNamedAndRemovable) {
  store_.Write("records/images/" + EncodeKey("docker.io/library/bad:1"),
               "{not json");
  CommandResult r = Run({"images"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "strata: image record \"docker.io/library/bad:1\" is damaged (not "
            "JSON); remove it with 'strata rmi'\n");
  r = Run({"rmi", "bad:1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Untagged: bad:1\n");
  EXPECT_EQ(Run({"images"}).exit_code, 0);
}

TEST_F(StoreCommandsTest, PruneAfterRmiReclaimsTheBlobs) {
  store_.Blob("garbage");  // 7 bytes nothing names
  CommandResult r = Run({"rmi", "localhost:5000/team/x:1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run({"du"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find("Records")),
            "TYPE              COUNT     SIZE\n"
            "Image blobs       3         604B\n"
            "Cache blobs       0         0B\n"
            "Unused blobs      4         615B\n"
            "Unpacked layers   0         0B\n"
            "Unused layers     0         0B\n");
  EXPECT_NE(r.out.find("Reclaimable by 'strata prune': 615B\n"),
            std::string::npos)
      << r.out;

  // Without -f, only "y" goes ahead.
  r = Run({"prune"}, "no\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "strata: prune has been cancelled\n");
  EXPECT_EQ(r.out,
            "WARNING! This will remove every blob and unpacked layer that no "
            "image or remaining cache record uses.\nAre you sure you want to "
            "continue? [y/N] ");
  EXPECT_TRUE(store_.HasBlob(other_.layer));
  r = Run({"prune"}, "y\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(r.out.find("[y/N] ") + 6),
            "Deleted build cache records: 0\nDeleted blobs: 4\n"
            "Deleted unpacked layers: 0\nDeleted cache mounts: 0\n"
            "Total reclaimed space: 615B\n");
  EXPECT_FALSE(store_.HasBlob(other_.layer));
  EXPECT_TRUE(store_.HasBlob(app_.layer));
  EXPECT_EQ(store_.BlobCount(), 3u);
}

TEST_F(StoreCommandsTest, PruneAllDropsTheBuildCache) {
  base::Digest layer = store_.Blob("cached layer");  // 12 bytes
  store_.Cache("step", layer, 12);
  CommandResult r = Run({"prune", "-f", "--keep-duration", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Deleted build cache records: 0\nDeleted blobs: 0\n"
            "Deleted unpacked layers: 0\nDeleted cache mounts: 0\n"
            "Total reclaimed space: 0B\n");
  r = Run({"du", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Cache blobs       1         12B\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Store: " + store_.root() + "\n"), std::string::npos);
  EXPECT_NE(r.out.find("app:v1" + std::string(20, ' ') +
                       app_.manifest.hex().substr(0, 12) + "   604B\n"),
            std::string::npos)
      << r.out;
  // The record was used moments ago: "Less than a second", "1 second"...
  size_t row = r.out.find(base::Digest::Of("step").hex().substr(0, 12) + "   ");
  ASSERT_NE(row, std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ago   12B       false\n", row), std::string::npos)
      << r.out;
  // A RUN cache mount (and its lock) and a context stat cache.
  fs::create_directories(store_.root() + "/cache-mounts/abc/pip");
  std::ofstream(store_.root() + "/cache-mounts/abc/pip/wheel") << "12345";
  std::ofstream(store_.root() + "/cache-mounts/abc.lock");
  fs::create_directories(store_.root() + "/statcache");
  std::ofstream(store_.root() + "/statcache/def") << "x";
  r = Run({"du"});
  EXPECT_NE(r.out.find("Cache mounts      1         5B\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Stat caches       1         1B\n"), std::string::npos)
      << r.out;
  r = Run({"prune", "--all", "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find("Total")),
            "Deleted build cache records: 1\nDeleted blobs: 1\n"
            "Deleted unpacked layers: 0\nDeleted cache mounts: 1\n");
  EXPECT_TRUE(fs::is_empty(store_.root() + "/cache-mounts"));
  EXPECT_TRUE(fs::is_empty(store_.root() + "/statcache"));
  EXPECT_FALSE(store_.HasBlob(layer));
  EXPECT_TRUE(fs::is_empty(store_.root() + "/records/cache"));
}

TEST_F(StoreCommandsTest, SaveWritesDockerAndOciArchives) {
  std::string tar = tmp_.path() + "/app.tar";
  CommandResult r = Run({"save", "app:v1", "app:v2", "-o", tar});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  CommandResult list = RunCommand({"tar", "-xOf", tar, "manifest.json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out, "[{\"Config\":\"blobs/sha256/" + app_.config.hex() +
                          "\",\"RepoTags\":[\"app:v1\",\"app:v2\"],"
                          "\"Layers\":[\"blobs/sha256/" +
                          app_.layer.hex() + "\"]}]");
  // To standard output, the same archive (libarchive pads the last block
  // of a pipe, not of a file).
  r = Run({"save", "app:v1", "app:v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto unpadded = [](std::string s) {
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
  };
  EXPECT_TRUE(unpadded(r.out) == unpadded(ReadTestFile(tar)));

  std::string oci = tmp_.path() + "/oci.tar";
  r = Run({"save", "--format", "oci", "-o", oci, "app:v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  list = RunCommand({"tar", "-tf", oci});
  EXPECT_EQ(list.out,
            "oci-layout\nindex.json\nblobs/\nblobs/sha256/\nblobs/sha256/" +
                app_.manifest.hex() + "\nblobs/sha256/" + app_.config.hex() +
                "\nblobs/sha256/" + app_.layer.hex() + "\n");
  list = RunCommand({"tar", "-xOf", oci, "index.json"});
  EXPECT_NE(list.out.find("\"io.containerd.image.name\":\"docker.io/library/"
                          "app:v1\",\"org.opencontainers.image.ref.name\":"
                          "\"v1\""),
            std::string::npos)
      << list.out;

  r = Run({"save", "nope", "-o", tmp_.path() + "/x.tar"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "strata: no such image: nope\n");
  EXPECT_FALSE(fs::exists(tmp_.path() + "/x.tar"));
  r = Run({"save", "--format", "rar", "app:v1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "strata: invalid argument \"rar\" for \"--format\" flag: unknown "
            "format (want docker or oci) (see 'strata save --help')\n");
}

struct StoreUsageCase {
  std::vector<std::string> args;
  std::string message;
};

void PrintTo(const StoreUsageCase& c, std::ostream* os) {
  for (const std::string& a : c.args) *os << a << " ";
}

class StoreUsageTest : public ::testing::TestWithParam<StoreUsageCase> {};

TEST_P(StoreUsageTest, ExitsTwoNamingTheProblem) {
  ScopedTempDir tmp;
  std::vector<std::string> args = GetParam().args;
  args.insert(args.begin() + 1, {"--root", tmp.path()});
  CommandResult r = RunStrata(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(GetParam().message), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StoreUsageTest,
    ::testing::Values(
        StoreUsageCase{{"images", "--frob"}, "unknown flag: --frob"},
        StoreUsageCase{{"images", "a", "b"}, "accepts at most 1 argument"},
        StoreUsageCase{{"images", "Bad"}, "repository name must be lowercase"},
        StoreUsageCase{{"rmi", "-x", "a"}, "unknown shorthand flag: 'x'"},
        StoreUsageCase{{"prune", "extra"}, "accepts no arguments"},
        StoreUsageCase{{"prune", "--keep-duration", "1d"},
                       "time: unknown unit \"d\" in duration \"1d\""},
        StoreUsageCase{{"prune", "--keep-duration", "10"},
                       "time: missing unit in duration \"10\""},
        StoreUsageCase{{"prune", "--keep-storage", "lots"},
                       "invalid size: 'lots'"},
        StoreUsageCase{{"du", "x"}, "accepts no arguments"},
        StoreUsageCase{{"save"}, "requires at least 1 argument"},
        StoreUsageCase{{"save", "-o"}, "flag needs an argument"}),
    [](const ::testing::TestParamInfo<StoreUsageCase>& info) {
      return SanitizeTestName(info.param.args[0] + "_" +
                              std::to_string(info.index));
    });

TEST(StoreCommandsHelpTest, EveryCommandHasHelpAndRoot) {
  for (const char* cmd : {"images", "rmi", "prune", "du", "save"}) {
    CommandResult r = RunStrata({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find(std::string("Usage: strata ") + cmd), std::string::npos);
    EXPECT_NE(r.out.find("--root DIR"), std::string::npos) << cmd;
  }
  CommandResult r = RunStrata({"--help"});
  for (const char* cmd : {"images", "rmi", "prune", "du", "save"}) {
    EXPECT_NE(r.out.find(std::string("  ") + cmd + " "), std::string::npos)
        << cmd;
  }
}

}  // namespace
}  // namespace strata::testing
