// Image references as docker writes them ("python:3.11",
// "localhost:5000/team/app:v1@sha256:..."), parsed and normalized like
// distribution/reference's ParseNormalizedNamed.
#ifndef STRATA_IMAGE_REFERENCE_H_
#define STRATA_IMAGE_REFERENCE_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::image {

inline constexpr std::string_view kDockerHubDomain = "docker.io";

/// A normalized reference. `tag` and `digest` may both be set.
struct Reference {
  std::string domain;  // "docker.io", "localhost:5000", ...
  std::string path;    // "library/python", "team/app"
  std::string tag;     // empty when none was given
  std::string digest;  // "sha256:<hex>" or empty

  /// "domain/path".
  std::string Name() const;
  /// The full normalized text: "docker.io/library/python:3.11".
  std::string ToString() const;
  /// Like docker's FamiliarString: "python:3.11", "team/app:v1".
  std::string Familiar() const;
  /// The tag, or "latest" when neither a tag nor a digest was given.
  std::string TagOrLatest() const;
  bool operator==(const Reference&) const = default;
};

/// Parses and normalizes a reference; errors read like docker's
/// ("invalid reference format: repository name must be lowercase").
base::Result<Reference> ParseReference(std::string_view text);

/// True if `text` is a valid digest ("algo:hex", hex of 32+ digits).
bool IsValidDigest(std::string_view text);

}  // namespace strata::image

#endif  // STRATA_IMAGE_REFERENCE_H_
