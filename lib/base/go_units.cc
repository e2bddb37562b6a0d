#include "base/go_units.h"

#include <cstdio>
#include <iterator>

#include "base/str.h"

namespace strata::base {

std::string HumanSize(int64_t bytes, int precision) {
  static constexpr const char* kUnits[] = {"B",  "kB", "MB", "GB", "TB",
                                           "PB", "EB", "ZB", "YB"};
  double size = static_cast<double>(bytes);
  size_t unit = 0;
  while (size >= 1000.0 && unit + 1 < std::size(kUnits)) {
    size /= 1000.0;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g%s", precision, size, kUnits[unit]);
  return buf;
}

std::string HumanDuration(int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return base::StrCat(seconds, " seconds");
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return base::StrCat(minutes, " minutes");
  int64_t hours = (seconds + 1800) / 3600;  // Go's Round(time.Hour)
  if (hours == 1) return "About an hour";
  if (hours < 48) return base::StrCat(hours, " hours");
  if (hours < 24 * 7 * 2) return base::StrCat(hours / 24, " days");
  if (hours < 24 * 30 * 2) return base::StrCat(hours / 24 / 7, " weeks");
  if (hours < 24 * 365 * 2) return base::StrCat(hours / 24 / 30, " months");
  return base::StrCat(seconds / 3600 / 24 / 365, " years");
}

}  // namespace strata::base
