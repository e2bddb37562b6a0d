// Registry commands: `strata pull|push|tag|login|logout` and the registry
// flags `strata build` shares (registry_flags.h).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "build/distributable.h"
#include "build/registry_access.h"
#include "build/transfer_progress.h"
#include "commands.h"
#include "flag_set.h"
#include "image/layout.h"
#include "image/local_images.h"
#include "registry/credentials.h"
#include "registry_flags.h"
#include "store_flags.h"

namespace strata::cli {

void AddRegistryFlags(FlagSet& flags, RegistryFlags* out) {
  flags.StringList("insecure-registry", 0, &out->insecure, "HOST[:PORT]",
                   "Allow plain http or unverified TLS for this registry");
  flags.String("creds", 0, &out->creds, "USER[:PASS]",
               "Credentials for the registry (instead of config.json)");
  flags.String("cert-dir", 0, &out->cert_dir, "DIR",
               "Look for HOST/ca.crt, client.cert, client.key here first");
  flags.String("registry-mirror", 0, &out->mirror, "URL",
               "Pull docker.io images through this mirror");
}

base::Result<build::RegistryConfig> ToRegistryConfig(const RegistryFlags& f) {
  build::RegistryConfig config;
  config.hosts.insecure = f.insecure;
  config.hosts.docker_hub_mirror = f.mirror;
  config.hosts.cert_dirs = registry::DefaultCertDirs();
  if (!f.cert_dir.empty()) {
    config.hosts.cert_dirs.insert(config.hosts.cert_dirs.begin(), f.cert_dir);
  }
  config.credentials = registry::CredentialSourcesFromEnv();
  if (!f.creds.empty()) {
    STRATA_ASSIGN_OR_RETURN(config.credentials.explicit_credentials,
                            registry::ParseCredsFlag(f.creds));
  }
  return config;
}

namespace {

constexpr char kPullUsage[] =
    "Usage: strata pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
    "\n"
    "Pull an image from its registry into the local store and tag it there.\n"
    "(A build's FROM fetches only the manifest and config, and layers when a\n"
    "step reads them.)\n"
    "\n"
    "Options:\n";

constexpr char kPushUsage[] =
    "Usage: strata push [OPTIONS] NAME[:TAG] [DESTINATION]\n"
    "\n"
    "Push a local image to its registry, or to DESTINATION. Layers a build\n"
    "wrote are compressed on the way (once: the result is kept).\n"
    "\n"
    "Options:\n";

constexpr char kTagUsage[] =
    "Usage: strata tag [OPTIONS] SOURCE_IMAGE TARGET_IMAGE[:TAG]\n"
    "\n"
    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.\n"
    "\n"
    "Options:\n";

constexpr char kLoginUsage[] =
    "Usage: strata login [OPTIONS] SERVER\n"
    "\n"
    "Store credentials for a registry in config.json ($DOCKER_CONFIG or\n"
    "~/.docker), or in its credential helper when one is configured.\n"
    "\n"
    "Options:\n";

constexpr char kLogoutUsage[] =
    "Usage: strata logout SERVER\n"
    "\n"
    "Remove the credentials stored for a registry.\n"
    "\n"
    "Options:\n";

constexpr char kInspectUsage[] =
    "Usage: strata inspect [OPTIONS] IMAGE\n"
    "\n"
    "Print an image's manifest, config and layers as JSON. IMAGE is a local\n"
    "image, oci:DIR[:TAG] (an OCI layout), or a reference in a registry.\n"
    "\n"
    "Options:\n";

// What inspect prints, from wherever the image is.
struct Inspected {
  std::string name;
  image::Descriptor root;
  std::string manifest_json;
  std::string config_json;
};

// An image of an OCI layout dir: "DIR[:TAG]" (the only image if no tag).
base::Result<Inspected> InspectLayout(const std::string& spec,
                                      const image::Platform& platform) {
  std::string dir = spec, tag;
  size_t colon = spec.rfind(':');
  if (colon != std::string::npos && spec.find('/', colon) == std::string::npos) {
    dir = spec.substr(0, colon);
    tag = spec.substr(colon + 1);
  }
  auto blob = [&](const base::Digest& d) {
    return base::ReadFile(dir + "/blobs/sha256/" + d.hex());
  };
  STRATA_ASSIGN_OR_RETURN(std::string index_json,
                          base::ReadFile(dir + "/index.json"));
  STRATA_ASSIGN_OR_RETURN(image::Index index, image::ParseIndex(index_json));
  Inspected out;
  out.name = "oci:" + spec;
  const image::Descriptor* found = image::FindInLayoutIndex(index, tag);
  if (found == nullptr) {
    return base::MakeError(base::Code::kNotFound, dir, ": no image ",
                           tag.empty() ? "selected (add :TAG)"
                                       : "named \"" + tag + "\"");
  }
  out.root = *found;
  STRATA_ASSIGN_OR_RETURN(out.manifest_json, blob(out.root.digest));
  if (image::SniffMediaType(out.manifest_json) == image::media::kOciIndex) {
    STRATA_ASSIGN_OR_RETURN(image::Index sub,
                            image::ParseIndex(out.manifest_json));
    STRATA_ASSIGN_OR_RETURN(image::Descriptor child,
                            image::PickPlatform(sub, platform, dir));
    STRATA_ASSIGN_OR_RETURN(out.manifest_json, blob(child.digest));
  }
  STRATA_ASSIGN_OR_RETURN(image::Manifest m,
                          image::ParseManifest(out.manifest_json));
  STRATA_ASSIGN_OR_RETURN(out.config_json, blob(m.config.digest));
  return out;
}

// The tag named by `name` in the store, as docker resolves an image
// argument (a tag, or an ID prefix).
base::Result<image::Descriptor> LocalImage(const store::Store& store,
                                           const std::string& name) {
  STRATA_ASSIGN_OR_RETURN(std::vector<ImageInfo> all, ListImageInfos(store));
  std::vector<ImageInfo> found = FindImages(all, name);
  if (found.empty()) {
    return base::MakeError(base::Code::kNotFound, "no such image: ", name);
  }
  return found.front().entry.manifest;
}

}  // namespace

int RunPull(const std::vector<std::string>& args) {
  std::string root, platform_text;
  bool help = false, quiet = false;
  RegistryFlags reg;
  FlagSet flags;
  AddRootFlag(flags, &root);
  AddRegistryFlags(flags, &reg);
  flags.String("platform", 0, &platform_text, "OS/ARCH[/VARIANT]",
               "Platform to pull from a multi-platform image");
  flags.Bool("quiet", 'q', &quiet, "Print only the digest");
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("pull", positional.error().message());
  if (help) {
    std::printf("%s%s", kPullUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->size() != 1) {
    return UsageError("pull", "requires exactly 1 argument");
  }
  base::Result<image::Reference> ref = image::ParseReference(positional->front());
  if (!ref) return UsageError("pull", ref.error().message());
  image::Platform platform = image::HostPlatform();
  if (!platform_text.empty()) {
    base::Result<image::Platform> p = image::ParsePlatform(platform_text);
    if (!p) return UsageError("pull", p.error().message());
    platform = *p;
  }
  base::Result<build::RegistryConfig> config = ToRegistryConfig(reg);
  if (!config) return UsageError("pull", config.error().message());
  base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
  if (!store) return PrintFailure(store.error());
  base::Result<store::StoreLock> lock = (*store)->Lock(false);
  if (!lock) return PrintFailure(lock.error());
  build::RegistryAccess access(**store, std::move(*config));
  base::Result<image::Descriptor> pulled = access.Pull(*ref, platform);
  if (!pulled) return PrintFailure(pulled.error());
  build::TransferDisplay display(stdout, ::isatty(1) != 0);
  base::Status layers = access.FetchLayers(
      *pulled, platform, quiet ? build::RegistryProgress() : display.Callback());
  if (!layers) return PrintFailure(layers.error());
  if (quiet) {
    std::printf("%s\n", pulled->digest.ToString().c_str());
  } else {
    std::printf("Digest: %s\n%s\n", pulled->digest.ToString().c_str(),
                ref->ToString().c_str());
  }
  return kExitOk;
}

int RunPush(const std::vector<std::string>& args) {
  std::string root, compression_name = "gzip";
  bool help = false, quiet = false;
  RegistryFlags reg;
  FlagSet flags;
  AddRootFlag(flags, &root);
  AddRegistryFlags(flags, &reg);
  flags.String("compression", 0, &compression_name, "ALGO",
               "Layer compression: gzip (default), zstd, uncompressed");
  flags.Bool("quiet", 'q', &quiet, "Print only the pushed digest");
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("push", positional.error().message());
  if (help) {
    std::printf("%s%s", kPushUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->empty() || positional->size() > 2) {
    return UsageError("push", "requires 1 or 2 arguments");
  }
  const std::string& name = positional->front();
  const std::string& dest_text =
      positional->size() == 2 ? positional->back() : name;
  base::Result<image::Reference> dest = image::ParseReference(dest_text);
  if (!dest) return UsageError("push", dest.error().message());
  base::Result<layer::CompressionOptions> compression =
      build::LayerCompression(compression_name);
  if (!compression) return UsageError("push", compression.error().message());
  base::Result<build::RegistryConfig> config = ToRegistryConfig(reg);
  if (!config) return UsageError("push", config.error().message());
  base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
  if (!store) return PrintFailure(store.error());
  base::Result<store::StoreLock> lock = (*store)->Lock(false);
  if (!lock) return PrintFailure(lock.error());
  base::Result<image::Descriptor> local = LocalImage(**store, name);
  if (!local) return PrintFailure(local.error());
  build::RegistryAccess access(**store, std::move(*config));
  access.ServeRemoteBlobs();
  build::TransferDisplay display(stdout, ::isatty(1) != 0);
  build::RegistryProgress progress =
      quiet ? build::RegistryProgress() : display.Callback();
  base::Result<image::Descriptor> pushed = build::PushCompressed(
      **store, access, *local, {*dest}, *compression, progress);
  if (!pushed) return PrintFailure(pushed.error());
  if (quiet) std::printf("%s\n", pushed->digest.ToString().c_str());
  return kExitOk;
}

int RunInspect(const std::vector<std::string>& args) {
  std::string root, platform_text;
  bool help = false;
  RegistryFlags reg;
  FlagSet flags;
  AddRootFlag(flags, &root);
  AddRegistryFlags(flags, &reg);
  flags.String("platform", 0, &platform_text, "OS/ARCH[/VARIANT]",
               "Platform of a multi-platform image");
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("inspect", positional.error().message());
  if (help) {
    std::printf("%s%s", kInspectUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->size() != 1) {
    return UsageError("inspect", "requires exactly 1 argument");
  }
  const std::string& name = positional->front();
  image::Platform platform = image::HostPlatform();
  if (!platform_text.empty()) {
    base::Result<image::Platform> p = image::ParsePlatform(platform_text);
    if (!p) return UsageError("inspect", p.error().message());
    platform = *p;
  }
  base::Result<Inspected> got = base::MakeError(base::Code::kNotFound, "");
  if (name.rfind("oci:", 0) == 0) {
    got = InspectLayout(name.substr(4), platform);
  } else {
    base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
    if (!store) return PrintFailure(store.error());
    base::Result<image::Descriptor> local = LocalImage(**store, name);
    if (local) {
      base::Result<image::ResolvedImage> r =
          image::ResolveInStore(**store, *local, platform);
      if (!r) return PrintFailure(r.error());
      Inspected in;
      in.name = name;
      in.root = *local;
      base::Result<std::string> m = (*store)->ReadBlob(r->manifest_desc.digest);
      base::Result<std::string> c = (*store)->ReadBlob(r->manifest.config.digest);
      if (!m) return PrintFailure(m.error());
      if (!c) return PrintFailure(c.error());
      in.manifest_json = *m;
      in.config_json = *c;
      got = std::move(in);
    } else {
      base::Result<image::Reference> ref = image::ParseReference(name);
      if (!ref) return UsageError("inspect", ref.error().message());
      base::Result<build::RegistryConfig> config = ToRegistryConfig(reg);
      if (!config) return UsageError("inspect", config.error().message());
      build::RegistryAccess access(**store, std::move(*config));
      base::Result<build::RegistryAccess::RemoteImage> remote =
          access.Inspect(*ref, platform);
      if (!remote) return PrintFailure(remote.error());
      got = Inspected{ref->ToString(), remote->root, remote->manifest_json,
                      remote->config_json};
    }
  }
  if (!got) return PrintFailure(got.error());
  nlohmann::json manifest = nlohmann::json::parse(got->manifest_json, nullptr,
                                                  false);
  nlohmann::json config = nlohmann::json::parse(got->config_json, nullptr,
                                                false);
  nlohmann::json layers = nlohmann::json::array();
  if (manifest.is_object() && manifest.contains("layers")) {
    for (const nlohmann::json& l : manifest["layers"]) {
      layers.push_back(l.value("digest", ""));
    }
  }
  nlohmann::json out = {{"Name", got->name},
                        {"Digest", got->root.digest.ToString()},
                        {"MediaType", got->root.media_type},
                        {"Manifest", manifest},
                        {"Config", config},
                        {"Layers", layers}};
  std::printf("%s\n", out.dump(4).c_str());
  return kExitOk;
}

int RunTag(const std::vector<std::string>& args) {
  std::string root;
  bool help = false;
  FlagSet flags;
  AddRootFlag(flags, &root);
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("tag", positional.error().message());
  if (help) {
    std::printf("%s%s", kTagUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->size() != 2) {
    return UsageError("tag", "requires exactly 2 arguments");
  }
  base::Result<image::Reference> target = image::ParseReference((*positional)[1]);
  if (!target) return UsageError("tag", target.error().message());
  if (!target->digest.empty()) {
    return UsageError("tag", "a tag cannot name a digest");
  }
  base::Result<std::unique_ptr<store::Store>> store = OpenStore(root);
  if (!store) return PrintFailure(store.error());
  base::Result<image::Descriptor> local = LocalImage(**store, (*positional)[0]);
  if (!local) return PrintFailure(local.error());
  base::Status tagged = image::TagImage(**store, *target, *local);
  if (!tagged) return PrintFailure(tagged.error());
  return kExitOk;
}

int RunLogin(const std::vector<std::string>& args) {
  std::string username, password;
  bool password_stdin = false, help = false;
  FlagSet flags;
  flags.String("username", 'u', &username, "USER", "Username");
  flags.String("password", 'p', &password, "PASS",
               "Password (prefer --password-stdin)");
  flags.Bool("password-stdin", 0, &password_stdin,
             "Read the password from standard input");
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("login", positional.error().message());
  if (help) {
    std::printf("%s%s", kLoginUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->size() != 1) {
    return UsageError("login", "requires exactly 1 argument (the registry)");
  }
  if (password_stdin) {
    if (!password.empty()) {
      return UsageError("login", "--password and --password-stdin are "
                                 "mutually exclusive");
    }
    std::getline(std::cin, password);
    while (!password.empty() &&
           (password.back() == '\n' || password.back() == '\r')) {
      password.pop_back();
    }
  }
  if (username.empty() || password.empty()) {
    return UsageError("login", "needs --username and a password "
                               "(--password-stdin)");
  }
  std::string host = registry::NormalizeRegistryHost(positional->front());
  registry::Credentials creds{username, password, ""};
  base::Status st =
      registry::Login(host, creds, registry::CredentialSourcesFromEnv());
  if (!st) return PrintFailure(st.error());
  std::printf("Login Succeeded\n");
  return kExitOk;
}

int RunLogout(const std::vector<std::string>& args) {
  bool help = false;
  FlagSet flags;
  flags.Bool("help", 'h', &help, "Print this help");
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("logout", positional.error().message());
  if (help) {
    std::printf("%s%s", kLogoutUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->size() != 1) {
    return UsageError("logout", "requires exactly 1 argument (the registry)");
  }
  std::string host = registry::NormalizeRegistryHost(positional->front());
  base::Status st = registry::Logout(host, registry::CredentialSourcesFromEnv());
  if (!st) return PrintFailure(st.error());
  std::printf("Removing login credentials for %s\n", host.c_str());
  return kExitOk;
}

}  // namespace strata::cli
