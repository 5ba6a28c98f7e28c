#pragma once
/// The order aggregate, its saga lifecycle and its payment.
///
///   placed --hold ok--> held --charged--> paid --durable--> confirmed
///     |                  |                 |                   |
///     +--refused-->  rejected  <--declined-+--compensated      +--cancel--> cancelled
///
/// `rejected` and `cancelled` are terminal. Every transition appends
/// `{status, at}` to the history; an illegal transition is a conflict and
/// changes nothing.
///
/// After confirmation an order advances through its resource's fulfillment
/// steps, in order (advance_step): its status is then the last step reached.
/// A delivery call (dispatch mode) is `called` once confirmed (its fee
/// authorized), and its rider is named by the step `accepted`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "domain/resource.hpp"
#include "domain/time.hpp"

namespace troupe::domain {

enum class OrderPhase : std::uint8_t { placed, held, paid, confirmed, rejected, cancelled };
enum class PaymentStatus : std::uint8_t { none, authorized, captured, voided, refunded, declined };

const char* to_string(OrderPhase p);
const char* to_string(PaymentStatus s);
Result<OrderPhase> parse_order_phase(std::string_view s);
Result<PaymentStatus> parse_payment_status(std::string_view s);

struct StatusChange {
  std::string status;
  Timestamp at = 0;
  friend bool operator==(const StatusChange& a, const StatusChange& b) {
    return a.status == b.status && a.at == b.at;
  }
};

struct Payment {
  std::string id;
  std::string order_id;
  Money amount = 0;
  PaymentStatus status = PaymentStatus::none;
  std::vector<StatusChange> history;
};

/// Moves a payment to `to`, recording it. Legal: none->authorized|declined,
/// authorized->captured|voided, captured->refunded. Otherwise conflict.
Status advance(Payment& p, PaymentStatus to, Timestamp at);

struct Order {
  std::string id;
  std::string resource_id;
  std::string customer_id;
  Mode mode = Mode::capacity;
  OrderPhase phase = OrderPhase::placed;
  Money amount = 0;
  std::int64_t quantity = 0;   ///< capacity mode
  Timestamp start = 0;         ///< calendar mode
  Timestamp end = 0;           ///< calendar mode
  Timestamp created_at = 0;
  std::string reason;          ///< why it was rejected, if it was
  std::string step;            ///< last fulfillment step reached ("" = none)
  std::string destination;     ///< dispatch mode: where the delivery goes
  std::string rider_id;        ///< dispatch mode: the rider, once accepted
  std::vector<StatusChange> history;
  Payment payment;

  /// The public status: the phase, or once confirmed the last step reached
  /// (`called` for a delivery call without steps yet).
  std::string status() const;
  bool is_terminal() const {
    return phase == OrderPhase::rejected || phase == OrderPhase::cancelled;
  }
  /// True while the order occupies capacity or a window at its resource.
  bool occupies_resource() const { return phase == OrderPhase::confirmed; }
};

/// Creates a placed order; history starts with `placed` at `now`.
Order place(std::string id, std::string resource_id, std::string customer_id, Mode mode,
            Timestamp now);

/// Applies a saga transition (see the diagram above).
Status advance(Order& o, OrderPhase to, Timestamp at);

/// Advances a confirmed order to `step`, the next of `steps` (its resource's
/// ordered fulfillment steps), recording it in the history.
/// invalid_input: `step` is not one of `steps`; conflict: the order is not
/// confirmed, or `step` is not the next one.
Status advance_step(Order& o, const std::vector<std::string>& steps, const std::string& step,
                    Timestamp at);

/// The step from which an order of `r` can no longer be cancelled: appliance
/// `delivered`, car `picked_up`, room `checked_in`, delivery call `picked`;
/// otherwise the last step. Empty: no steps, always cancellable.
std::string point_of_no_return(const ResourceSpec& r);

/// Whether a confirmed order may be cancelled now (conflict, saying why, if
/// not).
Status check_cancellable(const Order& o, const ResourceSpec& r);

/// Whether reaching `step` ends what the order occupies at `r` (calendar
/// mode: the last step — a checked-out room, a returned car — frees the
/// rest of the window).
bool step_frees_resource(const ResourceSpec& r, const std::string& step);

/// Whether `o` (as stored) takes something at `r`: its own resource while
/// confirmed (until a freeing step), or — a delivery call — its rider
/// between `accepted` and `completed`.
bool occupies(const Order& o, const ResourceSpec& r);

/// The payment id belonging to an order (one payment per order).
std::string payment_id_for(std::string_view order_id);
/// The order id a payment id belongs to; empty when it is not a payment id.
std::string order_id_for_payment(std::string_view payment_id);

}  // namespace troupe::domain
