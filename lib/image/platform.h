// OCI platforms ("linux/arm64/v8"), parsed and normalized the way
// containerd's platforms package does, since that is what docker users type.
#ifndef STRATA_IMAGE_PLATFORM_H_
#define STRATA_IMAGE_PLATFORM_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::image {

/// An OCI platform: os, architecture and optional variant.
struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;

  /// "os/arch" or "os/arch/variant".
  std::string ToString() const;
  bool operator==(const Platform&) const = default;
};

/// Parses "os", "arch", "os/arch" or "os/arch/variant" and normalizes
/// aliases (x86_64 -> amd64, aarch64 -> arm64, arm64/v8 -> arm64, armhf ->
/// arm/v7). A lone os or arch is completed from the host.
base::Result<Platform> ParsePlatform(std::string_view text);

/// The platform strata runs on (linux and the build machine's arch).
Platform HostPlatform();

}  // namespace strata::image

#endif  // STRATA_IMAGE_PLATFORM_H_
