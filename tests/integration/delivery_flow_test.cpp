// Delivery calls (mission domain 3) end to end against the real binary: a
// restaurant calls a rider with a destination and a fee; the fee is
// registered with payment synchronously (authorized; a declined or failed
// authorization leaves no call); a rider accepts (held: one call at a time),
// picks the food up (Picked) and completes (Completed): the fee is settled.
// Cancel before Picked voids the authorization and frees the rider. A report
// per delivery shows fee, status and settlement. Calls keep being accepted
// while the consumers are stopped, and the views catch up exactly. And 50
// riders race for 200 calls: no rider is ever on two calls at once.

#include <mutex>

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

std::string rider_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "rider-%02d", i);
  return buf;
}

/// Places a call and checks it is `called` with its fee authorized.
std::string place_call(Http& http, const std::string& zone_id, const std::string& customer,
                       long long fee, const std::string& destination = "Teheran-ro 1") {
  auto r = http.post("/v1/orders", call_order(zone_id, customer, fee, destination));
  EXPECT_EQ(r.status, 201) << r.describe();
  auto o = r.body_json();
  EXPECT_EQ(str(o, "status"), "called") << r.describe();
  EXPECT_EQ(jnum(o, "amount"), fee) << r.describe();
  EXPECT_EQ(jnum(o, "fee"), fee) << r.describe();
  EXPECT_EQ(str(o, "destination"), destination) << r.describe();
  EXPECT_FALSE(o.contains("riderId")) << r.describe();
  EXPECT_EQ(str(jfield(o, "payment"), "status"), "authorized") << r.describe();
  EXPECT_EQ(r.header("Location"), "/v1/orders/" + str(o, "orderId")) << r.describe();
  return str(o, "orderId");
}

/// `available` of a rider, or -1.
long long rider_free(Http& http, const std::string& id) { return available(http, id); }

}  // namespace

