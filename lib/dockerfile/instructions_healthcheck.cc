// HEALTHCHECK: BuildKit's parseHealthcheck and parseOptInterval.
#include "base/go_unicode.h"
#include "base/str.h"
#include "dockerfile/instructions_internal.h"
#include "dockerfile/instructions_parse_internal.h"

namespace strata::dockerfile::parse_internal {
namespace {

using base::Code;
using base::MakeError;
namespace ii = instr_internal;

// Docker's minimum for health-check durations (container.MinimumDuration).
constexpr int64_t kMinimumDuration = 1000000;  // 1ms

// parseOptInterval: "" and 0 mean unset; otherwise at least 1ms.
base::Result<int64_t> ParseOptInterval(const BFlags::Flag& flag) {
  if (flag.value.empty()) return int64_t{0};
  STRATA_ASSIGN_OR_RETURN(int64_t d, ii::ParseDuration(flag.value));
  if (d == 0) return int64_t{0};
  if (d < kMinimumDuration) {
    return MakeError(Code::kParse, "Interval ", ii::Quote(flag.name),
                     " cannot be less than 1ms");
  }
  return d;
}

}  // namespace

base::Result<Command> ParseHealthcheck(Request& req) {
  if (req.args.empty()) return ErrAtLeastOneArgument("HEALTHCHECK");
  auto cmd = req.Make<HealthCheckCommand>();
  std::string type = base::GoToUpper(req.args[0]);
  std::vector<std::string> rest(req.args.begin() + 1, req.args.end());
  if (type == "NONE") {
    // Flags are not even looked at for NONE.
    if (!rest.empty()) {
      return base::Error(Code::kParse, "HEALTHCHECK NONE takes no arguments");
    }
    cmd.health.test = {type};
    return Command(std::move(cmd));
  }
  BFlags::Flag* interval = req.flags.AddString("interval", "");
  BFlags::Flag* timeout = req.flags.AddString("timeout", "");
  BFlags::Flag* start_period = req.flags.AddString("start-period", "");
  BFlags::Flag* start_interval = req.flags.AddString("start-interval", "");
  BFlags::Flag* retries = req.flags.AddString("retries", "");
  STRATA_TRY(req.flags.Parse());

  if (type != "CMD") {
    return MakeError(Code::kParse, "Unknown type ", ii::Quote(type),
                     " in HEALTHCHECK (try CMD)");
  }
  // handleJSONArgs on the words after CMD.
  if (rest.empty()) {
    return base::Error(Code::kParse, "Missing command after HEALTHCHECK CMD");
  }
  if (!req.node.json) {
    rest = {base::Join(rest, " ")};
    type = "CMD-SHELL";
  }
  cmd.health.test.push_back(type);
  cmd.health.test.insert(cmd.health.test.end(), rest.begin(), rest.end());

  STRATA_ASSIGN_OR_RETURN(cmd.health.interval, ParseOptInterval(*interval));
  STRATA_ASSIGN_OR_RETURN(cmd.health.timeout, ParseOptInterval(*timeout));
  STRATA_ASSIGN_OR_RETURN(cmd.health.start_period,
                          ParseOptInterval(*start_period));
  STRATA_ASSIGN_OR_RETURN(cmd.health.start_interval,
                          ParseOptInterval(*start_interval));
  if (!retries->value.empty()) {
    int64_t n = 0;
    ii::NumError err = ii::ParseInt(retries->value, 10, 32, &n);
    if (err != ii::NumError::kNone) {
      return base::Error(Code::kParse,
                         ii::NumErrorText("ParseInt", retries->value, err));
    }
    if (n < 0) {
      return MakeError(Code::kParse, "--retries cannot be negative (", n, ")");
    }
    cmd.health.retries = static_cast<int>(n);
  }
  return Command(std::move(cmd));
}

}  // namespace strata::dockerfile::parse_internal
