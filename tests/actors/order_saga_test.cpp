// The booking saga end to end through the supervisor: hold -> charge ->
// confirm, its compensations (declined or slow payment), cancellation, and
// calendar windows.

#include <random>

#include "actor_fixture.hpp"

namespace troupe::testing {
namespace {

using actors::get_atom;
using domain::ErrorKind;
using domain::OrderPhase;
using domain::PaymentStatus;

constexpr domain::Timestamp hour = 3'600'000;
constexpr domain::Timestamp t0 = 1'900'000'800'000;  // 2030-03-17, on the hour

// ---------------------------------------------------------------------------
// The happy path and registration
// ---------------------------------------------------------------------------

class OrderSaga : public ActorFixture {};

TEST_F(OrderSaga, ConfirmedOrderIsChargedPriceTimesQuantityAndTakesCapacity) {
  auto reg = register_resource(capacity_spec("show-1", 10, 2500));
  ASSERT_TRUE(reg.ok()) << reg.describe();
  EXPECT_TRUE(reg.value->created);
  EXPECT_EQ(reg.value->view.available, 10);
  EXPECT_EQ(reg.value->view.spec.id, "show-1");

  auto o = place("show-1", 3, "alice");
  ASSERT_TRUE(o.ok()) << o.describe();
  EXPECT_FALSE(o.value->id.empty());
  EXPECT_EQ(o.value->phase, OrderPhase::confirmed);
  EXPECT_EQ(o.value->resource_id, "show-1");
  EXPECT_EQ(o.value->customer_id, "alice");
  EXPECT_EQ(o.value->quantity, 3);
  EXPECT_EQ(o.value->amount, 7500);
  EXPECT_EQ(o.value->payment.amount, 7500);
  EXPECT_EQ(o.value->payment.status, PaymentStatus::captured);

  auto v = view("show-1");
  ASSERT_TRUE(v.ok()) << v.describe();
  EXPECT_EQ(v.value->available, 7);
  EXPECT_EQ(v.value->held, 0);

  // The order actor serves the same order, and it is durable with its alloc.
  auto got = order(o.value->id);
  ASSERT_TRUE(got.ok()) << got.describe();
  EXPECT_EQ(got.value->phase, OrderPhase::confirmed);
  auto allocs = scan(actors::records::alloc_prefix("show-1"));
  ASSERT_TRUE(allocs.ok()) << allocs.describe();
  ASSERT_EQ(allocs.value->size(), 1u);
  EXPECT_EQ(allocs.value->front().key, "alloc/show-1/" + o.value->id);
  auto rec = ask<actors::StoreValue>(store, actors::StoreGet{actors::records::order_key(o.value->id)});
  ASSERT_TRUE(rec.ok()) << rec.describe();
  ASSERT_TRUE(rec.value->found);
  auto decoded = actors::records::decode_order(rec.value->value);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->phase, OrderPhase::confirmed);
}

TEST_F(OrderSaga, RegisteringTheSameSpecAgainIsNotACreation) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  ASSERT_TRUE(place("show-1", 4).ok());
  auto again = register_resource(capacity_spec("show-1", 10, 100));
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_FALSE(again.value->created);
  EXPECT_EQ(again.value->view.available, 6);  // the live view, not a fresh one

  auto different = register_resource(capacity_spec("show-1", 20, 100));
  ASSERT_FALSE(different.ok());
  EXPECT_EQ(different.error.kind, ErrorKind::conflict);

  auto invalid = register_resource(capacity_spec("show-2", 0, 100));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error.kind, ErrorKind::invalid_input);
}

