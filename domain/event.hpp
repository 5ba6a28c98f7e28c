#pragma once
/// Domain events: what happened to an order, in business words.
///
/// Events are derived from an order's state change (the entries its status
/// and payment histories gained), appended to the event log in the same
/// atomic write as the change itself, and consumed by the subscribers
/// (notifier, customer page, resource report). The order id is the
/// correlation key; `seq` (the eventId) is assigned when the event is
/// appended and is unique and increasing.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/order.hpp"

namespace troupe::domain {

namespace event_type {
inline constexpr const char* order_placed = "OrderPlaced";
inline constexpr const char* resource_held = "ResourceHeld";
inline constexpr const char* payment_authorized = "PaymentAuthorized";
inline constexpr const char* payment_captured = "PaymentCaptured";
inline constexpr const char* payment_declined = "PaymentDeclined";
inline constexpr const char* payment_voided = "PaymentVoided";
inline constexpr const char* payment_refunded = "PaymentRefunded";
inline constexpr const char* order_confirmed = "OrderConfirmed";
inline constexpr const char* order_rejected = "OrderRejected";
inline constexpr const char* order_cancelled = "OrderCancelled";
inline constexpr const char* resource_released = "ResourceReleased";
inline constexpr const char* step_advanced = "StepAdvanced";  ///< detail: the step
}  // namespace event_type

struct Event {
  std::uint64_t seq = 0;          ///< the eventId; 0 until appended
  std::string type;
  std::string order_id;
  std::string resource_id;
  std::string customer_id;
  Timestamp at = 0;
  std::string status;             ///< the order's status after the event
  Money amount = 0;               ///< the order's amount
  std::string payment_id;
  std::string payment_status;     ///< the payment's status after the event
  std::string detail;             ///< why rejected / the step / the step a cancellation interrupted
};

/// The events of the change `before` -> `after` (same order): one per
/// history entry `after` gained, in business order (placed, held,
/// authorized, captured/declined, confirmed/cancelled, released,
/// voided/refunded, rejected; a fulfillment step is StepAdvanced with the
/// step in `detail`) — never by timestamp, which a clock step could
/// reorder. `before` may be a never-stored order (empty histories): then
/// every entry counts.
std::vector<Event> events_between(const Order& before, const Order& after);

/// The stored form of an event (the log entry; mypage and report rows reuse
/// it verbatim): one line, tab-separated, `E1` first, then type, orderId,
/// resourceId, customerId, at (ms), status, amount, paymentId, paymentStatus,
/// detail — '\\', tab and newline escaped. About half the bytes of the JSON
/// and decoded without a JSON parser: the subscribers decode every event.
std::string encode_event(const Event& e);
/// `seq` from the caller (the log position). Also reads the JSON form that
/// stores written before the compact one hold.
Result<Event> decode_event(std::string_view stored, std::uint64_t seq);

/// The API form (webhooks, tests).
nlohmann::json to_json(const Event& e);
/// `seq` is taken from the caller (the log position), not from the JSON.
Result<Event> event_from_json(const nlohmann::json& j, std::uint64_t seq);

}  // namespace troupe::domain
