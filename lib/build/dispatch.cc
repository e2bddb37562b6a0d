#include "build/dispatch.h"

#include <algorithm>

#include "base/go_quote.h"
#include "build/history.h"
#include "dockerfile/instructions_expose.h"
#include "dockerfile/shell_lex.h"

namespace strata::build {

using base::Code;
using base::MakeError;
using base::Result;
using base::Status;

namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

dockerfile::EnvList ScopeOf(const StageState& state) {
  return dockerfile::EnvList::FromPairs(state.env);
}

// BuildKit's uppercaseCmd: the first word in upper case.
std::string UppercaseCmd(const std::string& text) {
  size_t space = text.find(' ');
  std::string word = text.substr(0, space);
  for (char& c : word) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return space == std::string::npos ? word : word + text.substr(space);
}

std::vector<std::string> ShellOf(const StageState& state) {
  if (!state.config.config.shell.empty()) return state.config.config.shell;
  return {"/bin/sh", "-c"};
}

// RUN/CMD/ENTRYPOINT argv: JSON form as is, shell form through SHELL.
std::vector<std::string> CommandLine(const dockerfile::ShellDependantCmdLine& c,
                                     const StageState& state) {
  if (!c.prepend_shell) return c.cmd_line;
  std::vector<std::string> argv = ShellOf(state);
  argv.insert(argv.end(), c.cmd_line.begin(), c.cmd_line.end());
  return argv;
}

void AddUnique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) {
    list.push_back(value);
  }
}

void SetConfigEnv(image::ImageConfig& config, const std::string& key,
                  const std::string& value) {
  std::string entry = key + "=" + value;
  for (std::string& e : config.config.env) {
    if (e.compare(0, key.size() + 1, key + "=") == 0) {
      e = entry;
      return;
    }
  }
  config.config.env.push_back(entry);
}

