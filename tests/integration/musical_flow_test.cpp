// Musical seats end to end against the real binary: register a show, reserve,
// refuse an oversell, cancel (seats back, payment refunded), list resources;
// a notification on every confirmation, rejection and cancellation, the
// customer's whole history on her page, the show's report.

#include <set>

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

void expect_order_shape(const json& o) {
  for (const char* k : {"orderId", "resourceId", "customerId", "status", "paymentId", "createdAt"})
    EXPECT_TRUE(o.contains(k) && o[k].is_string()) << "order field " << k << ": " << o.dump();
  EXPECT_TRUE(o.contains("amount") && o["amount"].is_number_integer()) << o.dump();
  EXPECT_TRUE(o.contains("history") && o["history"].is_array() && !o["history"].empty())
      << o.dump();
  if (o.contains("history") && o["history"].is_array()) {
    for (const auto& h : o["history"]) {
      EXPECT_TRUE(h.is_object() && h.contains("status") && h["status"].is_string() &&
                  h.contains("at") && h["at"].is_string())
          << "history entry " << h.dump();
    }
  }
  ASSERT_TRUE(o.contains("payment") && o["payment"].is_object()) << o.dump();
  const auto& p = o["payment"];
  for (const char* k : {"paymentId", "orderId", "status"})
    EXPECT_TRUE(p.contains(k) && p[k].is_string()) << "payment field " << k << ": " << p.dump();
  EXPECT_TRUE(p.contains("amount") && p["amount"].is_number_integer()) << p.dump();
  EXPECT_TRUE(p.contains("history") && p["history"].is_array()) << p.dump();
  EXPECT_EQ(str(p, "paymentId"), str(o, "paymentId"));
  EXPECT_EQ(str(p, "orderId"), str(o, "orderId"));
  EXPECT_EQ(p.value("amount", -1LL), o.value("amount", -2LL));
}

}  // namespace

