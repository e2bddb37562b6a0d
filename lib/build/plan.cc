#include "build/plan.h"

#include <iostream>
#include <iterator>

#include "base/file.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;

namespace {

std::string DisplayPath(const std::string& path) {
  std::string out = path;
  while (base::StartsWith(out, "./")) out.erase(0, 2);
  return out.empty() ? "Dockerfile" : out;
}

// Expands a word with the global scope, as BuildKit does for FROM lines.
dockerfile::WordExpander GlobalExpander(const dockerfile::ShellLex& lex,
                                        const dockerfile::EnvList& env) {
  return [&lex, &env](std::string_view word) -> Result<std::string> {
    return lex.ProcessWord(word, env);
  };
}

// Resolves the ARGs before the first FROM: a --build-arg wins, else the
// default expanded with what is already in scope.
base::Status ResolveMetaArgs(const Plan& plan, const BuildOptions& options,
                             const dockerfile::ShellLex& lex,
                             dockerfile::EnvList& scope) {
  for (const dockerfile::ArgCommand& arg : plan.dockerfile.parsed.meta_args) {
    for (const dockerfile::KeyValuePairOptional& kv : arg.args) {
      auto given = options.build_args.find(kv.key);
      if (given != options.build_args.end()) {
        scope.Set(kv.key, given->second);
      } else if (kv.value) {
        Result<std::string> v = lex.ProcessWord(*kv.value, scope);
        if (!v) {
          return std::move(v).error().At(plan.dockerfile.display_name,
                                         arg.start_line);
        }
        scope.Set(kv.key, *v);
      }
    }
  }
  return base::OkStatus();
}

// BuildKit only lints a repeated stage name (DuplicateStageName) and then
// silently picks one of them; strata refuses it, because `FROM x` and
// `COPY --from=x` would otherwise name a different stage than the reader
// expects.
base::Status CheckUniqueStageNames(const Plan& plan) {
  const auto& stages = plan.dockerfile.parsed.stages;
  for (size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].name.empty()) continue;
    for (size_t j = 0; j < i; ++j) {
      if (stages[j].name == stages[i].name) {
        return MakeError(Code::kParse, "duplicate stage name \"",
                         stages[i].name, "\" (first used on line ",
                         stages[j].start_line, ")")
            .At(plan.dockerfile.display_name, stages[i].start_line);
      }
    }
  }
  return base::OkStatus();
}

Result<int> FindTarget(const Plan& plan, const std::string& target) {
  if (target.empty()) return static_cast<int>(plan.stages.size()) - 1;
  std::string want = base::AsciiLower(target);
  for (const StagePlan& s : plan.stages) {
    if (s.name == want) return s.index;
  }
  return MakeError(Code::kInvalidArgument, "target stage \"", target,
                   "\" could not be found");
}

// BuildKit reads a --from that names no stage as an image reference, so a
// typo in a stage name becomes a pull. Say so where it happens.
void WarnImageSources(Plan& plan) {
  const auto& stages = plan.dockerfile.parsed.stages;
  for (size_t s = 0; s < stages.size(); ++s) {
    if (!plan.stages[s].needed) continue;
    for (size_t c = 0; c < stages[s].commands.size(); ++c) {
      const auto* copy =
          std::get_if<dockerfile::CopyCommand>(&stages[s].commands[c]);
      if (copy == nullptr || copy->from.empty()) continue;
      for (int node : plan.graph.sources[s][c]) {
        const dockerfile::StageGraphNode& n = plan.graph.nodes[node];
        if (n.stage >= 0) continue;
        plan.warnings.push_back(base::StrCat(
            plan.dockerfile.display_name, ":", copy->start_line,
            ": COPY --from=", copy->from,
            " names no stage; it will be read from the image \"", n.image,
            "\""));
      }
    }
  }
}

}  // namespace

