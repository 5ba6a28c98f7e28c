// Read views fed by the event log, against the real binary: the customer page
// (/v1/customers/{id}/mypage), notifications, the resource report, the
// subscribers behind them (/admin/subscribers), money reconciliation
// (/admin/reconcile), and what happens to them when a subscriber is stopped
// or crashes, when troupe is killed and restarted, and when the webhook the
// notifier posts to fails for a while.
//
// Views are eventually consistent: every wait here is a bounded poll, never a
// fixed sleep. Once a subscriber has caught up (its cursor is the log head),
// its rows are durable and the views are read once and checked exactly.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

/// Every subscriber runs with its cursor at `cursor` (whatever logHead says).
bool cursors_at(const json& subs, long long cursor) {
  for (const char* n : {"notifier", "mypage", "report"}) {
    const auto s = subscriber_entry(subs, n);
    if (jfield(s, "running") != true || jnum(s, "cursor") != cursor) return false;
  }
  return true;
}

/// After a restart with nothing new appended: the subscribers resume at the
/// stored cursors (all at `head`), and /admin/subscribers shows the stored
/// log head with no lag.
void expect_resumed_at(Http& http, long long head, json& subs) {
  EXPECT_TRUE(eventually([&] {
    subs = subscribers_of(http);
    return cursors_at(subs, head);
  })) << "the subscribers resume at their stored cursors (" << head << "): " << subs.dump();
  EXPECT_EQ(jnum(subs, "logHead"), head)
      << "after a restart /admin/subscribers shows the stored log head: " << subs.dump();
  for (const char* n : {"notifier", "mypage", "report"})
    EXPECT_EQ(jnum(subscriber_entry(subs, n), "lag"), 0) << n << ": " << subs.dump();
}

bool all_caught_up(const json& subs, long long min_head) {
  for (const char* n : {"notifier", "mypage", "report"})
    if (!subscriber_at_head(subs, n, min_head)) return false;
  return true;
}

/// Waits (bounded) until every subscriber is running and at the log head
/// (>= min_head). The last /admin/subscribers body is left in `last`.
::testing::AssertionResult AllCaughtUp(Http& http, long long min_head, json& last,
                                       std::chrono::milliseconds timeout = 5s) {
  if (eventually(
        [&] {
          last = subscribers_of(http);
          return all_caught_up(last, min_head);
        },
        timeout))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "subscribers not caught up (log head >= " << min_head
                                       << ") within " << timeout.count()
                                       << " ms: " << last.dump();
}

::testing::AssertionResult AllCaughtUp(Http& http, long long min_head = 1) {
  json last;
  return AllCaughtUp(http, min_head, last);
}

json notes_raw(Http& http, const std::string& customer) {
  auto j = get_json(http, "/v1/customers/" + customer + "/notifications");
  if (!j.is_object() || !j.contains("notifications") || !j["notifications"].is_array())
    return json();  // null: size 0, equal to no array
  return j["notifications"];
}

json mypage_raw(Http& http, const std::string& customer) {
  return get_json(http, "/v1/customers/" + customer + "/mypage");
}

json report_raw(Http& http, const std::string& resource) {
  return get_json(http, "/v1/resources/" + resource + "/report");
}


/// Checks the notifications are well formed for `customer`, their eventIds
/// distinct; returns eventId -> notification.
std::map<std::string, json> check_notifications(const json& notes, const std::string& customer) {
  std::map<std::string, json> out;
  EXPECT_TRUE(notes.is_array()) << notes.dump();
  if (!notes.is_array()) return out;
  for (const auto& n : notes) {
    for (const char* k : {"eventId", "customerId", "orderId", "resourceId", "kind", "message", "at"})
      EXPECT_TRUE(n.contains(k) && n[k].is_string() && !n[k].get<std::string>().empty())
          << "notification field " << k << ": " << n.dump();
    EXPECT_TRUE(n.contains("amount") && n["amount"].is_number_integer()) << n.dump();
    EXPECT_EQ(str(n, "customerId"), customer) << n.dump();
    EXPECT_TRUE(out.emplace(str(n, "eventId"), n).second)
        << "duplicate notification eventId " << str(n, "eventId") << " in " << notes.dump();
  }
  return out;
}

/// kind -> how many, over all notifications of `order_id` (all orders if empty).
std::map<std::string, int> kinds(const json& notes, const std::string& order_id = "") {
  std::map<std::string, int> out;
  if (!notes.is_array()) return out;
  for (const auto& n : notes)
    if (order_id.empty() || str(n, "orderId") == order_id) out[str(n, "kind")]++;
  return out;
}

/// Checks a report's totals.
void expect_report(const json& rep, long long bookings, long long active, long long cancelled,
                   long long rejected, long long captured, long long refunds) {
  EXPECT_EQ(jnum(rep, "bookings"), bookings) << rep.dump();
  EXPECT_EQ(jnum(rep, "active"), active) << rep.dump();
  EXPECT_EQ(jnum(rep, "cancelled"), cancelled) << rep.dump();
  EXPECT_EQ(jnum(rep, "rejected"), rejected) << rep.dump();
  EXPECT_EQ(jnum(rep, "captured"), captured) << rep.dump();
  EXPECT_EQ(jnum(rep, "refunds"), refunds) << rep.dump();
  EXPECT_EQ(jnum(rep, "revenue"), captured - refunds) << rep.dump();
}

/// The report's lines have distinct orderIds; returns them.
std::set<std::string> report_order_ids(const json& rep) {
  std::set<std::string> ids;
  if (!rep.is_object() || !rep.contains("orders") || !rep["orders"].is_array()) {
    ADD_FAILURE() << "report without an orders array: " << rep.dump();
    return ids;
  }
  for (const auto& l : rep["orders"])
    EXPECT_TRUE(ids.insert(str(l, "orderId")).second)
        << "duplicate report line for " << str(l, "orderId") << ": " << rep.dump();
  return ids;
}

