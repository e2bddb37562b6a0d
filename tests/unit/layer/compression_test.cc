#include "layer/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <vector>

#include "layer_test_util.h"
#include "support/test_support.h"

namespace strata::layer {
namespace {

using base::Code;
using testutil::GetFile;
using testutil::PutFile;
using testutil::RunCmd;

CompressionOptions Opts(Compression c, std::optional<int> level = {},
                        int workers = 0) {
  CompressionOptions o;
  o.compression = c;
  o.level = level;
  o.workers = workers;
  return o;
}

// Compressible but not trivial: words from a small vocabulary.
std::string SampleData(size_t size, unsigned seed = 1) {
  static const char* kWords[] = {"layer ",      "strata ", "tar ",
                                 "zstd ",       "gzip ",   "\n",
                                 "0123456789 ", "\x01\xff"};
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < size) out += kWords[rng() % 8];
  out.resize(size);
  return out;
}

std::string Compress(const std::string& data, const CompressionOptions& o) {
  base::StringSink sink;
  auto c = NewCompressingSink(&sink, o);
  EXPECT_TRUE(c) << c.error().ToString();
  if (!c) return "";
  // Several writes, to exercise streaming.
  for (size_t pos = 0; pos < data.size(); pos += 100000) {
    EXPECT_TRUE((*c)->Write(std::string_view(data).substr(pos, 100000)));
  }
  EXPECT_TRUE((*c)->Close());
  return sink.str();
}

base::Result<std::string> Decompress(const std::string& blob,
                                     Compression* detected = nullptr) {
  base::StringSource in(blob);
  STRATA_ASSIGN_OR_RETURN(auto src, DecompressingSource::Open(&in));
  if (detected) *detected = src->compression();
  base::StringSink out;
  STRATA_TRY(base::CopyStream(*src, out));
  return out.str();
}

TEST(CompressionTest, GzipRoundTrip) {
  std::string data = SampleData(3 << 20);
  std::string gz = Compress(data, Opts(Compression::kGzip));
  EXPECT_LT(gz.size(), data.size() / 2);
  Compression detected = Compression::kNone;
  auto back = Decompress(gz, &detected);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(detected, Compression::kGzip);
  EXPECT_EQ(*back, data);
}

TEST(CompressionTest, GzipHeaderIsFixed) {
  std::string gz = Compress("hello", Opts(Compression::kGzip));
  ASSERT_GE(gz.size(), 10u);
  // ID1 ID2 CM FLG, MTIME (4 bytes, 0), XFL (0 at the default level), OS.
  const unsigned char want[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  EXPECT_EQ(gz.substr(0, 10),
            std::string(reinterpret_cast<const char*>(want), sizeof(want)));
  EXPECT_EQ(Compress("hello", Opts(Compression::kGzip)), gz);
  // Level 9 sets XFL 2 (maximum compression), as RFC 1952 asks.
  std::string best = Compress("hello", Opts(Compression::kGzip, 9));
  EXPECT_EQ(static_cast<unsigned char>(best[8]), 2);
}

TEST(CompressionTest, GzipReadableByGzipTool) {
  testing::ScopedTempDir dir;
  std::string data = SampleData(1 << 20, 7);
  PutFile(dir.path() + "/x.gz", Compress(data, Opts(Compression::kGzip, 1)));
  EXPECT_EQ(RunCmd("gzip -dc " + dir.path() + "/x.gz"), data);
}

// gzip is written in independent 1 MiB blocks: any number of workers
// gives the same bytes, which gzip(1) and the reader take as one member.
TEST(CompressionTest, GzipBlocksAreTheSameForAnyNumberOfWorkers) {
  testing::ScopedTempDir dir;
  for (size_t size : {size_t{0}, size_t{1}, size_t{1} << 20,
                      (size_t{1} << 20) + 1, (size_t{7} << 19) + 12345}) {
    SCOPED_TRACE(size);
    std::string data = SampleData(size, 11);
    std::string serial = Compress(data, Opts(Compression::kGzip, {}, 0));
    for (int workers : {1, 2, 3}) {
      SCOPED_TRACE(workers);
      EXPECT_EQ(Compress(data, Opts(Compression::kGzip, {}, workers)), serial);
    }
    EXPECT_EQ(*Decompress(serial), data);
    PutFile(dir.path() + "/x.gz", serial);
    EXPECT_EQ(RunCmd("gzip -dc " + dir.path() + "/x.gz"), data);
  }
}

// One member, one deflate stream: readers that stop at the end of the
// first member (Python's tarfile "r|gz", Rust's GzDecoder) see it all.
// Inflates `gz` as a single gzip member: all of it must be that member.
void ExpectOneMember(const std::string& gz, const std::string& data) {
  z_stream zs{};
  ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(data.size() + 1, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u) << "bytes after the first member";
  ASSERT_EQ(zs.total_out, data.size());
  out.resize(data.size());
  EXPECT_TRUE(out == data);
  inflateEnd(&zs);
}

TEST(CompressionTest, GzipIsOneMember) {
  std::string data = SampleData((3 << 20) + 777, 9);
  ExpectOneMember(Compress(data, Opts(Compression::kGzip, {}, 2)), data);
}

// Blocks whose deflate data ends in each kind of final block (stored for
// random bytes, fixed or dynamic Huffman otherwise) and at each bit
// offset are joined into one stream; so are a whole number of blocks (an
// empty last one) and every level.
TEST(CompressionTest, GzipJoinsEveryKindOfBlock) {
  std::mt19937 rng(4);
  std::string random(1 << 20, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  std::string mixed = SampleData(1 << 20, 2) + random +
                      std::string(1 << 20, '\0') + "tail" + random +
                      SampleData((1 << 20) - 3, 5) + "xyz" +
                      std::string(1000, 'a');
  for (const std::string& data :
       {mixed, mixed.substr(0, 4 << 20), random + random}) {
    for (int level : {0, 1, 6, 9}) {
      SCOPED_TRACE(::testing::Message() << data.size() << " bytes, level "
                                        << level);
      std::string gz = Compress(data, Opts(Compression::kGzip, level, 2));
      ExpectOneMember(gz, data);
      auto back = Decompress(gz);
      ASSERT_TRUE(back) << back.error().ToString();
      EXPECT_TRUE(*back == data);
    }
  }
  // And each bit offset a block can end at: many small texts of different
  // sizes make the final blocks end all over the byte.
  for (int extra = 0; extra < 24; ++extra) {
    std::string data = SampleData((2 << 20) + extra * 37, extra);
    ExpectOneMember(Compress(data, Opts(Compression::kGzip, {}, 0)), data);
  }
}

// Random bytes are stored, not searched for matches: the output is the
// input plus block headers; a block that is half text is still deflated.
TEST(CompressionTest, GzipStoresIncompressibleBlocks) {
  std::mt19937 rng(11);
  std::string random(3 << 20, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  std::string gz = Compress(random, Opts(Compression::kGzip, {}, 2));
  // 10 + 8 bytes of gzip framing, 5 per stored block of up to 65535 bytes
  // (17 per MiB), 5 for the empty final block after the last full MiB.
  EXPECT_LE(gz.size(), random.size() + 18 + 5 * (3 * 17 + 1));
  ExpectOneMember(gz, random);

  std::string half = SampleData(1 << 19, 3) + random.substr(0, 1 << 19);
  std::string hgz = Compress(half, Opts(Compression::kGzip, {}, 0));
  EXPECT_LT(hgz.size(), half.size() * 3 / 4);
  ExpectOneMember(hgz, half);
}

// Real text, not a synthetic mix: the repository's testdata (Dockerfiles,
// AST dumps, license text), in a different file order each round, to 6 MiB.
std::string RealText() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(
           strata::testing::TestdataPath(""))) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::mt19937 rng(9);
  std::string out;
  while (out.size() < (6u << 20)) {
    std::shuffle(files.begin(), files.end(), rng);
    for (const std::string& f : files) out += GetFile(f);
  }
  out.resize(6u << 20);
  return out;
}

TEST(CompressionTest, GzipBlocksKeepTheRatio) {
  testing::ScopedTempDir dir;
  std::string data = RealText();
  std::string ours = Compress(data, Opts(Compression::kGzip, {}, 2));
  PutFile(dir.path() + "/x", data);
  std::string tool = RunCmd("gzip -6 -c " + dir.path() + "/x");
  ASSERT_FALSE(tool.empty());
  // Independent 1 MiB blocks cost little next to gzip's one stream.
  EXPECT_LT(static_cast<double>(ours.size()),
            static_cast<double>(tool.size()) * 1.02)
      << ours.size() << " vs gzip's " << tool.size();
}

TEST(CompressionTest, ZstdRoundTripAndToolReadable) {
  testing::ScopedTempDir dir;
  std::string data = SampleData(5 << 20, 3);
  for (int workers : {0, 2}) {
    SCOPED_TRACE(workers);
    CompressionOptions o = Opts(Compression::kZstd, {}, workers);
    std::string zst = Compress(data, o);
    EXPECT_EQ(zst.substr(0, 4), "\x28\xb5\x2f\xfd");
    Compression detected = Compression::kNone;
    auto back = Decompress(zst, &detected);
    ASSERT_TRUE(back) << back.error().ToString();
    EXPECT_EQ(detected, Compression::kZstd);
    EXPECT_EQ(*back, data);
    PutFile(dir.path() + "/x.zst", zst);
    EXPECT_EQ(RunCmd("zstd -q -dc " + dir.path() + "/x.zst"), data);
    // Deterministic for a given option set, threads or not.
    EXPECT_EQ(Compress(data, o), zst);
  }
}

TEST(CompressionTest, ZstdLevelChangesOutput) {
  std::string data = SampleData(1 << 20, 5);
  std::string fast = Compress(data, Opts(Compression::kZstd, 1));
  std::string small = Compress(data, Opts(Compression::kZstd, 19));
  EXPECT_NE(fast, small);
  EXPECT_EQ(*Decompress(small), data);
}

TEST(CompressionTest, ReadsBzip2AndXzMadeByTools) {
  testing::ScopedTempDir dir;
  std::string data = SampleData(300000, 9);
  PutFile(dir.path() + "/x", data);
  for (auto [tool, want] : {std::pair{"bzip2", Compression::kBzip2},
                            {"xz", Compression::kXz},
                            {"gzip", Compression::kGzip},
                            {"zstd -q", Compression::kZstd}}) {
    SCOPED_TRACE(tool);
    std::string blob = RunCmd(std::string(tool) + " -c < " + dir.path() + "/x");
    Compression detected = Compression::kNone;
    auto back = Decompress(blob, &detected);
    ASSERT_TRUE(back) << back.error().ToString();
    EXPECT_EQ(detected, want);
    EXPECT_EQ(*back, data);
  }
}

TEST(CompressionTest, ConcatenatedGzipMembers) {
  std::string a = Compress("first ", Opts(Compression::kGzip));
  std::string b = Compress("second", Opts(Compression::kGzip));
  auto back = Decompress(a + b);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, "first second");
}

TEST(CompressionTest, PlainAndEmptyPassThrough) {
  for (std::string data :
       {std::string(), std::string("BZ"),
        std::string("plain tar bytes\0\0", 17), SampleData(70000)}) {
    Compression detected = Compression::kGzip;
    auto back = Decompress(data, &detected);
    ASSERT_TRUE(back) << back.error().ToString();
    EXPECT_EQ(detected, Compression::kNone);
    EXPECT_EQ(*back, data);
  }
}

TEST(CompressionTest, CorruptGzipIsParseError) {
  std::string gz = Compress(SampleData(100000), Opts(Compression::kGzip));
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  auto back = Decompress(gz);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code(), Code::kParse);
  // Truncated.
  std::string cut = Compress(SampleData(100000), Opts(Compression::kZstd));
  cut.resize(cut.size() / 2);
  auto back2 = Decompress(cut);
  ASSERT_FALSE(back2);
  EXPECT_EQ(back2.error().code(), Code::kParse);
}