bool IsPredefinedArg(std::string_view name) {
  static const char* const kNames[] = {
      "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
      "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
      "ALL_PROXY",  "all_proxy"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> PlatformArgs(
    const image::Platform& build, const image::Platform& target) {
  return {{"BUILDPLATFORM", build.ToString()},
          {"BUILDOS", build.os},
          {"BUILDARCH", build.architecture},
          {"BUILDVARIANT", build.variant},
          {"TARGETPLATFORM", target.ToString()},
          {"TARGETOS", target.os},
          {"TARGETARCH", target.architecture},
          {"TARGETVARIANT", target.variant}};
}

Result<LoadedDockerfile> LoadDockerfile(const BuildOptions& options) {
  LoadedDockerfile out;
  std::string content;
  if (options.dockerfile == "-" || options.context_dir == "-") {
    out.path = "-";
    out.display_name = "Dockerfile";
    content.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    out.path = options.dockerfile.empty()
                   ? options.context_dir + "/Dockerfile"
                   : options.dockerfile;
    out.display_name = DisplayPath(out.path);
    Result<std::string> data = base::ReadFile(out.path);
    if (!data) {
      return MakeError(data.error().code(), "failed to read Dockerfile: ",
                       data.error().message());
    }
    content = std::move(data).value();
  }
  dockerfile::ParseOptions parse_options;
  parse_options.file_name = out.display_name;
  STRATA_ASSIGN_OR_RETURN(out.ast, dockerfile::Parse(content, parse_options));
  dockerfile::InstructionOptions instr_options;
  instr_options.file_name = out.display_name;
  STRATA_ASSIGN_OR_RETURN(out.parsed,
                          dockerfile::ParseInstructions(out.ast, instr_options));
  return out;
}

Result<Plan> MakePlan(const BuildOptions& options, LoadedDockerfile dockerfile,
                      const image::Platform& target_platform) {
  Plan plan;
  plan.dockerfile = std::move(dockerfile);
  const std::string& file = plan.dockerfile.display_name;
  plan.build_platform = image::HostPlatform();
  plan.target_platform = target_platform;
  for (const auto& w : plan.dockerfile.ast.warnings) {
    plan.warnings.push_back(
        base::StrCat(file, ":", w.start_line, ": ", w.short_text));
  }
  for (const auto& w : plan.dockerfile.parsed.warnings) {
    plan.warnings.push_back(base::StrCat(file, ":", w.start_line, ": ",
                                         w.rule, ": ", w.message));
  }

  STRATA_TRY(CheckUniqueStageNames(plan));
  dockerfile::ShellLex lex(
      dockerfile::LexOptions{.escape_token = plan.dockerfile.ast.escape_token});
  for (const auto& [k, v] : PlatformArgs(plan.build_platform, target_platform)) {
    plan.global_args.Set(k, v);
  }
  STRATA_TRY(ResolveMetaArgs(plan, options, lex, plan.global_args));

  dockerfile::WordExpander expand = GlobalExpander(lex, plan.global_args);
  std::vector<dockerfile::Stage>& stages = plan.dockerfile.parsed.stages;
  for (size_t i = 0; i < stages.size(); ++i) {
    dockerfile::Stage& st = stages[i];
    base::Status expanded = st.ExpandBase(expand);
    if (!expanded) {
      return std::move(expanded).error().At(file, st.start_line);
    }
    StagePlan sp;
    sp.index = static_cast<int>(i);
    sp.name = st.name;
    sp.display_name =
        dockerfile::StageDisplayName(plan.dockerfile.parsed, sp.index);
    sp.base = st.base_name;
    sp.scratch = st.base_name == "scratch";
    sp.platform = target_platform;
    if (!st.platform.empty()) {
      Result<image::Platform> p = image::ParsePlatform(st.platform);
      if (!p) return std::move(p).error().At(file, st.start_line);
      sp.platform = *p;
    }
    plan.stages.push_back(std::move(sp));
  }
  STRATA_ASSIGN_OR_RETURN(
      plan.graph,
      dockerfile::BuildStageGraph(plan.dockerfile.parsed,
                                  plan.dockerfile.ast.escape_token,
                                  {.file_name = file}));
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    int base = plan.graph.base[i];
    if (base >= 0) plan.stages[i].base_stage = plan.graph.nodes[base].stage;
  }
  STRATA_ASSIGN_OR_RETURN(plan.target, FindTarget(plan, options.target));
  std::vector<bool> needed =
      dockerfile::ReachableStages(plan.graph, plan.target);
  for (size_t i = 0; i < plan.stages.size(); ++i) {
    plan.stages[i].needed = needed[i];
  }
  STRATA_TRY(dockerfile::CheckStageOrder(plan.dockerfile.parsed, plan.graph,
                                         needed, {.file_name = file}));
  WarnImageSources(plan);
  return plan;
}

}  // namespace strata::build