void expect_reconcile(const json& rec, long long confirmed, long long cancelled, long long rejected,
                      long long confirmed_amount, long long captured, long long refunded) {
  const auto o = jfield(rec, "orders");
  EXPECT_EQ(jnum(o, "confirmed"), confirmed) << rec.dump();
  EXPECT_EQ(jnum(o, "cancelled"), cancelled) << rec.dump();
  EXPECT_EQ(jnum(o, "rejected"), rejected) << rec.dump();
  EXPECT_EQ(jnum(o, "halfDone"), 0) << rec.dump();
  EXPECT_EQ(jnum(rec, "confirmedAmount"), confirmed_amount) << rec.dump();
  const auto g = jfield(rec, "gateway");
  EXPECT_EQ(jnum(g, "captured"), captured) << rec.dump();
  EXPECT_EQ(jnum(g, "refunded"), refunded) << rec.dump();
  EXPECT_EQ(jnum(g, "net"), confirmed_amount) << rec.dump();
  EXPECT_EQ(jnum(rec, "violationCount"), 0) << rec.dump();
  EXPECT_TRUE(rec.contains("violations") && rec["violations"].is_array() &&
              rec["violations"].empty())
      << rec.dump();
}

/// Sum of the amounts of the orders (by id) whose status is confirmed now.
long long confirmed_amount(Http& http, const std::vector<std::string>& ids) {
  long long sum = 0;
  for (const auto& id : ids) {
    auto o = get_json(http, "/v1/orders/" + id);
    EXPECT_TRUE(o.is_object()) << "order " << id;
    if (str(o, "status") == "confirmed") sum += jnum(o, "amount");
  }
  return sum;
}

std::string place(Http& http, const std::string& resource, long long q, const std::string& customer) {
  auto r = http.post("/v1/orders", seat_order(resource, q, customer));
  EXPECT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(str(r.body_json(), "status"), "confirmed") << r.describe();
  return str(r.body_json(), "orderId");
}

