#include "actors/recent_log.hpp"

#include <algorithm>

namespace troupe::actors {

void RecentLog::put(std::vector<Entry>&& entries) {
  if (capacity_ == 0 || entries.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& e : entries) {
    if (!entries_.empty() && e.first <= entries_.back().first) entries_.clear();
    entries_.push_back(std::move(e));
  }
  while (entries_.size() > capacity_) entries_.pop_front();
}

void RecentLog::take(std::uint64_t after, size_t limit, std::vector<Entry>& out) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), after + 1,
                             [](const Entry& e, std::uint64_t seq) { return e.first < seq; });
  for (std::uint64_t next = after + 1; it != entries_.end() && it->first == next && limit > 0;
       ++it, ++next, --limit)
    out.push_back(*it);
}

size_t RecentLog::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_.size();
}

}  // namespace troupe::actors
