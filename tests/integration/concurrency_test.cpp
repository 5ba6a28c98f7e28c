// No oversell under concurrency, against the real binary: 200 clients race for
// 100 seats; then reservations and cancellations race and money reconciles.

#include "flow_support.hpp"

using namespace troupe_it;

TEST(Concurrency, TwoHundredClientsHundredSeats) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, musical("musical-1", 100, 50000)));
  }

  constexpr int kClients = 200;
  std::vector<Reply> replies(kClients);
  const auto t0 = Clock::now();
  run_together(kClients, [&](int i) {
    auto http = server.http(60, 20);  // each thread its own client
    replies[i] = http.post("/v1/orders", seat_order("musical-1", 1, "c-" + std::to_string(i)));
  });
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  std::printf("200 concurrent reservations took %lld ms\n", static_cast<long long>(elapsed.count()));

  int created = 0, refused = 0;
  std::map<std::string, std::string> paid;  // paymentId -> orderId
  std::set<std::string> order_ids;
  for (const auto& r : replies) {
    if (r.status == 201) {
      ++created;
      auto o = r.body_json();
      EXPECT_EQ(str(o, "status"), "confirmed") << r.describe();
      EXPECT_EQ(o.value("quantity", -1LL), 1);
      EXPECT_TRUE(order_ids.insert(str(o, "orderId")).second) << "duplicate orderId: " << r.describe();
      EXPECT_TRUE(paid.emplace(str(o, "paymentId"), str(o, "orderId")).second)
          << "duplicate paymentId: " << r.describe();
    } else if (r.status == 409) {
      ++refused;
      EXPECT_TRUE(IsProblem(r, 409));
    } else {
      ADD_FAILURE() << "neither 201 nor 409: " << r.describe();
    }
  }
  EXPECT_EQ(created, 100);
  EXPECT_EQ(refused, 100);

  auto http = server.http();
  EXPECT_EQ(available(http, "musical-1"), 0);

  int captured = 0;
  long long captured_amount = 0;
  for (const auto& [payment_id, order_id] : paid) {
    auto p = http.get("/v1/payments/" + payment_id);
    ASSERT_EQ(p.status, 200) << p.describe();
    auto pj = p.body_json();
    EXPECT_EQ(str(pj, "orderId"), order_id);
    if (str(pj, "status") == "captured") {
      ++captured;
      captured_amount += pj.value("amount", 0LL);
    } else {
      ADD_FAILURE() << "payment of a confirmed order is not captured: " << p.describe();
    }
    auto o = http.get("/v1/orders/" + order_id);
    EXPECT_EQ(str(o.body_json(), "status"), "confirmed") << o.describe();
  }
  EXPECT_EQ(captured, 100);
  EXPECT_EQ(captured_amount, 100LL * 50000);
}

TEST(Concurrency, RacingReservationsAndCancellationsReconcile) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  constexpr long long kCapacity = 60, kPrice = 700;
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, musical("musical-2", kCapacity, kPrice)));
  }

  // 40 clients, each: reserve 1-3 seats; every other one cancels right away
  // (and tries to cancel a second time, which must be a 409).
  constexpr int kClients = 40;
  struct Outcome {
    Reply order, cancel, cancel_again;
  };
  std::vector<Outcome> out(kClients);
  run_together(kClients, [&](int i) {
    auto http = server.http(60, 20);
    out[i].order = http.post("/v1/orders", seat_order("musical-2", 1 + i % 3, "c-" + std::to_string(i)));
    if (i % 2 == 0 && out[i].order.status == 201) {
      auto id = str(out[i].order.body_json(), "orderId");
      out[i].cancel = http.post_raw("/v1/orders/" + id + "/cancel", "");
      out[i].cancel_again = http.post_raw("/v1/orders/" + id + "/cancel", "");
    }
  });

  auto http = server.http();
  long long held = 0, expected_net = 0;
  for (int i = 0; i < kClients; ++i) {
    const auto& o = out[i];
    if (o.order.status == 409) continue;
    ASSERT_EQ(o.order.status, 201) << o.order.describe();
    auto oj = o.order.body_json();
    const long long q = oj.value("quantity", 0LL);
    EXPECT_EQ(q, 1 + i % 3);
    const bool cancelled = i % 2 == 0;
    if (cancelled) {
      EXPECT_EQ(o.cancel.status, 200) << o.cancel.describe();
      EXPECT_TRUE(IsProblem(o.cancel_again, 409));
    } else {
      held += q;
      expected_net += q * kPrice;
    }
    auto p = http.get("/v1/payments/" + str(oj, "paymentId"));
    EXPECT_EQ(str(p.body_json(), "status"), cancelled ? "refunded" : "captured") << p.describe();
    auto g = http.get("/v1/orders/" + str(oj, "orderId"));
    EXPECT_EQ(str(g.body_json(), "status"), cancelled ? "cancelled" : "confirmed") << g.describe();
  }
  EXPECT_LE(held, kCapacity);
  EXPECT_EQ(available(http, "musical-2"), kCapacity - held);
  // Money reconciles: captured minus refunded = sum over confirmed orders.
  long long net = 0;
  for (int i = 0; i < kClients; ++i) {
    if (out[i].order.status != 201) continue;
    auto p = http.get("/v1/payments/" + str(out[i].order.body_json(), "paymentId")).body_json();
    if (str(p, "status") == "captured") net += p.value("amount", 0LL);
  }
  EXPECT_EQ(net, expected_net);
}
