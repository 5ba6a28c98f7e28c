#pragma once
/// Where actors are found by business id (resource id, order id).
///
/// Callers never keep actor handles across requests: a restarted actor has a
/// new handle, and the supervisor updates the directory. Thread-safe: read
/// by HTTP threads, written by the supervisor. Later (cluster) a lookup may
/// answer with a remote handle; callers do not change.

#include <map>
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

  void put_resource(const domain::ResourceSpec& spec, caf::actor a);
  std::optional<ResourceEntry> resource(const std::string& id) const;
  caf::actor resource_actor(const std::string& id) const;

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
  mutable std::shared_mutex mu_;
  std::map<std::string, ResourceEntry> resources_;
  std::unordered_map<std::string, caf::actor> orders_;
  std::map<std::string, caf::actor> services_;
};

}  // namespace troupe::actors
