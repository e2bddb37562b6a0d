#include "build/executor.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "build/assemble.h"
#include "build/base_image.h"
#include "build/dispatch.h"
#include "build/history.h"
#include "build/plan.h"
#include "build/steps.h"
#include "context/ignore_file.h"
#include "dockerfile/parser.h"
#include "image/reference.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr int kWorkers = 2;  // the machines strata targets have two cores

struct StageResult {
  StageState state;
  StageFs fs;
  image::Platform platform;
};

// The ONBUILD triggers a base leaves, parsed as commands.
Result<std::vector<dockerfile::Command>> ParseTriggers(
    const std::vector<std::string>& triggers, const std::string& file,
    int line) {
  std::vector<dockerfile::Command> out;
  for (const std::string& t : triggers) {
    Result<dockerfile::ParseResult> ast = dockerfile::Parse(t);
    if (!ast) return std::move(ast).error().At(file, line);
    if (ast->root.children.size() != 1) {
      return MakeError(Code::kParse,
                       "onbuild trigger should be a single expression")
          .At(file, line);
    }
    dockerfile::Node node = ast->root.children[0];
    node.start_line = node.end_line = line;
    Result<dockerfile::Command> cmd =
        dockerfile::ParseCommand(node, {.file_name = file});
    if (!cmd) return std::move(cmd).error();
    out.push_back(std::move(cmd).value());
  }
  return out;
}

// How BuildKit names an image in progress: normalized, with ":latest".
std::string DisplayRef(const std::string& name) {
  Result<image::Reference> ref = image::ParseReference(name);
  if (!ref) return name;
  if (ref->tag.empty() && ref->digest.empty()) ref->tag = "latest";
  return ref->ToString();
}

bool HasEnv(const std::vector<std::string>& env, std::string_view key) {
  for (const std::string& e : env) {
    if (e.compare(0, key.size() + 1, std::string(key) + "=") == 0) return true;
  }
  return false;
}

std::string CopyHistory(const dockerfile::Command& command) {
  const auto* copy = std::get_if<dockerfile::CopyCommand>(&command);
  const auto* add = std::get_if<dockerfile::AddCommand>(&command);
  const dockerfile::SourcesAndDest& sd =
      copy ? static_cast<const dockerfile::SourcesAndDest&>(*copy) : *add;
  std::string text = copy ? "COPY" : "ADD";
  if (copy && copy->parents) text += " --parents";
  const std::string& chown = copy ? copy->chown : add->chown;
  const std::string& chmod = copy ? copy->chmod : add->chmod;
  if (!chown.empty()) text += " --chown=" + chown;
  if (!chmod.empty()) text += " --chmod=" + chmod;
  for (const std::string& s : sd.source_paths) text += " " + s;
  for (const auto& c : sd.source_contents) text += " <<" + c.path;
  return text + " " + sd.dest_path;
}

class Executor {
 public:
  Executor(const BuildOptions& options, ProgressSink& progress,
           const store::Store& store, Plan plan, RegistryAccess* registries)
      : options_(options),
        progress_(progress),
        store_(store),
        layer_cache_(store),
        resolver_(store, options.build_contexts, registries, options.pull),
        plan_(std::move(plan)),
        dispatcher_(plan_, options) {}

  Result<BuildResult> Run();

 private:
  Status LoadIgnore();
  Result<StageResult> RunStage(int index);
  Result<StageResult> StartStage(int index, std::vector<dockerfile::Command>*
                                                triggers);
  Status RunStep(int stage, DispatchedStep& step, StageState& state,
                 StageFs& fs, const StepInputs& in);
  Result<std::vector<Layer>> LayersFor(const std::string& from, int stage);
  Status RunStages();
  StepInputs InputsFor(int stage);

  const BuildOptions& options_;
  ProgressSink& progress_;
  const store::Store& store_;
  LayerCache layer_cache_;
  BaseResolver resolver_;
  CacheJournal journal_;
  Plan plan_;
  Dispatcher dispatcher_;
  std::optional<StepContext> ctx_;
  std::optional<CopySource> context_;

  std::mutex mu_;
  // Base references whose metadata load was shown: BuildKit shows each
  // once per build, however many stages use it.
  std::set<std::string> shown_metadata_;
  std::map<int, StageResult> results_;
};

