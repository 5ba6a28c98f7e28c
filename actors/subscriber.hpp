#pragma once
/// Subscribers: actors that follow the event log and keep a read model
/// (views/projections.hpp) — "notifier", "mypage", "report".
///
/// Each one reads the log after its cursor (through the store actor), turns
/// the events into rows and writes the rows together with the new cursor in
/// one atomic batch: a crash or a stop at any point resumes at the cursor,
/// and rows are keyed by event id, so nothing is lost or duplicated. The
/// notifier also posts each notification to the webhook when one is
/// configured (Context::webhook), retrying with backoff and advancing its
/// cursor only once delivered — at-least-once towards the webhook (the
/// receiver deduplicates by eventId), exactly-once in the store. It then runs
/// detached, since posting blocks.
///
/// A subscriber never slows bookings down: it is a reader of the log, and
/// while it is stopped (fault injection) or slow only its lag grows.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

namespace troupe::actors {

struct Context;

struct SubscriberStatus {
  std::string name;
  bool running = false;
  std::uint64_t cursor = 0;          ///< last event id applied
  std::uint64_t applied = 0;         ///< events applied by this process
  std::uint64_t rows = 0;            ///< rows written by this process
  std::uint64_t webhook_delivered = 0;
  std::uint64_t webhook_failures = 0;
  std::string last_error;
};

/// What the subscribers report about themselves (for /admin/subscribers and
/// metrics). Thread-safe.
class SubscriberBoard {
 public:
  void update(const std::string& name, const std::function<void(SubscriberStatus&)>& f) {
    std::lock_guard<std::mutex> l(mu_);
    auto& s = map_[name];
    s.name = name;
    f(s);
  }
  std::vector<SubscriberStatus> all() const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<SubscriberStatus> out;
    for (const auto& kv : map_) out.push_back(kv.second);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, SubscriberStatus> map_;
};

/// Spawns subscriber `name` (one of views::subscriber_names), monitored by
/// `parent`.
caf::actor spawn_subscriber(caf::event_based_actor* parent, std::shared_ptr<const Context> ctx,
                            const std::string& name);

}  // namespace troupe::actors