/// A webhook receiver inside the test: answers 503 while `failing`, else 200,
/// and records every body it gets.
class WebhookSink {
 public:
  WebhookSink() {
    svr_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      attempts_.push_back(req.body);
      content_types_.insert(req.get_header_value("Content-Type"));
      if (failing_.load()) {
        ++failures_;
        res.status = 503;
        res.set_content("try later", "text/plain");
      } else {
        delivered_.push_back(req.body);
        res.status = 200;
        res.set_content("{}", "application/json");
      }
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    if (port_ > 0) {
      thread_ = std::thread([this] { svr_.listen_after_bind(); });
      // stop() is a no-op until the listener runs: wait (bounded), so the
      // destructor can always end it.
      for (int i = 0; i < 500 && !svr_.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~WebhookSink() {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void set_failing(bool f) { failing_ = f; }
  int failures() {
    std::lock_guard<std::mutex> l(mu_);
    return failures_;
  }
  std::vector<std::string> delivered() {
    std::lock_guard<std::mutex> l(mu_);
    return delivered_;
  }
  std::vector<std::string> attempts() {
    std::lock_guard<std::mutex> l(mu_);
    return attempts_;
  }
  std::set<std::string> content_types() {
    std::lock_guard<std::mutex> l(mu_);
    return content_types_;
  }

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = -1;
  std::atomic<bool> failing_{true};
  std::mutex mu_;
  int failures_ = 0;
  std::vector<std::string> attempts_, delivered_;
  std::set<std::string> content_types_;
};

}  // namespace

// One customer: a confirmed order, a declined one, a confirmed-then-cancelled
// one; another customer on another show. Every view shows exactly that, and
// the money reconciles.
TEST(Views, MyPageNotificationsAndReportOfTheMusicalFlow) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-v", 10, 1000)));
  ASSERT_TRUE(Register(http, musical("show-w", 10, 700)));
  const std::string me = "c-views";

  // Nothing yet: empty views, not 404 (a customer is known by her events).
  {
    auto n = http.get("/v1/customers/" + me + "/notifications");
    ASSERT_EQ(n.status, 200) << n.describe();
    EXPECT_EQ(n.header("Content-Type").rfind("application/json", 0), 0u) << n.describe();
    EXPECT_EQ(str(n.body_json(), "customerId"), me);
    EXPECT_EQ(jfield(n.body_json(), "notifications"), json::array()) << n.describe();
    auto m = http.get("/v1/customers/" + me + "/mypage");
    ASSERT_EQ(m.status, 200) << m.describe();
    EXPECT_EQ(jfield(m.body_json(), "orders"), json::array()) << m.describe();
    auto rep = http.get("/v1/resources/show-v/report");
    ASSERT_EQ(rep.status, 200) << rep.describe();
    expect_report(rep.body_json(), 0, 0, 0, 0, 0, 0);
    EXPECT_EQ(jfield(rep.body_json(), "orders"), json::array()) << rep.describe();
    auto subs = subscribers_of(http);
    EXPECT_EQ(jnum(subs, "logHead"), 0) << "registering resources appends no order event: "
                                       << subs.dump();
  }

  // A: 2 seats, confirmed (2000).
  const auto a = place(http, "show-v", 2, me);
  // B: 3 seats, declined (402) and rejected.
  ASSERT_TRUE(Fault(http, {{"payment", {{"failureRate", 1.0}}}}));
  auto rb = http.post("/v1/orders", seat_order("show-v", 3, me));
  ASSERT_TRUE(IsProblem(rb, 402));
  const auto b = str(rb.body_json(), "orderId");
  ASSERT_FALSE(b.empty()) << "a declined order's problem names the order: " << rb.describe();
  ASSERT_TRUE(Fault(http, {{"clear", true}}));
  // C: 1 seat, confirmed (1000), then cancelled (refunded).
  const auto c = place(http, "show-v", 1, me);
  auto rc = http.post_raw("/v1/orders/" + c + "/cancel", "");
  ASSERT_EQ(rc.status, 200) << rc.describe();
  // Someone else, elsewhere: must not show in my views or show-v's report.
  const auto other = place(http, "show-w", 4, "c-someone-else");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(c.empty());
  ASSERT_FALSE(other.empty());

  // Events: A placed, held, authorized, captured, confirmed (5); B placed,
  // held, declined, released, rejected (5); C 5 + cancelled, released,
  // refunded (3); the other order 5.
  json subs;
  ASSERT_TRUE(AllCaughtUp(http, 23, subs));
  EXPECT_EQ(jnum(subs, "logHead"), 23) << subs.dump();
  ASSERT_EQ(subs["subscribers"].size(), 3u) << subs.dump();
  for (const char* n : {"notifier", "mypage", "report"}) {
    auto s = subscriber_entry(subs, n);
    EXPECT_EQ(jfield(s, "running"), true) << n << ": " << subs.dump();
    EXPECT_EQ(jnum(s, "lag"), 0) << n << ": " << subs.dump();
    EXPECT_EQ(jnum(s, "cursor"), jnum(subs, "logHead")) << n << ": " << subs.dump();
  }

  // ---- mypage
  auto page = mypage_raw(http, me);
  ASSERT_TRUE(page.is_object()) << "mypage of " << me;
  EXPECT_EQ(str(page, "customerId"), me);
  ASSERT_EQ(jsize(page, "orders"), 3u) << page.dump();
  // In the order they were placed.
  EXPECT_EQ(str(page["orders"][0], "orderId"), a) << page.dump();
  EXPECT_EQ(str(page["orders"][1], "orderId"), b) << page.dump();
  EXPECT_EQ(str(page["orders"][2], "orderId"), c) << page.dump();
  std::set<std::string> history_event_ids;
  for (const auto& o : page["orders"]) {
    EXPECT_EQ(str(o, "resourceId"), "show-v") << o.dump();
    ASSERT_TRUE(o.contains("history") && o["history"].is_array()) << o.dump();
    for (const auto& e : o["history"]) {
      EXPECT_FALSE(str(e, "at").empty()) << e.dump();
      EXPECT_TRUE(history_event_ids.insert(str(e, "eventId")).second) << page.dump();
    }
    ASSERT_TRUE(o.contains("payment") && o["payment"].is_object()) << o.dump();
    ASSERT_TRUE(o["payment"].contains("history") && o["payment"]["history"].is_array()) << o.dump();
    for (const auto& e : o["payment"]["history"]) {
      EXPECT_FALSE(str(e, "at").empty()) << e.dump();
      EXPECT_TRUE(history_event_ids.insert(str(e, "eventId")).second) << page.dump();
    }
  }
  // 5 + (5 - released) + (5 + 3 - released) shown as history entries.
  EXPECT_EQ(history_event_ids.size(), 5u + 4u + 7u) << page.dump();
  for (const auto& id : history_event_ids) {
    const long long v = std::atoll(id.c_str());
    EXPECT_TRUE(v >= 1 && v <= 23) << "eventId " << id << " outside the log";
  }

  json pa = entry_of(page["orders"], a);
  EXPECT_EQ(str(pa, "status"), "confirmed") << pa.dump();
  EXPECT_EQ(jnum(pa, "amount"), 2000) << pa.dump();
  EXPECT_EQ(statuses_of(pa["history"]), (std::vector<std::string>{"placed", "held", "confirmed"}))
      << pa.dump();
  EXPECT_EQ(str(pa["payment"], "status"), "captured") << pa.dump();
  EXPECT_EQ(jnum(pa["payment"], "amount"), 2000) << pa.dump();
  EXPECT_EQ(statuses_of(pa["payment"]["history"]),
            (std::vector<std::string>{"authorized", "captured"}))
      << pa.dump();

  json pb = entry_of(page["orders"], b);
  EXPECT_EQ(str(pb, "status"), "rejected") << pb.dump();
  EXPECT_EQ(jnum(pb, "amount"), 3000) << pb.dump();
  EXPECT_EQ(statuses_of(pb["history"]), (std::vector<std::string>{"placed", "held", "rejected"}))
      << pb.dump();
  EXPECT_EQ(str(pb["payment"], "status"), "declined") << pb.dump();
  EXPECT_EQ(statuses_of(pb["payment"]["history"]), (std::vector<std::string>{"declined"}))
      << pb.dump();
  EXPECT_FALSE(str(pb, "reason").empty()) << "a rejected order says why: " << pb.dump();

  json pc = entry_of(page["orders"], c);
  EXPECT_EQ(str(pc, "status"), "cancelled") << pc.dump();
  EXPECT_EQ(jnum(pc, "amount"), 1000) << pc.dump();
  EXPECT_EQ(statuses_of(pc["history"]),
            (std::vector<std::string>{"placed", "held", "confirmed", "cancelled"}))
      << pc.dump();
  EXPECT_EQ(str(pc["payment"], "status"), "refunded") << pc.dump();
  EXPECT_EQ(statuses_of(pc["payment"]["history"]),
            (std::vector<std::string>{"authorized", "captured", "refunded"}))
      << pc.dump();

  // Each history is in event order.
  for (const auto& o : page["orders"])
    for (const json* h : {&o["history"], &o["payment"]["history"]})
      for (size_t i = 1; i < h->size(); ++i)
        EXPECT_LT(std::atoll(str((*h)[i - 1], "eventId").c_str()),
                  std::atoll(str((*h)[i], "eventId").c_str()))
            << o.dump();

  // ---- notifications: exactly 4, distinct eventIds, the right kinds.
  auto notes = notes_raw(http, me);
  ASSERT_EQ(notes.size(), 4u) << notes.dump();
  auto by_id = check_notifications(notes, me);
  EXPECT_EQ(by_id.size(), 4u);
  EXPECT_EQ(kinds(notes), (std::map<std::string, int>{
                            {"booking-confirmed", 2}, {"booking-rejected", 1}, {"booking-cancelled", 1}}))
      << notes.dump();
  EXPECT_EQ(kinds(notes, a), (std::map<std::string, int>{{"booking-confirmed", 1}})) << notes.dump();
  EXPECT_EQ(kinds(notes, b), (std::map<std::string, int>{{"booking-rejected", 1}})) << notes.dump();
  EXPECT_EQ(kinds(notes, c),
            (std::map<std::string, int>{{"booking-confirmed", 1}, {"booking-cancelled", 1}}))
      << notes.dump();
  for (const auto& n : notes) {
    EXPECT_EQ(str(n, "resourceId"), "show-v") << n.dump();
    const auto& oid = str(n, "orderId");
    EXPECT_EQ(jnum(n, "amount"), oid == a ? 2000 : oid == b ? 3000 : 1000) << n.dump();
    // The notification's eventId is that of the order's status change.
    const auto po = entry_of(page["orders"], oid);
    const std::string want = str(n, "kind") == "booking-confirmed" ? "confirmed"
                             : str(n, "kind") == "booking-rejected" ? "rejected"
                                                                    : "cancelled";
    std::string event_id;
    for (const auto& h : jfield(po, "history"))
      if (str(h, "status") == want) event_id = str(h, "eventId");
    EXPECT_EQ(str(n, "eventId"), event_id) << n.dump() << " vs " << po.dump();
  }
  // mypage carries the same notifications.
  EXPECT_EQ(jfield(page, "notifications"), notes) << page.dump();

  // The other customer sees only hers.
  auto theirs = notes_raw(http, "c-someone-else");
  ASSERT_EQ(theirs.size(), 1u) << theirs.dump();
  EXPECT_EQ(str(theirs[0], "orderId"), other);
  EXPECT_EQ(jsize(mypage_raw(http, "c-someone-else"), "orders"), 1u);

  // ---- report of show-v: A active, B rejected, C cancelled.
  auto rep = report_raw(http, "show-v");
  ASSERT_TRUE(rep.is_object());
  EXPECT_EQ(str(rep, "resourceId"), "show-v");
  expect_report(rep, /*bookings*/ 2, /*active*/ 1, /*cancelled*/ 1, /*rejected*/ 1,
                /*captured*/ 3000, /*refunds*/ 1000);
  EXPECT_EQ(report_order_ids(rep), (std::set<std::string>{a, b, c})) << rep.dump();
  for (const auto& l : jfield(rep, "orders")) {
    EXPECT_EQ(str(l, "customerId"), me) << l.dump();
    const auto id = str(l, "orderId");
    if (id == a) {
      EXPECT_EQ(str(l, "status"), "confirmed") << l.dump();
      EXPECT_EQ(jnum(l, "amount"), 2000) << l.dump();
      EXPECT_EQ(jnum(l, "captured"), 2000) << l.dump();
      EXPECT_EQ(jnum(l, "refunded"), 0) << l.dump();
    } else if (id == b) {
      EXPECT_EQ(str(l, "status"), "rejected") << l.dump();
      EXPECT_EQ(jnum(l, "captured"), 0) << l.dump();
      EXPECT_EQ(jnum(l, "refunded"), 0) << l.dump();
    } else {
      EXPECT_EQ(str(l, "status"), "cancelled") << l.dump();
      EXPECT_EQ(jnum(l, "captured"), 1000) << l.dump();
      EXPECT_EQ(jnum(l, "refunded"), 1000) << l.dump();
    }
  }
  auto rep_w = report_raw(http, "show-w");
  expect_report(rep_w, 1, 1, 0, 0, 2800, 0);
  EXPECT_EQ(report_order_ids(rep_w), (std::set<std::string>{other}));

  // ---- money: balanced, confirmed amount = the confirmed orders' amounts.
  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  const long long confirmed = confirmed_amount(http, {a, b, c, other});
  EXPECT_EQ(confirmed, 2000 + 2800);
  expect_reconcile(rec, /*confirmed*/ 2, /*cancelled*/ 1, /*rejected*/ 1, confirmed,
                   /*captured*/ 3000 + 2800, /*refunded*/ 1000);
}

// The notifier (and the report) stopped: orders go on, their views fall
// behind (lag grows, nothing lost), mypage keeps up; started again, each
// catches up from its cursor with exactly one notification per change.
// A rendered page is served again until the customer's rows change: each
// change (an order, a cancellation, a notification) shows on the next read,
// and another customer's changes leave the page cached.
TEST(Views, MyPageComesFromTheCacheUntilTheCustomersRowsChange) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-c", 10, 1000)));
  const std::string me = "c-cached";
  auto empty = mypage_raw(http, me);
  ASSERT_EQ(jfield(empty, "orders"), json::array()) << empty.dump();

  const auto first = place(http, "show-c", 1, me);
  json page;
  ASSERT_TRUE(eventually([&] {
    page = mypage_raw(http, me);
    return jsize(page, "orders") == 1 && jsize(page, "notifications") == 1;
  })) << page.dump();
  ASSERT_TRUE(AllCaughtUp(http, log_head(http)));
  page = mypage_raw(http, me);
  const auto hits = metric(http, "troupe_view_cache_hits_total");
  EXPECT_EQ(mypage_raw(http, me), page);
  EXPECT_EQ(metric(http, "troupe_view_cache_hits_total"), hits + 1) << "the same page, from the cache";

  // Another customer's order changes nothing of mine.
  place(http, "show-c", 1, "c-other");
  ASSERT_TRUE(AllCaughtUp(http, log_head(http)));
  EXPECT_EQ(mypage_raw(http, me), page);
  EXPECT_EQ(metric(http, "troupe_view_cache_hits_total"), hits + 2);

  // My cancellation shows on the next read once its rows are written.
  ASSERT_EQ(cancel(http, first).status, 200);
  ASSERT_TRUE(eventually([&] {
    page = mypage_raw(http, me);
    const auto o = entry_of(jfield(page, "orders"), first);
    return str(o, "status") == "cancelled" && jsize(page, "notifications") == 2;
  })) << page.dump();
  // A second order: both are on the page.
  const auto second = place(http, "show-c", 2, me);
  ASSERT_TRUE(eventually([&] {
    page = mypage_raw(http, me);
    return str(entry_of(jfield(page, "orders"), second), "status") == "confirmed";
  })) << page.dump();
  EXPECT_EQ(jsize(page, "orders"), 2u);
}

TEST(Views, StoppedSubscribersFallBehindAndCatchUpWithoutDuplicates) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-o", 100, 500)));
  const std::string me = "c-outage";

