#include "base/digest.h"

#include <openssl/evp.h>

namespace strata::base {

namespace {

constexpr char kHex[] = "0123456789abcdef";

struct EvpCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

struct Sha256::Impl {
  std::unique_ptr<EVP_MD_CTX, EvpCtxDeleter> ctx{EVP_MD_CTX_new()};
  void Init() {
    STRATA_CHECK(ctx != nullptr);
    STRATA_CHECK(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) { impl_->Init(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(std::span<const uint8_t> data) {
  STRATA_CHECK(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) ==
               1);
}

void Sha256::Update(std::string_view data) {
  Update(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

Digest Sha256::Finish() {
  uint8_t out[32];
  unsigned int len = 0;
  STRATA_CHECK(EVP_DigestFinal_ex(impl_->ctx.get(), out, &len) == 1);
  STRATA_CHECK(len == 32);
  impl_->Init();
  return Digest::FromBytes(std::span<const uint8_t, 32>(out, 32));
}

Result<Digest> Digest::Parse(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (!StartsWith(text, kPrefix)) {
    return MakeError(Code::kInvalidArgument, "unsupported digest \"", text,
                     "\" (want sha256:<hex>)");
  }
  std::string_view hex = text.substr(kPrefix.size());
  if (hex.size() != 64 ||
      hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return MakeError(Code::kInvalidArgument, "invalid digest \"", text, "\"");
  }
  Digest d;
  d.hex_ = std::string(hex);
  return d;
}

Digest Digest::Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

Digest Digest::FromBytes(std::span<const uint8_t, 32> bytes) {
  Digest d;
  d.hex_.reserve(64);
  for (uint8_t b : bytes) {
    d.hex_.push_back(kHex[b >> 4]);
    d.hex_.push_back(kHex[b & 15]);
  }
  return d;
}

std::string Digest::ToString() const {
  return hex_.empty() ? std::string() : "sha256:" + hex_;
}

}  // namespace strata::base
