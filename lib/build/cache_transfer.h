// --cache-to / --cache-from: the step cache shared between machines (CI
// runners) through a registry or a directory.
//
// Format, version 1: an OCI image manifest
//   {"schemaVersion":2,
//    "mediaType":"application/vnd.oci.image.manifest.v1+json",
//    "artifactType":"application/vnd.strata.cache.v1",
//    "config":{"mediaType":"application/vnd.strata.cache.config.v1+json",...},
//    "layers":[the layer blobs the entries name, with their media types]}
// whose config blob is
//   {"version":1,
//    "entries":[{"key":"sha256:<step key>",
//                "entry":<the local cache record, lib/cache/cache.h>}, ...]}
// so any registry stores it and skopeo/crane/oras can copy and inspect it.
// type=registry pushes it as REF (a tag); type=local writes it into an OCI
// layout directory under the ref name "cache" (tag= to change it).
//
// Layers are exported compressed (build/distributable.h: plain layers are
// compressed once and remembered).
//
// mode=min (default) exports the steps without a layer and those whose
// layer is in the final image; mode=max every step the build used or made,
// in every stage.
//
// Import puts each entry into the local cache index unless the key is
// already there. A layer blob of a registry cache is not downloaded: it is
// recorded as remote (store.h), fetched only if a later step or an output
// reads it, and mounted when pushed to the same registry.
#ifndef STRATA_BUILD_CACHE_TRANSFER_H_
#define STRATA_BUILD_CACHE_TRANSFER_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "build/built_image.h"
#include "build/registry_access.h"
#include "cache/cache.h"
#include "layer/compression.h"
#include "store/store.h"

namespace strata::build {

inline constexpr char kCacheArtifactType[] = "application/vnd.strata.cache.v1";
inline constexpr char kCacheConfigType[] =
    "application/vnd.strata.cache.config.v1+json";

/// A parsed --cache-to/--cache-from value.
struct CacheSpec {
  std::string type;  // "registry" or "local"
  std::map<std::string, std::string> attrs;  // ref, mode, dest, src, tag
};

/// Parses "type=registry,ref=REF[,mode=min|max]", "type=local,dest=DIR" or
/// "type=local,src=DIR"; a bare reference means type=registry,ref=it.
/// `to`: checks the attributes of an export (dest, mode) or an import.
base::Result<CacheSpec> ParseCacheSpec(std::string_view text, bool to);

/// Writes the cache of a finished build where `spec` says.
base::Status ExportCache(store::Store& store, RegistryAccess& registries,
                         const CacheSpec& spec,
                         const std::vector<std::pair<base::Digest, cache::Entry>>&
                             entries,
                         const BuiltImage& image,
                         const layer::CompressionOptions& compression,
                         const RegistryProgress& progress);

/// Reads a cache into the local index. A cache that does not exist yet is
/// not an error (the first build of a branch has none): `note` says so.
base::Status ImportCache(store::Store& store, RegistryAccess& registries,
                         const CacheSpec& spec, std::string* note);

}  // namespace strata::build

#endif  // STRATA_BUILD_CACHE_TRANSFER_H_
