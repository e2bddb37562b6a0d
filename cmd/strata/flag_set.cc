#include "flag_set.h"

#include <algorithm>

namespace strata::cli {

using base::Code;
using base::MakeError;

void FlagSet::Bool(std::string name, char short_name, bool* out,
                   std::string help) {
  flags_.push_back({std::move(name), short_name, Kind::kBool, out, "",
                    std::move(help), nullptr});
}

void FlagSet::String(std::string name, char short_name, std::string* out,
                     std::string value_name, std::string help,
                     Validator validate) {
  flags_.push_back({std::move(name), short_name, Kind::kString, out,
                    std::move(value_name), std::move(help),
                    std::move(validate)});
}

void FlagSet::StringList(std::string name, char short_name,
                         std::vector<std::string>* out, std::string value_name,
                         std::string help, Validator validate) {
  flags_.push_back({std::move(name), short_name, Kind::kStringList, out,
                    std::move(value_name), std::move(help),
                    std::move(validate)});
}

const FlagSet::Flag* FlagSet::FindLong(std::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FlagSet::Flag* FlagSet::FindShort(char c) const {
  for (const Flag& f : flags_) {
    if (f.short_name != 0 && f.short_name == c) return &f;
  }
  return nullptr;
}

base::Status FlagSet::Set(const Flag& flag, const std::string& shown,
                          const std::string& value) const {
  if (flag.kind == Kind::kBool) {
    bool b;
    if (value == "true" || value == "1") {
      b = true;
    } else if (value == "false" || value == "0") {
      b = false;
    } else {
      return MakeError(Code::kInvalidArgument, "invalid argument \"", value,
                       "\" for \"", shown, "\" flag: expected true or false");
    }
    *static_cast<bool*>(flag.out) = b;
    return base::OkStatus();
  }
  if (flag.validate) {
    base::Status st = flag.validate(value);
    if (!st) {
      return MakeError(Code::kInvalidArgument, "invalid argument \"", value,
                       "\" for \"", shown, "\" flag: ", st.error().message());
    }
  }
  if (flag.kind == Kind::kString) {
    *static_cast<std::string*>(flag.out) = value;
  } else {
    static_cast<std::vector<std::string>*>(flag.out)->push_back(value);
  }
  return base::OkStatus();
}

base::Result<std::vector<std::string>> FlagSet::Parse(
    const std::vector<std::string>& args) const {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);  // includes "-" (stdin)
      continue;
    }
    if (arg[1] == '-') {
      size_t eq = arg.find('=');
      std::string name = arg.substr(2, eq == std::string::npos ? eq : eq - 2);
      const Flag* flag = FindLong(name);
      if (flag == nullptr) {
        return MakeError(Code::kInvalidArgument, "unknown flag: --", name);
      }
      std::string shown = "--" + name;
      if (eq != std::string::npos) {
        STRATA_TRY(Set(*flag, shown, arg.substr(eq + 1)));
      } else if (flag->kind == Kind::kBool) {
        STRATA_TRY(Set(*flag, shown, "true"));
      } else if (i + 1 < args.size()) {
        STRATA_TRY(Set(*flag, shown, args[++i]));
      } else {
        return MakeError(Code::kInvalidArgument,
                         "flag needs an argument: ", shown);
      }
      continue;
    }
    // One or more short flags: bools may be grouped, and the first flag
    // that takes a value consumes the rest of the word or the next word.
    for (size_t j = 1; j < arg.size(); ++j) {
      const Flag* flag = FindShort(arg[j]);
      if (flag == nullptr) {
        return MakeError(Code::kInvalidArgument, "unknown shorthand flag: '",
                         arg[j], "' in ", arg);
      }
      std::string shown = std::string("-") + arg[j];
      if (flag->kind == Kind::kBool) {
        if (j + 1 < arg.size() && arg[j + 1] == '=') {
          STRATA_TRY(Set(*flag, shown, arg.substr(j + 2)));
          break;
        }
        STRATA_TRY(Set(*flag, shown, "true"));
        continue;
      }
      if (j + 1 < arg.size()) {
        std::string value = arg.substr(j + 1);
        if (value[0] == '=') value.erase(0, 1);
        STRATA_TRY(Set(*flag, shown, value));
      } else if (i + 1 < args.size()) {
        STRATA_TRY(Set(*flag, shown, args[++i]));
      } else {
        return MakeError(Code::kInvalidArgument,
                         "flag needs an argument: '", arg[j], "' in ", shown);
      }
      break;
    }
  }
  return positional;
}

namespace {
// Longer flag columns get their description on the next line.
constexpr size_t kMaxFlagColumn = 36;
}  // namespace

std::string FlagSet::Help() const {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const Flag& f : flags_) {
    std::string left =
        f.short_name ? base::StrCat("  -", f.short_name, ", --", f.name)
                     : base::StrCat("      --", f.name);
    if (!f.value_name.empty()) base::StrAppend(left, " ", f.value_name);
    if (left.size() <= kMaxFlagColumn) width = std::max(width, left.size());
    rows.emplace_back(std::move(left), f.help);
  }
  std::string out;
  for (const auto& [left, help] : rows) {
    if (left.size() > width) {
      // One long flag must not push every description off the screen.
      base::StrAppend(out, left, "\n", std::string(width + 3, ' '), help,
                      "\n");
      continue;
    }
    base::StrAppend(out, left, std::string(width - left.size() + 3, ' '),
                    help, "\n");
  }
  return out;
}

}  // namespace strata::cli
