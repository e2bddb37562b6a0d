// tests/support/fault_proxy.py on loopback in front of a registry, for
// tests of how the registry client weathers faults: 5xx and 429 answers,
// connections cut mid-response and mid-request. The rule format and the
// log's fields are documented at the top of fault_proxy.py; in short:
//
//   [{"fault": "status", "status": 500, "method": "GET",
//     "path": "/manifests/", "times": 2},
//    {"fault": "status", "status": 429, "retry_after": "1"},
//    {"fault": "cut_response", "after": 65536, "path": "/blobs/sha256:"},
//    {"fault": "cut_request", "after": 10000, "method": "PATCH",
//     "skip": 2}]
//
// Log(): [{"seq", "method", "path", "range", "content_range", "status",
//          "request_bytes", "response_bytes", "cut", "fault"}, ...].
//
// The process runs under coreutils `timeout` (and the script's own
// --max-lifetime), so even a killed test leaves nothing running.
#ifndef STRATA_TESTS_SUPPORT_FAULT_PROXY_H_
#define STRATA_TESTS_SUPPORT_FAULT_PROXY_H_

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "support/background_process.h"

namespace strata::testing {

class FaultProxy {
 public:
  struct Options {
    /// Bound on the wait for the "listening on" line.
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
    /// Hard bound on the process's life, should the test never end.
    std::chrono::seconds max_lifetime = std::chrono::seconds(1800);
  };

  /// Starts the proxy in front of `upstream_url` ("http://127.0.0.1:PORT")
  /// on a free loopback port, with no rules. The error says why not.
  static base::Result<std::unique_ptr<FaultProxy>> Start(
      const std::string& upstream_url, const Options& options);
  static base::Result<std::unique_ptr<FaultProxy>> Start(
      const std::string& upstream_url) {
    return Start(upstream_url, Options{});
  }

  /// Stops the proxy (SIGKILL to its process group).
  ~FaultProxy() = default;
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  /// "127.0.0.1:PORT", as in a reference.
  const std::string& host() const { return host_; }
  std::string url() const { return "http://" + host_; }

  /// Replaces the rules (a JSON list; see above).
  base::Status SetFaults(const nlohmann::json& rules);
  /// Every proxied request so far, in arrival order.
  base::Result<nlohmann::json> Log();
  /// Forgets the log.
  base::Status ClearLog();

 private:
  FaultProxy() = default;
  /// One control request: the parsed JSON answer of a 200.
  base::Result<nlohmann::json> Control(const std::string& method,
                                       const std::string& path,
                                       const std::string& body);

  std::string host_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace strata::testing

#endif  // STRATA_TESTS_SUPPORT_FAULT_PROXY_H_
