#include "image/local_images.h"

#include <gtest/gtest.h>

#include <thread>

#include "base/file.h"
#include "support/test_support.h"

namespace strata::image {
namespace {

Reference Ref(const std::string& text) { return ParseReference(text).value(); }

// Stores a small manifest-shaped blob and returns its descriptor.
Descriptor PutManifest(const store::Store& store, const std::string& tag) {
  Manifest m;
  m.config = {media::kOciConfig, base::Digest::Of(tag), 2, {}, std::nullopt};
  std::string json = ToJson(m);
  return {media::kOciManifest, *store.PutBlob(json),
          static_cast<int64_t>(json.size()), {}, std::nullopt};
}

TEST(LocalImagesTest, KeysAreNormalizedNamesWithTags) {
  EXPECT_EQ(*ImageKey(Ref("app")), "docker.io/library/app:latest");
  EXPECT_EQ(*ImageKey(Ref("app:v1")), "docker.io/library/app:v1");
  EXPECT_EQ(*ImageKey(Ref("team/app:v1")), "docker.io/team/app:v1");
  EXPECT_EQ(*ImageKey(Ref("localhost:5000/app")), "localhost:5000/app:latest");
  std::string d = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(*ImageKey(Ref("app:v1@" + d)), "docker.io/library/app:v1");
  auto digest_only = ImageKey(Ref("app@" + d));
  ASSERT_FALSE(digest_only);
  EXPECT_EQ(digest_only.error().code(), base::Code::kInvalidArgument);
}

TEST(LocalImagesTest, TagLookupListUntag) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Descriptor a = PutManifest(*store, "a");
  Descriptor b = PutManifest(*store, "b");
  ASSERT_TRUE(TagImage(*store, Ref("app:v1"), a));
  ASSERT_TRUE(TagImage(*store, Ref("app"), b));
  ASSERT_TRUE(TagImage(*store, Ref("localhost:5000/x/y:2"), a));

  auto found = LookupImage(*store, Ref("docker.io/library/app:v1"));
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, a);
  EXPECT_EQ(**LookupImage(*store, Ref("app:latest")), b);
  EXPECT_FALSE(LookupImage(*store, Ref("app:v2"))->has_value());
  // By digest: any tag of the repository pointing there.
  EXPECT_EQ(**LookupImage(*store, Ref("app@" + b.digest.ToString())), b);
  EXPECT_FALSE(
      LookupImage(*store, Ref("other@" + b.digest.ToString()))->has_value());
  // Tag and digest must agree.
  EXPECT_TRUE(
      LookupImage(*store, Ref("app:v1@" + a.digest.ToString()))->has_value());
  EXPECT_FALSE(
      LookupImage(*store, Ref("app:v1@" + b.digest.ToString()))->has_value());

  auto all = ListImages(*store);
  ASSERT_TRUE(all) << all.error().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "docker.io/library/app:latest");
  EXPECT_EQ((*all)[1].name, "docker.io/library/app:v1");
  EXPECT_EQ((*all)[2].name, "localhost:5000/x/y:2");
  EXPECT_EQ((*all)[2].ref.tag, "2");
  EXPECT_EQ((*all)[2].manifest, a);
  EXPECT_EQ((*all)[0].created.size(), 20u) << (*all)[0].created;

  // Retagging replaces.
  ASSERT_TRUE(TagImage(*store, Ref("app:v1"), b));
  EXPECT_EQ(**LookupImage(*store, Ref("app:v1")), b);

  ASSERT_TRUE(UntagImage(*store, Ref("app:v1")));
  EXPECT_FALSE(LookupImage(*store, Ref("app:v1"))->has_value());
  auto again = UntagImage(*store, Ref("app:v1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), base::Code::kNotFound);
  EXPECT_EQ(again.error().message(), "no such image: app:v1");
  // Untagging leaves the blobs for prune.
  EXPECT_TRUE(store->HasBlob(a.digest));
  EXPECT_EQ(ListImages(*store)->size(), 2u);
}

TEST(LocalImagesTest, RecordFormatOnDisk) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Descriptor a = PutManifest(*store, "a");
  ASSERT_TRUE(TagImage(*store, Ref("app:v1"), a));
  auto text = store->GetRecord("images", "docker.io/library/app:v1");
  ASSERT_TRUE(text && text->has_value());
  std::string created = ListImages(*store)->at(0).created;
  EXPECT_EQ(**text, "{\"digest\":\"" + a.digest.ToString() +
                        "\",\"mediaType\":\"" + media::kOciManifest +
                        "\",\"size\":" + std::to_string(a.size) +
                        ",\"created\":\"" + created + "\"}");
  EXPECT_EQ(ImageRecordToJson(a, "2024-01-02T03:04:05Z"),
            "{\"digest\":\"" + a.digest.ToString() + "\",\"mediaType\":\"" +
                media::kOciManifest + "\",\"size\":" + std::to_string(a.size) +
                ",\"created\":\"2024-01-02T03:04:05Z\"}");
  // The file name is the percent-encoded key.
  EXPECT_TRUE(base::PathExists(
      tmp.path() + "/records/images/docker%2Eio%2Flibrary%2Fapp%3Av1"));
}

TEST(LocalImagesTest, RefusesMissingManifestAndDamagedRecords) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Descriptor ghost{media::kOciManifest, base::Digest::Of("nothing"), 7, {},
                   std::nullopt};
  auto st = TagImage(*store, Ref("app:v1"), ghost);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), base::Code::kNotFound);

  ASSERT_TRUE(store->PutRecord("images", "docker.io/library/bad:1", "{oops"));
  auto all = ListImages(*store);
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code(), base::Code::kParse);
  EXPECT_NE(all.error().message().find("docker.io/library/bad:1"),
            std::string::npos);
  // rmi still removes it.
  ASSERT_TRUE(UntagImage(*store, Ref("bad:1")));
  EXPECT_TRUE(ListImages(*store)->empty());

  for (const char* bad :
       {"[]", "{\"digest\":\"sha256:zz\",\"mediaType\":\"x\",\"size\":1}",
        "{\"digest\":\"sha256:" "0000000000000000000000000000000000000000000000"
        "000000000000000000\",\"size\":1}",
        "{\"digest\":\"sha256:" "0000000000000000000000000000000000000000000000"
        "000000000000000000\",\"mediaType\":\"x\",\"size\":-1}"}) {
    EXPECT_FALSE(ParseImageRecord("docker.io/library/a:1", bad)) << bad;
  }
  auto ok = ParseImageRecord(
      "docker.io/library/a:1",
      "{\"digest\":\"sha256:" + std::string(64, '0') +
          "\",\"mediaType\":\"x\",\"size\":3,\"future\":true}");
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->manifest.size, 3);
  EXPECT_EQ(ok->created, "");
}

TEST(LocalImagesTest, ConcurrentTaggingLeavesOneWholeRecord) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Descriptor a = PutManifest(*store, "a");
  Descriptor b = PutManifest(*store, "b");
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 50; ++n) {
        EXPECT_TRUE(TagImage(*store, Ref("app:v1"), i % 2 ? a : b));
        EXPECT_TRUE(TagImage(*store, Ref("app:t" + std::to_string(i)), a));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto all = ListImages(*store);
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(all->size(), 5u);
  Descriptor got = **LookupImage(*store, Ref("app:v1"));
  EXPECT_TRUE(got == a || got == b);
}

}  // namespace
}  // namespace strata::image
