// Errors as values. Every fallible operation returns Result<T>; the ErrorKind decides what the
// Argo agent is told: Transient -> HTTP 503 (the agent retries), everything else fails the step
// (or, for a malformed request, answers 400).
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace wwp {

enum class ErrorKind {
  InvalidRequest,  // the request or template is malformed: 400 / Failed step naming the field
  Failed,          // permanent: the step fails with the message
  NotFound,        // a module, artifact or object does not exist (permanent)
  Transient,       // a dependency is down or overloaded: 503 so the agent retries
  LimitExceeded,   // a configured limit was hit (permanent)
};

struct Error {
  ErrorKind kind = ErrorKind::Failed;
  std::string message;

  // Prefixes the message with where the error happened: "module hello.wasm: <message>".
  [[nodiscard]] Error context(std::string_view where) const {
    return Error{kind, std::string(where) + ": " + message};
  }
  [[nodiscard]] bool transient() const { return kind == ErrorKind::Transient; }
};

inline Error invalid(std::string message) {
  return {ErrorKind::InvalidRequest, std::move(message)};
}
inline Error failed(std::string message) { return {ErrorKind::Failed, std::move(message)}; }
inline Error not_found(std::string message) { return {ErrorKind::NotFound, std::move(message)}; }
inline Error transient(std::string message) { return {ErrorKind::Transient, std::move(message)}; }
inline Error limit_exceeded(std::string message) {
  return {ErrorKind::LimitExceeded, std::move(message)};
}

struct Ok {};

// A value or an Error. Small on purpose: construct from either, test with `if (!r)`, read with
// `*r` / `r->`, and take the error with `r.error()`.
template <class T = Ok>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT(implicit)
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  [[nodiscard]] bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(value()); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::move(std::get<0>(state_));
  }
  [[nodiscard]] const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

}  // namespace wwp

#define WWP_CONCAT_INNER_(a, b) a##b
#define WWP_CONCAT_(a, b) WWP_CONCAT_INNER_(a, b)

// Propagates an error from an expression returning Result<...>; for statements only.
#define WWP_TRY(expr)                 \
  do {                                \
    auto wwp_try_result_ = (expr);    \
    if (!wwp_try_result_) {           \
      return wwp_try_result_.error(); \
    }                                 \
  } while (false)

// Evaluates `expr` (a Result<T>), returns its error from the enclosing function, or else moves
// the value into `decl`:  WWP_TRY_ASSIGN(auto bytes, read_file(path));
// `decl` is declared in the enclosing scope, so this is a statement, not an expression.
#define WWP_TRY_ASSIGN(decl, ...) \
  WWP_TRY_ASSIGN_IMPL_(WWP_CONCAT_(wwp_try_, __LINE__), decl, __VA_ARGS__)
#define WWP_TRY_ASSIGN_IMPL_(tmp, decl, ...) \
  auto tmp = (__VA_ARGS__);                  \
  if (!tmp) return tmp.error();              \
  decl = std::move(*tmp)