// Joins a relative WORKDIR to the current one, like Go's path.Join.
std::string JoinWorkdir(const std::string& current, const std::string& path) {
  std::string joined =
      !path.empty() && path[0] == '/' ? path : (current.empty() ? "/" : current) + "/" + path;
  std::vector<std::string> parts;
  for (const std::string& p : base::Split(joined, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  return "/" + base::Join(parts, "/");
}

// One history line per metadata command, as BuildKit's dispatch* write.
std::optional<image::History> MetadataHistory(const dockerfile::Command& c,
                                              const StageState& state) {
  const image::ContainerConfig& cfg = state.config.config;
  auto entry = [](std::string text) {
    return std::optional(MakeHistory(std::move(text), false, false));
  };
  return std::visit(
      Overloaded{
          [&](const dockerfile::EnvCommand& e) {
            std::string text = "ENV";
            for (const auto& kv : e.env) text += " " + kv.key + "=" + kv.value;
            return entry(text);
          },
          [&](const dockerfile::LabelCommand& e) {
            std::string text = "LABEL";
            for (const auto& kv : e.labels) {
              text += " " + kv.key + "=" + kv.value;
            }
            return entry(text);
          },
          [&](const dockerfile::ArgCommand& e) {
            std::vector<std::string> parts;
            // The values as resolved: the last entries of state.args.
            size_t first = state.args.size() - e.args.size();
            for (size_t i = first; i < state.args.size(); ++i) {
              const auto& [k, v] = state.args[i];
              parts.push_back(v ? k + "=" + *v : k);
            }
            return entry("ARG " + base::Join(parts, " "));
          },
          [&](const dockerfile::MaintainerCommand& e) {
            return entry("MAINTAINER " + e.maintainer);
          },
          [&](const dockerfile::CmdCommand&) {
            return entry("CMD " + base::GoQuoteList(cfg.cmd.value_or(
                                      std::vector<std::string>{})));
          },
          [&](const dockerfile::EntrypointCommand&) {
            return entry("ENTRYPOINT " +
                         base::GoQuoteList(cfg.entrypoint.value_or(
                             std::vector<std::string>{})));
          },
          [&](const dockerfile::HealthCheckCommand&) {
            return entry(HealthcheckHistory(*cfg.healthcheck));
          },
          [&](const dockerfile::ExposeCommand& e) {
            // The ports as normalized ("8080" is "8080/tcp"); Apply has
            // already checked them.
            Result<std::vector<std::string>> ports =
                dockerfile::ParseExposedPorts(e.ports, e);
            return entry(ExposeHistory(ports ? *ports : e.ports));
          },
          [&](const dockerfile::UserCommand& e) {
            return entry("USER " + e.user);
          },
          [&](const dockerfile::VolumeCommand& e) {
            return entry("VOLUME " + GoList(e.volumes));
          },
          [&](const dockerfile::StopSignalCommand& e) {
            return entry("STOPSIGNAL " + e.signal);
          },
          [&](const dockerfile::ShellCommand& e) {
            return entry("SHELL " + GoList(e.shell));
          },
          [&](const auto&) { return std::optional<image::History>(); },
      },
      c);
}

}  // namespace

void InitNumbering(StageState& state, const StagePlan& stage,
                   const dockerfile::Stage& commands, bool single_stage,
                   int extra_commands) {
  state.prefix_name = single_stage ? "" : stage.display_name;
  state.cmd_index = 0;
  int total = extra_commands;
  if (!stage.scratch && stage.base_stage < 0) ++total;
  for (const dockerfile::Command& c : commands.commands) {
    if (std::holds_alternative<dockerfile::RunCommand>(c) ||
        std::holds_alternative<dockerfile::CopyCommand>(c) ||
        std::holds_alternative<dockerfile::AddCommand>(c) ||
        std::holds_alternative<dockerfile::WorkdirCommand>(c)) {
      ++total;
    }
  }
  state.cmd_total = total;
}

std::string NextPrefix(StageState& state) {
  if (state.cmd_total == 0) return "";
  ++state.cmd_index;
  std::string total = std::to_string(state.cmd_total);
  std::string index = std::to_string(state.cmd_index);
  // Go's "%*d/%d" with width 1+log10(total): right-aligned index.
  if (index.size() < total.size()) {
    index.insert(0, total.size() - index.size(), ' ');
  }
  std::string out = "[";
  if (!state.prefix_name.empty()) out += state.prefix_name + " ";
  return out + index + "/" + total + "] ";
}

StageState StageState::FromBase(const image::ImageConfig& base) {
  StageState s;
  s.config = base;
  for (const std::string& e : base.config.env) {
    size_t eq = e.find('=');
    s.env.emplace_back(e.substr(0, eq),
                       eq == std::string::npos ? "" : e.substr(eq + 1));
  }
  return s;
}

void StageState::SetEnv(const std::string& key, const std::string& value) {
  for (auto& [k, v] : env) {
    if (k == key) {
      v = value;
      return;
    }
  }
  env.emplace_back(key, value);
}

std::vector<std::string> EnvStrings(const StageState& state) {
  std::vector<std::string> out;
  for (const auto& [k, v] : state.env) out.push_back(k + "=" + v);
  return out;
}

Dispatcher::Dispatcher(const Plan& plan, const BuildOptions& options)
    : plan_(plan),
      options_(options),
      lex_(dockerfile::LexOptions{.escape_token =
                                      plan.dockerfile.ast.escape_token}) {}

std::vector<std::string> Dispatcher::UnusedBuildArgs() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> unused;
  for (const auto& [key, value] : options_.build_args) {
    bool meta = false;
    for (const auto& arg : plan_.dockerfile.parsed.meta_args) {
      for (const auto& kv : arg.args) meta = meta || kv.key == key;
    }
    if (!meta && consumed_.count(key) == 0 && !IsPredefinedArg(key)) {
      unused.push_back(key);
    }
  }
  return unused;
}