// The whole call: register, call (fee authorized, not revenue yet), accept
// (rider held), picked (no cancel any more), completed (fee captured, rider
// free); another call cancelled after acceptance (voided, rider free), one
// cancelled before acceptance, one declined and one timed out at payment
// (no call stands); the notifications, the restaurant's page, the zone's
// report per delivery and the reconciliation.
TEST(DeliveryFlow, CallAcceptPickCompleteSettlesTheFeeAndCancelVoids) {
  auto args = fast_payments_with_faults();
  for (const char* a : {"--payment-timeout-ms", "200"}) args.push_back(a);
  TroupeServer server(args);
  ASSERT_EQ(server.start(), "");
  auto http = server.http();

  auto reg = http.post("/v1/resources", zone("zone-gangnam"));
  ASSERT_EQ(reg.status, 201) << reg.describe();
  EXPECT_EQ(str(reg.body_json(), "mode"), "dispatch") << reg.describe();
  EXPECT_EQ(jfield(reg.body_json(), "steps"), (json{"accepted", "picked", "completed"}))
      << reg.describe();
  {
    auto other_steps = zone("zone-x");
    other_steps["steps"] = json{"accepted", "delivered"};
    EXPECT_TRUE(IsProblem(http.post("/v1/resources", other_steps), 400))
        << "a dispatch resource's steps are fixed";
  }
  ASSERT_TRUE(Register(http, rider("rider-1")));
  ASSERT_TRUE(Register(http, rider("rider-2")));
  const std::string me = "rest-9";

  // Malformed calls are refused and create nothing.
  {
    json no_fee = {{"resourceId", "zone-gangnam"}, {"customerId", me}, {"destination", "x"}};
    json no_dest = {{"resourceId", "zone-gangnam"}, {"customerId", me}, {"fee", 3500}};
    json with_qty = call_order("zone-gangnam", me, 3500);
    with_qty["quantity"] = 1;
    for (const auto& body : {no_fee, no_dest, with_qty, call_order("zone-gangnam", me, 0),
                             call_order("zone-gangnam", me, -5)}) {
      SCOPED_TRACE(body.dump());
      EXPECT_TRUE(IsProblem(http.post("/v1/orders", body), 400));
    }
    EXPECT_TRUE(IsProblem(http.post("/v1/orders", call_order("zone-nowhere", me, 3500)), 404));
    EXPECT_TRUE(IsProblem(http.post("/v1/orders", call_order("rider-1", me, 3500)), 400))
        << "a rider is not a zone";
  }

  // A: the fee is authorized when the call is made.
  const auto a = place_call(http, "zone-gangnam", me, 3500);
  ASSERT_FALSE(a.empty());
  {
    auto o = order_of(http, a);
    EXPECT_EQ(str(o, "status"), "called") << o.dump();
    auto p = get_json(http, "/v1/payments/" + str(o, "paymentId"));
    EXPECT_EQ(str(p, "status"), "authorized") << p.dump();
    EXPECT_EQ(jnum(p, "amount"), 3500) << p.dump();
  }
  {
    // An open call's fee is authorized, not revenue.
    json rec;
    ASSERT_TRUE(Balanced(http, rec));
    EXPECT_EQ(jnum(rec, "confirmedAmount"), 0) << rec.dump();
    EXPECT_EQ(jnum(jfield(rec, "gateway"), "captured"), 0) << rec.dump();
  }

  // Bad steps change nothing.
  EXPECT_TRUE(IsProblem(step(http, a, "accepted"), 400)) << "accepted needs a riderId";
  EXPECT_TRUE(IsProblem(step(http, a, "picked", "rider-1"), 400)) << "riderId only with accepted";
  EXPECT_TRUE(IsProblem(step(http, a, "accepted", "rider-404"), 404)) << "unknown rider";
  EXPECT_TRUE(IsProblem(step(http, a, "accepted", "zone-gangnam"), 400)) << "a zone is no rider";
  EXPECT_TRUE(IsProblem(step(http, a, "picked"), 409)) << "picked before accepted";
  EXPECT_TRUE(IsProblem(step(http, a, "completed"), 409)) << "completed before accepted";
  EXPECT_TRUE(IsProblem(step(http, a, "delivered"), 400)) << "not a call step";
  EXPECT_EQ(str(order_of(http, a), "status"), "called");
  EXPECT_EQ(rider_free(http, "rider-1"), 1);

  // A rider accepts: held for this call.
  ASSERT_TRUE(Step(http, a, "accepted", "rider-1"));
  EXPECT_EQ(str(order_of(http, a), "riderId"), "rider-1");
  EXPECT_EQ(rider_free(http, "rider-1"), 0);
  EXPECT_TRUE(IsProblem(step(http, a, "accepted", "rider-2"), 409)) << "accepted twice";
  EXPECT_EQ(rider_free(http, "rider-2"), 1) << "a refused accept must not hold its rider";
  EXPECT_EQ(str(order_of(http, a), "riderId"), "rider-1");

  // B: rider-1 is busy; rider-2 takes it.
  const auto b = place_call(http, "zone-gangnam", me, 4200, "Gangnam-daero 2");
  auto busy = step(http, b, "accepted", "rider-1");
  EXPECT_TRUE(IsProblem(busy, 409)) << "rider-1 is on call A";
  {
    auto o = order_of(http, b);
    EXPECT_EQ(str(o, "status"), "called") << o.dump();
    EXPECT_FALSE(o.contains("riderId")) << o.dump();
  }
  ASSERT_TRUE(Step(http, b, "accepted", "rider-2"));
  EXPECT_EQ(rider_free(http, "rider-2"), 0);

  // A: picked (no cancel from now on), completed (the fee is settled).
  ASSERT_TRUE(Step(http, a, "picked"));
  EXPECT_TRUE(IsProblem(cancel(http, a), 409)) << "picked calls cannot be cancelled";
  EXPECT_EQ(str(jfield(order_of(http, a), "payment"), "status"), "authorized");
  EXPECT_EQ(rider_free(http, "rider-1"), 0) << "the rider carries the food";
  ASSERT_TRUE(Step(http, a, "completed"));
  {
    auto o = order_of(http, a);
    EXPECT_EQ(str(o, "status"), "completed") << o.dump();
    EXPECT_EQ(str(jfield(o, "payment"), "status"), "captured") << o.dump();
    EXPECT_EQ(statuses_of(jfield(o, "history")),
              (std::vector<std::string>{"placed", "held", "paid", "called", "accepted", "picked",
                                        "completed"}))
        << o.dump();
    auto p = get_json(http, "/v1/payments/" + str(o, "paymentId"));
    EXPECT_EQ(str(p, "status"), "captured") << p.dump();
    EXPECT_EQ(statuses_of(jfield(p, "history")), (std::vector<std::string>{"authorized", "captured"}))
        << p.dump();
  }
  EXPECT_EQ(rider_free(http, "rider-1"), 1) << "completion frees the rider";
  EXPECT_TRUE(IsProblem(step(http, a, "completed"), 409)) << "completed twice";
  EXPECT_TRUE(IsProblem(cancel(http, a), 409)) << "completed calls cannot be cancelled";

  // B: cancelled after acceptance, before pick-up: voided, rider free.
  auto cb = cancel(http, b);
  ASSERT_EQ(cb.status, 200) << cb.describe();
  EXPECT_EQ(str(cb.body_json(), "status"), "cancelled") << cb.describe();
  EXPECT_EQ(str(jfield(cb.body_json(), "payment"), "status"), "voided") << cb.describe();
  EXPECT_EQ(rider_free(http, "rider-2"), 1) << "a cancelled call frees its rider";
  {
    auto p = get_json(http, "/v1/payments/" + str(cb.body_json(), "paymentId"));
    EXPECT_EQ(str(p, "status"), "voided") << p.dump();
  }
  EXPECT_TRUE(IsProblem(step(http, b, "picked"), 409)) << "a cancelled call is not picked";
  // The freed rider takes a new call at once.
  const auto c = place_call(http, "zone-gangnam", me, 2000);
  ASSERT_TRUE(Step(http, c, "accepted", "rider-2"));
  // ... which the restaurant then cancels too.
  ASSERT_EQ(cancel(http, c).status, 200);
  EXPECT_EQ(rider_free(http, "rider-2"), 1);
  // E: cancelled before anyone accepted.
  const auto e = place_call(http, "zone-gangnam", me, 1500);
  auto ce = cancel(http, e);
  ASSERT_EQ(ce.status, 200) << ce.describe();
  EXPECT_EQ(str(jfield(ce.body_json(), "payment"), "status"), "voided") << ce.describe();
  EXPECT_TRUE(IsProblem(step(http, e, "accepted", "rider-1"), 409)) << "a cancelled call";
  EXPECT_EQ(rider_free(http, "rider-1"), 1);

  // D: the authorization is declined: 402, no call stands.
  ASSERT_TRUE(Fault(http, {{"payment", {{"failureRate", 1.0}}}}));
  auto rd = http.post("/v1/orders", call_order("zone-gangnam", me, 999));
  ASSERT_TRUE(IsProblem(rd, 402));
  const auto d = str(rd.body_json(), "orderId");
  ASSERT_FALSE(d.empty()) << rd.describe();
  // F: the authorization times out: 503 + Retry-After, no call stands.
  ASSERT_TRUE(Fault(http, {{"payment", {{"failureRate", 0.0}, {"latencyMs", {400, 400}}}}}));
  auto rf = http.post("/v1/orders", call_order("zone-gangnam", me, 777));
  ASSERT_TRUE(IsProblem(rf, 503));
  EXPECT_FALSE(rf.header("Retry-After").empty()) << rf.describe();
  const auto f = str(rf.body_json(), "orderId");
  ASSERT_FALSE(f.empty()) << "a failed authorization's problem names the order: " << rf.describe();
  ASSERT_TRUE(Fault(http, {{"clear", true}}));
  {
    auto od = order_of(http, d);
    EXPECT_EQ(str(od, "status"), "rejected") << od.dump();
    EXPECT_EQ(str(jfield(od, "payment"), "status"), "declined") << od.dump();
    EXPECT_TRUE(IsProblem(step(http, d, "accepted", "rider-1"), 409));
    auto of = order_of(http, f);
    EXPECT_EQ(str(of, "status"), "rejected") << of.dump();
    EXPECT_EQ(str(jfield(of, "payment"), "status"), "voided") << of.dump();
  }

  // ---- views
  ASSERT_TRUE(ViewsCaughtUp(http));
  auto notes = notifications_of(http, me);
  expect_distinct_event_ids(notes);
  EXPECT_EQ(kinds_of(notes, a),
            (std::vector<std::string>{"booking-confirmed", "status-accepted", "status-picked",
                                      "status-completed"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, b),
            (std::vector<std::string>{"booking-confirmed", "status-accepted", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, c),
            (std::vector<std::string>{"booking-confirmed", "status-accepted", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, e), (std::vector<std::string>{"booking-confirmed", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(notes.size(), 4u + 3u + 3u + 2u + 1u + 1u) << notes.dump();
  EXPECT_EQ(kinds_of(notes, d), (std::vector<std::string>{"booking-rejected"})) << notes.dump();
  EXPECT_EQ(kinds_of(notes, f), (std::vector<std::string>{"booking-rejected"})) << notes.dump();
  {
    auto placed = note_of(notes, a, "booking-confirmed");
    EXPECT_NE(str(placed, "message").find("3500 authorized"), std::string::npos) << placed.dump();
    auto voided = note_of(notes, b, "booking-cancelled");
    EXPECT_NE(str(voided, "message").find("voided"), std::string::npos) << voided.dump();
    EXPECT_EQ(str(voided, "message").find("refunded"), std::string::npos)
        << "nothing was captured, so nothing is refunded: " << voided.dump();
  }

  // The restaurant's page: every call with the history its order tells.
  auto page = mypage_of(http, me);
  EXPECT_EQ(jsize(page, "orders"), 6u) << page.dump();
  for (const auto& id : {a, b, c, e, d, f}) {
    SCOPED_TRACE("mypage order " + id);
    auto po = entry_of(jfield(page, "orders"), id);
    auto o = order_of(http, id);
    EXPECT_EQ(str(po, "status"), str(o, "status")) << po.dump();
    EXPECT_EQ(jnum(po, "amount"), jnum(o, "amount")) << po.dump();
    EXPECT_EQ(statuses_of(jfield(po, "history")), order_history_without_paid(o))
        << "mypage: " << po.dump() << "\norder: " << o.dump();
    EXPECT_EQ(statuses_of(jfield(jfield(po, "payment"), "history")),
              statuses_of(jfield(jfield(o, "payment"), "history")))
        << po.dump();
  }

  // The report per delivery: fee, status, settlement.
  auto rep = report_of(http, "zone-gangnam");
  struct Line {
    std::string id, status;
    long long amount, captured;
    bool settled;
  };
  std::vector<Line> want = {{a, "completed", 3500, 3500, true}, {b, "cancelled", 4200, 0, false},
                            {c, "cancelled", 2000, 0, false},   {e, "cancelled", 1500, 0, false},
                            {d, "rejected", 999, 0, false},     {f, "rejected", 777, 0, false}};
  EXPECT_EQ(jsize(rep, "orders"), want.size()) << rep.dump();
  for (const auto& w : want) {
    SCOPED_TRACE("report line " + w.id);
    auto l = entry_of(jfield(rep, "orders"), w.id);
    EXPECT_EQ(str(l, "status"), w.status) << l.dump();
    EXPECT_EQ(jnum(l, "amount"), w.amount) << l.dump();
    EXPECT_EQ(jnum(l, "captured"), w.captured) << l.dump();
    EXPECT_EQ(jfield(l, "settled"), w.settled) << l.dump();
    EXPECT_EQ(jnum(l, "refunded"), 0) << l.dump();
    EXPECT_EQ(str(l, "customerId"), me) << l.dump();
  }
  EXPECT_EQ(jnum(rep, "captured"), 3500) << rep.dump();
  EXPECT_EQ(jnum(rep, "refunds"), 0) << rep.dump();
  EXPECT_EQ(jnum(rep, "revenue"), 3500) << rep.dump();
  EXPECT_EQ(jnum(rep, "cancelled"), 3) << rep.dump();

  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), 3500) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "gateway"), "captured"), 3500) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "gateway"), "refunded"), 0) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "orders"), "confirmed"), 1) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "orders"), "cancelled"), 3) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "orders"), "rejected"), 2) << rec.dump();
}

