#include "domain/event.hpp"

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

namespace {

void put_field(std::string& out, const std::string& v) {
  out.push_back('\t');
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
}

/// Splits `s` at tabs and unescapes each field.
std::vector<std::string> split_fields(std::string_view s) {
  std::vector<std::string> out(1);
  out.reserve(11);
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\t') {
      out.emplace_back();
    } else if (c == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      out.back().push_back(n == 't' ? '\t' : n == 'n' ? '\n' : n);
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

bool to_int64(const std::string& s, std::int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  std::int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = s[0] == '-' ? -v : v;
  return true;
}

}  // namespace

std::string encode_event(const Event& e) {
  std::string out;
  out.reserve(160);
  out += "E1";
  put_field(out, e.type);
  put_field(out, e.order_id);
  put_field(out, e.resource_id);
  put_field(out, e.customer_id);
  put_field(out, std::to_string(e.at));
  put_field(out, e.status);
  put_field(out, std::to_string(e.amount));
  put_field(out, e.payment_id);
  put_field(out, e.payment_status);
  put_field(out, e.detail);
  return out;
}

Result<Event> decode_event(std::string_view stored, std::uint64_t seq) {
  if (!stored.empty() && stored.front() == '{') {
    auto j = json::parse(stored.begin(), stored.end(), nullptr, false);
    if (j.is_discarded()) return make_error(ErrorKind::invalid_input, "event is not valid JSON");
    return event_from_json(j, seq);
  }
  auto f = split_fields(stored);
  if (f.size() != 11 || f[0] != "E1")
    return make_error(ErrorKind::invalid_input, "event record has an unknown format");
  Event e;
  e.seq = seq;
  e.type = std::move(f[1]);
  e.order_id = std::move(f[2]);
  e.resource_id = std::move(f[3]);
  e.customer_id = std::move(f[4]);
  std::int64_t at = 0, amount = 0;
  if (!to_int64(f[5], at)) return make_error(ErrorKind::invalid_input, "event field 'at' is invalid");
  if (!to_int64(f[7], amount))
    return make_error(ErrorKind::invalid_input, "event field 'amount' is invalid");
  if (e.type.empty() || e.order_id.empty())
    return make_error(ErrorKind::invalid_input, "event without type or order");
  e.at = at;
  e.status = std::move(f[6]);
  e.amount = amount;
  e.payment_id = std::move(f[8]);
  e.payment_status = std::move(f[9]);
  e.detail = std::move(f[10]);
  return e;
}

}  // namespace troupe::domain
