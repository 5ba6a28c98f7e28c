#pragma once
/// Support for the per-domain flow tests (car, appliance, delivery, musical,
/// hotel): resource specs of the five domains, fulfillment steps, the read
/// views (bounded polls, never fixed sleeps), faults and reconciliation.
///
/// The views are eventually consistent. `ViewsCaughtUp(http)` waits until no
/// order is half-done, reads the event log head once (every event of a 2xx is
/// in the log before the answer; a rejection's once it is durable) and waits
/// until the subscribers have applied everything up to it; after that the
/// views are read once and checked exactly.

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server.hpp"

namespace troupe_it {

// ---------------------------------------------------------------------------
// Server options and resources of the five domains

/// Fast payments plus /admin/faults.
inline std::vector<std::string> fast_payments_with_faults() {
  auto args = fast_payments();
  args.push_back("--enable-faults");
  return args;
}

inline json car(const std::string& id, long long price_per_hour = 3000) {
  return {{"id", id},          {"type", "car"}, {"name", "Ioniq 5"}, {"mode", "calendar"},
          {"price", price_per_hour}};
}

inline json appliance(const std::string& id, long long stock, long long price) {
  return {{"id", id},          {"type", "appliance"}, {"name", "Fridge"},
          {"mode", "capacity"}, {"capacity", stock},   {"price", price}};
}

inline json zone(const std::string& id) {
  return {{"id", id}, {"type", "zone"}, {"name", "Gangnam"}, {"mode", "dispatch"}, {"price", 0}};
}

inline json rider(const std::string& id) {
  return {{"id", id},          {"type", "rider"}, {"name", "Kim"},
          {"mode", "capacity"}, {"capacity", 1},   {"price", 0}};
}

inline json call_order(const std::string& zone_id, const std::string& customer, long long fee,
                       const std::string& destination = "Teheran-ro 1") {
  return {{"resourceId", zone_id}, {"customerId", customer}, {"destination", destination},
          {"fee", fee}};
}

// ---------------------------------------------------------------------------
// JSON access that never throws

/// j[k], or null when j is not an object or has no k.
inline json jfield(const json& j, const char* k) {
  return j.is_object() && j.contains(k) ? j[k] : json();
}

/// j[k] as an integer, or -1.
inline long long jnum(const json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_number_integer() ? j[k].get<long long>() : -1;
}

inline size_t jsize(const json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_array() ? j[k].size() : 0;
}

/// GET `path` as JSON (discarded json when not 200).
inline json get_json(Http& http, const std::string& path) {
  auto r = http.get(path);
  if (r.status != 200) return json(json::value_t::discarded);
  return r.body_json();
}

/// The statuses of a history array, in order.
inline std::vector<std::string> statuses_of(const json& history) {
  std::vector<std::string> out;
  if (!history.is_array()) return out;
  for (const auto& h : history) out.push_back(str(h, "status"));
  return out;
}

/// The entry of `list` whose orderId is `id` (null if absent).
inline json entry_of(const json& list, const std::string& id) {
  if (!list.is_array()) return json();
  for (const auto& o : list)
    if (str(o, "orderId") == id) return o;
  return json();
}

/// The eventId (as a number) of the entry with `status` in a view history; -1.
inline long long event_id_of(const json& history, const std::string& status) {
  if (!history.is_array()) return -1;
  for (const auto& h : history)
    if (str(h, "status") == status) return std::atoll(str(h, "eventId").c_str());
  return -1;
}

// ---------------------------------------------------------------------------
// Bounded waits

/// Polls `ok` every 20 ms until it holds or `timeout` passes. Whether it held.
inline bool eventually(const std::function<bool()>& ok, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (ok()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

/// `n` threads each run `body(i)`, released at the same moment.
template <class F>
void run_together(int n, F body) {
  std::atomic<int> waiting{n};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      --waiting;
      while (!go.load()) std::this_thread::yield();
      body(i);
    });
  while (waiting.load() > 0) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
}

// ---------------------------------------------------------------------------
// Orders, steps, cancellation

inline Reply step(Http& http, const std::string& order_id, const std::string& s,
                  const std::string& rider_id = "") {
  json body = {{"step", s}};
  if (!rider_id.empty()) body["riderId"] = rider_id;
  return http.post("/v1/orders/" + order_id + "/steps", body);
}

inline Reply cancel(Http& http, const std::string& order_id) {
  return http.post_raw("/v1/orders/" + order_id + "/cancel", "");
}

/// Advances `order_id` to `s` and checks the 200 and the new status.
inline ::testing::AssertionResult Step(Http& http, const std::string& order_id,
                                       const std::string& s, const std::string& rider_id = "") {
  auto r = step(http, order_id, s, rider_id);
  if (r.status != 200)
    return ::testing::AssertionFailure() << "step " << s << ": " << r.describe();
  auto j = r.body_json();
  if (str(j, "status") != s || str(j, "step") != s || str(j, "orderId") != order_id)
    return ::testing::AssertionFailure() << "step " << s << " answered " << r.describe();
  return ::testing::AssertionSuccess();
}

/// GET /v1/orders/{id} as JSON (discarded when not 200).
inline json order_of(Http& http, const std::string& id) { return get_json(http, "/v1/orders/" + id); }

/// The resource's calendar bookings as "orderId start end" (failure if unreadable).
inline std::set<std::string> calendar_bookings(Http& http, const std::string& id) {
  std::set<std::string> out;
  auto r = http.get("/v1/resources/" + id);
  auto j = r.body_json();
  if (r.status != 200 || !j.is_object() || !j.contains("bookings") || !j["bookings"].is_array()) {
    ADD_FAILURE() << "cannot read bookings of " << id << ": " << r.describe();
    return out;
  }
  for (const auto& b : j["bookings"]) {
    EXPECT_EQ(str(b, "status"), "confirmed") << "a booking at rest is confirmed: " << b.dump();
    out.insert(str(b, "orderId") + " " + str(b, "start") + " " + str(b, "end"));
  }
  return out;
}

inline ::testing::AssertionResult Fault(Http& http, const json& body) {
  auto r = http.post("/admin/faults", body);
  if (r.status == 200) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "fault " << body.dump() << ": " << r.describe();
}

// ---------------------------------------------------------------------------
// Subscribers and views

inline json subscribers_of(Http& http) { return get_json(http, "/admin/subscribers"); }

/// The value of series `name` (with its labels, if any) in a /metrics body;
/// -1 if absent. For several values that must agree, read one body.
inline double metric_in(const std::string& body, const std::string& name) {
  const std::string key = "\n" + name + " ";
  auto at = body.find(key);
  return at == std::string::npos ? -1 : std::strtod(body.c_str() + at + key.size(), nullptr);
}

/// A gauge or counter of GET /metrics (-1 when absent).
inline long long metric(Http& http, const std::string& name) {
  auto r = http.get("/metrics");
  if (r.status != 200) return -1;
  return static_cast<long long>(metric_in(r.body, name));
}

/// The entry of subscriber `name` in a /admin/subscribers body (null if absent).
inline json subscriber_entry(const json& subs, const std::string& name) {
  if (!subs.is_object() || !subs.contains("subscribers") || !subs["subscribers"].is_array())
    return json();
  for (const auto& s : subs["subscribers"])
    if (str(s, "name") == name) return s;
  return json();
}

/// Subscriber `name` runs and has applied the log up to its head (>= min_head).
inline bool subscriber_at_head(const json& subs, const std::string& name, long long min_head) {
  const auto s = subscriber_entry(subs, name);
  const long long head = jnum(subs, "logHead");
  return jfield(s, "running") == true && head >= min_head && jnum(s, "cursor") == head &&
         jnum(s, "lag") == 0;
}

/// The log head now (-1 when unreadable).
inline long long log_head(Http& http) { return jnum(subscribers_of(http), "logHead"); }

/// Waits (bounded) until `names` have applied every event of every order
/// change so far: first until no order is half-done (an order still between
/// its write-ahead and its end has events to come), then until the
/// subscribers reach the log head read at that moment.
inline ::testing::AssertionResult ViewsCaughtUp(
  Http& http, const std::vector<std::string>& names = {"notifier", "mypage", "report"},
  std::chrono::milliseconds timeout = 10s) {
  json rec;
  if (!eventually(
        [&] {
          rec = get_json(http, "/admin/reconcile");
          return jnum(jfield(rec, "orders"), "halfDone") == 0;
        },
        timeout))
    return ::testing::AssertionFailure() << "orders still half-done after " << timeout.count()
                                         << " ms: " << rec.dump();
  const long long head = log_head(http);
  if (head < 0) return ::testing::AssertionFailure() << "cannot read /admin/subscribers";
  json last;
  if (eventually(
        [&] {
          last = subscribers_of(http);
          for (const auto& n : names)
            if (!subscriber_at_head(last, n, head)) return false;
          return true;
        },
        timeout))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "subscribers not at the log head (>= " << head
                                       << ") within " << timeout.count() << " ms: " << last.dump();
}

inline json notifications_of(Http& http, const std::string& customer) {
  auto j = get_json(http, "/v1/customers/" + customer + "/notifications");
  if (!j.is_object() || !j.contains("notifications") || !j["notifications"].is_array()) {
    ADD_FAILURE() << "cannot read the notifications of " << customer;
    return json::array();
  }
  return j["notifications"];
}

inline json mypage_of(Http& http, const std::string& customer) {
  auto j = get_json(http, "/v1/customers/" + customer + "/mypage");
  if (!j.is_object() || !j.contains("orders") || !j["orders"].is_array())
    ADD_FAILURE() << "cannot read the mypage of " << customer << ": " << j.dump();
  return j;
}

inline json report_of(Http& http, const std::string& resource) {
  auto j = get_json(http, "/v1/resources/" + resource + "/report");
  if (!j.is_object() || !j.contains("orders") || !j["orders"].is_array())
    ADD_FAILURE() << "cannot read the report of " << resource << ": " << j.dump();
  return j;
}

/// The kinds of the notifications of `order_id`, in eventId order; every one
/// is checked to be well formed and to belong to that order.
inline std::vector<std::string> kinds_of(const json& notes, const std::string& order_id) {
  std::vector<std::pair<long long, std::string>> found;
  if (!notes.is_array()) return {};
  for (const auto& n : notes) {
    if (str(n, "orderId") != order_id) continue;
    for (const char* k : {"eventId", "customerId", "resourceId", "kind", "message", "at"})
      EXPECT_FALSE(str(n, k).empty()) << "notification field " << k << ": " << n.dump();
    found.emplace_back(std::atoll(str(n, "eventId").c_str()), str(n, "kind"));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

/// The notification of `order_id` with `kind` (null if none).
inline json note_of(const json& notes, const std::string& order_id, const std::string& kind) {
  if (!notes.is_array()) return json();
  for (const auto& n : notes)
    if (str(n, "orderId") == order_id && str(n, "kind") == kind) return n;
  return json();
}

/// No two notifications share an eventId.
inline void expect_distinct_event_ids(const json& notes) {
  std::set<std::string> ids;
  if (!notes.is_array()) return;
  for (const auto& n : notes)
    EXPECT_TRUE(ids.insert(str(n, "eventId")).second) << "duplicate notification " << n.dump();
}

/// The order's history as GET /v1/orders/{id} tells it, without `paid` (the
/// customer page tells the payment by its own history).
inline std::vector<std::string> order_history_without_paid(const json& order) {
  std::vector<std::string> out;
  for (const auto& s : statuses_of(jfield(order, "history")))
    if (s != "paid") out.push_back(s);
  return out;
}

/// Waits (bounded) until /admin/reconcile is balanced with no half-done order.
inline ::testing::AssertionResult Balanced(Http& http, json& rec,
                                           std::chrono::milliseconds timeout = 5s) {
  if (eventually(
        [&] {
          rec = get_json(http, "/admin/reconcile");
          return jfield(rec, "balanced") == true && jnum(jfield(rec, "orders"), "halfDone") == 0;
        },
        timeout))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "/admin/reconcile not balanced within "
                                       << timeout.count() << " ms: " << rec.dump();
}

inline ::testing::AssertionResult Balanced(Http& http) {
  json rec;
  return Balanced(http, rec);
}

}  // namespace troupe_it
