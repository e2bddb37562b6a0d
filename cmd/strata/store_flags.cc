#include "store_flags.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>

#include "commands.h"
#include "image/layout.h"
#include "image/oci.h"

namespace strata::cli {

using base::Code;
using base::MakeError;
using base::Result;

void AddRootFlag(FlagSet& flags, std::string* root) {
  flags.String("root", 0, root, "DIR",
               "Store root (default $STRATA_ROOT, else "
               "$XDG_CACHE_HOME/strata or ~/.cache/strata)");
}

Result<std::unique_ptr<store::Store>> OpenStore(const std::string& root) {
  return store::Store::Open(root.empty() ? store::DefaultRoot() : root);
}

int PrintFailure(const base::Error& error) {
  std::fprintf(stderr, "strata: %s\n", error.ToString().c_str());
  return kExitFailure;
}

namespace {

bool IsIndex(const std::string& media_type) {
  return media_type == image::media::kOciIndex ||
         media_type == image::media::kDockerManifestList;
}

// Fills id, created and size from the store, as far as the blobs read.
void Describe(const store::Store& store, ImageInfo& info) {
  const image::Descriptor& root = info.entry.manifest;
  Result<std::vector<image::Descriptor>> blobs =
      image::CollectBlobs(store, root);
  std::set<base::Digest> seen;
  for (const image::Descriptor& d :
       blobs ? *blobs : std::vector<image::Descriptor>{root}) {
    if (!seen.insert(d.digest).second) continue;
    Result<int64_t> size = store.BlobSize(d.digest);
    if (size) info.size += *size;
  }
  Result<std::string> json = store.ReadBlob(root.digest);
  if (!json || IsIndex(root.media_type) ||
      IsIndex(image::SniffMediaType(*json))) {
    return;
  }
  Result<image::Manifest> manifest = image::ParseManifest(*json);
  if (!manifest) return;
  info.id = manifest->config.digest;
  Result<std::string> config_json = store.ReadBlob(manifest->config.digest);
  if (!config_json) return;
  Result<image::ImageConfig> config = image::ParseImageConfig(*config_json);
  if (config && !config->created.empty()) info.created = config->created;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

}  // namespace

Result<std::vector<ImageInfo>> ListImageInfos(const store::Store& store) {
  STRATA_ASSIGN_OR_RETURN(std::vector<image::LocalImage> entries,
                          image::ListImages(store));
  std::vector<ImageInfo> out;
  for (image::LocalImage& entry : entries) {
    ImageInfo info;
    info.id = entry.manifest.digest;
    info.created = entry.created;
    info.entry = std::move(entry);
    Describe(store, info);
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<ImageInfo> FindImages(const std::vector<ImageInfo>& all,
                                  const std::string& name) {
  std::vector<ImageInfo> out;
  Result<image::Reference> ref = image::ParseReference(name);
  if (ref) {
    Result<std::string> key = image::ImageKey(*ref);
    for (const ImageInfo& info : all) {
      bool digest_ok = ref->digest.empty() ||
                       info.entry.manifest.digest.ToString() == ref->digest;
      bool name_ok = key ? info.entry.name == *key
                         : info.entry.ref.Name() == ref->Name();
      if (name_ok && digest_ok) out.push_back(info);
    }
    if (!out.empty()) return out;
  }
  std::string_view hex = name;
  if (base::StartsWith(hex, "sha256:")) hex.remove_prefix(7);
  if (hex.size() < 4 || !IsLowerHex(hex)) return out;
  for (const ImageInfo& info : all) {
    if (base::StartsWith(info.id.hex(), hex) ||
        base::StartsWith(info.entry.manifest.digest.hex(), hex)) {
      out.push_back(info);
    }
  }
  return out;
}

std::string FamiliarRepository(const image::Reference& ref) {
  image::Reference repo = ref;
  repo.tag.clear();
  repo.digest.clear();
  return repo.Familiar();
}

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  std::tm tm{};
  int consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      rest.remove_prefix(1);
    }
  }
  int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
             rest[3] == ':') {
    int64_t h = 0, m = 0;
    if (!base::ParseInt64(rest.substr(1, 2), &h) ||
        !base::ParseInt64(rest.substr(4, 2), &m)) {
      return std::nullopt;
    }
    offset = (rest[0] == '+' ? 1 : -1) * (h * 3600 + m * 60);
  } else {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

Result<int64_t> ParseByteSize(std::string_view text) {
  auto invalid = [&] {
    return MakeError(Code::kInvalidArgument, "invalid size: '", text, "'");
  };
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start;
  };
  if (!digits()) return invalid();
  while (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) return invalid();
  }
  std::string number(text.substr(0, i));
  if (i < text.size() && text[i] == ' ') ++i;
  double multiplier = 1;
  if (i < text.size()) {
    size_t power = std::string_view("kmgtp").find(
        static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))));
    if (power != std::string_view::npos) {
      multiplier = std::pow(1024.0, static_cast<double>(power + 1));
      ++i;
    }
  }
  if (i < text.size() && (text[i] == 'i' || text[i] == 'I')) ++i;
  if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) ++i;
  if (i != text.size()) return invalid();
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (end == nullptr || *end != '\0') return invalid();
  return static_cast<int64_t>(value * multiplier);
}

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return MakeError(Code::kInvalidArgument, "time: ", why, " \"", text,
                     "\"");
  };
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (!s.empty() && s.front() == '-') {
    return MakeError(Code::kInvalidArgument, "negative duration \"", text,
                     "\"");
  }
  if (s == "0") return std::chrono::seconds(0);
  if (s.empty()) return invalid("invalid duration");
  long double total_ns = 0;
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.')) ++n;
    std::string number(s.substr(0, n));
    if (number.empty() || number == "." ||
        std::count(number.begin(), number.end(), '.') > 1) {
      return invalid("invalid duration");
    }
    s.remove_prefix(n);
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && (s[u] < '0' || s[u] > '9')) ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    long double scale;
    if (unit.empty()) return invalid("missing unit in duration");
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
      scale = 1e3L;
    } else if (unit == "ms") {
      scale = 1e6L;
    } else if (unit == "s") {
      scale = 1e9L;
    } else if (unit == "m") {
      scale = 60e9L;
    } else if (unit == "h") {
      scale = 3600e9L;
    } else {
      return MakeError(Code::kInvalidArgument, "time: unknown unit \"", unit,
                       "\" in duration \"", text, "\"");
    }
    total_ns += std::strtold(number.c_str(), nullptr) * scale;
  }
  return std::chrono::seconds(static_cast<int64_t>(total_ns / 1e9L));
}

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    for (size_t c = 0; c + 1 < row.size(); ++c) {
      if (widths.size() <= c) widths.resize(c + 1, 0);
      widths[c] = std::max(widths[c], std::max<size_t>(row[c].size() + 3, 10));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      out += row[c];
      if (c + 1 < row.size()) out.append(widths[c] - row[c].size(), ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace strata::cli