Status Dispatcher::ApplyArg(dockerfile::ArgCommand& arg, StageState& state) {
  for (dockerfile::KeyValuePairOptional& kv : arg.args) {
    auto given = options_.build_args.find(kv.key);
    std::optional<std::string> value = kv.value;
    if (given != options_.build_args.end()) {
      value = given->second;
      std::lock_guard<std::mutex> lock(mu_);
      consumed_.insert(kv.key);
    } else if (value) {
      dockerfile::EnvList scope = ScopeOf(state);
      STRATA_ASSIGN_OR_RETURN(std::string v, lex_.ProcessWord(*value, scope));
      value = v;
    } else if (std::optional<std::string> global =
                   plan_.global_args.Get(kv.key)) {
      value = global;  // an ARG without default inherits the global one
    }
    if (value) state.SetEnv(kv.key, *value);
    state.args.emplace_back(kv.key, value);
  }
  return base::OkStatus();
}

Status Dispatcher::Apply(dockerfile::Command& command, StageState& state) {
  image::ContainerConfig& cfg = state.config.config;
  return std::visit(
      Overloaded{
          [&](dockerfile::EnvCommand& c) -> Status {
            for (const auto& kv : c.env) {
              state.SetEnv(kv.key, kv.value);
              SetConfigEnv(state.config, kv.key, kv.value);
            }
            return base::OkStatus();
          },
          [&](dockerfile::ArgCommand& c) { return ApplyArg(c, state); },
          [&](dockerfile::LabelCommand& c) -> Status {
            for (const auto& kv : c.labels) cfg.labels[kv.key] = kv.value;
            return base::OkStatus();
          },
          [&](dockerfile::WorkdirCommand& c) -> Status {
            cfg.working_dir = JoinWorkdir(cfg.working_dir, c.path);
            return base::OkStatus();
          },
          [&](dockerfile::UserCommand& c) -> Status {
            cfg.user = c.user;
            return base::OkStatus();
          },
          [&](dockerfile::ExposeCommand& c) -> Status {
            STRATA_ASSIGN_OR_RETURN(std::vector<std::string> ports,
                                    dockerfile::ParseExposedPorts(c.ports, c));
            for (const std::string& p : ports) AddUnique(cfg.exposed_ports, p);
            std::sort(cfg.exposed_ports.begin(), cfg.exposed_ports.end());
            return base::OkStatus();
          },
          [&](dockerfile::VolumeCommand& c) -> Status {
            for (const std::string& v : c.volumes) {
              if (v.empty()) {
                return MakeError(Code::kParse,
                                 "VOLUME specified can not be an empty string");
              }
              AddUnique(cfg.volumes, v);
            }
            std::sort(cfg.volumes.begin(), cfg.volumes.end());
            return base::OkStatus();
          },
          [&](dockerfile::StopSignalCommand& c) -> Status {
            cfg.stop_signal = c.signal;
            return base::OkStatus();
          },
          [&](dockerfile::ShellCommand& c) -> Status {
            cfg.shell = c.shell;
            return base::OkStatus();
          },
          [&](dockerfile::CmdCommand& c) -> Status {
            cfg.cmd = CommandLine(c, state);
            state.cmd_set = true;
            return base::OkStatus();
          },
          [&](dockerfile::EntrypointCommand& c) -> Status {
            cfg.entrypoint = CommandLine(c, state);
            if (c.prepend_shell == false && c.cmd_line.empty()) {
              cfg.entrypoint.reset();  // ENTRYPOINT [] clears it
            }
            // As docker: a new ENTRYPOINT drops an inherited CMD.
            if (!state.cmd_set) cfg.cmd.reset();
            return base::OkStatus();
          },
          [&](dockerfile::HealthCheckCommand& c) -> Status {
            const dockerfile::HealthConfig& h = c.health;
            cfg.healthcheck = image::HealthConfig{
                h.test,           h.interval,       h.timeout,
                h.start_period,   h.start_interval, h.retries};
            return base::OkStatus();
          },
          [&](dockerfile::OnbuildCommand& c) -> Status {
            cfg.on_build.push_back(c.expression);
            return base::OkStatus();
          },
          [&](dockerfile::MaintainerCommand& c) -> Status {
            state.config.author = c.maintainer;
            return base::OkStatus();
          },
          [&](auto&) -> Status { return base::OkStatus(); },  // RUN/COPY/ADD
      },
      command);
}

