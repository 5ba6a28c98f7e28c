#pragma once
/// The resource actor: single writer of one resource's book.
///
/// Because one actor serializes every command for its resource there is no
/// lock and no oversell. Protocol (see messages.hpp):
///   HoldRequest   -> Money (amount)     tentative; released if the holding
///                                       order actor dies
///   ConfirmHold   -> Order              after order+alloc are durable
///   ReleaseHold   -> ok                 compensation of a hold
///   CancelBooking -> Order              after order+erase-alloc are durable
///   get_atom      -> ResourceView
///   crash_atom    -> (throws)           fault injection / tests
/// If it crashes, every request it still owed an answer gets a `retry`
/// error, never silence; the supervisor restarts it from its records.

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/context.hpp"
#include "actors/records.hpp"

namespace troupe::actors {

/// Spawns a resource actor monitored by `parent` (its supervisor), with the
/// confirmed allocations restored from the store.
/// Returns an invalid handle and sets `error` when the allocations do not fit
/// the spec (corrupt store).
/// Spawns the actor of one resource with its confirmed bookings (`allocs`);
/// invalid with `error` set when they do not fit the spec. Its supervisor
/// monitors it (it may be spawned from any thread: see Directory).
caf::actor spawn_resource_actor(caf::actor_system& sys,
                                std::shared_ptr<const Context> ctx,
                                domain::ResourceSpec spec,
                                const std::vector<records::Allocation>& allocs,
                                std::string& error);

}  // namespace troupe::actors
