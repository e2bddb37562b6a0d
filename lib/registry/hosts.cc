#include "registry/hosts.h"

#include <cstdlib>
#include <filesystem>

namespace strata::registry {

namespace {

// "host:port" -> "host"; "[::1]:5000" -> "::1".
std::string HostName(const std::string& host) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    return host.substr(1, close == std::string::npos ? std::string::npos
                                                     : close - 1);
  }
  size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(':') == colon) {
    return host.substr(0, colon);
  }
  return host;
}

}  // namespace

std::vector<std::string> DefaultCertDirs() {
  std::vector<std::string> dirs;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    dirs.push_back(std::string(xdg) + "/strata/certs.d");
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dirs.push_back(std::string(home) + "/.config/strata/certs.d");
  }
  dirs.push_back("/etc/docker/certs.d");
  return dirs;
}

bool IsLoopback(const std::string& host) {
  std::string name = HostName(host);
  return name == "localhost" || name == "::1" || name.rfind("127.", 0) == 0;
}

ClientOptions OptionsFor(const std::string& host, const HostsConfig& config) {
  namespace fs = std::filesystem;
  ClientOptions options;
  for (const std::string& insecure : config.insecure) {
    if (insecure == host || insecure == HostName(host)) {
      options.allow_http = true;
    }
  }
  std::vector<std::string> dirs =
      config.cert_dirs.empty() ? DefaultCertDirs() : config.cert_dirs;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    fs::path d = fs::path(dir) / host;
    if (!fs::is_directory(d, ec)) continue;
    for (const fs::directory_entry& e : fs::directory_iterator(d, ec)) {
      std::string name = e.path().filename().string();
      if (name.ends_with(".crt") && options.tls.ca_file.empty()) {
        options.tls.ca_file = e.path().string();
      } else if (name.ends_with(".cert")) {
        fs::path key = e.path();
        key.replace_extension(".key");
        if (fs::exists(key, ec)) {
          options.tls.client_cert = e.path().string();
          options.tls.client_key = key.string();
        }
      }
    }
    if (fs::exists(d / "ca.crt", ec)) options.tls.ca_file = (d / "ca.crt").string();
    break;  // the first directory that has the host wins
  }
  // As docker, a loopback registry may be plain http or unverified TLS;
  // but a CA given for it in certs.d says to verify with that CA.
  if (IsLoopback(host) && options.tls.ca_file.empty()) {
    options.allow_http = true;
  }
  return options;
}

}  // namespace strata::registry
