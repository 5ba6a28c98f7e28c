// Shared cars (mission domain 1) end to end against the real binary: a
// customer picks a car for a window (overlaps refused), pays, and only then
// is the reservation created; cancels (reservation cancelled, payment
// refunded); looks the reservation up at any time; picks the car up (no
// cancel from then on) and returns it (the rest of the window is free again).
// Every change shows in the notifications, the customer page and the car's
// report, and the money reconciles. Plus 100 clients racing for overlapping
// windows of one car: no two confirmed bookings overlap.

#include <random>

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

/// "2030-06-01T09:00:00Z" for (1, 9): day of June 2030, hour.
std::string june(int day, int hour) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2030-06-%02dT%02d:00:00Z", day, hour);
  return buf;
}

/// Hour `h` after 2030-07-01T00:00:00Z (h < 24 * 30).
std::string july_hour(int h) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2030-07-%02dT%02d:00:00Z", 1 + h / 24, h % 24);
  return buf;
}

std::string place_window(Http& http, const std::string& car_id, const std::string& start,
                         const std::string& end, const std::string& customer,
                         long long expected_amount) {
  auto r = http.post("/v1/orders", window_order(car_id, start, end, customer));
  EXPECT_EQ(r.status, 201) << r.describe();
  auto o = r.body_json();
  EXPECT_EQ(str(o, "status"), "confirmed") << r.describe();
  EXPECT_EQ(jnum(o, "amount"), expected_amount) << r.describe();
  EXPECT_EQ(str(jfield(o, "payment"), "status"), "captured") << r.describe();
  EXPECT_EQ(str(o, "start"), start) << r.describe();
  EXPECT_EQ(str(o, "end"), end) << r.describe();
  return str(o, "orderId");
}

}  // namespace