TEST(MusicalFlow, ReserveRefuseOversellCancelRefund) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();

  // Register: 201 with the resource, then idempotent 200, then 409 on different content.
  auto reg = http.post("/v1/resources", musical("musical-1"));
  ASSERT_EQ(reg.status, 201) << reg.describe();
  EXPECT_EQ(reg.header("Content-Type").rfind("application/json", 0), 0u) << reg.describe();
  auto rj = reg.body_json();
  EXPECT_EQ(str(rj, "id"), "musical-1");
  EXPECT_EQ(str(rj, "type"), "musical");
  EXPECT_EQ(str(rj, "name"), "HOT");
  EXPECT_EQ(str(rj, "mode"), "capacity");
  EXPECT_EQ(rj.value("price", -1LL), 50000);
  EXPECT_EQ(rj.value("capacity", -1LL), 100);
  EXPECT_EQ(rj.value("available", -1LL), 100);
  EXPECT_TRUE(rj.contains("steps") && rj["steps"].is_array()) << rj.dump();

  auto again = http.post("/v1/resources", musical("musical-1"));
  EXPECT_EQ(again.status, 200) << again.describe();
  auto changed = http.post("/v1/resources", musical("musical-1", 120));
  EXPECT_TRUE(IsProblem(changed, 409));
  EXPECT_EQ(available(http, "musical-1"), 100) << "a refused re-registration changed the show";
  auto got = get_resource(http, "musical-1");
  EXPECT_EQ(got.value("capacity", -1LL), 100) << got.dump();

  // Reserve 3.
  auto r3 = http.post("/v1/orders", seat_order("musical-1", 3));
  ASSERT_EQ(r3.status, 201) << r3.describe();
  auto o = r3.body_json();
  expect_order_shape(o);
  const auto order_id = str(o, "orderId");
  const auto payment_id = str(o, "paymentId");
  ASSERT_FALSE(order_id.empty());
  EXPECT_EQ(r3.header("Location"), "/v1/orders/" + order_id);
  EXPECT_EQ(str(o, "status"), "confirmed");
  EXPECT_EQ(str(o, "resourceId"), "musical-1");
  EXPECT_EQ(str(o, "customerId"), "c-42");
  EXPECT_EQ(o.value("quantity", -1LL), 3);
  EXPECT_EQ(o.value("amount", -1LL), 3 * 50000);
  EXPECT_EQ(str(o["payment"], "status"), "captured") << o.dump();
  EXPECT_EQ(available(http, "musical-1"), 97);

  // The order and its payment read back.
  auto go = http.get("/v1/orders/" + order_id);
  ASSERT_EQ(go.status, 200) << go.describe();
  EXPECT_EQ(str(go.body_json(), "status"), "confirmed");
  EXPECT_EQ(go.body_json().value("quantity", -1LL), 3);
  auto gp = http.get("/v1/payments/" + payment_id);
  ASSERT_EQ(gp.status, 200) << gp.describe();
  EXPECT_EQ(str(gp.body_json(), "status"), "captured");
  EXPECT_EQ(gp.body_json().value("amount", -1LL), 150000);
  EXPECT_EQ(str(gp.body_json(), "orderId"), order_id);

  // 98 > 97 left: refused synchronously, nothing taken.
  auto r98 = http.post("/v1/orders", seat_order("musical-1", 98));
  EXPECT_TRUE(IsProblem(r98, 409));
  EXPECT_EQ(available(http, "musical-1"), 97);

  // Cancel: seats back, payment refunded.
  auto c = http.post_raw("/v1/orders/" + order_id + "/cancel", "");
  ASSERT_EQ(c.status, 200) << c.describe();
  auto cj = c.body_json();
  EXPECT_EQ(str(cj, "status"), "cancelled") << cj.dump();
  EXPECT_EQ(str(cj.value("payment", json::object()), "status"), "refunded") << cj.dump();
  EXPECT_EQ(available(http, "musical-1"), 100);
  auto gp2 = http.get("/v1/payments/" + payment_id);
  ASSERT_EQ(gp2.status, 200) << gp2.describe();
  EXPECT_EQ(str(gp2.body_json(), "status"), "refunded") << gp2.describe();
  auto go2 = http.get("/v1/orders/" + order_id);
  EXPECT_EQ(str(go2.body_json(), "status"), "cancelled") << go2.describe();

  // Cancelling twice is a conflict and changes nothing; unknown order is 404.
  EXPECT_TRUE(IsProblem(http.post_raw("/v1/orders/" + order_id + "/cancel", ""), 409));
  EXPECT_EQ(available(http, "musical-1"), 100);
  EXPECT_TRUE(IsProblem(http.post_raw("/v1/orders/no-such-order/cancel", ""), 404));
  EXPECT_TRUE(IsProblem(http.get("/v1/orders/no-such-order"), 404));
  EXPECT_TRUE(IsProblem(http.get("/v1/payments/no-such-payment"), 404));
  EXPECT_TRUE(IsProblem(http.get("/v1/resources/no-such-show"), 404));

  // All 100 seats can now be taken in one order; then nothing is left.
  auto all = http.post("/v1/orders", seat_order("musical-1", 100, "c-43"));
  ASSERT_EQ(all.status, 201) << all.describe();
  EXPECT_EQ(available(http, "musical-1"), 0);
  EXPECT_TRUE(IsProblem(http.post("/v1/orders", seat_order("musical-1", 1)), 409));
  EXPECT_EQ(available(http, "musical-1"), 0);
}