  // One order before the outage.
  const auto first = place(http, "show-o", 1, me);
  ASSERT_TRUE(AllCaughtUp(http, 5));
  ASSERT_EQ(notes_raw(http, me).size(), 1u);

  ASSERT_TRUE(Fault(http, {{"stop", "notifier"}}));
  // The contract's form ({"stop":{"subscriber":…}}) and the short form.
  ASSERT_TRUE(Fault(http, {{"stop", {{"subscriber", "report"}}}}));
  // Stopping twice is fine.
  ASSERT_TRUE(Fault(http, {{"stop", "notifier"}}));
  {
    auto f = get_json(http, "/admin/faults");
    auto stopped = jfield(f, "stoppedSubscribers");
    EXPECT_EQ(stopped.size(), 2u) << f.dump();
    EXPECT_NE(std::find(stopped.begin(), stopped.end(), json("notifier")), stopped.end()) << f.dump();
    EXPECT_NE(std::find(stopped.begin(), stopped.end(), json("report")), stopped.end()) << f.dump();
  }

  constexpr int kOrders = 6;
  std::vector<std::string> ids{first};
  for (int i = 0; i < kOrders; ++i) ids.push_back(place(http, "show-o", 1 + i % 2, me));
  const long long head = 5 * (kOrders + 1);

