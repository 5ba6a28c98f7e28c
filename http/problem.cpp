#include "http/problem.hpp"

#include <nlohmann/json.hpp>

#include "domain/order.hpp"

namespace troupe::http {

namespace {
Problem make(int status, const char* kind, const char* title, bool retry = false) {
  return Problem{status, std::string("urn:troupe:problem:") + kind, title, retry};
}
}  // namespace

Problem problem_for(domain::ErrorKind kind) {
  using K = domain::ErrorKind;
  switch (kind) {
    case K::invalid_input: return make(400, "invalid-input", "Invalid input");
    case K::not_found: return make(404, "not-found", "Not found");
    case K::unavailable: return make(409, "not-available", "Not available");
    case K::conflict: return make(409, "conflict", "Conflict with the current state");
    case K::payment_declined: return make(402, "payment-declined", "Payment declined");
    case K::payment_unavailable:
      return make(503, "payment-unavailable", "Payment unavailable, try again later", true);
    case K::store_unavailable:
      return make(503, "store-unavailable", "Storage unavailable, try again later", true);
    case K::timeout: return make(504, "timeout", "The request timed out");
    case K::retry: return make(503, "retry", "Temporarily unavailable, try again", true);
    case K::internal: return make(500, "internal", "Internal error");
  }
  return make(500, "internal", "Internal error");
}

Problem problem_for_status(int status) {
  switch (status) {
    case 400: return make(400, "bad-request", "Bad request");
    case 404: return make(404, "no-such-route", "No such route");
    case 405: return make(405, "method-not-allowed", "Method not allowed");
    case 408: return make(408, "request-timeout", "Request timeout");
    case 413: return make(413, "payload-too-large", "Payload too large");
    case 414: return make(414, "uri-too-long", "URI too long");
    case 415: return make(415, "unsupported-media-type", "Unsupported media type");
    case 416: return make(416, "range-not-satisfiable", "Range not satisfiable");
    case 503: return make(503, "not-ready", "Not ready", true);
    default: break;
  }
  if (status >= 500) return make(status, "internal", "Internal error");
  return make(status, "bad-request", "Bad request");
}

Problem idempotency_in_progress() {
  return make(409, "idempotency-key-in-use",
              "A request with this Idempotency-Key is still being processed", true);
}

Problem idempotency_key_reused() {
  return make(422, "idempotency-key-reused",
              "This Idempotency-Key was already used for a different request");
}

std::string problem_body(const Problem& p, const std::string& detail, const std::string& subject) {
  nlohmann::json j = {{"type", p.type}, {"title", p.title}, {"status", p.status},
                      {"detail", detail}};
  if (!subject.empty()) {
    j["orderId"] = subject;
    j["paymentId"] = domain::payment_id_for(subject);
  }
  return j.dump();
}

}  // namespace troupe::http
