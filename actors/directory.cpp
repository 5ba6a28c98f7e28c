#include "actors/directory.hpp"

#include <mutex>

#include <caf/send.hpp>

namespace troupe::actors {

void Directory::put_resource(const domain::ResourceSpec& spec, caf::actor a) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto& e = resources_[spec.id];
  e.spec = spec;
  // An entry without an actor never hides one that runs (a restore racing
  // an activation): two actors for one resource could oversell.
  if (a || !e.actor) e.actor = std::move(a);
}

std::optional<Directory::ResourceEntry> Directory::resource(const std::string& id) {
  auto actor = resource_actor(id);  // activates when needed
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = resources_.find(id);
  if (it == resources_.end()) return std::nullopt;
  return ResourceEntry{std::move(actor), it->second.spec};
}

caf::actor Directory::resource_actor(const std::string& id) {
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = resources_.find(id);
    if (it == resources_.end()) return {};
    if (it->second.actor) return it->second.actor;
  }
  return activate(id);
}

std::optional<domain::ResourceSpec> Directory::resource_spec(const std::string& id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = resources_.find(id);
  if (it == resources_.end()) return std::nullopt;
  return it->second.spec;
}

bool Directory::has_resource(const std::string& id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return resources_.count(id) != 0;
}

caf::actor Directory::running_resource(const std::string& id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = resources_.find(id);
  return it == resources_.end() ? caf::actor{} : it->second.actor;
}

void Directory::set_activator(Activator f) {
  std::lock_guard<std::mutex> g(activation_mu_);
  activator_ = std::move(f);
  closed_ = false;
}

caf::actor Directory::activate(const std::string& id) {
  std::lock_guard<std::mutex> g(activation_mu_);
  domain::ResourceSpec spec;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = resources_.find(id);
    if (it == resources_.end()) return {};
    if (it->second.actor) return it->second.actor;  // activated meanwhile
    spec = it->second.spec;
  }
  if (closed_ || !activator_) return {};
  auto a = activator_(spec);
  if (!a) return {};
  std::unique_lock<std::shared_mutex> l(mu_);
  auto it = resources_.find(id);
  if (it != resources_.end()) it->second.actor = a;
  return a;
}

void Directory::passivate_resource(const std::string& id, const caf::actor_addr& a) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto it = resources_.find(id);
  if (it != resources_.end() && it->second.actor.address() == a) it->second.actor = caf::actor{};
}

void Directory::stop_resources() {
  std::lock_guard<std::mutex> g(activation_mu_);
  std::vector<caf::actor> running;
  {
    std::unique_lock<std::shared_mutex> l(mu_);
    closed_ = true;
    activator_ = nullptr;
    for (auto& kv : resources_)
      if (kv.second.actor) running.push_back(std::exchange(kv.second.actor, caf::actor{}));
  }
  for (auto& a : running) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

size_t Directory::active_resource_count() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  size_t n = 0;
  for (const auto& kv : resources_) n += kv.second.actor ? 1 : 0;
  return n;
}

void Directory::put_order(const std::string& id, caf::actor a) {
  std::unique_lock<std::shared_mutex> l(mu_);
  orders_[id] = std::move(a);
}

caf::actor Directory::order(const std::string& id) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = orders_.find(id);
  return it == orders_.end() ? caf::actor{} : it->second;
}

void Directory::remove_order(const std::string& id, const caf::actor_addr& a) {
  std::unique_lock<std::shared_mutex> l(mu_);
  auto it = orders_.find(id);
  if (it != orders_.end() && (!a || it->second.address() == a)) orders_.erase(it);
}

void Directory::clear_orders() {
  std::unique_lock<std::shared_mutex> l(mu_);
  orders_.clear();
}

std::vector<Directory::ResourceEntry> Directory::list_resources(const std::string& after,
                                                                size_t limit,
                                                                const std::string& type,
                                                                bool& more) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<ResourceEntry> out;
  more = false;
  for (auto it = resources_.upper_bound(after); it != resources_.end(); ++it) {
    if (!type.empty() && it->second.spec.type != type) continue;
    if (out.size() == limit) {
      more = true;
      break;
    }
    out.push_back(it->second);
  }
  return out;
}

void Directory::set_service(const std::string& name, caf::actor a) {
  std::unique_lock<std::shared_mutex> l(mu_);
  services_[name] = std::move(a);
}

caf::actor Directory::service(const std::string& name) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = services_.find(name);
  return it == services_.end() ? caf::actor{} : it->second;
}

std::vector<std::string> Directory::TEST_order_ids() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<std::string> ids;
  for (const auto& kv : orders_) ids.push_back(kv.first);
  return ids;
}

size_t Directory::resource_count() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return resources_.size();
}

size_t Directory::order_count() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return orders_.size();
}

}  // namespace troupe::actors
