#include "dockerfile/run_mount.h"

#include <vector>

#include "base/go_unicode.h"
#include "base/str.h"
#include "base/utf8.h"
#include "dockerfile/bflag.h"
#include "dockerfile/instructions_internal.h"

namespace strata::dockerfile {
namespace {

using base::Code;
using base::MakeError;
namespace ii = instr_internal;

// tonistiigi/go-csvvalue Fields() with the default parser (comma ',', strict
// quotes). Errors are encoding/csv's ParseError texts, or "EOF" for an empty
// record.
base::Result<std::vector<std::string>> CsvFields(std::string_view line) {
  if (base::EndsWith(line, "\r\n")) {
    line.remove_suffix(2);
  } else if (base::EndsWith(line, "\n")) {
    line.remove_suffix(1);
  }
  if (line.empty()) return base::Error(Code::kParse, "EOF");
  auto parse_error = [](size_t pos, std::string_view what) {
    return MakeError(Code::kParse, "parse error on line 1, column ", pos + 1,
                     ": ", what);
  };
  constexpr std::string_view kBareQuote = "bare \" in non-quoted field";
  constexpr std::string_view kQuote =
      "extraneous or missing \" in quoted field";
  std::vector<std::string> fields;
  size_t pos = 0;
  while (true) {
    if (line.empty() || line[0] != '"') {
      size_t i = line.find(',');
      std::string_view field = line.substr(0, i);
      if (size_t j = field.find('"'); j != std::string_view::npos) {
        return parse_error(pos + j, kBareQuote);
      }
      fields.emplace_back(field);
      if (i == std::string_view::npos) break;
      line.remove_prefix(i + 1);
      pos += i + 1;
      continue;
    }
    line.remove_prefix(1);
    pos += 1;
    bool half_open = false;
    bool next_field = false;
    while (!next_field) {
      size_t i = line.find('"');
      if (i == std::string_view::npos) return parse_error(pos, kQuote);
      if (half_open) {
        fields.back().append(line.substr(0, i));
      } else {
        fields.emplace_back(line.substr(0, i));
      }
      half_open = false;
      line.remove_prefix(i + 1);
      pos += i + 1;
      if (!line.empty() && line[0] == '"') {
        fields.back() += '"';  // "" inside quotes is one quote
        line.remove_prefix(1);
        pos += 1;
        half_open = true;
      } else if (!line.empty() && line[0] == ',') {
        line.remove_prefix(1);
        pos += 1;
        next_field = true;
      } else if (line.empty()) {
        return fields;
      } else {
        return parse_error(pos - 1, kQuote);
      }
    }
  }
  return fields;
}

const std::vector<std::string>& AllMountKeys() {
  static const std::vector<std::string> keys = {
      "type", "from",    "source",    "target", "readonly",
      "id",   "sharing", "required",  "size",   "mode",
      "uid",  "gid",     "src",       "dst",    "destination",
      "ro",   "rw",      "readwrite", "env"};
  return keys;
}

bool ParseMountType(std::string_view lower, MountType* out) {
  for (MountType t : {MountType::kBind, MountType::kCache, MountType::kTmpfs,
                      MountType::kSecret, MountType::kSsh}) {
    if (MountTypeName(t) == lower) {
      *out = t;
      return true;
    }
  }
  return false;
}

bool ParseShareMode(std::string_view lower, ShareMode* out) {
  for (ShareMode s :
       {ShareMode::kShared, ShareMode::kPrivate, ShareMode::kLocked}) {
    if (ShareModeName(s) == lower) {
      *out = s;
      return true;
    }
  }
  return false;
}

base::Error UnexpectedForType(std::string_view key, MountType type) {
  return MakeError(Code::kParse, "unexpected key '", key, "' for mount type '",
                   MountTypeName(type), "'");
}

base::Error InvalidValue(std::string_view key, std::string_view value) {
  return MakeError(Code::kParse, "invalid value for ", key, ": ", value);
}

// Applies one key=value field (value already expanded where BuildKit does).
base::Status ApplyMountField(Mount& m, bool& ro_auto, std::string_view key,
                             const std::string& value, std::string_view field) {
  bool b = false;
  uint64_t n = 0;
  if (key == "type") {
    if (!ParseMountType(base::GoToLower(value), &m.type)) {
      return base::Error(
          Code::kParse,
          WithSuggestion(
              base::StrCat("unsupported mount type ", ii::Quote(value)), value,
              {"bind", "cache", "tmpfs", "secret", "ssh"}, true));
    }
  } else if (key == "from") {
    m.from = value;
  } else if (key == "source" || key == "src") {
    m.source = value;
  } else if (key == "target" || key == "dst" || key == "destination") {
    m.target = value;
  } else if (key == "readonly" || key == "ro" || key == "readwrite" ||
             key == "rw") {
    if (!ii::ParseBool(value, &b)) return InvalidValue(key, value);
    m.read_only = (key == "readonly" || key == "ro") ? b : !b;
    ro_auto = false;
  } else if (key == "required") {
    if (m.type != MountType::kSecret && m.type != MountType::kSsh) {
      return UnexpectedForType(key, m.type);
    }
    if (!ii::ParseBool(value, &m.required)) return InvalidValue(key, value);
  } else if (key == "size") {
    if (m.type != MountType::kTmpfs) return UnexpectedForType(key, m.type);
    if (!ii::RamInBytes(value, &m.size_limit)) return InvalidValue(key, value);
  } else if (key == "id") {
    m.cache_id = value;
  } else if (key == "sharing") {
    if (!ParseShareMode(base::GoToLower(value), &m.cache_sharing)) {
      return base::Error(
          Code::kParse,
          WithSuggestion(
              base::StrCat("unsupported sharing value ", ii::Quote(value)),
              value, {"shared", "private", "locked"}, true));
    }
  } else if (key == "mode" || key == "uid" || key == "gid") {
    if (ii::ParseUint(value, key == "mode" ? 8 : 10, 32, &n) !=
        ii::NumError::kNone) {
      return MakeError(Code::kParse, "invalid value ", value, " for ", key);
    }
    (key == "mode" ? m.mode : key == "uid" ? m.uid : m.gid) = n;
  } else if (key == "env") {
    m.env = value;
  } else {
    return base::Error(Code::kParse,
                       WithSuggestion(base::StrCat("unexpected key '", key,
                                                   "' in '", field, "'"),
                                      key, AllMountKeys(), true));
  }
  return base::OkStatus();
}

// A key without "=": only the boolean switches are allowed.
base::Status ApplyBareKey(Mount& m, bool& ro_auto, std::string_view key,
                          std::string_view field) {
  if (key == "readonly" || key == "ro") {
    m.read_only = true;
    ro_auto = false;
  } else if (key == "readwrite" || key == "rw") {
    m.read_only = false;
    ro_auto = false;
  } else if (key == "required") {
    if (m.type != MountType::kSecret && m.type != MountType::kSsh) {
      return UnexpectedForType(key, m.type);
    }
    m.required = true;
  } else {
    return MakeError(Code::kParse, "invalid field '", field,
                     "' must be a key=value pair");
  }
  return base::OkStatus();
}

// The checks BuildKit makes once every field is known.
base::Status CheckMount(Mount& m, bool ro_auto) {
  bool file_info_allowed = m.type == MountType::kSecret ||
                           m.type == MountType::kSsh ||
                           m.type == MountType::kCache;
  if (!file_info_allowed) {
    const char* what = m.mode ? "mode" : m.uid ? "uid" : m.gid ? "gid" : "";
    if (*what != '\0') {
      return MakeError(Code::kParse, what, " not allowed for \"",
                       MountTypeName(m.type), "\" type mounts");
    }
  }
  if (ro_auto) {
    m.read_only = m.type != MountType::kCache && m.type != MountType::kTmpfs;
  }
  if (m.type == MountType::kSecret) {
    if (!m.from.empty()) {
      return base::Error(Code::kParse, "secret mount should not have a from");
    }
    if (m.cache_sharing != ShareMode::kUnset) {
      return base::Error(Code::kParse,
                         "secret mount should not define sharing");
    }
    if (m.source.empty() && m.target.empty() && m.cache_id.empty()) {
      return base::Error(Code::kParse,
                         "invalid secret mount. one of source, target "
                         "required");
    }
    if (!m.source.empty() && !m.cache_id.empty()) {
      return base::Error(Code::kParse, "both source and id can't be set");
    }
  }
  if (m.cache_sharing != ShareMode::kUnset && m.type != MountType::kCache) {
    return MakeError(Code::kParse, "invalid cache sharing set for ",
                     MountTypeName(m.type), " mount");
  }
  return base::OkStatus();
}

}  // namespace

std::string_view MountTypeName(MountType type) {
  switch (type) {
    case MountType::kBind:
      return "bind";
    case MountType::kCache:
      return "cache";
    case MountType::kTmpfs:
      return "tmpfs";
    case MountType::kSecret:
      return "secret";
    case MountType::kSsh:
      return "ssh";
  }
  return "";
}

std::string_view ShareModeName(ShareMode mode) {
  switch (mode) {
    case ShareMode::kUnset:
      return "";
    case ShareMode::kShared:
      return "shared";
    case ShareMode::kPrivate:
      return "private";
    case ShareMode::kLocked:
      return "locked";
  }
  return "";
}

base::Result<Mount> ParseMount(std::string_view value,
                               const WordExpander* expander) {
  auto fields = CsvFields(value);
  if (!fields) {
    return MakeError(Code::kParse,
                     "failed to parse csv mounts: ", fields.error().message());
  }
  Mount m;
  bool ro_auto = true;
  for (const std::string& field : *fields) {
    size_t eq = field.find('=');
    std::string key = base::GoToLower(std::string_view(field).substr(0, eq));
    if (eq == std::string::npos) {
      if (expander == nullptr) continue;  // evaluated when expanded
      STRATA_TRY(ApplyBareKey(m, ro_auto, key, field));
      continue;
    }
    std::string val = field.substr(eq + 1);
    if (expander != nullptr) {
      STRATA_ASSIGN_OR_RETURN(val, (*expander)(val));
    } else if (key == "from") {
      // Stage references are resolved before anything is expanded.
      size_t dollar = val.find('$');
      if (dollar != std::string::npos && dollar != val.size() - 1) {
        return base::Error(Code::kParse,
                           "'from' doesn't support variable expansion, "
                           "define alias stage instead");
      }
    } else {
      continue;  // evaluated when expanded
    }
    STRATA_TRY(ApplyMountField(m, ro_auto, key, val, field));
  }
  STRATA_TRY(CheckMount(m, ro_auto));
  return m;
}

base::Result<Device> ParseDevice(std::string_view value) {
  auto fields = CsvFields(value);
  if (!fields) {
    return MakeError(Code::kParse,
                     "failed to parse csv devices: ", fields.error().message());
  }
  Device d;
  for (const std::string& field : *fields) {
    size_t eq = field.find('=');
    std::string key = base::GoToLower(std::string_view(field).substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "required") {
        d.required = true;
      } else if (d.name.empty()) {
        d.name = field;
      } else {
        return MakeError(Code::kParse, "invalid field '", field,
                         "' must be a key=value pair");
      }
      continue;
    }
    std::string val = field.substr(eq + 1);
    if (key == "name") {
      if (!d.name.empty()) {
        return MakeError(Code::kParse, "device name already set to ", d.name);
      }
      d.name = val;
    } else if (key == "required") {
      if (!ii::ParseBool(val, &d.required)) return InvalidValue(key, val);
    } else if (d.name.empty()) {
      d.name = field;  // a CDI name may itself contain '='
    } else {
      return base::Error(Code::kParse,
                         WithSuggestion(base::StrCat("unexpected key '", key,
                                                     "' in '", field, "'"),
                                        key, {"name", "required"}, true));
    }
  }
  return d;
}

}  // namespace strata::dockerfile
