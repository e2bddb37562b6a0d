#include "base/result.h"

#include <cstdio>

namespace strata::base {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kParse:
      return "parse";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kIo:
      return "i/o";
    case Code::kAuth:
      return "auth";
    case Code::kNetwork:
      return "network";
    case Code::kDigestMismatch:
      return "digest mismatch";
    case Code::kUnsupported:
      return "unsupported";
    case Code::kCancelled:
      return "cancelled";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Error::ToString() const {
  std::string out;
  for (auto it = context_.rbegin(); it != context_.rend(); ++it) {
    StrAppend(out, *it, ": ");
  }
  if (!file_.empty()) {
    StrAppend(out, file_);
    if (line_ > 0) StrAppend(out, ":", line_);
    StrAppend(out, ": ");
  }
  StrAppend(out, message_);
  return out;
}

void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "strata: internal check failed: %s at %s:%d\n", cond,
               file, line);
  std::abort();
}

}  // namespace strata::base
