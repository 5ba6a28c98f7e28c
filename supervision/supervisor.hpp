#pragma once
/// The supervision tree.
///
///                         root (one_for_one)
///        +-----------+--------+-------------+------------+---------------+
///      store      payments   resources       orders        subscribers
///   (store actor) (pool)   (resource actors) (order actors) (notifier, mypage, report)
///
/// Every supervisor restarts a failed child (one-for-one) after a backoff,
/// at most R times within T (RestartIntensity); one failure more and it gives
/// up: it stops (taking its children down) and its parent restarts it as a
/// whole, which restores every child from the store. If the root itself gives
/// up, `on_give_up` runs (the process exits non-zero; an outer supervisor —
/// systemd, Kubernetes — restarts it).
///
/// Restoring from the store: a resource from its spec plus its alloc
/// records, an order from its order record. Store reads go through the store
/// actor, so they are answered after every write the dead child still had
/// queued. Every supervisor is registered in the directory under its name.
///
/// Protocol of the root:
///   restore_atom            -> SupervisionStats        load everything at start-up
///   tree_atom               -> std::vector<SupervisorView>
///   stats_atom              -> SupervisionStats
///   CrashActor{"supervisor", name} -> ok               fault injection
///   RegisterResource, PlaceOrder, CrashActor{resource|order}: delegated
/// Protocol of "resources": RegisterResource -> RegisterResult,
///   CrashActor{"resource", id} -> ok, CrashRandom -> uint32 (crashed).
/// Protocol of "orders": PlaceOrder -> domain::Order (spawns, delegates),
///   CrashActor{"order", id} -> ok.
/// Protocol of "subscribers": SubscriberControl{name, run} -> ok (a stopped
///   subscriber is not restarted until started again), subscribers_atom ->
///   std::vector<std::string> (the stopped ones), CrashActor{"subscriber",
///   name} -> ok. A restarted subscriber resumes at its stored cursor.

#include <functional>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/context.hpp"
#include "supervision/restart_policy.hpp"

namespace troupe::supervision {

struct SupervisionConfig {
  RestartPolicy root{Strategy::one_for_one, 3, std::chrono::milliseconds(30000)};
  RestartPolicy store{Strategy::one_for_one, 5, std::chrono::milliseconds(10000)};
  RestartPolicy payments{Strategy::one_for_one, 5, std::chrono::milliseconds(10000)};
  RestartPolicy resources{Strategy::one_for_one, 1000, std::chrono::milliseconds(10000)};
  RestartPolicy orders{Strategy::one_for_one, 1000, std::chrono::milliseconds(10000)};
  RestartPolicy subscribers{Strategy::one_for_one, 10, std::chrono::milliseconds(10000)};
  std::function<void()> on_give_up;  ///< the root exceeded its intensity
};

/// Spawns the root, which spawns the whole tree (store actor and payment
/// pool included) and registers every supervisor and service in
/// ctx->directory. Send restore_atom before serving.
caf::actor spawn_supervision_tree(caf::actor_system& sys,
                                  std::shared_ptr<const actors::Context> ctx,
                                  SupervisionConfig config = {});

}  // namespace troupe::supervision