class FailingSink : public base::Sink {
 public:
  base::Status Write(std::span<const uint8_t>) override {
    return base::MakeError(Code::kIo, "disk full");
  }
  using base::Sink::Write;
};

TEST(CompressionTest, DownstreamErrorsPropagate) {
  for (Compression c :
       {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    FailingSink sink;
    auto s = NewCompressingSink(&sink, Opts(c));
    ASSERT_TRUE(s);
    base::Status st = (*s)->Write(SampleData(1 << 20));
    if (st) st = (*s)->Close();
    ASSERT_FALSE(st) << CompressionName(c);
    EXPECT_EQ(st.error().message(), "disk full");
  }
}

TEST(CompressionTest, InvalidOptions) {
  base::StringSink sink;
  EXPECT_EQ(
      NewCompressingSink(&sink, Opts(Compression::kGzip, 10)).error().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(
      NewCompressingSink(&sink, Opts(Compression::kZstd, 99)).error().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(NewCompressingSink(&sink, Opts(Compression::kXz)).error().code(),
            Code::kUnsupported);
}

TEST(CompressionTest, MediaTypes) {
  EXPECT_EQ(*LayerMediaType(Compression::kNone),
            "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(*LayerMediaType(Compression::kGzip),
            "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(*LayerMediaType(Compression::kZstd),
            "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_FALSE(LayerMediaType(Compression::kBzip2));
  EXPECT_EQ(*CompressionFromMediaType(
                "application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Compression::kGzip);
  EXPECT_EQ(*CompressionFromMediaType(
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"),
            Compression::kZstd);
  EXPECT_EQ(*CompressionFromMediaType("application/vnd.oci.image.layer.v1.tar"),
            Compression::kNone);
  EXPECT_EQ(CompressionFromMediaType("application/json").error().code(),
            Code::kUnsupported);
}

TEST(CompressionTest, DetectCompressionNeedsWholeMagic) {
  auto detect = [](std::string s) {
    return DetectCompression(
        std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  };
  EXPECT_EQ(detect("\x1f\x8b"), Compression::kGzip);
  EXPECT_EQ(detect("\x1f"), Compression::kNone);
  EXPECT_EQ(detect("BZh9"), Compression::kBzip2);
  EXPECT_EQ(detect("BZhX"), Compression::kNone);
  EXPECT_EQ(detect(std::string("\xfd"
                               "7zXZ\0",
                               6)),
            Compression::kXz);
  EXPECT_EQ(detect("\xfd"
                   "7zXZ"),
            Compression::kNone);
}

}  // namespace
}  // namespace strata::layer
