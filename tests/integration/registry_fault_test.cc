// The strata binary against the real docker-registry behind
// tests/support/fault_proxy.py: `strata push` through 5xx, 429 and a
// connection cut mid-chunk, and `strata pull` through connections cut
// mid-blob. The proxy's log shows what crossed the wire, so the tests check
// that the image arrived whole and that nothing the registry had already
// confirmed (or the client had already received) went over twice.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "build/distributable.h"
#include "build_fixture.h"
#include "support/fault_proxy.h"
#include "support/registry_server.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Above the client's 16 MiB chunk size: pushed in PATCH chunks.
constexpr int64_t kBigFile = 20 << 20;

std::string RandomBytes(int64_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(static_cast<size_t>(size), '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

bool Succeeded(const json& entry) {
  int status = entry["status"].get<int>();
  return status >= 200 && status < 300 && !entry["cut"].get<bool>();
}

std::string PathOf(const json& entry) { return entry["path"].get<std::string>(); }

class RegistryFaultTest : public BuildTest {
 protected:
  void SetUp() override {
    base::Result<std::unique_ptr<RegistryServer>> registry =
        RegistryServer::Start(
            {.mode = RegistryServer::kPlain, .max_lifetime = 600s});
    ASSERT_TRUE(registry) << registry.error().ToString();
    registry_ = std::move(*registry);
    base::Result<std::unique_ptr<FaultProxy>> proxy =
        FaultProxy::Start(registry_->url(), {.max_lifetime = 600s});
    ASSERT_TRUE(proxy) << proxy.error().ToString();
    proxy_ = std::move(*proxy);
    env_.push_back("DOCKER_CONFIG=" + path("docker-config"));

    // One layer pushed in chunks, one small enough for a single PUT.
    Write("Dockerfile", "FROM scratch\nCOPY big.bin /big.bin\n"
                        "COPY small.txt /small.txt\n");
    Write("big.bin", RandomBytes(kBigFile, 7));
    Write("small.txt", "small\n");
    MustBuild({"-t", "app:v1", "--metadata-file", path("meta.json")});
    json meta = json::parse(*base::ReadFile(path("meta.json")));
    json local = meta["containerimage.descriptor"];
    ASSERT_TRUE(local.is_object()) << meta;
    // What a push sends: the image with its layers gzipped
    // (build/distributable.h); this also leaves that manifest in the store.
    std::unique_ptr<store::Store> store = *store::Store::Open(root());
    image::Descriptor desc{local["mediaType"].get<std::string>(),
                           *base::Digest::Parse(local["digest"].get<std::string>()),
                           local["size"].get<int64_t>(), {}, std::nullopt};
    base::Result<image::Descriptor> pushed = build::DistributableImage(
        *store, desc, *build::LayerCompression("gzip"));
    ASSERT_TRUE(pushed) << pushed.error().ToString();
    ASSERT_NE(pushed->digest, desc.digest);  // the layers were plain
    digest_ = pushed->digest.ToString();
  }

  CommandResult Strata(std::vector<std::string> args) {
    return RunStrata(args, "", dir_.path(), env_);
  }

  void SetFaults(const json& rules) {
    base::Status s = proxy_->SetFaults(rules);
    ASSERT_TRUE(s) << s.error().ToString();
  }

  json Log() {
    base::Result<json> log = proxy_->Log();
    EXPECT_TRUE(log) << log.error().ToString();
    return log ? *log : json::array();
  }

  /// The manifest digest skopeo reads straight from the registry.
  std::string RegistryDigest(const std::string& repo_tag) {
    CommandResult r = RunCommand({"timeout", "60", "skopeo", "inspect",
                                  "--raw", "--tls-verify=false",
                                  "docker://" + registry_->host() + "/" +
                                      repo_tag});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return base::Digest::Of(r.out).ToString();
  }

  /// The blobs of the image as the store holds them: digest -> size.
  std::map<std::string, int64_t> Blobs() {
    std::map<std::string, int64_t> out;
    std::string hex = digest_.substr(digest_.find(':') + 1);
    auto m = image::ParseManifest(
        *base::ReadFile(root() + "/blobs/sha256/" + hex));
    EXPECT_TRUE(m);
    if (!m) return out;
    out[m->config.digest.ToString()] = m->config.size;
    for (const image::Descriptor& l : m->layers) {
      out[l.digest.ToString()] = l.size;
    }
    return out;
  }

  std::unique_ptr<RegistryServer> registry_;
  std::unique_ptr<FaultProxy> proxy_;
  std::string digest_;
};

TEST_F(RegistryFaultTest, PushThroughFaultsResumesAndSendsNothingTwice) {
  SetFaults(json::array({
      {{"fault", "status"}, {"status", 500}, {"method", "HEAD"},
       {"path", "/blobs/"}},
      {{"fault", "status"}, {"status", 429}, {"retry_after", "1"},
       {"method", "POST"}, {"path", "/blobs/uploads/"}},
      // The second chunk of the big layer, cut after 1 MiB of its body.
      {{"fault", "cut_request"}, {"after", 1 << 20}, {"method", "PATCH"},
       {"skip", 1}},
      {{"fault", "status"}, {"status", 503}, {"method", "PUT"},
       {"path", "/manifests/"}},
  }));
  std::string dest = proxy_->host() + "/app:v1";
  CommandResult push = Strata({"push", "--root", root(), "app:v1", dest});
  ASSERT_EQ(push.exit_code, 0) << push.err << push.out;
  EXPECT_NE(push.out.find("digest: " + digest_), std::string::npos)
      << push.out;
  EXPECT_EQ(RegistryDigest("app:v1"), digest_);

  json log = Log();
  int faults = 0;
  for (const json& e : log) faults += e["fault"].is_string() ? 1 : 0;
  EXPECT_EQ(faults, 4) << log.dump(1);

  // Upload bytes the registry accepted add up to the blobs, exactly: a
  // chunk it confirmed was never sent again.
  std::map<std::string, int64_t> blobs = Blobs();
  int64_t want = 0;
  for (const auto& [digest, size] : blobs) want += size;
  int64_t accepted = 0;
  for (const json& e : log) {
    if (PathOf(e).find("/blobs/uploads/") == std::string::npos) continue;
    if (e["method"] != "PATCH" && e["method"] != "PUT") continue;
    if (Succeeded(e)) accepted += e["request_bytes"].get<int64_t>();
  }
  EXPECT_EQ(accepted, want) << log.dump(1);

  // The cut chunk was sent again from the offset it started at (what the
  // registry had confirmed), not from the start of the blob.
  int64_t cut_at = -1;
  bool resent_from_cut = false;
  for (const json& e : log) {
    if (e["method"] != "PATCH" || !e["content_range"].is_string()) continue;
    int64_t start = std::stoll(e["content_range"].get<std::string>());
    if (e["fault"].is_string()) cut_at = start;
    if (cut_at > 0 && Succeeded(e) && start == cut_at) resent_from_cut = true;
  }
  EXPECT_GT(cut_at, 0) << log.dump(1);
  EXPECT_TRUE(resent_from_cut) << log.dump(1);
}

TEST_F(RegistryFaultTest, PullResumesCutDownloadsWithRange) {
  CommandResult seed = Strata({"push", "--root", root(), "app:v1",
                               registry_->host() + "/app:v1"});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  std::map<std::string, int64_t> blobs = Blobs();
  std::string big;
  for (const auto& [digest, size] : blobs) {
    if (size > kBigFile / 2) big = digest;
  }
  ASSERT_FALSE(big.empty());

  SetFaults(json::array({
      {{"fault", "status"}, {"status", 500}, {"method", "GET"},
       {"path", "/manifests/"}},
      {{"fault", "cut_response"}, {"after", 1 << 20}, {"method", "GET"},
       {"path", big}, {"times", 2}},
  }));
  std::string fresh = path("fresh-root");
  std::string ref = proxy_->host() + "/app:v1";
  CommandResult pull = Strata({"pull", "--root", fresh, ref});
  ASSERT_EQ(pull.exit_code, 0) << pull.err << pull.out;
  EXPECT_NE(pull.out.find("downloaded " + big.substr(7, 12)),
            std::string::npos)
      << pull.out;

  // The big layer came in three pieces, each starting where the last
  // stopped: its bytes crossed the wire once.
  json log = Log();
  int64_t received = 0, next_start = 0;
  int pieces = 0;
  for (const json& e : log) {
    if (e["method"] != "GET" || PathOf(e).find(big) == std::string::npos) {
      continue;
    }
    int64_t start = e["range"].is_string()
                        ? std::stoll(e["range"].get<std::string>().substr(6))
                        : 0;
    EXPECT_EQ(start, next_start) << log.dump(1);
    received += e["response_bytes"].get<int64_t>();
    next_start = received;
    ++pieces;
  }
  EXPECT_EQ(pieces, 3) << log.dump(1);
  EXPECT_EQ(received, blobs[big]);

  // The pulled image is whole: a build on the fresh store exports the big
  // file, and with --pull the tag is asked for with HEAD only, since the
  // manifest it names is already stored.
  ASSERT_TRUE(proxy_->ClearLog());
  Write("Dockerfile", "FROM " + ref + "\n");
  MustBuild({"--pull", "-o", "type=local,dest=" + path("out")}, fresh);
  EXPECT_EQ(std::filesystem::file_size(path("out/big.bin")),
            static_cast<uintmax_t>(kBigFile));
  EXPECT_EQ(*base::ReadFile(path("out/big.bin")), RandomBytes(kBigFile, 7));
  json rebuild_log = Log();
  int heads = 0;
  for (const json& e : rebuild_log) {
    EXPECT_FALSE(e["method"] == "GET" &&
                 PathOf(e).find("/manifests/") != std::string::npos)
        << rebuild_log.dump(1);
    if (e["method"] == "HEAD" && PathOf(e).find("/manifests/v1") !=
                                     std::string::npos) {
      ++heads;
    }
  }
  EXPECT_EQ(heads, 1) << rebuild_log.dump(1);
}

TEST_F(RegistryFaultTest, PushGivesUpOnPersistent5xxWithOneLine) {
  SetFaults(json::array({{{"fault", "status"}, {"status", 502},
                          {"method", "POST"}, {"times", 100}}}));
  auto start = std::chrono::steady_clock::now();
  CommandResult push = Strata({"push", "--root", root(), "app:v1",
                               proxy_->host() + "/app:v1"});
  EXPECT_EQ(push.exit_code, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
  std::string err = push.err;
  ASSERT_FALSE(err.empty());
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
  EXPECT_NE(err.find("fault injected"), std::string::npos) << err;
  EXPECT_NE(err.find(proxy_->host() + "/app:v1"), std::string::npos) << err;
}

}  // namespace
}  // namespace strata::testing
