#include "domain/order_codec.hpp"

#include <nlohmann/json.hpp>

#include "domain/fields.hpp"
#include "domain/json.hpp"

namespace troupe::domain {

namespace {

void add_history(fields::Writer& w, const std::vector<StatusChange>& h) {
  w.add(static_cast<std::int64_t>(h.size()));
  for (const auto& c : h) w.add(c.status).add(c.at);
}

bool read_history(fields::Reader& r, std::vector<StatusChange>& h) {
  const auto n = r.number();
  if (!r.ok() || n < 0 || static_cast<size_t>(n) > r.size()) return false;
  h.reserve(static_cast<size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    StatusChange c;
    c.status = r.text();
    c.at = r.number();
    h.push_back(std::move(c));
  }
  return r.ok();
}

Error corrupt(const char* what) {
  return make_error(ErrorKind::internal, std::string("corrupt order record: ") + what);
}

}  // namespace

std::string encode_order_record(const Order& o) {
  fields::Writer w("O1", 320);
  w.add(o.id).add(o.resource_id).add(o.customer_id).add(to_string(o.mode)).add(to_string(o.phase));
  w.add(o.amount).add(o.quantity).add(o.start).add(o.end).add(o.created_at);
  w.add(o.reason).add(o.step).add(o.destination).add(o.rider_id);
  add_history(w, o.history);
  w.add(o.payment.id).add(o.payment.order_id).add(o.payment.amount).add(to_string(o.payment.status));
  add_history(w, o.payment.history);
  return w.take();
}

Result<Order> decode_order_record(std::string_view stored) {
  if (!stored.empty() && stored.front() == '{') {
    auto j = nlohmann::json::parse(stored.begin(), stored.end(), nullptr, false);
    if (j.is_discarded()) return corrupt("not JSON");
    return order_from_json(j);
  }
  fields::Reader r(stored);
  if (r.text() != "O1") return corrupt("unknown format");
  Order o;
  o.id = r.text();
  o.resource_id = r.text();
  o.customer_id = r.text();
  auto mode = parse_mode(r.text());
  auto phase = parse_order_phase(r.text());
  if (!mode || !phase) return corrupt("mode or phase");
  o.mode = *mode;
  o.phase = *phase;
  o.amount = r.number();
  o.quantity = r.number();
  o.start = r.number();
  o.end = r.number();
  o.created_at = r.number();
  o.reason = r.text();
  o.step = r.text();
  o.destination = r.text();
  o.rider_id = r.text();
  if (!read_history(r, o.history)) return corrupt("history");
  o.payment.id = r.text();
  o.payment.order_id = r.text();
  o.payment.amount = r.number();
  auto ps = parse_payment_status(r.text());
  if (!ps) return corrupt("payment status");
  o.payment.status = *ps;
  if (!read_history(r, o.payment.history)) return corrupt("payment history");
  if (!r.ok() || !r.at_end() || o.id.empty()) return corrupt("fields");
  return o;
}

}  // namespace troupe::domain