// Requirement 1: pick a window (overlaps refused), pay first (a declined
// payment leaves no reservation and no charge), cancel (cancelled +
// refunded, the window free again), look the reservation up at any time.
TEST(CarFlow, BookOverlapRefusedPayFirstCancelRefundLookUp) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();

  auto reg = http.post("/v1/resources", car("car-7", 3000));
  ASSERT_EQ(reg.status, 201) << reg.describe();
  {
    auto rj = reg.body_json();
    EXPECT_EQ(str(rj, "type"), "car") << rj.dump();
    EXPECT_EQ(str(rj, "mode"), "calendar") << rj.dump();
    EXPECT_EQ(str(rj, "priceUnit"), "hour") << rj.dump();
    EXPECT_EQ(jfield(rj, "steps"), (json{"picked_up", "returned"})) << rj.dump();
    EXPECT_EQ(jfield(rj, "bookings"), json::array()) << rj.dump();
  }
  const std::string me = "c-car";

  // A: 09:00-12:00, 3 hours at 3000.
  const auto a = place_window(http, "car-7", june(1, 9), june(1, 12), me, 9000);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(calendar_bookings(http, "car-7"),
            (std::set<std::string>{a + " " + june(1, 9) + " " + june(1, 12)}));
  {
    auto o = order_of(http, a);
    EXPECT_EQ(str(o, "status"), "confirmed") << o.dump();
    EXPECT_EQ(str(o, "customerId"), me) << o.dump();
    EXPECT_EQ(str(o, "start"), june(1, 9)) << o.dump();
    auto p = get_json(http, "/v1/payments/" + str(o, "paymentId"));
    EXPECT_EQ(str(p, "status"), "captured") << p.dump();
    EXPECT_EQ(jnum(p, "amount"), 9000) << p.dump();
  }

  // Windows that overlap A cannot be chosen, by anyone.
  for (const auto& [s, e] : std::vector<std::pair<std::string, std::string>>{
         {june(1, 11), june(1, 13)}, {june(1, 8), june(1, 10)}, {june(1, 9), june(1, 12)},
         {june(1, 10), june(1, 11)}, {june(1, 0), june(1, 23)}}) {
    SCOPED_TRACE(s + " - " + e);
    for (const std::string& who : {me, std::string("c-car-other")}) {
      auto r = http.post("/v1/orders", window_order("car-7", s, e, who));
      EXPECT_TRUE(IsProblem(r, 409));
      EXPECT_EQ(str(r.body_json(), "type"), "urn:troupe:problem:not-available") << r.describe();
    }
  }
  // Adjacent windows are fine (half-open).
  const auto b = place_window(http, "car-7", june(1, 12), june(1, 14), "c-car-other", 6000);
  EXPECT_EQ(calendar_bookings(http, "car-7").size(), 2u);

  // The payment is declined: no reservation is created, nobody is charged,
  // the window stays free.
  ASSERT_TRUE(Fault(http, {{"payment", {{"failureRate", 1.0}}}}));
  auto rd = http.post("/v1/orders", window_order("car-7", june(1, 14), june(1, 15), me));
  ASSERT_TRUE(IsProblem(rd, 402));
  const auto d = str(rd.body_json(), "orderId");
  ASSERT_FALSE(d.empty()) << "a declined order's problem names it: " << rd.describe();
  ASSERT_TRUE(Fault(http, {{"clear", true}}));
  {
    auto o = order_of(http, d);
    EXPECT_EQ(str(o, "status"), "rejected") << o.dump();
    EXPECT_EQ(str(jfield(o, "payment"), "status"), "declined") << o.dump();
    auto p = get_json(http, "/v1/payments/" + str(o, "paymentId"));
    EXPECT_EQ(str(p, "status"), "declined") << p.dump();
  }
  EXPECT_EQ(calendar_bookings(http, "car-7").size(), 2u) << "a declined order booked the car";
  EXPECT_TRUE(IsProblem(cancel(http, d), 409)) << "a rejected order cannot be cancelled";
  // The same window, paid this time.
  const auto e = place_window(http, "car-7", june(1, 14), june(1, 15), me, 3000);

  // Cancel A: the reservation is cancelled and the payment refunded.
  auto c = cancel(http, a);
  ASSERT_EQ(c.status, 200) << c.describe();
  EXPECT_EQ(str(c.body_json(), "status"), "cancelled") << c.describe();
  EXPECT_EQ(str(jfield(c.body_json(), "payment"), "status"), "refunded") << c.describe();
  {
    auto o = order_of(http, a);  // still there to look up
    EXPECT_EQ(str(o, "status"), "cancelled") << o.dump();
    EXPECT_EQ(statuses_of(jfield(o, "history")),
              (std::vector<std::string>{"placed", "held", "paid", "confirmed", "cancelled"}))
        << o.dump();
    auto p = get_json(http, "/v1/payments/" + str(o, "paymentId"));
    EXPECT_EQ(str(p, "status"), "refunded") << p.dump();
    EXPECT_EQ(statuses_of(jfield(p, "history")),
              (std::vector<std::string>{"authorized", "captured", "refunded"}))
        << p.dump();
  }
  EXPECT_EQ(calendar_bookings(http, "car-7"),
            (std::set<std::string>{b + " " + june(1, 12) + " " + june(1, 14),
                                   e + " " + june(1, 14) + " " + june(1, 15)}));
  EXPECT_TRUE(IsProblem(cancel(http, a), 409)) << "cancelled twice";
  EXPECT_TRUE(IsProblem(step(http, a, "picked_up"), 409)) << "a cancelled car cannot be picked up";
  // A's window can be chosen again.
  const auto f = place_window(http, "car-7", june(1, 9), june(1, 12), "c-car-third", 9000);

  // ---- views
  ASSERT_TRUE(ViewsCaughtUp(http));
  auto notes = notifications_of(http, me);
  expect_distinct_event_ids(notes);
  EXPECT_EQ(notes.size(), 4u) << notes.dump();
  EXPECT_EQ(kinds_of(notes, a), (std::vector<std::string>{"booking-confirmed", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, d), (std::vector<std::string>{"booking-rejected"})) << notes.dump();
  EXPECT_EQ(kinds_of(notes, e), (std::vector<std::string>{"booking-confirmed"})) << notes.dump();
  {
    auto n = note_of(notes, a, "booking-cancelled");
    EXPECT_NE(str(n, "message").find("9000 refunded"), std::string::npos) << n.dump();
    EXPECT_EQ(jnum(n, "amount"), 9000) << n.dump();
    EXPECT_EQ(str(n, "resourceId"), "car-7") << n.dump();
  }
  EXPECT_EQ(kinds_of(notifications_of(http, "c-car-other"), b),
            (std::vector<std::string>{"booking-confirmed"}));

  auto page = mypage_of(http, me);
  ASSERT_EQ(jsize(page, "orders"), 3u) << page.dump();
  EXPECT_EQ(str(page["orders"][0], "orderId"), a) << page.dump();
  EXPECT_EQ(str(page["orders"][1], "orderId"), d) << page.dump();
  EXPECT_EQ(str(page["orders"][2], "orderId"), e) << page.dump();
  for (const auto& id : {a, d, e}) {
    SCOPED_TRACE("mypage order " + id);
    auto po = entry_of(page["orders"], id);
    auto o = order_of(http, id);
    EXPECT_EQ(str(po, "status"), str(o, "status")) << po.dump();
    EXPECT_EQ(jnum(po, "amount"), jnum(o, "amount")) << po.dump();
    EXPECT_EQ(statuses_of(jfield(po, "history")), order_history_without_paid(o)) << po.dump();
    EXPECT_EQ(statuses_of(jfield(jfield(po, "payment"), "history")),
              statuses_of(jfield(jfield(o, "payment"), "history")))
        << po.dump();
  }
  EXPECT_EQ(jfield(page, "notifications"), notes);

  auto rep = report_of(http, "car-7");
  EXPECT_EQ(jnum(rep, "bookings"), 4) << rep.dump();  // a, b, e, f (d never confirmed)
  EXPECT_EQ(jnum(rep, "active"), 3) << rep.dump();
  EXPECT_EQ(jnum(rep, "cancelled"), 1) << rep.dump();
  EXPECT_EQ(jnum(rep, "rejected"), 1) << rep.dump();
  EXPECT_EQ(jnum(rep, "captured"), 9000 + 6000 + 3000 + 9000) << rep.dump();
  EXPECT_EQ(jnum(rep, "refunds"), 9000) << rep.dump();
  EXPECT_EQ(jnum(rep, "revenue"), 6000 + 3000 + 9000) << rep.dump();
  ASSERT_EQ(jsize(rep, "orders"), 5u) << rep.dump();
  {
    auto la = entry_of(rep["orders"], a);
    EXPECT_EQ(str(la, "status"), "cancelled") << la.dump();
    EXPECT_EQ(jnum(la, "refunded"), 9000) << la.dump();
    EXPECT_EQ(jfield(la, "settled"), false) << la.dump();
    auto lf = entry_of(rep["orders"], f);
    EXPECT_EQ(str(lf, "status"), "confirmed") << lf.dump();
    EXPECT_EQ(jnum(lf, "captured"), 9000) << lf.dump();
    EXPECT_EQ(jfield(lf, "settled"), true) << lf.dump();
    EXPECT_EQ(str(entry_of(rep["orders"], d), "status"), "rejected") << rep.dump();
  }

  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), 6000 + 3000 + 9000) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "gateway"), "net"), 6000 + 3000 + 9000) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "orders"), "confirmed"), 3) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "orders"), "cancelled"), 1) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "orders"), "rejected"), 1) << rec.dump();
}

