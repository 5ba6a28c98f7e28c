#include "supervision/supervisor.hpp"

#include <functional>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/order_actor.hpp"
#include "actors/payment_pool.hpp"
#include "actors/records.hpp"
#include "actors/resource_actor.hpp"
#include "actors/store_actor.hpp"
#include "actors/subscriber.hpp"
#include "views/projections.hpp"

namespace troupe::supervision {
namespace {

using namespace troupe::actors;
using domain::ErrorKind;

enum class Kind { store, payments, resources, orders, subscribers };

const char* name_of(Kind k) {
  switch (k) {
    case Kind::store: return "store";
    case Kind::payments: return "payments";
    case Kind::resources: return "resources";
    case Kind::orders: return "orders";
    case Kind::subscribers: return "subscribers";
  }
  return "?";
}

/// Directory name of a supervisor ("store" and "payments" name the actors
/// they supervise).
const char* service_of(Kind k) {
  switch (k) {
    case Kind::store: return "store-supervisor";
    case Kind::payments: return "payments-supervisor";
    case Kind::resources: return "resources";
    case Kind::orders: return "orders";
    case Kind::subscribers: return "subscribers";
  }
  return "?";
}

std::string hex(std::uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 15]);
    v >>= 4;
  } while (v);
  return s;
}

// ---------------------------------------------------------------------------
// Per-kind supervisors

struct KindState {
  Kind kind = Kind::resources;
  std::shared_ptr<const Context> ctx;
  RestartIntensity intensity;
  std::unordered_map<caf::actor_addr, std::string> children;  ///< child -> business id
  std::string last_failure;
  std::map<std::string, domain::ResourceSpec> registering;    ///< resources only
  std::string id_prefix;                                       ///< orders only
  std::uint64_t next_order = 0;
  std::map<std::string, caf::actor> subscribers;              ///< subscribers only
  std::set<std::string> stopped;                              ///< subscribers stopped by a fault
  /// Orders being activated (their record is being read) -> who waits.
  std::map<std::string, std::vector<caf::response_promise>> activating;
  std::set<std::string> looking_up;  ///< keyed order ids whose record is being read
  /// What waits for a stopped order actor's down message (its request
  /// bounced before the down came): called with whether it stopped normally
  /// (passivated: its entry is gone by then) or failed (being restarted).
  std::unordered_map<caf::actor_addr, std::vector<std::function<void(bool)>>> after_down;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "kind-supervisor";

  /// Children are monitored, not linked: take them down with us, however we
  /// exit. (Not an attach_functor: CAF 0.17 destroys the state in on_exit,
  /// before attached functors run.)
  ~KindState() {
    if (kind == Kind::resources && ctx) ctx->directory->stop_resources();
    for (const auto& kv : children) caf::anon_send_exit(kv.first, caf::exit_reason::user_shutdown);
  }
};

using KindSup = caf::stateful_actor<KindState>;

bool start_resource(KindSup* self, const domain::ResourceSpec& spec,
                    const std::vector<records::Allocation>& allocs) {
  std::string err;
  auto a = spawn_resource_actor(self->system(), self->state.ctx, spec, allocs, err);
  if (!a) {
    spdlog::error("cannot start resource {}: {}", spec.id, err);
    return false;
  }
  self->monitor(a);
  self->state.children[a.address()] = spec.id;
  self->state.ctx->directory->put_resource(spec, a);
  return true;
}

caf::actor start_order(KindSup* self, domain::Order order,
                       std::chrono::milliseconds resume_after = std::chrono::milliseconds(0)) {
  const std::string id = order.id;
  auto a = spawn_order_actor(self, self->state.ctx, std::move(order), resume_after);
  self->state.children[a.address()] = id;
  self->state.ctx->directory->put_order(id, a);
  return a;
}

void start_subscriber(KindSup* self, const std::string& name) {
  auto& s = self->state;
  auto a = spawn_subscriber(self, s.ctx, name);
  s.children[a.address()] = name;
  s.subscribers[name] = a;
}

void start_service(KindSup* self) {
  auto& s = self->state;
  caf::actor a;
  if (s.kind == Kind::store)
    a = spawn_store_actor(self->system(), s.ctx->store_adapter, s.ctx->store_health, 4096,
                          s.ctx->event_retention, s.ctx->event_trim_every, s.ctx->event_trim_chunk,
                          s.ctx->store_nice);
  else
    a = spawn_payment_pool(self->system(), s.ctx->payments_options, s.ctx->gateway);
  self->monitor(a);
  s.children[a.address()] = name_of(s.kind);
  s.ctx->directory->set_service(name_of(s.kind), a);
}

