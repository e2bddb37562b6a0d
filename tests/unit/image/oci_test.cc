#include "image/oci.h"

#include <gtest/gtest.h>

namespace strata::image {
namespace {

ImageConfig SampleConfig() {
  ImageConfig c;
  c.created = "2024-01-02T03:04:05Z";
  c.platform = {"linux", "arm64", "v8"};
  c.config.user = "app";
  c.config.exposed_ports = {"8000/tcp", "53/udp"};
  c.config.env = {"PATH=/usr/bin", "A=b"};
  c.config.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
  c.config.cmd = std::vector<std::string>{};
  c.config.volumes = {"/data"};
  c.config.working_dir = "/app";
  c.config.labels = {{"b", "2"}, {"a", "1"}};
  c.config.stop_signal = "SIGTERM";
  c.config.healthcheck =
      HealthConfig{{"CMD-SHELL", "true"}, 30000000000, 5000000000, 0, 0, 3};
  c.config.on_build = {"RUN echo hi"};
  c.config.shell = {"/bin/bash", "-c"};
  c.diff_ids = {base::Digest::Of("layer")};
  c.history = {{"2024-01-02T03:04:05Z", "COPY . . # buildkit", "",
                "buildkit.dockerfile.v0", false},
               {"", "ENV A=b", "", "", true}};
  return c;
}

TEST(OciTest, ConfigRoundTripsAndIsDeterministic) {
  ImageConfig c = SampleConfig();
  std::string json = ToJson(c);
  EXPECT_EQ(json, ToJson(SampleConfig()));
  base::Result<ImageConfig> back = ParseImageConfig(json);
  ASSERT_TRUE(back) << back.error().ToString();
  // exposed ports and volumes come back sorted.
  ImageConfig want = c;
  want.config.exposed_ports = {"53/udp", "8000/tcp"};
  EXPECT_EQ(*back, want);
  EXPECT_EQ(ToJson(*back), json);
  // Go-struct field order, empty Cmd kept as [] (it clears a base's CMD).
  EXPECT_EQ(json.find("\"created\""), 1u);
  EXPECT_NE(json.find("\"Cmd\":[]"), std::string::npos);
  EXPECT_NE(json.find("\"ExposedPorts\":{\"53/udp\":{},\"8000/tcp\":{}}"),
            std::string::npos);
  EXPECT_NE(json.find("\"empty_layer\":true"), std::string::npos);
}

TEST(OciTest, ManifestAndIndexRoundTrip) {
  Manifest m;
  m.config = {media::kOciConfig, base::Digest::Of("c"), 10, {}, std::nullopt};
  m.layers = {
      {media::kOciLayerGzip, base::Digest::Of("l"), 20, {}, std::nullopt}};
  m.annotations = {{"org.opencontainers.image.created", "x"}};
  base::Result<Manifest> mb = ParseManifest(ToJson(m));
  ASSERT_TRUE(mb);
  EXPECT_EQ(mb->config, m.config);
  EXPECT_EQ(mb->layers, m.layers);
  EXPECT_EQ(mb->annotations, m.annotations);
  EXPECT_EQ(SniffMediaType(ToJson(m)), media::kOciManifest);

  Index i;
  i.manifests = {{media::kOciManifest,
                  base::Digest::Of("m"),
                  30,
                  {{"org.opencontainers.image.ref.name", "v1"}},
                  Platform{"linux", "amd64", ""}}};
  base::Result<Index> ib = ParseIndex(ToJson(i));
  ASSERT_TRUE(ib);
  EXPECT_EQ(ib->manifests, i.manifests);
}

TEST(OciTest, BadDocumentsAreErrorsNotExceptions) {
  EXPECT_FALSE(ParseManifest("not json"));
  EXPECT_FALSE(ParseManifest("[]"));
  EXPECT_FALSE(ParseManifest("{\"layers\":[]}"));  // no config
  EXPECT_FALSE(ParseManifest(
      "{\"config\":{\"digest\":\"sha256:zz\",\"size\":1},\"layers\":[]}"));
  EXPECT_FALSE(ParseManifest("{\"config\":{\"digest\":5},\"layers\":[]}"));
  EXPECT_FALSE(ParseIndex("{\"manifests\":{}}"));
  EXPECT_FALSE(ParseImageConfig("{\"config\":{\"Env\":[1]}}"));
  EXPECT_FALSE(ParseImageConfig("{\"rootfs\":{\"diff_ids\":[\"x\"]}}"));
  EXPECT_FALSE(ParseImageConfig("{\"history\":[3]}"));
  EXPECT_TRUE(ParseImageConfig("{\"config\":null,\"history\":null}"));
  EXPECT_EQ(SniffMediaType("{}"), "");
}

TEST(OciTest, Rfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1700000000, 120000000), "2023-11-14T22:13:20.12Z");
}

}  // namespace
}  // namespace strata::image
