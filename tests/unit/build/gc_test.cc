#include "build/gc.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "base/file.h"
#include "build/layer_cache.h"
#include "cache/cache.h"
#include "image/local_images.h"
#include "image/oci.h"
#include "support/test_support.h"

namespace strata::build {
namespace {

namespace fs = std::filesystem;
using base::Digest;

// A stored image: its manifest and what it names.
struct TestImage {
  image::Descriptor manifest;
  Digest config;
  std::vector<Digest> layers;
  std::vector<Digest> diff_ids;
  int64_t bytes = 0;  // manifest + config + layers
};

TestImage PutImage(const store::Store& store,
                   const std::vector<std::string>& layer_contents) {
  TestImage img;
  image::ImageConfig config;
  config.platform = {"linux", "amd64", ""};
  image::Manifest m;
  for (const std::string& content : layer_contents) {
    Digest layer = *store.PutBlob(content);
    img.layers.push_back(layer);
    img.diff_ids.push_back(Digest::Of("diff:" + content));
    config.diff_ids.push_back(img.diff_ids.back());
    m.layers.push_back({image::media::kOciLayerGzip, layer,
                        static_cast<int64_t>(content.size()), {},
                        std::nullopt});
    img.bytes += static_cast<int64_t>(content.size());
  }
  std::string config_json = image::ToJson(config);
  img.config = *store.PutBlob(config_json);
  m.config = {image::media::kOciConfig, img.config,
              static_cast<int64_t>(config_json.size()), {}, std::nullopt};
  std::string json = image::ToJson(m);
  img.manifest = {image::media::kOciManifest, *store.PutBlob(json),
                  static_cast<int64_t>(json.size()), {}, std::nullopt};
  img.bytes += static_cast<int64_t>(config_json.size() + json.size());
  return img;
}

// An unpacked layer directory holding `bytes` bytes in two files (one
// under a read-only directory, as images often have).
void PutLayerDir(const store::Store& store, const Digest& diff_id,
                 int64_t bytes) {
  std::string dir = LayerCache(store).PathOf(diff_id);
  fs::create_directories(dir + "/ro");
  int64_t half = bytes / 2;
  ASSERT_TRUE(base::WriteFileAtomic(dir + "/a", std::string(half, 'a')));
  ASSERT_TRUE(base::WriteFileAtomic(dir + "/ro/b",
                                    std::string(bytes - half, 'b')));
  ::chmod((dir + "/ro").c_str(), 0555);
}

// A cache record named `name`, used `age` seconds ago, naming a layer.
std::string PutCache(const store::Store& store, const std::string& name,
                     int64_t age, std::optional<Digest> blob = std::nullopt,
                     std::optional<Digest> diff_id = std::nullopt) {
  cache::Entry entry;
  if (blob) {
    entry.layer = cache::LayerRecord{image::media::kOciLayerGzip, *blob,
                                     *store.BlobSize(*blob), *diff_id, 1};
  }
  std::string key = Digest::Of(name).hex();
  EXPECT_TRUE(store.PutRecord("cache", key, cache::EntryToJson(entry)));
  std::string path = store.root() + "/records/cache/" + key;
  timespec t[2] = {{std::time(nullptr) - age, 0},
                   {std::time(nullptr) - age, 0}};
  ::utimensat(AT_FDCWD, path.c_str(), t, 0);
  return key;
}

int64_t RecordSize(const store::Store& store, const std::string& key) {
  return static_cast<int64_t>(
      fs::file_size(store.root() + "/records/cache/" + key));
}

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *store::Store::Open(tmp_.path());
    img_ = PutImage(*store_, {"base layer", "app layer"});
    ASSERT_TRUE(image::TagImage(*store_, *image::ParseReference("app:v1"),
                                img_.manifest));
    for (const Digest& d : img_.diff_ids) PutLayerDir(*store_, d, 100);
    // The build cache: a step whose layer is the image's, a step with a
    // layer only the cache has, a step without a layer.
    shared_ = PutCache(*store_, "shared", 10, img_.layers[1], img_.diff_ids[1]);
    cache_only_blob_ = *store_->PutBlob("cache only layer");  // 16 bytes
    cache_only_diff_ = Digest::Of("diff:cache only layer");
    PutLayerDir(*store_, cache_only_diff_, 1000);
    cache_only_ = PutCache(*store_, "cache-only", 3600, cache_only_blob_,
                           cache_only_diff_);
    empty_ = PutCache(*store_, "empty", 7200);
    // Garbage: a blob and an unpacked layer nothing names.
    garbage_ = *store_->PutBlob("garbage!");  // 8 bytes
    garbage_diff_ = Digest::Of("orphan");
    PutLayerDir(*store_, garbage_diff_, 50);
  }