// The report (and the notifier) stopped: calls are still placed, accepted,
// picked, completed and cancelled at once; those views stay where they were
// while the customer page keeps up; started again, the report catches up
// exactly — one line per call, as the orders say — and the notifications
// too, without duplicates.
TEST(DeliveryFlow, CallsKeepBeingAcceptedWhileTheReportIsStoppedAndItCatchesUpExactly) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, zone("zone-mapo")));
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(Register(http, rider(rider_name(i))));
  const std::string me = "rest-outage";

  // One call before the outage, completed.
  std::vector<std::string> ids{place_call(http, "zone-mapo", me, 3000)};
  ASSERT_TRUE(Step(http, ids[0], "accepted", rider_name(1)));
  ASSERT_TRUE(Step(http, ids[0], "picked"));
  ASSERT_TRUE(Step(http, ids[0], "completed"));
  ASSERT_TRUE(ViewsCaughtUp(http));
  const auto rep_before = report_of(http, "zone-mapo");
  const auto notes_before = notifications_of(http, me);
  ASSERT_EQ(jsize(rep_before, "orders"), 1u) << rep_before.dump();

  ASSERT_TRUE(Fault(http, {{"stop", {{"subscriber", "report"}}}}));
  ASSERT_TRUE(Fault(http, {{"stop", {{"subscriber", "notifier"}}}}));

  // Calls go on, each answered at once.
  const auto t0 = Clock::now();
  for (int i = 0; i < 6; ++i) ids.push_back(place_call(http, "zone-mapo", me, 1000 + 100 * i));
  ASSERT_TRUE(Step(http, ids[1], "accepted", rider_name(1)));
  ASSERT_TRUE(Step(http, ids[2], "accepted", rider_name(2)));
  ASSERT_TRUE(Step(http, ids[3], "accepted", rider_name(3)));
  EXPECT_TRUE(IsProblem(step(http, ids[4], "accepted", rider_name(3)), 409)) << "rider-03 is busy";
  ASSERT_TRUE(Step(http, ids[1], "picked"));
  ASSERT_TRUE(Step(http, ids[1], "completed"));
  ASSERT_TRUE(Step(http, ids[2], "picked"));
  ASSERT_EQ(cancel(http, ids[3]).status, 200);  // accepted, not picked: voided
  ASSERT_EQ(cancel(http, ids[5]).status, 200);  // never accepted: voided
  ASSERT_TRUE(Step(http, ids[4], "accepted", rider_name(3)));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  EXPECT_LT(took.count(), 5000) << "calls must not wait for the stopped consumers";

  // mypage keeps up; the stopped views stay as they were.
  ASSERT_TRUE(ViewsCaughtUp(http, {"mypage"}));
  json subs = subscribers_of(http);
  for (const char* n : {"report", "notifier"}) {
    auto s = subscriber_entry(subs, n);
    EXPECT_EQ(jfield(s, "running"), false) << n << ": " << subs.dump();
    EXPECT_GT(jnum(s, "lag"), 0) << n << ": " << subs.dump();
  }
  EXPECT_EQ(report_of(http, "zone-mapo"), rep_before) << "a stopped report changed";
  EXPECT_EQ(notifications_of(http, me), notes_before) << "a stopped notifier notified";
  EXPECT_EQ(jsize(mypage_of(http, me), "orders"), ids.size());

  // Started again: both catch up, exactly.
  ASSERT_TRUE(Fault(http, {{"start", {{"subscriber", "report"}}}}));
  ASSERT_TRUE(Fault(http, {{"start", {{"subscriber", "notifier"}}}}));
  ASSERT_TRUE(ViewsCaughtUp(http));
  auto rep = report_of(http, "zone-mapo");
  ASSERT_EQ(jsize(rep, "orders"), ids.size()) << rep.dump();
  std::set<std::string> seen;
  long long captured = 0;
  for (const auto& l : rep["orders"]) {
    const auto id = str(l, "orderId");
    EXPECT_TRUE(seen.insert(id).second) << "duplicate report line " << l.dump();
    auto o = order_of(http, id);
    EXPECT_EQ(str(l, "status"), str(o, "status")) << l.dump() << " vs " << o.dump();
    EXPECT_EQ(jnum(l, "amount"), jnum(o, "fee")) << l.dump();
    const bool settled = str(jfield(o, "payment"), "status") == "captured";
    EXPECT_EQ(jfield(l, "settled"), settled) << l.dump() << " vs " << o.dump();
    EXPECT_EQ(jnum(l, "captured"), settled ? jnum(o, "fee") : 0) << l.dump();
    if (settled) captured += jnum(o, "fee");
  }
  EXPECT_EQ(seen, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(str(entry_of(rep["orders"], ids[1]), "status"), "completed") << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], ids[2]), "status"), "picked") << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], ids[3]), "status"), "cancelled") << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], ids[4]), "status"), "accepted") << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], ids[6]), "status"), "called") << rep.dump();
  EXPECT_EQ(captured, 3000 + 1000) << rep.dump();
  EXPECT_EQ(jnum(rep, "captured"), captured) << rep.dump();
  EXPECT_EQ(jnum(rep, "revenue"), captured) << rep.dump();

  auto notes = notifications_of(http, me);
  expect_distinct_event_ids(notes);
  EXPECT_EQ(kinds_of(notes, ids[1]),
            (std::vector<std::string>{"booking-confirmed", "status-accepted", "status-picked",
                                      "status-completed"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, ids[3]),
            (std::vector<std::string>{"booking-confirmed", "status-accepted", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, ids[5]),
            (std::vector<std::string>{"booking-confirmed", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, ids[6]), (std::vector<std::string>{"booking-confirmed"})) << notes.dump();
  // 4 for the first call, then per call of the outage: 4, 3, 3, 2, 2, 1.
  EXPECT_EQ(notes.size(), 4u + 4u + 3u + 3u + 2u + 2u + 1u) << notes.dump();

  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), captured) << rec.dump();
}

