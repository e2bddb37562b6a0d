// RUN: the command runs in lib/sandbox on an overlay of the stage's
// unpacked layers; the overlay's upper dir becomes the step's layer.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <filesystem>

#include "base/go_quote.h"
#include "base/str.h"
#include "build/history.h"
#include "build/run_mounts.h"
#include "build/steps.h"
#include "build/user_db.h"
#include "dockerfile/heredoc.h"
#include "layer/snapshot.h"
#include "sandbox/sandbox.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;

namespace {

constexpr const char* kDefaultShell[] = {"/bin/sh", "-c"};

std::vector<std::string> Shell(const StageState& state) {
  if (!state.config.config.shell.empty()) return state.config.config.shell;
  return {std::begin(kDefaultShell), std::end(kDefaultShell)};
}

// The process arguments, as BuildKit's dispatchRun makes them: heredocs
// become the script (a lone one with a shebang runs from /dev/pipes).
Result<std::vector<std::string>> RunArgs(
    const dockerfile::RunCommand& run, const StageState& state,
    std::vector<sandbox::PipeFile>* pipe_files) {
  std::vector<std::string> args = run.cmd_line;
  if (!run.files.empty()) {
    if (args.size() != 1 || !run.prepend_shell) {
      return MakeError(Code::kInvalidArgument,
                       "parsing produced an invalid run command: ",
                       base::Join(args, " "));
    }
    STRATA_ASSIGN_OR_RETURN(std::optional<dockerfile::Heredoc> lone,
                            dockerfile::ParseHeredoc(args[0]));
    if (lone) {
      const dockerfile::ShellInlineFile& f = run.files[0];
      std::string data =
          f.chomp ? dockerfile::ChompHeredocContent(f.data) : f.data;
      if (data.rfind("#!", 0) == 0) {
        pipe_files->push_back({f.name, data, 0755});
        return std::vector<std::string>{"/dev/pipes/" + f.name};
      }
      args = {data};
    } else {
      std::string full = args[0];
      for (const dockerfile::ShellInlineFile& f : run.files) {
        full += "\n" + f.data + f.name;
      }
      args = {full};
    }
  }
  if (!run.prepend_shell) return args;
  std::vector<std::string> out = Shell(state);
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

struct RunUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
  std::string home = "/";
};

std::optional<uint32_t> Number(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 0xffffffffu) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// USER as runc resolves it: "user[:group]", names from the image's files,
// a known user's primary group and the groups listing it as a member.
Result<RunUser> ResolveUser(const std::string& spec,
                            const layer::LayeredView& view) {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> passwd_text,
                          ReadViewFile(view, "/etc/passwd"));
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> group_text,
                          ReadViewFile(view, "/etc/group"));
  std::vector<PasswdEntry> passwd = ParsePasswd(passwd_text.value_or(""));
  std::vector<GroupEntry> groups = ParseGroup(group_text.value_or(""));
  std::string user = spec.empty() ? "0" : spec;
  std::string group;
  if (size_t colon = user.find(':'); colon != std::string::npos) {
    group = user.substr(colon + 1);
    user = user.substr(0, colon);
  }
  RunUser out;
  const PasswdEntry* entry = nullptr;
  std::optional<uint32_t> uid = Number(user);
  for (const PasswdEntry& p : passwd) {
    if (uid ? p.uid == *uid : p.name == user) {
      entry = &p;
      break;
    }
  }
  if (!uid && !entry) {
    return MakeError(Code::kInvalidArgument, "unable to find user ", user,
                     ": no matching entries in passwd file");
  }
  out.uid = uid ? *uid : entry->uid;
  if (entry) {
    out.gid = entry->gid;
    out.home = entry->home.empty() ? "/" : entry->home;
  }
  if (!group.empty()) {
    if (std::optional<uint32_t> gid = Number(group)) {
      out.gid = *gid;
    } else {
      const GroupEntry* g = nullptr;
      for (const GroupEntry& e : groups) {
        if (e.name == group) g = &e;
      }
      if (!g) {
        return MakeError(Code::kInvalidArgument, "unable to find group ",
                         group, ": no matching entries in group file");
      }
      out.gid = g->gid;
    }
  } else if (entry) {
    for (const GroupEntry& g : groups) {
      for (const std::string& m : g.members) {
        if (m == entry->name && g.gid != out.gid) out.groups.push_back(g.gid);
      }
    }
  }
  return out;
}

