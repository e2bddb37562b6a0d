#include "build/layer_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "base/file.h"
#include "layer/view.h"
#include "layer/writer.h"
#include "support/test_support.h"

namespace strata::build {
namespace {

Layer WriteLayer(const store::Store& store, const std::string& name,
                 const std::string& content) {
  auto blob = *store.NewBlobWriter();
  auto writer = *layer::LayerWriter::Create(blob.get());
  layer::Entry e;
  e.type = layer::EntryType::kRegular;
  e.path = name;
  e.size = static_cast<int64_t>(content.size());
  base::StringSource src(content);
  EXPECT_TRUE(writer->AddFile(e, src));
  layer::LayerInfo info = *writer->Finish();
  base::Digest digest = *blob->Commit();
  EXPECT_EQ(digest, info.digest);
  return Layer{{info.media_type, info.digest, info.size, {}, std::nullopt},
               info.diff_id};
}

TEST(LayerCacheTest, UnpacksOnceAndReuses) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Layer l = WriteLayer(*store, "hello.txt", "hi");
  LayerCache cache(*store);
  auto dirs = cache.UnpackedAll({l});
  ASSERT_TRUE(dirs) << dirs.error().ToString();
  auto dir = std::optional<std::string>((*dirs)[0]);
  EXPECT_EQ(*dir, cache.PathOf(l.diff_id));
  EXPECT_EQ(*base::ReadFile(*dir + "/hello.txt"), "hi");
  // A second call (another cache object too) reuses the directory.
  auto ino = std::filesystem::status(*dir).type();
  LayerCache other(*store);
  EXPECT_EQ((*other.UnpackedAll({l}))[0], *dir);
  EXPECT_EQ(std::filesystem::status(*dir).type(), ino);
  // Nothing is left in tmp/.
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path() + "/tmp"));
}

TEST(LayerCacheTest, ConcurrentCallersGetOneDirectory) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Layer l = WriteLayer(*store, "f", std::string(1 << 20, 'x'));
  LayerCache cache(*store);
  std::vector<std::thread> threads;
  std::vector<std::string> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = cache.UnpackedAll({l}).value()[0]; });
  }
  for (auto& t : threads) t.join();
  for (const std::string& r : results) EXPECT_EQ(r, results[0]);
}

TEST(LayerCacheTest, WrongDiffIdIsRefusedAndLeavesNothing) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Layer l = WriteLayer(*store, "f", "data");
  l.diff_id = base::Digest::Of("something else");
  LayerCache cache(*store);
  auto dir = cache.UnpackedAll({l});
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code(), base::Code::kDigestMismatch);
  EXPECT_FALSE(base::PathExists(cache.PathOf(l.diff_id)));
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path() + "/tmp"));
}

TEST(LayerCacheTest, RootOpaqueLayerIsKeyedByItsChain) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Layer lower = WriteLayer(*store, "old", "o");
  // A layer that empties the root: its unpacked form depends on the lower.
  auto blob = *store->NewBlobWriter();
  auto writer = *layer::LayerWriter::Create(blob.get());
  ASSERT_TRUE(writer->AddOpaqueWhiteout(""));
  layer::Entry e;
  e.path = "new";
  e.size = 1;
  base::StringSource src("n");
  ASSERT_TRUE(writer->AddFile(e, src));
  layer::LayerInfo info = *writer->Finish();
  ASSERT_TRUE(blob->Commit(info.digest));
  Layer top{{info.media_type, info.digest, info.size, {}, std::nullopt},
            info.diff_id};
  LayerCache cache(*store);
  auto dirs = cache.UnpackedAll({lower, top});
  ASSERT_TRUE(dirs) << dirs.error().ToString();
  EXPECT_EQ((*dirs)[0], cache.PathOf(lower.diff_id));
  EXPECT_NE((*dirs)[1], cache.PathOf(top.diff_id));
  EXPECT_NE((*dirs)[1].find("/layers/chain-"), std::string::npos);
  layer::LayeredView view(*dirs);
  EXPECT_FALSE(view.Lstat("/old")->has_value());
  EXPECT_TRUE(view.Lstat("/new")->has_value());
}

}  // namespace
}  // namespace strata::build