Status Executor::LoadIgnore() {
  if (options_.context_dir == "-") return base::OkStatus();
  std::string df = plan_.dockerfile.path == "-"
                       ? options_.context_dir + "/Dockerfile"
                       : plan_.dockerfile.path;
  STRATA_ASSIGN_OR_RETURN(context::BuildIgnore ignore,
                          context::LoadBuildIgnore(options_.context_dir, df));
  // File digests by stat, per context directory (stat_cache.h).
  std::error_code ec;
  std::string real = std::filesystem::canonical(options_.context_dir, ec);
  std::string stat_cache;
  if (!ec) {
    STRATA_ASSIGN_OR_RETURN(std::string area, store_.Area("statcache"));
    stat_cache = area + "/" + base::Digest::Of(real).hex();
  }
  context_ = CopySource::Context(options_.context_dir,
                                 std::move(ignore.patterns), stat_cache);
  return base::OkStatus();
}

StepInputs Executor::InputsFor(int stage) {
  StepInputs in;
  in.context = context_;
  in.source_date_epoch = options_.source_date_epoch;
  in.secrets = options_.secrets;
  in.ssh = options_.ssh;
  const std::string& name = plan_.stages[stage].name;
  in.no_cache = options_.no_cache ||
                std::find(options_.no_cache_filter.begin(),
                          options_.no_cache_filter.end(),
                          name) != options_.no_cache_filter.end();
  in.source_layers = [this, stage](const std::string& from) {
    return LayersFor(from, stage);
  };
  return in;
}

// COPY --from / RUN --mount from=: a stage (by name or index) or an image.
Result<std::vector<Layer>> Executor::LayersFor(const std::string& from,
                                               int stage) {
  int target = -1;
  int64_t index = -1;
  if (base::ParseInt64(from, &index)) {
    if (index < 0 || index >= static_cast<int64_t>(plan_.stages.size())) {
      return MakeError(Code::kInvalidArgument, "invalid stage index ", from);
    }
    target = static_cast<int>(index);
  } else if (!resolver_.HasContext(from)) {
    std::string want = base::AsciiLower(from);
    for (const StagePlan& s : plan_.stages) {
      if (!s.name.empty() && s.name == want) target = s.index;
    }
  }
  if (target >= 0) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = results_.find(target);
    if (it == results_.end()) {
      return MakeError(Code::kInvalidArgument, "cannot copy from stage \"",
                       from, "\", it needs to be defined before current "
                       "stage \"", plan_.stages[stage].display_name, "\"");
    }
    return it->second.fs.layers;
  }
  STRATA_ASSIGN_OR_RETURN(BaseImage img,
                          resolver_.Resolve(from, plan_.stages[stage].platform));
  return img.layers;
}

Result<StageResult> Executor::StartStage(
    int index, std::vector<dockerfile::Command>* triggers) {
  const StagePlan& sp = plan_.stages[index];
  const dockerfile::Stage& st = plan_.dockerfile.parsed.stages[index];
  const std::string& file = plan_.dockerfile.display_name;
  StageResult r;
  r.platform = sp.platform;
  std::vector<std::string> trigger_texts;
  std::string base_name = sp.base;
  if (sp.base_stage >= 0) {
    std::lock_guard<std::mutex> lock(mu_);
    r = results_.at(sp.base_stage);
    r.state.cmd_set = false;
  } else {
    int id = -1;
    bool first_use = false;
    if (!sp.scratch) {
      std::string key = sp.base + "|" + sp.platform.ToString();
      std::lock_guard<std::mutex> lock(mu_);
      first_use = shown_metadata_.insert(key).second;
    }
    if (first_use) {
      id = progress_.Start("[internal] load metadata for " +
                           DisplayRef(sp.base));
    }
    Result<BaseImage> base = resolver_.Resolve(sp.base, sp.platform);
    if (!base) {
      if (id >= 0) progress_.Error(id, base.error().message());
      return std::move(base).error().At(file, st.start_line);
    }
    if (id >= 0) progress_.Done(id);
    base_name = base->name;
    image::ImageConfig config = base->config;
    config.created.clear();  // as BuildKit: the base's time is not ours
    r.state = StageState::FromBase(config);
    r.fs.layers = base->layers;
    r.fs.key = cache::KeyBuilder()
                   .Add("base", base->scratch ? "scratch"
                                              : base->manifest.ToString())
                   .Add("platform", sp.platform.ToString())
                   .Finish();
    r.state.config.platform = sp.platform;
  }
  trigger_texts = r.state.config.config.on_build;
  r.state.config.config.on_build.clear();
  STRATA_ASSIGN_OR_RETURN(*triggers,
                          ParseTriggers(trigger_texts, file, st.start_line));
  // BuildKit makes sure PATH is always set.
  if (!HasEnv(r.state.config.config.env, "PATH")) {
    r.state.config.config.env.push_back(std::string("PATH=") + kDefaultPath);
    r.state.SetEnv("PATH", kDefaultPath);
  }
  InitNumbering(r.state, sp, st, plan_.stages.size() == 1,
                static_cast<int>(triggers->size()));
  if (!sp.scratch && sp.base_stage < 0) {
    int id = progress_.Start(NextPrefix(r.state) + "FROM " + base_name);
    progress_.Done(id);
  }
  return r;
}

