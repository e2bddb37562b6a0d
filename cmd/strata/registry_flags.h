// The registry flags of strata build, pull and push.
#ifndef STRATA_CMD_STRATA_REGISTRY_FLAGS_H_
#define STRATA_CMD_STRATA_REGISTRY_FLAGS_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "build/registry_access.h"
#include "flag_set.h"

namespace strata::cli {

struct RegistryFlags {
  std::vector<std::string> insecure;  // --insecure-registry
  std::string creds;                  // --creds USER:PASS
  std::string cert_dir;               // --cert-dir DIR
  std::string mirror;                 // --registry-mirror URL
};

/// Declares --insecure-registry, --creds, --cert-dir, --registry-mirror.
void AddRegistryFlags(FlagSet& flags, RegistryFlags* out);

/// The hosts and credential settings the flags and environment give.
base::Result<build::RegistryConfig> ToRegistryConfig(const RegistryFlags& f);

}  // namespace strata::cli

#endif  // STRATA_CMD_STRATA_REGISTRY_FLAGS_H_
