#include "http/requests.hpp"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace troupe::http {

using domain::ErrorKind;
using domain::make_error;
using nlohmann::json;

namespace {

domain::Error invalid(std::string detail) {
  return make_error(ErrorKind::invalid_input, std::move(detail));
}

domain::Result<json> parse_object(std::string_view body) {
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return invalid("the body is not valid JSON");
  if (!j.is_object()) return invalid("the body must be a JSON object");
  return j;
}

domain::Status only_fields(const json& j, std::initializer_list<const char*> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* a : allowed)
      if (it.key() == a) known = true;
    if (!known) return invalid("unknown field '" + it.key().substr(0, 64) + "'");
  }
  return domain::ok_status();
}

domain::Result<std::string> string_field(const json& j, const char* name, bool required,
                                         size_t max_len = 1024) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) return invalid(std::string("'") + name + "' is required");
    return std::string();
  }
  if (!it->is_string()) return invalid(std::string("'") + name + "' must be a string");
  auto s = it->get<std::string>();
  if (s.size() > max_len) return invalid(std::string("'") + name + "' is too long");
  return s;
}

domain::Result<std::string> id_field(const json& j, const char* name) {
  auto s = string_field(j, name, true);
  if (!s) return s;
  if (!domain::is_valid_client_id(*s))
    return invalid(std::string("'") + name +
                   "' must be 1-128 characters of letters, digits, '-', '_', '.'");
  return s;
}

/// Integer field in [min, max]; nullopt when absent and not required.
domain::Result<std::optional<std::int64_t>> int_field(const json& j, const char* name,
                                                      bool required, std::int64_t min,
                                                      std::int64_t max) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) return invalid(std::string("'") + name + "' is required");
    return std::optional<std::int64_t>{};
  }
  const std::string range =
    std::string("'") + name + "' must be between " + std::to_string(min) + " and " +
    std::to_string(max);
  if (it->is_number_unsigned()) {
    auto u = it->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) return invalid(range);
    return std::optional<std::int64_t>{static_cast<std::int64_t>(u)};
  }
  if (!it->is_number_integer()) return invalid(std::string("'") + name + "' must be an integer");
  auto v = it->get<std::int64_t>();
  if (v < min || v > max) return invalid(range);
  return std::optional<std::int64_t>{v};
}

domain::Result<std::optional<domain::Timestamp>> time_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return std::optional<domain::Timestamp>{};
  if (!it->is_string()) return invalid(std::string("'") + name + "' must be an RFC 3339 string");
  auto t = domain::parse_rfc3339(it->get<std::string>());
  if (!t) return invalid(std::string("'") + name + "': " + t.error().detail);
  return std::optional<domain::Timestamp>{*t};
}

}  // namespace

domain::Result<domain::ResourceSpec> parse_resource(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error();
  if (auto st = only_fields(*j, {"id", "type", "name", "mode", "capacity", "price", "priceUnit",
                                 "steps"});
      !st)
    return st.error();
  domain::ResourceSpec r;
  auto id = id_field(*j, "id");
  if (!id) return id.error();
  r.id = *id;
  auto type = id_field(*j, "type");
  if (!type) return type.error();
  r.type = *type;
  auto name = string_field(*j, "name", true, 200);
  if (!name) return name.error();
  r.name = *name;
  auto mode_s = string_field(*j, "mode", true);
  if (!mode_s) return mode_s.error();
  auto mode = domain::parse_mode(*mode_s);
  if (!mode) return mode.error();
  r.mode = *mode;
  auto price = int_field(*j, "price", true, 0, domain::max_price);
  if (!price) return price.error();
  r.price = **price;
  auto cap = int_field(*j, "capacity", r.mode == domain::Mode::capacity, 1, domain::max_capacity);
  if (!cap) return cap.error();
  if (*cap) {
    if (r.mode != domain::Mode::capacity)
      return invalid("'capacity' applies to capacity resources only");
    r.capacity = **cap;
  }
  auto unit = string_field(*j, "priceUnit", false);
  if (!unit) return unit.error();
  if (!unit->empty()) {
    if (r.mode != domain::Mode::calendar)
      return invalid("'priceUnit' applies to calendar resources only");
    auto u = domain::parse_price_unit(*unit);
    if (!u) return u.error();
    r.price_unit = *u;
  }
  if (auto it = j->find("steps"); it != j->end()) {
    if (!it->is_array()) return invalid("'steps' must be an array of strings");
    for (const auto& s : *it) {
      if (!s.is_string()) return invalid("'steps' must be an array of strings");
      r.steps.push_back(s.get<std::string>());
    }
  }
  return domain::normalize(std::move(r));
}