TEST_F(OrderSaga, ARetryWithADerivedOrderIdGetsThatOrderNotASecondOne) {
  // What the HTTP bridge does for an Idempotency-Key whose record was lost
  // (a crash between the order's durable confirmation and the key's record):
  // the id base is derived from the key; attempts are base-0, base-1, ...
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto first = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k1", "show-1", "c-1", 2, 0, 0, "", 0});
  ASSERT_TRUE(first.ok()) << first.describe();
  EXPECT_EQ(first.value->id, "o-k1-0");
  auto again = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k1", "show-1", "c-1", 2, 0, 0, "", 0});
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_EQ(again.value->id, "o-k1-0");
  EXPECT_EQ(again.value->phase, OrderPhase::confirmed);
  EXPECT_EQ(view("show-1").value->available, 8) << "nothing taken twice";
  EXPECT_EQ(gateway->ledger.totals().payments, 1u) << "nothing charged twice";
  // A rejected attempt (402/503 are retryable) makes room for a new one.
  gateway->failure_rate = 1.0;
  auto declined = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k2", "show-1", "c-1", 1, 0, 0, "", 0});
  ASSERT_FALSE(declined.ok());
  EXPECT_EQ(declined.error.subject, "o-k2-0");
  gateway->failure_rate = 0.0;
  auto retry = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k2", "show-1", "c-1", 1, 0, 0, "", 0});
  ASSERT_TRUE(retry.ok()) << retry.describe();
  EXPECT_EQ(retry.value->id, "o-k2-1");
  auto once_more = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k2", "show-1", "c-1", 1, 0, 0, "", 0});
  ASSERT_TRUE(once_more.ok());
  EXPECT_EQ(once_more.value->id, "o-k2-1");
  EXPECT_EQ(view("show-1").value->available, 7);
}

TEST_F(OrderSaga, OrderOnUnknownResourceIsNotFound) {
  auto o = place("nowhere", 1);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error.kind, ErrorKind::not_found);
}

TEST_F(OrderSaga, OrderBeyondCapacityIsUnavailableAndTakesNothing) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 5, 100)).ok());
  ASSERT_TRUE(place("show-1", 4).ok());
  auto o = place("show-1", 2);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error.kind, ErrorKind::unavailable) << o.describe();
  auto v = view("show-1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value->available, 1);
  EXPECT_EQ(v.value->held, 0);
  // A refused hold leaves no record and no order actor behind.
  auto orders = scan(actors::records::order_prefix);
  ASSERT_TRUE(orders.ok());
  EXPECT_EQ(orders.value->size(), 1u);
  EXPECT_TRUE(eventually([&] { return directory->order_count() == 1; }))
    << directory->order_count() << " order actors registered";
}

// ---------------------------------------------------------------------------
// Compensation: declined payment
// ---------------------------------------------------------------------------

TEST_F(OrderSaga, DeclinedPaymentReleasesHoldAndConfirmsNothing) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 2500)).ok());
  gateway->failure_rate = 1.0;

  auto o = place("show-1", 3);
  ASSERT_FALSE(o.ok()) << "a declined payment must not confirm";
  EXPECT_EQ(o.error.kind, ErrorKind::payment_declined) << o.describe();
  ASSERT_FALSE(o.error.subject.empty()) << "the error names the order";
  const auto oid = o.error.subject;

  auto v = view("show-1");
  ASSERT_TRUE(v.ok()) << v.describe();
  EXPECT_EQ(v.value->available, 10);
  EXPECT_EQ(v.value->held, 0);

  auto got = order(oid);
  ASSERT_TRUE(got.ok()) << got.describe();
  EXPECT_EQ(got.value->phase, OrderPhase::rejected);
  EXPECT_EQ(got.value->payment.status, PaymentStatus::declined);
  EXPECT_FALSE(got.value->reason.empty());

  auto allocs = scan(actors::records::alloc_prefix("show-1"));
  ASSERT_TRUE(allocs.ok()) << allocs.describe();
  EXPECT_TRUE(allocs.value->empty());
  // The rejection itself is durable (a client can look the order up).
  auto rec = ask<actors::StoreValue>(store, actors::StoreGet{actors::records::order_key(oid)});
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec.value->found);
  auto decoded = actors::records::decode_order(rec.value->value);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->phase, OrderPhase::rejected);

  // The gateway recovers: the capacity is all there.
  gateway->failure_rate = 0.0;
  auto ok = place("show-1", 10);
  ASSERT_TRUE(ok.ok()) << ok.describe();
}

// ---------------------------------------------------------------------------
// Compensation: payment does not answer in time
// ---------------------------------------------------------------------------

class SlowPaymentSaga : public ActorFixture {
 protected:
  SlowPaymentSaga() {
    timeouts.payment = 50ms;
    gateway->latency_min_ms = 300;
    gateway->latency_max_ms = 300;
  }
};

