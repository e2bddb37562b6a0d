// EXPOSE port specs: BuildKit's dockerfile2llb/convert_expose.go.
#include "dockerfile/instructions_expose.h"

#include <arpa/inet.h>

#include "base/go_unicode.h"
#include "base/str.h"
#include "dockerfile/instructions_internal.h"

namespace strata::dockerfile {
namespace {

using base::Code;
using base::MakeError;
namespace ii = instr_internal;

// Go's net.ParseIP: dotted IPv4 (no leading zeros) or IPv6 without a zone.
bool IsIp(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

// Go's net.SplitHostPort for "[host]:" (the only form EXPOSE hands it):
// the host, or the *net.AddrError text.
base::Result<std::string> SplitBracketHost(const std::string& hostport) {
  auto addr_error = [&hostport](std::string_view why) {
    return MakeError(Code::kParse, "address ", hostport, ": ", why);
  };
  size_t last_colon = hostport.rfind(':');
  size_t end = hostport.find(']');
  if (end == std::string::npos) return addr_error("missing ']' in address");
  if (end + 1 == hostport.size()) return addr_error("missing port in address");
  if (end + 1 != last_colon) {
    return addr_error(hostport[end + 1] == ':' ? "too many colons in address"
                                               : "missing port in address");
  }
  if (hostport.find('[', 1) != std::string::npos) {
    return addr_error("unexpected '[' in address");
  }
  if (hostport.find(']', end + 1) != std::string::npos) {
    return addr_error("unexpected ']' in address");
  }
  return hostport.substr(1, end - 1);
}

// parsePortNumber: a decimal number in 0..65535.
bool ParsePortNumber(std::string_view raw, int64_t* port) {
  if (raw.empty()) return false;
  if (ii::ParseInt(raw, 10, 0, port) != ii::NumError::kNone) return false;
  return *port >= 0 && *port <= 65535;
}

// parsePortRange: "80" or "8000-8010" (the error texts are not shown:
// callers replace them).
bool ParsePortRange(std::string_view ports, int64_t* start, int64_t* end) {
  if (ports.empty()) return false;
  size_t dash = ports.find('-');
  std::string_view first = ports.substr(0, dash);
  if (!ParsePortNumber(first, start)) return false;
  if (dash == std::string_view::npos || first == ports.substr(dash + 1)) {
    *end = *start;
    return true;
  }
  if (!ParsePortNumber(ports.substr(dash + 1), end)) return false;
  return *end >= *start;
}

// splitParts: [ip:]host-port:container-port.
void SplitParts(const std::string& raw, std::string* ip, std::string* host,
                std::string* container) {
  std::vector<std::string> parts = base::Split(raw, ':');
  size_t n = parts.size();
  *container = parts[n - 1];
  if (n >= 2) *host = parts[n - 2];
  if (n >= 3) {
    parts.resize(n - 2);
    *ip = base::Join(parts, ":");
  }
}

base::Result<std::vector<std::string>> ParsePort(
    const std::string& raw, const CommandBase& where,
    std::vector<LintWarning>* warnings) {
  std::string ip, host_port, container;
  SplitParts(raw, &ip, &host_port, &container);
  size_t slash = container.find('/');
  std::string port = container.substr(0, slash);
  std::string proto =
      slash == std::string::npos ? "" : container.substr(slash + 1);
  std::string lower_proto = base::GoToLower(proto);
  if (port.empty()) {
    return MakeError(Code::kParse, "invalid port: ", ii::Quote(raw),
                     ": no port specified");
  }
  if (lower_proto.empty()) {
    proto = "tcp";
  } else if (lower_proto != "tcp" && lower_proto != "udp" &&
             lower_proto != "sctp") {
    return MakeError(Code::kParse, "invalid port: ", ii::Quote(raw),
                     ": invalid proto: ", proto);
  }
  if (warnings != nullptr) {
    if (proto != base::GoToLower(proto)) {
      warnings->push_back({"ExposeProtoCasing",
                           base::StrCat("Defined protocol '", raw,
                                        "' in EXPOSE instruction should be "
                                        "lowercase"),
                           where.start_line, where.end_line});
    }
    if (!ip.empty() || !host_port.empty()) {
      warnings->push_back({"ExposeInvalidFormat",
                           base::StrCat("EXPOSE instruction should not define "
                                        "an IP address or host-port mapping, "
                                        "found '",
                                        raw, "'"),
                           where.start_line, where.end_line});
    }
  }
  if (!ip.empty() && ip[0] == '[') {
    auto host = SplitBracketHost(ip + ":");
    if (!host) {
      return MakeError(Code::kParse, "invalid IP address ", ip, ": ",
                       host.error().message());
    }
    ip = *host;
  }
  if (!ip.empty() && !IsIp(ip)) {
    return MakeError(Code::kParse, "invalid IP address: ", ip);
  }
  int64_t start = 0, end = 0;
  if (!ParsePortRange(port, &start, &end)) {
    return MakeError(Code::kParse, "invalid containerPort: ", port);
  }
  if (!host_port.empty()) {
    int64_t host_start = 0, host_end = 0;
    if (!ParsePortRange(host_port, &host_start, &host_end)) {
      return MakeError(Code::kParse, "invalid hostPort: ", host_port);
    }
    // A host range is allowed with a single container port (it is then the
    // range to pick a port from).
    if (end - start != host_end - host_start && end != start) {
      return MakeError(Code::kParse,
                       "invalid ranges specified for container and host "
                       "Ports: ",
                       port, " and ", host_port);
    }
  }
  std::vector<std::string> out;
  for (int64_t p = start; p <= end; ++p) {
    out.push_back(base::StrCat(p, "/", base::GoToLower(proto)));
  }
  return out;
}

}  // namespace

base::Result<std::vector<std::string>> ParseExposedPorts(
    const std::vector<std::string>& ports, const CommandBase& location,
    std::vector<LintWarning>* warnings) {
  std::vector<std::string> out;
  for (const std::string& raw : ports) {
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> specs,
                            ParsePort(raw, location, warnings));
    out.insert(out.end(), specs.begin(), specs.end());
  }
  return out;
}

}  // namespace strata::dockerfile
