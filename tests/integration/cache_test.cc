// The build cache and reproducibility, end to end.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "build_fixture.h"

namespace strata::testing {
namespace {

const char kPythonLike[] =
    "FROM scratch\n"
    "WORKDIR /app\n"
    "COPY requirements.txt .\n"
    "COPY vendor/ ./vendor/\n"
    "COPY src/ ./src/\n"
    "CMD [\"run\"]\n";

std::string ManifestDigest(const std::string& metadata_file) {
  auto j = nlohmann::json::parse(*base::ReadFile(metadata_file));
  return j["containerimage.digest"];
}

TEST_F(BuildTest, UnchangedRebuildIsAllCachedAndSameImage) {
  Write("Dockerfile", kPythonLike);
  Write("requirements.txt", "flask\n");
  Write("vendor/flask.whl", "wheel");
  Write("src/main.py", "print(1)\n");
  MustBuild({"--metadata-file", path("m1.json")});
  // Into the next second: the image's times come from the cache, not the
  // clock, so the digest must not change.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CommandResult second = MustBuild({"--metadata-file", path("m2.json")});
  EXPECT_EQ(Count(second.err, " CACHED\n"), 4) << second.err;  // WORKDIR+3
  EXPECT_EQ(ManifestDigest(path("m1.json")), ManifestDigest(path("m2.json")));
}

TEST_F(BuildTest, EditingOneFileRedoesOnlyTheStepsThatReadIt) {
  Write("Dockerfile", kPythonLike);
  Write("requirements.txt", "flask\n");
  Write("vendor/flask.whl", "wheel");
  Write("src/main.py", "print(1)\n");
  MustBuild({});
  Write("src/main.py", "print(2)\n");
  CommandResult r = MustBuild({"--output", "type=local,dest=" + path("fs")});
  EXPECT_EQ(Count(r.err, " CACHED\n"), 3) << r.err;
  size_t src = r.err.find("COPY src/ ./src/");
  ASSERT_NE(src, std::string::npos);
  EXPECT_EQ(r.err.find("CACHED", src), std::string::npos) << r.err;
  EXPECT_EQ(*base::ReadFile(path("fs/app/src/main.py")), "print(2)\n");
  // Touching a file without changing it keeps the cache.
  ASSERT_EQ(::utimes(path("ctx/requirements.txt").c_str(), nullptr), 0);
  CommandResult touched = MustBuild({});
  EXPECT_EQ(Count(touched.err, " CACHED\n"), 4) << touched.err;
}

TEST_F(BuildTest, NoCacheAndNoCacheFilter) {
  Write("Dockerfile",
        "FROM scratch AS a\nCOPY x /x\nFROM scratch\nCOPY --from=a /x /y\n"
        "COPY x /z\n");
  Write("x", "x");
  MustBuild({});
  EXPECT_EQ(Count(MustBuild({"--no-cache"}).err, " CACHED\n"), 0);
  CommandResult filtered = MustBuild({"--no-cache-filter", "a"});
  EXPECT_EQ(Count(filtered.err, " CACHED\n"), 2) << filtered.err;
}

TEST_F(BuildTest, SameDigestOnTwoRootsWithSourceDateEpoch) {
  Write("Dockerfile", kPythonLike);
  Write("requirements.txt", "flask\n");
  Write("vendor/flask.whl", "wheel");
  Write("src/main.py", "print(1)\n");
  MustBuild({"--source-date-epoch", "1700000000", "--metadata-file",
             path("a.json")},
            path("rootA"));
  // Different mtimes on disk must not matter once clamped.
  ASSERT_EQ(::utimes(path("ctx/src/main.py").c_str(), nullptr), 0);
  MustBuild({"--build-arg", "SOURCE_DATE_EPOCH=1700000000",
             "--metadata-file", path("b.json")},
            path("rootB"));
  EXPECT_EQ(ManifestDigest(path("a.json")), ManifestDigest(path("b.json")));
}

TEST_F(BuildTest, CopyLayersMatchAcrossRootsWithoutEpoch) {
  Write("Dockerfile", kPythonLike);
  Write("requirements.txt", "flask\n");
  Write("vendor/flask.whl", "wheel");
  Write("src/main.py", "print(1)\n");
  MustBuild({"--output", "type=oci,dest=" + path("a") + "/"}, path("rootA"));
  MustBuild({"--output", "type=oci,dest=" + path("b") + "/"}, path("rootB"));
  LayoutImage a = ReadLayout(path("a"));
  LayoutImage b = ReadLayout(path("b"));
  ASSERT_EQ(a.manifest.layers.size(), 4u);
  EXPECT_EQ(a.manifest.layers, b.manifest.layers);
}

// The bound is 100 MB; ASan's shadow memory and quarantine add their own,
// so the sanitizer build allows 300 MB: still far below the 2 GiB a
// buffered file would take.
#ifdef STRATA_SANITIZED
constexpr int64_t kMaxRssKb = 300 * 1024;
#else
constexpr int64_t kMaxRssKb = 100 * 1024;
#endif

TEST_F(BuildTest, LargeFileIsStreamedInFlatMemory) {
  Write("Dockerfile", "FROM scratch\nCOPY big.bin /\n");
  int fd = ::open(path("ctx/big.bin").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, int64_t{2} << 30), 0);  // 2 GiB, sparse
  ::close(fd);
  // The layer is stored plain, then compressed for the layout: both
  // stream.
  CommandResult r = MustBuild({"--compression", "zstd", "--output",
                               "type=oci,dest=" + path("big-oci.tar")});
  EXPECT_LT(r.max_rss_kb, kMaxRssKb) << "peak RSS " << r.max_rss_kb << " kB";
  EXPECT_GT(std::filesystem::file_size(path("big-oci.tar")), 0u);
  EXPECT_LT(std::filesystem::file_size(path("big-oci.tar")), 16u << 20);
  EXPECT_GT(r.max_rss_kb, 0);  // the measurement itself worked
}

}  // namespace
}  // namespace strata::testing
