#include "supervision/restart_policy.hpp"

#include <algorithm>

namespace troupe::supervision {

const char* to_string(Strategy s) {
  return s == Strategy::one_for_all ? "one_for_all" : "one_for_one";
}

void RestartIntensity::expire(domain::Timestamp now) {
  const auto horizon = now - policy_.window.count();
  while (!all_.empty() && all_.front() <= horizon) all_.pop_front();
  for (auto it = per_child_.begin(); it != per_child_.end();) {
    auto& q = it->second;
    while (!q.empty() && q.front() <= horizon) q.pop_front();
    it = q.empty() ? per_child_.erase(it) : std::next(it);
  }
}

RestartIntensity::Decision RestartIntensity::on_failure(const std::string& child,
                                                        domain::Timestamp now) {
  expire(now);
  if (static_cast<int>(all_.size()) >= policy_.max_restarts)
    return {Verdict::escalate, std::chrono::milliseconds(0)};
  auto& mine = per_child_[child];
  std::chrono::milliseconds delay{0};
  if (!mine.empty()) {
    const auto shift = std::min<size_t>(mine.size() - 1, 20);
    delay = std::min(policy_.max_backoff,
                     std::chrono::milliseconds(policy_.base_backoff.count() * (1LL << shift)));
  }
  all_.push_back(now);
  mine.push_back(now);
  ++total_;
  return {Verdict::restart, delay};
}

int RestartIntensity::recent(domain::Timestamp now) const {
  const auto horizon = now - policy_.window.count();
  return static_cast<int>(
    std::count_if(all_.begin(), all_.end(), [&](domain::Timestamp t) { return t > horizon; }));
}

}  // namespace troupe::supervision