  // mypage keeps up while the others are stopped.
  json subs;
  ASSERT_TRUE(eventually([&] {
    subs = subscribers_of(http);
    return subscriber_at_head(subs, "mypage", head);
  })) << subs.dump();
  EXPECT_EQ(jnum(subs, "logHead"), head) << subs.dump();
  for (const char* n : {"notifier", "report"}) {
    auto s = subscriber_entry(subs, n);
    EXPECT_EQ(jfield(s, "running"), false) << n << ": " << subs.dump();
    EXPECT_EQ(jnum(s, "cursor"), 5) << n << " moved while stopped: " << subs.dump();
    EXPECT_EQ(jnum(s, "lag"), head - 5) << n << ": " << subs.dump();
  }
  EXPECT_EQ(jsize(mypage_raw(http, me), "orders"), static_cast<size_t>(kOrders + 1));
  // The stopped views stay where they were.
  EXPECT_EQ(notes_raw(http, me).size(), 1u);
  EXPECT_EQ(jsize(report_raw(http, "show-o"), "orders"), 1u);
  {
    auto m = http.get("/metrics").body;
    EXPECT_NE(m.find("troupe_subscriber_running{subscriber=\"notifier\"} 0"), std::string::npos) << m;
    EXPECT_NE(m.find("troupe_subscriber_lag{subscriber=\"notifier\"} " + std::to_string(head - 5)),
              std::string::npos)
        << m;
  }

  // The notifier back: it catches up; the report is still stopped.
  ASSERT_TRUE(Fault(http, {{"start", "notifier"}}));
  ASSERT_TRUE(eventually([&] {
    subs = subscribers_of(http);
    return subscriber_at_head(subs, "notifier", head);
  })) << subs.dump();
  EXPECT_EQ(jfield(subscriber_entry(subs, "report"), "running"), false) << subs.dump();
  auto notes = notes_raw(http, me);
  ASSERT_EQ(notes.size(), static_cast<size_t>(kOrders + 1)) << notes.dump();
  EXPECT_EQ(check_notifications(notes, me).size(), static_cast<size_t>(kOrders + 1));
  for (const auto& id : ids)
    EXPECT_EQ(kinds(notes, id), (std::map<std::string, int>{{"booking-confirmed", 1}}))
        << id << ": " << notes.dump();

  // "clear" starts every stopped subscriber: the report catches up too.
  ASSERT_TRUE(Fault(http, {{"clear", true}}));
  ASSERT_TRUE(AllCaughtUp(http, head, subs)) << subs.dump();
  EXPECT_EQ(jfield(get_json(http, "/admin/faults"), "stoppedSubscribers"), json::array());
  auto rep = report_raw(http, "show-o");
  const long long amount = 500 * (1 + 3 * 1 + 3 * 2);  // 1 + (1,2,1,2,1,2)
  expect_report(rep, kOrders + 1, kOrders + 1, 0, 0, amount, 0);
  EXPECT_EQ(report_order_ids(rep), std::set<std::string>(ids.begin(), ids.end()));
  // Still exactly one per order afterwards (no replay from the start).
  EXPECT_EQ(notes_raw(http, me), notes);
  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  expect_reconcile(rec, kOrders + 1, 0, 0, confirmed_amount(http, ids), amount, 0);
}

// A crashed subscriber is restarted by its supervisor and resumes at its
// cursor: it applies only the events after it, and its view has no duplicate.
TEST(Views, CrashedReportSubscriberResumesAtItsCursor) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-c", 50, 300)));
  const std::string me = "c-crash";
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(place(http, "show-c", 2, me));
  ASSERT_EQ(http.post_raw("/v1/orders/" + ids[0] + "/cancel", "").status, 200);
  const long long head1 = 3 * 5 + 3;
  json subs;
  ASSERT_TRUE(AllCaughtUp(http, head1, subs));
  EXPECT_EQ(jnum(subs, "logHead"), head1) << subs.dump();
  const long long applied_before = jnum(subscriber_entry(subs, "report"), "applied");
  EXPECT_EQ(applied_before, head1) << "the report applied every event once: " << subs.dump();

  auto crash = http.post("/admin/faults", json{{"crash", {{"subscriber", "report"}}}});
  ASSERT_EQ(crash.status, 200) << crash.describe();
  EXPECT_EQ(jnum(crash.body_json(), "crashed"), 1) << crash.describe();

  // The subscribers' supervisor restarts it.
  json tree;
  ASSERT_TRUE(eventually([&] {
    tree = get_json(http, "/admin/actors");
    if (!tree.is_object()) return false;
    for (const auto& s : jfield(tree, "supervisors"))
      if (str(s, "name") == "subscribers") return jnum(s, "restarts") >= 1;
    return false;
  })) << "no restart of the crashed subscriber in the tree: " << tree.dump();

  // More events after the crash.
  for (int i = 0; i < 2; ++i) ids.push_back(place(http, "show-c", 1, me));
  ASSERT_EQ(http.post_raw("/v1/orders/" + ids[1] + "/cancel", "").status, 200);
  const long long head2 = head1 + 2 * 5 + 3;
  ASSERT_TRUE(AllCaughtUp(http, head2, subs));
  EXPECT_EQ(jnum(subs, "logHead"), head2) << subs.dump();
  // Resumed at its cursor: only the new events were applied (a replay from
  // the start would have applied head1 more).
  EXPECT_EQ(jnum(subscriber_entry(subs, "report"), "applied"), applied_before + (head2 - head1))
      << subs.dump();

  auto rep = report_raw(http, "show-c");
  EXPECT_EQ(report_order_ids(rep), std::set<std::string>(ids.begin(), ids.end()));
  expect_report(rep, 5, 3, 2, 0, 300 * (3 * 2 + 2 * 1), 300 * (2 + 2));
  auto notes = notes_raw(http, me);
  EXPECT_EQ(check_notifications(notes, me).size(), 7u) << notes.dump();
  EXPECT_EQ(kinds(notes), (std::map<std::string, int>{{"booking-confirmed", 5},
                                                      {"booking-cancelled", 2}}))
      << notes.dump();

  // A second crash right away is survived the same way.
  ASSERT_EQ(http.post("/admin/faults", json{{"crash", {{"subscriber", "report"}}}}).status, 200);
  ids.push_back(place(http, "show-c", 1, me));
  ASSERT_TRUE(AllCaughtUp(http, head2 + 5, subs));
  auto rep2 = report_raw(http, "show-c");
  EXPECT_EQ(report_order_ids(rep2), std::set<std::string>(ids.begin(), ids.end()));
  expect_report(rep2, 6, 4, 2, 0, 300 * (3 * 2 + 3 * 1), 300 * (2 + 2));
}