// Fulfillment of a car booking: picked_up, then returned; no cancel from
// pick-up on; the return frees the rest of the window; each step notifies.
TEST(CarFlow, PickUpBlocksCancelReturnFreesTheRestOfTheWindow) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, car("car-9", 3000)));
  const std::string me = "c-driver";

  // 08:00-20:00: 12 hours.
  const auto a = place_window(http, "car-9", june(2, 8), june(2, 20), me, 36000);
  ASSERT_FALSE(a.empty());

  // Unknown and out-of-order steps change nothing.
  EXPECT_TRUE(IsProblem(step(http, a, "checked_in"), 400)) << "not a car step";
  EXPECT_TRUE(IsProblem(step(http, a, "delivered"), 400));
  EXPECT_TRUE(IsProblem(step(http, a, "returned"), 409)) << "returned before picked_up";
  EXPECT_TRUE(IsProblem(step(http, a, "picked_up", "rider-1"), 400)) << "riderId is for calls";
  EXPECT_TRUE(IsProblem(http.post("/v1/orders/" + a + "/steps", json::object()), 400));
  EXPECT_TRUE(IsProblem(step(http, "o-no-such-order", "picked_up"), 404));
  EXPECT_EQ(str(order_of(http, a), "status"), "confirmed");

  ASSERT_TRUE(Step(http, a, "picked_up"));
  EXPECT_EQ(str(order_of(http, a), "status"), "picked_up");
  EXPECT_TRUE(IsProblem(step(http, a, "picked_up"), 409)) << "already picked up";

  // From pick-up on the booking can no longer be cancelled.
  EXPECT_TRUE(IsProblem(cancel(http, a), 409));
  {
    auto o = order_of(http, a);
    EXPECT_EQ(str(o, "status"), "picked_up") << o.dump();
    EXPECT_EQ(str(jfield(o, "payment"), "status"), "captured") << o.dump();
  }
  // The car is still taken for the whole window.
  EXPECT_EQ(calendar_bookings(http, "car-9"),
            (std::set<std::string>{a + " " + june(2, 8) + " " + june(2, 20)}));
  EXPECT_TRUE(IsProblem(http.post("/v1/orders", window_order("car-9", june(2, 15), june(2, 17), "c-next")),
                        409));

  // Returned early: the rest of the window is free.
  ASSERT_TRUE(Step(http, a, "returned"));
  {
    auto o = order_of(http, a);
    EXPECT_EQ(str(o, "status"), "returned") << o.dump();
    EXPECT_EQ(statuses_of(jfield(o, "history")),
              (std::vector<std::string>{"placed", "held", "paid", "confirmed", "picked_up", "returned"}))
        << o.dump();
    EXPECT_EQ(str(jfield(o, "payment"), "status"), "captured") << "a return refunds nothing";
  }
  EXPECT_EQ(calendar_bookings(http, "car-9"), std::set<std::string>{});
  EXPECT_TRUE(IsProblem(step(http, a, "returned"), 409)) << "returned twice";
  EXPECT_TRUE(IsProblem(cancel(http, a), 409)) << "a returned car cannot be cancelled";
  const auto next = place_window(http, "car-9", june(2, 15), june(2, 17), "c-next", 6000);
  EXPECT_EQ(calendar_bookings(http, "car-9"),
            (std::set<std::string>{next + " " + june(2, 15) + " " + june(2, 17)}));

  // ---- views
  ASSERT_TRUE(ViewsCaughtUp(http));
  auto notes = notifications_of(http, me);
  expect_distinct_event_ids(notes);
  EXPECT_EQ(kinds_of(notes, a),
            (std::vector<std::string>{"booking-confirmed", "status-picked_up", "status-returned"}))
      << notes.dump();
  EXPECT_EQ(notes.size(), 3u) << notes.dump();
  {
    auto n = note_of(notes, a, "status-returned");
    EXPECT_NE(str(n, "message").find("returned"), std::string::npos) << n.dump();
  }
  auto page = mypage_of(http, me);
  ASSERT_EQ(jsize(page, "orders"), 1u) << page.dump();
  EXPECT_EQ(str(page["orders"][0], "status"), "returned") << page.dump();
  EXPECT_EQ(statuses_of(jfield(page["orders"][0], "history")),
            (std::vector<std::string>{"placed", "held", "confirmed", "picked_up", "returned"}))
      << page.dump();
  auto rep = report_of(http, "car-9");
  auto la = entry_of(jfield(rep, "orders"), a);
  EXPECT_EQ(str(la, "status"), "returned") << rep.dump();
  EXPECT_EQ(jnum(la, "captured"), 36000) << rep.dump();
  EXPECT_EQ(jfield(la, "settled"), true) << rep.dump();
  EXPECT_EQ(str(entry_of(jfield(rep, "orders"), next), "status"), "confirmed") << rep.dump();
  EXPECT_EQ(jnum(rep, "revenue"), 36000 + 6000) << rep.dump();

  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), 36000 + 6000) << rec.dump();
}

