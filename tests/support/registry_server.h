// The real Debian `docker-registry` (distribution 2.8) on 127.0.0.1 for
// registry tests: never a mock. Three modes:
//
//   kPlain     plain http, no auth.
//   kBasicTls  https with a CA and a server cert (SAN IP:127.0.0.1,
//              DNS:localhost) made by the openssl CLI, and htpasswd (bcrypt,
//              `htpasswd -Bbn`) Basic auth. With require_client_cert also
//              mutual TLS: a second CA (the registry's http.tls.clientcas)
//              and a client cert and key it signed.
//   kToken     plain http with `auth: token`: Bearer tokens from
//              tests/support/token_server.py, started first on its own
//              loopback port, whose self-signed signing cert is the
//              registry's rootcertbundle. POST /token takes OAuth2
//              password grants and, with Options::refresh_token, refresh
//              token (identity token) grants.
//
// Everything lives in one temp dir (certs, htpasswd, config.yml, data/,
// logs), removed when the server dies. The processes run under coreutils
// `timeout`, so even a killed test leaves nothing running past
// Options::max_lifetime.
#ifndef STRATA_TESTS_SUPPORT_REGISTRY_SERVER_H_
#define STRATA_TESTS_SUPPORT_REGISTRY_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "support/background_process.h"
#include "support/test_support.h"

namespace strata::testing {

class RegistryServer {
 public:
  enum Mode { kPlain, kBasicTls, kToken };

  struct Options {
    Mode mode = kPlain;
    /// kToken: anonymous token requests get pull access (else 401).
    bool anonymous_pull = false;
    /// kToken: lifetime of issued tokens, for refresh tests.
    int token_expires_in = 300;
    /// kToken: the identity (refresh) token POST /token accepts for
    /// username(); "" accepts none.
    std::string refresh_token{};  // {}: designated initializers may omit it
    /// kBasicTls: the TLS handshake requires a client certificate signed
    /// by the client CA (see client_cert_path()).
    bool require_client_cert = false;
    /// The port to listen on; 0 picks a free one. A fixed port in use is
    /// an error (for Dockerfiles that name 127.0.0.1:5000).
    int port = 0;
    /// Bound on the wait for `GET /v2/` to answer.
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
    /// Hard bound on the processes' life, should the test never end.
    std::chrono::seconds max_lifetime = std::chrono::seconds(1800);
  };

  /// Makes the temp dir, the certs and config, starts the token server
  /// (kToken) and the registry on free loopback ports, and waits until
  /// `GET /v2/` answers 200 or 401. The error says why not, with the logs.
  static base::Result<std::unique_ptr<RegistryServer>> Start(
      const Options& options);

  /// Stops the registry, then the token server (SIGTERM, a bounded wait,
  /// then SIGKILL to the process group) and removes the temp dir.
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  Mode mode() const { return mode_; }
  /// "127.0.0.1:PORT", as in a reference.
  const std::string& host() const { return host_; }
  /// "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
  std::string url() const;
  /// The CA that signed the server cert (kBasicTls), else "".
  const std::string& ca_cert_path() const { return ca_cert_path_; }
  /// A dir for skopeo's --cert-dir (kBasicTls), else "": ca.crt, plus
  /// client.cert and client.key with require_client_cert.
  const std::string& cert_dir() const { return cert_dir_; }
  /// With require_client_cert: a client cert (PEM) the registry accepts
  /// and its key; else "".
  const std::string& client_cert_path() const { return client_cert_path_; }
  const std::string& client_key_path() const { return client_key_path_; }
  /// The fixed test credentials (kBasicTls, kToken).
  static const char* username() { return "strata"; }
  static const char* password() { return "strata-test-password"; }
  /// "http://127.0.0.1:PORT/token" (kToken), else "".
  const std::string& token_realm() const { return token_realm_; }
  /// The `service` the registry expects in tokens (kToken).
  static const char* token_service() { return "strata-test-registry"; }
  /// The registry's storage root.
  std::string data_dir() const;
  /// The temp dir holding everything, removed by the destructor.
  const std::string& dir() const { return dir_.path(); }

  /// The last `max_bytes` of the registry's stdout+stderr (and the token
  /// server's request log in kToken), for failure messages.
  std::string log(size_t max_bytes = 16384) const;

  /// kToken: how many GET /token requests the issuer has had so far.
  base::Result<int64_t> TokenRequestCount() const;
  /// kToken: how many POST /token (OAuth2 grant) requests it has had.
  base::Result<int64_t> TokenPostCount() const;

 private:
  RegistryServer() = default;
  base::Status MakeTlsFiles();
  base::Status MakeClientCert();
  base::Result<int64_t> TokenStat(const std::string& key) const;
  base::Status MakeTokenCert();
  base::Status StartTokenServer(const Options& options);
  base::Status StartRegistry(const Options& options);
  std::string Config(int port) const;
  static void StopProcess(std::unique_ptr<BackgroundProcess>& process);

  Mode mode_ = kPlain;
  ScopedTempDir dir_;
  std::string host_;
  std::string ca_cert_path_;
  std::string cert_dir_;
  std::string client_cert_path_;
  std::string client_key_path_;
  std::string client_ca_path_;  // the registry's clientcas, when required
  std::string token_realm_;
  std::string token_base_;  // "http://127.0.0.1:PORT"
  std::unique_ptr<BackgroundProcess> token_server_;
  std::unique_ptr<BackgroundProcess> registry_;
};

}  // namespace strata::testing

#endif  // STRATA_TESTS_SUPPORT_REGISTRY_SERVER_H_