/// Brings one child back, with its state from the store.
void restart_child(KindSup* self, const std::string& id) {
  auto& s = self->state;
  switch (s.kind) {
    case Kind::store:
    case Kind::payments:
      start_service(self);
      spdlog::info("{} restarted", name_of(s.kind));
      return;
    case Kind::subscribers:
      if (s.stopped.count(id)) return;
      start_subscriber(self, id);
      spdlog::info("subscriber {} restarted", id);
      return;
    case Kind::resources: {
      // (Its entry still names the dead actor, so no lookup activates one
      // behind this read.)
      auto found = s.ctx->directory->resource_spec(id);
      if (!found) return;
      auto spec = *found;
      self->request(s.ctx->store(), s.ctx->timeouts.store_write, StoreScanGroup{records::alloc_group(id)})
        .then(
          [=](std::vector<persistence::Record>& recs) {
            size_t corrupt = 0;
            const auto allocs = records::decode_allocs(recs, corrupt);
            if (corrupt) spdlog::error("resource {}: {} unreadable allocation records skipped", id, corrupt);
            if (start_resource(self, spec, allocs))
              spdlog::info("resource {} restarted with {} bookings", id, allocs.size());
          },
          [=](caf::error& e) {
            spdlog::error("restart of resource {}: store read failed ({}); retrying", id,
                          from_caf(e).detail);
            self->delayed_send(self, std::chrono::seconds(1), restart_atom::value, id);
          });
      return;
    }
    case Kind::orders:
      self->request(s.ctx->store(), s.ctx->timeouts.store_write, StoreGet{records::order_key(id)})
        .then(
          [=](StoreValue& v) {
            if (!v.found) {
              // It died before its confirmation was durable: nothing to bring
              // back — but it may have been charged. Once any confirmation it
              // sent is past its deadline, look again; still absent -> void.
              self->state.ctx->directory->remove_order(id, caf::actor_addr{});
              const auto& t = self->state.ctx->timeouts;
              self->delayed_send(self, t.actor_call + t.store_write + std::chrono::seconds(1),
                                 cancel_atom::value, id);
              return;
            }
            auto o = records::decode_order(v.value);
            if (!o) return;
            // A half-done order decides only once a confirmation it may have
            // sent before dying is past its deadline.
            const auto& t = self->state.ctx->timeouts;
            start_order(self, *o, t.actor_call + t.store_write + std::chrono::seconds(1));
            spdlog::info("order {} restarted as {}", id, o->status());
          },
          [=](caf::error& e) {
            spdlog::error("restart of order {}: store read failed ({}); retrying", id,
                          from_caf(e).detail);
            self->delayed_send(self, std::chrono::seconds(1), restart_atom::value, id);
          });
      return;
  }
}

/// One supervisor's line in the tree.
SupervisorView make_view(std::string name, std::string parent, const RestartIntensity& ri,
                         size_t children, std::string last_failure) {
  SupervisorView v;
  v.name = std::move(name);
  v.parent = std::move(parent);
  v.strategy = to_string(ri.policy().strategy);
  v.children = children;
  v.restarts = ri.total_restarts();
  v.max_restarts = ri.policy().max_restarts;
  v.window_ms = ri.policy().window.count();
  v.last_failure = std::move(last_failure);
  return v;
}

SupervisorView view_of(KindSup* self) {
  auto& s = self->state;
  return make_view(name_of(s.kind), "root", s.intensity, s.children.size(), s.last_failure);
}

/// Restores every resource's entry from the store: its spec only. Its actor
/// (with its bookings) is activated by the first lookup, so a cold start
/// does not read every allocation nor spawn an actor per resource.
void restore_resources(KindSup* self, caf::response_promise rp) {
  const auto t = self->state.ctx->timeouts.store_write * 20;
  self->request(self->state.ctx->store(), t, StoreScan{records::resource_prefix})
    .then(
      [=](std::vector<persistence::Record>& res_recs) mutable {
        std::uint64_t n = 0;
        for (const auto& r : res_recs) {
          auto spec = records::decode_resource(r.value);
          if (!spec) {
            spdlog::error("skipping corrupt record {}", r.key);
            continue;
          }
          self->state.ctx->directory->put_resource(*spec, caf::actor{});
          ++n;
        }
        rp.deliver(n);
      },
      [=](caf::error& e) mutable { rp.deliver(e); });
}

