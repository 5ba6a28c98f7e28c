// Restart intensity (at most R restarts in T), backoff and escalation.
#include <gtest/gtest.h>

#include "supervision/restart_policy.hpp"

using namespace std::chrono_literals;
using troupe::supervision::RestartIntensity;
using troupe::supervision::RestartPolicy;
using troupe::supervision::Strategy;
using Verdict = RestartIntensity::Verdict;

namespace {
RestartPolicy policy(int r, std::chrono::milliseconds t) {
  RestartPolicy p;
  p.strategy = Strategy::one_for_one;
  p.max_restarts = r;
  p.window = t;
  p.base_backoff = 50ms;
  p.max_backoff = 400ms;
  return p;
}
}  // namespace

TEST(RestartIntensity, RestartsUpToRWithinTheWindow) {
  RestartIntensity ri(policy(3, 5000ms));
  EXPECT_EQ(ri.on_failure("a", 1000).verdict, Verdict::restart);
  EXPECT_EQ(ri.on_failure("b", 1100).verdict, Verdict::restart);
  EXPECT_EQ(ri.on_failure("c", 1200).verdict, Verdict::restart);
  EXPECT_EQ(ri.recent(1200), 3);
  EXPECT_EQ(ri.total_restarts(), 3u);
}

TEST(RestartIntensity, OneMoreFailureWithinTheWindowEscalates) {
  RestartIntensity ri(policy(3, 5000ms));
  for (int i = 0; i < 3; ++i) ri.on_failure("x" + std::to_string(i), 1000 + i);
  auto d = ri.on_failure("y", 2000);
  EXPECT_EQ(d.verdict, Verdict::escalate);
  EXPECT_EQ(ri.total_restarts(), 3u) << "an escalation is not a restart";
}

TEST(RestartIntensity, FailuresOlderThanTheWindowNoLongerCount) {
  RestartIntensity ri(policy(2, 1000ms));
  ri.on_failure("a", 0);
  ri.on_failure("a", 500);
  EXPECT_EQ(ri.on_failure("a", 900).verdict, Verdict::escalate);
  // At t = 1500 the failure at 0 and at 500 (1000 ms ago: outside) expired.
  EXPECT_EQ(ri.on_failure("a", 1500).verdict, Verdict::restart);
  EXPECT_EQ(ri.recent(1500), 1);
}

TEST(RestartIntensity, TheWindowIsHalfOpenAtItsOldEnd) {
  RestartIntensity ri(policy(1, 1000ms));
  ri.on_failure("a", 0);
  EXPECT_EQ(ri.on_failure("a", 999).verdict, Verdict::escalate);
  EXPECT_EQ(ri.on_failure("a", 1000).verdict, Verdict::restart);
}

TEST(RestartIntensity, FirstFailureOfAChildRestartsAtOnce) {
  RestartIntensity ri(policy(10, 5000ms));
  EXPECT_EQ(ri.on_failure("a", 0).delay, 0ms);
  EXPECT_EQ(ri.on_failure("b", 1).delay, 0ms) << "backoff is per child";
}

TEST(RestartIntensity, RepeatedFailuresOfOneChildBackOffExponentiallyUpToTheCap) {
  RestartIntensity ri(policy(100, 60000ms));
  EXPECT_EQ(ri.on_failure("a", 0).delay, 0ms);
  EXPECT_EQ(ri.on_failure("a", 1).delay, 50ms);
  EXPECT_EQ(ri.on_failure("a", 2).delay, 100ms);
  EXPECT_EQ(ri.on_failure("a", 3).delay, 200ms);
  EXPECT_EQ(ri.on_failure("a", 4).delay, 400ms);
  EXPECT_EQ(ri.on_failure("a", 5).delay, 400ms) << "capped at max_backoff";
  for (int i = 6; i < 60; ++i) EXPECT_LE(ri.on_failure("a", i).delay, 400ms);
}

TEST(RestartIntensity, BackoffResetsWhenTheChildWasQuietForAWindow) {
  RestartIntensity ri(policy(100, 1000ms));
  ri.on_failure("a", 0);
  EXPECT_EQ(ri.on_failure("a", 10).delay, 50ms);
  EXPECT_EQ(ri.on_failure("a", 5000).delay, 0ms);
}

TEST(RestartIntensity, KeepsItsPolicy) {
  RestartIntensity ri(policy(7, 1234ms));
  EXPECT_EQ(ri.policy().max_restarts, 7);
  EXPECT_EQ(ri.policy().window, 1234ms);
  EXPECT_STREQ(troupe::supervision::to_string(ri.policy().strategy), "one_for_one");
}
