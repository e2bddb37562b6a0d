// Stage references and their checks: BuildKit's dockerfile2llb toCommand,
// detectRunMount, validateCircularDependency and the dispatch-order errors.
#include "dockerfile/instructions_deps.h"

#include <map>
#include <set>

#include "base/go_unicode.h"
#include "base/str.h"
#include "dockerfile/instructions_internal.h"
#include "dockerfile/shell_lex.h"

namespace strata::dockerfile {
namespace {

using base::Code;
using base::MakeError;
namespace ii = instr_internal;

// BuildKit's dispatchStates while toCommand runs: the node list and the
// lower-cased stage names.
struct Resolver {
  StageGraph& graph;
  std::map<std::string, int> by_name;

  // findStateByName, or a new image node ("unregistered" state).
  int ByNameOrImage(const std::string& name) {
    auto it = by_name.find(base::GoToLower(name));
    if (it != by_name.end()) return it->second;
    graph.nodes.push_back({-1, name});
    return static_cast<int>(graph.nodes.size()) - 1;
  }
};

base::Result<std::vector<int>> CopySources(const CopyCommand& copy,
                                           const ShellLex& lex,
                                           Resolver& resolver) {
  if (copy.from.empty()) return std::vector<int>{};
  EnvList no_env;
  STRATA_ASSIGN_OR_RETURN(WordResult res,
                          lex.ProcessWordWithMatches(copy.from, no_env));
  if (res.result != copy.from) {
    return base::Error(Code::kParse,
                       "variable expansion is not supported for --from, "
                       "define a new stage with FROM using ARG from global "
                       "scope as a workaround");
  }
  int64_t index = 0;
  if (ii::ParseInt(copy.from, 10, 64, &index) != ii::NumError::kNone) {
    return std::vector<int>{resolver.ByNameOrImage(copy.from)};
  }
  // The index counts image nodes added so far, as BuildKit's list does.
  if (index < 0 || index >= static_cast<int64_t>(resolver.graph.nodes.size())) {
    return MakeError(Code::kParse, "invalid stage index ", index);
  }
  return std::vector<int>{static_cast<int>(index)};
}

std::vector<int> MountSources(const RunCommand& run, Resolver& resolver) {
  std::vector<int> out;
  for (const Mount& mount : run.mounts) {
    out.push_back(
        resolver.ByNameOrImage(mount.from.empty() ? "scratch" : mount.from));
  }
  return out;
}

// validateCircularDependency's depth-first search. Returns the commands
// (stage, command index) along the first cycle found from `node`.
struct CycleFinder {
  const StageGraph& graph;
  // Per node: dependencies in first-seen order, with the last command that
  // added each (BuildKit keeps them in a map keyed by dependency).
  std::vector<std::vector<std::pair<int, std::pair<int, int>>>> deps;
  std::set<int> visited, path;

  explicit CycleFinder(const StageGraph& g) : graph(g), deps(g.nodes.size()) {
    for (size_t s = 0; s < g.sources.size(); ++s) {
      for (size_t c = 0; c < g.sources[s].size(); ++c) {
        for (int dep : g.sources[s][c]) Add(static_cast<int>(s), dep, c);
      }
    }
  }

  void Add(int stage, int dep, size_t command) {
    std::pair<int, int> cmd{stage, static_cast<int>(command)};
    for (auto& [d, c] : deps[stage]) {
      if (d == dep) {
        c = cmd;
        return;
      }
    }
    deps[stage].push_back({dep, cmd});
  }