Result<DispatchedStep> Dispatcher::Dispatch(int stage, int index,
                                            StageState& state) {
  return Dispatch(plan_.dockerfile.parsed.stages[stage].commands[index], state);
}

Result<DispatchedStep> Dispatcher::Dispatch(dockerfile::Command command,
                                            StageState& state) {
  DispatchedStep step;
  step.command = std::move(command);
  const dockerfile::CommandBase& base = dockerfile::GetBase(step.command);
  const std::string& file = plan_.dockerfile.display_name;

  dockerfile::EnvList scope = ScopeOf(state);
  dockerfile::WordExpander expand =
      [&](std::string_view word) -> Result<std::string> {
    return lex_.ProcessWord(word, scope);
  };
  // ARG expands its default itself (with the ARGs before it on the line).
  Status expanded =
      std::holds_alternative<dockerfile::ArgCommand>(step.command)
          ? base::OkStatus()
          : dockerfile::ExpandCommand(step.command, expand);
  if (expanded) {
    // Heredoc sources of COPY/ADD are expanded raw, as BuildKit's ExpandRaw
    // does: quotes stay, only variables are replaced.
    dockerfile::SourcesAndDest* sd = nullptr;
    if (auto* c = std::get_if<dockerfile::CopyCommand>(&step.command)) sd = c;
    if (auto* a = std::get_if<dockerfile::AddCommand>(&step.command)) sd = a;
    if (sd != nullptr && !sd->source_contents.empty()) {
      dockerfile::ShellLex raw(dockerfile::LexOptions{
          .escape_token = '\\', .skip_process_quotes = true});
      expanded = sd->ExpandContents(
          [&](std::string_view word) -> Result<std::string> {
            return raw.ProcessWord(word, scope);
          });
    }
  }
  if (expanded) {
    if (auto* expose = std::get_if<dockerfile::ExposeCommand>(&step.command)) {
      expanded = expose->ExpandWords(
          [&](std::string_view word) -> Result<std::vector<std::string>> {
            return lex_.ProcessWords(word, scope);
          });
    }
  }
  if (!expanded) return std::move(expanded).error().At(file, base.start_line);
  // BuildKit names a step by its source text with variables expanded.
  Result<std::string> display = lex_.ProcessWord(base.code, scope);
  std::string text = UppercaseCmd(display ? *display : base.code);

  Status applied = Apply(step.command, state);
  if (!applied) return std::move(applied).error().At(file, base.start_line);

  bool is_run = std::holds_alternative<dockerfile::RunCommand>(step.command);
  bool is_copy =
      std::holds_alternative<dockerfile::CopyCommand>(step.command) ||
      std::holds_alternative<dockerfile::AddCommand>(step.command);
  if (std::holds_alternative<dockerfile::WorkdirCommand>(step.command)) {
    // WORKDIR / creates nothing and gets no number (BuildKit's quirk: it
    // is still counted in the total).
    const std::string& now = state.config.config.working_dir;
    step.vertex = now != "/";
    step.history = MakeHistory("WORKDIR " + now, step.vertex, false);
  } else if (is_run || is_copy) {
    step.vertex = true;
  } else {
    step.history = MetadataHistory(step.command, state);
  }
  step.name = step.vertex ? NextPrefix(state) + text : text;
  return step;
}

}  // namespace strata::build
