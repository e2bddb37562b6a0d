// Registry credentials where docker, podman/skopeo and buildah users keep
// them, and `strata login` / `strata logout`.
//
// Sources, first match wins:
//   1. --creds USER:PASS (CredentialSources::explicit_credentials);
//   2. $REGISTRY_AUTH_FILE, the containers auth.json (skipped if missing);
//   3. <docker config dir>/config.json, the dir being $DOCKER_CONFIG, else
//      $HOME/.docker (skipped if missing).
// Both files have docker's format; unknown keys are kept on rewrite:
//   {"auths": {"KEY": {"auth": base64("user:pass"),   // or:
//                      "username": "u", "password": "p",
//                      "identitytoken": "oauth refresh token"}},
//    "credHelpers": {"KEY": "NAME"},    // per registry, before credsStore
//    "credsStore": "NAME"}
// KEY is a host ("127.0.0.1:5000"), possibly written with a scheme or a
// path ("https://host:5000/v1/", "http://host", "quay.io/org"): it matches
// the host it normalizes to. An exact key wins over a normalized one.
// Docker Hub ("docker.io", "index.docker.io", "registry-1.docker.io") is
// stored under the legacy key "https://index.docker.io/v1/", which is also
// the server URL its credential helper is given.
// An entry with neither user, password nor token ({} as docker leaves next
// to a credential store) holds nothing: the search goes on.
//
// Credential helpers (docker-credential-helpers protocol): the executable
// docker-credential-NAME from PATH, run without a shell, with ACTION as
// its only argument and a bounded run time:
//   get    stdin: server URL  stdout: {"ServerURL","Username","Secret"}
//          (Username "<token>": Secret is an identity token)
//   store  stdin: {"ServerURL","Username","Secret"}
//   erase  stdin: server URL
// A helper that exits non-zero saying "credentials not found" means none
// (for get, the file's own auths entry is then still consulted).
//
// Secrets (passwords, tokens, base64 auth) never appear in errors.
#ifndef STRATA_REGISTRY_CREDENTIALS_H_
#define STRATA_REGISTRY_CREDENTIALS_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::registry {

/// What a registry login needs: user and password, or an identity token.
struct Credentials {
  std::string username;
  std::string password;
  /// OAuth refresh token, sent in the token endpoint's POST; "" when none.
  std::string identity_token;
};

/// Where FindCredentials / Login / Logout look.
struct CredentialSources {
  /// Holds config.json; "" when neither $DOCKER_CONFIG nor a home is known.
  std::string docker_config_dir;
  /// $REGISTRY_AUTH_FILE, searched before config.json; "" when unset.
  std::string auth_file;
  /// --creds: used for any registry, before every file.
  std::optional<Credentials> explicit_credentials;
  /// How long a credential helper may run before it is killed.
  std::chrono::milliseconds helper_timeout{30000};
};

/// Docker Hub's key in config.json and its helpers' server URL.
inline constexpr char kDockerHubLegacyKey[] = "https://index.docker.io/v1/";

/// Sources from the environment: $DOCKER_CONFIG, else $HOME/.docker (the
/// passwd entry's home when HOME is unset); $REGISTRY_AUTH_FILE.
CredentialSources CredentialSourcesFromEnv();

/// Parses --creds "USER:PASS" (the password may hold ':').
/// InvalidArgument when USER is empty or there is no ':'.
base::Result<Credentials> ParseCredsFlag(std::string_view text);

/// The host a config key or registry name stands for: scheme and path
/// dropped, lower-cased ("https://Host:5000/v1/" -> "host:5000").
std::string NormalizeRegistryHost(std::string_view key);

/// True for docker.io, index.docker.io and registry-1.docker.io (in any
/// form NormalizeRegistryHost accepts).
bool IsDockerHub(std::string_view host);

/// The credentials for `registry_host` from the first source that has
/// some; nullopt when none does (anonymous access). Parse for a malformed
/// file (naming it), Auth for a failing credential helper (naming it).
base::Result<std::optional<Credentials>> FindCredentials(
    const std::string& registry_host, const CredentialSources& src);

/// Stores `creds` for `registry_host` in <docker_config_dir>/config.json:
/// through the credential helper configured for the host (credHelpers,
/// else credsStore), leaving {} in auths, or else as a base64 "auth" (and
/// "identitytoken") entry. The rest of the file is kept; it is replaced
/// atomically with mode 0600, the dir created with 0700.
base::Status Login(const std::string& registry_host, const Credentials& creds,
                   const CredentialSources& src);

/// Removes what Login stored for `registry_host` (every auths key naming
/// the host; erase through its helper). NotFound "not logged in to HOST"
/// when there was nothing to remove.
base::Status Logout(const std::string& registry_host,
                    const CredentialSources& src);

}  // namespace strata::registry

#endif  // STRATA_REGISTRY_CREDENTIALS_H_
