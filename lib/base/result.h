// Result<T> and Status: strata's error model (see STYLE.md, "Errors").
//
// Failures in a builder are routine (parse errors, cache misses, 401s), so
// they travel as values. Result<T> copies the member names of C++23's
// std::expected so it can become an alias once the toolchain allows it.
#ifndef STRATA_BASE_RESULT_H_
#define STRATA_BASE_RESULT_H_

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/str.h"

namespace strata::base {

/// What kind of failure an Error is; callers branch on it.
enum class Code {
  kParse,
  kInvalidArgument,
  kNotFound,
  kIo,
  kAuth,
  kNetwork,
  kDigestMismatch,
  kUnsupported,
  kCancelled,
  kInternal,
};

/// Short lower-case name of a code ("parse", "not found", ...).
std::string_view CodeName(Code code);

/// A failure: a code, a message, an optional file:line and a context chain.
class Error {
 public:
  Error(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& file() const { return file_; }
  int line() const { return line_; }

  /// Attaches a source location; ToString() then starts with "file:line: ".
  Error& At(std::string file, int line) & {
    file_ = std::move(file);
    line_ = line;
    return *this;
  }
  Error&& At(std::string file, int line) && {
    return std::move(At(file, line));
  }

  /// Adds an outer context ("pushing app:v1"); shown outermost first.
  Error& WithContext(std::string context) & {
    context_.push_back(std::move(context));
    return *this;
  }
  Error&& WithContext(std::string context) && {
    return std::move(WithContext(std::move(context)));
  }

  /// Marks a transient failure that a caller may retry.
  Error& SetRetryable(bool retryable = true) & {
    retryable_ = retryable;
    return *this;
  }
  Error&& SetRetryable(bool retryable = true) && {
    return std::move(SetRetryable(retryable));
  }
  bool IsRetryable() const { return retryable_; }

  /// One line for users: "ctx: file:line: message" (each part optional).
  std::string ToString() const;

 private:
  Code code_;
  std::string message_;
  std::string file_;
  int line_ = 0;
  std::vector<std::string> context_;
  bool retryable_ = false;
};

/// Builds an Error whose message is StrCat(parts...).
template <typename... Parts>
Error MakeError(Code code, const Parts&... parts) {
  return Error(code, StrCat(parts...));
}

/// Either a T or an Error. Must be checked ([[nodiscard]]).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : data_(value) {}        // NOLINT: implicit by design
  Result(T&& value) : data_(std::move(value)) {}  // NOLINT
  Result(Error error) : data_(std::move(error)) {}  // NOLINT
  template <typename U>
  requires(std::is_constructible_v<T, U&&> &&
           !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Error> &&
           !std::is_same_v<std::decay_t<U>, Result>) Result(U&& value)
      : data_(T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return Get(); }
  const T& value() const& { return Get(); }
  T&& value() && { return std::move(Get()); }
  T& operator*() & { return Get(); }
  const T& operator*() const& { return Get(); }
  T&& operator*() && { return std::move(Get()); }
  T* operator->() { return &Get(); }
  const T* operator->() const { return &Get(); }
  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? Get() : T(std::forward<U>(fallback));
  }

  const Error& error() const& { return GetError(); }
  Error&& error() && { return std::move(GetError()); }

 private:
  T& Get() {
    if (!has_value()) Die();
    return std::get<0>(data_);
  }
  const T& Get() const {
    if (!has_value()) Die();
    return std::get<0>(data_);
  }
  Error& GetError() {
    if (has_value()) Die();
    return std::get<1>(data_);
  }
  const Error& GetError() const {
    if (has_value()) Die();
    return std::get<1>(data_);
  }
  [[noreturn]] static void Die() { std::abort(); }

  std::variant<T, Error> data_;
};

/// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const {
    if (!has_value()) std::abort();
  }
  const Error& error() const& {
    if (has_value()) std::abort();
    return *error_;
  }
  Error&& error() && {
    if (has_value()) std::abort();
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

/// The successful Status.
inline Status OkStatus() { return Status(); }

}  // namespace strata::base

#define STRATA_CONCAT_INNER_(a, b) a##b
#define STRATA_CONCAT_(a, b) STRATA_CONCAT_INNER_(a, b)

/// Evaluates a Result/Status expression and returns its Error on failure.
#define STRATA_TRY(expr)                            \
  do {                                              \
    auto strata_try_result_ = (expr);               \
    if (!strata_try_result_.has_value())            \
      return std::move(strata_try_result_).error(); \
  } while (0)

/// `STRATA_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or
/// returns its Error.
#define STRATA_ASSIGN_OR_RETURN(lhs, expr)                                  \
  STRATA_ASSIGN_OR_RETURN_IMPL_(STRATA_CONCAT_(strata_aor_, __LINE__), lhs, \
                                expr)
#define STRATA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)  \
  auto tmp = (expr);                                   \
  if (!tmp.has_value()) return std::move(tmp).error(); \
  lhs = std::move(tmp).value()

/// Aborts with a message when an invariant is broken (a bug, not an input).
#define STRATA_CHECK(cond)                                               \
  do {                                                                   \
    if (!(cond)) ::strata::base::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace strata::base {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace strata::base

#endif  // STRATA_BASE_RESULT_H_
