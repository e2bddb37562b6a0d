// How strata talks to one registry host, as docker decides it: TLS files
// from certs.d directories, plain http for registries named insecure and
// for loopback ones, and Docker Hub's mirror.
#ifndef STRATA_REGISTRY_HOSTS_H_
#define STRATA_REGISTRY_HOSTS_H_

#include <string>
#include <vector>

#include "registry/client.h"

namespace strata::registry {

struct HostsConfig {
  /// --insecure-registry values: "host[:port]".
  std::vector<std::string> insecure;
  /// Searched in order for HOST/ca.crt (or any *.crt), client.cert and
  /// client.key. Default: ~/.config/strata/certs.d, /etc/docker/certs.d.
  std::vector<std::string> cert_dirs;
  /// --registry-mirror for docker.io: "https://mirror.example" or a host.
  std::string docker_hub_mirror;
};

/// The default certs.d directories (see HostsConfig::cert_dirs).
std::vector<std::string> DefaultCertDirs();

/// True for localhost, 127.0.0.0/8 and ::1, with or without a port.
bool IsLoopback(const std::string& host);

/// The TLS and scheme settings for `host` (credentials not included):
/// plain http or unverified TLS for --insecure-registry hosts, and for
/// loopback ones unless certs.d gives them a CA (then TLS is verified).
ClientOptions OptionsFor(const std::string& host, const HostsConfig& config);

}  // namespace strata::registry

#endif  // STRATA_REGISTRY_HOSTS_H_
