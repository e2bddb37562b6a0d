// registry::Client against the real docker-registry (kPlain) behind
// tests/support/fault_proxy.py: retries after 5xx and 429, downloads
// resumed with Range after cut connections, uploads that start a new
// session (one PUT) or resume from the offset the registry confirmed
// (PATCH chunks). The proxy's log shows what crossed the wire, so the
// tests check not only that the client got there but that it re-sent
// nothing the registry already had.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/stream.h"
#include "registry/client.h"
#include "support/fault_proxy.h"
#include "support/registry_server.h"

namespace strata::registry {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using strata::testing::FaultProxy;
using strata::testing::RegistryServer;

constexpr int64_t kKiB = 1024;

/// `size` bytes that do not compress and differ per `seed`.
std::string RandomBlob(int64_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(static_cast<size_t>(size), '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

BlobOpener OpenerFor(const std::string& data) {
  return
      [&data](int64_t offset) -> base::Result<std::unique_ptr<base::Source>> {
        return std::unique_ptr<base::Source>(
            new base::StringSource(data.substr(static_cast<size_t>(offset))));
      };
}

/// The log entries of `method` requests whose path contains `part`.
std::vector<json> Entries(const json& log, const std::string& method,
                          const std::string& part) {
  std::vector<json> out;
  for (const json& e : log) {
    if (e["method"] == method &&
        e["path"].get<std::string>().find(part) != std::string::npos) {
      out.push_back(e);
    }
  }
  return out;
}

/// "bytes=N-" -> N; -1 when there is no Range.
int64_t RangeStart(const json& entry) {
  if (!entry["range"].is_string()) return -1;
  std::string r = entry["range"];
  return std::stoll(r.substr(r.find('=') + 1));
}

/// "A-B" -> A; -1 when there is no Content-Range.
int64_t ContentRangeStart(const json& entry) {
  if (!entry["content_range"].is_string()) return -1;
  return std::stoll(entry["content_range"].get<std::string>());
}

class ClientFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base::Result<std::unique_ptr<RegistryServer>> registry =
        RegistryServer::Start(
            {.mode = RegistryServer::kPlain, .max_lifetime = 300s});
    ASSERT_TRUE(registry) << registry.error().ToString();
    registry_ = std::move(*registry);
    base::Result<std::unique_ptr<FaultProxy>> proxy =
        FaultProxy::Start(registry_->url(), {.max_lifetime = 300s});
    ASSERT_TRUE(proxy) << proxy.error().ToString();
    proxy_ = std::move(*proxy);
  }

  /// A client of the registry through the proxy, with quick backoff.
  std::unique_ptr<Client> MakeClient(int64_t chunk_size = 16 << 20,
                                     int max_attempts = 5) {
    ClientOptions options;
    options.allow_http = true;
    options.max_attempts = max_attempts;
    options.first_backoff = 20ms;
    options.chunk_size = chunk_size;
    return std::make_unique<Client>(proxy_->host(), options);
  }

  void SetFaults(const json& rules) {
    base::Status s = proxy_->SetFaults(rules);
    ASSERT_TRUE(s) << s.error().ToString();
  }

  void ClearLog() {
    base::Status s = proxy_->ClearLog();
    ASSERT_TRUE(s) << s.error().ToString();
  }

  json Log() {
    base::Result<json> log = proxy_->Log();
    EXPECT_TRUE(log) << log.error().ToString();
    return log ? *log : json::array();
  }

  /// Fetches the blob into memory; "" with a test failure if it cannot.
  std::string Fetch(Client& client, const std::string& repo,
                    const std::string& data) {
    base::StringSink sink;
    base::Status s = client.FetchBlob(repo, base::Digest::Of(data),
                                      static_cast<int64_t>(data.size()), &sink);
    EXPECT_TRUE(s) << s.error().ToString() << "\n" << registry_->log(4096);
    return sink.str();
  }

  /// Pushes `data` as a blob; true if bytes were sent.
  bool Push(Client& client, const std::string& repo, const std::string& data) {
    base::Result<bool> pushed =
        client.PushBlob(repo, base::Digest::Of(data),
                        static_cast<int64_t>(data.size()), OpenerFor(data));
    EXPECT_TRUE(pushed) << pushed.error().ToString() << "\n"
                        << registry_->log(4096) << "\n"
                        << Log().dump(1);
    return pushed && *pushed;
  }

  /// Checks (without faults, straight to the registry) that it holds
  /// exactly `data`.
  void ExpectRegistryHolds(const std::string& repo, const std::string& data) {
    ClientOptions options;
    options.allow_http = true;
    Client direct(registry_->host(), options);
    base::Result<bool> exists = direct.BlobExists(repo, base::Digest::Of(data));
    ASSERT_TRUE(exists) << exists.error().ToString();
    EXPECT_TRUE(*exists);
    EXPECT_TRUE(Fetch(direct, repo, data) == data);
  }

  /// Pushes a config blob and an OCI manifest naming it as repo:tag; the
  /// manifest's bytes.
  std::string PushManifest(Client& client, const std::string& repo,
                           const std::string& tag) {
    std::string config = R"({"architecture":"amd64","os":"linux"})";
    EXPECT_TRUE(Push(client, repo, config));
    json manifest = {
        {"schemaVersion", 2},
        {"mediaType", kManifestMediaTypes[0]},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", base::Digest::Of(config).ToString()},
          {"size", config.size()}}},
        {"layers", json::array()}};
    std::string body = manifest.dump();
    base::Status s =
        client.PutManifest(repo, tag, kManifestMediaTypes[0], body);
    EXPECT_TRUE(s) << s.error().ToString();
    return body;
  }

  std::unique_ptr<RegistryServer> registry_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(ClientFaultTest, BlobRoundTripWithoutFaults) {
  std::unique_ptr<Client> client = MakeClient();
  std::string data = RandomBlob(200 * kKiB, 1);
  EXPECT_TRUE(Push(*client, "fault/plain", data));
  EXPECT_TRUE(Fetch(*client, "fault/plain", data) == data);
  // Pushed again: the registry has it, nothing is sent.
  base::Result<bool> again =
      client->PushBlob("fault/plain", base::Digest::Of(data),
                       static_cast<int64_t>(data.size()), OpenerFor(data));
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(*again);
  json log = Log();
  for (const json& e : log) EXPECT_FALSE(e["cut"].get<bool>()) << e.dump();
  std::vector<json> puts = Entries(log, "PUT", "/blobs/uploads/");
  ASSERT_EQ(puts.size(), 1u) << log.dump(1);
  EXPECT_EQ(puts[0]["request_bytes"], data.size());
  EXPECT_EQ(puts[0]["status"], 201);
  ExpectRegistryHolds("fault/plain", data);
}