  bool HasDir(const Digest& diff_id) const {
    return fs::exists(LayerCache(*store_).PathOf(diff_id));
  }
  bool HasRecord(const std::string& key) const {
    return store_->GetRecord("cache", key)->has_value();
  }
  void ExpectImageIntact() const {
    EXPECT_TRUE(store_->HasBlob(img_.manifest.digest));
    EXPECT_TRUE(store_->HasBlob(img_.config));
    for (const Digest& d : img_.layers) EXPECT_TRUE(store_->HasBlob(d));
    for (const Digest& d : img_.diff_ids) EXPECT_TRUE(HasDir(d));
  }

  testing::ScopedTempDir tmp_;
  std::unique_ptr<store::Store> store_;
  TestImage img_;
  std::string shared_, cache_only_, empty_;
  Digest cache_only_blob_, cache_only_diff_, garbage_, garbage_diff_;
};

TEST_F(GcTest, DefaultPruneCollectsOnlyGarbage) {
  auto r = Prune(*store_, {});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->cache_records, 0);
  EXPECT_EQ(r->blobs, 1);
  EXPECT_EQ(r->layer_dirs, 1);
  EXPECT_EQ(r->bytes, 8 + 50);
  EXPECT_FALSE(store_->HasBlob(garbage_));
  EXPECT_FALSE(HasDir(garbage_diff_));
  ExpectImageIntact();
  EXPECT_TRUE(store_->HasBlob(cache_only_blob_));
  EXPECT_TRUE(HasDir(cache_only_diff_));
  EXPECT_TRUE(HasRecord(shared_) && HasRecord(cache_only_) && HasRecord(empty_));
  // Nothing left to collect.
  r = Prune(*store_, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 0);
}

TEST_F(GcTest, MaxAgeDropsOldRecordsAndTheirLayers) {
  int64_t freed = RecordSize(*store_, cache_only_) +
                  RecordSize(*store_, empty_) + 16 + 1000 + 8 + 50;
  auto r = Prune(*store_, {.max_age = std::chrono::seconds(1800)});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->cache_records, 2);
  EXPECT_EQ(r->blobs, 2);
  EXPECT_EQ(r->layer_dirs, 2);
  EXPECT_EQ(r->bytes, freed);
  EXPECT_TRUE(HasRecord(shared_));
  EXPECT_FALSE(HasRecord(cache_only_));
  EXPECT_FALSE(HasRecord(empty_));
  EXPECT_FALSE(store_->HasBlob(cache_only_blob_));
  EXPECT_FALSE(HasDir(cache_only_diff_));
  ExpectImageIntact();
}

TEST_F(GcTest, AllDropsEveryCacheRecordButKeepsImages) {
  auto r = Prune(*store_, {.all = true});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->cache_records, 3);
  EXPECT_TRUE(store_->ListRecords("cache")->empty());
  EXPECT_FALSE(store_->HasBlob(cache_only_blob_));
  ExpectImageIntact();
  EXPECT_EQ(store_->ListBlobs()->size(), 4u);  // manifest, config, 2 layers
}

TEST_F(GcTest, MaxBytesDropsLeastRecentlyUsedFirst) {
  auto before = DiskUsage(*store_);
  ASSERT_TRUE(before);
  // What is left once garbage goes and the two oldest records are dropped
  // ("empty", then "cache-only" with its 16-byte blob and 1000-byte dir).
  int64_t after_two = before->TotalBytes() - before->tmp.bytes - 8 - 50 -
                      RecordSize(*store_, empty_) -
                      RecordSize(*store_, cache_only_) - 16 - 1000;
  auto r = Prune(*store_, {.max_bytes = after_two + 1});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->cache_records, 2);
  EXPECT_TRUE(HasRecord(shared_));
  EXPECT_FALSE(HasRecord(empty_));
  EXPECT_FALSE(HasRecord(cache_only_));
  auto after = DiskUsage(*store_);
  EXPECT_EQ(after->TotalBytes() - after->tmp.bytes, after_two);
  // A limit the images alone exceed drops the whole cache, never images.
  r = Prune(*store_, {.max_bytes = 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cache_records, 1);
  ExpectImageIntact();
}

TEST_F(GcTest, UntaggedImagesGoAtTheNextPrune) {
  ASSERT_TRUE(
      image::UntagImage(*store_, *image::ParseReference("app:v1")));
  auto r = Prune(*store_, {.all = true});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(store_->ListBlobs()->empty());
  EXPECT_TRUE(fs::is_empty(store_->root() + "/layers"));
}