TEST_F(SlowPaymentSaga, TimeoutVoidsPaymentReleasesHoldAndRejects) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 2500)).ok());

  auto o = place("show-1", 2);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error.kind, ErrorKind::payment_unavailable) << o.describe();
  ASSERT_FALSE(o.error.subject.empty());

  auto v = view("show-1");
  ASSERT_TRUE(v.ok()) << v.describe();
  EXPECT_EQ(v.value->available, 10);
  EXPECT_EQ(v.value->held, 0);

  auto got = order(o.error.subject);
  ASSERT_TRUE(got.ok()) << got.describe();
  EXPECT_EQ(got.value->phase, OrderPhase::rejected);
  EXPECT_EQ(got.value->payment.status, PaymentStatus::voided);

  auto allocs = scan(actors::records::alloc_prefix("show-1"));
  ASSERT_TRUE(allocs.ok());
  EXPECT_TRUE(allocs.value->empty());

  // The late gateway answer (after 300 ms) changes nothing.
  std::this_thread::sleep_for(350ms);
  got = order(o.error.subject);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value->phase, OrderPhase::rejected);
  EXPECT_EQ(got.value->payment.status, PaymentStatus::voided);
  v = view("show-1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value->available, 10);
}

// ---------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------

class OrderCancellation : public ActorFixture {};

TEST_F(OrderCancellation, CancelRefundsAndGivesCapacityBack) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 500)).ok());
  auto o = place("show-1", 4);
  ASSERT_TRUE(o.ok()) << o.describe();
  ASSERT_EQ(view("show-1").value->available, 6);

  auto c = ask<domain::Order>(order_actor(o.value->id), actors::cancel_atom::value);
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.value->phase, OrderPhase::cancelled);
  EXPECT_EQ(c.value->payment.status, PaymentStatus::refunded);
  EXPECT_EQ(c.value->amount, 2000);

  auto v = view("show-1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value->available, 10);
  EXPECT_EQ(v.value->held, 0);

  auto got = order(o.value->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value->phase, OrderPhase::cancelled);
  auto allocs = scan(actors::records::alloc_prefix("show-1"));
  ASSERT_TRUE(allocs.ok());
  EXPECT_TRUE(allocs.value->empty());
}

TEST_F(OrderCancellation, CancellingTwiceIsAConflict) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 500)).ok());
  auto o = place("show-1", 4);
  ASSERT_TRUE(o.ok()) << o.describe();
  auto first = ask<domain::Order>(order_actor(o.value->id), actors::cancel_atom::value);
  ASSERT_TRUE(first.ok()) << first.describe();
  auto second = ask<domain::Order>(order_actor(o.value->id), actors::cancel_atom::value);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error.kind, ErrorKind::conflict) << second.describe();
  // Capacity is given back once only.
  EXPECT_EQ(view("show-1").value->available, 10);
}

TEST_F(OrderCancellation, RejectedOrderCannotBeCancelled) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 500)).ok());
  gateway->failure_rate = 1.0;
  auto o = place("show-1", 1);
  ASSERT_FALSE(o.ok());
  auto c = ask<domain::Order>(order_actor(o.error.subject), actors::cancel_atom::value);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error.kind, ErrorKind::conflict) << c.describe();
  EXPECT_EQ(view("show-1").value->available, 10);
}

// ---------------------------------------------------------------------------
// Calendar resources
// ---------------------------------------------------------------------------

class CalendarBooking : public ActorFixture {
 protected:
  void SetUp() override {
    ActorFixture::SetUp();
    auto reg = register_resource(calendar_spec("car-1", 1200));
    ASSERT_TRUE(reg.ok()) << reg.describe();
    ASSERT_TRUE(reg.value->created);
    auto first = place_window("car-1", t0, t0 + 2 * hour);
    ASSERT_TRUE(first.ok()) << first.describe();
    first_order = *first.value;
  }
  domain::Order first_order;
};

