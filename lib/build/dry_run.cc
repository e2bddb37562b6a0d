#include "build/dry_run.h"

#include <set>

#include "build/dispatch.h"
#include "build/plan.h"
#include "context/ignore_file.h"
#include "context/safe_path.h"
#include "context/walker.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

// The context's included paths ("" stands for the root), for checking
// COPY sources. A dry run may hold them all; real builds stream.
struct ContextIndex {
  std::string ignore_file;  // the ignore file used, "" if none
  size_t pattern_count = 0;
  std::set<std::string> paths;
  size_t files = 0;
};

Result<ContextIndex> IndexContext(const BuildOptions& options,
                                  const LoadedDockerfile& dockerfile) {
  ContextIndex index;
  if (options.context_dir == "-") return index;
  std::string df_path = dockerfile.path == "-"
                            ? options.context_dir + "/Dockerfile"
                            : dockerfile.path;
  STRATA_ASSIGN_OR_RETURN(context::BuildIgnore ignore,
                          context::LoadBuildIgnore(options.context_dir,
                                                   df_path));
  index.ignore_file = ignore.path;
  index.pattern_count = ignore.patterns.size();
  context::WalkOptions walk;
  walk.exclude_patterns = ignore.patterns;
  STRATA_TRY(context::WalkContext(
      options.context_dir, walk, [&](const context::WalkEntry& e) -> Status {
        index.paths.insert(e.path);
        if (e.type != context::FileType::kDir) ++index.files;
        return base::OkStatus();
      }));
  return index;
}

bool HasGlob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

// Checks that a COPY/ADD source from the context names something there.
Status CheckSource(const ContextIndex& ctx, const std::string& source,
                   const std::string& command) {
  if (base::StartsWith(source, "http://") ||
      base::StartsWith(source, "https://") ||
      base::StartsWith(source, "git@")) {
    return base::OkStatus();
  }
  std::string clean = context::ScopedClean(source);
  while (base::StartsWith(clean, "/")) clean.erase(0, 1);
  if (clean.empty() || clean == ".") return base::OkStatus();
  // A wildcard may match nothing: BuildKit copies nothing then
  // (AllowEmptyWildcard).
  if (HasGlob(clean) || ctx.paths.count(clean)) return base::OkStatus();
  return MakeError(Code::kNotFound, command, " source \"", source,
                   "\" not found in the build context",
                   ctx.ignore_file.empty()
                       ? ""
                       : " (or excluded by " + ctx.ignore_file + ")");
}

Status CheckContextSources(const DispatchedStep& step, const ContextIndex& ctx,
                           const std::string& file) {
  const dockerfile::SourcesAndDest* sd = nullptr;
  std::string name;
  if (const auto* copy = std::get_if<dockerfile::CopyCommand>(&step.command)) {
    if (!copy->from.empty()) return base::OkStatus();
    sd = copy;
    name = "COPY";
  } else if (const auto* add =
                 std::get_if<dockerfile::AddCommand>(&step.command)) {
    sd = add;
    name = "ADD";
  } else {
    return base::OkStatus();
  }
  for (const std::string& src : sd->source_paths) {
    Status st = CheckSource(ctx, src, name);
    if (!st) {
      return std::move(st).error().At(
          file, dockerfile::GetBase(step.command).start_line);
    }
  }
  return base::OkStatus();
}

std::string DescribeBase(const Plan& plan, const StagePlan& s) {
  if (s.base_stage >= 0) {
    return "stage " + plan.stages[s.base_stage].display_name;
  }
  return s.base;
}

