#pragma once
/// The store actor: the only writer of the store, doing group commit.
///
/// Writers send StoreWrite and get a reply once their batches are durable.
/// Writes that arrive while a commit runs are collected and committed
/// together by the next one (one fdatasync / one MULTI-EXEC per round), so
/// throughput grows with load instead of being capped by fsync latency.
/// Reads (StoreGet, StoreScan) are answered in mailbox order, i.e. after every
/// write that was queued before them — a restarted actor restoring its state
/// this way sees everything its predecessor had in flight.
///
/// Runs detached (its own thread) because commits block.

#include <atomic>
#include <memory>

#include <caf/fwd.hpp>

#include "persistence/store.hpp"

namespace troupe::actors {

/// Whether the store currently works (last commit or ping succeeded). Shared
/// with readiness; written only by the store actor.
struct StoreHealth {
  std::atomic<bool> healthy{true};
};

/// Spawns the store actor using `store` (which outlives it: a restarted store
/// actor takes over the same adapter; close_atom closes it). It pings the
/// store once a second when no commit happened, keeping `health` current.
/// `max_batches`: most batches committed in one round.
caf::actor spawn_store_actor(caf::actor_system& sys,
                             std::shared_ptr<persistence::Store> store,
                             std::shared_ptr<StoreHealth> health = nullptr,
                             size_t max_batches = 4096);

}  // namespace troupe::actors
