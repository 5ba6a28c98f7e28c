#pragma once
/// problem+json (RFC 9457) bodies with a stable `type` per error kind.

#include <string>

#include "domain/error.hpp"

namespace troupe::http {

struct Problem {
  int status = 500;
  std::string type;   ///< urn:troupe:problem:<kind>, stable
  std::string title;
  bool retry_after = false;  ///< send Retry-After (transient 503s)
};

Problem problem_for(domain::ErrorKind kind);
/// For errors raised by the HTTP layer itself (413, 405, route 404, …).
Problem problem_for_status(int status);

/// Idempotency-Key answers (http/idempotency.hpp): the first request with
/// the key still runs (409, Retry-After), the key was used for another
/// request (422).
Problem idempotency_in_progress();
Problem idempotency_key_reused();

/// The JSON text of a problem; `subject` (an order id) adds orderId/paymentId.
std::string problem_body(const Problem& p, const std::string& detail,
                         const std::string& subject = {});

inline constexpr const char* problem_content_type = "application/problem+json";

}  // namespace troupe::http
