#pragma once
/// How actor state maps to store records (keys and values).
///
///   res/<resourceId>             -> ResourceSpec JSON (registration)
///   order/<orderId>              -> the order with its payment
///                                   (domain/order_codec.hpp)
///   alloc/<resourceId>/<orderId> -> what a confirmed order occupies
///                                   (A1, order id, quantity, start, end)
///   open/<orderId>               -> the order record again, while the saga is
///                                   unfinished (placed/held/paid); erased in
///                                   the batch that finishes it. A cold start
///                                   reads only these (orders at rest are
///                                   activated on demand, see the orders
///                                   supervisor).
///
/// A resource's book is exactly its alloc/ records: confirm writes the order
/// and its alloc record in one atomic batch, cancel rewrites the order and
/// erases the alloc record in one batch. Restoring a resource = its spec +
/// a prefix scan of its allocs.
///
/// Every write of an order goes with the domain events of its change
/// (`order_change`): they are appended to the event log in the same atomic
/// batch, so the log holds exactly the changes that became durable.

#include <string>
#include <vector>

#include "domain/calendar_book.hpp"
#include "domain/capacity_book.hpp"
#include "domain/order.hpp"
#include "domain/resource.hpp"
#include "persistence/store.hpp"

namespace troupe::actors::records {

inline const std::string resource_prefix = "res/";
inline const std::string order_prefix = "order/";
inline const std::string open_prefix = "open/";
std::string resource_key(const std::string& id);
std::string order_key(const std::string& id);
std::string alloc_prefix(const std::string& resource_id);
/// The group of a resource's allocations (Store::scan_group: one Redis hash,
/// where a prefix scan would list every hash first).
std::string alloc_group(const std::string& resource_id);

persistence::Write put_resource(const domain::ResourceSpec& spec);
persistence::Write put_order(const domain::Order& order);
/// Whether an order needs no actor to finish anything: confirmed, rejected
/// or cancelled (fulfillment steps come as commands, which activate it).
bool at_rest(const domain::Order& order);
/// The order's new record plus one event-log append per event of the change
/// `before` (the last durable version; a never-stored order for the first
/// write) -> `after`, and its open/ index entry put or erased.
persistence::Batch order_change(const domain::Order& before, const domain::Order& after);
persistence::Write put_alloc(const domain::Order& order);
/// The unit a delivery call holds at its rider (alloc/<riderId>/<orderId>).
persistence::Write put_rider_alloc(const domain::Order& order);
persistence::Write erase_rider_alloc(const domain::Order& order);
/// A ResourceReleased event for `order` (a step that ended its booking).
persistence::Write released_event(const domain::Order& order);
persistence::Write erase_alloc(const domain::Order& order);

struct Allocation {
  std::string order_id;
  std::int64_t quantity = 0;
  domain::Timestamp start = 0;
  domain::Timestamp end = 0;
};

domain::Result<domain::ResourceSpec> decode_resource(const std::string& value);
domain::Result<domain::Order> decode_order(const std::string& value);
domain::Result<Allocation> decode_alloc(const std::string& value);
/// The allocations among `recs` (a resource's allocation group); unreadable
/// records are skipped and counted in `corrupt`.
std::vector<Allocation> decode_allocs(const std::vector<persistence::Record>& recs, size_t& corrupt);

}  // namespace troupe::actors::records
