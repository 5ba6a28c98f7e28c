#pragma once
/// What every troupe actor is wired to, handed over at spawn time (never
/// sent as a message).

#include <chrono>
#include <functional>
#include <string>
#include <memory>

#include <caf/actor.hpp>

#include "actors/decoded_events.hpp"
#include "actors/deadlines.hpp"
#include "actors/directory.hpp"
#include "actors/payment_pool.hpp"
#include "actors/store_actor.hpp"
#include "actors/subscriber.hpp"
#include "persistence/store.hpp"

namespace troupe::actors {

struct Timeouts {
  std::chrono::milliseconds actor_call{2000};   ///< one actor-to-actor request
  std::chrono::milliseconds payment{610};       ///< one call to the payment pool
  std::chrono::milliseconds store_write{3000};  ///< one durable write
};

struct Context {
  std::shared_ptr<Directory> directory = std::make_shared<Directory>();
  /// The store adapter: the store actor (and any restart of it) uses it.
  std::shared_ptr<persistence::Store> store_adapter;
  std::shared_ptr<StoreHealth> store_health = std::make_shared<StoreHealth>();
  /// Simulated gateway settings (changed at run time by fault injection).
  std::shared_ptr<GatewaySettings> gateway = std::make_shared<GatewaySettings>();
  PaymentPoolOptions payments_options;  ///< workers, call timeout, breaker
  /// What the subscribers report (cursor, running, webhook counters).
  std::shared_ptr<SubscriberBoard> subscribers = std::make_shared<SubscriberBoard>();
  /// The log's latest entries, decoded once for all the subscribers.
  std::shared_ptr<DecodedEvents> decoded_events = std::make_shared<DecodedEvents>();
  /// Posts one notification (JSON) to the configured webhook; empty when
  /// none is configured. Blocking; called from the detached notifier.
  std::function<domain::Status(const std::string& body)> webhook;
  Timeouts timeouts;
  /// The store writer thread's nice value (0: unchanged).
  int store_nice = 0;
  /// Keeps the actors' request timeouts and delayed messages (see
  /// deadlines.hpp: CAF's clock thread costs a wake per event).
  std::shared_ptr<Deadlines> deadlines = std::make_shared<Deadlines>();
  /// Event-log entries kept behind the slowest subscriber (older ones go).
  std::uint64_t event_retention = 100000;
  /// How often the log is trimmed.
  std::chrono::milliseconds event_trim_every{1000};
  /// Most log entries erased per commit while trimming (the log's floor
  /// rides along with the group commits until the retention bound is reached).
  std::size_t event_trim_chunk = 512;
  /// An order at rest (confirmed, rejected, cancelled) with no command for
  /// about this long is passivated: its actor stops, its record stays, and
  /// the next command activates it again. 0: as soon as it comes to rest.
  std::chrono::milliseconds order_idle{0};
  /// A resource with nothing held or in flight and no command this long
  /// passivates (its actor stops; the directory activates it on demand). 0: never.
  std::chrono::milliseconds resource_idle{300000};

  /// Current handles (they change when a supervisor restarts the actor).
  caf::actor store() const { return directory->service("store"); }
  caf::actor payments() const { return directory->service("payments"); }
};

/// `self->request(dest, timeout, xs...)` for an actor whose state holds
/// `ctx`, with the timeout kept by the context's Deadlines.
template <class Self, class... Ts>
auto timed_request(Self* self, const caf::actor& dest, std::chrono::milliseconds timeout,
                   Ts&&... xs) {
  return request_within(self, *self->state.ctx->deadlines, dest, timeout,
                        std::forward<Ts>(xs)...);
}

/// `self->delayed_send(self, delay, xs...)` on the context's Deadlines.
template <class Self, class... Ts>
void send_later(Self* self, std::chrono::milliseconds delay, Ts&&... xs) {
  self->state.ctx->deadlines->send_later(self->ctrl(), delay,
                                         caf::make_message(std::forward<Ts>(xs)...));
}

}  // namespace troupe::actors
