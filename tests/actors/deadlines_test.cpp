// Deadlines: request timeouts and delayed messages on troupe's own timer
// thread instead of CAF's clock. A request that gets no answer gets
// sec::request_timeout (not before its timeout); an answered one never sees
// a late error; a delayed message is not early; an actor that is gone by its
// deadline is skipped; the timer stops promptly with entries pending.

#include <chrono>
#include <memory>
#include <thread>

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include "actors/deadlines.hpp"

namespace troupe::testing {
namespace {

using namespace std::chrono_literals;
using actors::Deadlines;
using Clock = std::chrono::steady_clock;

struct Silent {
  std::vector<caf::response_promise> kept;  ///< never delivered
};

caf::behavior silent(caf::stateful_actor<Silent>* self) {
  return {[=](int) -> caf::result<int> {
    self->state.kept.push_back(self->make_response_promise());
    return self->state.kept.back();
  }};
}

caf::behavior echo(caf::event_based_actor*) {
  return {[](int x) { return x; }};
}

/// Asks `target` once (x = 7) within `timeout` and reports to `report`:
/// ("answer", x) or ("error", error), each outcome as it happens.
caf::behavior asker(caf::event_based_actor* self, Deadlines* d, caf::actor target,
                    std::chrono::milliseconds timeout, caf::actor report) {
  actors::request_within(self, *d, target, timeout, 7)
    .then([=](int x) { self->send(report, std::string{"answer"}, x); },
          [=](caf::error& e) { self->send(report, std::string{"error"}, e); });
  return {[](int) {}};
}

class DeadlinesTest : public ::testing::Test {
 protected:
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  Deadlines deadlines{5ms};
};

TEST_F(DeadlinesTest, AnUnansweredRequestTimesOutNotBeforeItsTimeout) {
  caf::scoped_actor self{sys};
  auto target = sys.spawn(silent);
  const auto t0 = Clock::now();
  auto a = sys.spawn(asker, &deadlines, target, 80ms, caf::actor{self});
  bool got = false;
  self->receive(
    [&](const std::string& what, caf::error& e) {
      EXPECT_EQ(what, "error");
      EXPECT_EQ(e, caf::sec::request_timeout);
      got = true;
    },
    caf::after(5s) >> [] { ADD_FAILURE() << "no timeout within 5 s"; });
  const auto took = Clock::now() - t0;
  EXPECT_TRUE(got);
  EXPECT_GE(took, 80ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(deadlines.fired(), 1u);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
}

TEST_F(DeadlinesTest, AnAnsweredRequestSeesNoLateError) {
  caf::scoped_actor self{sys};
  auto target = sys.spawn(echo);
  auto a = sys.spawn(asker, &deadlines, target, 40ms, caf::actor{self});
  int answers = 0, errors = 0;
  // Listen well past the deadline: only the answer may come.
  const auto until = Clock::now() + 300ms;
  while (Clock::now() < until) {
    self->receive([&](const std::string& what, int x) {
                    EXPECT_EQ(what, "answer");
                    EXPECT_EQ(x, 7);
                    ++answers;
                  },
                  [&](const std::string&, caf::error&) { ++errors; },
                  caf::after(50ms) >> [] {});
  }
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(deadlines.pending(), 0u);  // the entry was due and dropped
  EXPECT_EQ(deadlines.fired(), 0u);    // without sending a stray timeout
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
}

TEST_F(DeadlinesTest, ADelayedMessageArrivesAfterItsDelay) {
  caf::scoped_actor self{sys};
  const auto t0 = Clock::now();
  deadlines.send_later(self->ctrl(), 60ms,
                       caf::make_message(42));
  bool got = false;
  self->receive([&](int x) { got = x == 42; }, caf::after(5s) >> [] {});
  EXPECT_TRUE(got);
  EXPECT_GE(Clock::now() - t0, 60ms);
}

TEST_F(DeadlinesTest, AnActorGoneByItsDeadlineIsSkipped) {
  caf::scoped_actor self{sys};
  {
    // Gone well before its deadline: the asker is killed, and so is the
    // target, whose kept promise holds a reference to the asker; both exits
    // are seen and the last handles dropped. (Kills are asynchronous: a
    // loaded machine may take a while, hence the long deadline.)
    auto target = sys.spawn(silent);
    auto a = sys.spawn(asker, &deadlines, target, 1000ms, caf::actor{self});
    self->monitor(a);
    self->monitor(target);
    caf::anon_send_exit(a, caf::exit_reason::kill);
    caf::anon_send_exit(target, caf::exit_reason::kill);
    int down = 0;
    for (int i = 0; i < 2; ++i)
      self->receive([&](caf::down_msg&) { ++down; }, caf::after(900ms) >> [] {});
    ASSERT_EQ(down, 2) << "the actors did not exit before the deadline";
  }
  for (int i = 0; i < 300 && deadlines.pending() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(deadlines.pending(), 0u);
  EXPECT_EQ(deadlines.fired(), 0u);
  bool stray = false;
  self->receive([&](caf::message&) { stray = true; }, caf::after(100ms) >> [] {});
  EXPECT_FALSE(stray);
}

TEST(DeadlinesStop, StopsPromptlyWithEntriesPending) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  const auto t0 = Clock::now();
  {
    Deadlines d{5ms};
    d.send_later(self->ctrl(), 60s, caf::make_message(1));
    EXPECT_EQ(d.pending(), 1u);
  }
  EXPECT_LT(Clock::now() - t0, 1s);
}

}  // namespace
}  // namespace troupe::testing