Status DescribePlan(const BuildOptions& options, Plan& plan,
                    const ContextIndex& ctx, std::string& out) {
  const LoadedDockerfile& df = plan.dockerfile;
  base::StrAppend(out, "Dockerfile: ", df.path, "\n");
  if (options.context_dir != "-") {
    base::StrAppend(out, "Context: ", options.context_dir, " (", ctx.files,
                    " files");
    if (!ctx.ignore_file.empty()) {
      base::StrAppend(out, " after ", ctx.ignore_file, ", ",
                      ctx.pattern_count, " patterns");
    }
    base::StrAppend(out, ")\n");
  }
  base::StrAppend(out, "Platform: ", plan.target_platform.ToString(),
                  " (build platform ", plan.build_platform.ToString(), ")\n");
  std::vector<std::string> needed;
  for (const StagePlan& s : plan.stages) {
    if (s.needed) needed.push_back(s.display_name);
  }
  base::StrAppend(out, "Target: ", plan.stages[plan.target].display_name,
                  " (needs ", base::Join(needed, ", "), ")\n");
  std::vector<std::string> globals;
  for (const auto& arg : df.parsed.meta_args) {
    for (const auto& kv : arg.args) {
      std::optional<std::string> v = plan.global_args.Get(kv.key);
      globals.push_back(v ? kv.key + "=" + *v : kv.key + " (unset)");
    }
  }
  if (!globals.empty()) {
    base::StrAppend(out, "Global ARGs: ", base::Join(globals, " "), "\n");
  }

  Dispatcher dispatcher(plan, options);
  std::vector<StageState> finals(plan.stages.size());
  for (const StagePlan& s : plan.stages) {
    base::StrAppend(out, "\nstage ", s.index, " ", s.display_name, ": FROM ",
                    DescribeBase(plan, s));
    if (s.platform != plan.target_platform) {
      base::StrAppend(out, " [", s.platform.ToString(), "]");
    }
    if (!s.needed) {
      base::StrAppend(out, "\n  skipped: the target does not need it\n");
      continue;
    }
    base::StrAppend(out, "\n");
    // A stage on a stage starts from that stage's state; on an image, from
    // an empty config (a dry run fetches nothing).
    StageState state = s.base_stage >= 0 ? finals[s.base_stage]
                                         : StageState::FromBase({});
    state.cmd_set = false;
    const dockerfile::Stage& st = df.parsed.stages[s.index];
    InitNumbering(state, s, st, plan.stages.size() == 1);
    if (!s.scratch && s.base_stage < 0) {
      base::StrAppend(out, "  ", NextPrefix(state), "FROM ", s.base, "\n");
    }
    for (size_t i = 0; i < st.commands.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(DispatchedStep step,
                              dispatcher.Dispatch(s.index, static_cast<int>(i),
                                                  state));
      STRATA_TRY(CheckContextSources(step, ctx, df.display_name));
      // Steps that run are numbered as BuildKit numbers them; metadata
      // steps (which only change the image config) are listed unnumbered.
      base::StrAppend(out, step.vertex ? "  " : "    ", step.name, "\n");
    }
    finals[s.index] = std::move(state);
  }
  for (const std::string& arg : dispatcher.UnusedBuildArgs()) {
    plan.warnings.push_back("build-arg " + arg + " was not consumed");
  }
  if (!plan.warnings.empty()) {
    base::StrAppend(out, "\nWarnings:\n");
    for (const std::string& w : plan.warnings) {
      base::StrAppend(out, "  ", w, "\n");
    }
  }
  return base::OkStatus();
}

}  // namespace

Result<std::string> DryRun(const BuildOptions& options) {
  std::vector<image::Platform> platforms = options.platforms;
  if (platforms.empty()) platforms.push_back(image::HostPlatform());
  STRATA_ASSIGN_OR_RETURN(LoadedDockerfile dockerfile, LoadDockerfile(options));
  STRATA_ASSIGN_OR_RETURN(ContextIndex ctx, IndexContext(options, dockerfile));
  std::string out;
  for (size_t i = 0; i < platforms.size(); ++i) {
    if (i > 0) base::StrAppend(out, "\n");
    STRATA_ASSIGN_OR_RETURN(Plan plan,
                            MakePlan(options, dockerfile, platforms[i]));
    STRATA_TRY(DescribePlan(options, plan, ctx, out));
  }
  return out;
}

}  // namespace strata::build