TEST_F(CalendarBooking, WindowIsBilledPerStartedHour) {
  EXPECT_EQ(first_order.phase, OrderPhase::confirmed);
  EXPECT_EQ(first_order.amount, 2400);
  auto v = view("car-1");
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v.value->bookings.size(), 1u);
  EXPECT_EQ(v.value->bookings[0].order_id, first_order.id);
  EXPECT_EQ(v.value->bookings[0].start, t0);
  EXPECT_EQ(v.value->bookings[0].end, t0 + 2 * hour);
  EXPECT_TRUE(v.value->bookings[0].confirmed);
}

TEST_F(CalendarBooking, OverlappingWindowIsRefused) {
  for (auto [s, e] : {std::pair{t0 + hour, t0 + 3 * hour}, std::pair{t0 - hour, t0 + 1},
                      std::pair{t0 + 1, t0 + hour}, std::pair{t0 - hour, t0 + 3 * hour}}) {
    auto o = place_window("car-1", s, e);
    ASSERT_FALSE(o.ok()) << "[" << s - t0 << ", " << e - t0 << ") overlaps";
    EXPECT_EQ(o.error.kind, ErrorKind::unavailable) << o.describe();
  }
  auto v = view("car-1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value->bookings.size(), 1u);
}

TEST_F(CalendarBooking, AdjacentWindowsAreAccepted) {
  auto after = place_window("car-1", t0 + 2 * hour, t0 + 3 * hour);
  ASSERT_TRUE(after.ok()) << after.describe();
  EXPECT_EQ(after.value->phase, OrderPhase::confirmed);
  auto before = place_window("car-1", t0 - hour, t0);
  ASSERT_TRUE(before.ok()) << before.describe();
  EXPECT_EQ(before.value->phase, OrderPhase::confirmed);
  auto v = view("car-1");
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v.value->bookings.size(), 3u);
  EXPECT_EQ(v.value->bookings[0].order_id, before.value->id);
  EXPECT_EQ(v.value->bookings[2].order_id, after.value->id);
}

TEST_F(CalendarBooking, CancelledWindowCanBeBookedAgain) {
  auto c = ask<domain::Order>(order_actor(first_order.id), actors::cancel_atom::value);
  ASSERT_TRUE(c.ok()) << c.describe();
  auto again = place_window("car-1", t0 + hour, t0 + 3 * hour);
  ASSERT_TRUE(again.ok()) << again.describe();
}

// ---------------------------------------------------------------------------
// Passivation: orders at rest stop their actor and come back on demand
// ---------------------------------------------------------------------------

class Passivation : public ActorFixture {
 protected:
  // (100 ms: an activated order could passivate again before a check under load)
  Passivation() { order_idle = std::chrono::milliseconds(300); }
};

TEST_F(Passivation, AnIdleOrderAtRestStopsAndTheNextCommandActivatesItFromItsRecord) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto o = place("show-1", 2);
  ASSERT_TRUE(o.ok()) << o.describe();
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }))
    << directory->order_count() << " order actors still running";
  // Its record is all there is; a command brings it back as it was.
  auto again = order(o.value->id);
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_EQ(again.value->phase, OrderPhase::confirmed);
  EXPECT_EQ(again.value->payment.status, PaymentStatus::captured);
  EXPECT_EQ(directory->order_count(), 1u);
  auto c = ask<domain::Order>(order_actor(o.value->id), actors::cancel_atom::value);
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.value->phase, OrderPhase::cancelled);
  EXPECT_EQ(view("show-1").value->available, 10);
  EXPECT_EQ(c.value->payment.status, PaymentStatus::refunded);
  // The money goes back after the answer (the cancellation is durable first).
  EXPECT_TRUE(eventually([&] {
    return gateway->ledger.status(o.value->payment.id) == PaymentStatus::refunded;
  })) << domain::to_string(gateway->ledger.status(o.value->payment.id));
  // Cancelled and idle: passivated again, and still read as cancelled.
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }));
  EXPECT_EQ(order(o.value->id).value->phase, OrderPhase::cancelled);
}

