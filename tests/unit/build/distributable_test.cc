#include "build/distributable.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/stream.h"
#include "image/oci.h"
#include "support/test_support.h"

namespace strata::build {
namespace {

using base::Digest;

// A compressible "tar": what matters here is the bytes, not the format.
std::string PlainBytes(char seed) {
  std::string out;
  for (int i = 0; i < 200000; ++i) {
    out += static_cast<char>('a' + (i * 7 + seed) % 23);
    if (i % 61 == 0) out += "line\n";
  }
  return out;
}

// The decompressed content of blob `digest`.
std::string Decompressed(const store::Store& store, const Digest& digest) {
  auto blob = *store.OpenBlob(digest);
  auto source = *layer::DecompressingSource::Open(blob.get());
  base::StringSink sink;
  EXPECT_TRUE(base::CopyStream(*source, sink));
  return sink.str();
}

class DistributableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *store::Store::Open(tmp_.path() + "/store");
  }

  image::Descriptor PutLayer(const std::string& bytes,
                             const char* media_type = image::media::kOciLayer) {
    Digest d = *store_->PutBlob(bytes);
    return {media_type, d, static_cast<int64_t>(bytes.size()), {},
            std::nullopt};
  }

  image::Descriptor PutManifest(const std::vector<image::Descriptor>& layers) {
    image::ImageConfig config;
    config.platform = {"linux", "amd64", ""};
    std::string config_json = image::ToJson(config);
    image::Manifest m;
    m.config = {image::media::kOciConfig, *store_->PutBlob(config_json),
                static_cast<int64_t>(config_json.size()), {}, std::nullopt};
    m.layers = layers;
    m.annotations["org.example"] = "kept";
    std::string json = image::ToJson(m);
    return {image::media::kOciManifest, *store_->PutBlob(json),
            static_cast<int64_t>(json.size()), {},
            image::Platform{"linux", "amd64", ""}};
  }

  image::Manifest ReadManifest(const image::Descriptor& d) {
    return *image::ParseManifest(*store_->ReadBlob(d.digest));
  }

  testing::ScopedTempDir tmp_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(DistributableTest, PlainLayerIsCompressedOnceAndRemembered) {
  std::string bytes = PlainBytes(1);
  image::Descriptor plain = PutLayer(bytes);
  std::vector<std::string> lines;
  auto progress = [&](const std::string& l) { lines.push_back(l); };
  auto gzip = *LayerCompression("gzip");

  auto first = CompressedLayer(*store_, plain, gzip, progress);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->media_type, image::media::kOciLayerGzip);
  EXPECT_LT(first->size, plain.size / 2);
  EXPECT_EQ(*store_->BlobSize(first->digest), first->size);
  EXPECT_EQ(Decompressed(*store_, first->digest), bytes);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("compressed " + plain.digest.hex().substr(0, 12)),
            std::string::npos)
      << lines[0];

  // Asked again: the remembered blob, nothing compressed.
  auto again = CompressedLayer(*store_, plain, gzip, progress);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(lines.size(), 1u);
  ASSERT_TRUE(*store_->GetRecord(kCompressedLayerKind,
                                 plain.digest.hex() + ".gzip-default"));

  // Pruned since: made again, to the same bytes.
  ASSERT_TRUE(store_->DeleteBlob(first->digest));
  auto remade = CompressedLayer(*store_, plain, gzip, progress);
  ASSERT_TRUE(remade);
  EXPECT_EQ(*remade, *first);
  EXPECT_EQ(lines.size(), 2u);
}

TEST_F(DistributableTest, EachFormatAndLevelIsItsOwnBlob) {
  image::Descriptor plain = PutLayer(PlainBytes(2));
  auto gzip = *CompressedLayer(*store_, plain, *LayerCompression("gzip"));
  auto gzip1 = *CompressedLayer(*store_, plain, *LayerCompression("gzip", 1));
  auto zstd = *CompressedLayer(*store_, plain, *LayerCompression("zstd"));
  EXPECT_EQ(zstd.media_type, image::media::kOciLayerZstd);
  EXPECT_NE(gzip.digest, gzip1.digest);
  EXPECT_NE(gzip.digest, zstd.digest);
  EXPECT_EQ(Decompressed(*store_, zstd.digest), PlainBytes(2));
  EXPECT_EQ(Decompressed(*store_, gzip1.digest), PlainBytes(2));
}

TEST_F(DistributableTest, CompressedAndForeignLayersGoOutAsTheyAre) {
  auto gzip = *LayerCompression("gzip");
  image::Descriptor compressed =
      PutLayer("already gzip", image::media::kOciLayerGzip);
  image::Descriptor docker = PutLayer(
      "docker plain", "application/vnd.docker.image.rootfs.diff.tar");
  EXPECT_EQ(*CompressedLayer(*store_, compressed, gzip), compressed);
  EXPECT_EQ(*CompressedLayer(*store_, docker, gzip), docker);
  image::Descriptor plain = PutLayer(PlainBytes(3));
  EXPECT_EQ(*CompressedLayer(*store_, plain, *LayerCompression("uncompressed")),
            plain);
}

