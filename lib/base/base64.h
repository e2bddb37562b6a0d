// Base64 (RFC 4648, standard alphabet), for HTTP Basic credentials and
// docker's config.json "auth" values.
#ifndef STRATA_BASE_BASE64_H_
#define STRATA_BASE_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace strata::base {

/// Encodes `in` with '=' padding.
std::string Base64Encode(std::string_view in);

/// Decodes `in`; padding is optional, anything outside the alphabet (or a
/// length no encoding has) is nullopt.
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace strata::base

#endif  // STRATA_BASE_BASE64_H_
