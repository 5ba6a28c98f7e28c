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
  o.history.push_back(
    {o.mode == Mode::dispatch && to == OrderPhase::confirmed ? "called" : to_string(to), at});
  return ok_status();
}

std::string Order::status() const {
  if (phase != OrderPhase::confirmed) return to_string(phase);
  if (!step.empty()) return step;
  return mode == Mode::dispatch ? "called" : "confirmed";
}

namespace {
/// Position of `step` in `steps`; -1 when absent ("" is before the first).
int index_of(const std::vector<std::string>& steps, const std::string& step) {
  if (step.empty()) return -1;
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i] == step) return static_cast<int>(i);
  return -2;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}
}  // namespace

Status advance_step(Order& o, const std::vector<std::string>& steps, const std::string& step,
                    Timestamp at) {
  const int want = index_of(steps, step);
  if (want < 0)
    return make_error(ErrorKind::invalid_input,
                      steps.empty() ? "this resource has no fulfillment steps"
                                    : "unknown step '" + step + "'; the steps are " + joined(steps));
  if (o.phase != OrderPhase::confirmed)
    return make_error(ErrorKind::conflict, "order " + o.id + " is " + o.status() +
                                               "; steps apply to confirmed orders");
  const int now = index_of(steps, o.step);
  if (want <= now)
    return make_error(ErrorKind::conflict, "order " + o.id + " is already " + o.status());
  if (want != now + 1)
    return make_error(ErrorKind::conflict, "step '" + step + "' must follow '" +
                                               steps[static_cast<size_t>(want - 1)] + "'");
  o.step = step;
  o.history.push_back({step, at});
  return ok_status();
}

std::string point_of_no_return(const ResourceSpec& r) {
  const char* named = r.mode == Mode::dispatch ? "picked"
                      : r.type == "appliance"  ? "delivered"
                      : r.type == "car"        ? "picked_up"
                      : (r.type == "room" || r.type == "hotel") ? "checked_in"
                                                                 : nullptr;
  if (named && index_of(r.steps, named) >= 0) return named;
  return r.steps.empty() ? std::string() : r.steps.back();
}

Status check_cancellable(const Order& o, const ResourceSpec& r) {
  if (o.phase != OrderPhase::confirmed)
    return make_error(ErrorKind::conflict,
                      "order " + o.id + " is " + o.status() + " and cannot be cancelled");
  const auto stop = point_of_no_return(r);
  if (!stop.empty() && index_of(r.steps, o.step) >= index_of(r.steps, stop))
    return make_error(ErrorKind::conflict, "order " + o.id + " is " + o.status() +
                                               " and can no longer be cancelled");
  return ok_status();
}

bool occupies(const Order& o, const ResourceSpec& r) {
  if (o.phase != OrderPhase::confirmed) return false;
  if (o.resource_id == r.id) return !step_frees_resource(r, o.step);
  return !o.rider_id.empty() && o.rider_id == r.id && !o.step.empty() && o.step != "completed";
}

bool step_frees_resource(const ResourceSpec& r, const std::string& step) {
  return r.mode == Mode::calendar && !r.steps.empty() && step == r.steps.back();
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
