#pragma once
/// Every message exchanged between troupe actors, in one place.
///
/// All message types are value types with an `inspect` overload and are
/// registered with the actor system (`register_message_types`), so any actor
/// can later live on another node. Failures travel as `caf::error` in the
/// "troupe" category whose code is a domain::ErrorKind and whose context
/// holds the detail string (see `to_caf` / `from_caf`).

#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/calendar_book.hpp"
#include "domain/circuit_breaker.hpp"
#include "domain/order.hpp"
#include "domain/resource.hpp"
#include "persistence/store.hpp"

// ---- inspect overloads for domain and persistence values (found by ADL) ----

namespace troupe::domain {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ResourceSpec& x) {
  return f(caf::meta::type_name("ResourceSpec"), x.id, x.type, x.name, x.mode, x.capacity,
           x.price, x.price_unit, x.steps);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, StatusChange& x) {
  return f(caf::meta::type_name("StatusChange"), x.status, x.at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Payment& x) {
  return f(caf::meta::type_name("Payment"), x.id, x.order_id, x.amount, x.status, x.history);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Order& x) {
  return f(caf::meta::type_name("Order"), x.id, x.resource_id, x.customer_id, x.mode, x.phase,
           x.amount, x.quantity, x.start, x.end, x.created_at, x.reason, x.step, x.destination,
           x.rider_id, x.history, x.payment);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BreakerConfig& x) {
  return f(caf::meta::type_name("BreakerConfig"), x.consecutive_failures, x.window_calls,
           x.failure_rate, x.cool_down_ms, x.max_cool_down_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Booking& x) {
  return f(caf::meta::type_name("Booking"), x.order_id, x.start, x.end, x.confirmed);
}

}  // namespace troupe::domain

namespace troupe::persistence {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Write& x) {
  return f(caf::meta::type_name("Write"), x.key, x.value, x.erase);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Record& x) {
  return f(caf::meta::type_name("Record"), x.key, x.value);
}

}  // namespace troupe::persistence

