#include "actors/records.hpp"

#include <nlohmann/json.hpp>

#include "actors/store_actor.hpp"
#include "domain/event.hpp"
#include "domain/json.hpp"
#include "domain/fields.hpp"
#include "domain/order_codec.hpp"

namespace troupe::actors::records {

using nlohmann::json;

std::string resource_key(const std::string& id) { return resource_prefix + id; }
std::string order_key(const std::string& id) { return order_prefix + id; }
std::string alloc_prefix(const std::string& resource_id) { return "alloc/" + resource_id + "/"; }
std::string alloc_group(const std::string& resource_id) { return "alloc/" + resource_id; }

persistence::Write put_resource(const domain::ResourceSpec& spec) {
  return {resource_key(spec.id), domain::to_json(spec).dump(), false};
}

persistence::Write put_order(const domain::Order& order) {
  return {order_key(order.id), domain::encode_order_record(order), false};
}

bool at_rest(const domain::Order& o) {
  return o.phase == domain::OrderPhase::confirmed || o.is_terminal();
}

persistence::Batch order_change(const domain::Order& before, const domain::Order& after) {
  persistence::Batch b{put_order(after)};
  // (A never-stored `before` is in phase placed: not at rest. Erasing an
  // absent entry is harmless, and covers a write-ahead whose outcome was
  // in doubt.)
  if (!at_rest(after))
    b.push_back({open_prefix + after.id, b.front().value, false});
  else if (!at_rest(before))
    b.push_back({open_prefix + after.id, {}, true});
  for (const auto& e : domain::events_between(before, after))
    b.push_back({append_to_log, domain::encode_event(e), false});
  return b;
}

namespace {
/// An allocation's stored form: `A1`, order id, quantity, start, end.
std::string encode_alloc(const std::string& order_id, std::int64_t quantity, domain::Timestamp start,
                         domain::Timestamp end) {
  return domain::fields::Writer("A1", 64).add(order_id).add(quantity).add(start).add(end).take();
}
}  // namespace

persistence::Write put_rider_alloc(const domain::Order& o) {
  return {alloc_prefix(o.rider_id) + o.id, encode_alloc(o.id, 1, 0, 0), false};
}

persistence::Write erase_rider_alloc(const domain::Order& o) {
  return {alloc_prefix(o.rider_id) + o.id, {}, true};
}

persistence::Write released_event(const domain::Order& o) {
  domain::Event e;
  e.type = domain::event_type::resource_released;
  e.order_id = o.id;
  e.resource_id = o.resource_id;
  e.customer_id = o.customer_id;
  e.at = o.history.empty() ? domain::now_ms() : o.history.back().at;
  e.status = o.status();
  e.amount = o.amount;
  e.payment_id = o.payment.id;
  e.payment_status = domain::to_string(o.payment.status);
  e.detail = o.step;
  return {append_to_log, domain::encode_event(e), false};
}

persistence::Write put_alloc(const domain::Order& o) {
  const bool capacity = o.mode == domain::Mode::capacity;
  const bool calendar = o.mode == domain::Mode::calendar;
  return {alloc_prefix(o.resource_id) + o.id,
          encode_alloc(o.id, capacity ? o.quantity : 0, calendar ? o.start : 0, calendar ? o.end : 0),
          false};
}

persistence::Write erase_alloc(const domain::Order& o) {
  return {alloc_prefix(o.resource_id) + o.id, {}, true};
}

namespace {
domain::Error corrupt(const std::string& what) {
  return domain::make_error(domain::ErrorKind::internal, "corrupt " + what + " record");
}
}  // namespace

domain::Result<domain::ResourceSpec> decode_resource(const std::string& value) {
  auto j = json::parse(value, nullptr, false);
  if (j.is_discarded()) return corrupt("resource");
  return domain::resource_from_json(j);
}

domain::Result<domain::Order> decode_order(const std::string& value) {
  return domain::decode_order_record(value);
}

domain::Result<Allocation> decode_alloc(const std::string& value) {
  if (!value.empty() && value.front() != '{') {
    domain::fields::Reader r(value);
    Allocation a;
    const bool tagged = r.text() == "A1";
    a.order_id = r.text();
    a.quantity = r.number();
    a.start = r.number();
    a.end = r.number();
    if (!tagged || !r.ok() || !r.at_end() || a.order_id.empty()) return corrupt("allocation");
    return a;
  }
  auto j = json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("orderId") || !j["orderId"].is_string())
    return corrupt("allocation");
  Allocation a;
  a.order_id = j["orderId"].get<std::string>();
  if (j.contains("quantity") && j["quantity"].is_number_integer())
    a.quantity = j["quantity"].get<std::int64_t>();
  if (j.contains("start") && j["start"].is_number_integer())
    a.start = j["start"].get<std::int64_t>();
  if (j.contains("end") && j["end"].is_number_integer()) a.end = j["end"].get<std::int64_t>();
  return a;
}

std::vector<Allocation> decode_allocs(const std::vector<persistence::Record>& recs, size_t& corrupt) {
  std::vector<Allocation> out;
  out.reserve(recs.size());
  corrupt = 0;
  for (const auto& r : recs) {
    if (auto a = decode_alloc(r.value))
      out.push_back(std::move(*a));
    else
      ++corrupt;
  }
  return out;
}

}  // namespace troupe::actors::records