/// Installs how the directory activates a resource: its bookings read
/// from the store, its actor spawned and handed to this supervisor. (An
/// actor passivates only with nothing in flight, so the store has all its
/// writes; a crashed one is restarted through the store actor instead, see
/// restart_child, which orders the read behind writes still queued.)
void install_activator(KindSup* self) {
  // (Weak: the directory is part of the context; a strong capture would be
  // a cycle that keeps the store actor's handle alive past shutdown.)
  std::weak_ptr<const Context> weak = self->state.ctx;
  auto* sys = &self->system();
  const caf::actor_addr me = self->address();
  self->state.ctx->directory->set_activator([weak, sys, me](const domain::ResourceSpec& spec) -> caf::actor {
    auto ctx = weak.lock();
    if (!ctx) return {};
    auto recs = ctx->store_adapter->scan_group(records::alloc_group(spec.id));
    if (!recs) {
      spdlog::error("activation of resource {}: store read failed ({})", spec.id, recs.error().detail);
      return {};
    }
    size_t corrupt = 0;
    const auto allocs = records::decode_allocs(*recs, corrupt);
    if (corrupt) spdlog::error("resource {}: {} unreadable allocation records skipped", spec.id, corrupt);
    std::string err;
    auto a = spawn_resource_actor(*sys, ctx, spec, allocs, err);
    if (!a) {
      spdlog::error("cannot activate resource {}: {}", spec.id, err);
      return {};
    }
    caf::anon_send(caf::actor_cast<caf::actor>(me), adopt_atom::value, a, spec.id);
    return a;
  });
}

/// Restores the orders whose saga was unfinished (the open/ index; they are
/// compensated after `resume_after`, see spawn_order_actor). Orders at rest
/// are not started: the first command for one activates it.
void restore_orders(KindSup* self, caf::response_promise rp, std::chrono::milliseconds resume_after) {
  const auto t = self->state.ctx->timeouts.store_write * 20;
  self->request(self->state.ctx->store(), t, StoreScan{records::open_prefix})
    .then(
      [=](std::vector<persistence::Record>& recs) mutable {
        std::uint64_t n = 0;
        for (const auto& r : recs) {
          auto o = records::decode_order(r.value);
          if (!o) {
            spdlog::error("skipping corrupt record {}", r.key);
            continue;
          }
          start_order(self, std::move(*o), resume_after);
          ++n;
        }
        rp.deliver(n);
      },
      [=](caf::error& e) mutable { rp.deliver(e); });
}

/// Reads order `id`'s record for an order with no actor (the caller checked
/// the directory). Such an order has every write acknowledged — an order
/// stops only at rest with its writes durable, and a crashed one is named
/// by the directory until its restart — so nothing queued at the store
/// actor concerns it: when the adapter's reads run in parallel (the file
/// store) the record is read here; otherwise (Redis: one connection, a
/// read would block this thread) through the store actor — either way
/// without the early commit a store-actor read makes first.
template <class OnValue, class OnError>
void read_order_record(KindSup* self, const std::string& id, OnValue on_value, OnError on_error) {
  const auto& ctx = self->state.ctx;
  const auto key = records::order_key(id);
  if (ctx->store_adapter && ctx->store_adapter->reads_in_parallel()) {
    auto r = ctx->store_adapter->get(key);
    if (!r) {
      caf::error e = to_caf(r.error());
      return on_error(e);
    }
    StoreValue v;
    if (*r) {
      v.found = true;
      v.value = std::move(**r);
    }
    return on_value(v);
  }
  self->request(ctx->store(), ctx->timeouts.store_write, StoreGet{key, true}).then(on_value, on_error);
}

/// The actor of order `id`: the running one, or one spawned from its record
/// (an order passivated, or at rest since the last start). Concurrent
/// activations of one order share one store read and one actor.
void activate_order(KindSup* self, const std::string& id, caf::response_promise rp) {
  auto& s = self->state;
  if (auto a = s.ctx->directory->order(id)) return rp.deliver(a);
  auto& waiting = s.activating[id];
  waiting.push_back(rp);
  if (waiting.size() > 1) return;  // its read is under way
  auto finish = [self, id](const auto& answer) {
    auto it = self->state.activating.find(id);
    if (it == self->state.activating.end()) return;
    auto promises = std::move(it->second);
    self->state.activating.erase(it);
    for (auto& p : promises) p.deliver(answer);
  };
  read_order_record(self, id,
    [=](StoreValue& v) {
      if (auto a = self->state.ctx->directory->order(id)) return finish(a);
      if (!v.found) return finish(to_caf(ErrorKind::not_found, "order " + id + " does not exist"));
      auto o = records::decode_order(v.value);
      if (!o) return finish(to_caf(o.error()));
      // Not at rest without an actor: its restart is pending; decide only
      // once a confirmation it may have sent is past its deadline.
      const auto& t = self->state.ctx->timeouts;
      const auto resume = records::at_rest(*o)
                            ? std::chrono::milliseconds(0)
                            : t.actor_call + t.store_write + std::chrono::milliseconds(1000);
      finish(start_order(self, std::move(*o), resume));
    },
    [=](caf::error& e) { finish(e); });
}