// Removes a run's scratch directory on every way out.
struct ScratchDir {
  std::string path;
  ~ScratchDir() {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Splits output into lines for the progress log (a partial last line is
// kept until the next chunk or the end).
class LineSplitter {
 public:
  LineSplitter(ProgressSink& progress, int id) : progress_(progress), id_(id) {}
  void Add(std::string_view chunk) {
    pending_.append(chunk);
    size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      progress_.Log(id_, std::string_view(pending_).substr(0, nl));
      pending_.erase(0, nl + 1);
    }
  }
  void Flush() {
    if (!pending_.empty()) progress_.Log(id_, pending_);
    pending_.clear();
  }

 private:
  ProgressSink& progress_;
  int id_;
  std::string pending_;
};

}  // namespace

std::string RunHistoryText(const dockerfile::RunCommand& run,
                           const StageState& state) {
  std::vector<sandbox::PipeFile> ignored;
  Result<std::vector<std::string>> args = RunArgs(run, state, &ignored);
  return "RUN " + RunCommandString(args ? *args : run.cmd_line, state.args,
                                   state.env);
}

Result<StepOutcome> ExecRun(const StepContext& ctx, const StepInputs& in,
                            const dockerfile::RunCommand& run,
                            const StageState& state, const StageFs& fs,
                            int progress_id, base::Digest* key) {
  if (run.security == "insecure") {
    return MakeError(Code::kUnsupported,
                     "RUN --security=insecure is not allowed: strata grants "
                     "no extra privileges");
  }
  std::vector<sandbox::PipeFile> pipe_files;
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> argv,
                          RunArgs(run, state, &pipe_files));
  std::vector<std::string> env;
  for (const auto& kv : state.env) env.push_back(kv.first + "=" + kv.second);
  const std::string& user = state.config.config.user;
  std::string cwd = state.config.config.working_dir.empty()
                        ? "/"
                        : state.config.config.working_dir;
  RunMounts mounts(ctx, in, in.secrets);
  STRATA_ASSIGN_OR_RETURN(std::string mounts_key,
                          mounts.Plan(run.mounts, cwd));
  cache::KeyBuilder kb;
  kb.Add("parent", fs.key)
      .Add("op", "RUN")
      .Add("argv", base::Join(argv, "\x1f"))
      .Add("env", base::Join(env, "\x1f"))
      .Add("user", user)
      .Add("cwd", cwd)
      .Add("network", run.network)
      .Add("mounts", mounts_key)
      .Add("layer", ctx.layer_format_key);
  for (const sandbox::PipeFile& f : pipe_files) kb.Add("pipe-file", f.data);
  *key = kb.Finish();

  return CachedStep(ctx, *key, in.no_cache, [&]() -> Result<std::optional<Layer>> {
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> dirs,
                            ctx.layers.UnpackedAll(fs.layers));
    STRATA_ASSIGN_OR_RETURN(layer::LayeredView view, ViewOf(ctx, fs.layers));
    STRATA_ASSIGN_OR_RETURN(RunUser ru, ResolveUser(user, view));

    // A store temp path: if strata dies mid-RUN, the next build's
    // Store::Open removes it (its pid is gone).
    std::string tmpl = ctx.store.NewTempPath();
    if (::mkdir(tmpl.c_str(), 0700) != 0) {
      return MakeError(Code::kIo, "create a directory for RUN at ", tmpl,
                       ": ", std::strerror(errno));
    }
    ScratchDir scratch{tmpl};
    sandbox::RunSpec spec;
    spec.lower_dirs.assign(dirs.rbegin(), dirs.rend());  // top first
    spec.upper_dir = tmpl + "/upper";
    spec.work_dir = tmpl + "/work";
    spec.rootfs_dir = tmpl + "/rootfs";
    spec.state_dir = tmpl + "/state";
    for (const std::string& d :
         {spec.upper_dir, spec.work_dir, spec.rootfs_dir, spec.state_dir}) {
      std::filesystem::create_directory(d);
    }
    spec.argv = argv;
    spec.env = env;
    bool has_home = false;
    for (const std::string& e : env) has_home |= e.rfind("HOME=", 0) == 0;
    if (!has_home) spec.env.push_back("HOME=" + ru.home);  // as runc does
    spec.cwd = cwd;
    spec.uid = ru.uid;
    spec.gid = ru.gid;
    spec.groups.assign(ru.groups.begin(), ru.groups.end());
    spec.network = run.network == "none" ? sandbox::Network::kNone
                                         : sandbox::Network::kHost;
    spec.pipe_files = pipe_files;
    const char* force_copy = std::getenv("STRATA_SANDBOX_COPY");
    spec.force_copy = force_copy != nullptr && std::string(force_copy) == "1";
    STRATA_TRY(mounts.Prepare(tmpl, &spec.mounts, &spec.env));
    LineSplitter lines(ctx.progress, progress_id);
    spec.on_output = [&](std::string_view chunk) { lines.Add(chunk); };
    Result<sandbox::RunResult> ran = sandbox::Run(spec);
    lines.Flush();
    if (!ran) return std::move(ran).error();
    if (!ran->notice.empty()) {
      // Said once per build, on the step that found out.
      static std::atomic<bool> told{false};
      if (!told.exchange(true)) ctx.progress.Log(progress_id, ran->notice);
    }
    if (ran->exit_code != 0) {
      return MakeError(Code::kInvalidArgument, "process ",
                       base::GoQuote(base::Join(argv, " ")),
                       " did not complete successfully: exit code: ",
                       ran->exit_code);
    }
    layer::DirectoryOptions options;
    options.convert_overlay_whiteouts = !ran->oci_whiteouts;

    STRATA_ASSIGN_OR_RETURN(
        std::optional<Layer> layer,
        WriteNewLayer(ctx, [&](layer::LayerWriter& w) -> base::Status {
          STRATA_ASSIGN_OR_RETURN(layer::DirectoryStats stats,
                                  layer::WriteDirectoryLayer(spec.upper_dir, w,
                                                             options));
          (void)stats;
          return base::OkStatus();
        }));
    // The upper dir is the layer already unpacked (whiteouts and opaque
    // markers as overlayfs wrote them): keep it rather than unpack the tar
    // again for the next step. Without overlayfs (OCI whiteouts) it is not.
    if (layer && !ran->oci_whiteouts) ctx.layers.Adopt(*layer, spec.upper_dir);
    return layer;
  });
}

}  // namespace strata::build
