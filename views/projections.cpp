#include "views/projections.hpp"

#include "domain/fields.hpp"
#include "domain/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace troupe::views {

using nlohmann::json;
namespace et = domain::event_type;

namespace {

std::uint64_t parse_seq(const std::string& s) {
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

/// The field of a group row: what follows the last '/'.
std::string field_of(const std::string& key) {
  auto slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

bool is_type(const domain::Event& e, const char* t) { return e.type == t; }

/// The order status an event records in the status history, if any.
const char* order_status_of(const domain::Event& e) {
  if (is_type(e, et::order_placed)) return "placed";
  if (is_type(e, et::resource_held)) return "held";
  // A delivery call's confirmation is its "called" entry (the order's own history).
  if (is_type(e, et::order_confirmed)) return e.status == "called" ? "called" : "confirmed";
  if (is_type(e, et::order_rejected)) return "rejected";
  if (is_type(e, et::order_cancelled)) return "cancelled";
  if (is_type(e, et::step_advanced)) return e.detail.c_str();
  return nullptr;
}

/// The payment status an event records in the payment history, if any.
const char* payment_status_of(const domain::Event& e) {
  if (is_type(e, et::payment_authorized)) return "authorized";
  if (is_type(e, et::payment_captured)) return "captured";
  if (is_type(e, et::payment_declined)) return "declined";
  if (is_type(e, et::payment_voided)) return "voided";
  if (is_type(e, et::payment_refunded)) return "refunded";
  return nullptr;
}

/// The events of a group's rows in id order, each once (a replay from an
/// earlier cursor may have grouped some into another row too).
std::vector<domain::Event> events_of(const std::vector<persistence::Record>& rows) {
  std::vector<domain::Event> out;
  for (const auto& r : rows)
    if (auto es = row_events(r))
      for (auto& e : *es) out.push_back(std::move(e));
  std::sort(out.begin(), out.end(),
            [](const domain::Event& a, const domain::Event& b) { return a.seq < b.seq; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const domain::Event& a, const domain::Event& b) { return a.seq == b.seq; }),
            out.end());
  return out;
}

json notifications_array(const std::vector<persistence::Record>& rows) {
  json a = json::array();
  for (const auto& r : rows) {
    auto j = json::parse(r.value, nullptr, false);
    if (!j.is_discarded()) a.push_back(std::move(j));
  }
  return a;
}

}  // namespace

bool is_subscriber(const std::string& name) {
  return std::find(subscriber_names.begin(), subscriber_names.end(), name) != subscriber_names.end();
}

std::string cursor_key(const std::string& name) { return "cursor/" + name; }
std::string notifications_group(const std::string& customer_id) { return "notif/" + customer_id; }
std::string mypage_group(const std::string& customer_id) { return "mypage/" + customer_id; }
std::string report_group(const std::string& resource_id) { return "report/" + resource_id; }

bool notifies(const domain::Event& e) {
  return is_type(e, et::order_confirmed) || is_type(e, et::order_rejected) ||
         is_type(e, et::order_cancelled) || is_type(e, et::step_advanced);
}

std::string notification(const domain::Event& e) {
  const bool confirmed = is_type(e, et::order_confirmed), cancelled = is_type(e, et::order_cancelled),
             step = is_type(e, et::step_advanced);
  std::string kind, message = "Your order " + e.order_id + " for " + e.resource_id;
  if (confirmed) {
    kind = "booking-confirmed";
    message += e.status == "called"
                 ? ": the delivery call is placed; fee " + std::to_string(e.amount) + " authorized."
                 : " is confirmed; " + std::to_string(e.amount) + " charged.";
  } else if (cancelled) {
    kind = "booking-cancelled";
    const bool delivery = e.detail == "taken" || e.detail == "packed" || e.detail == "shipped";
    message += std::string(delivery ? ": delivery cancelled" : " is cancelled") + "; " +
               (e.payment_status == "voided" ? "the authorization is voided."
                                             : std::to_string(e.amount) + " refunded.");
  } else if (step) {
    kind = "status-" + e.detail;
    message += e.detail == "shipped" ? ": delivery started." : " is now " + e.detail + ".";
  } else {
    kind = "booking-rejected";
    message += " could not be booked" + (e.detail.empty() ? "." : ": " + e.detail + ".");
  }
  std::string out;
  out.reserve(256 + message.size());
  out += '{';
  domain::JsonText(out)
    .num("amount", e.amount)
    .str("at", domain::format_rfc3339(e.at))
    .str("customerId", e.customer_id)
    .str("eventId", std::to_string(e.seq))
    .str("kind", kind)
    .str("message", message)
    .str("orderId", e.order_id)
    .str("resourceId", e.resource_id);
  out += '}';
  return out;
}

bool reported(const domain::Event& e) {
  return is_type(e, et::order_confirmed) || is_type(e, et::order_cancelled) ||
         is_type(e, et::order_rejected) || is_type(e, et::payment_captured) ||
         is_type(e, et::payment_refunded) || is_type(e, et::step_advanced);
}

std::vector<persistence::Write> project(const std::string& name, const domain::Event& e) {
  return project_page(name, std::vector<const domain::Event*>{&e});
}

std::vector<persistence::Write> project_page(const std::string& name,
                                             const std::vector<domain::Event>& events) {
  std::vector<const domain::Event*> refs;
  refs.reserve(events.size());
  for (const auto& e : events) refs.push_back(&e);
  return project_page(name, refs);
}

std::vector<persistence::Write> project_page(const std::string& name,
                                             const std::vector<const domain::Event*>& events) {
  std::vector<persistence::Write> out;
  if (name == "notifier") {
    for (const auto* ep : events)
      if (const auto& e = *ep; notifies(e) && !e.customer_id.empty())
        out.push_back({notifications_group(e.customer_id) + "/" + persistence::seq20(e.seq),
                       notification(e), false});
    return out;
  }
  const bool mypage = name == "mypage";
  if (!mypage && name != "report") return out;
  // One row per (group, order) of this page, keyed by its first event: a
  // line with what the order's events share, then one line per event.
  // (Views into `events`: no key copies.)
  struct OwnerOrderHash {
    size_t operator()(const std::pair<std::string_view, std::string_view>& k) const {
      const size_t h = std::hash<std::string_view>{}(k.first);
      return h ^ (std::hash<std::string_view>{}(k.second) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
    }
  };
  std::unordered_map<std::pair<std::string_view, std::string_view>, size_t, OwnerOrderHash> row_of;
  row_of.reserve(events.size());
  for (const auto* ep : events) {
    const auto& e = *ep;
    const std::string& owner = mypage ? e.customer_id : e.resource_id;
    if (owner.empty() || (!mypage && !reported(e))) continue;
    auto [it, fresh] = row_of.try_emplace({std::string_view(owner), std::string_view(e.order_id)},
                                          out.size());
    if (fresh) {
      std::string key = mypage ? mypage_group(owner) : report_group(owner);
      key += '/';
      key += e.order_id;
      key += '.';
      key += persistence::seq20(e.seq);
      out.push_back({std::move(key),
                     domain::fields::Writer("R1", 384)
                       .add(e.order_id)
                       .add(e.resource_id)
                       .add(e.customer_id)
                       .add(e.payment_id)
                       .take(),
                     false});
    }
    auto& v = out[it->second].value;
    v.push_back('\n');
    char seq[24];
    const auto end = std::to_chars(seq, seq + sizeof seq, e.seq).ptr;
    v = domain::fields::Writer(std::move(v), std::string_view(seq, static_cast<size_t>(end - seq)))
           .add(e.type)
           .add(e.at)
           .add(e.status)
           .add(e.amount)
           .add(e.payment_status)
           .add(e.detail)
           .take();
  }
  return out;
}

domain::Result<std::vector<domain::Event>> row_events(const persistence::Record& row) {
  auto corrupt = [&] { return domain::make_error(domain::ErrorKind::internal, "corrupt view row " + row.key); };
  std::vector<domain::Event> out;
  const std::string& v = row.value;
  if (v.empty() || v.front() == '{' || v.front() == 'E') {
    // One event per row, its id in the key (rows written before grouping).
    const std::string field = field_of(row.key);
    const auto dot = field.rfind('.');
    const std::uint64_t seq = parse_seq(dot == std::string::npos ? field : field.substr(dot + 1));
    auto e = seq == 0 ? domain::Result<domain::Event>(corrupt()) : domain::decode_event(v, seq);
    if (!e) return corrupt();
    out.push_back(std::move(*e));
    return out;
  }
  // R1 header line, then `<eventId> type at status amount paymentStatus detail`.
  size_t end = v.find('\n');
  if (end == std::string::npos) return corrupt();
  domain::fields::Reader head(std::string_view(v).substr(0, end));
  domain::Event shared;
  const bool tagged = head.text() == "R1";
  shared.order_id = head.text();
  shared.resource_id = head.text();
  shared.customer_id = head.text();
  shared.payment_id = head.text();
  if (!tagged || !head.ok() || !head.at_end() || shared.order_id.empty()) return corrupt();
  for (size_t pos = end + 1; pos <= v.size(); pos = end + 1) {
    end = v.find('\n', pos);
    if (end == std::string::npos) end = v.size();
    domain::fields::Reader line(std::string_view(v).substr(pos, end - pos));
    domain::Event e = shared;
    const auto seq = line.number();
    e.type = line.text();
    e.at = line.number();
    e.status = line.text();
    e.amount = line.number();
    e.payment_status = line.text();
    e.detail = line.text();
    if (!line.ok() || !line.at_end() || seq <= 0 || e.type.empty()) return corrupt();
    e.seq = static_cast<std::uint64_t>(seq);
    out.push_back(std::move(e));
  }
  if (out.empty()) return corrupt();
  return out;
}

json notifications_view(const std::string& customer_id,
                        const std::vector<persistence::Record>& notif_rows) {
  return {{"customerId", customer_id}, {"notifications", notifications_array(notif_rows)}};
}

namespace {

/// A customer's orders as mypage shows them, oldest first (by the id of
/// their first event, which never changes: a stable order for paging).
std::vector<std::pair<std::uint64_t, json>> customer_orders(
    const std::vector<persistence::Record>& mypage_rows) {
  struct OrderView {
    std::uint64_t first = 0;
    json j;
  };
  std::map<std::string, OrderView> orders;
  for (const auto& e : events_of(mypage_rows)) {
    auto& ov = orders[e.order_id];
    if (ov.first == 0) {
      ov.first = e.seq;
      ov.j = {{"orderId", e.order_id},
              {"resourceId", e.resource_id},
              {"history", json::array()},
              {"payment", {{"id", e.payment_id}, {"status", "none"}, {"history", json::array()}}}};
    }
    ov.j["status"] = e.status;
    ov.j["amount"] = e.amount;
    ov.j["updatedAt"] = domain::format_rfc3339(e.at);
    ov.j["payment"]["amount"] = e.amount;
    if (const char* s = order_status_of(e))
      ov.j["history"].push_back({{"status", s}, {"at", domain::format_rfc3339(e.at)},
                                 {"eventId", std::to_string(e.seq)}});
    if (const char* s = payment_status_of(e)) {
      ov.j["payment"]["status"] = s;
      ov.j["payment"]["history"].push_back({{"status", s}, {"at", domain::format_rfc3339(e.at)},
                                            {"eventId", std::to_string(e.seq)}});
    }
    if (is_type(e, et::order_rejected) && !e.detail.empty()) ov.j["reason"] = e.detail;
  }
  std::vector<std::pair<std::uint64_t, json>> out;
  out.reserve(orders.size());
  for (auto& kv : orders) out.emplace_back(kv.second.first, std::move(kv.second.j));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace

json mypage_view(const std::string& customer_id, const std::vector<persistence::Record>& mypage_rows,
                 const std::vector<persistence::Record>& notif_rows) {
  json list = json::array();
  for (auto& [first, j] : customer_orders(mypage_rows)) list.push_back(std::move(j));
  return {{"customerId", customer_id},
          {"orders", std::move(list)},
          {"notifications", notifications_array(notif_rows)}};
}

OrderPage order_page(const std::string& customer_id,
                     const std::vector<persistence::Record>& mypage_rows,
                     const std::string& status, std::uint64_t after, size_t limit) {
  OrderPage page;
  page.items = json::array();
  for (auto& [first, j] : customer_orders(mypage_rows)) {
    if (first <= after) continue;
    if (!status.empty() && (!j.contains("status") || j["status"] != status)) continue;
    if (page.items.size() == limit) {  // one more exists: there is a next page
      page.next = page.last;
      break;
    }
    j["customerId"] = customer_id;
    page.items.push_back(std::move(j));
    page.last = first;
  }
  return page;
}

json report_view(const std::string& resource_id, const std::vector<persistence::Record>& report_rows) {
  struct Line {
    std::uint64_t first = 0;
    std::string customer;
    std::string status;
    domain::Money amount = 0;
    bool captured = false;
    bool refunded = false;
    bool ever_confirmed = false;
  };
  std::map<std::string, Line> lines;
  for (const auto& e : events_of(report_rows)) {
    auto& l = lines[e.order_id];
    if (l.first == 0) l.first = e.seq;
    l.customer = e.customer_id;
    l.status = e.status;
    l.amount = e.amount;
    if (is_type(e, et::payment_captured)) l.captured = true;
    if (is_type(e, et::payment_refunded)) l.refunded = true;
    if (is_type(e, et::order_confirmed)) l.ever_confirmed = true;
  }
  std::vector<std::pair<std::string, const Line*>> sorted;
  for (const auto& kv : lines) sorted.push_back({kv.first, &kv.second});
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second->first < b.second->first; });
  std::int64_t bookings = 0, active = 0, cancelled = 0, rejected = 0;
  domain::Money captured = 0, refunds = 0;
  json list = json::array();
  for (const auto& [id, l] : sorted) {
    if (l->ever_confirmed) ++bookings;
    if (l->ever_confirmed && l->status != "cancelled" && l->status != "rejected") ++active;
    if (l->status == "cancelled") ++cancelled;
    if (l->status == "rejected") ++rejected;
    if (l->captured) captured += l->amount;
    if (l->refunded) refunds += l->amount;
    list.push_back({{"orderId", id},
                    {"customerId", l->customer},
                    {"status", l->status},
                    {"amount", l->amount},
                    {"captured", l->captured ? l->amount : 0},
                    {"settled", l->captured && !l->refunded},
                    {"refunded", l->refunded ? l->amount : 0}});
  }
  return {{"resourceId", resource_id}, {"bookings", bookings},   {"active", active},
          {"cancelled", cancelled},    {"rejected", rejected},   {"captured", captured},
          {"refunds", refunds},        {"revenue", captured - refunds}, {"orders", std::move(list)}};
}

}  // namespace troupe::views
