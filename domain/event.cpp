#include "domain/event.hpp"

#include "domain/fields.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace troupe::domain {

using nlohmann::json;

namespace {

struct Pending {
  Timestamp at;
  int rank;
  const char* type;
  std::string step;  ///< for StepAdvanced
};

/// Where an order history entry goes (rank for ties) and which event it is.
bool from_order_entry(const std::string& status, int& rank, const char*& type) {
  if (status == "placed") { rank = 0; type = event_type::order_placed; return true; }
  if (status == "held") { rank = 1; type = event_type::resource_held; return true; }
  if (status == "confirmed" || status == "called") {
    rank = 5;
    type = event_type::order_confirmed;
    return true;
  }
  if (status == "cancelled") { rank = 5; type = event_type::order_cancelled; return true; }
  if (status == "rejected") { rank = 9; type = event_type::order_rejected; return true; }
  if (status == "paid") return false;  // told by the payment events
  rank = 5;  // a fulfillment step
  type = event_type::step_advanced;
  return true;
}

bool from_payment_entry(const std::string& status, int& rank, const char*& type) {
  if (status == "authorized") { rank = 2; type = event_type::payment_authorized; return true; }
  if (status == "captured") { rank = 3; type = event_type::payment_captured; return true; }
  if (status == "declined") { rank = 3; type = event_type::payment_declined; return true; }
  if (status == "voided") { rank = 7; type = event_type::payment_voided; return true; }
  if (status == "refunded") { rank = 7; type = event_type::payment_refunded; return true; }
  return false;
}

bool was_held(const Order& o) {
  return std::any_of(o.history.begin(), o.history.end(),
                     [](const StatusChange& c) { return c.status == "held"; });
}

}  // namespace

std::vector<Event> events_between(const Order& before, const Order& after) {
  std::vector<Pending> pending;
  for (size_t i = before.history.size(); i < after.history.size(); ++i) {
    const auto& c = after.history[i];
    int rank = 0;
    const char* type = nullptr;
    if (!from_order_entry(c.status, rank, type)) continue;
    pending.push_back({c.at, rank, type, type == std::string(event_type::step_advanced) ? c.status : ""});
    // Ending a booking or a hold gives the resource back.
    if (c.status == "cancelled" || (c.status == "rejected" && was_held(after)))
      pending.push_back({c.at, 6, event_type::resource_released, ""});
  }
  for (size_t i = before.payment.history.size(); i < after.payment.history.size(); ++i) {
    const auto& c = after.payment.history[i];
    int rank = 0;
    const char* type = nullptr;
    if (from_payment_entry(c.status, rank, type)) pending.push_back({c.at, rank, type, ""});
  }
  // Business order, not clock order: the wall clock may step back between
  // two entries of one change.
  std::stable_sort(pending.begin(), pending.end(),
                   [](const Pending& a, const Pending& b) { return a.rank < b.rank; });
  std::vector<Event> out;
  out.reserve(pending.size());
  for (const auto& p : pending) {
    Event e;
    e.type = p.type;
    e.order_id = after.id;
    e.resource_id = after.resource_id;
    e.customer_id = after.customer_id;
    e.at = p.at;
    e.status = after.status();
    e.amount = after.amount;
    e.payment_id = after.payment.id;
    e.payment_status = to_string(after.payment.status);
    if (p.type == std::string(event_type::order_rejected)) e.detail = after.reason;
    if (!p.step.empty()) e.detail = p.step;
    // A cancellation tells how far fulfillment had gone (e.g. "shipped").
    if (p.type == std::string(event_type::order_cancelled)) e.detail = before.step;
    out.push_back(std::move(e));
  }
  return out;
}

json to_json(const Event& e) {
  json j = {{"type", e.type},       {"orderId", e.order_id},   {"resourceId", e.resource_id},
            {"customerId", e.customer_id}, {"at", format_rfc3339(e.at)}, {"status", e.status},
            {"amount", e.amount},   {"paymentId", e.payment_id},
            {"paymentStatus", e.payment_status}};
  if (!e.detail.empty()) j["detail"] = e.detail;
  return j;
}

Result<Event> event_from_json(const json& j, std::uint64_t seq) {
  auto bad = [](const char* f) {
    return make_error(ErrorKind::invalid_input, std::string("event field '") + f + "' is missing or invalid");
  };
  if (!j.is_object()) return bad("(object)");
  Event e;
  e.seq = seq;
  auto str = [&](const char* k, std::string& out) {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  if (!str("type", e.type)) return bad("type");
  if (!str("orderId", e.order_id)) return bad("orderId");
  if (!str("resourceId", e.resource_id)) return bad("resourceId");
  if (!str("customerId", e.customer_id)) return bad("customerId");
  std::string at;
  if (!str("at", at)) return bad("at");
  auto t = parse_rfc3339(at);
  if (!t) return bad("at");
  e.at = *t;
  str("status", e.status);
  str("paymentId", e.payment_id);
  str("paymentStatus", e.payment_status);
  str("detail", e.detail);
  if (auto it = j.find("amount"); it != j.end() && it->is_number_integer()) e.amount = it->get<Money>();
  return e;
}

std::string encode_event(const Event& e) {
  return fields::Writer("E1", 160)
    .add(e.type)
    .add(e.order_id)
    .add(e.resource_id)
    .add(e.customer_id)
    .add(e.at)
    .add(e.status)
    .add(e.amount)
    .add(e.payment_id)
    .add(e.payment_status)
    .add(e.detail)
    .take();
}

Result<Event> decode_event(std::string_view stored, std::uint64_t seq) {
  if (!stored.empty() && stored.front() == '{') {
    auto j = json::parse(stored.begin(), stored.end(), nullptr, false);
    if (j.is_discarded()) return make_error(ErrorKind::invalid_input, "event is not valid JSON");
    return event_from_json(j, seq);
  }
  fields::Reader r(stored);
  if (r.size() != 11 || r.text() != "E1")
    return make_error(ErrorKind::invalid_input, "event record has an unknown format");
  Event e;
  e.seq = seq;
  e.type = r.text();
  e.order_id = r.text();
  e.resource_id = r.text();
  e.customer_id = r.text();
  e.at = r.number();
  e.status = r.text();
  e.amount = r.number();
  e.payment_id = r.text();
  e.payment_status = r.text();
  e.detail = r.text();
  if (!r.ok()) return make_error(ErrorKind::invalid_input, "event record has an invalid field");
  if (e.type.empty() || e.order_id.empty())
    return make_error(ErrorKind::invalid_input, "event without type or order");
  return e;
}

}  // namespace troupe::domain
