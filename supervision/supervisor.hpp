#pragma once
/// The supervisor: owns every resource and order actor.
///
/// It spawns them (monitored), keeps the directory current, and restarts a
/// crashed child from the store: a resource from its spec plus its alloc
/// records, an order from its order record. Store reads go through the store
/// actor, so they are answered after every write the dead child still had
/// queued. Restarts of one child more often than `max_restarts` within
/// `window` are delayed with exponential backoff (up to `max_backoff`).
///
/// Protocol:
///   restore_atom       -> SupervisionStats   load everything at start-up
///   RegisterResource   -> RegisterResult     (conflict if the id differs)
///   PlaceOrder         -> domain::Order      spawns the order actor, delegates
///   CrashActor         -> ok                 fault injection / tests
///   stats_atom         -> SupervisionStats

#include <chrono>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/context.hpp"

namespace troupe::supervision {

struct RestartPolicy {
  int max_restarts = 5;
  std::chrono::milliseconds window{10000};
  std::chrono::milliseconds max_backoff{5000};
};

caf::actor spawn_supervisor(caf::actor_system& sys, std::shared_ptr<const actors::Context> ctx,
                            RestartPolicy policy = {});

}  // namespace troupe::supervision