/// Runs `then(stopped)` once order actor `gone`, which bounced a request,
/// is known to be gone: at once if its down message was handled (with
/// `true`: the caller checks the directory for a pending restart), else after.
/// The directory may name `gone` until then (or, failed, until its restart).
void when_gone(KindSup* self, const caf::actor_addr& gone, std::function<void(bool)> then) {
  auto& s = self->state;
  if (s.children.count(gone)) return s.after_down[gone].push_back(std::move(then));
  then(true);
}

/// The order actor `gone` is down: what waited for it goes on.
void go_on_after_down(KindSup* self, const caf::actor_addr& gone, bool stopped) {
  auto it = self->state.after_down.find(gone);
  if (it == self->state.after_down.end()) return;
  auto waiting = std::move(it->second);
  self->state.after_down.erase(it);
  for (auto& then : waiting) then(stopped);
}

/// 503 for an order whose actor failed and is being restarted.
caf::error order_restarting(const std::string& id) {
  return to_caf(ErrorKind::retry, "order " + id + " is restarting; retry");
}

/// Spawns the order actor for `p` (its id set) and hands it the request.
void place_new(KindSup* self, actors::PlaceOrder p, caf::response_promise rp) {
  auto spec = self->state.ctx->directory->resource_spec(p.resource_id);
  if (!spec)
    return rp.deliver(to_caf(ErrorKind::not_found, "resource " + p.resource_id + " does not exist"));
  auto order = domain::place(p.order_id, p.resource_id, p.customer_id, spec->mode,
                             domain::now_ms());
  order.quantity = p.quantity;
  order.start = p.start;
  order.end = p.end;
  order.destination = p.destination;
  auto a = start_order(self, std::move(order), std::chrono::milliseconds(0));
  rp.delegate(a, std::move(p));
}

/// PlaceOrder with an id derived from an Idempotency-Key (`base`): the
/// attempts are `base-0`, `base-1`, … . A confirmed (or since cancelled)
/// attempt answers — a retry whose answer was lost never books twice; one
/// still running is a conflict; rejected ones (a 503 or 402 is retryable)
/// make room for the next attempt.
void place_keyed(KindSup* self, actors::PlaceOrder p, std::string base, std::uint64_t attempt,
                 caf::response_promise rp);

/// 409 for a keyed attempt that is still running (or being looked up).
caf::error keyed_in_progress(const std::string& order_id) {
  auto e = domain::make_error(ErrorKind::conflict, "order " + order_id +
                                                     " (this Idempotency-Key) is still "
                                                     "being processed; retry");
  e.subject = order_id;
  return to_caf(e);
}

/// What an attempt `o` that exists already means for a keyed PlaceOrder.
void answer_keyed(KindSup* self, const domain::Order& o, actors::PlaceOrder p, std::string base,
                  std::uint64_t attempt, caf::response_promise rp) {
  using domain::OrderPhase;
  if (o.phase == OrderPhase::confirmed || o.phase == OrderPhase::cancelled) return rp.deliver(o);
  if (o.phase == OrderPhase::rejected) return place_keyed(self, p, base, attempt + 1, rp);
  rp.deliver(keyed_in_progress(o.id));
}

void place_keyed(KindSup* self, actors::PlaceOrder p, std::string base, std::uint64_t attempt,
                 caf::response_promise rp) {
  auto& s = self->state;
  p.order_id = base + "-" + hex(attempt);
  if (auto existing = s.ctx->directory->order(p.order_id)) {
    const auto addr = existing.address();
    self->request(existing, s.ctx->timeouts.actor_call, get_atom::value)
      .then([=](domain::Order& o) mutable { answer_keyed(self, o, p, base, attempt, rp); },
            [=](caf::error& e) mutable {
              if (e != caf::sec::request_receiver_down) return rp.deliver(e);
              // It stopped just then: passivated, its record answers.
              when_gone(self, addr, [=](bool stopped) mutable {
                if (!stopped || self->state.ctx->directory->order(p.order_id).address() == addr)
                  return rp.deliver(order_restarting(p.order_id));
                place_keyed(self, std::move(p), std::move(base), attempt, std::move(rp));
              });
            });
    return;
  }
  // No actor: the attempt may still exist at rest (passivated, or from
  // before a restart). Until its record is read, the id is reserved: a
  // concurrent retry with the same key is told to retry.
  if (!s.looking_up.insert(p.order_id).second) return rp.deliver(keyed_in_progress(p.order_id));
  read_order_record(self, p.order_id,
    [=](StoreValue& v) mutable {
      self->state.looking_up.erase(p.order_id);
      if (!v.found) {
        if (self->state.ctx->directory->order(p.order_id)) return place_keyed(self, p, base, attempt, rp);
        return place_new(self, std::move(p), rp);
      }
      auto o = records::decode_order(v.value);
      if (!o) return rp.deliver(to_caf(o.error()));
      answer_keyed(self, *o, p, base, attempt, rp);
    },
    [=](caf::error& e) mutable {
      self->state.looking_up.erase(p.order_id);
      rp.deliver(e);
    });
}

