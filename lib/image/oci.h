// OCI image types (image-spec v1.1) with Docker's config extensions, and
// their JSON. Pure data: no I/O here (like ggcr's pkg/v1).
//
// Serialization is deterministic: fields are written in the order of the
// Go structs in image-spec (so the JSON reads like BuildKit's), empty
// optional fields are omitted, maps are sorted. Same value, same bytes,
// same digest.
#ifndef STRATA_IMAGE_OCI_H_
#define STRATA_IMAGE_OCI_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "image/platform.h"

namespace strata::image {

namespace media {
inline constexpr char kOciManifest[] =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kOciLayer[] = "application/vnd.oci.image.layer.v1.tar";
inline constexpr char kOciLayerGzip[] =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kOciLayerZstd[] =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr char kDockerManifest[] =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerManifestList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerConfig[] =
    "application/vnd.docker.container.image.v1+json";
inline constexpr char kDockerLayerGzip[] =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media

/// A content descriptor.
struct Descriptor {
  std::string media_type;
  base::Digest digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  bool operator==(const Descriptor&) const = default;
};

/// An image manifest.
struct Manifest {
  std::string media_type = media::kOciManifest;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

/// An image index (or Docker manifest list).
struct Index {
  std::string media_type = media::kOciIndex;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

/// Docker's HEALTHCHECK, in nanoseconds as Docker stores it.
struct HealthConfig {
  std::vector<std::string> test;  // {"NONE"} or {"CMD", ...}/{"CMD-SHELL", s}
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;
  int retries = 0;
  bool operator==(const HealthConfig&) const = default;
};

/// The execution parameters of an image ("config" in the config JSON).
struct ContainerConfig {
  std::string user;
  std::vector<std::string> exposed_ports;  // "8000/tcp", kept sorted
  std::vector<std::string> env;            // "K=V", in order
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> volumes;  // kept sorted
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  bool args_escaped = false;
  std::optional<HealthConfig> healthcheck;
  std::vector<std::string> on_build;
  std::vector<std::string> shell;
  bool operator==(const ContainerConfig&) const = default;
};

/// One history entry.
struct History {
  std::string created;  // RFC 3339, may be empty
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
  bool operator==(const History&) const = default;
};

/// The image configuration blob.
struct ImageConfig {
  std::string created;  // RFC 3339, may be empty
  std::string author;
  Platform platform;
  std::string os_version;
  ContainerConfig config;
  std::vector<base::Digest> diff_ids;
  std::vector<History> history;
  bool operator==(const ImageConfig&) const = default;
};

/// Deterministic JSON text of each type.
std::string ToJson(const Manifest& m);
std::string ToJson(const Index& i);
std::string ToJson(const ImageConfig& c);

/// Parses JSON from any source (registries, layouts); type errors are
/// returned, never thrown. Unknown fields are ignored.
base::Result<Manifest> ParseManifest(std::string_view json);
base::Result<Index> ParseIndex(std::string_view json);
base::Result<ImageConfig> ParseImageConfig(std::string_view json);

/// The "mediaType" field of a manifest or index document, "" if absent.
std::string SniffMediaType(std::string_view json);

/// Formats a Unix time as RFC 3339 in UTC ("2024-01-02T03:04:05Z").
std::string FormatRfc3339(int64_t unix_seconds, int64_t nanos = 0);

}  // namespace strata::image

#endif  // STRATA_IMAGE_OCI_H_
