#pragma once
/// The order actor: one per order, orchestrating the booking saga.
///
///   PlaceOrder: hold at the resource -> write ahead (the held order is
///               durable before any money moves) -> charge at the payment
///               pool -> confirm at the resource (durable) -> reply the order
///   on failure: compensate what was done (void/refund, release the hold),
///               record the order as rejected, reply the error (with the
///               order id as subject)
///   cancel_atom: (confirmed only) cancel at the resource (durable), refund
///   get_atom:    the order as it is now
///   crash_atom:  throws (fault injection / tests)
///
/// Every write carries the change's domain events (records::order_change).
/// Stable points (confirmed, rejected, cancelled) and the write-ahead point
/// (held) are durable records; a restarted order actor starts from its
/// record. One restored half-done (held) is resumed by compensation: after
/// `resume_after` (so a confirmation still in flight can land) it reads its
/// record again; unless that says confirmed, it voids the payment (refunded
/// if it was captured), frees the hold and records the rejection. If it crashes, every
/// request it still owed gets a `retry` error, never silence. A hold it leaves
/// behind is released by the resource, which monitors its holders.

#include <chrono>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/context.hpp"
#include "domain/order.hpp"

namespace troupe::actors {

/// Spawns an order actor monitored by `parent`. A new order starts in phase
/// placed and waits for its PlaceOrder; a restored one serves its record
/// (and compensates a half-done one after `resume_after`).
caf::actor spawn_order_actor(caf::event_based_actor* parent, std::shared_ptr<const Context> ctx,
                             domain::Order order,
                             std::chrono::milliseconds resume_after = std::chrono::milliseconds(0));

}  // namespace troupe::actors
