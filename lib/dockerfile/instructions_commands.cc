// Expansion of typed commands: the Expand methods of BuildKit's
// instructions/commands.go, which say which fields see variables.
#include "base/str.h"
#include "dockerfile/instructions.h"

namespace strata::dockerfile {
namespace {

using base::Code;

base::Status ExpandInPlace(std::string& word, const WordExpander& expand) {
  STRATA_ASSIGN_OR_RETURN(word, expand(word));
  return base::OkStatus();
}

base::Status ExpandEach(std::vector<std::string>& words,
                        const WordExpander& expand) {
  for (std::string& word : words) STRATA_TRY(ExpandInPlace(word, expand));
  return base::OkStatus();
}

base::Status ExpandPairs(std::vector<KeyValuePair>& pairs,
                         const WordExpander& expand) {
  for (KeyValuePair& kv : pairs) {
    STRATA_TRY(ExpandInPlace(kv.key, expand));
    STRATA_TRY(ExpandInPlace(kv.value, expand));
  }
  return base::OkStatus();
}

}  // namespace

base::Status EnvCommand::Expand(const WordExpander& expand) {
  return ExpandPairs(env, expand);
}

base::Status LabelCommand::Expand(const WordExpander& expand) {
  return ExpandPairs(labels, expand);
}

base::Status SourcesAndDest::ExpandPaths(const WordExpander& expand) {
  STRATA_TRY(ExpandEach(source_paths, expand));
  return ExpandInPlace(dest_path, expand);
}

base::Status SourcesAndDest::ExpandContents(const WordExpander& expand) {
  for (SourceContent& content : source_contents) {
    if (content.expand) STRATA_TRY(ExpandInPlace(content.data, expand));
  }
  return base::OkStatus();
}

base::Status AddCommand::Expand(const WordExpander& expand) {
  STRATA_TRY(ExpandInPlace(chown, expand));
  STRATA_TRY(ExpandInPlace(chmod, expand));
  STRATA_TRY(ExpandInPlace(checksum, expand));
  return ExpandPaths(expand);
}

base::Status CopyCommand::Expand(const WordExpander& expand) {
  STRATA_TRY(ExpandInPlace(chown, expand));
  STRATA_TRY(ExpandInPlace(chmod, expand));
  return ExpandPaths(expand);
}

base::Status WorkdirCommand::Expand(const WordExpander& expand) {
  return ExpandInPlace(path, expand);
}

base::Status RunCommand::Expand(const WordExpander& expand) {
  std::vector<Mount> parsed;
  for (const std::string& spec : mount_specs) {
    STRATA_ASSIGN_OR_RETURN(Mount m, ParseMount(spec, &expand));
    parsed.push_back(std::move(m));
  }
  mounts = std::move(parsed);
  return base::OkStatus();
}

base::Status ExposeCommand::ExpandWords(const WordsExpander& expand) {
  std::vector<std::string> out;
  for (const std::string& port : ports) {
    STRATA_ASSIGN_OR_RETURN(std::vector<std::string> words, expand(port));
    out.insert(out.end(), words.begin(), words.end());
  }
  ports = std::move(out);
  return base::OkStatus();
}

base::Status UserCommand::Expand(const WordExpander& expand) {
  return ExpandInPlace(user, expand);
}

base::Status VolumeCommand::Expand(const WordExpander& expand) {
  return ExpandEach(volumes, expand);
}

base::Status StopSignalCommand::Expand(const WordExpander& expand) {
  return ExpandInPlace(signal, expand);
}

base::Status ArgCommand::Expand(const WordExpander& expand) {
  for (KeyValuePairOptional& kv : args) {
    STRATA_TRY(ExpandInPlace(kv.key, expand));
    if (kv.value) STRATA_TRY(ExpandInPlace(*kv.value, expand));
  }
  return base::OkStatus();
}

const CommandBase& GetBase(const Command& command) {
  return std::visit(
      [](const auto& c) -> const CommandBase& {
        return static_cast<const CommandBase&>(c);
      },
      command);
}

base::Status ExpandCommand(Command& command, const WordExpander& expand) {
  return std::visit(
      [&expand](auto& c) -> base::Status {
        if constexpr (requires { c.Expand(expand); }) {
          return c.Expand(expand);
        } else {
          return base::OkStatus();
        }
      },
      command);
}

base::Status Stage::ExpandBase(const WordExpander& expand) {
  STRATA_ASSIGN_OR_RETURN(std::string name, expand(base_name));
  if (name.empty()) {
    return base::MakeError(Code::kParse, "base name (", base_name,
                           ") should not be blank");
  }
  base_name = std::move(name);
  if (platform.empty()) return base::OkStatus();
  auto expanded = expand(platform);
  if (!expanded) {
    // BuildKit prints the (empty) partial result between "platform" and ":".
    return base::MakeError(Code::kParse,
                           "failed to process arguments for platform : ",
                           expanded.error().message());
  }
  if (expanded->empty()) {
    return base::MakeError(Code::kParse,
                           "empty platform value from expression ", platform);
  }
  platform = std::move(*expanded);
  return base::OkStatus();
}

}  // namespace strata::dockerfile
