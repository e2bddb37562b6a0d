// `RUN --mount=...` and `RUN --device=...` values, parsed like BuildKit's
// instructions/commands_runmount.go and commands_rundevice.go.
//
// A mount value is one CSV record of `key=value` fields (and the bare keys
// `ro`, `readonly`, `rw`, `readwrite`, `required`), for example
// `type=cache,target=/root/.cache,sharing=locked,id=go`.
//
// BuildKit parses each mount twice. While the Dockerfile is read (no
// expander) only the CSV syntax and `from` are looked at, and `from` may not
// use a variable; every other key waits. When the RUN is dispatched the
// mount is parsed again with every value expanded, and only then are keys,
// types and values checked. ParseMount() does both, chosen by `expander`.
#ifndef STRATA_DOCKERFILE_RUN_MOUNT_H_
#define STRATA_DOCKERFILE_RUN_MOUNT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace strata::dockerfile {

/// Expands variables in one word (BuildKit's SingleWordExpander).
using WordExpander =
    std::function<base::Result<std::string>(std::string_view word)>;

enum class MountType { kBind, kCache, kTmpfs, kSecret, kSsh };

/// "bind", "cache", "tmpfs", "secret" or "ssh".
std::string_view MountTypeName(MountType type);

/// Cache mount sharing; kUnset when no `sharing=` was given.
enum class ShareMode { kUnset, kShared, kPrivate, kLocked };

/// "" (unset), "shared", "private" or "locked".
std::string_view ShareModeName(ShareMode mode);

/// One `--mount` (BuildKit's instructions.Mount).
struct Mount {
  MountType type = MountType::kBind;
  std::string from;    // stage name or image; "" for the build context
  std::string source;  // src= / source=
  std::string target;  // target= / dst= / destination=
  /// Defaults to true for bind, secret and ssh mounts and false for cache and
  /// tmpfs mounts unless ro/rw was given.
  bool read_only = false;
  int64_t size_limit = 0;  // tmpfs size= in bytes
  std::string cache_id;    // id=
  ShareMode cache_sharing = ShareMode::kUnset;
  bool required = false;  // secret and ssh only
  /// env= of a secret mount: the variable that receives the secret. An empty
  /// value means "use the default".
  std::optional<std::string> env;
  std::optional<uint64_t> mode;  // octal mode=, secret/ssh/cache only
  std::optional<uint64_t> uid;
  std::optional<uint64_t> gid;

  bool operator==(const Mount&) const = default;
};

/// Parses one --mount value. With `expander` == nullptr this is BuildKit's
/// parse-time pass: errors only for bad CSV ("failed to parse csv mounts:
/// ...") and for a variable in `from` ("'from' doesn't support variable
/// expansion, define alias stage instead"); only `from` is filled in. With an
/// expander every value is expanded and checked, with BuildKit's error texts
/// ("unexpected key 'foo' in 'foo=bar'", "unsupported mount type \"x\"",
/// "invalid value for ro: x", "secret mount should not have a from", ...).
/// Pass an identity expander to check a mount without expanding it.
base::Result<Mount> ParseMount(std::string_view value,
                               const WordExpander* expander);

/// One `--device` (BuildKit's instructions.Device): a CDI device name and
/// whether it is required.
struct Device {
  std::string name;
  bool required = false;

  bool operator==(const Device&) const = default;
};

/// Parses one --device value: `name[,required[=bool]]` or `name=...,...`.
base::Result<Device> ParseDevice(std::string_view value);

}  // namespace strata::dockerfile

#endif  // STRATA_DOCKERFILE_RUN_MOUNT_H_
