#include "supervision/supervisor.hpp"

#include <deque>
#include <map>
#include <unordered_map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/order_actor.hpp"
#include "actors/records.hpp"
#include "actors/resource_actor.hpp"

namespace troupe::supervision {
namespace {

using namespace troupe::actors;
using domain::ErrorKind;

enum class ChildKind { resource, order };

struct Child {
  ChildKind kind;
  std::string id;
};

struct SupervisorState {
  std::shared_ptr<const Context> ctx;
  RestartPolicy policy;
  std::unordered_map<caf::actor_addr, Child> children;
  std::unordered_map<std::string, std::deque<domain::Timestamp>> restart_times;
  std::map<std::string, domain::ResourceSpec> registering;
  std::uint64_t restarts = 0;
  std::string last_failure;
  std::string id_prefix;
  std::uint64_t next_order = 0;
  static inline const char* name = "supervisor";

  /// Children are monitored, not linked: take them down with us, however we
  /// exit. (Not an attach_functor: CAF destroys the state in on_exit, before
  /// attached functors run, so such a functor would read a dead map.)
  ~SupervisorState() {
    for (const auto& kv : children) caf::anon_send_exit(kv.first, caf::exit_reason::user_shutdown);
  }
};

using Supervisor = caf::stateful_actor<SupervisorState>;

std::string hex(std::uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 15]);
    v >>= 4;
  } while (v);
  return s;
}

bool start_resource(Supervisor* self, const domain::ResourceSpec& spec,
                    const std::vector<records::Allocation>& allocs) {
  std::string err;
  auto a = spawn_resource_actor(self, self->state.ctx, spec, allocs, err);
  if (!a) {
    spdlog::error("cannot start resource {}: {}", spec.id, err);
    return false;
  }
  self->state.children[a.address()] = Child{ChildKind::resource, spec.id};
  self->state.ctx->directory->put_resource(spec, a);
  return true;
}

caf::actor start_order(Supervisor* self, domain::Order order) {
  const std::string id = order.id;
  auto a = spawn_order_actor(self, self->state.ctx, std::move(order));
  self->state.children[a.address()] = Child{ChildKind::order, id};
  self->state.ctx->directory->put_order(id, a);
  return a;
}

void restart(Supervisor* self, const Child& child) {
  auto& s = self->state;
  s.restarts++;
  if (child.kind == ChildKind::resource) {
    auto entry = s.ctx->directory->resource(child.id);
    if (!entry) return;
    auto spec = entry->spec;
    self->request(s.ctx->store, s.ctx->timeouts.store_write, StoreScan{records::alloc_prefix(spec.id)})
      .then(
        [=](std::vector<persistence::Record>& recs) {
          std::vector<records::Allocation> allocs;
          for (const auto& r : recs)
            if (auto a = records::decode_alloc(r.value)) allocs.push_back(*a);
          if (start_resource(self, spec, allocs))
            spdlog::info("resource {} restarted with {} bookings", spec.id, allocs.size());
        },
        [=](caf::error& e) {
          spdlog::error("restart of resource {}: store read failed: {}", spec.id,
                        from_caf(e).detail);
          self->delayed_send(self, std::chrono::seconds(1), restore_atom::value, spec.id);
        });
  } else {
    const std::string id = child.id;
    self->request(s.ctx->store, s.ctx->timeouts.store_write, StoreGet{records::order_key(id)})
      .then(
        [=](StoreValue& v) {
          if (!v.found) return;  // never became durable: nothing to bring back
          auto o = records::decode_order(v.value);
          if (!o) return;
          start_order(self, std::move(*o));
          spdlog::info("order {} restarted as {}", id, o->status());
        },
        [=](caf::error& e) {
          spdlog::error("restart of order {}: store read failed: {}", id, from_caf(e).detail);
        });
  }
}

/// Restarts now, or later when this child has been restarting too often.
void schedule_restart(Supervisor* self, const Child& child) {
  auto& s = self->state;
  auto& times = s.restart_times[child.id];
  const auto now = domain::now_ms();
  while (!times.empty() && now - times.front() > s.policy.window.count()) times.pop_front();
  times.push_back(now);
  if (static_cast<int>(times.size()) <= s.policy.max_restarts) return restart(self, child);
  const auto excess = static_cast<int>(times.size()) - s.policy.max_restarts;
  auto backoff = std::chrono::milliseconds(100) * (1 << std::min(excess, 10));
  if (backoff > s.policy.max_backoff) backoff = s.policy.max_backoff;
  spdlog::warn("{} restarted {} times in {} ms: backing off {} ms", child.id, times.size(),
               s.policy.window.count(), backoff.count());
  self->delayed_send(self, backoff, restore_atom::value, child.id,
                     child.kind == ChildKind::resource);
}

SupervisionStats stats_of(Supervisor* self) {
  SupervisionStats st;
  st.resources = self->state.ctx->directory->resource_count();
  st.orders = self->state.ctx->directory->order_count();
  st.restarts = self->state.restarts;
  st.last_failure = self->state.last_failure;
  return st;
}