// 50 riders, 200 calls. Round 1: every call is accepted at the same moment,
// four calls per rider: exactly one per rider wins (50 accepts, 150 x 409),
// each winner names a distinct rider, every rider is taken. Round 2: the
// winners are picked and completed while the losers keep trying riders
// until one is free; a sampler watches that no rider is ever over-taken.
// Afterwards, per rider, no two calls' [accepted, completed] overlap in the
// event log (commit order), every call is completed, every rider free, and
// the money reconciles.
TEST(DeliveryConcurrency, FiftyRidersTwoHundredCallsNoRiderOnTwoCalls) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  constexpr int kRiders = 50, kCalls = 200, kRestaurants = 10;
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, zone("zone-race")));
    for (int r = 0; r < kRiders; ++r) ASSERT_TRUE(Register(http, rider(rider_name(r))));
  }
  auto fee_of = [](int i) { return 1000LL + i; };
  auto restaurant_of = [](int i) { return "rest-race-" + std::to_string(i % kRestaurants); };

  // 200 calls, placed by 20 clients.
  std::vector<std::string> calls(kCalls);
  run_together(20, [&](int t) {
    auto h = server.http(60, 20);
    for (int i = t; i < kCalls; i += 20) {
      auto r = h.post("/v1/orders", call_order("zone-race", restaurant_of(i), fee_of(i)));
      EXPECT_EQ(r.status, 201) << r.describe();
      EXPECT_EQ(str(r.body_json(), "status"), "called") << r.describe();
      calls[static_cast<size_t>(i)] = str(r.body_json(), "orderId");
    }
  });
  for (const auto& c : calls) ASSERT_FALSE(c.empty());

  // Round 1: all at once, call i wants rider i % 50.
  const auto t0 = Clock::now();
  std::vector<Reply> first(kCalls);
  run_together(kCalls, [&](int i) {
    auto h = server.http(60, 20);
    first[static_cast<size_t>(i)] = step(h, calls[static_cast<size_t>(i)], "accepted",
                                         rider_name(i % kRiders));
  });
  std::printf("200 concurrent accepts took %lld ms\n",
              static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
  std::map<std::string, int> winner_of_rider;  // rider -> call index
  std::vector<bool> won(kCalls, false);
  for (int i = 0; i < kCalls; ++i) {
    const auto& r = first[static_cast<size_t>(i)];
    if (r.status == 200) {
      auto o = r.body_json();
      EXPECT_EQ(str(o, "status"), "accepted") << r.describe();
      EXPECT_EQ(str(o, "riderId"), rider_name(i % kRiders)) << r.describe();
      EXPECT_TRUE(winner_of_rider.emplace(str(o, "riderId"), i).second)
          << "rider " << str(o, "riderId") << " accepted two calls at once: " << r.describe();
      won[static_cast<size_t>(i)] = true;
    } else {
      EXPECT_TRUE(IsProblem(r, 409)) << "call " << i;
    }
  }
  EXPECT_EQ(winner_of_rider.size(), static_cast<size_t>(kRiders))
      << "all 50 riders were free: exactly 50 accepts must succeed";
  EXPECT_EQ(std::count(won.begin(), won.end(), true), kRiders);
  {
    auto http = server.http();
    for (int r = 0; r < kRiders; ++r)
      EXPECT_EQ(rider_free(http, rider_name(r)), 0) << rider_name(r) << " must be taken";
    for (int i = 0; i < kCalls; ++i) {
      auto o = order_of(http, calls[static_cast<size_t>(i)]);
      if (won[static_cast<size_t>(i)]) {
        EXPECT_EQ(str(o, "riderId"), rider_name(i % kRiders)) << o.dump();
      } else {
        EXPECT_EQ(str(o, "status"), "called") << o.dump();
        EXPECT_FALSE(o.contains("riderId")) << "a refused accept left a rider: " << o.dump();
      }
    }
  }

  // Round 2: winners deliver; losers retry other riders until one is free.
  std::atomic<bool> done{false};
  std::atomic<int> samples{0};
  std::mutex bad_mu;
  std::vector<std::string> bad_samples;
  std::thread sampler([&, port = server.port()] {
    Http h(port, 10);
    while (!done.load()) {
      for (int r = 0; r < kRiders && !done.load(); ++r) {
        auto j = get_resource(h, rider_name(r));
        const long long avail = jnum(j, "available"), held = jnum(j, "held");
        if (avail < 0 || avail > 1 || held < 0 || avail + held > 1) {
          std::lock_guard<std::mutex> l(bad_mu);
          bad_samples.push_back(j.dump());
        }
        ++samples;
      }
    }
  });
  const auto deadline = Clock::now() + 30s;
  std::vector<std::string> errors(kCalls);
  run_together(kCalls, [&](int i) {
    auto h = server.http(60, 20);
    const auto& id = calls[static_cast<size_t>(i)];
    auto fail = [&](const Reply& r) { errors[static_cast<size_t>(i)] = r.describe(); };
    if (!won[static_cast<size_t>(i)]) {
      for (int attempt = 1;; ++attempt) {
        if (Clock::now() > deadline) {
          errors[static_cast<size_t>(i)] = "no rider within the deadline";
          return;
        }
        auto r = step(h, id, "accepted", rider_name((i + attempt) % kRiders));
        if (r.status == 200) break;
        if (r.status != 409) return fail(r);
        std::this_thread::sleep_for(5ms);
      }
    }
    for (const char* s : {"picked", "completed"}) {
      auto r = step(h, id, s);
      if (r.status != 200) return fail(r);
    }
  });
  done = true;
  sampler.join();
  for (int i = 0; i < kCalls; ++i)
    EXPECT_EQ(errors[static_cast<size_t>(i)], "") << "call " << calls[static_cast<size_t>(i)];
  EXPECT_GT(samples.load(), 0);
  EXPECT_TRUE(bad_samples.empty()) << bad_samples.size() << " bad rider samples, e.g. "
                                   << (bad_samples.empty() ? "" : bad_samples.front());
  std::printf("round 2 (150 re-accepts with retries, 400 steps) done in %lld ms\n",
              static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));

  auto http = server.http();
  for (int r = 0; r < kRiders; ++r) EXPECT_EQ(rider_free(http, rider_name(r)), 1) << rider_name(r);
  std::map<std::string, std::string> rider_of;  // call -> rider
  long long fees = 0;
  for (int i = 0; i < kCalls; ++i) {
    auto o = order_of(http, calls[static_cast<size_t>(i)]);
    EXPECT_EQ(str(o, "status"), "completed") << o.dump();
    EXPECT_EQ(str(jfield(o, "payment"), "status"), "captured") << o.dump();
    rider_of[calls[static_cast<size_t>(i)]] = str(o, "riderId");
    fees += fee_of(i);
  }

  // Per rider, the calls' [accepted, completed] event ids never overlap.
  ASSERT_TRUE(ViewsCaughtUp(http, {"mypage", "report"}, 10s));
  std::map<std::string, std::vector<std::pair<long long, long long>>> spans;
  for (int c = 0; c < kRestaurants; ++c) {
    auto page = mypage_of(http, restaurant_of(c));
    for (const auto& o : jfield(page, "orders")) {
      const auto hist = jfield(o, "history");
      const long long acc = event_id_of(hist, "accepted"), comp = event_id_of(hist, "completed");
      EXPECT_GT(acc, 0) << o.dump();
      EXPECT_GT(comp, acc) << o.dump();
      const auto sts = statuses_of(hist);
      EXPECT_EQ(std::count(sts.begin(), sts.end(), "accepted"), 1) << o.dump();
      spans[rider_of[str(o, "orderId")]].emplace_back(acc, comp);
    }
  }
  size_t seen = 0;
  for (auto& [r, list] : spans) {
    seen += list.size();
    std::sort(list.begin(), list.end());
    for (size_t k = 1; k < list.size(); ++k)
      EXPECT_GT(list[k].first, list[k - 1].second)
          << r << " accepted a call (event " << list[k].first
          << ") before completing the previous one (event " << list[k - 1].second << ")";
  }
  EXPECT_EQ(seen, static_cast<size_t>(kCalls));

  auto rep = report_of(http, "zone-race");
  EXPECT_EQ(jsize(rep, "orders"), static_cast<size_t>(kCalls)) << rep.dump();
  EXPECT_EQ(jnum(rep, "captured"), fees);
  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), fees) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "gateway"), "captured"), fees) << rec.dump();
  EXPECT_EQ(jnum(jfield(rec, "orders"), "confirmed"), kCalls) << rec.dump();
}
