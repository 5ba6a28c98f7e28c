#include "domain/order.hpp"

namespace troupe::domain {

const char* to_string(OrderPhase p) {
  switch (p) {
    case OrderPhase::placed: return "placed";
    case OrderPhase::held: return "held";
    case OrderPhase::paid: return "paid";
    case OrderPhase::confirmed: return "confirmed";
    case OrderPhase::rejected: return "rejected";
    case OrderPhase::cancelled: return "cancelled";
  }
  return "placed";
}

const char* to_string(PaymentStatus s) {
  switch (s) {
    case PaymentStatus::none: return "none";
    case PaymentStatus::authorized: return "authorized";
    case PaymentStatus::captured: return "captured";
    case PaymentStatus::voided: return "voided";
    case PaymentStatus::refunded: return "refunded";
    case PaymentStatus::declined: return "declined";
  }
  return "none";
}

Result<OrderPhase> parse_order_phase(std::string_view s) {
  for (auto p : {OrderPhase::placed, OrderPhase::held, OrderPhase::paid, OrderPhase::confirmed,
                 OrderPhase::rejected, OrderPhase::cancelled})
    if (s == to_string(p)) return p;
  return make_error(ErrorKind::invalid_input, "unknown order status '" + std::string(s) + "'");
}

Result<PaymentStatus> parse_payment_status(std::string_view s) {
  for (auto p : {PaymentStatus::none, PaymentStatus::authorized, PaymentStatus::captured,
                 PaymentStatus::voided, PaymentStatus::refunded, PaymentStatus::declined})
    if (s == to_string(p)) return p;
  return make_error(ErrorKind::invalid_input, "unknown payment status '" + std::string(s) + "'");
}

namespace {

bool payment_step_allowed(PaymentStatus from, PaymentStatus to) {
  switch (from) {
    case PaymentStatus::none:
      return to == PaymentStatus::authorized || to == PaymentStatus::declined;
    case PaymentStatus::authorized:
      return to == PaymentStatus::captured || to == PaymentStatus::voided;
    case PaymentStatus::captured: return to == PaymentStatus::refunded;
    default: return false;
  }
}

bool order_step_allowed(OrderPhase from, OrderPhase to) {
  switch (from) {
    case OrderPhase::placed: return to == OrderPhase::held || to == OrderPhase::rejected;
    case OrderPhase::held: return to == OrderPhase::paid || to == OrderPhase::rejected;
    case OrderPhase::paid: return to == OrderPhase::confirmed || to == OrderPhase::rejected;
    case OrderPhase::confirmed: return to == OrderPhase::cancelled;
    default: return false;
  }
}

}  // namespace

Status advance(Payment& p, PaymentStatus to, Timestamp at) {
  if (!payment_step_allowed(p.status, to))
    return make_error(ErrorKind::conflict, std::string("payment cannot go from ") +
                                               to_string(p.status) + " to " + to_string(to));
  p.status = to;
  p.history.push_back({to_string(to), at});
  return ok_status();
}

Status advance(Order& o, OrderPhase to, Timestamp at) {
  if (!order_step_allowed(o.phase, to))
    return make_error(ErrorKind::conflict, std::string("order is ") + to_string(o.phase) +
                                               " and cannot become " + to_string(to));
  o.phase = to;
  o.history.push_back({to_string(to), at});
  return ok_status();
}

Order place(std::string id, std::string resource_id, std::string customer_id, Mode mode,
            Timestamp now) {
  Order o;
  o.payment.id = payment_id_for(id);
  o.payment.order_id = id;
  o.id = std::move(id);
  o.resource_id = std::move(resource_id);
  o.customer_id = std::move(customer_id);
  o.mode = mode;
  o.created_at = now;
  o.history.push_back({to_string(OrderPhase::placed), now});
  return o;
}

std::string payment_id_for(std::string_view order_id) {
  return "pay-" + std::string(order_id);
}

std::string order_id_for_payment(std::string_view payment_id) {
  if (payment_id.size() <= 4 || payment_id.substr(0, 4) != "pay-") return {};
  return std::string(payment_id.substr(4));
}

}  // namespace troupe::domain