caf::behavior kind_supervisor(KindSup* self, Kind kind, std::shared_ptr<const Context> ctx,
                              RestartPolicy policy) {
  auto& s = self->state;
  s.kind = kind;
  s.ctx = std::move(ctx);
  s.intensity = RestartIntensity(policy);
  s.id_prefix = "o-" + hex(static_cast<std::uint64_t>(domain::now_ms())) + "-";
  if (kind == Kind::store || kind == Kind::payments) start_service(self);
  if (kind == Kind::subscribers)
    for (const auto& name : views::subscriber_names) start_subscriber(self, name);
  if (kind == Kind::resources) install_activator(self);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    auto it = s.children.find(dm.source);
    if (it == s.children.end()) return;
    const std::string id = it->second;
    s.children.erase(it);
    // A dead subscriber is not addressable until restarted (crash -> 404).
    if (auto sub = s.subscribers.find(id);
        sub != s.subscribers.end() && sub->second.address() == dm.source)
      s.subscribers.erase(sub);
    const bool stopped = !dm.reason || dm.reason == caf::exit_reason::normal;
    if (stopped && s.kind == Kind::orders) s.ctx->directory->remove_order(id, dm.source);
    go_on_after_down(self, dm.source, stopped);
    if (stopped) return;
    if (dm.reason == caf::exit_reason::user_shutdown || dm.reason == caf::exit_reason::kill)
      return;  // we (or the system) are going down
    s.last_failure = id + ": " + caf::to_string(dm.reason);
    auto d = s.intensity.on_failure(id, domain::now_ms());
    if (d.verdict == RestartIntensity::Verdict::escalate) {
      spdlog::error("supervisor {}: more than {} restarts in {} ms; escalating", name_of(s.kind),
                    s.intensity.policy().max_restarts, s.intensity.policy().window.count());
      self->quit(to_caf(ErrorKind::internal, std::string("restart intensity of ") +
                                                  name_of(s.kind) + " exceeded"));
      return;
    }
    spdlog::warn("supervisor {}: {} failed ({}); restarting in {} ms", name_of(s.kind), id,
                 caf::to_string(dm.reason), d.delay.count());
    if (d.delay.count() == 0)
      restart_child(self, id);
    else
      self->delayed_send(self, d.delay, restart_atom::value, id);
  });
  return {
    [=](restart_atom, const std::string& id) { restart_child(self, id); },
    [=](adopt_atom, caf::actor& a, const std::string& id) {
      // A resource actor the directory activated: ours to supervise.
      self->monitor(a);
      self->state.children[a.address()] = id;
    },
    [=](activate_atom, const std::string& id) -> caf::result<caf::actor> {
      if (self->state.kind != Kind::orders) return to_caf(ErrorKind::internal, "wrong supervisor");
      auto rp = self->make_response_promise();
      activate_order(self, id, rp);
      return rp;
    },
    [=](activate_atom, const std::string& id, const caf::actor_addr& gone) -> caf::result<caf::actor> {
      // `gone` bounced the caller's request: it stopped, though the
      // directory names it until its down message is handled here.
      auto& s = self->state;
      if (s.kind != Kind::orders) return to_caf(ErrorKind::internal, "wrong supervisor");
      auto rp = self->make_response_promise();
      when_gone(self, gone, [=](bool stopped) mutable {
        if (!stopped || self->state.ctx->directory->order(id).address() == gone)
          return rp.deliver(order_restarting(id));
        activate_order(self, id, rp);
      });
      return rp;
    },
    [=](cancel_atom, const std::string& order_id) {
      // The orphan check above: void the payment of an order that never
      // became durable (idempotent at the gateway; a capture is refunded).
      auto& s = self->state;
      self->request(s.ctx->store(), s.ctx->timeouts.store_write, StoreGet{records::order_key(order_id)})
        .then(
          [=](StoreValue& v) {
            if (v.found) {  // it did become durable after all: serve it
              if (auto o = records::decode_order(v.value)) start_order(self, *o);
              return;
            }
            spdlog::info("order {} died before it was confirmed; voiding its payment", order_id);
            self->request(self->state.ctx->payments(), std::chrono::seconds(2),
                          RefundRequest{domain::payment_id_for(order_id), 0, true})
              .then([](ok_atom) {},
                    [=](caf::error&) {
                      self->delayed_send(self, std::chrono::seconds(1), cancel_atom::value, order_id);
                    });
          },
          [=](caf::error&) {
            self->delayed_send(self, std::chrono::seconds(1), cancel_atom::value, order_id);
          });
    },
    [=](restore_atom, std::int64_t resume_after_ms) -> caf::result<std::uint64_t> {
      auto rp = self->make_response_promise();
      if (self->state.kind == Kind::resources)
        restore_resources(self, rp);
      else if (self->state.kind == Kind::orders)
        restore_orders(self, rp, std::chrono::milliseconds(resume_after_ms));
      else
        rp.deliver(std::uint64_t{0});
      return rp;
    },
    [=](stats_atom) -> SupervisorView { return view_of(self); },
    [=](crash_atom) -> ok_atom {
      throw std::runtime_error(std::string("crash injected into supervisor ") +
                               name_of(self->state.kind));
    },
    [=](RegisterResource& r) -> caf::result<RegisterResult> {
      auto& s = self->state;
      if (s.kind != Kind::resources) return to_caf(ErrorKind::internal, "wrong supervisor");
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
      self->request(s.ctx->store(), s.ctx->timeouts.store_write, std::move(w))
        .then(
          [=](ok_atom) mutable {
            self->state.registering.erase(spec.id);
            // Registered; its actor starts with the first booking.
            self->state.ctx->directory->put_resource(spec, caf::actor{});
            ResourceView v;
            v.spec = spec;
            v.available = spec.mode == domain::Mode::capacity ? spec.capacity : 0;
            rp.deliver(RegisterResult{v, true});
          },
          [=](caf::error& e) mutable {
            self->state.registering.erase(spec.id);
            auto de = from_caf(e);
            if (de.kind == ErrorKind::timeout || de.kind == ErrorKind::retry)
              de.kind = ErrorKind::store_unavailable;
            rp.deliver(to_caf(de));
          });
      return rp;
    },
    [=](PlaceOrder& p) -> caf::result<domain::Order> {
      auto& s = self->state;
      if (s.kind != Kind::orders) return to_caf(ErrorKind::internal, "wrong supervisor");
      if (!s.ctx->directory->has_resource(p.resource_id))
        return to_caf(ErrorKind::not_found, "resource " + p.resource_id + " does not exist");
      if (!p.order_id.empty()) {
        auto rp = self->make_response_promise();
        place_keyed(self, p, p.order_id, 0, rp);
        return rp;
      }
      p.order_id = s.id_prefix + hex(s.next_order++);
      auto rp = self->make_response_promise();
      place_new(self, std::move(p), rp);
      return rp;
    },
    [=](SubscriberControl& c) -> caf::result<ok_atom> {
      auto& s = self->state;
      if (s.kind != Kind::subscribers) return to_caf(ErrorKind::internal, "wrong supervisor");
      if (!views::is_subscriber(c.name))
        return to_caf(ErrorKind::not_found, "no subscriber named " + c.name);
      if (c.run) {
        if (!s.stopped.erase(c.name)) return ok_atom::value;  // running already
        start_subscriber(self, c.name);
        spdlog::warn("fault cleared: subscriber {} started again", c.name);
      } else {
        if (!s.stopped.insert(c.name).second) return ok_atom::value;
        auto it = s.subscribers.find(c.name);
        if (it != s.subscribers.end()) {
          s.children.erase(it->second.address());
          caf::anon_send_exit(it->second, caf::exit_reason::user_shutdown);
          s.subscribers.erase(it);
        }
        s.ctx->subscribers->update(c.name, [](SubscriberStatus& st) { st.running = false; });
        spdlog::warn("fault: subscriber {} stopped", c.name);
      }
      return ok_atom::value;
    },
    [=](subscribers_atom) -> std::vector<std::string> {
      return {self->state.stopped.begin(), self->state.stopped.end()};
    },
    [=](CrashActor& c) -> caf::result<ok_atom> {
      auto& dir = *self->state.ctx->directory;
      caf::actor target;
      if (c.kind == "subscriber") {
        auto it = self->state.subscribers.find(c.id);
        if (it != self->state.subscribers.end()) target = it->second;
      } else {
        target = c.kind == "resource" ? dir.resource_actor(c.id) : dir.order(c.id);
      }
      // An order at rest has no actor (it passivated): it is activated from
      // its record first, so the crash and the restart happen all the same.
      if (!target && c.kind == "order" && self->state.kind == Kind::orders) {
        auto rp = self->make_response_promise();
        const std::string id = c.id;
        self->request(caf::actor_cast<caf::actor>(self), self->state.ctx->timeouts.store_write * 2,
                      activate_atom::value, id)
          .then(
            [=](caf::actor& a) mutable {
              spdlog::warn("fault: crashing order {} (activated from its record)", id);
              caf::anon_send(a, crash_atom::value);
              rp.deliver(ok_atom::value);
            },
            [=](caf::error& e) mutable { rp.deliver(e); });
        return rp;
      }
      if (!target) return to_caf(ErrorKind::not_found, c.kind + " " + c.id + " is not running");
      spdlog::warn("fault: crashing {} {}", c.kind, c.id);
      caf::anon_send(target, crash_atom::value);
      return ok_atom::value;
    },
    [=](CrashRandom& c) -> std::uint32_t {
      auto& s = self->state;
      std::vector<caf::actor_addr> pool;
      for (const auto& kv : s.children) pool.push_back(kv.first);
      std::shuffle(pool.begin(), pool.end(), s.rng);
      std::uint32_t n = 0;
      for (const auto& addr : pool) {
        if (n == c.count) break;
        if (auto a = caf::actor_cast<caf::actor>(addr)) {
          caf::anon_send(a, crash_atom::value);
          ++n;
        }
      }
      spdlog::warn("fault: crashing {} random {}", n, name_of(s.kind));
      return n;
    },
  };
}