TEST_F(GcTest, IndexesKeepTheirManifestsPresentLocally) {
  TestImage arm = PutImage(*store_, {"arm layer"});
  image::Index index;
  index.manifests = {arm.manifest};
  index.manifests.push_back({image::media::kOciManifest,
                             Digest::Of("not pulled"), 10, {},
                             image::Platform{"linux", "s390x", ""}});
  std::string json = image::ToJson(index);
  image::Descriptor root{image::media::kOciIndex, *store_->PutBlob(json),
                         static_cast<int64_t>(json.size()), {}, std::nullopt};
  ASSERT_TRUE(image::UntagImage(*store_, *image::ParseReference("app:v1")));
  ASSERT_TRUE(
      image::TagImage(*store_, *image::ParseReference("multi:1"), root));
  PutLayerDir(*store_, arm.diff_ids[0], 10);
  auto r = Prune(*store_, {.all = true});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(store_->HasBlob(root.digest));
  EXPECT_TRUE(store_->HasBlob(arm.manifest.digest));
  EXPECT_TRUE(store_->HasBlob(arm.config));
  EXPECT_TRUE(store_->HasBlob(arm.layers[0]));
  EXPECT_TRUE(HasDir(arm.diff_ids[0]));
  EXPECT_EQ(store_->ListBlobs()->size(), 4u);
  EXPECT_FALSE(HasDir(img_.diff_ids[0]));
}

TEST_F(GcTest, DamagedImageStopsPruneBeforeAnyDeletion) {
  std::string bad = "{\"schemaVersion\":2}";  // a manifest without config
  image::Descriptor d{image::media::kOciManifest, *store_->PutBlob(bad),
                      static_cast<int64_t>(bad.size()), {}, std::nullopt};
  ASSERT_TRUE(image::TagImage(*store_, *image::ParseReference("bad:1"), d));
  auto r = Prune(*store_, {.all = true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().ToString(),
            "image docker.io/library/bad:1: manifest: no config");
  EXPECT_TRUE(store_->HasBlob(garbage_));
  EXPECT_TRUE(HasRecord(empty_));
  // du still reports, counting the damaged image as far as it reads.
  auto du = DiskUsage(*store_);
  ASSERT_TRUE(du) << du.error().ToString();
  EXPECT_EQ(du->images.size(), 2u);
}

TEST_F(GcTest, PruneWaitsForRunningBuilds) {
  auto build_lock = store_->Lock(/*exclusive=*/false);
  ASSERT_TRUE(build_lock);
  std::atomic<bool> done{false};
  std::thread pruner([&] {
    EXPECT_TRUE(Prune(*store_, {.all = true}));
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(done);
  EXPECT_TRUE(store_->HasBlob(garbage_));
  { auto release = std::move(*build_lock); }
  pruner.join();
  EXPECT_TRUE(done);
  EXPECT_FALSE(store_->HasBlob(garbage_));
}

TEST_F(GcTest, DiskUsageReport) {
  ASSERT_TRUE(base::WriteFileAtomic(store_->root() + "/tmp/1-2-3", "xyz"));
  auto du = DiskUsage(*store_);
  ASSERT_TRUE(du) << du.error().ToString();
  EXPECT_EQ(du->image_blobs.count, 4);
  EXPECT_EQ(du->image_blobs.bytes, img_.bytes);
  EXPECT_EQ(du->cache_blobs.count, 1);
  EXPECT_EQ(du->cache_blobs.bytes, 16);
  EXPECT_EQ(du->unused_blobs.count, 1);
  EXPECT_EQ(du->unused_blobs.bytes, 8);
  EXPECT_EQ(du->layers.count, 3);
  EXPECT_EQ(du->layers.bytes, 1200);
  EXPECT_EQ(du->unused_layers.count, 1);
  EXPECT_EQ(du->unused_layers.bytes, 50);
  int64_t record_bytes = RecordSize(*store_, shared_) +
                         RecordSize(*store_, cache_only_) +
                         RecordSize(*store_, empty_) +
                         store_->ListRecords("images")->at(0).size;
  EXPECT_EQ(du->records.count, 4);
  EXPECT_EQ(du->records.bytes, record_bytes);
  EXPECT_EQ(du->tmp.count, 1);
  EXPECT_EQ(du->tmp.bytes, 3);
  EXPECT_EQ(du->TotalBytes(),
            img_.bytes + 16 + 8 + 1200 + 50 + record_bytes + 3);

  ASSERT_EQ(du->images.size(), 1u);
  EXPECT_EQ(du->images[0].name, "docker.io/library/app:v1");
  EXPECT_EQ(du->images[0].bytes, img_.bytes);
  ASSERT_EQ(du->cache_records.size(), 3u);
  EXPECT_EQ(du->cache_records[0].key, shared_);  // most recent first
  EXPECT_TRUE(du->cache_records[0].shared);
  EXPECT_EQ(du->cache_records[1].key, cache_only_);
  EXPECT_EQ(du->cache_records[1].bytes, 16);
  EXPECT_FALSE(du->cache_records[1].shared);
  EXPECT_EQ(du->cache_records[2].bytes, 0);
  ASSERT_EQ(du->layer_dirs.size(), 4u);
  int unused = 0;
  for (const LayerDirUsage& l : du->layer_dirs) {
    if (l.used_by == LayerDirUsage::User::kNone) {
      ++unused;
      EXPECT_EQ(l.diff_id, garbage_diff_);
    }
  }
  EXPECT_EQ(unused, 1);
}

}  // namespace
}  // namespace strata::build
