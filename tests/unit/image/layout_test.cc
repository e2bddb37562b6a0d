#include "image/layout.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "support/test_support.h"

namespace strata::image {
namespace {

namespace fs = std::filesystem;

// Stores a one-layer image for `arch` and returns its manifest descriptor.
Descriptor PutImage(const store::Store& store, const std::string& arch,
                    const std::string& layer_bytes) {
  base::Digest layer = *store.PutBlob(layer_bytes);
  ImageConfig config;
  config.platform = {"linux", arch, ""};
  config.diff_ids = {layer};
  std::string config_json = ToJson(config);
  base::Digest config_digest = *store.PutBlob(config_json);
  Manifest m;
  m.config = {media::kOciConfig,
              config_digest,
              static_cast<int64_t>(config_json.size()),
              {},
              std::nullopt};
  m.layers = {{media::kOciLayerGzip,
               layer,
               static_cast<int64_t>(layer_bytes.size()),
               {},
               std::nullopt}};
  std::string json = ToJson(m);
  return {media::kOciManifest,
          *store.PutBlob(json),
          static_cast<int64_t>(json.size()),
          {},
          Platform{"linux", arch, ""}};
}

TEST(LayoutTest, DirRoundTripThroughAnotherStore) {
  testing::ScopedTempDir tmp;
  auto src = *store::Store::Open(tmp.path() + "/a");
  Descriptor m = PutImage(*src, "amd64", "layer-bytes");
  ASSERT_TRUE(WriteLayoutDir(*src, tmp.path() + "/layout", {{m, "v1", {}}}));
  EXPECT_EQ(*base::ReadFile(tmp.path() + "/layout/oci-layout"),
            "{\"imageLayoutVersion\":\"1.0.0\"}");
  // Writing again with the same ref name replaces, another name adds.
  Descriptor m2 = PutImage(*src, "amd64", "other-layer");
  ASSERT_TRUE(WriteLayoutDir(*src, tmp.path() + "/layout", {{m2, "v1", {}}}));
  ASSERT_TRUE(WriteLayoutDir(*src, tmp.path() + "/layout", {{m, "v0", {}}}));
  Index index = *ParseIndex(*base::ReadFile(tmp.path() + "/layout/index.json"));
  ASSERT_EQ(index.manifests.size(), 2u);
  EXPECT_EQ(index.manifests[0].digest, m2.digest);
  EXPECT_EQ(index.manifests[1].digest, m.digest);

  auto dst = *store::Store::Open(tmp.path() + "/b");
  auto imported = ImportLayout(*dst, tmp.path() + "/layout", "v1",
                               Platform{"linux", "amd64", ""});
  ASSERT_TRUE(imported) << imported.error().ToString();
  EXPECT_EQ(imported->manifest_desc.digest, m2.digest);
  EXPECT_TRUE(dst->HasBlob(imported->manifest.layers[0].digest));
  EXPECT_EQ(imported->config.platform.architecture, "amd64");

  auto by_digest =
      ImportLayout(*dst, tmp.path() + "/layout", "@" + m.digest.ToString(),
                   Platform{"linux", "amd64", ""});
  ASSERT_TRUE(by_digest) << by_digest.error().ToString();
  EXPECT_EQ(by_digest->manifest_desc.digest, m.digest);

  auto missing = ImportLayout(*dst, tmp.path() + "/layout", "v9",
                              Platform{"linux", "amd64", ""});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("has: v1, v0"), std::string::npos)
      << missing.error().message();
  auto ambiguous = ImportLayout(*dst, tmp.path() + "/layout", "",
                                Platform{"linux", "amd64", ""});
  EXPECT_FALSE(ambiguous);
  EXPECT_FALSE(ImportLayout(*dst, tmp.path() + "/nowhere", "",
                            Platform{"linux", "amd64", ""}));
}

TEST(LayoutTest, ImportRefusesCorruptBlob) {
  testing::ScopedTempDir tmp;
  auto src = *store::Store::Open(tmp.path() + "/a");
  Descriptor m = PutImage(*src, "amd64", "good layer");
  ASSERT_TRUE(WriteLayoutDir(*src, tmp.path() + "/layout", {{m, "v1", {}}}));
  Manifest manifest = *ParseManifest(*src->ReadBlob(m.digest));
  std::string layer_path =
      tmp.path() + "/layout/blobs/sha256/" + manifest.layers[0].digest.hex();
  fs::remove(layer_path);  // it may be a hard link to the store's copy
  ASSERT_TRUE(base::WriteFileAtomic(layer_path, "evil layer"));
  auto dst = *store::Store::Open(tmp.path() + "/b");
  auto r = ImportLayout(*dst, tmp.path() + "/layout", "v1",
                        Platform{"linux", "amd64", ""});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::Code::kDigestMismatch);
  EXPECT_FALSE(dst->HasBlob(manifest.layers[0].digest));
}