TEST_F(DistributableTest, ManifestGetsCompressedLayersAndKeepsTheRest) {
  image::Descriptor base = PutLayer("base", image::media::kOciLayerGzip);
  image::Descriptor plain = PutLayer(PlainBytes(4));
  plain.annotations["org.example.layer"] = "a";
  image::Descriptor root = PutManifest({base, plain});
  auto gzip = *LayerCompression("gzip");

  auto out = DistributableImage(*store_, root, gzip);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_NE(out->digest, root.digest);
  EXPECT_EQ(out->platform, root.platform);
  EXPECT_EQ(out->size, *store_->BlobSize(out->digest));
  image::Manifest before = ReadManifest(root);
  image::Manifest after = ReadManifest(*out);
  EXPECT_EQ(after.config, before.config);
  EXPECT_EQ(after.annotations, before.annotations);
  ASSERT_EQ(after.layers.size(), 2u);
  EXPECT_EQ(after.layers[0], base);
  EXPECT_EQ(after.layers[1].media_type, image::media::kOciLayerGzip);
  EXPECT_EQ(after.layers[1].annotations, plain.annotations);
  EXPECT_EQ(Decompressed(*store_, after.layers[1].digest), PlainBytes(4));

  // The same image twice gives the same manifest: a reproducible push.
  EXPECT_EQ(*DistributableImage(*store_, root, gzip), *out);
  // Nothing plain left: the manifest is its own distributable form.
  EXPECT_EQ(*DistributableImage(*store_, *out, gzip), *out);
}

// Each compressed layer is announced as soon as it is made, largest first
// (a push sends it while the rest compress); the manifest keeps its order.
TEST_F(DistributableTest, LayersAreReadyLargestFirst) {
  image::Descriptor small = PutLayer(PlainBytes(6).substr(0, 50000));
  image::Descriptor large = PutLayer(PlainBytes(7));
  image::Descriptor base = PutLayer("base", image::media::kOciLayerGzip);
  image::Descriptor root = PutManifest({small, base, large});
  std::vector<Digest> ready;
  auto out = DistributableImage(
      *store_, root, *LayerCompression("gzip"), {},
      [&](const image::Descriptor& d) { ready.push_back(d.digest); });
  ASSERT_TRUE(out) << out.error().message();
  image::Manifest after = ReadManifest(*out);
  ASSERT_EQ(after.layers.size(), 3u);
  EXPECT_EQ(after.layers[1], base);
  ASSERT_EQ(ready.size(), 2u);  // the compressed base is not announced
  EXPECT_EQ(ready[0], after.layers[2].digest);
  EXPECT_EQ(ready[1], after.layers[0].digest);
  EXPECT_EQ(Decompressed(*store_, after.layers[0].digest),
            PlainBytes(6).substr(0, 50000));
}

TEST_F(DistributableTest, IndexGetsNewChildren) {
  image::Descriptor plain_child = PutManifest({PutLayer(PlainBytes(5))});
  image::Descriptor done_child =
      PutManifest({PutLayer("z", image::media::kOciLayerGzip)});
  image::Index index;
  index.manifests = {plain_child, done_child};
  std::string json = image::ToJson(index);
  image::Descriptor root{image::media::kOciIndex, *store_->PutBlob(json),
                         static_cast<int64_t>(json.size()), {}, std::nullopt};

  auto out = DistributableImage(*store_, root, *LayerCompression("zstd"));
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_NE(out->digest, root.digest);
  image::Index after = *image::ParseIndex(*store_->ReadBlob(out->digest));
  ASSERT_EQ(after.manifests.size(), 2u);
  EXPECT_NE(after.manifests[0].digest, plain_child.digest);
  EXPECT_EQ(ReadManifest(after.manifests[0]).layers[0].media_type,
            image::media::kOciLayerZstd);
  EXPECT_EQ(after.manifests[1], done_child);
}

TEST(LayerCompressionTest, NamesAndLevels) {
  EXPECT_EQ(LayerCompression("gzip")->compression, layer::Compression::kGzip);
  EXPECT_EQ(LayerCompression("zstd", 19)->level, 19);
  EXPECT_EQ(LayerCompression("uncompressed")->compression,
            layer::Compression::kNone);
  auto bad = LayerCompression("brotli");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), base::Code::kInvalidArgument);
  EXPECT_FALSE(layer::CheckCompressionOptions(*LayerCompression("gzip", 12)));
  EXPECT_TRUE(layer::CheckCompressionOptions(*LayerCompression("zstd", 19)));
}

}  // namespace
}  // namespace strata::build
