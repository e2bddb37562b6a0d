// `strata build`: docker build's flags, checked up front, then the build.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "build/cache_transfer.h"
#include "build/dry_run.h"
#include "build/options.h"
#include "build/run.h"
#include "store/store.h"
#include "commands.h"
#include "flag_set.h"
#include "registry_flags.h"

namespace strata::cli {
namespace {

constexpr char kUsage[] =
    "Usage: strata build [OPTIONS] CONTEXT\n"
    "\n"
    "Build an image from a Dockerfile. CONTEXT is a directory whose files\n"
    "COPY and ADD can read (after .dockerignore), or '-' to read the\n"
    "Dockerfile from stdin with an empty context.\n"
    "\n"
    "Options:\n";

// The flags as typed; converted to BuildOptions once all are parsed.
struct RawFlags {
  std::string file;
  std::vector<std::string> tags;
  std::vector<std::string> build_args;
  std::string target;
  bool no_cache = false;
  std::vector<std::string> platforms;
  std::vector<std::string> labels;
  std::vector<std::string> annotations;
  std::vector<std::string> ssh;
  std::string iidfile;
  std::string progress = "auto";
  bool quiet = false;
  std::vector<std::string> outputs;
  std::vector<std::string> secrets;
  std::string network = "default";
  bool dry_run = false;
  bool help = false;
  std::string root;
  std::vector<std::string> build_contexts;
  std::string source_date_epoch;
  std::string compression = "gzip";
  std::string compression_level;
  std::string metadata_file;
  std::vector<std::string> no_cache_filter;
  bool pull = false;
  bool push = false;
  std::vector<std::string> cache_to;
  std::vector<std::string> cache_from;
  RegistryFlags registry;
};

base::Result<int64_t> ParseEpoch(const std::string& v) {
  int64_t n = 0;
  if (!base::ParseInt64(v, &n) || n < 0) {
    return base::MakeError(base::Code::kInvalidArgument,
                           "want seconds since 1970 (a whole number)");
  }
  return n;
}

base::Result<std::string> ParseCompression(const std::string& v) {
  if (v == "gzip" || v == "zstd" || v == "uncompressed") return v;
  return base::MakeError(base::Code::kInvalidArgument,
                         "want gzip, zstd or uncompressed");
}

base::Result<int> ParseLevel(const std::string& v) {
  int64_t n = 0;
  if (!base::ParseInt64(v, &n) || n < 0 || n > 22) {
    return base::MakeError(base::Code::kInvalidArgument,
                           "want a level from 0 to 22");
  }
  return static_cast<int>(n);
}

base::Result<std::pair<std::string, std::string>> ParseNamedContext(
    const std::string& v) {
  size_t eq = v.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
    return base::MakeError(base::Code::kInvalidArgument,
                           "want NAME=oci-layout:///path[:tag|@digest]");
  }
  return std::pair(v.substr(0, eq), v.substr(eq + 1));
}

// Adapts a typed parser to a flag validator that only checks the value.
template <typename Parse>
FlagSet::Validator Check(Parse parse) {
  return [parse](const std::string& value) -> base::Status {
    auto parsed = parse(value);
    if (!parsed) return std::move(parsed).error();
    return base::OkStatus();
  };
}

std::optional<std::string> LookupEnv(const std::string& key) {
  const char* value = std::getenv(key.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

void DeclareFlags(FlagSet& flags, RawFlags& raw) {
  flags.String("file", 'f', &raw.file, "FILE",
               "Name of the Dockerfile (default: CONTEXT/Dockerfile; - is "
               "stdin)");
  flags.StringList("tag", 't', &raw.tags, "NAME[:TAG]",
                   "Name and optionally tag the image (repeatable)",
                   Check(image::ParseReference));
  flags.StringList("build-arg", 0, &raw.build_args, "KEY[=VALUE]",
                   "Set a build-time variable; KEY alone takes it from the "
                   "environment", Check([](const std::string& v) {
                     return build::ParseBuildArg(v, LookupEnv);
                   }));
  flags.String("target", 0, &raw.target, "STAGE",
               "Build this stage and the stages it needs, not the last one");
  flags.Bool("no-cache", 0, &raw.no_cache, "Do not use the build cache");
  flags.StringList("platform", 0, &raw.platforms, "OS/ARCH[/VARIANT]",
                   "Target platform (default: the host's)",
                   [](const std::string& value) -> base::Status {
                     // docker also accepts a comma-separated list.
                     for (const std::string& one : base::Split(value, ',')) {
                       STRATA_TRY(image::ParsePlatform(one));
                     }
                     return base::OkStatus();
                   });
  flags.StringList("label", 0, &raw.labels, "KEY=VALUE",
                   "Set an image label (repeatable)", Check(build::ParseLabel));
  flags.StringList("annotation", 0, &raw.annotations, "[manifest:]KEY=VALUE",
                   "Add an annotation to the image manifest (repeatable)",
                   Check(build::ParseAnnotation));
  flags.String("iidfile", 0, &raw.iidfile, "FILE",
               "Write the image ID (config digest) to FILE");
  flags.String("progress", 0, &raw.progress, "MODE",
               "Progress output: auto, plain, tty, quiet, rawjson",
               Check(build::ParseProgress));
  flags.Bool("quiet", 'q', &raw.quiet,
             "Print only the image ID on success");
  flags.StringList("output", 'o', &raw.outputs, "SPEC",
                   "Output destination: type=local|tar|oci|docker|image,"
                   "dest=PATH[,...], PATH or -", Check(build::ParseOutputSpec));
  flags.StringList("secret", 0, &raw.secrets, "id=ID[,src=FILE|,env=VAR]",
                   "Secret for RUN --mount=type=secret (never stored)",
                   Check(build::ParseSecretSpec));
  flags.StringList("ssh", 0, &raw.ssh, "default|ID=SOCKET",
                   "SSH agent for RUN --mount=type=ssh (default: "
                   "$SSH_AUTH_SOCK)",
                   Check(build::ParseSshSpec));
  flags.String("network", 0, &raw.network, "MODE",
               "Network for RUN: default, none, host",
               Check(build::ParseNetworkMode));
  flags.Bool("dry-run", 0, &raw.dry_run,
             "Parse, expand and check the Dockerfile and print the plan");
  flags.String("root", 0, &raw.root, "DIR",
               "Store root (default $STRATA_ROOT, else "
               "$XDG_CACHE_HOME/strata or ~/.cache/strata)");
  flags.StringList("build-context", 0, &raw.build_contexts,
                   "NAME=oci-layout:///PATH[:TAG|@DIGEST]",
                   "Use an OCI layout for FROM NAME / COPY --from=NAME",
                   Check(ParseNamedContext));
  flags.String("source-date-epoch", 0, &raw.source_date_epoch, "SECONDS",
               "Clamp timestamps for reproducible images (also the "
               "SOURCE_DATE_EPOCH build arg or variable)",
               Check(ParseEpoch));
  flags.String("compression", 0, &raw.compression, "ALGO",
               "Compression of layers pushed or exported: gzip (default), "
               "zstd, uncompressed",
               Check(ParseCompression));
  flags.String("compression-level", 0, &raw.compression_level, "N",
               "Compression level", Check(ParseLevel));
  flags.String("metadata-file", 0, &raw.metadata_file, "FILE",
               "Write the build result's digests and names as JSON");
  flags.StringList("no-cache-filter", 0, &raw.no_cache_filter, "STAGE",
                   "Do not use the cache for these stages (repeatable)");
  flags.Bool("pull", 0, &raw.pull,
             "Ask the registry again for base images already pulled");
  flags.Bool("push", 0, &raw.push, "Push the image to its -t names");
  flags.StringList("cache-to", 0, &raw.cache_to,
                   "type=registry,ref=REF[,mode=min|max]|type=local,dest=DIR",
                   "Export the build cache",
                   Check([](const std::string& v) {
                     return build::ParseCacheSpec(v, true);
                   }));
  flags.StringList("cache-from", 0, &raw.cache_from,
                   "type=registry,ref=REF|type=local,src=DIR",
                   "Import a build cache",
                   Check([](const std::string& v) {
                     return build::ParseCacheSpec(v, false);
                   }));
  AddRegistryFlags(flags, &raw.registry);
  flags.Bool("help", 'h', &raw.help, "Print this help");
}

// Converts checked flag values; every parse here already succeeded once.
base::Result<build::BuildOptions> ToOptions(const RawFlags& raw,
                                            const std::string& context) {
  build::BuildOptions opts;
  opts.context_dir = context;
  opts.dockerfile = raw.file;
  for (const std::string& t : raw.tags) {
    STRATA_ASSIGN_OR_RETURN(image::Reference ref, image::ParseReference(t));
    opts.tags.push_back(std::move(ref));
  }
  for (const std::string& a : raw.build_args) {
    STRATA_ASSIGN_OR_RETURN(auto arg, build::ParseBuildArg(a, LookupEnv));
    if (arg) opts.build_args[arg->first] = arg->second;
  }
  opts.target = raw.target;
  opts.no_cache = raw.no_cache;
  for (const std::string& p : raw.platforms) {
    // docker also accepts a comma-separated list in one flag.
    for (const std::string& one : base::Split(p, ',')) {
      STRATA_ASSIGN_OR_RETURN(image::Platform platform,
                              image::ParsePlatform(one));
      opts.platforms.push_back(std::move(platform));
    }
  }
  for (const std::string& a : raw.annotations) {
    STRATA_ASSIGN_OR_RETURN(auto annotation, build::ParseAnnotation(a));
    opts.annotations[annotation.first] = annotation.second;
  }
  for (const std::string& l : raw.labels) {
    STRATA_ASSIGN_OR_RETURN(auto label, build::ParseLabel(l));
    opts.labels[label.first] = label.second;
  }
  opts.iidfile = raw.iidfile;
  STRATA_ASSIGN_OR_RETURN(opts.progress, build::ParseProgress(raw.progress));
  opts.quiet = raw.quiet;
  for (const std::string& o : raw.outputs) {
    STRATA_ASSIGN_OR_RETURN(build::OutputSpec spec, build::ParseOutputSpec(o));
    opts.outputs.push_back(std::move(spec));
  }
  for (const std::string& s : raw.secrets) {
    STRATA_ASSIGN_OR_RETURN(build::SecretSpec spec, build::ParseSecretSpec(s));
    opts.secrets.push_back(std::move(spec));
  }
  for (const std::string& s : raw.ssh) {
    STRATA_ASSIGN_OR_RETURN(build::SshSpec spec, build::ParseSshSpec(s));
    opts.ssh.push_back(std::move(spec));
  }
  STRATA_ASSIGN_OR_RETURN(opts.network, build::ParseNetworkMode(raw.network));
  opts.dry_run = raw.dry_run;
  opts.root = raw.root.empty() ? store::DefaultRoot() : raw.root;
  for (const std::string& c : raw.build_contexts) {
    STRATA_ASSIGN_OR_RETURN(auto named, ParseNamedContext(c));
    opts.build_contexts[named.first] = named.second;
  }
  // SOURCE_DATE_EPOCH: the flag, else the build arg, else the variable
  // (as buildx passes it on).
  std::string epoch = raw.source_date_epoch;
  if (epoch.empty() && opts.build_args.count("SOURCE_DATE_EPOCH")) {
    epoch = opts.build_args.at("SOURCE_DATE_EPOCH");
  }
  if (epoch.empty()) epoch = LookupEnv("SOURCE_DATE_EPOCH").value_or("");
  if (!epoch.empty()) {
    STRATA_ASSIGN_OR_RETURN(opts.source_date_epoch, ParseEpoch(epoch));
  }
  opts.compression = raw.compression;
  if (!raw.compression_level.empty()) {
    STRATA_ASSIGN_OR_RETURN(opts.compression_level,
                            ParseLevel(raw.compression_level));
  }
  opts.metadata_file = raw.metadata_file;
  for (const std::string& s : raw.no_cache_filter) {
    opts.no_cache_filter.push_back(base::AsciiLower(s));
  }
  opts.pull = raw.pull;
  opts.push = raw.push;
  opts.cache_to = raw.cache_to;
  opts.cache_from = raw.cache_from;
  STRATA_ASSIGN_OR_RETURN(build::RegistryConfig registry,
                          ToRegistryConfig(raw.registry));
  opts.registry_hosts = std::move(registry.hosts);
  opts.credentials = std::move(registry.credentials);
  return opts;
}

// The build itself: progress on stderr, the image id on stdout with -q.
int RunRealBuild(const build::BuildOptions& opts) {
  build::Progress mode = opts.quiet ? build::Progress::kQuiet : opts.progress;
  std::unique_ptr<build::ProgressSink> progress =
      build::NewProgress(mode, stderr);
  base::Result<build::BuildSummary> result =
      build::BuildAndExport(opts, *progress);
  progress->Finish();
  if (!result) {
    std::fprintf(stderr, "%s\n", result.error().ToString().c_str());
    return kExitFailure;
  }
  for (const std::string& w : result->warnings) {
    std::fprintf(stderr, "%s\n", w.c_str());
  }
  if (opts.quiet) std::printf("%s\n", result->image_id.c_str());
  return kExitOk;
}

}  // namespace

int RunBuild(const std::vector<std::string>& args) {
  RawFlags raw;
  FlagSet flags;
  DeclareFlags(flags, raw);
  base::Result<std::vector<std::string>> positional = flags.Parse(args);
  if (!positional) return UsageError("build", positional.error().message());
  if (raw.help) {
    std::printf("%s%s", kUsage, flags.Help().c_str());
    return kExitOk;
  }
  if (positional->size() != 1) {
    return UsageError("build", base::StrCat("requires exactly 1 argument (the "
                                            "context directory), got ",
                                            positional->size()));
  }
  base::Result<build::BuildOptions> opts = ToOptions(raw, positional->front());
  if (!opts) return UsageError("build", opts.error().message());

  if (!opts->dry_run) return RunRealBuild(*opts);
  base::Result<std::string> plan = build::DryRun(*opts);
  if (!plan) {
    std::fprintf(stderr, "%s\n", plan.error().ToString().c_str());
    return kExitFailure;
  }
  std::fputs(plan->c_str(), stdout);
  return kExitOk;
}

}  // namespace strata::cli