// kill -9 (with the notifier behind) and a graceful restart: the views are
// all there, every subscriber resumes at its stored cursor, new events get
// new ids, and no notification is ever duplicated.
TEST(Views, ViewsAndCursorsSurviveKill9AndGracefulRestart) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  const std::string me = "c-restart";
  std::vector<std::string> ids;
  long long head = 0;
  json notes_before, page_before, rep_before;
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, musical("show-r", 100, 100)));
    for (int i = 0; i < 3; ++i) ids.push_back(place(http, "show-r", 1, me));
    ASSERT_EQ(http.post_raw("/v1/orders/" + ids[0] + "/cancel", "").status, 200);
    head = 3 * 5 + 3;
    ASSERT_TRUE(AllCaughtUp(http, head));
    ASSERT_EQ(notes_raw(http, me).size(), 4u);

    // The notifier falls behind by two orders, then troupe dies.
    ASSERT_TRUE(Fault(http, {{"stop", "notifier"}}));
    for (int i = 0; i < 2; ++i) ids.push_back(place(http, "show-r", 2, me));
    head += 2 * 5;
    json subs;
    ASSERT_TRUE(eventually([&] {
      subs = subscribers_of(http);
      return subscriber_at_head(subs, "mypage", head) && subscriber_at_head(subs, "report", head);
    })) << subs.dump();
    EXPECT_EQ(jnum(subscriber_entry(subs, "notifier"), "cursor"), head - 10) << subs.dump();
    notes_before = notes_raw(http, me);
    page_before = mypage_raw(http, me);
    rep_before = report_raw(http, "show-r");
    ASSERT_EQ(notes_before.size(), 4u);
    ASSERT_EQ(jsize(page_before, "orders"), 5u);
    server.kill9();
  }

  ASSERT_EQ(server.restart(), "") << "restart after kill -9";
  {
    auto http = server.http();
    // The stored views are there at once, as they were.
    EXPECT_EQ(jfield(mypage_raw(http, me), "orders"), page_before["orders"]);
    EXPECT_EQ(report_raw(http, "show-r"), rep_before);
    // The stop was a fault of the old process: the notifier runs again and
    // catches up from its stored cursor, one notification per change.
    json notes;
    ASSERT_TRUE(eventually([&] {
      notes = notes_raw(http, me);
      return notes.size() >= 6u;
    })) << notes.dump();
    json subs;
    expect_resumed_at(http, head, subs);
    notes = notes_raw(http, me);
    ASSERT_EQ(notes.size(), 6u) << notes.dump();
    EXPECT_EQ(check_notifications(notes, me).size(), 6u);
    for (const auto& n : notes_before)
      EXPECT_NE(std::find(notes.begin(), notes.end(), n), notes.end())
          << "a notification changed or vanished across the restart: " << n.dump();
    // The subscribers that were caught up did not replay anything.
    EXPECT_EQ(jnum(subscriber_entry(subs, "mypage"), "applied"), 0) << subs.dump();
    EXPECT_EQ(jnum(subscriber_entry(subs, "report"), "applied"), 0) << subs.dump();
    EXPECT_EQ(jnum(subscriber_entry(subs, "notifier"), "applied"), 10) << subs.dump();

    // More changes after the restart: new, higher event ids.
    ids.push_back(place(http, "show-r", 3, me));
    ASSERT_EQ(http.post_raw("/v1/orders/" + ids[1] + "/cancel", "").status, 200);
    head += 5 + 3;
    ASSERT_TRUE(AllCaughtUp(http, head, subs));
    EXPECT_EQ(jnum(subs, "logHead"), head) << "event ids continue after the stored head: "
                                          << subs.dump();
    auto notes2 = notes_raw(http, me);
    ASSERT_EQ(notes2.size(), 8u) << notes2.dump();
    auto by_id = check_notifications(notes2, me);
    int newer = 0;
    for (const auto& [id, n] : by_id)
      if (std::atoll(id.c_str()) > head - 8) ++newer;
    EXPECT_EQ(newer, 2) << "the two new notifications carry new event ids: " << notes2.dump();
    auto rep = report_raw(http, "show-r");
    EXPECT_EQ(report_order_ids(rep), std::set<std::string>(ids.begin(), ids.end()));
    expect_report(rep, 6, 4, 2, 0, 100 * (3 + 4 + 3), 100 * 2);
    // The gateway's books came through the kill -9 too.
    json rec;
    ASSERT_TRUE(Balanced(http, rec));
    expect_reconcile(rec, 4, 2, 0, confirmed_amount(http, ids), 100 * 10, 100 * 2);
    EXPECT_EQ(jnum(rec, "confirmedAmount"), 100 * 8);
    notes_before = notes2;
    page_before = mypage_raw(http, me);
    rep_before = rep;
  }

  // A graceful restart: the same again.
  EXPECT_EQ(server.stop(), 0);
  ASSERT_EQ(server.restart(), "");
  {
    auto http = server.http();
    EXPECT_EQ(notes_raw(http, me), notes_before);
    EXPECT_EQ(mypage_raw(http, me), page_before);
    EXPECT_EQ(report_raw(http, "show-r"), rep_before);
    json subs;
    expect_resumed_at(http, head, subs);
    ids.push_back(place(http, "show-r", 1, me));
    head += 5;
    ASSERT_TRUE(AllCaughtUp(http, head, subs));
    auto notes = notes_raw(http, me);
    EXPECT_EQ(check_notifications(notes, me).size(), 9u) << notes.dump();
    for (const auto& id : ids) {
      auto k = kinds(notes, id);
      EXPECT_EQ(k["booking-confirmed"], 1) << id << ": " << notes.dump();
      EXPECT_LE(k["booking-cancelled"], 1) << id << ": " << notes.dump();
    }
    json rec;
    ASSERT_TRUE(Balanced(http, rec));
    expect_reconcile(rec, 5, 2, 0, confirmed_amount(http, ids), 100 * 11, 100 * 2);
  }
}