Status Executor::RunStep(int stage, DispatchedStep& step, StageState& state,
                         StageFs& fs, const StepInputs& in) {
  const dockerfile::CommandBase& cb = dockerfile::GetBase(step.command);
  const std::string& file = plan_.dockerfile.display_name;
  if (!step.vertex) {
    if (step.history) state.config.history.push_back(*step.history);
    return base::OkStatus();
  }
  int id = progress_.Start(step.name);
  base::Digest key;
  Result<StepOutcome> outcome = MakeError(Code::kInternal, "no step");
  if (std::holds_alternative<dockerfile::WorkdirCommand>(step.command)) {
    outcome = ExecWorkdir(*ctx_, in, state, fs, &key);
  } else if (const auto* run =
                 std::get_if<dockerfile::RunCommand>(&step.command)) {
    outcome = ExecRun(*ctx_, in, *run, state, fs, id, &key);
    if (outcome) {
      step.history = MakeHistory(RunHistoryText(*run, state), true, true);
    }
  } else {
    outcome = ExecCopy(*ctx_, in, step.command, state, fs, &key);
    if (outcome) step.history = MakeHistory(CopyHistory(step.command), true, true);
  }
  if (!outcome) {
    progress_.Error(id, outcome.error().message());
    base::Error err = std::move(outcome).error();
    if (err.file().empty()) err.At(file, cb.start_line);
    return err;
  }
  if (outcome->cached) {
    progress_.Cached(id);
  } else {
    progress_.Done(id);
  }
  fs.key = key;
  fs.last_created = std::max(fs.last_created, outcome->created);
  if (step.history) {
    step.history->empty_layer = !outcome->layer.has_value();
    if (options_.source_date_epoch) {
      step.history->created = image::FormatRfc3339(*options_.source_date_epoch);
    } else if (outcome->created > 0) {
      step.history->created = image::FormatRfc3339(outcome->created);
    }
    state.config.history.push_back(*step.history);
  }
  if (outcome->layer) fs.layers.push_back(*outcome->layer);
  (void)stage;
  return base::OkStatus();
}

Result<StageResult> Executor::RunStage(int index) {
  std::vector<dockerfile::Command> triggers;
  STRATA_ASSIGN_OR_RETURN(StageResult r, StartStage(index, &triggers));
  StepInputs in = InputsFor(index);
  for (dockerfile::Command& trigger : triggers) {
    STRATA_ASSIGN_OR_RETURN(DispatchedStep step,
                            dispatcher_.Dispatch(std::move(trigger), r.state));
    STRATA_TRY(RunStep(index, step, r.state, r.fs, in));
  }
  const dockerfile::Stage& st = plan_.dockerfile.parsed.stages[index];
  for (size_t i = 0; i < st.commands.size(); ++i) {
    STRATA_ASSIGN_OR_RETURN(
        DispatchedStep step,
        dispatcher_.Dispatch(index, static_cast<int>(i), r.state));
    STRATA_TRY(RunStep(index, step, r.state, r.fs, in));
  }
  return r;
}

