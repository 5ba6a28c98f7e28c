// Supervision: crashed children come back from the store with the same
// state, and a new system on the same data dir restores everything.

#include "actor_fixture.hpp"

namespace troupe::testing {
namespace {

using actors::CrashActor;
using actors::ok_atom;
using domain::ErrorKind;
using domain::OrderPhase;
using domain::PaymentStatus;

constexpr domain::Timestamp hour = 3'600'000;
constexpr domain::Timestamp t0 = 1'900'000'800'000;

class Supervision : public ActorFixture {
 protected:
  /// Waits until the directory holds a handle for `rid` other than `old` that
  /// answers get_atom.
  bool resource_restarted(const std::string& rid, const caf::actor& old) {
    return eventually([&] {
      auto now = directory->resource_actor(rid);
      if (!now || now == old) return false;
      return ask_for<actors::ResourceView>(now, 500ms, actors::get_atom::value).ok();
    });
  }
  bool order_restarted(const std::string& oid, const caf::actor& old) {
    return eventually([&] {
      auto now = directory->order(oid);
      if (!now || now == old) return false;
      return ask_for<domain::Order>(now, 500ms, actors::get_atom::value).ok();
    });
  }
};

TEST_F(Supervision, CrashedResourceRestartsWithItsConfirmedBookings) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  std::int64_t confirmed = 0;
  for (std::int64_t q : {1, 2, 3}) {
    auto o = place("show-1", q);
    ASSERT_TRUE(o.ok()) << o.describe();
    confirmed += q;
  }
  const auto old = directory->resource_actor("show-1");
  ASSERT_TRUE(old);

  auto crash = ask<ok_atom>(supervisor, CrashActor{"resource", "show-1"});
  ASSERT_TRUE(crash.ok()) << crash.describe();
  ASSERT_TRUE(resource_restarted("show-1", old)) << "resource not restarted within 3 s";

  auto v = view("show-1");
  ASSERT_TRUE(v.ok()) << v.describe();
  EXPECT_EQ(v.value->available, 10 - confirmed);
  EXPECT_EQ(v.value->held, 0);

  auto st = supervision_stats();
  ASSERT_TRUE(st.ok());
  EXPECT_GE(st.value->restarts, 1u);
  EXPECT_NE(st.value->last_failure.find("show-1"), std::string::npos) << st.value->last_failure;
  EXPECT_EQ(st.value->resources, 1u);

  // The restarted resource takes new orders, up to what is really left.
  auto o = place("show-1", 10 - confirmed);
  ASSERT_TRUE(o.ok()) << o.describe();
  EXPECT_EQ(o.value->phase, OrderPhase::confirmed);
  auto over = place("show-1", 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error.kind, ErrorKind::unavailable) << over.describe();
  EXPECT_EQ(view("show-1").value->available, 0);
}

TEST_F(Supervision, CrashedCalendarResourceKeepsItsWindows) {
  ASSERT_TRUE(register_resource(calendar_spec("car-1", 1000)).ok());
  auto a = place_window("car-1", t0, t0 + hour);
  auto b = place_window("car-1", t0 + 2 * hour, t0 + 3 * hour);
  ASSERT_TRUE(a.ok() && b.ok()) << a.describe() << " / " << b.describe();
  const auto old = directory->resource_actor("car-1");
  ASSERT_TRUE(ask<ok_atom>(supervisor, CrashActor{"resource", "car-1"}).ok());
  ASSERT_TRUE(resource_restarted("car-1", old));
  auto v = view("car-1");
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v.value->bookings.size(), 2u);
  EXPECT_EQ(v.value->bookings[0].order_id, a.value->id);
  EXPECT_EQ(v.value->bookings[1].order_id, b.value->id);
  auto clash = place_window("car-1", t0 + hour / 2, t0 + 2 * hour);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error.kind, ErrorKind::unavailable);
  auto gap = place_window("car-1", t0 + hour, t0 + 2 * hour);
  ASSERT_TRUE(gap.ok()) << gap.describe();
}

TEST_F(Supervision, CrashedOrderRestartsConfirmedAndCanStillBeCancelled) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto o = place("show-1", 2);
  ASSERT_TRUE(o.ok()) << o.describe();
  const auto oid = o.value->id;
  const auto old = directory->order(oid);
  ASSERT_TRUE(old);

  auto crash = ask<ok_atom>(supervisor, CrashActor{"order", oid});
  ASSERT_TRUE(crash.ok()) << crash.describe();
  ASSERT_TRUE(order_restarted(oid, old)) << "order not restarted within 3 s";

  auto got = order(oid);
  ASSERT_TRUE(got.ok()) << got.describe();
  EXPECT_EQ(got.value->phase, OrderPhase::confirmed);
  EXPECT_EQ(got.value->amount, 200);
  EXPECT_EQ(got.value->payment.status, PaymentStatus::captured);

  auto st = supervision_stats();
  ASSERT_TRUE(st.ok());
  EXPECT_GE(st.value->restarts, 1u);
  EXPECT_EQ(st.value->orders, 1u);
  // The resource did not notice.
  EXPECT_EQ(view("show-1").value->available, 8);

  auto c = ask<domain::Order>(order_actor(oid), actors::cancel_atom::value);
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.value->phase, OrderPhase::cancelled);
  EXPECT_EQ(view("show-1").value->available, 10);
}