// kill -9 while an order's charge is in flight (held, write-ahead stored):
// after the restart the half-done order is compensated — rejected, payment
// voided, seats back — and the views and the reconciliation show it.
TEST(Views, HalfDoneOrderAfterKill9IsCompensatedAndReconciles) {
  auto args = fast_payments_with_faults();
  for (const char* a : {"--payment-timeout-ms", "10000"}) args.push_back(a);
  TroupeServer server(args);
  ASSERT_EQ(server.start(), "");
  const std::string me = "c-halfdone";
  std::string done;
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, musical("show-h", 10, 900)));
    done = place(http, "show-h", 1, me);
    ASSERT_TRUE(Fault(http, {{"payment", {{"latencyMs", {4000, 4000}}}}}));
  }
  Reply inflight;
  std::thread t([&, port = server.port()] {
    Http h(port, 30);
    inflight = h.post("/v1/orders", seat_order("show-h", 3, me));
  });
  json rec;
  {
    auto http = server.http();
    const bool held = eventually([&] {
      rec = get_json(http, "/admin/reconcile");
      return jnum(jfield(rec, "orders"), "halfDone") == 1;
    });
    EXPECT_TRUE(held) << "the held order is stored before the charge: " << rec.dump();
    server.kill9();
  }
  t.join();
  ASSERT_EQ(inflight.status, 0) << "the order was meant to be in flight at the kill: "
                                << inflight.describe();

  ASSERT_EQ(server.restart(), "");
  auto http = server.http();
  ASSERT_TRUE(Balanced(http, rec, 10s));
  expect_reconcile(rec, 1, 0, 1, 900, 900, 0);
  EXPECT_EQ(available(http, "show-h"), 9) << "the compensated hold is released";

  // The views tell the story of the interrupted order.
  json page, notes;
  ASSERT_TRUE(eventually([&] {
    page = mypage_raw(http, me);
    notes = notes_raw(http, me);
    return jsize(page, "orders") == 2 && notes.size() == 2 &&
           str(page["orders"][1], "status") == "rejected";
  })) << page.dump() << notes.dump();
  json o = page["orders"][1];
  const auto id = str(o, "orderId");
  EXPECT_NE(id, done);
  EXPECT_EQ(jnum(o, "amount"), 2700) << o.dump();
  EXPECT_EQ(statuses_of(o["history"]), (std::vector<std::string>{"placed", "held", "rejected"}))
      << o.dump();
  EXPECT_EQ(str(o["payment"], "status"), "voided") << o.dump();
  EXPECT_EQ(statuses_of(o["payment"]["history"]), (std::vector<std::string>{"authorized", "voided"}))
      << o.dump();
  EXPECT_EQ(kinds(notes, id), (std::map<std::string, int>{{"booking-rejected", 1}})) << notes.dump();
  EXPECT_EQ(check_notifications(notes, me).size(), 2u);
  auto g = get_json(http, "/v1/orders/" + id);
  EXPECT_EQ(str(g, "status"), "rejected") << g.dump();
  EXPECT_TRUE(AllCaughtUp(http, 5 + 6));
  auto rep = report_raw(http, "show-h");
  expect_report(rep, 1, 1, 0, 1, 900, 0);
  EXPECT_EQ(report_order_ids(rep), (std::set<std::string>{done, id}));
}

