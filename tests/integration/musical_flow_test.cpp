// Musical seats end to end against the real binary: register a show, reserve,
// refuse an oversell, cancel (seats back, payment refunded), list resources.

#include <set>

#include "server.hpp"

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
