#pragma once
/// What every troupe actor is wired to, handed over at spawn time (never
/// sent as a message).

#include <chrono>
#include <memory>

#include <caf/actor.hpp>

#include "actors/directory.hpp"
#include "actors/store_actor.hpp"

namespace troupe::actors {

struct Timeouts {
  std::chrono::milliseconds actor_call{2000};   ///< one actor-to-actor request
  std::chrono::milliseconds payment{610};       ///< one call to the payment pool
  std::chrono::milliseconds store_write{3000};  ///< one durable write
};

struct Context {
  std::shared_ptr<Directory> directory;
  caf::actor store;
  caf::actor payments;
  std::shared_ptr<StoreHealth> store_health = std::make_shared<StoreHealth>();
  Timeouts timeouts;
};

}  // namespace troupe::actors
