#include "build/base_image.h"

#include "build/registry_access.h"
#include "image/layout.h"
#include "image/local_images.h"
#include "image/reference.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;

namespace {

// OCI manifests carry OCI media types; Docker's gzip layer type names the
// same bytes.
std::string OciLayerType(const std::string& media_type) {
  if (media_type == image::media::kDockerLayerGzip) {
    return image::media::kOciLayerGzip;
  }
  return media_type;
}

// The key a name is known by: its normalized reference when it parses.
std::string Normalized(const std::string& name) {
  Result<image::Reference> ref = image::ParseReference(name);
  if (!ref) return name;
  image::Reference r = *ref;
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r.ToString();
}

}  // namespace

Result<OciLayoutContext> ParseBuildContext(std::string_view value) {
  constexpr std::string_view kScheme = "oci-layout://";
  if (!base::StartsWith(value, kScheme)) {
    return MakeError(Code::kUnsupported, "build context \"", value,
                     "\": only oci-layout:///path[:tag|@digest] is "
                     "supported");
  }
  std::string rest(value.substr(kScheme.size()));
  OciLayoutContext ctx;
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    ctx.selector = rest.substr(at);
    rest = rest.substr(0, at);
  } else {
    size_t slash = rest.rfind('/');
    size_t colon = rest.rfind(':');
    if (colon != std::string::npos &&
        (slash == std::string::npos || colon > slash)) {
      ctx.selector = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
    }
  }
  if (rest.empty()) {
    return MakeError(Code::kInvalidArgument, "build context \"", value,
                     "\": no path");
  }
  ctx.path = rest;
  return ctx;
}

Result<std::vector<Layer>> LayersOf(const image::Manifest& manifest,
                                    const image::ImageConfig& config) {
  if (manifest.layers.size() != config.diff_ids.size()) {
    return MakeError(Code::kParse, "image has ", manifest.layers.size(),
                     " layers but its config lists ", config.diff_ids.size(),
                     " diffIDs");
  }
  std::vector<Layer> layers;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    image::Descriptor d = manifest.layers[i];
    d.media_type = OciLayerType(d.media_type);
    layers.push_back({std::move(d), config.diff_ids[i]});
  }
  return layers;
}

std::vector<BaseImage> BaseResolver::Resolved() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<BaseImage> out;
  for (const auto& [key, img] : cache_) {
    if (!img.scratch) out.push_back(img);
  }
  return out;
}

bool BaseResolver::HasContext(const std::string& name) const {
  if (contexts_.count(name)) return true;
  std::string norm = Normalized(name);
  for (const auto& [key, value] : contexts_) {
    if (Normalized(key) == norm) return true;
  }
  return false;
}

Result<BaseImage> BaseResolver::Resolve(const std::string& name,
                                        const image::Platform& platform) {
  std::string key = name + "|" + platform.ToString();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  STRATA_ASSIGN_OR_RETURN(BaseImage img, ResolveUncached(name, platform));
  std::lock_guard<std::mutex> lock(mu_);
  cache_.emplace(key, img);
  return img;
}

Result<BaseImage> BaseResolver::ResolveUncached(
    const std::string& name, const image::Platform& platform) {
  BaseImage out;
  if (name == "scratch") {
    out.name = "scratch";
    out.scratch = true;
    out.config.platform = platform;
    return out;
  }
  // A named context wins over everything, as in BuildKit.
  std::string norm = Normalized(name);
  for (const auto& [ctx_name, value] : contexts_) {
    if (ctx_name != name && Normalized(ctx_name) != norm) continue;
    STRATA_ASSIGN_OR_RETURN(OciLayoutContext ctx, ParseBuildContext(value));
    Result<image::ResolvedImage> r =
        image::ImportLayout(store_, ctx.path, ctx.selector, platform);
    if (!r) {
      return std::move(r).error().WithContext(
          base::StrCat("build context ", ctx_name));
    }
    out.name = base::StrCat(ctx_name, "@", r->manifest_desc.digest.ToString());
    out.manifest = r->manifest_desc.digest;
    out.config = r->config;
    STRATA_ASSIGN_OR_RETURN(out.layers, LayersOf(r->manifest, r->config));
    return out;
  }
  STRATA_ASSIGN_OR_RETURN(image::Reference ref, image::ParseReference(name));
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  STRATA_ASSIGN_OR_RETURN(std::optional<image::Descriptor> local,
                          image::LookupImage(store_, ref));
  // --pull asks again for a tag; a digest names the same image forever.
  bool ask = !local || (pull_ && ref.digest.empty());
  if (ask && registries_ != nullptr) {
    Result<image::Descriptor> pulled = registries_->Pull(ref, platform);
    if (!pulled) {
      return MakeError(pulled.error().code(), "pulling ", ref.ToString(),
                       ": ", pulled.error().message());
    }
    local = *pulled;
  }
  if (!local) {
    return MakeError(Code::kNotFound, "image ", ref.ToString(),
                     " is not in the local store; build it first with -t, "
                     "or pass --build-context ", name,
                     "=oci-layout:///path/to/layout");
  }
  STRATA_ASSIGN_OR_RETURN(image::ResolvedImage r,
                          image::ResolveInStore(store_, *local, platform));
  out.name = base::StrCat(ref.ToString(), "@", r.manifest_desc.digest.ToString());
  out.manifest = r.manifest_desc.digest;
  out.config = r.config;
  STRATA_ASSIGN_OR_RETURN(out.layers, LayersOf(r.manifest, r.config));
  return out;
}

}  // namespace strata::build
