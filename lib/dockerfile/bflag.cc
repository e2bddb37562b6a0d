#include "dockerfile/bflag.h"

#include <algorithm>

#include "base/go_unicode.h"
#include "base/str.h"
#include "dockerfile/instructions_internal.h"

namespace strata::dockerfile {

using base::Code;
using base::MakeError;

BFlags::BFlags(std::vector<std::string> args) : args_(std::move(args)) {}

BFlags::Flag* BFlags::Find(std::string_view name) {
  for (auto& flag : flags_) {
    if (flag->name == name) return flag.get();
  }
  return nullptr;
}

BFlags::Flag* BFlags::AddFlag(std::string_view name, Type type) {
  if (Find(name) != nullptr) {
    // bflag.go reports a definition mistake only when Parse() runs.
    setup_error_ = base::StrCat("Duplicate flag defined: ", name);
    return nullptr;
  }
  auto flag = std::make_unique<Flag>();
  flag->name = std::string(name);
  flag->type = type;
  flags_.push_back(std::move(flag));
  return flags_.back().get();
}

BFlags::Flag* BFlags::AddBool(std::string_view name, bool default_value) {
  Flag* flag = AddFlag(name, Type::kBool);
  if (flag != nullptr) flag->value = default_value ? "true" : "false";
  return flag;
}

BFlags::Flag* BFlags::AddString(std::string_view name,
                                std::string_view default_value) {
  Flag* flag = AddFlag(name, Type::kString);
  if (flag != nullptr) flag->value = std::string(default_value);
  return flag;
}

BFlags::Flag* BFlags::AddStrings(std::string_view name) {
  return AddFlag(name, Type::kStrings);
}

bool BFlags::IsUsed(std::string_view name) const {
  return std::find(used_.begin(), used_.end(), name) != used_.end();
}

base::Status BFlags::Parse() {
  if (!setup_error_.empty()) {
    return MakeError(Code::kInternal, "error setting up flags: ", setup_error_);
  }
  for (const std::string& a : args_) {
    // POSIX: the first "--" ends the options.
    if (a == "--") return base::OkStatus();
    if (!base::StartsWith(a, "--")) {
      return MakeError(Code::kParse, "arg should start with -- : ", a);
    }
    size_t eq = a.find('=');
    bool has_value = eq != std::string::npos;
    std::string flag_name = a.substr(0, eq);
    std::string value = has_value ? a.substr(eq + 1) : "";
    std::string arg = flag_name.substr(2);

    Flag* flag = Find(arg);
    if (flag == nullptr) {
      std::vector<std::string> names;
      for (const auto& f : flags_) names.push_back(f->name);
      return base::Error(
          Code::kParse,
          WithSuggestion(base::StrCat("unknown flag: ", flag_name), arg, names,
                         /*case_sensitive=*/true));
    }
    if (IsUsed(arg)) {
      if (flag->type != Type::kStrings) {
        return MakeError(Code::kParse, "duplicate flag specified: ", flag_name);
      }
    } else {
      used_.push_back(arg);
    }

    switch (flag->type) {
      case Type::kBool: {
        // "--link" alone means true, but "--link=" is missing its value.
        if (has_value && value.empty()) {
          return MakeError(Code::kParse,
                           "missing a value on flag: ", flag_name);
        }
        std::string lower = base::AsciiLower(value);
        if (lower == "true" || lower.empty()) {
          flag->value = "true";
        } else if (lower == "false") {
          flag->value = "false";
        } else {
          return MakeError(Code::kParse, "expecting boolean value for flag ",
                           flag_name, ", not: ", value);
        }
        break;
      }
      case Type::kString:
        if (!has_value) {
          return MakeError(Code::kParse,
                           "missing a value on flag: ", flag_name);
        }
        flag->value = value;
        break;
      case Type::kStrings:
        if (!has_value) {
          return MakeError(Code::kParse,
                           "missing a value on flag: ", flag_name);
        }
        flag->values.push_back(value);
        break;
    }
  }
  return base::OkStatus();
}

std::string SuggestMatch(std::string_view value,
                         const std::vector<std::string>& options,
                         bool case_sensitive) {
  std::string val =
      case_sensitive ? std::string(value) : base::GoToLower(value);
  std::string match;
  int min_dist = 3;  // same as hcl
  for (const std::string& option : options) {
    std::string opt = case_sensitive ? option : base::GoToLower(option);
    // An exact match means the error was not about this value.
    if (val == opt) return "";
    int dist = instr_internal::Levenshtein(val, opt);
    if (dist < min_dist) {
      match = opt;
      if (!case_sensitive) {
        // util/suggest matchCase: follow the case of what the user wrote.
        if (value == base::GoToLower(value)) {
          match = base::GoToLower(opt);
        } else if (value == base::GoToUpper(value)) {
          match = base::GoToUpper(opt);
        }
      }
      min_dist = dist;
    }
  }
  return match;
}

std::string WithSuggestion(std::string message, std::string_view value,
                           const std::vector<std::string>& options,
                           bool case_sensitive) {
  std::string match = SuggestMatch(value, options, case_sensitive);
  if (!match.empty()) base::StrAppend(message, " (did you mean ", match, "?)");
  return message;
}

}  // namespace strata::dockerfile