TEST_F(Passivation, ARetryWithADerivedOrderIdFindsThePassivatedAttemptNotASecondOne) {
  // Bug found while building passivation: a keyed retry looked only for a
  // running actor, so once the attempt was passivated it booked again.
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto first = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k1", "show-1", "c-1", 2, 0, 0, "", 0});
  ASSERT_TRUE(first.ok()) << first.describe();
  gateway->failure_rate = 1.0;
  auto declined = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k2", "show-1", "c-1", 1, 0, 0, "", 0});
  ASSERT_FALSE(declined.ok());
  gateway->failure_rate = 0.0;
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }));
  auto again = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k1", "show-1", "c-1", 2, 0, 0, "", 0});
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_EQ(again.value->id, "o-k1-0");
  EXPECT_EQ(again.value->phase, OrderPhase::confirmed);
  EXPECT_EQ(view("show-1").value->available, 8) << "nothing taken twice";
  EXPECT_EQ(gateway->ledger.totals().payments, 2u) << "nothing charged twice (1 capture, 1 decline)";
  // The passivated rejected attempt still makes room for the next one.
  auto retry = ask<domain::Order>(supervisor, actors::PlaceOrder{"o-k2", "show-1", "c-1", 1, 0, 0, "", 0});
  ASSERT_TRUE(retry.ok()) << retry.describe();
  EXPECT_EQ(retry.value->id, "o-k2-1");
  EXPECT_EQ(view("show-1").value->available, 7);
}

TEST_F(Passivation, UnknownOrdersAreNotFoundAndConcurrentActivationsShareOneActor) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto o = place("show-1", 1);
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }));
  auto missing = ask<caf::actor>(directory->service("orders"), actors::activate_atom::value,
                                 std::string("o-nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error.kind, ErrorKind::not_found);
  // Many activations at once: one actor, every caller gets it.
  std::vector<caf::actor> got;
  {
    using Handle = decltype(self()->request(caf::actor{}, request_timeout,
                                            actors::activate_atom::value, std::string{}));
    std::vector<Handle> pending;
    for (int i = 0; i < 20; ++i)
      pending.push_back(self()->request(directory->service("orders"), request_timeout,
                                        actors::activate_atom::value, o.value->id));
    for (auto& p : pending)
      p.receive([&](caf::actor& a) { got.push_back(a); },
                [](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
  }
  ASSERT_EQ(got.size(), 20u);
  for (const auto& a : got) EXPECT_EQ(a, got.front());
  EXPECT_EQ(directory->order_count(), 1u);
}

// A caller whose command bounced off a stopped order actor asks the orders
// supervisor to activate the order "once `gone` is gone": the directory may
// name the stopped actor until its down message is handled.
TEST_F(Passivation, AnActivationAfterABounceWaitsUntilTheBouncedActorIsGone) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto o = place("show-1", 1);
  ASSERT_TRUE(o.ok()) << o.describe();
  const auto oid = o.value->id;
  const auto running = directory->order(oid);
  ASSERT_TRUE(running);
  // Still running: the answer waits for its passivation (300 ms idle), then
  // is a new activation from the record.
  const auto asked = std::chrono::steady_clock::now();
  auto fresh = ask<caf::actor>(directory->service("orders"), actors::activate_atom::value, oid,
                               running.address());
  ASSERT_TRUE(fresh.ok()) << fresh.describe();
  EXPECT_NE(*fresh.value, running);
  EXPECT_GE(std::chrono::steady_clock::now() - asked, std::chrono::milliseconds(100))
    << "answered before the actor it names had stopped";
  EXPECT_EQ(directory->order(oid), *fresh.value);
  EXPECT_EQ(ask<domain::Order>(*fresh.value, actors::get_atom::value).value->phase,
            OrderPhase::confirmed);
  // Already gone (its down handled): activated at once.
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }));
  auto again = ask<caf::actor>(directory->service("orders"), actors::activate_atom::value, oid,
                               fresh.value->address());
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_NE(*again.value, *fresh.value);
  // A crashed actor is restarted by its supervisor, not activated beside it:
  // the caller is told to retry, and one actor serves the order afterwards.
  const auto crashing = *again.value;
  auto parked = self()->request(directory->service("orders"), request_timeout,
                                actors::activate_atom::value, oid, crashing.address());
  auto crash = ask<actors::ok_atom>(supervisor, actors::CrashActor{"order", oid});
  ASSERT_TRUE(crash.ok()) << crash.describe();
  bool told_to_retry = false;
  parked.receive([&](caf::actor&) { ADD_FAILURE() << "activated beside a restart"; },
                 [&](caf::error& e) { told_to_retry = actors::from_caf(e).kind == ErrorKind::retry; });
  EXPECT_TRUE(told_to_retry);
  ASSERT_TRUE(eventually([&] {
    auto now = directory->order(oid);
    return now && now != crashing;
  }));
  EXPECT_EQ(order(oid).value->phase, OrderPhase::confirmed);
}

