#include "image/reference.h"

#include <vector>

namespace strata::image {

using base::Code;
using base::MakeError;

namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }

// path-component := alpha-numeric [separator alpha-numeric]*
// separator := [_.] | __ | [-]+
bool ValidPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) {
    return false;
  }
  for (size_t i = 0; i < c.size();) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" ||
              sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

bool ValidPath(std::string_view path) {
  for (const std::string& c : base::Split(path, '/')) {
    if (!ValidPathComponent(c)) return false;
  }
  return true;
}

bool ValidDomainComponent(std::string_view c) {
  if (c.empty() || !IsAlnum(c.front()) || !IsAlnum(c.back())) return false;
  for (char ch : c) {
    if (!IsAlnum(ch) && ch != '-') return false;
  }
  return true;
}

bool ValidDomain(std::string_view domain) {
  std::string_view host = domain;
  size_t colon = domain.rfind(':');
  if (!domain.empty() && domain.front() == '[') {
    size_t close = domain.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view v6 = domain.substr(1, close - 1);
    if (v6.empty()) return false;
    for (char ch : v6) {
      if (!IsHex(ch) && ch != ':') return false;
    }
    std::string_view rest = domain.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':' || rest.size() == 1) return false;
    return rest.substr(1).find_first_not_of("0123456789") ==
           std::string_view::npos;
  }
  if (colon != std::string_view::npos) {
    std::string_view port = domain.substr(colon + 1);
    if (port.empty() ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    host = domain.substr(0, colon);
  }
  for (const std::string& c : base::Split(host, '.')) {
    if (!ValidDomainComponent(c)) return false;
  }
  return true;
}

bool ValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !IsWord(tag[0])) return false;
  for (char c : tag) {
    if (!IsWord(c) && c != '.' && c != '-') return false;
  }
  return true;
}

base::Error Invalid(std::string_view detail = "") {
  return MakeError(Code::kInvalidArgument, "invalid reference format",
                   detail.empty() ? "" : ": ", detail);
}

}  // namespace

bool IsValidDigest(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view algo = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  // digest-algorithm := component [separator component]*, component
  // := [A-Za-z][A-Za-z0-9]*, separator := [+._-]
  bool need_alpha = true;
  for (char c : algo) {
    if (need_alpha) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
      need_alpha = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      need_alpha = true;
    } else if (!IsAlnum(c)) {
      return false;
    }
  }
  if (need_alpha || hex.size() < 32) return false;
  for (char c : hex) {
    if (!IsHex(c)) return false;
  }
  if (algo == "sha256" && hex.size() != 64) return false;
  if (algo == "sha512" && hex.size() != 128) return false;
  return true;
}

std::string Reference::Name() const { return base::StrCat(domain, "/", path); }

std::string Reference::ToString() const {
  std::string out = Name();
  if (!tag.empty()) base::StrAppend(out, ":", tag);
  if (!digest.empty()) base::StrAppend(out, "@", digest);
  return out;
}

std::string Reference::Familiar() const {
  std::string name = path;
  if (domain != kDockerHubDomain) {
    name = Name();
  } else if (base::StartsWith(path, "library/") &&
             path.find('/', 8) == std::string::npos) {
    name = path.substr(8);
  }
  if (!tag.empty()) base::StrAppend(name, ":", tag);
  if (!digest.empty()) base::StrAppend(name, "@", digest);
  return name;
}

std::string Reference::TagOrLatest() const {
  if (!tag.empty()) return tag;
  return digest.empty() ? "latest" : "";
}

base::Result<Reference> ParseReference(std::string_view text) {
  if (text.empty()) return Invalid();
  Reference ref;
  std::string_view rest = text;
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!IsValidDigest(ref.digest)) return Invalid("invalid digest");
  }
  // A ':' after the last '/' starts the tag.
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos &&
      (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!ValidTag(ref.tag)) return Invalid();
  }
  std::string_view remainder = rest;
  std::string domain(kDockerHubDomain);
  size_t first = rest.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    bool is_domain = head.find_first_of(".:") != std::string_view::npos ||
                     head == "localhost" || base::AsciiLower(head) != head;
    if (is_domain) {
      domain = std::string(head);
      remainder = rest.substr(first + 1);
    }
  }
  if (domain == "index.docker.io") domain = std::string(kDockerHubDomain);
  if (base::AsciiLower(remainder) != remainder) {
    return Invalid("repository name must be lowercase");
  }
  if (!ValidDomain(domain) || !ValidPath(remainder)) return Invalid();
  std::string path(remainder);
  if (domain == kDockerHubDomain && path.find('/') == std::string::npos) {
    if (path.size() == 64 &&
        path.find_first_not_of("0123456789abcdef") == std::string::npos) {
      return MakeError(Code::kInvalidArgument, "invalid repository name (",
                       path, "), cannot specify 64-byte hexadecimal strings");
    }
    path = "library/" + path;
  }
  if (domain.size() + 1 + path.size() > 255) {
    return Invalid("repository name must not be more than 255 characters");
  }
  ref.domain = std::move(domain);
  ref.path = std::move(path);
  return ref;
}

}  // namespace strata::image
