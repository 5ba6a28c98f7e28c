#pragma once
/// The event log's latest committed entries, as the store actor committed
/// them: subscribers take new entries here instead of reading them back
/// from the store.
///
/// Read back, every page of the log cost a copy out of the file store's
/// index under its lock (a reader preempted there held the single writer
/// up for milliseconds) or, over Redis, an XRANGE that the store actor ran
/// itself after committing early (splitting its group commit). The store
/// actor has the entries anyway: once a commit is durable it hands them
/// over here (values moved, not copied) before it moves the log head.
///
/// Contract: holds only entries of durable commits (sequence number and
/// value exactly as stored); `take` hands out only a gap-free run following
/// `after`, so a reader never skips an entry (a failed commit leaves a gap:
/// the reader goes to the store there). Holds at most `capacity` entries,
/// dropping the lowest sequence numbers first. Values are shared, never
/// copied. Thread-safe; `put` and `take` hold the lock for pointer copies
/// only.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace troupe::actors {

class RecentLog {
 public:
  /// A sequence number and the entry's stored value.
  using Entry = std::pair<std::uint64_t, std::shared_ptr<const std::string>>;

  explicit RecentLog(size_t capacity = 16384) : capacity_(capacity) {}
  /// Adds the entries of a durable commit, in ascending order. Entries not
  /// above the last one held start the log afresh (a restarted store actor
  /// that learned an older head: what is held may no longer be the log).
  void put(std::vector<Entry>&& entries);
  /// Appends the held entries `after`+1, `after`+2, … (stopping at the first
  /// one missing) to `out`, at most `limit`.
  void take(std::uint64_t after, size_t limit, std::vector<Entry>& out) const;
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  ///< ascending sequence numbers (gaps allowed)
};

}  // namespace troupe::actors
