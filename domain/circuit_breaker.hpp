#pragma once
/// The circuit breaker in front of the payment gateway, as pure rules.
///
///            failures >= threshold            cool-down elapsed
///   closed ---------------------------> open -------------------> half_open
///     ^   (consecutive, or rate over       ^   (next call becomes     |
///     |    a sliding window of calls)      |    the one trial)        |
///     +------------- trial succeeded ------+---- trial failed --------+
///                                          (cool-down doubles, capped)
///
/// While open every call is refused at once (no gateway call at all). In
/// half-open exactly one trial call is let through; every other call is
/// refused until it ends. Timeouts count as failures; a decline is an answer,
/// not a failure. Not thread-safe: one owner (the payment pool's front actor).

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "domain/time.hpp"

namespace troupe::domain {

struct BreakerConfig {
  int consecutive_failures = 5;   ///< open after this many failures in a row...
  /// ...lasting at least this long since the last success (0: any). The
  /// pool sets its call timeout: clients in lockstep see a wave's few slow
  /// calls time out together right after its successes, which is not an
  /// outage; a gateway that is down yields failures for a whole timeout.
  std::int64_t failure_span_ms = 0;
  /// The failure rate is taken over the last `window_calls` calls, or over
  /// every call of the last `failure_span_ms` when those are more: a stall
  /// of the machine that times out a cluster of calls within a fraction of
  /// a timeout is no outage either; a gateway failing that share of its
  /// calls for a whole timeout is.
  int window_calls = 20;
  double failure_rate = 0.5;      ///< open when the window is full and at least this share failed
  std::int64_t cool_down_ms = 1000;      ///< first open period
  std::int64_t max_cool_down_ms = 30000; ///< growth cap
};

enum class BreakerState : std::uint8_t { closed, open, half_open };
const char* to_string(BreakerState s);

class CircuitBreaker {
 public:
  enum class Permit : std::uint8_t { call, trial, refuse };

  struct Transition {
    BreakerState from;
    BreakerState to;
    Timestamp at;
    std::string why;
  };

  explicit CircuitBreaker(BreakerConfig c = {}) : cfg_(c), cool_down_ms_(c.cool_down_ms) {}

  /// May a call go through now? `trial` marks the single half-open trial.
  Permit acquire(Timestamp now);
  /// The outcome of a call that was permitted (`trial` as given by acquire).
  void on_success(Timestamp now, bool trial);
  void on_failure(Timestamp now, bool trial);

  BreakerState state() const { return state_; }
  /// Milliseconds until a trial may be attempted (0 unless open).
  std::int64_t retry_after_ms(Timestamp now) const;
  std::int64_t cool_down_ms() const { return cool_down_ms_; }

  std::uint64_t calls() const { return calls_; }
  std::uint64_t successes() const { return successes_; }
  std::uint64_t failures() const { return failures_; }
  std::uint64_t refused() const { return refused_; }
  int consecutive_failures() const { return consecutive_; }
  /// Most recent transitions, oldest first (at most 50 kept).
  const std::deque<Transition>& transitions() const { return transitions_; }
  std::uint64_t transition_count() const { return transition_count_; }
  const BreakerConfig& config() const { return cfg_; }

 private:
  void move_to(BreakerState to, Timestamp now, std::string why);
  void record(Timestamp now, bool failed);
  BreakerConfig cfg_;
  BreakerState state_ = BreakerState::closed;
  Timestamp opened_at_ = 0;
  std::int64_t cool_down_ms_;
  bool trial_in_flight_ = false;
  int consecutive_ = 0;
  Timestamp last_success_at_ = 0;  ///< of a call while closed (0: none yet)
  struct Outcome {
    Timestamp at;
    bool failed;
  };
  std::deque<Outcome> window_;
  int window_failures_ = 0;
  std::uint64_t calls_ = 0, successes_ = 0, failures_ = 0, refused_ = 0;
  std::deque<Transition> transitions_;
  std::uint64_t transition_count_ = 0;
};

}  // namespace troupe::domain
