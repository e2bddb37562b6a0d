#include "build/options.h"

#include <sys/stat.h>

#include <cstdlib>

namespace strata::build {

using base::Code;
using base::MakeError;

namespace {

// Build-arg and label keys: anything but empty and without blanks, as
// docker only splits on the first '='.
base::Status CheckKey(std::string_view key, std::string_view what) {
  if (key.empty()) return MakeError(Code::kInvalidArgument, what, " is empty");
  if (key.find_first_of(" \t\n") != std::string_view::npos) {
    return MakeError(Code::kInvalidArgument, what, " contains white space");
  }
  return base::OkStatus();
}

bool KnownOutputType(std::string_view type) {
  return type == "local" || type == "tar" || type == "oci" ||
         type == "docker" || type == "image" || type == "registry" ||
         type == "cacheonly";
}

}  // namespace

base::Result<std::optional<std::pair<std::string, std::string>>> ParseBuildArg(
    std::string_view text,
    std::optional<std::string> (*lookup_env)(const std::string&)) {
  size_t eq = text.find('=');
  std::string key(text.substr(0, eq));
  STRATA_TRY(CheckKey(key, "build-arg name"));
  if (eq != std::string_view::npos) {
    return std::optional(std::pair(key, std::string(text.substr(eq + 1))));
  }
  std::optional<std::string> value = lookup_env(key);
  if (!value) return std::optional<std::pair<std::string, std::string>>();
  return std::optional(std::pair(key, *value));
}

base::Result<std::pair<std::string, std::string>> ParseLabel(
    std::string_view text) {
  size_t eq = text.find('=');
  std::string key(text.substr(0, eq));
  STRATA_TRY(CheckKey(key, "label name"));
  std::string value =
      eq == std::string_view::npos ? "" : std::string(text.substr(eq + 1));
  return std::pair(key, value);
}

base::Result<std::pair<std::string, std::string>> ParseAnnotation(
    std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return base::MakeError(base::Code::kInvalidArgument, "invalid annotation \"",
                           text, "\": expected [manifest:]KEY=VALUE");
  }
  std::string_view key = text.substr(0, eq);
  if (size_t colon = key.find(':'); colon != std::string_view::npos) {
    std::string_view type = key.substr(0, colon);
    if (type != "manifest") {
      return base::MakeError(
          base::Code::kInvalidArgument, "annotation type \"", type,
          "\" is not supported: strata annotates the image manifest only");
    }
    key = key.substr(colon + 1);
  }
  STRATA_TRY(CheckKey(std::string(key), "annotation key"));
  return std::pair(std::string(key), std::string(text.substr(eq + 1)));
}

base::Result<std::vector<std::string>> SplitCsvFields(std::string_view text) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      if (quoted && i + 1 < text.size() && text[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      fields.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (quoted) return MakeError(Code::kInvalidArgument, "unterminated quote");
  fields.push_back(std::move(cur));
  return fields;
}

base::Result<OutputSpec> ParseOutputSpec(std::string_view text) {
  if (text.empty()) return MakeError(Code::kInvalidArgument, "empty output");
  if (text == "-") return OutputSpec{"tar", {{"dest", "-"}}};
  if (text.find('=') == std::string_view::npos) {
    return OutputSpec{"local", {{"dest", std::string(text)}}};
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> fields,
                          SplitCsvFields(text));
  OutputSpec spec;
  for (const std::string& field : fields) {
    size_t eq = field.find('=');
    if (eq == std::string::npos || eq == 0) {
      return MakeError(Code::kInvalidArgument, "invalid field \"", field,
                       "\": expected key=value");
    }
    std::string key = base::AsciiLower(field.substr(0, eq));
    std::string value = field.substr(eq + 1);
    if (key == "type") {
      spec.type = value;
    } else {
      spec.attrs[key] = value;
    }
  }
  if (spec.type.empty()) {
    return MakeError(Code::kInvalidArgument, "missing type=");
  }
  if (!KnownOutputType(spec.type)) {
    return MakeError(Code::kInvalidArgument, "unknown output type \"",
                     spec.type,
                     "\" (want local, tar, oci, docker, image or registry)");
  }
  if ((spec.type == "local" || spec.type == "tar") &&
      spec.attrs.count("dest") == 0) {
    return MakeError(Code::kInvalidArgument, "type=", spec.type,
                     " needs dest=");
  }
  return spec;
}

base::Result<SshSpec> ParseSshSpec(std::string_view text) {
  SshSpec spec;
  size_t eq = text.find('=');
  spec.id = std::string(text.substr(0, eq));
  if (spec.id.empty()) {
    return base::MakeError(base::Code::kInvalidArgument, "invalid ssh spec \"",
                           text, "\": expected default or ID=SOCKET");
  }
  if (eq != std::string_view::npos) {
    spec.socket = std::string(text.substr(eq + 1));
  } else if (const char* sock = std::getenv("SSH_AUTH_SOCK")) {
    spec.socket = sock;
  }
  if (spec.socket.empty()) {
    return base::MakeError(base::Code::kInvalidArgument,
                           "invalid empty ssh agent socket: make sure "
                           "SSH_AUTH_SOCK is set");
  }
  struct stat st;
  if (::stat(spec.socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return base::MakeError(base::Code::kInvalidArgument, "--ssh ", spec.id,
                           ": ", spec.socket,
                           " is not an SSH agent socket (key files are not "
                           "supported)");
  }
  return spec;
}

base::Result<SecretSpec> ParseSecretSpec(std::string_view text) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> fields,
                          SplitCsvFields(text));
  SecretSpec spec;
  std::string type;
  for (const std::string& field : fields) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) {
      return MakeError(Code::kInvalidArgument, "invalid field \"", field,
                       "\": expected key=value");
    }
    std::string key = base::AsciiLower(field.substr(0, eq));
    std::string value = field.substr(eq + 1);
    if (key == "id") {
      spec.id = value;
    } else if (key == "src" || key == "source") {
      spec.file = value;
    } else if (key == "env") {
      spec.env = value;
    } else if (key == "type") {
      if (value != "file" && value != "env") {
        return MakeError(Code::kInvalidArgument, "unsupported secret type \"",
                         value, "\"");
      }
      type = value;
    } else {
      return MakeError(Code::kInvalidArgument, "unexpected key '", key,
                       "' in '", field, "'");
    }
  }
  // As buildx: type=env takes the variable's name from src= too. With
  // neither src= nor env=, the secret is looked up by id when it is read.
  if (type == "env" && spec.env.empty()) {
    spec.env = std::move(spec.file);
    spec.file.clear();
  }
  if (spec.id.empty()) return MakeError(Code::kInvalidArgument, "missing id=");
  return spec;
}

base::Result<Progress> ParseProgress(std::string_view text) {
  if (text == "auto") return Progress::kAuto;
  if (text == "plain") return Progress::kPlain;
  if (text == "tty") return Progress::kTty;
  if (text == "quiet") return Progress::kQuiet;
  if (text == "rawjson") return Progress::kRawJson;
  return MakeError(Code::kInvalidArgument,
                   "want one of auto, plain, tty, quiet, rawjson");
}

base::Result<NetworkMode> ParseNetworkMode(std::string_view text) {
  if (text == "default" || text.empty()) return NetworkMode::kDefault;
  if (text == "none") return NetworkMode::kNone;
  if (text == "host") return NetworkMode::kHost;
  return MakeError(Code::kInvalidArgument, "want one of default, none, host");
}

}  // namespace strata::build
