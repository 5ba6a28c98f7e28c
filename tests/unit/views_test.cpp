// Projections of events into view rows and the REST views built from them.
#include "views/projections.hpp"

#include "domain/time.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace troupe::views {
namespace {

using domain::Event;

Event ev(std::uint64_t seq, const std::string& type, const std::string& order,
         const std::string& status, domain::Money amount = 1000,
         const std::string& customer = "alice", const std::string& resource = "show-1") {
  Event e;
  e.seq = seq;
  e.type = type;
  e.order_id = order;
  e.resource_id = resource;
  e.customer_id = customer;
  e.at = 1'700'000'000'000 + static_cast<domain::Timestamp>(seq);
  e.status = status;
  e.amount = amount;
  e.payment_id = "pay-" + order;
  return e;
}

/// What a store would hold after applying `events` through subscriber
/// `name` (rows by key; a replay overwrites).
std::vector<persistence::Record> project_all(const std::string& name, const std::vector<Event>& events) {
  std::map<std::string, std::string> rows;
  for (const auto& e : events)
    for (const auto& w : project(name, e)) rows[w.key] = w.value;
  std::vector<persistence::Record> out;
  for (const auto& kv : rows) out.push_back({kv.first, kv.second});
  return out;
}

std::vector<persistence::Record> group(const std::vector<persistence::Record>& rows,
                                       const std::string& g) {
  std::vector<persistence::Record> out;
  for (const auto& r : rows)
    if (r.key.rfind(g + "/", 0) == 0) out.push_back(r);
  return out;
}

/// A confirmed-then-cancelled order o-1 and a declined order o-2.
std::vector<Event> story() {
  return {ev(1, "OrderPlaced", "o-1", "held"),         ev(2, "ResourceHeld", "o-1", "held"),
          ev(3, "PaymentAuthorized", "o-1", "confirmed"), ev(4, "PaymentCaptured", "o-1", "confirmed"),
          ev(5, "OrderConfirmed", "o-1", "confirmed"), ev(6, "OrderPlaced", "o-2", "held", 300),
          ev(7, "ResourceHeld", "o-2", "held", 300),   ev(8, "PaymentDeclined", "o-2", "rejected", 300),
          ev(9, "ResourceReleased", "o-2", "rejected", 300),
          ev(10, "OrderRejected", "o-2", "rejected", 300),
          ev(11, "OrderCancelled", "o-1", "cancelled"), ev(12, "ResourceReleased", "o-1", "cancelled"),
          ev(13, "PaymentRefunded", "o-1", "cancelled")};
}

/// What a notification said when it was a JSON tree: the reference the
/// text must match byte for byte.
nlohmann::json notification_tree(const Event& e, const std::string& kind, const std::string& message) {
  return {{"eventId", std::to_string(e.seq)}, {"customerId", e.customer_id},
          {"orderId", e.order_id},            {"resourceId", e.resource_id},
          {"kind", kind},                     {"message", message},
          {"amount", e.amount},               {"at", domain::format_rfc3339(e.at)}};
}

TEST(Projections, ANotificationIsTheJsonItAlwaysWasWrittenAsText) {
  auto confirmed = ev(5, "OrderConfirmed", "o-1", "confirmed", 2500);
  EXPECT_EQ(notification(confirmed),
            notification_tree(confirmed, "booking-confirmed",
                              "Your order o-1 for show-1 is confirmed; 2500 charged.").dump());
  auto called = ev(6, "OrderConfirmed", "o-2", "called", 700, "bob", "zone-1");
  EXPECT_EQ(notification(called),
            notification_tree(called, "booking-confirmed",
                              "Your order o-2 for zone-1: the delivery call is placed; fee 700 authorized.")
              .dump());
  auto voided = ev(7, "OrderCancelled", "o-2", "cancelled", 700, "bob", "zone-1");
  voided.payment_status = "voided";
  voided.detail = "taken";
  EXPECT_EQ(notification(voided),
            notification_tree(voided, "booking-cancelled",
                              "Your order o-2 for zone-1: delivery cancelled; the authorization is voided.")
              .dump());
  auto shipped = ev(8, "StepAdvanced", "o-3", "shipped");
  shipped.detail = "shipped";
  EXPECT_EQ(notification(shipped),
            notification_tree(shipped, "status-shipped", "Your order o-3 for show-1: delivery started.").dump());
  // Whatever a rejection's reason holds is escaped as nlohmann escapes it.
  auto rejected = ev(9, "OrderRejected", "o-4", "rejected", 300, "c\"q\\u\u00e9", "r\t\n\x01\x1f");
  rejected.detail = "payment \"declined\"\b\f\r";
  EXPECT_EQ(notification(rejected),
            notification_tree(rejected, "booking-rejected",
                              "Your order o-4 for r\t\n\x01\x1f could not be booked: payment "
                              "\"declined\"\b\f\r.")
              .dump());
  EXPECT_EQ(nlohmann::json::parse(notification(rejected))["customerId"], "c\"q\\u\u00e9");
}

TEST(Projections, NotifierTellsConfirmedRejectedAndCancelledOnce) {
  auto rows = project_all("notifier", story());
  auto view = notifications_view("alice", group(rows, notifications_group("alice")));
  const auto& n = view["notifications"];
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0]["kind"], "booking-confirmed");
  EXPECT_EQ(n[1]["kind"], "booking-rejected");
  EXPECT_EQ(n[2]["kind"], "booking-cancelled");
  EXPECT_EQ(n[0]["eventId"], "5");
  EXPECT_EQ(n[2]["orderId"], "o-1");
  EXPECT_NE(n[2]["message"].get<std::string>().find("refunded"), std::string::npos);
}