TEST_F(Supervision, CrashOfUnknownChildIsNotFound) {
  auto crash = ask<ok_atom>(supervisor, CrashActor{"resource", "nowhere"});
  ASSERT_FALSE(crash.ok());
  EXPECT_EQ(crash.error.kind, ErrorKind::not_found);
}

// ---------------------------------------------------------------------------
// Restore: a new system on the same data directory
// ---------------------------------------------------------------------------

class Restore : public ActorFixture {};

TEST_F(Restore, NewSystemOnSameDataDirBringsBackResourcesAndOrders) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  ASSERT_TRUE(register_resource(calendar_spec("car-1", 1000)).ok());
  auto kept = place("show-1", 2);
  auto cancelled = place("show-1", 3);
  auto window = place_window("car-1", t0, t0 + 2 * hour);
  ASSERT_TRUE(kept.ok() && cancelled.ok() && window.ok());
  ASSERT_TRUE(
    ask<domain::Order>(order_actor(cancelled.value->id), actors::cancel_atom::value).ok());
  gateway->failure_rate = 1.0;
  auto declined = place("show-1", 1);
  ASSERT_FALSE(declined.ok());
  gateway->failure_rate = 0.0;
  const auto declined_id = declined.error.subject;
  ASSERT_FALSE(declined_id.empty());

  auto show_before = view("show-1");
  auto car_before = view("car-1");
  ASSERT_TRUE(show_before.ok() && car_before.ok());
  ASSERT_EQ(show_before.value->available, 8);

  shutdown();
  boot();
  ASSERT_EQ(directory->resource_count(), 0u);

  auto restored = ask<actors::SupervisionStats>(supervisor, actors::restore_atom::value);
  ASSERT_TRUE(restored.ok()) << restored.describe();
  EXPECT_EQ(restored.value->resources, 2u);
  // Confirmed x2, cancelled, rejected: all at rest, so no actor is started
  // for them; each is activated from its record when asked (below).
  EXPECT_EQ(restored.value->orders, 0u);

  auto show = view("show-1");
  ASSERT_TRUE(show.ok()) << show.describe();
  EXPECT_EQ(show.value->spec, show_before.value->spec);
  EXPECT_EQ(show.value->available, 8);
  EXPECT_EQ(show.value->held, 0);
  auto car = view("car-1");
  ASSERT_TRUE(car.ok()) << car.describe();
  ASSERT_EQ(car.value->bookings.size(), 1u);
  EXPECT_EQ(car.value->bookings[0].order_id, window.value->id);
  EXPECT_EQ(car.value->bookings[0].start, t0);
  EXPECT_EQ(car.value->bookings[0].end, t0 + 2 * hour);
  EXPECT_TRUE(car.value->bookings[0].confirmed);

  auto k = order(kept.value->id);
  ASSERT_TRUE(k.ok()) << k.describe();
  EXPECT_EQ(k.value->phase, OrderPhase::confirmed);
  EXPECT_EQ(k.value->amount, 200);
  EXPECT_EQ(k.value->history, kept.value->history);
  auto c = order(cancelled.value->id);
  ASSERT_TRUE(c.ok()) << c.describe();
  EXPECT_EQ(c.value->phase, OrderPhase::cancelled);
  EXPECT_EQ(c.value->payment.status, PaymentStatus::refunded);
  auto d = order(declined_id);
  ASSERT_TRUE(d.ok()) << d.describe();
  EXPECT_EQ(d.value->phase, OrderPhase::rejected);
  EXPECT_EQ(d.value->payment.status, PaymentStatus::declined);
  auto w = order(window.value->id);
  ASSERT_TRUE(w.ok()) << w.describe();
  EXPECT_EQ(w.value->phase, OrderPhase::confirmed);

  // Registering again is recognised; the restored system keeps working.
  auto again = register_resource(capacity_spec("show-1", 10, 100));
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_FALSE(again.value->created);
  auto more = place("show-1", 8);
  ASSERT_TRUE(more.ok()) << more.describe();
  auto over = place("show-1", 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error.kind, ErrorKind::unavailable);
  auto cancel_kept = ask<domain::Order>(order_actor(kept.value->id), actors::cancel_atom::value);
  ASSERT_TRUE(cancel_kept.ok()) << cancel_kept.describe();
  EXPECT_EQ(view("show-1").value->available, 2);
  auto clash = place_window("car-1", t0 + hour, t0 + 3 * hour);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error.kind, ErrorKind::unavailable);
}


/// A resources supervisor allowed one restart in a long window.
class Escalation : public ActorFixture {
 protected:
  Escalation() {
    policy.max_restarts = 1;
    policy.window = 60000ms;
  }
};