TEST(MusicalFlow, ListByTypeIsPaginated) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();

  std::set<std::string> musicals;
  for (int i = 0; i < 5; ++i) {
    auto id = "show-" + std::to_string(i);
    ASSERT_TRUE(Register(http, musical(id, 10 + i)));
    musicals.insert(id);
  }
  ASSERT_TRUE(Register(http, room("room-1")));

  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;; ++pages) {
    ASSERT_LT(pages, 10) << "pagination does not terminate";
    std::string path = "/v1/resources?type=musical&limit=2";
    if (!cursor.empty()) path += "&cursor=" + url_encode(cursor);
    auto r = http.get(path);
    ASSERT_EQ(r.status, 200) << r.describe();
    auto j = r.body_json();
    ASSERT_TRUE(j.is_object() && j.contains("items") && j["items"].is_array()) << r.describe();
    ASSERT_TRUE(j.contains("nextCursor")) << "nextCursor must be present (null at the end)";
    EXPECT_LE(j["items"].size(), 2u) << "limit=2 not honoured: " << r.describe();
    for (const auto& item : j["items"]) {
      EXPECT_EQ(str(item, "type"), "musical") << item.dump();
      EXPECT_TRUE(seen.insert(str(item, "id")).second) << "duplicate across pages: " << item.dump();
      if (str(item, "id").rfind("show-", 0) == 0) {
        EXPECT_TRUE(item.contains("available")) << "list items should carry state: " << item.dump();
      }
    }
    if (j["nextCursor"].is_null()) break;
    ASSERT_TRUE(j["nextCursor"].is_string()) << r.describe();
    cursor = j["nextCursor"].get<std::string>();
    ASSERT_FALSE(cursor.empty());
  }
  EXPECT_EQ(seen, musicals);
  EXPECT_GE(pages + 1, 3) << "5 items at limit=2 need at least 3 pages";

  auto rooms = http.get("/v1/resources?type=room");
  ASSERT_EQ(rooms.status, 200) << rooms.describe();
  auto rj = rooms.body_json();
  ASSERT_TRUE(rj.contains("items") && rj["items"].is_array()) << rooms.describe();
  ASSERT_EQ(rj["items"].size(), 1u) << rooms.describe();
  EXPECT_EQ(str(rj["items"][0], "id"), "room-1");

  auto all = http.get("/v1/resources?limit=100");
  ASSERT_EQ(all.status, 200) << all.describe();
  EXPECT_EQ(all.body_json().value("items", json::array()).size(), 6u) << all.describe();
}