TEST(Projections, ReplayingEveryEventTwiceChangesNothing) {
  auto events = story();
  auto twice = events;
  twice.insert(twice.end(), events.begin(), events.end());
  for (const auto& name : subscriber_names)
    EXPECT_EQ(project_all(name, twice).size(), project_all(name, events).size()) << name;
  auto once = mypage_view("alice", group(project_all("mypage", events), mypage_group("alice")), {});
  auto again = mypage_view("alice", group(project_all("mypage", twice), mypage_group("alice")), {});
  EXPECT_EQ(once, again);
}

TEST(Projections, MyPageShowsEachOrderWithItsHistories) {
  auto rows = project_all("mypage", story());
  auto v = mypage_view("alice", group(rows, mypage_group("alice")), {});
  ASSERT_EQ(v["orders"].size(), 2u);
  const auto& o1 = v["orders"][0];
  EXPECT_EQ(o1["orderId"], "o-1");
  EXPECT_EQ(o1["status"], "cancelled");
  std::vector<std::string> hist, pay;
  for (const auto& h : o1["history"]) hist.push_back(h["status"]);
  for (const auto& h : o1["payment"]["history"]) pay.push_back(h["status"]);
  EXPECT_EQ(hist, (std::vector<std::string>{"placed", "held", "confirmed", "cancelled"}));
  EXPECT_EQ(pay, (std::vector<std::string>{"authorized", "captured", "refunded"}));
  EXPECT_EQ(o1["payment"]["status"], "refunded");
  const auto& o2 = v["orders"][1];
  EXPECT_EQ(o2["status"], "rejected");
  EXPECT_EQ(o2["payment"]["status"], "declined");
}

TEST(Projections, OtherCustomersRowsAreNotMixedIn) {
  auto events = story();
  events.push_back(ev(14, "OrderPlaced", "o-3", "held", 50, "bob"));
  auto rows = project_all("mypage", events);
  EXPECT_EQ(mypage_view("bob", group(rows, mypage_group("bob")), {})["orders"].size(), 1u);
  EXPECT_EQ(mypage_view("alice", group(rows, mypage_group("alice")), {})["orders"].size(), 2u);
}

