#include "domain/json.hpp"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "domain/json_text.hpp"

namespace troupe::domain {

using nlohmann::json;

namespace {

json history_json(const std::vector<StatusChange>& h) {
  json a = json::array();
  for (const auto& c : h) a.push_back({{"status", c.status}, {"at", format_rfc3339(c.at)}});
  return a;
}

Error bad(const std::string& field) {
  return make_error(ErrorKind::invalid_input, "record field '" + field + "' is missing or invalid");
}

bool get_string(const json& j, const char* k, std::string& out) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool get_int(const json& j, const char* k, std::int64_t& out) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_number_integer()) return false;
  // Text above INT64_MAX decodes as an unsigned number; reading it as int64
  // would silently wrap to a negative value.
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > max) return false;
  out = it->get<std::int64_t>();
  return true;
}

bool get_time(const json& j, const char* k, Timestamp& out) {
  std::string s;
  if (!get_string(j, k, s)) return false;
  auto t = parse_rfc3339(s);
  if (!t) return false;
  out = *t;
  return true;
}

bool get_history(const json& j, std::vector<StatusChange>& out) {
  auto it = j.find("history");
  if (it == j.end() || !it->is_array()) return false;
  for (const auto& e : *it) {
    StatusChange c;
    if (!e.is_object() || !get_string(e, "status", c.status) || !get_time(e, "at", c.at))
      return false;
    out.push_back(std::move(c));
  }
  return true;
}

}  // namespace

json to_json(const ResourceSpec& r) {
  json j = {{"id", r.id},     {"type", r.type},   {"name", r.name},
            {"mode", to_string(r.mode)}, {"price", r.price}, {"steps", r.steps}};
  if (r.mode == Mode::capacity) j["capacity"] = r.capacity;
  if (r.mode == Mode::calendar) j["priceUnit"] = to_string(r.price_unit);
  return j;
}

json to_json(const Payment& p) {
  return {{"paymentId", p.id},
          {"orderId", p.order_id},
          {"amount", p.amount},
          {"status", to_string(p.status)},
          {"history", history_json(p.history)}};
}

json to_json(const Order& o) {
  json j = {{"orderId", o.id},
            {"resourceId", o.resource_id},
            {"customerId", o.customer_id},
            {"mode", to_string(o.mode)},
            {"status", o.status()},
            {"phase", to_string(o.phase)},
            {"amount", o.amount},
            {"paymentId", o.payment.id},
            {"createdAt", format_rfc3339(o.created_at)},
            {"history", history_json(o.history)},
            {"payment", to_json(o.payment)}};
  if (o.mode == Mode::capacity) j["quantity"] = o.quantity;
  if (o.mode == Mode::calendar) {
    j["start"] = format_rfc3339(o.start);
    j["end"] = format_rfc3339(o.end);
  }
  if (o.mode == Mode::dispatch) {
    j["destination"] = o.destination;
    j["fee"] = o.amount;
    if (!o.rider_id.empty()) j["riderId"] = o.rider_id;
  }
  if (!o.step.empty()) j["step"] = o.step;
  if (!o.reason.empty()) j["reason"] = o.reason;
  return j;
}

namespace {

void history_text(std::string& out, const std::vector<StatusChange>& h) {
  out += '[';
  for (size_t i = 0; i < h.size(); ++i) {
    out += i == 0 ? "{" : ",{";
    JsonText w(out);
    w.str("at", format_rfc3339(h[i].at)).str("status", h[i].status);
    out += '}';
  }
  out += ']';
}

}  // namespace

std::string order_json_text(const Order& o) {
  std::string out;
  out.reserve(768);
  out += '{';
  JsonText w(out);
  w.num("amount", o.amount).str("createdAt", format_rfc3339(o.created_at))
    .str("customerId", o.customer_id);
  if (o.mode == Mode::dispatch) w.str("destination", o.destination);
  if (o.mode == Mode::calendar) w.str("end", format_rfc3339(o.end));
  if (o.mode == Mode::dispatch) w.num("fee", o.amount);
  w.key("history");
  history_text(out, o.history);
  w.str("mode", to_string(o.mode)).str("orderId", o.id);
  w.key("payment");
  {
    out += '{';
    JsonText p(out);
    p.num("amount", o.payment.amount);
    p.key("history");
    history_text(out, o.payment.history);
    p.str("orderId", o.payment.order_id).str("paymentId", o.payment.id)
      .str("status", to_string(o.payment.status));
    out += '}';
  }
  w.str("paymentId", o.payment.id).str("phase", to_string(o.phase));
  if (o.mode == Mode::capacity) w.num("quantity", o.quantity);
  if (!o.reason.empty()) w.str("reason", o.reason);
  w.str("resourceId", o.resource_id);
  if (o.mode == Mode::dispatch && !o.rider_id.empty()) w.str("riderId", o.rider_id);
  if (o.mode == Mode::calendar) w.str("start", format_rfc3339(o.start));
  w.str("status", o.status());
  if (!o.step.empty()) w.str("step", o.step);
  out += '}';
  return out;
}

