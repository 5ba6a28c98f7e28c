#pragma once
/// The event log's latest entries, decoded once for every subscriber.
///
/// The three subscribers read the same entries shortly one after another;
/// each decoding (and copying out of the store) all of them cost about a
/// third of the actor threads' time per order. The first reader of an entry
/// puts it here; the others take it without a store read. Entries are
/// immutable once committed, so a cached one is never stale.
///
/// Contract: `take` hands out only a gap-free run of sequence numbers
/// following `after`, so a reader never skips an entry it did not see (the
/// log may have gaps: the run then stops there and the reader goes to the
/// store). Holds at most `capacity` events, dropping the lowest sequence
/// numbers first. Entries are handed out shared, never copied (a copy of an
/// event is a dozen strings). Thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "domain/event.hpp"

namespace troupe::actors {

/// A committed event, shared by whoever reads it.
using EventRef = std::shared_ptr<const domain::Event>;

class DecodedEvents {
 public:
  explicit DecodedEvents(size_t capacity = 16384) : capacity_(capacity) {}
  /// Appends the cached events `after`+1, `after`+2, … (stopping at the
  /// first one missing) to `out`, at most `limit`.
  void take(std::uint64_t after, size_t limit, std::vector<EventRef>& out) const;
  /// Adds committed events (read from the store's log).
  void put(const std::vector<EventRef>& events);
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::uint64_t, EventRef> events_;
};

}  // namespace troupe::actors
