// Home appliance store (mission domain 2) end to end against the real
// binary: a customer orders N units and pays; after payment the store sees
// the order (its report), takes it and packs it; then delivery starts and the
// customer gets a message; the customer can cancel (delivery and payment
// cancelled, stock back, a message); the customer's page shows every status
// change; the money reconciles.

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

std::string place_units(Http& http, const std::string& item, long long n,
                        const std::string& customer, long long expected_amount) {
  auto r = http.post("/v1/orders", seat_order(item, n, customer));
  EXPECT_EQ(r.status, 201) << r.describe();
  auto o = r.body_json();
  EXPECT_EQ(str(o, "status"), "confirmed") << r.describe();
  EXPECT_EQ(jnum(o, "quantity"), n) << r.describe();
  EXPECT_EQ(jnum(o, "amount"), expected_amount) << r.describe();
  EXPECT_EQ(str(jfield(o, "payment"), "status"), "captured") << r.describe();
  return str(o, "orderId");
}

}  // namespace

// Order, pay, the store takes, packs, ships (delivery started, a message)
// and delivers; no cancel after delivery. A second order is cancelled during
// delivery: delivery and payment cancelled, stock back, a message. A third
// is cancelled before the store took it. A declined payment takes no stock.
TEST(ApplianceFlow, OrderPayTakePackShipDeliverAndCancelDuringDelivery) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();

  auto reg = http.post("/v1/resources", appliance("fridge-1", 10, 990000));
  ASSERT_EQ(reg.status, 201) << reg.describe();
  EXPECT_EQ(jfield(reg.body_json(), "steps"), (json{"taken", "packed", "shipped", "delivered"}))
      << reg.describe();
  EXPECT_EQ(jnum(reg.body_json(), "available"), 10) << reg.describe();
  const std::string me = "c-home";

  // A: 3 units, paid.
  const auto a = place_units(http, "fridge-1", 3, me, 3 * 990000);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(available(http, "fridge-1"), 7);

  // After payment the store sees the order, paid (its report view; the
  // write-ahead events placed/held land before the confirmation's).
  json rep;
  ASSERT_TRUE(eventually([&] {
    rep = get_json(http, "/v1/resources/fridge-1/report");
    return str(entry_of(jfield(rep, "orders"), a), "status") == "confirmed";
  })) << "the store never saw order " << a << " paid: " << rep.dump();
  EXPECT_EQ(jnum(entry_of(rep["orders"], a), "amount"), 3 * 990000) << rep.dump();
  EXPECT_EQ(jnum(entry_of(rep["orders"], a), "captured"), 3 * 990000) << rep.dump();
  EXPECT_EQ(jfield(entry_of(rep["orders"], a), "settled"), true) << rep.dump();

  // Steps out of order or unknown change nothing.
  EXPECT_TRUE(IsProblem(step(http, a, "packed"), 409)) << "packed before taken";
  EXPECT_TRUE(IsProblem(step(http, a, "shipped"), 409)) << "shipped before taken";
  EXPECT_TRUE(IsProblem(step(http, a, "checked_in"), 400)) << "not an appliance step";
  EXPECT_TRUE(IsProblem(step(http, a, "Taken"), 400));
  EXPECT_EQ(str(order_of(http, a), "status"), "confirmed");

  // The store takes and packs it; then delivery starts.
  ASSERT_TRUE(Step(http, a, "taken"));
  EXPECT_TRUE(IsProblem(step(http, a, "taken"), 409)) << "taken twice";
  ASSERT_TRUE(Step(http, a, "packed"));
  EXPECT_TRUE(IsProblem(step(http, a, "taken"), 409)) << "back to taken";
  ASSERT_TRUE(Step(http, a, "shipped"));
  EXPECT_EQ(str(order_of(http, a), "status"), "shipped");
  ASSERT_TRUE(Step(http, a, "delivered"));
  EXPECT_TRUE(IsProblem(cancel(http, a), 409)) << "a delivered order cannot be cancelled";
  {
    auto o = order_of(http, a);
    EXPECT_EQ(str(o, "status"), "delivered") << o.dump();
    EXPECT_EQ(statuses_of(jfield(o, "history")),
              (std::vector<std::string>{"placed", "held", "paid", "confirmed", "taken", "packed",
                                        "shipped", "delivered"}))
        << o.dump();
    EXPECT_EQ(str(jfield(o, "payment"), "status"), "captured") << o.dump();
  }
  EXPECT_EQ(available(http, "fridge-1"), 7) << "delivered units stay sold";

  // B: 2 units, cancelled while on its way: delivery and payment cancelled,
  // the stock comes back.
  const auto b = place_units(http, "fridge-1", 2, me, 2 * 990000);
  EXPECT_EQ(available(http, "fridge-1"), 5);
  for (const char* s : {"taken", "packed", "shipped"}) ASSERT_TRUE(Step(http, b, s));
  auto cb = cancel(http, b);
  ASSERT_EQ(cb.status, 200) << cb.describe();
  EXPECT_EQ(str(cb.body_json(), "status"), "cancelled") << cb.describe();
  EXPECT_EQ(str(jfield(cb.body_json(), "payment"), "status"), "refunded") << cb.describe();
  EXPECT_EQ(available(http, "fridge-1"), 7) << "the cancelled units are back in stock";
  {
    auto p = get_json(http, "/v1/payments/" + str(cb.body_json(), "paymentId"));
    EXPECT_EQ(str(p, "status"), "refunded") << p.dump();
  }
  EXPECT_TRUE(IsProblem(step(http, b, "delivered"), 409)) << "a cancelled order is not delivered";
  EXPECT_TRUE(IsProblem(cancel(http, b), 409)) << "cancelled twice";

  // C: 1 unit, cancelled before the store took it.
  const auto c = place_units(http, "fridge-1", 1, me, 990000);
  ASSERT_EQ(cancel(http, c).status, 200);
  EXPECT_EQ(available(http, "fridge-1"), 7);

  // More than is in stock: refused synchronously, no order.
  EXPECT_TRUE(IsProblem(http.post("/v1/orders", seat_order("fridge-1", 8, me)), 409));
  // Payment declined: no stock taken, nobody charged.
  ASSERT_TRUE(Fault(http, {{"payment", {{"failureRate", 1.0}}}}));
  auto rd = http.post("/v1/orders", seat_order("fridge-1", 4, me));
  ASSERT_TRUE(IsProblem(rd, 402));
  const auto d = str(rd.body_json(), "orderId");
  ASSERT_TRUE(Fault(http, {{"clear", true}}));
  EXPECT_EQ(available(http, "fridge-1"), 7);
  EXPECT_EQ(str(order_of(http, d), "status"), "rejected");
  EXPECT_TRUE(IsProblem(step(http, d, "taken"), 409)) << "a rejected order is not taken";

  // ---- views: every status change on the customer's page, a message for
  // each; delivery start and delivery cancellation said in words.
  ASSERT_TRUE(ViewsCaughtUp(http));
  auto notes = notifications_of(http, me);
  expect_distinct_event_ids(notes);
  EXPECT_EQ(kinds_of(notes, a),
            (std::vector<std::string>{"booking-confirmed", "status-taken", "status-packed",
                                      "status-shipped", "status-delivered"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, b),
            (std::vector<std::string>{"booking-confirmed", "status-taken", "status-packed",
                                      "status-shipped", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, c), (std::vector<std::string>{"booking-confirmed", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, d), (std::vector<std::string>{"booking-rejected"})) << notes.dump();
  EXPECT_EQ(notes.size(), 5u + 5u + 2u + 1u) << notes.dump();
  {
    auto shipped = note_of(notes, a, "status-shipped");
    EXPECT_NE(str(shipped, "message").find("delivery started"), std::string::npos)
        << shipped.dump();
    auto cancelled = note_of(notes, b, "booking-cancelled");
    EXPECT_NE(str(cancelled, "message").find("delivery cancelled"), std::string::npos)
        << cancelled.dump();
    EXPECT_NE(str(cancelled, "message").find(std::to_string(2 * 990000) + " refunded"),
              std::string::npos)
        << cancelled.dump();
    auto before = note_of(notes, c, "booking-cancelled");
    EXPECT_EQ(str(before, "message").find("delivery cancelled"), std::string::npos)
        << "nothing was on its way: " << before.dump();
    EXPECT_NE(str(before, "message").find("refunded"), std::string::npos) << before.dump();
  }

  auto page = mypage_of(http, me);
  ASSERT_EQ(jsize(page, "orders"), 4u) << page.dump();
  for (const auto& id : {a, b, c, d}) {
    SCOPED_TRACE("mypage order " + id);
    auto po = entry_of(page["orders"], id);
    auto o = order_of(http, id);
    EXPECT_EQ(str(po, "status"), str(o, "status")) << po.dump();
    EXPECT_EQ(statuses_of(jfield(po, "history")), order_history_without_paid(o)) << po.dump();
    EXPECT_EQ(statuses_of(jfield(jfield(po, "payment"), "history")),
              statuses_of(jfield(jfield(o, "payment"), "history")))
        << po.dump();
  }
  EXPECT_EQ(statuses_of(jfield(entry_of(page["orders"], b), "history")),
            (std::vector<std::string>{"placed", "held", "confirmed", "taken", "packed", "shipped",
                                      "cancelled"}))
      << page.dump();
  EXPECT_EQ(str(jfield(entry_of(page["orders"], b), "payment"), "status"), "refunded")
      << page.dump();

  rep = report_of(http, "fridge-1");
  EXPECT_EQ(str(entry_of(rep["orders"], a), "status"), "delivered") << rep.dump();
  EXPECT_EQ(jfield(entry_of(rep["orders"], a), "settled"), true) << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], b), "status"), "cancelled") << rep.dump();
  EXPECT_EQ(jnum(entry_of(rep["orders"], b), "refunded"), 2 * 990000) << rep.dump();
  EXPECT_EQ(jfield(entry_of(rep["orders"], b), "settled"), false) << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], d), "status"), "rejected") << rep.dump();
  EXPECT_EQ(jnum(rep, "revenue"), 3 * 990000) << rep.dump();
  EXPECT_EQ(jnum(rep, "cancelled"), 2) << rep.dump();

  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), 3 * 990000) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "gateway"), "refunded"), 3 * 990000) << rec.dump();
}