// 100 clients race for overlapping windows of one car: every answer is 201
// or 409, no two confirmed bookings overlap, the car's bookings are exactly
// the 201s, and every refusal overlaps a confirmed booking (no spurious
// 409). Then cancellations race with 50 new bookings: still no overlap.
TEST(CarConcurrency, HundredClientsRaceForOverlappingWindows) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, car("car-race", 1000)));
  }
  struct Window {
    int start = 0, end = 0;  // hours after 2030-07-01T00:00Z
  };
  struct Booking {
    std::string id;
    Window w;
  };
  auto overlap = [](const Window& x, const Window& y) { return x.start < y.end && y.start < x.end; };

  std::mt19937 rng(20300701);
  auto random_window = [&](int span) {
    Window w;
    w.start = static_cast<int>(rng() % static_cast<unsigned>(span));
    w.end = w.start + 1 + static_cast<int>(rng() % 6u);
    return w;
  };

  // Round 1: 100 clients over 60 hours, windows of 1-6 hours.
  constexpr int kClients = 100;
  std::vector<Window> wins(kClients);
  for (auto& w : wins) w = random_window(60);
  std::vector<Reply> replies(kClients);
  const auto t0 = Clock::now();
  run_together(kClients, [&](int i) {
    auto http = server.http(60, 20);
    replies[static_cast<size_t>(i)] =
      http.post("/v1/orders", window_order("car-race", july_hour(wins[i].start),
                                           july_hour(wins[i].end), "c-race-" + std::to_string(i)));
  });
  std::printf("100 concurrent car bookings took %lld ms\n",
              static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));

  std::vector<Booking> accepted;
  std::vector<Window> refused;
  for (int i = 0; i < kClients; ++i) {
    const auto& r = replies[static_cast<size_t>(i)];
    if (r.status == 201) {
      auto o = r.body_json();
      EXPECT_EQ(str(o, "status"), "confirmed") << r.describe();
      EXPECT_EQ(str(o, "start"), july_hour(wins[i].start)) << r.describe();
      EXPECT_EQ(jnum(o, "amount"), 1000LL * (wins[i].end - wins[i].start)) << r.describe();
      accepted.push_back({str(o, "orderId"), wins[i]});
    } else if (r.status == 409) {
      EXPECT_TRUE(IsProblem(r, 409));
      refused.push_back(wins[i]);
    } else {
      ADD_FAILURE() << "neither 201 nor 409: " << r.describe();
    }
  }
  std::printf("%zu bookings confirmed, %zu refused\n", accepted.size(), refused.size());
  ASSERT_FALSE(accepted.empty());
  EXPECT_FALSE(refused.empty()) << "the windows were meant to overlap";
  for (size_t i = 0; i < accepted.size(); ++i)
    for (size_t j = i + 1; j < accepted.size(); ++j)
      EXPECT_FALSE(overlap(accepted[i].w, accepted[j].w))
          << "two confirmed bookings overlap: " << accepted[i].id << " [" << accepted[i].w.start
          << "," << accepted[i].w.end << ") and " << accepted[j].id << " [" << accepted[j].w.start
          << "," << accepted[j].w.end << ")";
  // Nothing failed after its hold, so a refusal always met a booking.
  for (const auto& w : refused)
    EXPECT_TRUE(std::any_of(accepted.begin(), accepted.end(),
                            [&](const Booking& b) { return overlap(b.w, w); }))
        << "refused [" << w.start << "," << w.end << ") overlaps no confirmed booking";

  auto http = server.http();
  auto expected_bookings = [&](const std::vector<Booking>& bs) {
    std::set<std::string> out;
    for (const auto& b : bs) out.insert(b.id + " " + july_hour(b.w.start) + " " + july_hour(b.w.end));
    return out;
  };
  EXPECT_EQ(calendar_bookings(http, "car-race"), expected_bookings(accepted));
  long long amount = 0;
  for (const auto& b : accepted) {
    auto o = order_of(http, b.id);
    EXPECT_EQ(str(o, "status"), "confirmed") << o.dump();
    amount += jnum(o, "amount");
  }

  // Round 2: every other booking is cancelled while 50 new clients race
  // for windows over the same hours.
  std::vector<Booking> to_cancel, kept;
  for (size_t i = 0; i < accepted.size(); ++i) (i % 2 ? kept : to_cancel).push_back(accepted[i]);
  constexpr int kNew = 50;
  std::vector<Window> wins2(kNew);
  for (auto& w : wins2) w = random_window(60);
  std::vector<Reply> cancels(to_cancel.size()), replies2(kNew);
  const int n_cancel = static_cast<int>(to_cancel.size());
  run_together(n_cancel + kNew, [&](int i) {
    auto h = server.http(60, 20);
    if (i < n_cancel) {
      cancels[static_cast<size_t>(i)] = cancel(h, to_cancel[static_cast<size_t>(i)].id);
    } else {
      const auto& w = wins2[static_cast<size_t>(i - n_cancel)];
      replies2[static_cast<size_t>(i - n_cancel)] =
        h.post("/v1/orders", window_order("car-race", july_hour(w.start), july_hour(w.end),
                                          "c-race2-" + std::to_string(i)));
    }
  });
  std::vector<Booking> active = kept;
  for (size_t i = 0; i < cancels.size(); ++i) {
    EXPECT_EQ(cancels[i].status, 200) << cancels[i].describe();
    EXPECT_EQ(str(cancels[i].body_json(), "status"), "cancelled") << cancels[i].describe();
  }
  for (int i = 0; i < kNew; ++i) {
    const auto& r = replies2[static_cast<size_t>(i)];
    if (r.status == 201) {
      active.push_back({str(r.body_json(), "orderId"), wins2[static_cast<size_t>(i)]});
      amount += jnum(r.body_json(), "amount");
    } else {
      EXPECT_TRUE(IsProblem(r, 409));
    }
  }
  for (const auto& b : to_cancel) amount -= 1000LL * (b.w.end - b.w.start);
  for (size_t i = 0; i < active.size(); ++i)
    for (size_t j = i + 1; j < active.size(); ++j)
      EXPECT_FALSE(overlap(active[i].w, active[j].w))
          << "two confirmed bookings overlap after round 2: " << active[i].id << " and "
          << active[j].id;
  EXPECT_EQ(calendar_bookings(http, "car-race"), expected_bookings(active));
  for (const auto& b : to_cancel) EXPECT_EQ(str(order_of(http, b.id), "status"), "cancelled");

  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), amount) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "orders"), "confirmed"), static_cast<long long>(active.size()))
      << rec.dump();
}