// ---------------------------------------------------------------------------
// The root

struct RootState {
  std::shared_ptr<const Context> ctx;
  SupervisionConfig config;
  RestartIntensity intensity;
  std::map<caf::actor_addr, Kind> kids;
  std::map<Kind, std::uint64_t> escalations;
  std::map<Kind, std::string> last_escalation;
  bool restored = false;
  std::string last_failure;
  static inline const char* name = "root-supervisor";

  ~RootState() {
    for (const auto& kv : kids) caf::anon_send_exit(kv.first, caf::exit_reason::user_shutdown);
  }
};

using Root = caf::stateful_actor<RootState>;

const RestartPolicy& policy_for(const SupervisionConfig& c, Kind k) {
  switch (k) {
    case Kind::store: return c.store;
    case Kind::payments: return c.payments;
    case Kind::resources: return c.resources;
    case Kind::orders: return c.orders;
    case Kind::subscribers: return c.subscribers;
  }
  return c.resources;
}

caf::actor start_kind(Root* self, Kind k) {
  auto& s = self->state;
  auto a = self->spawn<caf::monitored>(kind_supervisor, k, s.ctx, policy_for(s.config, k));
  s.kids[a.address()] = k;
  s.ctx->directory->set_service(service_of(k), a);
  return a;
}