// Mission domain 4 through the views: a notification is sent when a
// reservation is confirmed (payment approved), rejected and cancelled; the
// customer sees her whole history; the show's report and the money agree.
TEST(MusicalFlow, NotificationsOnConfirmAndCancelWholeHistoryAndReport) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-n", 10, 20000)));
  const std::string me = "c-fan";

  auto ra = http.post("/v1/orders", seat_order("show-n", 3, me));
  ASSERT_EQ(ra.status, 201) << ra.describe();
  const auto a = str(ra.body_json(), "orderId");
  auto rb = http.post("/v1/orders", seat_order("show-n", 2, me));
  ASSERT_EQ(rb.status, 201) << rb.describe();
  const auto b = str(rb.body_json(), "orderId");
  EXPECT_EQ(available(http, "show-n"), 5);
  // More than are left: refused synchronously; no order, no notification.
  EXPECT_TRUE(IsProblem(http.post("/v1/orders", seat_order("show-n", 6, me)), 409));
  // A show has no fulfillment steps.
  EXPECT_TRUE(IsProblem(step(http, a, "taken"), 400));
  EXPECT_TRUE(IsProblem(step(http, a, "confirmed"), 400));
  // Cancel A: payment cancelled, seats back.
  auto ca = cancel(http, a);
  ASSERT_EQ(ca.status, 200) << ca.describe();
  EXPECT_EQ(str(jfield(ca.body_json(), "payment"), "status"), "refunded") << ca.describe();
  EXPECT_EQ(available(http, "show-n"), 8);
  // C: payment declined: no seats taken.
  ASSERT_TRUE(Fault(http, {{"payment", {{"failureRate", 1.0}}}}));
  auto rc = http.post("/v1/orders", seat_order("show-n", 1, me));
  ASSERT_TRUE(IsProblem(rc, 402));
  const auto c = str(rc.body_json(), "orderId");
  ASSERT_TRUE(Fault(http, {{"clear", true}}));
  EXPECT_EQ(available(http, "show-n"), 8);
  // Someone else's seat.
  auto rx = http.post("/v1/orders", seat_order("show-n", 1, "c-fan-2"));
  ASSERT_EQ(rx.status, 201) << rx.describe();
  const auto x = str(rx.body_json(), "orderId");

  ASSERT_TRUE(ViewsCaughtUp(http));
  auto notes = notifications_of(http, me);
  expect_distinct_event_ids(notes);
  EXPECT_EQ(notes.size(), 4u) << notes.dump();
  EXPECT_EQ(kinds_of(notes, a), (std::vector<std::string>{"booking-confirmed", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, b), (std::vector<std::string>{"booking-confirmed"})) << notes.dump();
  EXPECT_EQ(kinds_of(notes, c), (std::vector<std::string>{"booking-rejected"})) << notes.dump();
  {
    auto confirmed = note_of(notes, a, "booking-confirmed");
    EXPECT_NE(str(confirmed, "message").find("60000 charged"), std::string::npos)
        << confirmed.dump();
    auto cancelled = note_of(notes, a, "booking-cancelled");
    EXPECT_NE(str(cancelled, "message").find("60000 refunded"), std::string::npos)
        << cancelled.dump();
    EXPECT_GT(std::atoll(str(cancelled, "eventId").c_str()),
              std::atoll(str(confirmed, "eventId").c_str()));
  }
  EXPECT_EQ(kinds_of(notifications_of(http, "c-fan-2"), x),
            (std::vector<std::string>{"booking-confirmed"}));

  // The whole history, oldest first, as the orders tell it.
  auto page = mypage_of(http, me);
  ASSERT_EQ(jsize(page, "orders"), 3u) << page.dump();
  EXPECT_EQ(str(page["orders"][0], "orderId"), a);
  EXPECT_EQ(str(page["orders"][1], "orderId"), b);
  EXPECT_EQ(str(page["orders"][2], "orderId"), c);
  for (const auto& id : {a, b, c}) {
    SCOPED_TRACE("mypage order " + id);
    auto po = entry_of(page["orders"], id);
    auto o = order_of(http, id);
    EXPECT_EQ(str(po, "status"), str(o, "status")) << po.dump();
    EXPECT_EQ(jnum(po, "amount"), jnum(o, "amount")) << po.dump();
    EXPECT_EQ(str(po, "resourceId"), "show-n") << po.dump();
    EXPECT_EQ(statuses_of(jfield(po, "history")), order_history_without_paid(o)) << po.dump();
    EXPECT_EQ(str(jfield(po, "payment"), "status"), str(jfield(o, "payment"), "status"))
        << po.dump();
    EXPECT_EQ(statuses_of(jfield(jfield(po, "payment"), "history")),
              statuses_of(jfield(jfield(o, "payment"), "history")))
        << po.dump();
  }
  EXPECT_EQ(statuses_of(jfield(page["orders"][0], "history")),
            (std::vector<std::string>{"placed", "held", "confirmed", "cancelled"}));
  EXPECT_EQ(jfield(page, "notifications"), notes);

  auto rep = report_of(http, "show-n");
  EXPECT_EQ(jnum(rep, "bookings"), 3) << rep.dump();
  EXPECT_EQ(jnum(rep, "active"), 2) << rep.dump();
  EXPECT_EQ(jnum(rep, "cancelled"), 1) << rep.dump();
  EXPECT_EQ(jnum(rep, "rejected"), 1) << rep.dump();
  EXPECT_EQ(jnum(rep, "captured"), 60000 + 40000 + 20000) << rep.dump();
  EXPECT_EQ(jnum(rep, "refunds"), 60000) << rep.dump();
  EXPECT_EQ(jnum(rep, "revenue"), 60000) << rep.dump();
  EXPECT_EQ(jsize(rep, "orders"), 4u) << rep.dump();
  EXPECT_EQ(jfield(entry_of(rep["orders"], b), "settled"), true) << rep.dump();
  EXPECT_EQ(jfield(entry_of(rep["orders"], a), "settled"), false) << rep.dump();

  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), 60000) << rec.dump();
}
