#include "support/fault_proxy.h"

#include <curl/curl.h>

#include "support/test_support.h"

namespace strata::testing {
namespace {

using base::Code;
using base::MakeError;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

base::Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(
    const std::string& upstream_url, const Options& options) {
  std::string script = TestdataPath("../tests/support/fault_proxy.py");
  std::string lifetime = std::to_string(options.max_lifetime.count());
  std::unique_ptr<FaultProxy> proxy(new FaultProxy());
  proxy->process_ =
      std::make_unique<BackgroundProcess>(std::vector<std::string>{
          "timeout", "-k", "5", lifetime, "python3", "-u", script, "--upstream",
          upstream_url, "--max-lifetime", lifetime});
  if (!proxy->process_->started()) {
    return MakeError(Code::kInternal, "cannot start fault_proxy.py");
  }
  const std::string prefix = "listening on ";
  std::optional<std::string> line =
      proxy->process_->WaitForLine(prefix, options.ready_timeout);
  if (!line) {
    return MakeError(Code::kInternal, "fault_proxy.py did not start: ",
                     proxy->process_->output());
  }
  proxy->host_ = line->substr(line->find(prefix) + prefix.size());
  return proxy;
}

base::Result<nlohmann::json> FaultProxy::Control(const std::string& method,
                                                 const std::string& path,
                                                 const std::string& body) {
  static const bool initialized =
      curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return MakeError(Code::kInternal, "curl_global_init");
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return MakeError(Code::kInternal, "curl_easy_init");
  std::string target = url() + path;
  std::string answer;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, target.c_str());
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // loopback: never a proxy
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return MakeError(Code::kNetwork, method, " ", target, ": ",
                     curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  nlohmann::json parsed = nlohmann::json::parse(answer, nullptr, false);
  if (status != 200 || parsed.is_discarded()) {
    return MakeError(Code::kInternal, method, " ", target, ": status ", status,
                     ": ", answer);
  }
  return parsed;
}

base::Status FaultProxy::SetFaults(const nlohmann::json& rules) {
  STRATA_TRY(Control("POST", "/__faults", rules.dump()));
  return {};
}

base::Result<nlohmann::json> FaultProxy::Log() {
  return Control("GET", "/__log", "");
}

base::Status FaultProxy::ClearLog() {
  STRATA_TRY(Control("DELETE", "/__log", ""));
  return {};
}

}  // namespace strata::testing
