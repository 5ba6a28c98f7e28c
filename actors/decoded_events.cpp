#include "actors/decoded_events.hpp"

namespace troupe::actors {

void DecodedEvents::take(std::uint64_t after, size_t limit, std::vector<EventRef>& out) const {
  std::lock_guard<std::mutex> l(mu_);
  std::uint64_t next = after + 1;
  for (auto it = events_.find(next); it != events_.end() && it->first == next && limit > 0;
       ++it, ++next, --limit)
    out.push_back(it->second);
}

void DecodedEvents::put(const std::vector<EventRef>& events) {
  if (capacity_ == 0) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& e : events) events_.emplace_hint(events_.end(), e->seq, e);
  while (events_.size() > capacity_) events_.erase(events_.begin());
}

size_t DecodedEvents::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return events_.size();
}

}  // namespace troupe::actors
