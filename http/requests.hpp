#pragma once
/// Strict decoding of REST request bodies into domain values.
///
/// Rules (one place, so every endpoint behaves alike): the body must be a JSON
/// object; unknown fields are refused (a typo must not silently book the
/// wrong thing); numbers must be JSON integers (3.0, "3" and 1e30 are
/// refused); ids follow domain::is_valid_client_id; times are RFC 3339.
/// Every failure is invalid_input naming the field.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "domain/resource.hpp"
#include "domain/time.hpp"

namespace troupe::http {

domain::Result<domain::ResourceSpec> parse_resource(std::string_view body);

struct OrderInput {
  std::string resource_id;
  std::string customer_id;
  std::optional<std::int64_t> quantity;
  std::optional<domain::Timestamp> start;
  std::optional<domain::Timestamp> end;
  std::optional<std::string> destination;  ///< dispatch mode
  std::optional<std::int64_t> fee;         ///< dispatch mode
};

/// `canonical`, when given, receives the body's canonical JSON (for an
/// Idempotency-Key's fingerprint: the body is parsed once).
domain::Result<OrderInput> parse_order(std::string_view body, std::string* canonical = nullptr);

struct StepInput {
  std::string step;
  std::string rider_id;  ///< delivery calls: who accepts
};

/// {"step": "packed"} or {"step": "accepted", "riderId": "rider-7"}.
domain::Result<StepInput> parse_step(std::string_view body);

/// Checks an order against its resource's mode (which fields it needs) and
/// the clock: a calendar window must be non-empty and not already over.
domain::Status check_order_for(const OrderInput& in, const domain::ResourceSpec& r,
                               domain::Timestamp now);

/// Opaque list cursors (hex of the last id seen).
std::string encode_cursor(const std::string& last_id);
domain::Result<std::string> decode_cursor(std::string_view cursor);

/// A list's `limit` query parameter: an integer 1..500.
domain::Result<size_t> parse_limit(std::string_view s);

/// GET /v1/orders cursors: opaque, they hold the first event id of the last
/// order of the page (views::OrderPage).
std::string encode_order_cursor(std::uint64_t after);
domain::Result<std::uint64_t> decode_order_cursor(std::string_view cursor);

}  // namespace troupe::http