void collect_tree(Root* self, std::function<void(std::vector<SupervisorView>&)> done) {
  auto& s = self->state;
  auto views = std::make_shared<std::vector<SupervisorView>>();
  views->push_back(make_view("root", "", s.intensity, s.kids.size(), s.last_failure));
  auto pending = std::make_shared<size_t>(s.kids.size());
  if (*pending == 0) return done(*views);
  for (const auto& kv : s.kids) {
    const Kind k = kv.second;
    auto finish = [=]() mutable {
      if (--*pending == 0) done(*views);
    };
    self->request(caf::actor_cast<caf::actor>(kv.first), std::chrono::seconds(2), stats_atom::value)
      .then(
        [=](SupervisorView& v) mutable {
          v.escalations = self->state.escalations[k];
          if (v.last_failure.empty()) v.last_failure = self->state.last_escalation[k];
          views->push_back(v);
          finish();
        },
        [=](caf::error&) mutable {
          SupervisorView v;
          v.name = name_of(k);
          v.parent = "root";
          v.last_failure = "not answering";
          views->push_back(v);
          finish();
        });
  }
}

caf::behavior root_supervisor(Root* self, std::shared_ptr<const Context> ctx,
                              SupervisionConfig config) {
  auto& s = self->state;
  s.ctx = std::move(ctx);
  s.config = std::move(config);
  s.intensity = RestartIntensity(s.config.root);
  s.ctx->directory->set_service("root", self);
  for (Kind k : {Kind::store, Kind::payments, Kind::resources, Kind::orders, Kind::subscribers})
    start_kind(self, k);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    auto it = s.kids.find(dm.source);
    if (it == s.kids.end()) return;
    const Kind k = it->second;
    s.kids.erase(it);
    if (!dm.reason || dm.reason == caf::exit_reason::normal ||
        dm.reason == caf::exit_reason::user_shutdown || dm.reason == caf::exit_reason::kill)
      return;
    s.escalations[k]++;
    s.last_escalation[k] = caf::to_string(dm.reason);
    s.last_failure = std::string(name_of(k)) + ": " + caf::to_string(dm.reason);
    auto d = s.intensity.on_failure(name_of(k), domain::now_ms());
    if (d.verdict == RestartIntensity::Verdict::escalate) {
      spdlog::critical("root supervisor: restart intensity exceeded ({}); giving up",
                       s.last_failure);
      if (s.config.on_give_up) s.config.on_give_up();
      self->quit(to_caf(ErrorKind::internal, "root restart intensity exceeded"));
      return;
    }
    spdlog::warn("root supervisor: {} failed ({}); restarting it with its children",
                 name_of(k), caf::to_string(dm.reason));
    if (k == Kind::orders) s.ctx->directory->clear_orders();
    auto a = start_kind(self, k);
    if (s.restored && (k == Kind::resources || k == Kind::orders))
      self->request(a, s.ctx->timeouts.store_write * 20, restore_atom::value,
                    static_cast<std::int64_t>((s.ctx->timeouts.actor_call + s.ctx->timeouts.store_write +
                                               std::chrono::seconds(1)).count()))
        .then([=](std::uint64_t n) { spdlog::info("{} restored {} children", name_of(k), n); },
              [=](caf::error& e) {
                spdlog::error("{} restore failed: {}", name_of(k), caf::to_string(e));
              });
  });
  return {
    [=](restore_atom) -> caf::result<SupervisionStats> {
      auto rp = self->make_response_promise();
      auto dir = self->state.ctx->directory;
      const auto t = self->state.ctx->timeouts.store_write * 40;
      // Children may start lazily: one round trip to each service supervisor
      // guarantees the store actor and the payment pool exist before use.
      self->request(dir->service(service_of(Kind::store)), t, stats_atom::value)
        .then(
          [=](SupervisorView&) mutable {
      self->request(dir->service(service_of(Kind::payments)), t, stats_atom::value)
        .then(
          [=](SupervisorView&) mutable {
      self->request(dir->service("resources"), t, restore_atom::value, std::int64_t{0})
        .then(
          [=](std::uint64_t) mutable {
            self->request(dir->service("orders"), t, restore_atom::value, std::int64_t{0})
              .then(
                [=](std::uint64_t) mutable {
                  self->state.restored = true;
                  SupervisionStats st;
                  st.resources = dir->resource_count();
                  st.orders = dir->order_count();
                  rp.deliver(st);
                },
                [=](caf::error& e) mutable { rp.deliver(e); });
          },
          [=](caf::error& e) mutable { rp.deliver(e); });
          },
          [=](caf::error& e) mutable { rp.deliver(e); });
          },
          [=](caf::error& e) mutable { rp.deliver(e); });
      return rp;
    },
    [=](tree_atom) -> caf::result<std::vector<SupervisorView>> {
      auto rp = self->make_response_promise();
      collect_tree(self, [rp](std::vector<SupervisorView>& views) mutable { rp.deliver(views); });
      return rp;
    },
    [=](stats_atom) -> caf::result<SupervisionStats> {
      auto rp = self->make_response_promise();
      auto dir = self->state.ctx->directory;
      collect_tree(self, [rp, dir](std::vector<SupervisorView>& views) mutable {
        SupervisionStats st;
        st.resources = dir->resource_count();
        st.orders = dir->order_count();
        for (const auto& v : views) {
          st.restarts += v.restarts;
          if (!v.last_failure.empty()) st.last_failure = v.last_failure;
        }
        rp.deliver(st);
      });
      return rp;
    },
    // The root is also the tree's front door: it hands work to the right
    // supervisor (one hop; the HTTP bridge goes to them directly).
    [=](RegisterResource& r) -> caf::result<RegisterResult> {
      self->delegate(self->state.ctx->directory->service("resources"), std::move(r));
      return caf::delegated<RegisterResult>{};
    },
    [=](PlaceOrder& p) -> caf::result<domain::Order> {
      self->delegate(self->state.ctx->directory->service("orders"), std::move(p));
      return caf::delegated<domain::Order>{};
    },
    [=](CrashActor& c) -> caf::result<ok_atom> {
      if (c.kind == "resource" || c.kind == "order" || c.kind == "subscriber") {
        const char* sup = c.kind == "resource" ? "resources"
                          : c.kind == "order"  ? "orders"
                                               : "subscribers";
        self->delegate(self->state.ctx->directory->service(sup), std::move(c));
        return caf::delegated<ok_atom>{};
      }
      if (c.kind != "supervisor") return to_caf(ErrorKind::invalid_input, "unknown kind " + c.kind);
      caf::actor a;
      for (const auto& kv : self->state.kids)
        if (name_of(kv.second) == c.id) a = caf::actor_cast<caf::actor>(kv.first);
      if (!a) return to_caf(ErrorKind::not_found, "no supervisor named " + c.id);
      spdlog::warn("fault: crashing supervisor {}", c.id);
      caf::anon_send(a, crash_atom::value);
      return ok_atom::value;
    },
  };
}

}  // namespace

caf::actor spawn_supervision_tree(caf::actor_system& sys, std::shared_ptr<const actors::Context> ctx,
                                  SupervisionConfig config) {
  return sys.spawn(root_supervisor, std::move(ctx), std::move(config));
}

}  // namespace troupe::supervision