// Runs the needed stages, each once its dependencies are done, at most
// kWorkers at a time. The first error stops new stages from starting.
Status Executor::RunStages() {
  size_t n = plan_.stages.size();
  std::vector<std::vector<int>> deps(n);
  std::vector<int> todo;
  for (size_t i = 0; i < n; ++i) {
    if (!plan_.stages[i].needed) continue;
    todo.push_back(static_cast<int>(i));
    if (plan_.stages[i].base_stage >= 0) {
      deps[i].push_back(plan_.stages[i].base_stage);
    }
    for (const auto& sources : plan_.graph.sources[i]) {
      for (int node : sources) {
        int s = plan_.graph.nodes[node].stage;
        if (s >= 0 && s != static_cast<int>(i)) deps[i].push_back(s);
      }
    }
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<bool> started(n, false), done(n, false);
  std::optional<base::Error> failure;
  size_t finished = 0;
  auto ready = [&](int s) {
    for (int d : deps[s]) {
      if (!done[d]) return false;
    }
    return true;
  };
  auto worker = [&] {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      int pick = -1;
      cv.wait(lock, [&] {
        if (failure || finished == todo.size()) return true;
        for (int s : todo) {
          if (!started[s] && ready(s)) return true;
        }
        return false;
      });
      if (failure || finished == todo.size()) return;
      for (int s : todo) {
        if (!started[s] && ready(s)) {
          pick = s;
          break;
        }
      }
      started[pick] = true;
      lock.unlock();
      Result<StageResult> r = RunStage(pick);
      if (r) {
        std::lock_guard<std::mutex> results_lock(mu_);
        results_[pick] = std::move(r).value();
      }
      lock.lock();
      if (!r) {
        if (!failure) failure = std::move(r).error();
      } else {
        done[pick] = true;
        ++finished;
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kWorkers; ++i) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  if (failure) return *failure;
  return base::OkStatus();
}

Result<BuildResult> Executor::Run() {
  STRATA_TRY(LoadIgnore());
  // New layers are plain tars: they are compressed only when they leave
  // the store (build/distributable.h), so the cache does not depend on
  // --compression either.
  layer::WriterOptions writer;
  writer.compression.compression = layer::Compression::kNone;
  writer.source_date_epoch = options_.source_date_epoch;
  ctx_.emplace(StepContext{
      store_, cache::Index(store_), layer_cache_, progress_, writer,
      base::StrCat("tar:", options_.source_date_epoch.value_or(-1))});
  ctx_->journal = &journal_;
  STRATA_TRY(RunStages());
  StageResult& target = results_.at(plan_.target);
  BuildResult out;
  STRATA_ASSIGN_OR_RETURN(
      out.image, AssembleImage(store_, target.state.config, target.fs.layers,
                               target.platform, options_,
                               target.fs.last_created));
  out.warnings = plan_.warnings;
  out.cache_entries = journal_.Entries();
  for (const BaseImage& b : resolver_.Resolved()) out.bases.push_back(b.name);
  for (const std::string& arg : dispatcher_.UnusedBuildArgs()) {
    out.warnings.push_back("[Warning] One or more build-args [" + arg +
                           "] were not consumed");
  }
  return out;
}

}  // namespace

Result<BuildResult> RunBuild(const BuildOptions& options,
                             const store::Store& store,
                             ProgressSink& progress,
                             RegistryAccess* registries) {
  int id = progress.Start("[internal] load build definition from Dockerfile");
  Result<LoadedDockerfile> dockerfile = LoadDockerfile(options);
  if (!dockerfile) {
    progress.Error(id, dockerfile.error().message());
    return std::move(dockerfile).error();
  }
  progress.Done(id);
  if (options.platforms.size() > 1) {
    // Said plainly rather than quietly building only the first platform.
    return MakeError(Code::kUnsupported,
                     "building several platforms at once is not available "
                     "yet: run one build per --platform");
  }
  image::Platform platform = options.platforms.empty()
                                 ? image::HostPlatform()
                                 : options.platforms.front();
  STRATA_ASSIGN_OR_RETURN(Plan plan,
                          MakePlan(options, std::move(dockerfile).value(),
                                   platform));
  Executor executor(options, progress, store, std::move(plan), registries);
  return executor.Run();
}

}  // namespace strata::build