// Orders of several customers race for the last units while others are
// cancelled mid-delivery: stock never goes below zero, cancelled units come
// back, and sold units equal the confirmed quantities.
TEST(ApplianceFlow, ConcurrentOrdersAndCancellationsKeepTheStockExact) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, appliance("tv-1", 20, 500)));
  // Ten orders of one unit, shipped.
  std::vector<std::string> shipped;
  for (int i = 0; i < 10; ++i) {
    shipped.push_back(place_units(http, "tv-1", 1, "c-tv-" + std::to_string(i), 500));
    for (const char* s : {"taken", "packed", "shipped"}) ASSERT_TRUE(Step(http, shipped.back(), s));
  }
  // 10 remain. 5 cancellations race with 30 new orders of one unit: at most
  // 15 of those can succeed.
  std::vector<Reply> cancels(5), orders(30);
  run_together(35, [&](int i) {
    auto h = server.http(60, 20);
    if (i < 5)
      cancels[static_cast<size_t>(i)] = cancel(h, shipped[static_cast<size_t>(i)]);
    else
      orders[static_cast<size_t>(i - 5)] =
        h.post("/v1/orders", seat_order("tv-1", 1, "c-tv-new-" + std::to_string(i)));
  });
  for (const auto& r : cancels) EXPECT_EQ(r.status, 200) << r.describe();
  int created = 0;
  for (const auto& r : orders) {
    if (r.status == 201)
      ++created;
    else
      EXPECT_TRUE(IsProblem(r, 409));
  }
  EXPECT_GE(created, 10) << "the 10 free units were for sale all along";
  EXPECT_LE(created, 15) << "oversold";
  EXPECT_EQ(available(http, "tv-1"), 15 - created);
  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), 500LL * (5 + created)) << rec.dump();
}