// The notifier posts every notification to the webhook and advances its
// cursor only after a 2xx: while the receiver answers 503 nothing is stored
// and the failures are counted; once it answers 200 every notification is
// delivered (at least once) and stored exactly once.
TEST(Views, WebhookGetsEveryNotificationAndTheCursorWaitsForDelivery) {
  WebhookSink sink;
  ASSERT_GT(sink.port(), 0) << "cannot listen for the webhook";
  auto args = fast_payments_with_faults();
  args.push_back("--webhook-url");
  args.push_back(sink.url());
  TroupeServer server(args);
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-h", 50, 250)));
  const std::string me = "c-webhook";

  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(place(http, "show-h", 1, me));
  const long long head = 3 * 5;

  // The receiver refuses: retried with backoff, nothing stored, cursor put.
  ASSERT_TRUE(eventually([&] { return sink.failures() >= 3; }, 10s))
      << "the notifier retries a failed webhook: " << sink.failures() << " attempts";
  json subs;
  ASSERT_TRUE(eventually([&] {
    subs = subscribers_of(http);
    return subscriber_at_head(subs, "mypage", head) && subscriber_at_head(subs, "report", head);
  })) << "the other subscribers do not wait for the webhook: " << subs.dump();
  {
    auto n = subscriber_entry(subs, "notifier");
    EXPECT_EQ(jfield(n, "running"), true) << subs.dump();
    // Event 5 is the first confirmation (placed, held, authorized,
    // captured, confirmed): the cursor may pass the events before it, which
    // notify nobody, but not that one until it is delivered.
    EXPECT_LT(jnum(n, "cursor"), 5) << "cursor moved before delivery: " << subs.dump();
    EXPECT_GE(jnum(n, "cursor"), 0) << subs.dump();
    EXPECT_EQ(jnum(n, "lag"), head - jnum(n, "cursor")) << subs.dump();
    EXPECT_GE(jnum(n, "webhookFailures"), 1) << subs.dump();
    EXPECT_EQ(jnum(n, "webhookDelivered"), 0) << subs.dump();
  }
  EXPECT_EQ(notes_raw(http, me), json::array());
  EXPECT_TRUE(sink.delivered().empty());
  EXPECT_EQ(jsize(mypage_raw(http, me), "orders"), 3u);

  // The receiver recovers.
  sink.set_failing(false);
  ASSERT_TRUE(eventually(
    [&] {
      subs = subscribers_of(http);
      return subscriber_at_head(subs, "notifier", head);
    },
    15s))
      << subs.dump();
  ASSERT_EQ(http.post_raw("/v1/orders/" + ids[2] + "/cancel", "").status, 200);
  ASSERT_TRUE(AllCaughtUp(http, head + 3, subs));
  auto notes = notes_raw(http, me);
  ASSERT_EQ(notes.size(), 4u) << notes.dump();
  auto stored = check_notifications(notes, me);

  // Every stored notification was delivered, as stored; the receiver got
  // nothing else.
  std::map<std::string, json> delivered;
  for (const auto& body : sink.delivered()) {
    auto j = json::parse(body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "webhook body is not JSON: " << body;
    ASSERT_FALSE(str(j, "eventId").empty()) << body;
    auto [it, fresh] = delivered.emplace(str(j, "eventId"), j);
    if (!fresh) {
      EXPECT_EQ(it->second, j) << "a redelivery differs from the first delivery";
    }
  }
  EXPECT_EQ(delivered.size(), stored.size());
  for (const auto& [id, n] : stored) {
    auto it = delivered.find(id);
    ASSERT_NE(it, delivered.end()) << "notification " << n.dump() << " never delivered";
    EXPECT_EQ(it->second, n);
  }
  EXPECT_EQ(kinds(notes), (std::map<std::string, int>{{"booking-confirmed", 3},
                                                      {"booking-cancelled", 1}}));
  EXPECT_EQ(sink.content_types(), (std::set<std::string>{"application/json"}));

  auto n = subscriber_entry(subs, "notifier");
  EXPECT_GE(jnum(n, "webhookFailures"), 3) << subs.dump();
  EXPECT_GE(jnum(n, "webhookDelivered"), 4) << subs.dump();
  EXPECT_EQ(jnum(n, "webhookDelivered"), static_cast<long long>(sink.delivered().size()))
      << subs.dump();
  EXPECT_NE(http.get("/metrics").body.find("troupe_webhook_failures_total " +
                                           std::to_string(jnum(n, "webhookFailures"))),
            std::string::npos);
}

// Bad ids, wrong methods, unknown resources and subscriber names are refused
// as problems and change nothing.
TEST(Views, BadInputToViewsAndSubscriberFaults) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-b", 10, 100)));
  place(http, "show-b", 1, "c-bad");
  ASSERT_TRUE(AllCaughtUp(http, 5));
  const auto subs_before = subscribers_of(http);
  const std::string too_long(129, 'x');

  for (const std::string& id : {std::string("a%20b"), too_long, std::string("c%2Cbad"),
                                std::string("%C3%A9")}) {
    SCOPED_TRACE("id '" + id + "'");
    EXPECT_TRUE(IsProblem(http.get("/v1/customers/" + id + "/mypage"), 400));
    EXPECT_TRUE(IsProblem(http.get("/v1/customers/" + id + "/notifications"), 400));
    EXPECT_TRUE(IsProblem(http.get("/v1/resources/" + id + "/report"), 400));
  }
  // 128 characters is still an id.
  const std::string longest(128, 'y');
  EXPECT_EQ(http.get("/v1/customers/" + longest + "/notifications").status, 200);

  for (const std::string& path : {std::string("/v1/customers/c-bad/mypage"),
                                  std::string("/v1/customers/c-bad/notifications"),
                                  std::string("/v1/resources/show-b/report"),
                                  std::string("/admin/subscribers"), std::string("/admin/reconcile")}) {
    SCOPED_TRACE(path);
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
      auto r = std::string(method) == "POST" ? http.post(path, json::object())
                                             : http.send(method, path, "{}");
      EXPECT_TRUE(IsProblem(r, 405)) << method;
      EXPECT_NE(r.header("Allow").find("GET"), std::string::npos) << method << ": " << r.describe();
    }
  }

  EXPECT_TRUE(IsProblem(http.get("/v1/resources/no-such-show/report"), 404));

  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", "nobody"}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"start", "nobody"}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", 1}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", {{"subscriber", "nobody"}}}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", {{"subscriber", 7}}}}), 400));
  EXPECT_TRUE(IsProblem(
    http.post("/admin/faults", json{{"stop", {{"subscriber", "notifier"}, {"also", 1}}}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", json::object()}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", json::array({"notifier"})}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", ""}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", "Notifier"}}), 400));
  EXPECT_TRUE(IsProblem(
    http.post("/admin/faults", json{{"stop", "notifier"}, {"start", "notifier"}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"crash", {{"subscriber", "nobody"}}}}), 404));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"crash", {{"subscriber", 7}}}}), 400));

  // Nothing was stopped or crashed by the refused requests.
  EXPECT_EQ(jfield(get_json(http, "/admin/faults"), "stoppedSubscribers"), json::array());
  json subs;
  EXPECT_TRUE(AllCaughtUp(http, 5, subs));
  EXPECT_EQ(subs, subs_before);
  EXPECT_EQ(notes_raw(http, "c-bad").size(), 1u);
  expect_report(report_raw(http, "show-b"), 1, 1, 0, 0, 100, 0);
}

// Without --enable-faults the subscriber faults do not exist, but the views
// and the admin reads do.
TEST(Views, SubscriberFaultsNeedEnableFaults) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"stop", "notifier"}}), 404));
  EXPECT_EQ(http.get("/admin/subscribers").status, 200);
  auto rec = http.get("/admin/reconcile");
  ASSERT_EQ(rec.status, 200) << rec.describe();
  EXPECT_EQ(jfield(rec.body_json(), "balanced"), true) << rec.describe();
  EXPECT_EQ(http.get("/v1/customers/c-1/mypage").status, 200);
}
