#pragma once
/// Where actors are found by business id (resource id, order id).
///
/// Resources are virtual actors: every registered resource has an entry
/// (its spec), but an actor only while it is used. A lookup of an entry
/// without one activates it — the activator (installed by the resources
/// supervisor) reads its bookings from the store and spawns it, one
/// activation at a time — and an idle resource passivates itself (its
/// entry forgets the actor). So 100,000 idle resources cost their entries,
/// not 100,000 actors.
///
/// Callers never keep actor handles across requests: a restarted actor has a
/// new handle, and the supervisor updates the directory. Thread-safe: read
/// by HTTP threads, written by the supervisor. Later (cluster) a lookup may
/// answer with a remote handle; callers do not change.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include "domain/resource.hpp"

namespace troupe::actors {

class Directory {
 public:
  struct ResourceEntry {
    caf::actor actor;
    domain::ResourceSpec spec;
  };

  /// Creates or updates an entry; an invalid `a` (not active) keeps an
  /// actor the entry already has.
  void put_resource(const domain::ResourceSpec& spec, caf::actor a);
  /// The entry with a running actor (activated if needed; the actor is
  /// invalid only when activation failed — a store error: retry).
  std::optional<ResourceEntry> resource(const std::string& id);
  caf::actor resource_actor(const std::string& id);
  /// The spec alone, never activating.
  std::optional<domain::ResourceSpec> resource_spec(const std::string& id) const;
  /// Whether `id` is registered (no copy, never activating).
  bool has_resource(const std::string& id) const;
  /// The actor if one runs now (no activation).
  caf::actor running_resource(const std::string& id) const;

  /// Spawns the actor of resource `spec` (its bookings from the store);
  /// invalid on failure. Called under the activation lock.
  using Activator = std::function<caf::actor(const domain::ResourceSpec& spec)>;
  void set_activator(Activator f);
  /// An idle resource actor stopping: its entry forgets it (only while the
  /// entry still points at `a`; otherwise `a` was stale and just goes).
  void passivate_resource(const std::string& id, const caf::actor_addr& a);
  /// Stops every resource actor and refuses further activations (shutdown).
  void stop_resources();
  size_t active_resource_count() const;

  void put_order(const std::string& id, caf::actor a);
  caf::actor order(const std::string& id) const;
  /// Removes the entry only while it still points at `a` (a restart may
  /// already have replaced it).
  /// (An invalid `a` removes unconditionally.)
  void remove_order(const std::string& id, const caf::actor_addr& a);
  /// Forgets every order actor (their supervisor restarts as a whole).
  void clear_orders();

  /// Up to `limit` resources with id > `after`, in id order, optionally of
  /// one business type. `more` tells whether further entries exist.
  std::vector<ResourceEntry> list_resources(const std::string& after, size_t limit,
                                            const std::string& type, bool& more) const;

  /// Singleton actors by role: "store", "payments", and the supervisors
  /// "root", "resources", "orders". Invalid handle when absent.
  void set_service(const std::string& name, caf::actor a);
  caf::actor service(const std::string& name) const;

  size_t resource_count() const;
  /// Test hook: the ids of every order actor now registered.
  std::vector<std::string> TEST_order_ids() const;
  size_t order_count() const;

 private:
  caf::actor activate(const std::string& id);

  mutable std::shared_mutex mu_;
  std::mutex activation_mu_;  ///< one activation at a time; taken before mu_
  Activator activator_;
  bool closed_ = false;
  std::map<std::string, ResourceEntry> resources_;
  std::unordered_map<std::string, caf::actor> orders_;
  std::map<std::string, caf::actor> services_;
};

}  // namespace troupe::actors