TEST(LayoutTest, IndexResolvesToPlatform) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path());
  Descriptor amd = PutImage(*store, "amd64", "a");
  Descriptor arm = PutImage(*store, "arm64", "b");
  Index index;
  index.manifests = {amd, arm};
  std::string json = ToJson(index);
  Descriptor root{media::kOciIndex,
                  *store->PutBlob(json),
                  static_cast<int64_t>(json.size()),
                  {},
                  std::nullopt};
  auto r = ResolveInStore(*store, root, Platform{"linux", "arm64", "v8"});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->manifest_desc.digest, arm.digest);
  auto none = ResolveInStore(*store, root, Platform{"linux", "s390x", ""});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("linux/amd64, linux/arm64"),
            std::string::npos);
  auto blobs = CollectBlobs(*store, root);
  ASSERT_TRUE(blobs);
  EXPECT_EQ(blobs->size(), 7u);  // index + 2 x (manifest, config, layer)
}

TEST(LayoutTest, DockerArchiveHasManifestJson) {
  testing::ScopedTempDir tmp;
  auto store = *store::Store::Open(tmp.path() + "/s");
  Descriptor m = PutImage(*store, "amd64", "layer");
  std::string tar = tmp.path() + "/img.tar";
  ASSERT_TRUE(WriteLayoutTar(*store, tar, {{m, "v1", {"app:v1"}}},
                             ArchiveFlavor::kDocker));
  fs::create_directories(tmp.path() + "/x");
  std::string cmd = "tar -xf " + tar + " -C " + tmp.path() + "/x";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto manifest_json = base::ReadFile(tmp.path() + "/x/manifest.json");
  ASSERT_TRUE(manifest_json);
  auto j = nlohmann::json::parse(*manifest_json);
  Manifest manifest = *ParseManifest(*store->ReadBlob(m.digest));
  EXPECT_EQ(j[0]["Config"], "blobs/sha256/" + manifest.config.digest.hex());
  EXPECT_EQ(j[0]["RepoTags"][0], "app:v1");
  EXPECT_EQ(j[0]["Layers"][0],
            "blobs/sha256/" + manifest.layers[0].digest.hex());
  auto repos =
      nlohmann::json::parse(*base::ReadFile(tmp.path() + "/x/repositories"));
  EXPECT_EQ(repos["app"]["v1"], manifest.config.digest.hex());
  // The same archive is an OCI layout that imports back.
  auto other = *store::Store::Open(tmp.path() + "/o");
  auto back = ImportLayout(*other, tmp.path() + "/x", "v1",
                           Platform{"linux", "amd64", ""});
  ASSERT_TRUE(back) << back.error().ToString();
  // Deterministic: writing twice gives identical bytes.
  std::string tar2 = tmp.path() + "/img2.tar";
  ASSERT_TRUE(WriteLayoutTar(*store, tar2, {{m, "v1", {"app:v1"}}},
                             ArchiveFlavor::kDocker));
  EXPECT_EQ(*base::ReadFile(tar), *base::ReadFile(tar2));
}

TEST(FindInLayoutIndex, ByRefNameOrTheOnlyEntry) {
  Index index;
  Descriptor a, b;
  a.digest = base::Digest::Of("a");
  a.annotations["org.opencontainers.image.ref.name"] = "v1";
  b.digest = base::Digest::Of("b");
  b.annotations["org.opencontainers.image.ref.name"] = "cache";
  index.manifests = {a};
  ASSERT_NE(FindInLayoutIndex(index, ""), nullptr);
  EXPECT_EQ(FindInLayoutIndex(index, "")->digest, a.digest);
  index.manifests.push_back(b);
  EXPECT_EQ(FindInLayoutIndex(index, ""), nullptr);  // ambiguous
  ASSERT_NE(FindInLayoutIndex(index, "cache"), nullptr);
  EXPECT_EQ(FindInLayoutIndex(index, "cache")->digest, b.digest);
  EXPECT_EQ(FindInLayoutIndex(index, "v2"), nullptr);
}

}  // namespace
}  // namespace strata::image
