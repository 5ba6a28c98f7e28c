// The circuit breaker inside the payment pool, driven through the pool's
// front actor (spawn_payment_pool) with a simulated gateway whose latency and
// decline rate each test sets: closed -> open on consecutive timeouts (not on
// declines), refusals while open (fast, no gateway call), exactly one trial in
// half-open, and the trial's outcome (closed, or open again with a doubled,
// capped cool-down).
//
// Timing: the breaker's cool-downs are small (150-300 ms). Instead of fixed
// sleeps a test waits (bounded, up to 3 s) until the breaker's own clock says
// the cool-down of its last opening has elapsed. Each charge's reply arrives
// only after the front actor updated the breaker, so the breaker's state can
// be asserted right after a reply without polling.

#include "actor_fixture.hpp"

#include "domain/time.hpp"

namespace troupe::testing {
namespace {

using actors::BreakerView;
using actors::ChargeRequest;
using actors::ok_atom;
using domain::ErrorKind;
using domain::PaymentStatus;

class PaymentBreaker : public ::testing::Test {
 protected:
  static constexpr std::chrono::milliseconds request_timeout{5000};

  std::shared_ptr<actors::GatewaySettings> gateway = std::make_shared<actors::GatewaySettings>();
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor pool;
  std::unique_ptr<caf::scoped_actor> self_;
  int next_payment = 0;

  /// Boots an actor system and a payment pool with this call timeout and
  /// breaker (workers: 4).
  void start(std::chrono::milliseconds call_timeout, domain::BreakerConfig breaker) {
    cfg = std::make_unique<caf::actor_system_config>();
    actors::register_message_types(*cfg);
    sys = std::make_unique<caf::actor_system>(*cfg);
    actors::PaymentPoolOptions opt;
    opt.workers = 4;
    opt.call_timeout = call_timeout;
    opt.breaker = breaker;
    pool = actors::spawn_payment_pool(*sys, opt, gateway);
    self_ = std::make_unique<caf::scoped_actor>(*sys);
  }

  void TearDown() override {
    if (!sys) return;
    self_.reset();
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    pool = nullptr;
    std::atomic<bool> done{false};
    std::thread watchdog([&] {
      for (int i = 0; i < 1000 && !done.load(); ++i) std::this_thread::sleep_for(10ms);
      if (!done.load()) {
        std::fprintf(stderr, "FATAL: payment pool did not shut down within 10 s\n");
        std::fflush(stderr);
        std::_Exit(3);
      }
    });
    sys->await_all_actors_done();
    done = true;
    watchdog.join();
    sys.reset();
    cfg.reset();
  }

  caf::scoped_actor& self() { return *self_; }

  /// Every gateway call from now on takes exactly `ms`.
  void set_latency(int ms) {
    gateway->latency_min_ms = ms;
    gateway->latency_max_ms = ms;
  }

  /// A payment id never used before (the gateway ledger is idempotent by id).
  std::string new_payment_id() { return "pay-" + std::to_string(++next_payment); }

  Reply<ok_atom> charge(const std::string& payment_id, domain::Money amount = 100) {
    Reply<ok_atom> r;
    self()
      ->request(pool, request_timeout, ChargeRequest{payment_id, "order-" + payment_id, amount})
      .receive([&](ok_atom) { r.value = ok_atom::value; },
               [&](caf::error& e) {
                 r.raw = e;
                 r.error = actors::from_caf(e);
               });
    return r;
  }

  Reply<ok_atom> charge() { return charge(new_payment_id()); }

  Reply<BreakerView> breaker() {
    Reply<BreakerView> r;
    self()
      ->request(pool, request_timeout, actors::breaker_atom::value)
      .receive([&](BreakerView& v) { r.value = std::move(v); },
               [&](caf::error& e) {
                 r.raw = e;
                 r.error = actors::from_caf(e);
               });
    return r;
  }

  /// The breaker's state name ("closed", "open", "half_open"), or the error.
  std::string breaker_state() {
    auto b = breaker();
    return b.ok() ? b.value->state : "<" + b.describe() + ">";
  }

  /// A refusal by the open breaker (no gateway call made).
  static bool refused_by_breaker(const Reply<ok_atom>& r) {
    return !r.ok() && r.error.kind == ErrorKind::payment_unavailable &&
           r.error.subject == actors::breaker_open_subject;
  }

  /// A gateway call that did not answer within the call timeout.
  static bool timed_out(const Reply<ok_atom>& r) {
    return !r.ok() && r.error.kind == ErrorKind::payment_unavailable && r.error.subject.empty();
  }

