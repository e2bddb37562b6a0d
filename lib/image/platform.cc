#include "image/platform.h"

#include <sys/utsname.h>

#include <vector>

namespace strata::image {

using base::Code;
using base::MakeError;

namespace {

bool IsKnownOs(std::string_view os) {
  static const char* const kOses[] = {
      "aix",     "android", "darwin",  "dragonfly", "freebsd",
      "illumos", "ios",     "js",      "linux",     "netbsd",
      "openbsd", "plan9",   "solaris", "windows",   "wasip1"};
  for (const char* known : kOses) {
    if (os == known) return true;
  }
  return false;
}

// containerd's normalizeArch: returns false for an unknown architecture.
bool NormalizeArch(std::string& arch, std::string& variant) {
  if (arch == "i386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8" || variant == "v8.0") variant.clear();
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7") variant = "v7";
    if (variant == "5" || variant == "6" || variant == "8") {
      variant = "v" + variant;
    }
  } else if (arch != "386" && arch != "ppc64le" && arch != "ppc64" &&
             arch != "s390x" && arch != "riscv64" && arch != "mips64le" &&
             arch != "mips64" && arch != "mipsle" && arch != "mips" &&
             arch != "loong64" && arch != "wasm") {
    return false;
  }
  return true;
}

bool ValidPart(std::string_view part) {
  if (part.empty()) return false;
  for (char c : part) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string Platform::ToString() const {
  std::string out = base::StrCat(os, "/", architecture);
  if (!variant.empty()) base::StrAppend(out, "/", variant);
  return out;
}

base::Result<Platform> ParsePlatform(std::string_view text) {
  std::vector<std::string> parts = base::Split(text, '/');
  for (std::string& p : parts) {
    if (!ValidPart(p)) {
      return MakeError(Code::kInvalidArgument, "invalid platform \"", text,
                       "\": expected os/arch[/variant]");
    }
    p = base::AsciiLower(p);
  }
  Platform host = HostPlatform();
  Platform p;
  if (parts.size() == 1) {
    // A lone word is an os if it names one, otherwise an architecture.
    if (IsKnownOs(parts[0])) {
      p = {parts[0], host.architecture, host.variant};
      if (p.os != host.os) p.architecture = "amd64";
      return p;
    }
    p = {host.os, parts[0], ""};
  } else if (parts.size() == 2) {
    p = {parts[0], parts[1], ""};
  } else if (parts.size() == 3) {
    p = {parts[0], parts[1], parts[2]};
  } else {
    return MakeError(Code::kInvalidArgument, "invalid platform \"", text,
                     "\": expected os/arch[/variant]");
  }
  if (p.os == "macos") p.os = "darwin";
  if (!IsKnownOs(p.os)) {
    return MakeError(Code::kInvalidArgument, "invalid platform \"", text,
                     "\": unknown operating system \"", p.os, "\"");
  }
  if (!NormalizeArch(p.architecture, p.variant)) {
    return MakeError(Code::kInvalidArgument, "invalid platform \"", text,
                     "\": unknown architecture \"", p.architecture, "\"");
  }
  return p;
}

Platform HostPlatform() {
  struct utsname u;
  std::string arch = ::uname(&u) == 0 ? u.machine : "x86_64";
  std::string variant;
  if (!NormalizeArch(arch, variant)) variant.clear();
  return {"linux", arch, variant};
}

}  // namespace strata::image
