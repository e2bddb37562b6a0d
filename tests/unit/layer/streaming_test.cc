// Layers stream: a 512 MiB file passes through the writer (and back
// through the decompressor) without the process growing by its size.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include "layer/compression.h"
#include "layer/writer.h"
#include "support/test_support.h"

namespace strata::layer {
namespace {

constexpr int64_t kFileSize = int64_t{512} << 20;
// 64 MiB, in the sanitizer build too: gzip keeps one zlib state per
// worker (layer/compression.cc), so nothing per block piles up in ASan's
// quarantine.
constexpr long kMaxGrowthKb = 64 * 1024;

long MaxRssKb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // kilobytes on Linux
}

TEST(StreamingTest, HugeSparseFileKeepsMemoryFlat) {
  testing::ScopedTempDir dir;
  std::string path = dir.path() + "/sparse";
  {
    base::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT, 0644));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::ftruncate(fd.get(), kFileSize), 0);  // no disk blocks used
    ASSERT_EQ(::pwrite(fd.get(), "end", 3, kFileSize - 3), 3);
  }
  long before = MaxRssKb();

  // The blob is small (zeros compress ~1000:1); keep it to read it back.
  base::StringSink blob;
  WriterOptions options;
  options.compression.compression = Compression::kGzip;
  options.compression.level = 1;
  auto writer = LayerWriter::Create(&blob, options);
  ASSERT_TRUE(writer);
  Entry e;
  e.path = "sparse";
  e.size = kFileSize;
  ASSERT_TRUE((*writer)->AddFileFromPath(e, path));
  auto info = (*writer)->Finish();
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->uncompressed_size, kFileSize + 512 + 1024);
  EXPECT_LT(info->size, 4 << 20);

  // Decompressing streams too, and the bytes hash to the diffID.
  base::StringSource in(blob.str());
  auto src = DecompressingSource::Open(&in);
  ASSERT_TRUE(src);
  base::DigestingSink hashed(nullptr);
  auto copied = base::CopyStream(**src, hashed);
  ASSERT_TRUE(copied) << copied.error().ToString();
  EXPECT_EQ(*copied, info->uncompressed_size);
  EXPECT_EQ(hashed.Finish(), info->diff_id);

  long growth = MaxRssKb() - before;
  RecordProperty("rss_growth_kib", static_cast<int>(growth));
  EXPECT_LT(growth, kMaxGrowthKb) << "peak RSS grew by " << growth << " KiB";
}

}  // namespace
}  // namespace strata::layer
