// Runs one RUN step's process isolated, without a daemon or an external
// runtime, and rootless where the kernel allows user namespaces.
//
// The process tree:
//   strata ── helper (unshares the namespaces) ── init (PID 1 of the new
//   PID namespace: sets up the root file system, then execs the command)
// The helper exists because a new PID namespace applies to the children of
// the process that made it. When init exits, the kernel kills whatever the
// command left running; the helper reports init's status and exits.
//
// Namespaces: mount, PID, IPC and UTS always; a user namespace when strata
// is not root (mapping root inside to the caller's uid and gid, so files
// the command creates belong to the caller on the host); a network
// namespace holding only loopback for Network::kNone.
//
// The root file system is an overlay mount: `lower_dirs` read-only (top
// first), `upper_dir` receiving every change, so after the run the upper
// dir is the step's diff (layer/snapshot.h converts its whiteouts). On it:
// /proc (the new PID namespace's), a tmpfs /dev with null, zero, full,
// random, urandom and tty bound from the host plus pts, shm and the usual
// links, /sys read-only, and copies of the host's /etc/resolv.conf and
// /etc/hosts bound over the image's (writes to them are discarded). Then
// pivot_root, and the old root is detached: nothing of the host's file
// system stays reachable.
//
// Every mount target is resolved inside the root (securejoin: an image's
// symlink cannot point a mount at the host). Mount points the image lacks
// (/proc, /dev, /sys, /etc/hosts, RUN --mount targets) are created in the
// merged tree and so appear in the upper dir; Run removes them again
// (CleanMountPoints), so they never reach a layer.
#ifndef STRATA_SANDBOX_SANDBOX_H_
#define STRATA_SANDBOX_SANDBOX_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace strata::sandbox {

enum class Network {
  kHost,  // share the host's network (RUN --network=default and host)
  kNone,  // a new network namespace with only loopback, up
};

/// A file made for the command under /dev/pipes (BuildKit runs a heredoc
/// with a shebang from there).
struct PipeFile {
  std::string name;
  std::string data;
  mode_t mode = 0755;
};

/// A RUN --mount, as the build prepared it.
struct MountSpec {
  enum class Kind {
    kBind,     // `source` (a host file or dir) bound at `target`
    kTmpfs,    // a fresh tmpfs of `size` bytes (0: the kernel's default)
    kOverlay,  // `lower_dirs` (top first) with a scratch upper: writes are
               // discarded (a bind mount of a stage, rw or not)
  };
  Kind kind = Kind::kBind;
  std::string target;  // inside the root, resolved inside it
  std::string source;
  std::vector<std::string> lower_dirs;
  std::string upper_dir;
  std::string work_dir;
  /// kOverlay: the path inside the overlay to mount ("" for all of it),
  /// resolved inside it.
  std::string subpath;
  bool read_only = false;
  int64_t size = 0;
};

struct RunSpec {
  /// The image's unpacked layers, top first. May be empty (FROM scratch).
  std::vector<std::string> lower_dirs;
  /// Empty directories on one file system, not inside each other: the
  /// overlay's upper and work dirs and where the root is mounted.
  std::string upper_dir;
  std::string work_dir;
  std::string rootfs_dir;
  /// A directory for the sandbox's own files (resolv.conf and hosts copies,
  /// an empty lower dir for FROM scratch).
  std::string state_dir;

  /// The command: argv[0] is looked up in PATH from `env` unless it holds
  /// a '/'. Exec form, no shell: callers add the shell for shell form.
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "K=V"
  std::string cwd = "/";         // created if missing, as runc does
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
  Network network = Network::kHost;
  std::string hostname = "buildkitsandbox";
  std::vector<PipeFile> pipe_files;
  std::vector<MountSpec> mounts;
  /// Use the copy fallback (copy_root.h) even where overlayfs works: for
  /// tests and diagnosis (strata sets it from STRATA_SANDBOX_COPY=1).
  bool force_copy = false;
  /// Internal: the merged copy the fallback runs on.
  std::string copy_root;

  /// Receives the command's stdout and stderr, merged, as it comes.
  std::function<void(std::string_view)> on_output;
};

struct RunResult {
  int exit_code = 0;  // 128+N when killed by signal N, as a shell says
  /// The fallback ran: upper_dir marks deletions with ".wh.<name>" files
  /// (OCI whiteouts, written as they are), not overlay whiteouts.
  bool oci_whiteouts = false;
  /// Why the fallback ran, to tell the user once.
  std::string notice;
};

/// Whether strata runs as root; otherwise a user namespace is needed.
bool RunningAsRoot();

/// Runs `spec` and waits for it. An error means the sandbox could not be
/// set up (the message says why: no user namespaces...); a command that
/// ran and failed is a RunResult with its exit code. Mount points the run
/// created are removed from the upper dir before return. Where overlayfs
/// cannot be mounted, the root is a merged copy of the lower dirs and the
/// upper dir is filled by comparing it afterwards (RunResult::notice).
base::Result<RunResult> Run(const RunSpec& spec);

/// Removes from `upper_dir` the mount points a run created (`created`,
/// relative paths, parents first): each that is still an empty file or
/// directory and exists in none of `lower_dirs`, then the parent dirs left
/// empty that exist below (copied up only to hold a mount point). Exposed
/// for tests.
base::Status CleanMountPoints(const std::string& upper_dir,
                              const std::vector<std::string>& lower_dirs,
                              const std::vector<std::string>& created);

/// Removes from `upper_dir` what equals the entry below it in `lower_dirs`
/// (top first): files with the same type, mode, owner, capability and
/// bytes (compared up to 64 MiB; larger ones are kept), the same symlinks,
/// and directories left empty that are the same below and not opaque. The
/// layer then holds only real changes.
base::Status PruneUnchanged(const std::string& upper_dir,
                            const std::vector<std::string>& lower_dirs);

}  // namespace strata::sandbox

#endif  // STRATA_SANDBOX_SANDBOX_H_