namespace troupe::actors {

// ---- atoms ----
using ok_atom = caf::atom_constant<caf::atom("ok")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using crash_atom = caf::atom_constant<caf::atom("crash")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using restore_atom = caf::atom_constant<caf::atom("restore")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using tree_atom = caf::atom_constant<caf::atom("tree")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using breaker_atom = caf::atom_constant<caf::atom("breaker")>;
using subscribers_atom = caf::atom_constant<caf::atom("subs")>;
using trim_atom = caf::atom_constant<caf::atom("trim")>;
/// Orders supervisor: the actor of an order, spawned from its record when it
/// was passivated (answers caf::actor, or not_found).
using activate_atom = caf::atom_constant<caf::atom("activate")>;
/// An order to itself, once per idle period: stop if at rest and idle.
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
/// An order to itself: send money back again (the pool did not confirm).
using retry_refund_atom = caf::atom_constant<caf::atom("rerefund")>;
/// Resources supervisor: monitor a resource actor activated by the directory.
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;

// ---- resource protocol ----

/// Order -> resource: take units or a window, tentatively. Reply: the amount
/// (domain::Money) computed by the resource's price rule.
struct HoldRequest {
  std::string order_id;
  std::int64_t quantity = 0;       ///< capacity mode
  domain::Timestamp start = 0;     ///< calendar mode
  domain::Timestamp end = 0;
  domain::Money fee = 0;           ///< dispatch mode (nothing is held; the amount)
};

/// Order -> rider (a capacity resource): take this delivery call — one unit
/// of the rider, durable with the order's `accepted` step (`order` has it and
/// names the rider). Reply: the order; not_available when the rider is busy.
struct RiderAssign {
  domain::Order order;
  domain::Order before;  ///< as last durable (see ConfirmHold)
  domain::Timestamp deadline = 0;
};

/// Order -> rider: the call is completed or cancelled (`order` says which);
/// the rider's unit is freed with the order's change, durably. Reply: order.
struct RiderRelease {
  domain::Order order;
  domain::Order before;
  domain::Timestamp deadline = 0;
};

/// Order -> resource: make the hold final. `order` is already in phase
/// confirmed; the resource persists it with its allocation in one atomic
/// batch and replies with the order only once durable.
struct ConfirmHold {
  domain::Order order;
  /// The order as last durable: the write carries the events in between.
  domain::Order before;
  /// Wall-clock ms after which the resource must refuse (the order actor has
  /// given up waiting and will verify through the store instead).
  domain::Timestamp deadline = 0;
};

/// Order -> resource: drop a tentative hold (saga compensation). Reply: unit.
struct ReleaseHold {
  std::string order_id;
};

/// Order -> resource: cancel a confirmed booking. `order` is already in phase
/// cancelled; persisted together with the release. Reply: the order.
struct CancelBooking {
  domain::Order order;
  domain::Order before;  ///< as last durable (see ConfirmHold)
  /// Wall-clock ms after which the resource must refuse (as ConfirmHold).
  domain::Timestamp deadline = 0;
};

/// Order -> resource: record a fulfillment step; `order` has already
/// advanced. When the step ends the booking (`frees`: a checked-out room, a
/// returned car) the allocation is erased in the same batch and the units or
/// the window come free. Reply: the order once durable.
struct StepBooking {
  domain::Order order;
  domain::Order before;  ///< as last durable (see ConfirmHold)
  domain::Timestamp deadline = 0;
  bool frees = false;
};

/// Resource -> anyone: what the resource looks like now.
struct ResourceView {
  domain::ResourceSpec spec;
  std::int64_t available = 0;   ///< capacity mode
  std::int64_t held = 0;        ///< capacity mode: tentatively held units
  std::vector<domain::Booking> bookings;  ///< calendar mode: active bookings
};

// ---- order protocol ----

/// HTTP -> supervisor -> new order actor: place an order. The supervisor
/// assigns `order_id` unless the caller derived one (from an Idempotency-Key):
/// then an order that already has that id answers instead — the order when
/// it is confirmed (or later), conflict while it runs or when it was
/// rejected. Reply: domain::Order once confirmed and durable.
struct PlaceOrder {
  std::string order_id;
  std::string resource_id;
  std::string customer_id;
  std::int64_t quantity = 0;
  domain::Timestamp start = 0;
  domain::Timestamp end = 0;
  std::string destination;   ///< dispatch mode
  domain::Money fee = 0;     ///< dispatch mode
};

/// HTTP -> order actor: advance fulfillment to `step` (a delivery call's
/// `accepted` names its rider). Reply: domain::Order once durable.
struct AdvanceStep {
  std::string step;
  std::string rider_id;
};

/// HTTP -> supervisor: register a resource. Reply: RegisterResult.
struct RegisterResource {
  domain::ResourceSpec spec;
};

struct RegisterResult {
  ResourceView view;
  bool created = false;  ///< false: the same spec was already registered
};

// ---- payment protocol ----

/// Order -> payment pool: authorize and capture `amount`. Reply: the payment
/// status reached (captured) or an error (payment_declined).
struct ChargeRequest {
  std::string payment_id;
  std::string order_id;
  domain::Money amount = 0;
  /// false: authorize only (a delivery fee, captured on completion).
  bool capture = true;
  /// When the pool sent it to the gateway (ms since the epoch; 0: unknown):
  /// the simulated gateway's latency counts from here, as a caller would
  /// see it — not from when a worker got to the request.
  std::int64_t sent_at_ms = 0;
};

/// Order -> payment pool: capture an authorization (idempotent). Reply: ok,
/// or payment_unavailable when there is nothing authorized to capture.
struct CaptureRequest {
  std::string payment_id;
};

/// Order -> payment pool: give the money back (cancel) or void an
/// authorization that timed out. Reply: unit.
struct RefundRequest {
  std::string payment_id;
  domain::Money amount = 0;
  bool void_only = false;
};

/// The `subject` of the payment_unavailable error with which the payment
/// pool refuses a charge while its breaker is open (no gateway call made).
inline const std::string breaker_open_subject = "circuit-breaker-open";

/// Payment pool -> anyone: the circuit breaker now.
struct BreakerTransitionView {
  std::string from;
  std::string to;
  domain::Timestamp at = 0;
  std::string why;
};

struct BreakerView {
  std::string state;
  std::uint64_t calls = 0;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::uint64_t refused = 0;
  std::int32_t consecutive_failures = 0;
  std::int64_t cool_down_ms = 0;
  std::int64_t retry_after_ms = 0;
  std::int64_t call_timeout_ms = 0;
  std::uint64_t transitions_total = 0;
  std::vector<BreakerTransitionView> transitions;
  domain::BreakerConfig config;
};

// ---- store protocol ----

/// Anyone -> store actor: make these batches durable. Reply: unit once
/// durable (group-committed with whatever else is queued).
struct StoreWrite {
  std::vector<persistence::Batch> batches;
};

/// Anyone -> store actor: read after every write queued before it (the
/// pending ones are committed first). `unqueued`: the caller knows no write
/// of this key can be queued (an order with no actor): the record is read
/// without that early commit, which would split the group commit.
struct StoreGet {
  std::string key;
  bool unqueued = false;
};
struct StoreScan {
  std::string prefix;
};
/// Anyone -> store actor: up to `limit` event-log entries after `after`.
/// Reply: std::vector<persistence::Record> (keys persistence::log_key).
struct LogRead {
  std::uint64_t after = 0;
  std::uint32_t limit = 256;
};
/// Anyone -> store actor: every record of one group (Store::scan_group).
struct StoreScanGroup {
  std::string group;
};
/// Reply to StoreGet.
struct StoreValue {
  bool found = false;
  std::string value;
};

struct StoreStatsView {
  std::uint64_t commits = 0;
  std::uint64_t batches = 0;
  std::uint64_t writes = 0;
  std::uint64_t compactions = 0;
  std::uint64_t live_records = 0;
  std::uint64_t bytes_on_disk = 0;
};

// ---- supervision protocol ----

/// Test/fault hook: make the named actor throw. kind is "resource" or "order".
struct CrashActor {
  std::string kind;
  std::string id;
};

/// Fault injection: crash `count` randomly chosen resource actors.
struct CrashRandom {
  std::uint32_t count = 1;
};

/// Fault injection: stop (run = false) or start again a subscriber.
struct SubscriberControl {
  std::string name;
  bool run = false;
};

/// One supervisor in the tree (GET /admin/actors).
struct SupervisorView {
  std::string name;
  std::string parent;       ///< empty for the root
  std::string strategy;
  std::uint64_t children = 0;
  std::uint64_t restarts = 0;      ///< of its children, ever
  std::uint64_t escalations = 0;   ///< times it gave up (seen by the parent)
  std::int32_t max_restarts = 0;   ///< intensity R
  std::int64_t window_ms = 0;      ///< intensity T
  std::string last_failure;
};

/// Supervisor -> anyone: counters for health and metrics.
struct SupervisionStats {
  std::uint64_t resources = 0;
  std::uint64_t orders = 0;
  std::uint64_t restarts = 0;
  std::string last_failure;
};

#define TROUPE_INSPECT(T, ...)                                            \
  template <class Inspector>                                              \
  typename Inspector::result_type inspect(Inspector& f, T& x) {           \
    return f(caf::meta::type_name(#T), __VA_ARGS__);                      \
  }

TROUPE_INSPECT(HoldRequest, x.order_id, x.quantity, x.start, x.end, x.fee)
TROUPE_INSPECT(RiderAssign, x.order, x.before, x.deadline)
TROUPE_INSPECT(RiderRelease, x.order, x.before, x.deadline)
TROUPE_INSPECT(ConfirmHold, x.order, x.before, x.deadline)
TROUPE_INSPECT(ReleaseHold, x.order_id)
TROUPE_INSPECT(CancelBooking, x.order, x.before, x.deadline)
TROUPE_INSPECT(StepBooking, x.order, x.before, x.deadline, x.frees)
TROUPE_INSPECT(AdvanceStep, x.step, x.rider_id)
TROUPE_INSPECT(ResourceView, x.spec, x.available, x.held, x.bookings)
TROUPE_INSPECT(PlaceOrder, x.order_id, x.resource_id, x.customer_id, x.quantity, x.start, x.end,
               x.destination, x.fee)
TROUPE_INSPECT(RegisterResource, x.spec)
TROUPE_INSPECT(RegisterResult, x.view, x.created)
TROUPE_INSPECT(BreakerTransitionView, x.from, x.to, x.at, x.why)
TROUPE_INSPECT(BreakerView, x.state, x.calls, x.successes, x.failures, x.refused,
               x.consecutive_failures, x.cool_down_ms, x.retry_after_ms, x.call_timeout_ms,
               x.transitions_total, x.transitions, x.config)
TROUPE_INSPECT(ChargeRequest, x.payment_id, x.order_id, x.amount, x.capture, x.sent_at_ms)
TROUPE_INSPECT(CaptureRequest, x.payment_id)
TROUPE_INSPECT(RefundRequest, x.payment_id, x.amount, x.void_only)
TROUPE_INSPECT(StoreWrite, x.batches)
TROUPE_INSPECT(StoreGet, x.key, x.unqueued)
TROUPE_INSPECT(StoreScan, x.prefix)
TROUPE_INSPECT(StoreValue, x.found, x.value)
TROUPE_INSPECT(LogRead, x.after, x.limit)
TROUPE_INSPECT(StoreScanGroup, x.group)
TROUPE_INSPECT(StoreStatsView, x.commits, x.batches, x.writes, x.compactions, x.live_records,
               x.bytes_on_disk)
TROUPE_INSPECT(CrashActor, x.kind, x.id)
TROUPE_INSPECT(CrashRandom, x.count)
TROUPE_INSPECT(SubscriberControl, x.name, x.run)
TROUPE_INSPECT(SupervisorView, x.name, x.parent, x.strategy, x.children, x.restarts,
               x.escalations, x.max_restarts, x.window_ms, x.last_failure)
TROUPE_INSPECT(SupervisionStats, x.resources, x.orders, x.restarts, x.last_failure)

#undef TROUPE_INSPECT

/// Registers every type above on `cfg`. Call once per actor system.
void register_message_types(caf::actor_system_config& cfg);

/// The error category of troupe's own errors.
inline constexpr caf::atom_value error_category = caf::atom("troupe");

/// domain::Error -> caf::error (code = ErrorKind, context = detail).
caf::error to_caf(const domain::Error& e);
caf::error to_caf(domain::ErrorKind kind, std::string detail);
/// caf::error -> domain::Error; CAF's own errors map to timeout / retry /
/// internal.
domain::Error from_caf(const caf::error& e);

}  // namespace troupe::actors
