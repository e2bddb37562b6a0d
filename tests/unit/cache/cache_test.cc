#include "cache/cache.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace strata::cache {
namespace {

TEST(KeyBuilderTest, DeterministicAndFieldBoundariesMatter) {
  base::Digest a = KeyBuilder().Add("op", "RUN x").Add("parent", "p").Finish();
  base::Digest b = KeyBuilder().Add("op", "RUN x").Add("parent", "p").Finish();
  EXPECT_EQ(a, b);
  // Moving bytes between fields changes the key.
  EXPECT_NE(a, KeyBuilder().Add("op", "RUN xp").Add("parent", "").Finish());
  EXPECT_NE(a, KeyBuilder().Add("opRUN x", "").Add("parent", "p").Finish());
  // Field order matters.
  EXPECT_NE(a, KeyBuilder().Add("parent", "p").Add("op", "RUN x").Finish());
  // The version is part of every key: an empty builder is not sha256("").
  EXPECT_NE(KeyBuilder().Finish(), base::Digest::Of(""));
}

TEST(IndexTest, PutLookupAndPrunedBlob) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Index index(*store);
  base::Digest key = KeyBuilder().Add("op", "COPY a b").Finish();
  EXPECT_FALSE(index.Lookup(key)->has_value());

  base::Digest blob = *store->PutBlob("layer");
  Entry entry;
  entry.layer = LayerRecord{"application/vnd.oci.image.layer.v1.tar+gzip", blob,
                            5, base::Digest::Of("tar"), 3};
  ASSERT_TRUE(index.Put(key, entry));
  auto hit = index.Lookup(key);
  ASSERT_TRUE(hit && hit->has_value());
  EXPECT_EQ(**hit, entry);

  base::Digest empty_key = KeyBuilder().Add("op", "ENV a=b").Finish();
  ASSERT_TRUE(index.Put(empty_key, Entry{}));
  auto empty_hit = index.Lookup(empty_key);
  ASSERT_TRUE(empty_hit && empty_hit->has_value());
  EXPECT_FALSE((*empty_hit)->layer.has_value());

  // Once its blob is gone, the entry is a miss.
  ASSERT_TRUE(store->DeleteBlob(blob));
  EXPECT_FALSE(index.Lookup(key)->has_value());
  // Put refuses to record a layer that is not stored.
  EXPECT_FALSE(index.Put(key, entry));
}

TEST(IndexTest, DamagedRecordIsAMiss) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  base::Digest key = KeyBuilder().Add("op", "x").Finish();
  ASSERT_TRUE(store->PutRecord(kRecordKind, key.hex(), "{not json"));
  EXPECT_FALSE(Index(*store).Lookup(key)->has_value());
  ASSERT_TRUE(store->PutRecord(kRecordKind, key.hex(), "{\"v\":99}"));
  EXPECT_FALSE(Index(*store).Lookup(key)->has_value());
}

TEST(EntryJsonTest, RoundTripAndErrors) {
  Entry e;
  e.layer =
      LayerRecord{"m", base::Digest::Of("a"), 1, base::Digest::Of("b"), 2};
  EXPECT_EQ(*EntryFromJson(EntryToJson(e)), e);
  EXPECT_EQ(*EntryFromJson(EntryToJson(Entry{})), Entry{});
  EXPECT_FALSE(EntryFromJson("{\"v\":1,\"layer\":{\"digest\":\"x\"}}"));
  EXPECT_FALSE(EntryFromJson("{\"v\":1,\"layer\":5}"));
  EXPECT_FALSE(EntryFromJson("[]"));
}

}  // namespace
}  // namespace strata::cache