domain::Result<OrderInput> parse_order(std::string_view body, std::string* canonical) {
  auto j = parse_object(body);
  if (!j) return j.error();
  if (canonical) *canonical = j->dump();
  if (auto st = only_fields(*j, {"resourceId", "customerId", "quantity", "start", "end",
                                 "destination", "fee"});
      !st)
    return st.error();
  OrderInput in;
  auto rid = id_field(*j, "resourceId");
  if (!rid) return rid.error();
  in.resource_id = *rid;
  auto cid = id_field(*j, "customerId");
  if (!cid) return cid.error();
  in.customer_id = *cid;
  auto q = int_field(*j, "quantity", false, 1, domain::max_quantity);
  if (!q) return q.error();
  in.quantity = *q;
  auto start = time_field(*j, "start");
  if (!start) return start.error();
  in.start = *start;
  auto end = time_field(*j, "end");
  if (!end) return end.error();
  in.end = *end;
  if (j->contains("destination")) {
    auto d = string_field(*j, "destination", true, 200);
    if (!d) return d.error();
    in.destination = *d;
  }
  auto fee = int_field(*j, "fee", false, 1, domain::max_price);
  if (!fee) return fee.error();
  in.fee = *fee;
  return in;
}

domain::Result<StepInput> parse_step(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return j.error();
  if (auto st = only_fields(*j, {"step", "riderId"}); !st) return st.error();
  StepInput in;
  auto step = id_field(*j, "step");
  if (!step) return step.error();
  in.step = *step;
  if (j->contains("riderId")) {
    auto rider = id_field(*j, "riderId");
    if (!rider) return rider.error();
    in.rider_id = *rider;
  }
  return in;
}

domain::Status check_order_for(const OrderInput& in, const domain::ResourceSpec& r,
                               domain::Timestamp now) {
  switch (r.mode) {
    case domain::Mode::capacity:
      if (!in.quantity) return invalid("'quantity' is required for " + r.id);
      if (in.start || in.end) return invalid("'start'/'end' do not apply to " + r.id);
      if (in.destination || in.fee) return invalid("'destination'/'fee' do not apply to " + r.id);
      return domain::ok_status();
    case domain::Mode::calendar:
      if (in.quantity) return invalid("'quantity' does not apply to " + r.id);
      if (in.destination || in.fee) return invalid("'destination'/'fee' do not apply to " + r.id);
      if (!in.start || !in.end) return invalid("'start' and 'end' are required for " + r.id);
      if (*in.end <= *in.start) return invalid("'end' must be after 'start'");
      if (*in.end - *in.start > domain::max_booking_length_ms)
        return invalid("a booking may last at most 366 days");
      if (*in.end <= now) return invalid("the window has already ended");
      return domain::ok_status();
    case domain::Mode::dispatch:
      if (in.quantity || in.start || in.end)
        return invalid("'quantity'/'start'/'end' do not apply to the delivery zone " + r.id);
      if (!in.destination || in.destination->empty())
        return invalid("'destination' is required for a delivery call");
      if (!in.fee) return invalid("'fee' is required for a delivery call");
      return domain::ok_status();
  }
  return invalid("unknown mode");
}

std::string encode_cursor(const std::string& last_id) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : last_id) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

domain::Result<std::string> decode_cursor(std::string_view cursor) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (cursor.size() % 2 != 0 || cursor.size() > 512) return invalid("'cursor' is not valid");
  std::string out;
  for (size_t i = 0; i < cursor.size(); i += 2) {
    int hi = val(cursor[i]), lo = val(cursor[i + 1]);
    if (hi < 0 || lo < 0) return invalid("'cursor' is not valid");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

domain::Result<size_t> parse_limit(std::string_view s) {
  const std::string text(s);
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) || *end != '\0' ||
      errno != 0 || v < 1 || v > 500)
    return invalid("'limit' must be an integer between 1 and 500");
  return static_cast<size_t>(v);
}

std::string encode_order_cursor(std::uint64_t after) {
  return encode_cursor("o" + std::to_string(after));
}

domain::Result<std::uint64_t> decode_order_cursor(std::string_view cursor) {
  auto text = decode_cursor(cursor);
  if (!text) return text.error();
  const std::string& t = *text;
  if (t.size() < 2 || t.size() > 21 || t[0] != 'o' || t[1] == '0')
    return invalid("'cursor' is not valid");
  std::uint64_t v = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return invalid("'cursor' is not valid");
    const std::uint64_t d = static_cast<std::uint64_t>(t[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return invalid("'cursor' is not valid");
    v = v * 10 + d;
  }
  return v;
}

}  // namespace troupe::http