class QuickPassivation : public ActorFixture {
 protected:
  QuickPassivation() { order_idle = std::chrono::milliseconds(1); }
};

// A keyed retry that finds the attempt's actor just as it passivates gets
// the attempt from its record, neither a 503 nor a second booking.
TEST_F(QuickPassivation, AKeyedRetryRacingThePassivationGetsTheAttempt) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 1000, 100)).ok());
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pause_us(0, 3000);
  constexpr int kOrders = 150;
  for (int i = 0; i < kOrders; ++i) {
    const std::string key = "o-race-" + std::to_string(i);
    actors::PlaceOrder p{key, "show-1", "c-1", 1, 0, 0, "", 0};
    auto first = ask<domain::Order>(supervisor, p);
    ASSERT_TRUE(first.ok()) << first.describe();
    std::this_thread::sleep_for(std::chrono::microseconds(pause_us(rng)));
    auto again = ask<domain::Order>(supervisor, p);
    ASSERT_TRUE(again.ok()) << "retry " << i << ": " << again.describe();
    EXPECT_EQ(again.value->id, key + "-0");
  }
  EXPECT_EQ(view("show-1").value->available, 1000 - kOrders) << "nothing booked twice";
}

// order_idle 0 (the default): an order stops as soon as it comes to rest,
// well before its fallback timer (1 s) could have stopped it.
class PassivationAtRest : public ActorFixture {
 protected:
  PassivationAtRest() { order_idle = std::chrono::milliseconds(0); }
};

TEST_F(PassivationAtRest, ConfirmedRejectedAndCancelledOrdersStopAtOnceAndCommandsBringThemBack) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  const auto quickly = std::chrono::milliseconds(500);
  auto o = place("show-1", 2);
  ASSERT_TRUE(o.ok()) << o.describe();
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }, quickly))
    << "a confirmed order's actor still runs";
  // Declined: the rejection is stored, then the actor stops.
  gateway->failure_rate = 1.0;
  auto declined = place("show-1", 1);
  gateway->failure_rate = 0.0;
  ASSERT_FALSE(declined.ok());
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }, quickly))
    << "a rejected order's actor still runs";
  // A command activates the confirmed one from its record; cancelled and
  // refunded, it stops again.
  auto c = ask<domain::Order>(order_actor(o.value->id), actors::cancel_atom::value);
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.value->phase, OrderPhase::cancelled);
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }, quickly))
    << "a cancelled order's actor still runs";
  auto stored = order(o.value->id);
  ASSERT_TRUE(stored.ok()) << stored.describe();
  EXPECT_EQ(stored.value->phase, OrderPhase::cancelled);
  EXPECT_EQ(stored.value->payment.status, PaymentStatus::refunded);
  EXPECT_EQ(view("show-1").value->available, 10);
}

