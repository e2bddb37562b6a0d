// Content digests ("sha256:<64 hex>") and a streaming SHA-256 hasher, so
// every byte is hashed while it is written, never read back to hash.
#ifndef STRATA_BASE_DIGEST_H_
#define STRATA_BASE_DIGEST_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::base {

/// A sha256 content digest. Only sha256 is produced; others are refused.
class Digest {
 public:
  Digest() = default;

  /// Parses "sha256:<64 lower-case hex>".
  static Result<Digest> Parse(std::string_view text);
  /// The digest of `data` in one call.
  static Digest Of(std::string_view data);
  /// Builds a digest from a raw 32-byte SHA-256 value.
  static Digest FromBytes(std::span<const uint8_t, 32> bytes);

  /// "sha256:<hex>", or "" for an empty Digest.
  std::string ToString() const;
  /// The 64 hex characters.
  const std::string& hex() const { return hex_; }
  bool empty() const { return hex_.empty(); }

  bool operator==(const Digest&) const = default;
  auto operator<=>(const Digest&) const = default;

 private:
  std::string hex_;
};

/// Incremental SHA-256 (OpenSSL EVP underneath).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);
  /// Finishes and returns the digest; the hasher is then reset.
  Digest Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::base

#endif  // STRATA_BASE_DIGEST_H_