TEST_F(Escalation, TooManyRestartsEscalateAndTheRootRestoresTheWholeSubtree) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  ASSERT_TRUE(register_resource(capacity_spec("show-2", 5, 100)).ok());
  ASSERT_TRUE(place("show-1", 4).ok());
  ASSERT_TRUE(place("show-2", 2).ok());
  ASSERT_TRUE(ask<actors::SupervisionStats>(supervisor, actors::restore_atom::value).ok());
  const auto resources_sup = directory->service("resources");

  // First crash: restarted by the resources supervisor (1 of 1 allowed).
  auto old = directory->resource_actor("show-1");
  ASSERT_TRUE(ask<ok_atom>(supervisor, CrashActor{"resource", "show-1"}).ok());
  ASSERT_TRUE(eventually([&] {
    auto now = directory->resource_actor("show-1");
    return now && now != old && ask_for<actors::ResourceView>(now, 500ms, actors::get_atom::value).ok();
  }));
  EXPECT_EQ(directory->service("resources"), resources_sup);

  // Second crash within the window: the supervisor gives up, the root
  // restarts it, and it brings back every resource from the store.
  old = directory->resource_actor("show-1");
  ASSERT_TRUE(ask<ok_atom>(supervisor, CrashActor{"resource", "show-1"}).ok());
  ASSERT_TRUE(eventually([&] {
    auto sup = directory->service("resources");
    auto now = directory->resource_actor("show-2");
    return sup && sup != resources_sup && now &&
           ask_for<actors::ResourceView>(now, 500ms, actors::get_atom::value).ok() &&
           directory->resource_actor("show-1") != old;
  })) << "the resources supervisor was not restarted by the root";

  EXPECT_EQ(view("show-1").value->available, 6);
  EXPECT_EQ(view("show-2").value->available, 3);

  auto tree = ask<std::vector<actors::SupervisorView>>(supervisor, actors::tree_atom::value);
  ASSERT_TRUE(tree.ok()) << tree.describe();
  bool seen = false;
  for (const auto& v : *tree.value) {
    if (v.name == "root") {
      EXPECT_EQ(v.restarts, 1u);
    }
    if (v.name == "resources") {
      seen = true;
      EXPECT_EQ(v.escalations, 1u);
      EXPECT_EQ(v.children, 2u);
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_TRUE(place("show-2", 3).ok()) << "the restored subtree takes orders";
}

TEST_F(Supervision, CrashedSupervisorIsRestartedByTheRoot) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  ASSERT_TRUE(place("show-1", 3).ok());
  ASSERT_TRUE(ask<actors::SupervisionStats>(supervisor, actors::restore_atom::value).ok());
  const auto before = directory->service("resources");
  ASSERT_TRUE(ask<ok_atom>(supervisor, CrashActor{"supervisor", "resources"}).ok());
  ASSERT_TRUE(eventually([&] {
    auto sup = directory->service("resources");
    auto r = directory->resource_actor("show-1");
    return sup && sup != before && r &&
           ask_for<actors::ResourceView>(r, 500ms, actors::get_atom::value).ok() &&
           view("show-1").value->available == 7;
  }));
  EXPECT_EQ(view("show-1").value->available, 7);
  auto unknown = ask<ok_atom>(supervisor, CrashActor{"supervisor", "nope"});
  EXPECT_FALSE(unknown.ok());
}


/// Payments slower than the order actor's life: it crashes mid-charge.
class OrphanedPayment : public ActorFixture {
 protected:
  OrphanedPayment() {
    timeouts.payment = 2000ms;
    timeouts.actor_call = 100ms;
    timeouts.store_write = 200ms;
    gateway->latency_min_ms = 300;
    gateway->latency_max_ms = 300;
  }
};

TEST_F(OrphanedPayment, AnOrderThatDiesBeforeItIsDurableHasItsChargeUndone) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 700)).ok());
  // Place without waiting for the answer.
  auto pending = self()->request(supervisor, 5s, actors::PlaceOrder{"", "show-1", "c-1", 2, 0, 0, "", 0});
  std::vector<std::string> ids;
  ASSERT_TRUE(eventually([&] {
    ids = directory->TEST_order_ids();
    return !ids.empty();
  }));
  // Wait until the charge is at the payment pool (its breaker counts it).
  ASSERT_TRUE(eventually([&] {
    auto b = ask<actors::BreakerView>(payments, actors::breaker_atom::value);
    return b.ok() && b.value->calls >= 1;
  }));
  ASSERT_TRUE(ask<ok_atom>(supervisor, CrashActor{"order", ids[0]}).ok());
  pending.receive([](domain::Order&) { ADD_FAILURE() << "a crashed order cannot confirm"; },
                  [](caf::error&) {});
  // The charge lands at the gateway after the crash; the orphan check then
  // finds no durable order and undoes it.
  const auto pay = domain::payment_id_for(ids[0]);
  EXPECT_TRUE(eventually([&] { return gateway->ledger.status(pay) == PaymentStatus::refunded; },
                         5000ms))
    << "payment status at the gateway: " << domain::to_string(gateway->ledger.status(pay));
  const auto t = gateway->ledger.totals();
  EXPECT_EQ(t.captured - t.refunded, 0);
  EXPECT_EQ(view("show-1").value->available, 10) << "the hold of the dead order is released";
}

}  // namespace
}  // namespace troupe::testing