  /// Waits (bounded, 3 s) until the cool-down of the breaker's latest opening
  /// has elapsed by the breaker's own clock, so the next charge is the trial.
  /// Fails (returns false) if the breaker is not open.
  ::testing::AssertionResult wait_out_cool_down() {
    auto b = breaker();
    if (!b.ok()) return ::testing::AssertionFailure() << b.describe();
    if (b.value->state != "open")
      return ::testing::AssertionFailure() << "breaker is " << b.value->state << ", not open";
    domain::Timestamp opened_at = -1;
    for (const auto& t : b.value->transitions)
      if (t.to == "open") opened_at = t.at;
    if (opened_at < 0) return ::testing::AssertionFailure() << "no transition to open recorded";
    const auto due = opened_at + b.value->cool_down_ms + 5;
    const auto limit = std::chrono::steady_clock::now() + 3s;
    while (domain::now_ms() < due) {
      if (std::chrono::steady_clock::now() >= limit)
        return ::testing::AssertionFailure() << "cool-down did not elapse within 3 s";
      std::this_thread::sleep_for(5ms);
    }
    return ::testing::AssertionSuccess();
  }

  /// Opens the breaker with `n` timeouts in a row (gateway latency `slow_ms`
  /// must exceed the call timeout). Leaves the gateway slow.
  void open_with_timeouts(int n, int slow_ms) {
    set_latency(slow_ms);
    gateway->failure_rate = 0.0;
    for (int i = 0; i < n; ++i) {
      auto r = charge();
      ASSERT_TRUE(timed_out(r)) << "charge " << i << ": " << r.describe();
    }
    ASSERT_EQ(breaker_state(), "open");
  }
};

domain::BreakerConfig breaker_config(int consecutive, std::int64_t cool_down_ms,
                                     std::int64_t max_cool_down_ms = 30000,
                                     int window_calls = 100, double failure_rate = 0.99) {
  domain::BreakerConfig c;
  c.consecutive_failures = consecutive;
  c.window_calls = window_calls;
  c.failure_rate = failure_rate;
  c.cool_down_ms = cool_down_ms;
  c.max_cool_down_ms = max_cool_down_ms;
  return c;
}

// ---------------------------------------------------------------------------
// closed -> open
// ---------------------------------------------------------------------------

TEST_F(PaymentBreaker, ConsecutiveTimeoutsOpenTheBreakerAtTheThreshold) {
  start(40ms, breaker_config(3, 5000));
  set_latency(200);  // slower than the 40 ms call timeout

  for (int i = 1; i <= 2; ++i) {
    auto r = charge();
    ASSERT_TRUE(timed_out(r)) << r.describe();
    auto b = breaker();
    ASSERT_TRUE(b.ok()) << b.describe();
    EXPECT_EQ(b.value->state, "closed") << "after " << i << " timeouts";
    EXPECT_EQ(b.value->consecutive_failures, i);
    EXPECT_EQ(b.value->failures, static_cast<std::uint64_t>(i));
  }

  // The third timeout is a real gateway call (not a refusal) and opens it.
  auto third = charge();
  ASSERT_TRUE(timed_out(third)) << third.describe();
  auto b = breaker();
  ASSERT_TRUE(b.ok()) << b.describe();
  EXPECT_EQ(b.value->state, "open");
  EXPECT_EQ(b.value->failures, 3u);
  EXPECT_EQ(b.value->calls, 3u);
  EXPECT_EQ(b.value->refused, 0u);
  EXPECT_EQ(b.value->cool_down_ms, 5000);
  EXPECT_GT(b.value->retry_after_ms, 0);
  EXPECT_LE(b.value->retry_after_ms, 5000);
  EXPECT_EQ(b.value->call_timeout_ms, 40);
  ASSERT_EQ(b.value->transitions_total, 1u);
  ASSERT_EQ(b.value->transitions.size(), 1u);
  EXPECT_EQ(b.value->transitions[0].from, "closed");
  EXPECT_EQ(b.value->transitions[0].to, "open");
  EXPECT_EQ(b.value->transitions[0].why, "3 failures in a row");

  // Now charges are refused by the breaker.
  auto fourth = charge();
  EXPECT_TRUE(refused_by_breaker(fourth)) << fourth.describe();
}

// The simulated gateway's latency is what the pool sees: time the request
// spent reaching a busy worker counts (before, a 605 ms payment could time
// out at 610 ms because a worker got to it late; measured: ~5 % of 503s in
// the seeds' load instead of the 4.5 % slower than the timeout).
TEST_F(PaymentBreaker, TheGatewayLatencyCountsFromWhenThePoolSentTheCall) {
  start(610ms, domain::BreakerConfig{});
  set_latency(400);
  auto worker = actors::spawn_payment_worker(*sys, gateway);
  auto ask = [&](std::int64_t sent_at) {
    ChargeRequest c{new_payment_id(), "o", 100};
    c.sent_at_ms = sent_at;
    const auto t0 = std::chrono::steady_clock::now();
    bool ok = false;
    self()->request(worker, request_timeout, c).receive([&](ok_atom) { ok = true; }, [](caf::error&) {});
    EXPECT_TRUE(ok);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  };
  EXPECT_LT(ask(domain::now_ms() - 350), 250ms) << "350 of its 400 ms were spent on the way";
  EXPECT_LT(ask(domain::now_ms() - 1000), 100ms) << "late already: answered at once";
  EXPECT_GE(ask(domain::now_ms()), 390ms);
  EXPECT_GE(ask(0), 390ms) << "no send time: the whole latency";
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

TEST_F(PaymentBreaker, APaymentAnsweringJustWithinTheTimeoutIsNotFailedByScheduling) {
  // A gateway that answers at the timeout is not slower than it: troupe's
  // own scheduling (the worker's timer, the reply reaching the pool) must
  // not turn it into a 503. Lockstep clients, like the seeds' load.
  start(200ms, breaker_config(1000, 1000));
  set_latency(200);
  constexpr int n = 20;
  using Handle = decltype(self()->request(pool, request_timeout, ChargeRequest{}));
  std::vector<Handle> calls;
  for (int i = 0; i < n; ++i)
    calls.push_back(self()->request(pool, request_timeout,
                                    ChargeRequest{new_payment_id(), "o", 100}));
  int ok = 0;
  std::vector<std::string> failed;
  for (auto& h : calls)
    h.receive([&](ok_atom) { ++ok; }, [&](caf::error& e) { failed.push_back(caf::to_string(e)); });
  EXPECT_EQ(ok, n) << failed.size() << " failed, e.g. " << (failed.empty() ? "" : failed.front());
}

TEST_F(PaymentBreaker, DeclinesNeverOpenTheBreaker) {
  // A small window with a low rate too: declines must count for neither rule.
  start(40ms, breaker_config(3, 5000, 30000, /*window_calls=*/4, /*failure_rate=*/0.5));
  set_latency(0);
  gateway->failure_rate = 1.0;  // the gateway answers at once: no

  for (int i = 0; i < 10; ++i) {
    auto r = charge();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, ErrorKind::payment_declined) << "charge " << i << ": " << r.describe();
  }
  auto b = breaker();
  ASSERT_TRUE(b.ok()) << b.describe();
  EXPECT_EQ(b.value->state, "closed");
  EXPECT_EQ(b.value->consecutive_failures, 0);
  EXPECT_EQ(b.value->failures, 0u);
  EXPECT_EQ(b.value->successes, 10u);
  EXPECT_EQ(b.value->calls, 10u);
  EXPECT_EQ(b.value->transitions_total, 0u);
  // Every decline was a real gateway answer.
  EXPECT_EQ(gateway->ledger.totals().declined, 10u);
  EXPECT_EQ(gateway->ledger.totals().payments, 10u);
}

TEST_F(PaymentBreaker, ADeclineEndsARunOfTimeouts) {
  start(40ms, breaker_config(3, 5000));
  auto timeout_charge = [&] {
    set_latency(200);
    gateway->failure_rate = 0.0;
    auto r = charge();
    EXPECT_TRUE(timed_out(r)) << r.describe();
  };
  auto decline_charge = [&] {
    set_latency(0);
    gateway->failure_rate = 1.0;
    auto r = charge();
    EXPECT_EQ(r.error.kind, ErrorKind::payment_declined) << r.describe();
  };

  timeout_charge();
  timeout_charge();
  decline_charge();  // the gateway answered: the run of failures is over
  timeout_charge();
  timeout_charge();
  auto b = breaker();
  ASSERT_TRUE(b.ok()) << b.describe();
  EXPECT_EQ(b.value->state, "closed") << "5 failures but never 3 in a row";
  EXPECT_EQ(b.value->consecutive_failures, 2);
  EXPECT_EQ(b.value->failures, 4u);

  timeout_charge();  // the third in a row
  EXPECT_EQ(breaker_state(), "open");
}

// ---------------------------------------------------------------------------
// open
// ---------------------------------------------------------------------------

TEST_F(PaymentBreaker, OpenBreakerRefusesAtOnceWithoutCallingTheGateway) {
  const auto call_timeout = 250ms;
  start(call_timeout, breaker_config(2, 10000));

  // One payment goes through while the gateway is healthy.
  set_latency(0);
  auto first = charge();
  ASSERT_TRUE(first.ok()) << first.describe();
  ASSERT_EQ(gateway->ledger.totals().payments, 1u);

  ASSERT_NO_FATAL_FAILURE(open_with_timeouts(2, 2000));
  auto before = breaker();
  ASSERT_TRUE(before.ok()) << before.describe();

  // The gateway is still slow: a call would take the full call timeout; the
  // refusal comes at once.
  {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = charge();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_TRUE(refused_by_breaker(r)) << r.describe();
    EXPECT_EQ(r.error.kind, ErrorKind::payment_unavailable);
    EXPECT_LT(took, call_timeout / 2)
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  }

  // The gateway is healthy again (it would capture at once), but the breaker
  // is open: no call reaches it.
  set_latency(0);
  std::vector<std::string> refused_ids;
  for (int i = 0; i < 3; ++i) {
    refused_ids.push_back(new_payment_id());
    auto r = charge(refused_ids.back());
    EXPECT_TRUE(refused_by_breaker(r)) << r.describe();
  }
  EXPECT_EQ(gateway->ledger.totals().payments, 1u) << "the open breaker called the gateway";
  EXPECT_EQ(gateway->ledger.totals().captured, 100);
  for (const auto& id : refused_ids)
    EXPECT_EQ(gateway->ledger.status(id), PaymentStatus::none) << id;

  auto after = breaker();
  ASSERT_TRUE(after.ok()) << after.describe();
  EXPECT_EQ(after.value->state, "open");
  EXPECT_EQ(after.value->calls, before.value->calls) << "a refusal is not a call";
  EXPECT_EQ(after.value->refused, before.value->refused + 4);
  EXPECT_EQ(after.value->transitions_total, before.value->transitions_total);
}

// ---------------------------------------------------------------------------
// half-open and the trial
// ---------------------------------------------------------------------------

TEST_F(PaymentBreaker, HalfOpenLetsExactlyOneTrialThrough) {
  start(300ms, breaker_config(2, 200));
  ASSERT_NO_FATAL_FAILURE(open_with_timeouts(2, 1000));
  const auto payments_before = gateway->ledger.totals().payments;

  // The trial takes 100 ms at the gateway (within the call timeout), so the
  // other charges, sent right after it, arrive while it is in flight.
  set_latency(100);
  ASSERT_TRUE(wait_out_cool_down());
  constexpr int n = 5;
  std::vector<std::string> ids;
  using handle_t = decltype(self()->request(pool, request_timeout, ChargeRequest{}));
  std::vector<handle_t> handles;
  for (int i = 0; i < n; ++i) {
    ids.push_back(new_payment_id());
    handles.push_back(self()->request(pool, request_timeout, ChargeRequest{ids.back(), "o", 100}));
  }
  std::vector<Reply<ok_atom>> replies(n);
  for (int i = 0; i < n; ++i) {
    auto& r = replies[i];
    handles[i].receive([&](ok_atom) { r.value = ok_atom::value; },
                       [&](caf::error& e) {
                         r.raw = e;
                         r.error = actors::from_caf(e);
                       });
  }

  int passed = 0, refused = 0;
  for (int i = 0; i < n; ++i) {
    if (replies[i].ok()) {
      ++passed;
      EXPECT_EQ(gateway->ledger.status(ids[i]), PaymentStatus::captured) << ids[i];
    } else {
      EXPECT_TRUE(refused_by_breaker(replies[i])) << ids[i] << ": " << replies[i].describe();
      if (refused_by_breaker(replies[i])) ++refused;
      EXPECT_EQ(gateway->ledger.status(ids[i]), PaymentStatus::none) << ids[i];
    }
  }
  EXPECT_EQ(passed, 1);
  EXPECT_EQ(refused, n - 1);
  EXPECT_EQ(gateway->ledger.totals().payments, payments_before + 1)
    << "exactly one call may reach the gateway in half-open";
  // Messages from one sender arrive in order: the first one is the trial.
  EXPECT_TRUE(replies[0].ok()) << replies[0].describe();
}

TEST_F(PaymentBreaker, SuccessfulTrialClosesTheBreaker) {
  start(150ms, breaker_config(2, 200));
  ASSERT_NO_FATAL_FAILURE(open_with_timeouts(2, 1000));

  set_latency(0);
  ASSERT_TRUE(wait_out_cool_down());
  auto trial = charge();
  ASSERT_TRUE(trial.ok()) << trial.describe();

  auto b = breaker();
  ASSERT_TRUE(b.ok()) << b.describe();
  EXPECT_EQ(b.value->state, "closed");
  EXPECT_EQ(b.value->cool_down_ms, 200);
  EXPECT_EQ(b.value->consecutive_failures, 0);
  EXPECT_EQ(b.value->retry_after_ms, 0);
  ASSERT_GE(b.value->transitions.size(), 3u);
  const auto n = b.value->transitions.size();
  EXPECT_EQ(b.value->transitions[n - 2].from, "open");
  EXPECT_EQ(b.value->transitions[n - 2].to, "half_open");
  EXPECT_EQ(b.value->transitions[n - 1].from, "half_open");
  EXPECT_EQ(b.value->transitions[n - 1].to, "closed");
  EXPECT_EQ(b.value->transitions[n - 1].why, "trial call succeeded");

  // The next charges pass, back to back, and all reach the gateway.
  const auto payments = gateway->ledger.totals().payments;
  for (int i = 0; i < 5; ++i) {
    auto r = charge();
    EXPECT_TRUE(r.ok()) << "charge " << i << " after closing: " << r.describe();
  }
  EXPECT_EQ(gateway->ledger.totals().payments, payments + 5);
  EXPECT_EQ(breaker_state(), "closed");

  // The run of failures starts from zero again: one timeout does not reopen.
  set_latency(1000);
  auto r = charge();
  EXPECT_TRUE(timed_out(r)) << r.describe();
  EXPECT_EQ(breaker_state(), "closed");
}

TEST_F(PaymentBreaker, FailedTrialReopensWithALongerCoolDown) {
  // cool-down 150 ms, doubling, capped at 500 ms.
  start(100ms, breaker_config(2, 150, 500));
  ASSERT_NO_FATAL_FAILURE(open_with_timeouts(2, 500));
  {
    auto b = breaker();
    ASSERT_TRUE(b.ok()) << b.describe();
    EXPECT_EQ(b.value->cool_down_ms, 150);
  }

  // Trial 1 times out (the gateway is still slow): open again, 300 ms.
  ASSERT_TRUE(wait_out_cool_down());
  auto trial1 = charge();
  EXPECT_TRUE(timed_out(trial1)) << "the trial is a real call: " << trial1.describe();
  {
    auto b = breaker();
    ASSERT_TRUE(b.ok()) << b.describe();
    EXPECT_EQ(b.value->state, "open");
    EXPECT_EQ(b.value->cool_down_ms, 300);
    ASSERT_FALSE(b.value->transitions.empty());
    EXPECT_EQ(b.value->transitions.back().from, "half_open");
    EXPECT_EQ(b.value->transitions.back().to, "open");
    EXPECT_EQ(b.value->transitions.back().why, "trial call failed");
    EXPECT_GT(b.value->retry_after_ms, 0);
    EXPECT_LE(b.value->retry_after_ms, 300);
  }
  // Refused right after reopening, even with a healthy gateway.
  set_latency(0);
  const auto payments = gateway->ledger.totals().payments;
  auto refused = charge();
  EXPECT_TRUE(refused_by_breaker(refused)) << refused.describe();
  EXPECT_EQ(gateway->ledger.totals().payments, payments);

  // Trial 2 times out too: the cool-down doubles to 600, capped at 500.
  set_latency(500);
  ASSERT_TRUE(wait_out_cool_down());
  auto trial2 = charge();
  EXPECT_TRUE(timed_out(trial2)) << trial2.describe();
  {
    auto b = breaker();
    ASSERT_TRUE(b.ok()) << b.describe();
    EXPECT_EQ(b.value->state, "open");
    EXPECT_EQ(b.value->cool_down_ms, 500);
  }

  // The gateway recovers: trial 3 closes the breaker and the cool-down is
  // back to the configured one.
  set_latency(0);
  ASSERT_TRUE(wait_out_cool_down());
  auto trial3 = charge();
  EXPECT_TRUE(trial3.ok()) << trial3.describe();
  auto b = breaker();
  ASSERT_TRUE(b.ok()) << b.describe();
  EXPECT_EQ(b.value->state, "closed");
  EXPECT_EQ(b.value->cool_down_ms, 150);
}

}  // namespace
}  // namespace troupe::testing