  std::vector<std::pair<int, int>> Visit(int node,
                                         std::vector<std::pair<int, int>> cur) {
    if (!visited.insert(node).second) return {};
    path.insert(node);
    for (const auto& [dep, cmd] : deps[node]) {
      std::vector<std::pair<int, int>> next = cur;
      next.push_back(cmd);
      if (path.count(dep) != 0) return next;
      std::vector<std::pair<int, int>> found = Visit(dep, next);
      if (!found.empty()) return found;
    }
    path.erase(node);
    return {};
  }
};

const CommandBase& CommandAt(const ParsedInstructions& df, int stage,
                             int command) {
  return GetBase(df.stages[stage].commands[command]);
}

}  // namespace

std::string StageDisplayName(const ParsedInstructions& dockerfile, int index) {
  const std::string& name = dockerfile.stages[index].name;
  return name.empty() ? base::StrCat("stage-", index) : name;
}

base::Result<StageGraph> BuildStageGraph(const ParsedInstructions& dockerfile,
                                         char escape_token,
                                         const InstructionOptions& options) {
  StageGraph graph;
  Resolver resolver{graph, {}};
  const int n = static_cast<int>(dockerfile.stages.size());
  for (int i = 0; i < n; ++i) {
    const Stage& stage = dockerfile.stages[i];
    graph.nodes.push_back({i, ""});
    // addState: the base is looked up by the exact (expanded) name among
    // the stages registered so far; a later stage of the same name wins.
    auto it = resolver.by_name.find(stage.base_name);
    graph.base.push_back(it == resolver.by_name.end() ? -1 : it->second);
    if (!stage.name.empty()) resolver.by_name[base::GoToLower(stage.name)] = i;
  }
  ShellLex lex(LexOptions{.escape_token = escape_token});
  graph.sources.resize(n);
  for (int i = 0; i < n; ++i) {
    for (const Command& cmd : dockerfile.stages[i].commands) {
      std::vector<int> sources;
      if (const auto* copy = std::get_if<CopyCommand>(&cmd)) {
        auto found = CopySources(*copy, lex, resolver);
        if (!found) {
          return std::move(found).error().At(options.file_name,
                                             copy->start_line);
        }
        sources = std::move(*found);
      } else if (const auto* run = std::get_if<RunCommand>(&cmd)) {
        sources = MountSources(*run, resolver);
      }
      graph.sources[i].push_back(std::move(sources));
    }
  }
  CycleFinder finder(graph);
  for (int node = 0; node < static_cast<int>(graph.nodes.size()); ++node) {
    auto cycle = finder.Visit(node, {});
    if (cycle.empty()) continue;
    const CommandBase& at =
        CommandAt(dockerfile, cycle[0].first, cycle[0].second);
    return MakeError(Code::kParse, "circular dependency detected on stage: ",
                     StageDisplayName(dockerfile, node))
        .At(options.file_name, at.start_line);
  }
  return graph;
}

std::vector<bool> ReachableStages(const StageGraph& graph, int target) {
  std::vector<bool> seen(graph.nodes.size(), false);
  std::vector<int> todo = {target};
  while (!todo.empty()) {
    int node = todo.back();
    todo.pop_back();
    if (node < 0 || seen[node]) continue;
    seen[node] = true;
    if (graph.nodes[node].stage < 0) continue;
    int stage = graph.nodes[node].stage;
    todo.push_back(graph.base[stage]);
    for (const std::vector<int>& sources : graph.sources[stage]) {
      todo.insert(todo.end(), sources.begin(), sources.end());
    }
  }
  seen.resize(graph.base.size());
  return seen;
}

base::Status CheckStageOrder(const ParsedInstructions& dockerfile,
                             const StageGraph& graph,
                             const std::vector<bool>& dispatched,
                             const InstructionOptions& options) {
  const int n = static_cast<int>(dockerfile.stages.size());
  const WordExpander keep =
      [](std::string_view w) -> base::Result<std::string> {
    return std::string(w);
  };
  for (int s = 0; s < n; ++s) {
    if (s >= static_cast<int>(dispatched.size()) || !dispatched[s]) continue;
    const std::vector<Command>& commands = dockerfile.stages[s].commands;
    for (size_t c = 0; c < commands.size(); ++c) {
      const std::vector<int>& sources = graph.sources[s][c];
      for (size_t k = 0; k < sources.size(); ++k) {
        int stage = graph.nodes[sources[k]].stage;
        if (stage < 0 || stage < s) continue;  // images are always ready
        const CommandBase& at = GetBase(commands[c]);
        if (const auto* copy = std::get_if<CopyCommand>(&commands[c])) {
          return MakeError(Code::kParse, "cannot copy from stage ",
                           ii::Quote(copy->from),
                           ", it needs to be defined before current stage ",
                           ii::Quote(StageDisplayName(dockerfile, s)))
              .At(options.file_name, at.start_line);
        }
        const auto& run = std::get<RunCommand>(commands[c]);
        auto mount = ParseMount(run.mount_specs[k], &keep);
        if (run.mounts[k].from.empty()) continue;  // "scratch": not a stage
        return MakeError(Code::kParse, "cannot mount from stage ",
                         ii::Quote(run.mounts[k].from), " to ",
                         ii::Quote(mount ? mount->target : ""),
                         ", stage needs to be defined before current command")
            .At(options.file_name, at.start_line);
      }
    }
  }
  return base::OkStatus();
}

}  // namespace strata::dockerfile
