#pragma once
/// Restart intensity and backoff, as pure rules (no CAF), after OTP:
/// a supervisor may restart its children at most `max_restarts` times within
/// `window`; one more failure within the window means the supervisor gives
/// up and escalates to its parent (which restarts the whole subtree). Between
/// restarts of the same child it waits with exponential backoff:
/// 0 for its first failure in the window, then `base_backoff` doubling up to
/// `max_backoff`, so a crash loop cannot spin the CPU.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "domain/time.hpp"

namespace troupe::supervision {

enum class Strategy : std::uint8_t {
  one_for_one,  ///< restart only the failed child (the default)
  one_for_all,  ///< restart every child when one fails
};

const char* to_string(Strategy s);

struct RestartPolicy {
  Strategy strategy = Strategy::one_for_one;
  int max_restarts = 3;                            ///< R
  std::chrono::milliseconds window{5000};          ///< T
  std::chrono::milliseconds base_backoff{50};
  std::chrono::milliseconds max_backoff{2000};
};

class RestartIntensity {
 public:
  enum class Verdict { restart, escalate };
  struct Decision {
    Verdict verdict;
    std::chrono::milliseconds delay{0};  ///< wait this long before restarting
  };

  explicit RestartIntensity(RestartPolicy p = {}) : policy_(p) {}

  /// A child named `child` failed at `now` (ms). Decides restart or escalate.
  Decision on_failure(const std::string& child, domain::Timestamp now);

  /// Restarts counted in the window ending at `now`.
  int recent(domain::Timestamp now) const;
  std::uint64_t total_restarts() const { return total_; }
  const RestartPolicy& policy() const { return policy_; }

 private:
  void expire(domain::Timestamp now);
  RestartPolicy policy_;
  std::deque<domain::Timestamp> all_;  ///< restart times of every child
  std::map<std::string, std::deque<domain::Timestamp>> per_child_;
  std::uint64_t total_ = 0;
};

}  // namespace troupe::supervision
