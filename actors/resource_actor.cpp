#include "actors/resource_actor.hpp"

#include <map>
#include <optional>
#include <stdexcept>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "domain/calendar_book.hpp"
#include "domain/capacity_book.hpp"

namespace troupe::actors {
namespace {

using domain::ErrorKind;

struct ResourceState {
  std::shared_ptr<const Context> ctx;
  domain::ResourceSpec spec;
  domain::CapacityBook capacity;
  domain::CalendarBook calendar;
  /// Order actors holding something here, so a dead one's hold is freed.
  std::map<caf::actor_addr, std::string> holders;
  /// Answers still owed (durable writes in flight), by order id.
  std::map<std::string, caf::response_promise> owed;
  /// Writes whose outcome is unknown (the store failed or timed out), with
  /// the order as it was to be stored. Their units stay taken until a store
  /// read tells what happened — never resold on a guess.
  std::map<std::string, domain::Order> in_doubt;
  bool resolving = false;
  /// When the last command came (an idle resource passivates).
  std::chrono::steady_clock::time_point last_command = std::chrono::steady_clock::now();
  static inline const char* name = "resource";

  /// However the actor ends (crash, shutdown), every caller gets an answer.
  ~ResourceState() {
    for (auto& kv : owed)
      kv.second.deliver(to_caf(ErrorKind::retry, "resource " + spec.id + " stopped; retry"));
  }
};

using ResourceActor = caf::stateful_actor<ResourceState>;

bool holds(const ResourceState& st, const std::string& order_id) {
  return st.spec.mode == domain::Mode::capacity ? st.capacity.holds(order_id)
                                                : st.calendar.holds(order_id);
}

bool is_confirmed(const ResourceState& st, const std::string& order_id) {
  return st.spec.mode == domain::Mode::capacity ? st.capacity.is_confirmed(order_id)
                                                : st.calendar.is_confirmed(order_id);
}

void forget_holder(ResourceActor* self, const std::string& order_id) {
  for (auto it = self->state.holders.begin(); it != self->state.holders.end(); ++it) {
    if (it->second == order_id) {
      self->demonitor(it->first);
      self->state.holders.erase(it);
      return;
    }
  }
}

void release(ResourceState& st, const std::string& order_id) {
  if (st.spec.mode == domain::Mode::capacity)
    st.capacity.release(order_id);
  else
    st.calendar.release(order_id);
}

/// A request past its deadline (the order actor stopped waiting and will
/// read the store instead) is refused, so nothing lands behind its back.
std::optional<caf::error> too_late(domain::Timestamp deadline, const char* what,
                                   const std::string& order_id) {
  if (deadline == 0 || domain::now_ms() <= deadline) return std::nullopt;
  return to_caf(ErrorKind::retry, std::string(what) + " of order " + order_id + " arrived too late");
}

/// Makes a hold final in whichever book the resource keeps.
domain::Status confirm(ResourceState& st, const std::string& order_id) {
  return st.spec.mode == domain::Mode::capacity ? st.capacity.confirm(order_id)
                                                : st.calendar.confirm(order_id);
}

void schedule_resolve(ResourceActor* self) {
  if (self->state.resolving || self->state.in_doubt.empty()) return;
  self->state.resolving = true;
  self->delayed_send(self, std::chrono::milliseconds(500), tick_atom::value);
}

/// Asks the store (through the store actor, so after every queued write)
/// what became of each in-doubt write, and settles the book accordingly.
void resolve_in_doubt(ResourceActor* self) {
  self->state.resolving = false;
  for (const auto& kv : self->state.in_doubt) {
    const std::string oid = kv.first;
    timed_request(self, self->state.ctx->store(), self->state.ctx->timeouts.store_write,
                  StoreGet{records::order_key(oid)})
      .then(
        [=](StoreValue& v) {
          auto& s = self->state;
          auto it = s.in_doubt.find(oid);
          if (it == s.in_doubt.end()) return;
          std::optional<domain::Order> stored_order;
          if (v.found)
            if (auto o = records::decode_order(v.value)) stored_order = *o;
          const auto stored =
            stored_order ? stored_order->phase : domain::OrderPhase::rejected;
          if (stored_order && domain::occupies(*stored_order, s.spec)) {
            if (holds(s, oid) && !is_confirmed(s, oid)) confirm(s, oid);
          } else if (holds(s, oid)) {
            release(s, oid);  // never confirmed, or cancelled
          }
          spdlog::info("resource {}: in-doubt order {} resolved as {}", s.spec.id, oid,
                       v.found ? domain::to_string(stored) : "absent");
          forget_holder(self, oid);
          s.in_doubt.erase(it);
        },
        [=](caf::error&) { schedule_resolve(self); });
  }
}

/// A durable write failed: answer the error, keep the units, find out later.
void write_failed(ResourceActor* self, const domain::Order& attempted, caf::error& err) {
  auto& s = self->state;
  auto owed = s.owed.find(attempted.id);
  if (owed == s.owed.end()) return;
  auto e = from_caf(err);
  if (e.kind == ErrorKind::timeout || e.kind == ErrorKind::retry)
    e.kind = ErrorKind::store_unavailable;
  e.subject = attempted.id;
  owed->second.deliver(to_caf(e));
  s.owed.erase(owed);
  s.in_doubt[attempted.id] = attempted;
  schedule_resolve(self);
}

/// Writes `batch` (the order's new record and its allocation change) and,
/// once durable, applies `apply` to the book and answers the order. While
/// the write runs the units stay taken; if it fails they stay taken until the
/// store tells the outcome (write_failed).
template <class Apply>
caf::result<domain::Order> write_durably(ResourceActor* self, const domain::Order& order,
                                         persistence::Batch batch, Apply apply) {
  auto& s = self->state;
  const std::string oid = order.id;
  if (s.owed.count(oid)) return to_caf(ErrorKind::conflict, "order " + oid + " is being written");
  if (s.in_doubt.count(oid))
    return to_caf(ErrorKind::store_unavailable, "order " + oid + " awaits the store; retry");
  auto rp = self->make_response_promise();
  s.owed.emplace(oid, rp);
  StoreWrite w;
  w.batches.push_back(std::move(batch));
  // Shared by the two handlers: CAF copies a handler several times while
  // setting it up, and an Order copy each time was ~15 copies per order.
  auto kept = std::make_shared<const domain::Order>(order);
  timed_request(self, s.ctx->store(), s.ctx->timeouts.store_write, std::move(w))
    .then(
      [=](ok_atom) {
        const domain::Order& order = *kept;
        auto& st = self->state;
        auto owed = st.owed.find(oid);
        if (owed == st.owed.end()) return;
        auto applied = apply(st, oid);
        forget_holder(self, oid);
        if (!applied)
          owed->second.deliver(to_caf(applied.error()));
        else
          owed->second.deliver(order);
        st.owed.erase(owed);
      },
      [=](caf::error& err) { write_failed(self, *kept, err); });
  return rp;
}

ResourceView view_of(const ResourceState& st) {
  ResourceView v;
  v.spec = st.spec;
  if (st.spec.mode == domain::Mode::capacity) {
    v.available = st.capacity.available();
    v.held = st.capacity.held();
  } else if (st.spec.mode == domain::Mode::calendar) {
    v.bookings = st.calendar.bookings();
  }
  return v;
}

caf::behavior resource_actor(ResourceActor* self, std::shared_ptr<const Context> ctx,
                             domain::ResourceSpec spec, domain::CapacityBook capacity,
                             domain::CalendarBook calendar) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.spec = std::move(spec);
  st.capacity = std::move(capacity);
  st.calendar = std::move(calendar);
  if (st.ctx->resource_idle.count() > 0)
    send_later(self, st.ctx->resource_idle, passivate_atom::value);
  self->set_exception_handler([](caf::scheduled_actor* ptr, std::exception_ptr& e) -> caf::error {
    auto* me = static_cast<ResourceActor*>(ptr);
    std::string what = "unknown";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    spdlog::warn("resource {} crashed: {}", me->state.spec.id, what);
    for (auto& kv : me->state.owed)
      kv.second.deliver(to_caf(ErrorKind::retry, "resource " + me->state.spec.id +
                                                     " restarted while handling the request"));
    me->state.owed.clear();
    return caf::sec::runtime_error;
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto it = self->state.holders.find(dm.source);
    if (it == self->state.holders.end()) return;
    const std::string order_id = it->second;
    self->state.holders.erase(it);
    // A confirmed booking is durable and stays; only a tentative hold goes.
    auto& s = self->state;
    if (!is_confirmed(s, order_id) && !s.owed.count(order_id) && !s.in_doubt.count(order_id)) {
      release(s, order_id);
      spdlog::info("resource {}: released hold of stopped order {}", s.spec.id, order_id);
    }
  });
  return {
    [=](HoldRequest& h) -> caf::result<domain::Money> {
      self->state.last_command = std::chrono::steady_clock::now();
      auto& s = self->state;
      domain::Result<domain::Money> amount = domain::Money{0};
      domain::Status held = domain::ok_status();
      switch (s.spec.mode) {
        case domain::Mode::capacity:
          amount = domain::capacity_amount(s.spec, h.quantity);
          if (!amount) return to_caf(amount.error());
          held = s.capacity.hold(h.order_id, h.quantity);
          break;
        case domain::Mode::calendar:
          amount = domain::calendar_amount(s.spec, h.start, h.end);
          if (!amount) return to_caf(amount.error());
          held = s.calendar.hold(h.order_id, h.start, h.end);
          break;
        case domain::Mode::dispatch:
          // A delivery zone takes every call; its amount is the fee.
          if (h.fee < 1 || h.fee > domain::max_price)
            return to_caf(ErrorKind::invalid_input,
                          "fee must be between 1 and " + std::to_string(domain::max_price));
          return h.fee;
      }
      if (!held) return to_caf(held.error());
      auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (sender) {
        self->monitor(caf::actor_cast<caf::actor>(self->current_sender()));
        s.holders[sender] = h.order_id;
      }
      return *amount;
    },
    [=](ConfirmHold& c) -> caf::result<domain::Order> {
      self->state.last_command = std::chrono::steady_clock::now();
      auto& s = self->state;
      const std::string oid = c.order.id;
      if (s.spec.mode == domain::Mode::dispatch) {
        // A call occupies nothing at its zone: the order record is all.
        if (auto late = too_late(c.deadline, "confirmation", oid)) return *late;
        return write_durably(self, c.order, records::order_change(c.before, c.order),
                             [](ResourceState&, const std::string&) { return domain::ok_status(); });
      }
      if (!holds(s, oid))
        return to_caf(ErrorKind::retry, "the hold of order " + oid + " was lost (resource restarted)");
      if (auto late = too_late(c.deadline, "confirmation", oid)) return *late;
      auto batch = records::order_change(c.before, c.order);
      batch.push_back(records::put_alloc(c.order));
      return write_durably(self, c.order, std::move(batch),
                           [](ResourceState& st, const std::string& id) { return confirm(st, id); });
    },
    [=](ReleaseHold& r) -> ok_atom {
      self->state.last_command = std::chrono::steady_clock::now();
      auto& s = self->state;
      if (holds(s, r.order_id) && !is_confirmed(s, r.order_id) && !s.owed.count(r.order_id) &&
          !s.in_doubt.count(r.order_id))
        release(s, r.order_id);
      forget_holder(self, r.order_id);
      return ok_atom::value;
    },
    [=](CancelBooking& c) -> caf::result<domain::Order> {
      self->state.last_command = std::chrono::steady_clock::now();
      auto& s = self->state;
      const std::string oid = c.order.id;
      if (s.spec.mode == domain::Mode::dispatch) {
        if (auto late = too_late(c.deadline, "cancellation", oid)) return *late;
        return write_durably(self, c.order, records::order_change(c.before, c.order),
                             [](ResourceState&, const std::string&) { return domain::ok_status(); });
      }
      if (!holds(s, oid))
        return to_caf(ErrorKind::conflict, "order " + oid + " has no booking at " + s.spec.id);
      if (auto late = too_late(c.deadline, "cancellation", oid)) return *late;
      auto batch = records::order_change(c.before, c.order);
      batch.push_back(records::erase_alloc(c.order));
      return write_durably(self, c.order, std::move(batch),
                           [](ResourceState& st, const std::string& id) {
                             release(st, id);
                             return domain::ok_status();
                           });
    },
    [=](StepBooking& c) -> caf::result<domain::Order> {
      self->state.last_command = std::chrono::steady_clock::now();
      auto& s = self->state;
      const std::string oid = c.order.id;
      if (s.spec.mode != domain::Mode::dispatch && (!holds(s, oid) || !is_confirmed(s, oid)))
        return to_caf(ErrorKind::conflict, "order " + oid + " has no booking at " + s.spec.id);
      if (auto late = too_late(c.deadline, "step", oid)) return *late;
      auto batch = records::order_change(c.before, c.order);
      if (!c.frees)
        return write_durably(self, c.order, std::move(batch),
                             [](ResourceState&, const std::string&) { return domain::ok_status(); });
      batch.push_back(records::erase_alloc(c.order));
      batch.push_back(records::released_event(c.order));
      return write_durably(self, c.order, std::move(batch),
                           [](ResourceState& st, const std::string& id) {
                             release(st, id);
                             return domain::ok_status();
                           });
    },
    [=](RiderAssign& a) -> caf::result<domain::Order> {
      self->state.last_command = std::chrono::steady_clock::now();
      auto& s = self->state;
      const std::string oid = a.order.id;
      if (s.spec.mode != domain::Mode::capacity)
        return to_caf(ErrorKind::invalid_input, s.spec.id + " is not a rider (a capacity resource)");
      if (auto late = too_late(a.deadline, "assignment", oid)) return *late;
      if (holds(s, oid))
        return to_caf(ErrorKind::conflict, "order " + oid + " is already with " + s.spec.id);
      if (auto held = s.capacity.hold(oid, 1); !held)
        return to_caf(ErrorKind::unavailable, "rider " + s.spec.id + " is on another delivery");
      auto batch = records::order_change(a.before, a.order);
      batch.push_back(records::put_rider_alloc(a.order));
      return write_durably(self, a.order, std::move(batch),
                           [](ResourceState& st, const std::string& id) {
                             return st.capacity.confirm(id);
                           });
    },
    [=](RiderRelease& r) -> caf::result<domain::Order> {
      self->state.last_command = std::chrono::steady_clock::now();
      const std::string oid = r.order.id;
      if (auto late = too_late(r.deadline, "release", oid)) return *late;
      auto batch = records::order_change(r.before, r.order);
      batch.push_back(records::erase_rider_alloc(r.order));
      return write_durably(self, r.order, std::move(batch),
                           [](ResourceState& st, const std::string& id) {
                             if (holds(st, id)) release(st, id);
                             return domain::ok_status();
                           });
    },
    [=](get_atom) -> ResourceView {
      self->state.last_command = std::chrono::steady_clock::now();
      return view_of(self->state);
    },
    [=](passivate_atom) {
      // Idle (nothing held, owed or in doubt, no command for a while): stop;
      // the directory activates it again from the store when it is needed.
      // Not while a message waits in the mailbox: it would bounce, and be
      // sent again to the next activation, which under load could meet its
      // own passivation timer first (twice, and the request failed).
      auto& st = self->state;
      const auto idle = std::chrono::steady_clock::now() - st.last_command;
      if (idle >= st.ctx->resource_idle && st.capacity.held() == 0 && !st.calendar.has_holds() &&
          st.owed.empty() && st.in_doubt.empty() && st.holders.empty() && !st.resolving &&
          self->mailbox().empty()) {
        st.ctx->directory->passivate_resource(st.spec.id, self->address());
        return self->quit();  // normal exit
      }
      send_later(self, st.ctx->resource_idle, passivate_atom::value);
    },
    [=](tick_atom) { resolve_in_doubt(self); },
    [=](crash_atom) -> ok_atom {
      throw std::runtime_error("crash injected into resource " + self->state.spec.id);
    },
  };
}

}  // namespace

caf::actor spawn_resource_actor(caf::actor_system& sys, std::shared_ptr<const Context> ctx,
                                domain::ResourceSpec spec,
                                const std::vector<records::Allocation>& allocs,
                                std::string& error) {
  domain::CapacityBook capacity(spec.mode == domain::Mode::capacity ? spec.capacity : 0);
  domain::CalendarBook calendar;
  for (const auto& a : allocs) {
    auto st = spec.mode == domain::Mode::capacity
                ? capacity.restore_confirmed(a.order_id, a.quantity)
                : calendar.restore_confirmed(a.order_id, a.start, a.end);
    if (!st) {
      error = "resource " + spec.id + ": " + st.error().detail;
      return {};
    }
  }
  return sys.spawn(resource_actor, std::move(ctx), std::move(spec), std::move(capacity),
                   std::move(calendar));
}

}  // namespace troupe::actors