TEST_F(ClientFaultTest, ManifestGetRetriedAfterTwo500s) {
  std::unique_ptr<Client> client = MakeClient();
  std::string body = PushManifest(*client, "fault/manifest", "v1");
  SetFaults(json::array({{{"fault", "status"},
                          {"status", 500},
                          {"method", "GET"},
                          {"path", "/manifests/"},
                          {"times", 2}}}));
  ClearLog();
  base::Result<FetchedManifest> m = client->GetManifest("fault/manifest", "v1");
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->body, body);
  EXPECT_EQ(m->digest, base::Digest::Of(body));
  EXPECT_EQ(m->media_type, kManifestMediaTypes[0]);
  std::vector<json> gets = Entries(Log(), "GET", "/manifests/v1");
  ASSERT_EQ(gets.size(), 3u);
  EXPECT_EQ(gets[0]["status"], 500);
  EXPECT_EQ(gets[1]["status"], 500);
  EXPECT_EQ(gets[2]["status"], 200);
}

TEST_F(ClientFaultTest, ManifestGetWaitsForRetryAfterOn429) {
  std::unique_ptr<Client> client = MakeClient();
  std::string body = PushManifest(*client, "fault/limited", "v1");
  SetFaults(json::array({{{"fault", "status"},
                          {"status", 429},
                          {"retry_after", "1"},
                          {"path", "/manifests/"}}}));
  ClearLog();
  auto start = std::chrono::steady_clock::now();
  base::Result<FetchedManifest> m = client->GetManifest("fault/limited", "v1");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->body, body);
  // The backoff alone would be 20ms: the second try waited for the
  // registry's Retry-After.
  EXPECT_GE(elapsed, 1s);
  std::vector<json> gets = Entries(Log(), "GET", "/manifests/v1");
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0]["status"], 429);
  EXPECT_EQ(gets[1]["status"], 200);
}