TEST(Projections, ReportCountsBookingsRevenueAndRefunds) {
  auto events = story();
  // A second confirmed order that stays.
  for (auto e : {ev(20, "OrderPlaced", "o-4", "held", 700, "bob"),
                 ev(21, "PaymentCaptured", "o-4", "confirmed", 700, "bob"),
                 ev(22, "OrderConfirmed", "o-4", "confirmed", 700, "bob")})
    events.push_back(e);
  auto rows = project_all("report", events);
  auto r = report_view("show-1", group(rows, report_group("show-1")));
  EXPECT_EQ(r["bookings"], 2);
  EXPECT_EQ(r["active"], 1);
  EXPECT_EQ(r["cancelled"], 1);
  EXPECT_EQ(r["rejected"], 1);
  EXPECT_EQ(r["captured"], 1700);
  EXPECT_EQ(r["refunds"], 1000);
  EXPECT_EQ(r["revenue"], 700);
  EXPECT_EQ(r["orders"].size(), 3u);
}

TEST(Projections, APageGroupsAnOrdersEventsInOneRowAndAnyReplayShowsEachEventOnce) {
  const auto events = story();
  auto as_records = [](const std::map<std::string, std::string>& m) {
    std::vector<persistence::Record> out;
    for (const auto& kv : m) out.push_back({kv.first, kv.second});
    return out;
  };
  for (const std::string name : {"mypage", "report"}) {
    std::map<std::string, std::string> paged;
    for (const auto& w : project_page(name, events)) paged[w.key] = w.value;
    // o-1 and o-2: one row each, however many events they had.
    EXPECT_EQ(paged.size(), 2u) << name;
    // The same log applied event by event, then replayed from the start in
    // pages of 4 (grouped differently): more rows, the same view.
    std::map<std::string, std::string> replayed;
    for (const auto& e : events)
      for (const auto& w : project(name, e)) replayed[w.key] = w.value;
    for (size_t at = 0; at < events.size(); at += 4) {
      std::vector<Event> page(events.begin() + at, events.begin() + std::min(at + 4, events.size()));
      for (const auto& w : project_page(name, page)) replayed[w.key] = w.value;
    }
    EXPECT_GT(replayed.size(), paged.size());
    if (name == "mypage") {
      auto a = mypage_view("alice", group(as_records(paged), mypage_group("alice")), {});
      auto b = mypage_view("alice", group(as_records(replayed), mypage_group("alice")), {});
      EXPECT_EQ(a, b);
      EXPECT_EQ(a["orders"].size(), 2u);
    } else {
      auto a = report_view("show-1", group(as_records(paged), report_group("show-1")));
      auto b = report_view("show-1", group(as_records(replayed), report_group("show-1")));
      EXPECT_EQ(a, b);
      EXPECT_EQ(a["refunds"], 1000);
    }
  }
}

TEST(Projections, RowKeysBelongToOneGroupEach) {
  for (const auto& name : subscriber_names)
    for (const auto& e : story())
      for (const auto& w : project(name, e)) {
        const auto slash = w.key.rfind('/');
        ASSERT_NE(slash, std::string::npos);
        const auto field = w.key.substr(slash + 1);
        EXPECT_FALSE(field.empty());
        EXPECT_NE(field.find(std::to_string(e.seq)), std::string::npos) << "keyed by event id";
      }
}

TEST(Projections, UnreadableRowsAreSkippedNotFatal) {
  std::vector<persistence::Record> rows = {{"mypage/alice/o-1.00000000000000000001", "{"},
                                           {"mypage/alice/o-1.xx", "{}"}};
  EXPECT_EQ(mypage_view("alice", rows, {})["orders"].size(), 0u);
  EXPECT_FALSE(row_events(rows[0]).ok());
  EXPECT_FALSE(row_events({"mypage/alice/o-1.00000000000000000001", "12"}).ok());
  EXPECT_FALSE(row_events({"mypage/alice/o-1.00000000000000000001", "R1\to-1\tr\tc\tp\nx\tOrderPlaced"}).ok());
  EXPECT_FALSE(row_events({"mypage/alice/o-1.00000000000000000001", "R1\to-1\tr\tc\tp"}).ok()) << "no events";
}

}  // namespace
}  // namespace troupe::views
