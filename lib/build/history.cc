#include "build/history.h"

#include <algorithm>

#include "base/go_quote.h"
#include "base/go_unicode.h"
#include "base/utf8.h"

namespace strata::build {

namespace {

// Go's fmtFrac/fmtInt as used by Duration.String: `v` split at `prec`
// decimal digits, trailing zeros (and a lone '.') dropped.
std::string Fraction(uint64_t v, int prec, uint64_t* rest) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  *rest = v;
  return print ? "." + digits : "";
}

}  // namespace

std::string GoDuration(int64_t ns) {
  if (ns == 0) return "0s";
  bool neg = ns < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(ns + 1)) + 1
                   : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000000000ULL) {
    // Below a second: the largest of ns, µs, ms that fits.
    uint64_t rest = 0;
    std::string frac;
    const char* unit;
    if (u < 1000ULL) {
      return (neg ? "-" : "") + std::to_string(u) + "ns";
    } else if (u < 1000000ULL) {
      frac = Fraction(u, 3, &rest);
      unit = "\xc2\xb5s";  // µs, as Go writes it
    } else {
      frac = Fraction(u, 6, &rest);
      unit = "ms";
    }
    return (neg ? "-" : "") + std::to_string(rest) + frac + unit;
  }
  uint64_t secs = 0;
  std::string frac = Fraction(u, 9, &secs);
  out = std::to_string(secs % 60) + frac + "s";
  uint64_t mins = secs / 60;
  if (mins > 0) {
    out = std::to_string(mins % 60) + "m" + out;
    uint64_t hours = mins / 60;
    if (hours > 0) out = std::to_string(hours) + "h" + out;
  }
  return (neg ? "-" : "") + out;
}

std::string GoQuoteRune(int64_t r) {
  char32_t c = r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)
                   ? base::kRuneError
                   : static_cast<char32_t>(r);
  std::string out = "'";
  switch (c) {
    case '\a': out += "\\a"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    case '\v': out += "\\v"; break;
    case '\\': out += "\\\\"; break;
    case '\'': out += "\\'"; break;
    default: {
      char buf[16];
      if (base::GoIsPrint(c)) {
        base::AppendRune(out, c);
      } else if (c < 0x80) {
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
        out += buf;
      } else if (c < 0x10000) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
        out += buf;
      } else {
        std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c));
        out += buf;
      }
    }
  }
  return out + "'";
}

std::string GoList(const std::vector<std::string>& items) {
  return "[" + base::Join(items, " ") + "]";
}

std::string HealthcheckHistory(const image::HealthConfig& h) {
  return base::StrCat("HEALTHCHECK &{", base::GoQuoteList(h.test), " ",
                      base::GoQuote(GoDuration(h.interval_ns)), " ",
                      base::GoQuote(GoDuration(h.timeout_ns)), " ",
                      base::GoQuote(GoDuration(h.start_period_ns)), " ",
                      base::GoQuote(GoDuration(h.start_interval_ns)), " ",
                      GoQuoteRune(h.retries), "}");
}

std::string ExposeHistory(std::vector<std::string> ports) {
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  std::string out = "EXPOSE map[";
  for (size_t i = 0; i < ports.size(); ++i) {
    if (i > 0) out += " ";
    out += ports[i] + ":{}";
  }
  return out + "]";
}

std::string RunCommandString(
    const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::optional<std::string>>>&
        args,
    const std::vector<std::pair<std::string, std::string>>& env) {
  // Later declarations of the same name replace the earlier value in place.
  std::vector<std::pair<std::string, std::string>> build_env;
  for (const auto& arg : args) {
    // Not a structured binding: clang 14 cannot capture those in lambdas.
    const std::string& key = arg.first;
    std::string v = arg.second.value_or("");
    for (const auto& [k, ev] : env) {
      if (k == key) v = ev;
    }
    auto it = std::find_if(build_env.begin(), build_env.end(),
                           [&](const auto& kv) { return kv.first == key; });
    if (it != build_env.end()) {
      it->second = v;
    } else {
      build_env.emplace_back(key, v);
    }
  }
  std::vector<std::string> parts;
  if (!build_env.empty()) {
    parts.push_back("|" + std::to_string(build_env.size()));
    for (const auto& [k, v] : build_env) parts.push_back(k + "=" + v);
  }
  parts.insert(parts.end(), argv.begin(), argv.end());
  return base::Join(parts, " ");
}

image::History MakeHistory(std::string created_by, bool with_layer,
                           bool buildkit_suffix) {
  image::History h;
  h.created_by = std::move(created_by);
  if (buildkit_suffix) h.created_by += " # buildkit";
  h.comment = kHistoryComment;
  h.empty_layer = !with_layer;
  return h;
}

}  // namespace strata::build