// The crash fault still reaches an order at rest: it is activated from its
// record, crashes, and its supervisor restarts it from that record.
TEST_F(PassivationAtRest, ACrashOfAPassivatedOrderActivatesItAndItRestartsFromItsRecord) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto o = place("show-1", 2);
  ASSERT_TRUE(o.ok()) << o.describe();
  ASSERT_TRUE(eventually([&] { return directory->order_count() == 0; }));
  auto before = supervision_stats();
  ASSERT_TRUE(before.ok());
  auto crash = ask<actors::ok_atom>(supervisor, actors::CrashActor{"order", o.value->id});
  ASSERT_TRUE(crash.ok()) << crash.describe();
  // (Until the restart reads the record, the directory names the crashed
  // actor: a command would bounce.)
  ASSERT_TRUE(eventually([&] {
    auto st = supervision_stats();
    return st.ok() && st.value->restarts > before.value->restarts && order(o.value->id).ok();
  })) << "no restart after the crash";
  auto c = ask<domain::Order>(order_actor(o.value->id), actors::cancel_atom::value);
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.value->phase, OrderPhase::cancelled);
  EXPECT_EQ(view("show-1").value->available, 10);
  auto missing = ask<actors::ok_atom>(supervisor, actors::CrashActor{"order", "o-nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error.kind, ErrorKind::not_found);
}

TEST_F(Passivation, OnlyUnfinishedSagasAreIndexedAndRestoredAtStart) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto a = place("show-1", 1);
  auto b = place("show-1", 1);
  ASSERT_TRUE(a.ok() && b.ok());
  // Confirmed orders leave no open/ entry behind (the held write put one).
  auto open = scan(actors::records::open_prefix);
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open.value->empty()) << open.value->size() << " open entries";
  // A restart starts no actor for them; they are still there on demand.
  shutdown();
  boot();
  auto restored = ask<actors::SupervisionStats>(supervisor, actors::restore_atom::value);
  ASSERT_TRUE(restored.ok()) << restored.describe();
  EXPECT_EQ(restored.value->orders, 0u);
  EXPECT_EQ(directory->order_count(), 0u);
  EXPECT_EQ(order(a.value->id).value->phase, OrderPhase::confirmed);
  EXPECT_EQ(view("show-1").value->available, 8);
}

// ---------------------------------------------------------------------------
// Resources are virtual actors: activated on demand, passivated when idle
// ---------------------------------------------------------------------------

class ResourcePassivation : public ActorFixture {
 protected:
  ResourcePassivation() { resource_idle = std::chrono::milliseconds(100); }
};

TEST_F(ResourcePassivation, RegisteringStartsNoActorAndTheFirstUseActivatesItWithItsBookings) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  ASSERT_TRUE(register_resource(calendar_spec("car-1", 60)).ok());
  EXPECT_EQ(directory->active_resource_count(), 0u) << "registered, not running";
  auto a = place("show-1", 3);
  auto w = place_window("car-1", t0, t0 + 2 * hour);
  ASSERT_TRUE(a.ok() && w.ok());
  EXPECT_EQ(directory->active_resource_count(), 2u);
  ASSERT_TRUE(eventually([&] { return directory->active_resource_count() == 0; }))
    << directory->active_resource_count() << " resource actors still running";
  // Activated again from the store: the bookings are all there.
  EXPECT_EQ(view("show-1").value->available, 7);
  auto clash = place_window("car-1", t0 + hour, t0 + 3 * hour);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error.kind, ErrorKind::unavailable);
  ASSERT_TRUE(eventually([&] { return directory->active_resource_count() == 0; }));
  auto over = place("show-1", 8);
  ASSERT_FALSE(over.ok()) << "7 left, never oversold across activations";
  EXPECT_TRUE(place("show-1", 7).ok());
  EXPECT_EQ(view("show-1").value->available, 0);
  // Cancelling a booking of a passivated resource frees it there.
  ASSERT_TRUE(eventually([&] { return directory->active_resource_count() == 0; }));
  auto c = ask<domain::Order>(order_actor(a.value->id), actors::cancel_atom::value);
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(view("show-1").value->available, 3);
}

TEST_F(ResourcePassivation, AColdStartActivatesNothingAndACrashedActorStillRestartsWithItsBookings) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  ASSERT_TRUE(place("show-1", 4).ok());
  shutdown();
  boot();
  auto restored = ask<actors::SupervisionStats>(supervisor, actors::restore_atom::value);
  ASSERT_TRUE(restored.ok()) << restored.describe();
  EXPECT_EQ(restored.value->resources, 1u);
  EXPECT_EQ(directory->active_resource_count(), 0u);
  EXPECT_EQ(view("show-1").value->available, 6);
  const auto before = directory->running_resource("show-1");
  ASSERT_TRUE(before);
  ASSERT_TRUE(ask<actors::ok_atom>(supervisor, actors::CrashActor{"resource", "show-1"}).ok());
  ASSERT_TRUE(eventually([&] {
    auto now = directory->running_resource("show-1");
    return now && now != before;
  }));
  EXPECT_EQ(view("show-1").value->available, 6);
  EXPECT_TRUE(place("show-1", 6).ok());
  EXPECT_FALSE(place("show-1", 1).ok());
}

}  // namespace
}  // namespace troupe::testing
