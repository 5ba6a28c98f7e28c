// The payment circuit breaker: every transition, exactly one trial in
// half-open, refusals while open, growing cool-down.
#include <gtest/gtest.h>

#include "domain/circuit_breaker.hpp"

using troupe::domain::BreakerConfig;
using troupe::domain::BreakerState;
using troupe::domain::CircuitBreaker;
using Permit = CircuitBreaker::Permit;

namespace {
BreakerConfig config() {
  BreakerConfig c;
  c.consecutive_failures = 3;
  c.window_calls = 10;
  c.failure_rate = 0.5;
  c.cool_down_ms = 1000;
  c.max_cool_down_ms = 4000;
  return c;
}

void fail(CircuitBreaker& b, troupe::domain::Timestamp now) {
  ASSERT_NE(b.acquire(now), Permit::refuse);
  b.on_failure(now, false);
}
}  // namespace

TEST(CircuitBreaker, StartsClosedAndLetsCallsThrough) {
  CircuitBreaker b(config());
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_EQ(b.acquire(0), Permit::call);
  b.on_success(0, false);
  EXPECT_EQ(b.successes(), 1u);
  EXPECT_EQ(b.retry_after_ms(0), 0);
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailures) {
  CircuitBreaker b(config());
  fail(b, 0);
  fail(b, 1);
  EXPECT_EQ(b.state(), BreakerState::closed);
  fail(b, 2);
  EXPECT_EQ(b.state(), BreakerState::open);
  ASSERT_EQ(b.transitions().size(), 1u);
  EXPECT_EQ(b.transitions().back().to, BreakerState::open);
}

TEST(CircuitBreaker, ASuccessResetsTheConsecutiveCount) {
  CircuitBreaker b(config());
  fail(b, 0);
  fail(b, 1);
  ASSERT_EQ(b.acquire(2), Permit::call);
  b.on_success(2, false);
  fail(b, 3);
  fail(b, 4);
  EXPECT_EQ(b.state(), BreakerState::closed);
}

TEST(CircuitBreaker, OpensOnTheFailureRateOverAFullWindow) {
  BreakerConfig c = config();
  c.consecutive_failures = 100;  // only the rate can open it
  CircuitBreaker b(c);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(b.acquire(i), Permit::call);
    if (i % 2 == 1)
      b.on_failure(i, false);
    else
      b.on_success(i, false);
    if (i < 9) {
      EXPECT_EQ(b.state(), BreakerState::closed) << "window not full yet at " << i;
    }
  }
  EXPECT_EQ(b.state(), BreakerState::open) << "5 of the last 10 failed";
}

TEST(CircuitBreaker, RefusesEveryCallWhileOpenWithoutCallingAnything) {
  CircuitBreaker b(config());
  for (int i = 0; i < 3; ++i) fail(b, i);
  const auto calls = b.calls();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.acquire(10 + i), Permit::refuse);
  EXPECT_EQ(b.calls(), calls) << "no call reached the gateway";
  EXPECT_EQ(b.refused(), 100u);
  EXPECT_GT(b.retry_after_ms(10), 0);
}

TEST(CircuitBreaker, AfterTheCoolDownExactlyOneTrialGoesThrough) {
  CircuitBreaker b(config());
  for (int i = 0; i < 3; ++i) fail(b, i);  // opened at t = 2
  EXPECT_EQ(b.acquire(1001), Permit::refuse);
  EXPECT_EQ(b.acquire(1002), Permit::trial);
  EXPECT_EQ(b.state(), BreakerState::half_open);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(b.acquire(1003 + i), Permit::refuse);
}

TEST(CircuitBreaker, ASuccessfulTrialClosesIt) {
  CircuitBreaker b(config());
  for (int i = 0; i < 3; ++i) fail(b, i);
  ASSERT_EQ(b.acquire(2000), Permit::trial);
  b.on_success(2001, true);
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_EQ(b.acquire(2002), Permit::call);
  EXPECT_EQ(b.cool_down_ms(), 1000);
}

TEST(CircuitBreaker, AFailedTrialReopensWithADoubledCoolDownUpToTheCap) {
  CircuitBreaker b(config());
  for (int i = 0; i < 3; ++i) fail(b, i);  // open at 2, cool-down 1000
  ASSERT_EQ(b.acquire(1002), Permit::trial);
  b.on_failure(1002, true);
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_EQ(b.cool_down_ms(), 2000);
  EXPECT_EQ(b.acquire(3001), Permit::refuse);
  ASSERT_EQ(b.acquire(3002), Permit::trial);
  b.on_failure(3002, true);
  EXPECT_EQ(b.cool_down_ms(), 4000);
  ASSERT_EQ(b.acquire(7002), Permit::trial);
  b.on_failure(7002, true);
  EXPECT_EQ(b.cool_down_ms(), 4000) << "capped";
  ASSERT_EQ(b.acquire(11002), Permit::trial);
  b.on_success(11002, true);
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_EQ(b.cool_down_ms(), 1000) << "reset once closed";
}