Result<ResourceSpec> resource_from_json(const json& j) {
  if (!j.is_object()) return bad("(root)");
  ResourceSpec r;
  std::string mode;
  if (!get_string(j, "id", r.id)) return bad("id");
  if (!get_string(j, "type", r.type)) return bad("type");
  if (!get_string(j, "name", r.name)) return bad("name");
  if (!get_string(j, "mode", mode)) return bad("mode");
  auto m = parse_mode(mode);
  if (!m) return m.error();
  r.mode = *m;
  if (!get_int(j, "price", r.price)) return bad("price");
  if (r.mode == Mode::capacity && !get_int(j, "capacity", r.capacity)) return bad("capacity");
  if (r.mode == Mode::calendar) {
    std::string unit;
    if (!get_string(j, "priceUnit", unit)) return bad("priceUnit");
    auto u = parse_price_unit(unit);
    if (!u) return u.error();
    r.price_unit = *u;
  }
  auto it = j.find("steps");
  if (it != j.end()) {
    if (!it->is_array()) return bad("steps");
    for (const auto& s : *it) {
      if (!s.is_string()) return bad("steps");
      r.steps.push_back(s.get<std::string>());
    }
  }
  return r;
}

Result<Payment> payment_from_json(const json& j) {
  if (!j.is_object()) return bad("payment");
  Payment p;
  std::string status;
  if (!get_string(j, "paymentId", p.id)) return bad("paymentId");
  if (!get_string(j, "orderId", p.order_id)) return bad("orderId");
  if (!get_int(j, "amount", p.amount)) return bad("amount");
  if (!get_string(j, "status", status)) return bad("status");
  auto s = parse_payment_status(status);
  if (!s) return s.error();
  p.status = *s;
  if (!get_history(j, p.history)) return bad("history");
  return p;
}

Result<Order> order_from_json(const json& j) {
  if (!j.is_object()) return bad("(root)");
  Order o;
  std::string mode, status;
  if (!get_string(j, "orderId", o.id)) return bad("orderId");
  if (!get_string(j, "resourceId", o.resource_id)) return bad("resourceId");
  if (!get_string(j, "customerId", o.customer_id)) return bad("customerId");
  if (!get_string(j, "mode", mode)) return bad("mode");
  auto m = parse_mode(mode);
  if (!m) return m.error();
  o.mode = *m;
  // "phase" is the saga phase; "status" may be a fulfillment step (records
  // written before steps existed only have "status").
  if (j.contains("phase")) {
    if (!get_string(j, "phase", status)) return bad("phase");
  } else if (!get_string(j, "status", status)) {
    return bad("status");
  }
  auto ph = parse_order_phase(status);
  if (!ph) return ph.error();
  o.phase = *ph;
  if (!get_int(j, "amount", o.amount)) return bad("amount");
  if (!get_time(j, "createdAt", o.created_at)) return bad("createdAt");
  if (!get_history(j, o.history)) return bad("history");
  if (o.mode == Mode::capacity && !get_int(j, "quantity", o.quantity)) return bad("quantity");
  if (o.mode == Mode::calendar && (!get_time(j, "start", o.start) || !get_time(j, "end", o.end)))
    return bad("start/end");
  get_string(j, "reason", o.reason);
  get_string(j, "step", o.step);
  if (o.mode == Mode::dispatch && !get_string(j, "destination", o.destination))
    return bad("destination");
  get_string(j, "riderId", o.rider_id);
  auto pit = j.find("payment");
  if (pit == j.end()) return bad("payment");
  auto p = payment_from_json(*pit);
  if (!p) return p.error();
  o.payment = std::move(*p);
  return o;
}

}  // namespace troupe::domain