TEST_F(ClientFaultTest, ManifestGetFailsClearlyAfterMaxAttempts) {
  std::unique_ptr<Client> client = MakeClient(16 << 20, /*max_attempts=*/3);
  PushManifest(*client, "fault/down", "v1");
  SetFaults(json::array({{{"fault", "status"},
                          {"status", 503},
                          {"path", "/manifests/"},
                          {"times", 100}}}));
  ClearLog();
  base::Result<FetchedManifest> m = client->GetManifest("fault/down", "v1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), base::Code::kNetwork);
  std::string message = m.error().ToString();
  EXPECT_NE(message.find("fault/down:v1"), std::string::npos) << message;
  // The registry's own words (from the error body) are in it.
  EXPECT_NE(message.find("UNAVAILABLE"), std::string::npos) << message;
  EXPECT_EQ(Entries(Log(), "GET", "/manifests/v1").size(), 3u);
}

TEST_F(ClientFaultTest, BlobDownloadResumesAfterTwoCuts) {
  std::unique_ptr<Client> client = MakeClient();
  std::string data = RandomBlob(1024 * kKiB, 2);
  ASSERT_TRUE(Push(*client, "fault/pull", data));
  constexpr int64_t kCut = 100000;
  SetFaults(json::array({{{"fault", "cut_response"},
                          {"method", "GET"},
                          {"path", "/blobs/sha256:"},
                          {"after", kCut},
                          {"times", 2}}}));
  ClearLog();
  EXPECT_TRUE(Fetch(*client, "fault/pull", data) == data);
  std::vector<json> gets = Entries(Log(), "GET", "/blobs/sha256:");
  ASSERT_EQ(gets.size(), 3u) << Log().dump(1);
  EXPECT_TRUE(gets[0]["cut"].get<bool>());
  EXPECT_TRUE(gets[1]["cut"].get<bool>());
  EXPECT_FALSE(gets[2]["cut"].get<bool>());
  // Each try asks for the bytes after those already received...
  EXPECT_EQ(RangeStart(gets[0]), -1);
  EXPECT_EQ(RangeStart(gets[1]), kCut);
  EXPECT_EQ(RangeStart(gets[2]), 2 * kCut);
  EXPECT_EQ(gets[1]["status"], 206);
  EXPECT_EQ(gets[2]["status"], 206);
  // ...so across the three, every byte crossed the wire once.
  int64_t sent = 0;
  for (const json& e : gets) sent += e["response_bytes"].get<int64_t>();
  EXPECT_EQ(gets[0]["response_bytes"], kCut);
  EXPECT_EQ(gets[1]["response_bytes"], kCut);
  EXPECT_EQ(sent, static_cast<int64_t>(data.size()));
}

TEST_F(ClientFaultTest, MonolithicUploadCutStartsANewSession) {
  std::unique_ptr<Client> client = MakeClient();
  std::string data = RandomBlob(100 * kKiB, 3);
  SetFaults(json::array({{{"fault", "cut_request"},
                          {"method", "PUT"},
                          {"path", "/blobs/uploads/"},
                          {"after", 20000}}}));
  EXPECT_TRUE(Push(*client, "fault/mono", data));
  json log = Log();
  std::vector<json> posts = Entries(log, "POST", "/blobs/uploads/");
  std::vector<json> puts = Entries(log, "PUT", "/blobs/uploads/");
  ASSERT_EQ(posts.size(), 2u) << log.dump(1);
  ASSERT_EQ(puts.size(), 2u) << log.dump(1);
  EXPECT_TRUE(puts[0]["cut"].get<bool>());
  EXPECT_EQ(puts[0]["request_bytes"], 20000);
  EXPECT_EQ(puts[1]["status"], 201);
  EXPECT_EQ(puts[1]["request_bytes"], data.size());
  // The second PUT went to the second session.
  auto session = [](const json& e) {
    std::string path = e["path"];
    return path.substr(0, path.find('?'));
  };
  EXPECT_NE(session(puts[0]), session(puts[1]));
  ExpectRegistryHolds("fault/mono", data);
}

// Cuts the PATCH of chunk `cut_chunk` (0-based) of a 5-chunk upload.
class ChunkedUploadTest : public ClientFaultTest,
                          public ::testing::WithParamInterface<int> {};

TEST_P(ChunkedUploadTest, ResumesFromTheConfirmedOffset) {
  constexpr int64_t kChunk = 64 * kKiB;
  const int cut_chunk = GetParam();
  std::unique_ptr<Client> client = MakeClient(kChunk);
  std::string data =
      RandomBlob(300 * kKiB, 4 + static_cast<uint32_t>(cut_chunk));
  SetFaults(json::array({{{"fault", "cut_request"},
                          {"method", "PATCH"},
                          {"skip", cut_chunk},
                          {"after", 10000}}}));
  EXPECT_TRUE(Push(*client, "fault/chunked", data));
  json log = Log();
  std::vector<json> patches = Entries(log, "PATCH", "/blobs/uploads/");
  // Five chunks, one of them tried twice.
  ASSERT_EQ(patches.size(), 6u) << log.dump(1);
  int64_t confirmed = 0;
  int64_t expect_start = 0;
  for (size_t i = 0; i < patches.size(); ++i) {
    const json& e = patches[i];
    EXPECT_EQ(ContentRangeStart(e), expect_start) << e.dump();
    if (static_cast<int>(i) == cut_chunk) {
      EXPECT_TRUE(e["cut"].get<bool>()) << e.dump();
      continue;  // the next one starts at the same offset
    }
    EXPECT_EQ(e["status"], 202) << e.dump();
    confirmed += e["request_bytes"].get<int64_t>();
    expect_start += kChunk;
  }
  // Only what the registry had not confirmed was sent again.
  EXPECT_EQ(confirmed, static_cast<int64_t>(data.size()));
  // The client asked where the upload stood once, after the cut.
  std::vector<json> status_gets = Entries(log, "GET", "/blobs/uploads/");
  ASSERT_EQ(status_gets.size(), 1u) << log.dump(1);
  EXPECT_EQ(status_gets[0]["status"], 204);
  std::vector<json> puts = Entries(log, "PUT", "/blobs/uploads/");
  ASSERT_EQ(puts.size(), 1u) << log.dump(1);
  EXPECT_EQ(puts[0]["request_bytes"], 0);
  EXPECT_EQ(puts[0]["status"], 201);
  ExpectRegistryHolds("fault/chunked", data);
}

INSTANTIATE_TEST_SUITE_P(CutChunk, ChunkedUploadTest,
                         ::testing::Values(0, 2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Chunk" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace strata::registry