TEST(CircuitBreaker, LateAnswersFromBeforeOpeningChangeNothing) {
  CircuitBreaker b(config());
  ASSERT_EQ(b.acquire(0), Permit::call);  // slow call in flight
  for (int i = 1; i < 4; ++i) fail(b, i);
  ASSERT_EQ(b.state(), BreakerState::open);
  b.on_success(5, false);
  EXPECT_EQ(b.state(), BreakerState::open);
  ASSERT_EQ(b.acquire(2000), Permit::trial);
  b.on_failure(2001, false);  // another late failure, not the trial
  EXPECT_EQ(b.state(), BreakerState::half_open);
  EXPECT_EQ(b.acquire(2002), Permit::refuse) << "the trial is still running";
}

TEST(CircuitBreaker, RecordsEveryTransition) {
  CircuitBreaker b(config());
  for (int i = 0; i < 3; ++i) fail(b, i);
  ASSERT_EQ(b.acquire(1002), Permit::trial);
  b.on_success(1003, true);
  ASSERT_EQ(b.transitions().size(), 3u);
  EXPECT_EQ(b.transitions()[0].to, BreakerState::open);
  EXPECT_EQ(b.transitions()[1].to, BreakerState::half_open);
  EXPECT_EQ(b.transitions()[2].to, BreakerState::closed);
  EXPECT_EQ(b.transition_count(), 3u);
}

// Clients in lockstep: a wave's few slow calls time out together right after
// its successes. That is no outage: the run must last a call timeout
// (failure_span_ms) since the last success before it opens the breaker.
TEST(CircuitBreaker, ARunOfFailuresRightAfterASuccessIsNoOutage) {
  BreakerConfig c = config();
  c.failure_span_ms = 610;
  CircuitBreaker b(c);
  ASSERT_EQ(b.acquire(1000), Permit::call);
  b.on_success(1000, false);
  for (int i = 0; i < 5; ++i) fail(b, 1005 + i);  // five timeouts 5-9 ms after it
  EXPECT_EQ(b.state(), BreakerState::closed) << "a burst right after a success";
  fail(b, 1500);
  EXPECT_EQ(b.state(), BreakerState::closed);
  fail(b, 1610);  // still failing a whole timeout after the last success: down
  EXPECT_EQ(b.state(), BreakerState::open);
}

TEST(CircuitBreaker, WithoutAnySuccessTheThresholdAloneOpensIt) {
  BreakerConfig c = config();
  c.failure_span_ms = 610;
  CircuitBreaker b(c);
  for (int i = 0; i < 3; ++i) fail(b, 100 + i);
  EXPECT_EQ(b.state(), BreakerState::open);
}

// A stall of the machine times out a cluster of calls within a fraction of a
// timeout (the harness's s3 once opened the breaker so: 2 s of refusals, 20 %
// availability). The rate counts every call of the last failure_span_ms, so
// that cluster is no outage; the same share failing for a whole timeout is.
TEST(CircuitBreaker, AClusterOfTimeoutsInAStallIsNoOutageButASustainedFailureRateIs) {
  BreakerConfig c = config();
  c.consecutive_failures = 100;  // only the rate can open it
  c.failure_span_ms = 610;
  CircuitBreaker b(c);
  troupe::domain::Timestamp t = 10'000;
  auto call = [&](bool ok) {
    ASSERT_NE(b.acquire(t), Permit::refuse) << "at " << t;
    if (ok)
      b.on_success(t, false);
    else
      b.on_failure(t, false);
  };
  for (; t < 10'600; t += 10) call(true);
  // The stall: 8 of 10 calls time out within 40 ms (the last 10 calls alone
  // are 80 % failed).
  for (int i = 0; i < 10; ++i, t += 4) call(i % 5 == 0);
  EXPECT_EQ(b.state(), BreakerState::closed) << "8 failures among the ~70 calls of the last 610 ms";
  // Two of three calls fail, call after call: open within about a timeout.
  const auto from = t;
  for (int i = 0; b.state() == BreakerState::closed && t < from + 2'000; ++i, t += 10) call(i % 3 == 2);
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_LE(t - from, 1'000) << "a sustained failure rate still opens it";
}
