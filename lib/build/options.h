// What a user asked `strata build` to do, after flag parsing and checking.
// cmd/strata fills it in; the planner and executor read it.
#ifndef STRATA_BUILD_OPTIONS_H_
#define STRATA_BUILD_OPTIONS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/platform.h"
#include "image/reference.h"
#include "registry/credentials.h"
#include "registry/hosts.h"

namespace strata::build {

/// Where a build's result goes (`--output type=oci,dest=out.tar`).
struct OutputSpec {
  std::string type;  // local, tar, oci, docker, image, registry
  std::map<std::string, std::string> attrs;  // dest, name, push, ...
};

/// A secret a RUN --mount=type=secret may read; never stored anywhere.
struct SecretSpec {
  std::string id;
  std::string file;  // read from this file, or
  std::string env;   // from this environment variable; with neither set,
                     // the variable named `id` if set, else the file `id`
};

/// An SSH agent RUN --mount=type=ssh may use (`--ssh ID[=SOCKET]`).
struct SshSpec {
  std::string id = "default";
  std::string socket;  // the agent's socket; never stored anywhere
};

enum class Progress { kAuto, kPlain, kTty, kQuiet, kRawJson };
enum class NetworkMode { kDefault, kNone, kHost };

/// Everything `strata build` was asked for.
struct BuildOptions {
  std::string context_dir = ".";
  std::string dockerfile;  // empty: <context>/Dockerfile; "-": stdin
  std::vector<image::Reference> tags;
  std::map<std::string, std::string> build_args;
  std::string target;
  bool no_cache = false;
  std::vector<image::Platform> platforms;
  std::map<std::string, std::string> labels;
  /// --annotation: annotations of the image manifest.
  std::map<std::string, std::string> annotations;
  std::string iidfile;
  Progress progress = Progress::kAuto;
  bool quiet = false;
  std::vector<OutputSpec> outputs;
  std::vector<SecretSpec> secrets;
  std::vector<SshSpec> ssh;
  NetworkMode network = NetworkMode::kDefault;
  bool dry_run = false;

  /// The store root (--root, $STRATA_ROOT, else the XDG cache dir).
  std::string root;
  /// --build-context NAME=VALUE (oci-layout:///path[:tag|@digest]).
  std::map<std::string, std::string> build_contexts;
  /// --source-date-epoch, or the SOURCE_DATE_EPOCH build arg/env.
  std::optional<int64_t> source_date_epoch;
  /// Layer compression: gzip (default), zstd or uncompressed.
  std::string compression = "gzip";
  std::optional<int> compression_level;
  /// --metadata-file: JSON with the image's digests and names.
  std::string metadata_file;
  /// --no-cache-filter: stages that must not use the cache.
  std::vector<std::string> no_cache_filter;

  /// Registries: --insecure-registry, certs.d, --registry-mirror.
  registry::HostsConfig registry_hosts;
  /// Where credentials come from (config.json, auth.json, --creds).
  registry::CredentialSources credentials;
  /// --pull: ask the registry again for bases already in the store.
  bool pull = false;
  /// --push: push the image to its -t names after the build.
  bool push = false;
  /// --cache-to / --cache-from (raw values, parsed by cache_transfer.h).
  std::vector<std::string> cache_to;
  std::vector<std::string> cache_from;
};

/// Parses `KEY=VALUE` or a bare `KEY` (then `lookup_env(KEY)` supplies the
/// value; an unset variable yields nullopt, which docker also ignores).
base::Result<std::optional<std::pair<std::string, std::string>>> ParseBuildArg(
    std::string_view text,
    std::optional<std::string> (*lookup_env)(const std::string&));

/// `--annotation [manifest:]KEY=VALUE` (buildx's spelling). Other targets
/// (index, descriptors) are refused: strata writes single-platform images.
base::Result<std::pair<std::string, std::string>> ParseAnnotation(
    std::string_view text);

/// Parses a `--label` value: `KEY=VALUE` or `KEY` (empty value).

base::Result<std::pair<std::string, std::string>> ParseLabel(
    std::string_view text);

/// Parses an `--output` value the way buildx does: `type=...,dest=...`,
/// a bare path (type=local) or `-` (a tar stream on stdout).
base::Result<OutputSpec> ParseOutputSpec(std::string_view text);

/// Parses a `--secret` value: `id=X[,src=FILE|,env=VAR][,type=file|env]`.
base::Result<SecretSpec> ParseSecretSpec(std::string_view text);

/// Parses `--ssh` as docker does: `default` (the agent of $SSH_AUTH_SOCK)
/// or `ID=SOCKET`. Key files are refused: only agent sockets are passed.
base::Result<SshSpec> ParseSshSpec(std::string_view text);

/// Parses `--progress`: auto, plain, tty, quiet, rawjson.
base::Result<Progress> ParseProgress(std::string_view text);

/// Parses `--network`: default, none, host.
base::Result<NetworkMode> ParseNetworkMode(std::string_view text);

/// Splits a comma-separated `k=v` list, honouring double quotes as buildx's
/// CSV reading does (`"dest=a,b"`).
base::Result<std::vector<std::string>> SplitCsvFields(std::string_view text);

}  // namespace strata::build

#endif  // STRATA_BUILD_OPTIONS_H_
