#pragma once
/// Errors as values for the whole code base.
///
/// Every fallible operation returns `Result<T>` (or `Status` when there is no
/// value). An `Error` carries a stable `Kind` (which the HTTP bridge maps to a
/// status code and a problem `type`) and a human-readable detail.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace troupe::domain {

enum class ErrorKind : std::uint8_t {
  invalid_input = 1,     ///< malformed or out-of-range input (400)
  not_found,             ///< unknown resource/order/payment (404)
  unavailable,           ///< not enough seats, window taken (409)
  conflict,              ///< state does not allow it (409)
  payment_declined,      ///< the gateway said no (402)
  payment_unavailable,   ///< payment timed out or is down (503)
  store_unavailable,     ///< the store cannot make a change durable (503)
  timeout,               ///< an actor did not answer in time (504)
  retry,                 ///< transient (actor restarted mid-request) (503)
  internal,              ///< a bug (500)
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string detail;
  std::string subject;  ///< the id the error is about, when one exists (e.g. an order id)
};

inline Error make_error(ErrorKind kind, std::string detail, std::string subject = {}) {
  return Error{kind, std::move(detail), std::move(subject)};
}

/// A value or an Error. Small on purpose: C++17 has no std::expected.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace troupe::domain