caf::behavior supervisor(Supervisor* self, std::shared_ptr<const Context> ctx,
                         RestartPolicy policy) {
  auto& s = self->state;
  s.ctx = std::move(ctx);
  s.policy = policy;
  s.id_prefix = "o-" + hex(static_cast<std::uint64_t>(domain::now_ms())) + "-";
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    auto it = s.children.find(dm.source);
    if (it == s.children.end()) return;
    Child child = it->second;
    s.children.erase(it);
    if (!dm.reason || dm.reason == caf::exit_reason::normal) {
      if (child.kind == ChildKind::order) s.ctx->directory->remove_order(child.id, dm.source);
      return;
    }
    if (dm.reason == caf::exit_reason::user_shutdown || dm.reason == caf::exit_reason::kill)
      return;  // the system is going down
    s.last_failure = (child.kind == ChildKind::resource ? "resource " : "order ") + child.id +
                     ": " + caf::to_string(dm.reason);
    spdlog::warn("supervisor: {} failed ({}); restarting", child.id, caf::to_string(dm.reason));
    schedule_restart(self, child);
  });
  return {
    [=](restore_atom) -> caf::result<SupervisionStats> {
      auto rp = self->make_response_promise();
      auto& s = self->state;
      const auto t = s.ctx->timeouts.store_write * 20;
      self->request(s.ctx->store, t, StoreScan{records::resource_prefix})
        .then(
          [=](std::vector<persistence::Record>& res_recs) mutable {
            self->request(self->state.ctx->store, t, StoreScan{"alloc/"})
              .then(
                [=](std::vector<persistence::Record>& alloc_recs) mutable {
                  std::map<std::string, std::vector<records::Allocation>> by_resource;
                  for (const auto& r : alloc_recs) {
                    const auto slash = r.key.find('/', 6);
                    if (slash == std::string::npos) continue;
                    if (auto a = records::decode_alloc(r.value))
                      by_resource[r.key.substr(6, slash - 6)].push_back(*a);
                  }
                  for (const auto& r : res_recs) {
                    auto spec = records::decode_resource(r.value);
                    if (!spec) {
                      spdlog::error("skipping corrupt record {}", r.key);
                      continue;
                    }
                    start_resource(self, *spec, by_resource[spec->id]);
                  }
                  self->request(self->state.ctx->store, t, StoreScan{records::order_prefix})
                    .then(
                      [=](std::vector<persistence::Record>& order_recs) mutable {
                        for (const auto& r : order_recs) {
                          auto o = records::decode_order(r.value);
                          if (!o) {
                            spdlog::error("skipping corrupt record {}", r.key);
                            continue;
                          }
                          start_order(self, std::move(*o));
                        }
                        rp.deliver(stats_of(self));
                      },
                      [=](caf::error& e) mutable { rp.deliver(e); });
                },
                [=](caf::error& e) mutable { rp.deliver(e); });
          },
          [=](caf::error& e) mutable { rp.deliver(e); });
      return rp;
    },
    [=](restore_atom, const std::string& id, bool is_resource) {
      restart(self, Child{is_resource ? ChildKind::resource : ChildKind::order, id});
    },
    [=](restore_atom, const std::string& id) { restart(self, Child{ChildKind::resource, id}); },
    [=](RegisterResource& r) -> caf::result<RegisterResult> {
      auto& s = self->state;
      auto norm = domain::normalize(r.spec);
      if (!norm) return to_caf(norm.error());
      auto spec = std::move(*norm);
      if (auto existing = s.ctx->directory->resource(spec.id)) {
        if (existing->spec != spec)
          return to_caf(ErrorKind::conflict,
                        "resource " + spec.id + " is already registered with different content");
        auto rp = self->make_response_promise();
        self->request(existing->actor, s.ctx->timeouts.actor_call, get_atom::value)
          .then([=](ResourceView& v) mutable { rp.deliver(RegisterResult{v, false}); },
                [=](caf::error& e) mutable { rp.deliver(e); });
        return rp;
      }
      if (s.registering.count(spec.id))
        return to_caf(ErrorKind::conflict, "resource " + spec.id + " is being registered; retry");
      s.registering[spec.id] = spec;
      auto rp = self->make_response_promise();
      StoreWrite w;
      w.batches.push_back({records::put_resource(spec)});
      self->request(s.ctx->store, s.ctx->timeouts.store_write, std::move(w))
        .then(
          [=](ok_atom) mutable {
            self->state.registering.erase(spec.id);
            if (!start_resource(self, spec, {}))
              return rp.deliver(to_caf(ErrorKind::internal, "resource could not start"));
            ResourceView v;
            v.spec = spec;
            v.available = spec.mode == domain::Mode::capacity ? spec.capacity : 0;
            rp.deliver(RegisterResult{v, true});
          },
          [=](caf::error& e) mutable {
            self->state.registering.erase(spec.id);
            auto de = from_caf(e);
            if (de.kind == ErrorKind::timeout) de.kind = ErrorKind::store_unavailable;
            rp.deliver(to_caf(de));
          });
      return rp;
    },
    [=](PlaceOrder& p) -> caf::result<domain::Order> {
      auto& s = self->state;
      auto entry = s.ctx->directory->resource(p.resource_id);
      if (!entry) return to_caf(ErrorKind::not_found, "resource " + p.resource_id + " does not exist");
      p.order_id = s.id_prefix + hex(s.next_order++);
      auto order = domain::place(p.order_id, p.resource_id, p.customer_id, entry->spec.mode,
                                 domain::now_ms());
      order.quantity = p.quantity;
      order.start = p.start;
      order.end = p.end;
      auto a = start_order(self, std::move(order));
      self->delegate(a, std::move(p));
      return caf::delegated<domain::Order>{};
    },
    [=](CrashActor& c) -> caf::result<ok_atom> {
      auto& dir = *self->state.ctx->directory;
      caf::actor target = c.kind == "resource" ? dir.resource_actor(c.id) : dir.order(c.id);
      if (!target) return to_caf(ErrorKind::not_found, c.kind + " " + c.id + " is not running");
      caf::anon_send(target, crash_atom::value);
      return ok_atom::value;
    },
    [=](stats_atom) -> SupervisionStats { return stats_of(self); },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, std::shared_ptr<const actors::Context> ctx,
                            RestartPolicy policy) {
  return sys.spawn(supervisor, std::move(ctx), policy);
}

}  // namespace troupe::supervision
