#include "actors/order_actor.hpp"

#include <optional>
#include <stdexcept>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/records.hpp"

namespace troupe::actors {
namespace {

using domain::ErrorKind;
using domain::OrderPhase;
using domain::PaymentStatus;

struct OrderState {
  std::shared_ptr<const Context> ctx;
  domain::Order order;
  /// The order as last made durable (empty histories: never stored). The
  /// events of a write are the difference between it and the new version.
  domain::Order durable;
  bool busy = false;             ///< a saga step or a cancellation is running
  caf::response_promise owed;    ///< the answer the running step owes
  bool owes = false;
  /// A durable write's outcome is unknown: the client got a 503 and the
  /// store will tell (polled) whether the order was confirmed / cancelled.
  bool in_doubt = false;
  bool settling = false;         ///< a store read deciding the outcome is running
  bool unstored = false;         ///< the rejection still has to become durable
  bool resuming = false;         ///< restored half-done: deciding what to undo
  bool adopting = false;         ///< a step's outcome is unknown: adopt the record
  domain::Error rejection;       ///< answered once the rejection is stored
  int refunds_pending = 0;       ///< money going back, not yet confirmed by the pool
  /// When the last command came (passivation waits until it is idle long enough).
  std::chrono::steady_clock::time_point last_command = std::chrono::steady_clock::now();
  /// A command came. An activation is for a command: it does not stop at
  /// rest before that command came (e.g. when a refund it says again is
  /// acknowledged first), or the command would bounce.
  bool commanded = false;
  static inline const char* name = "order";

  /// A command came (place, read, cancel, step).
  void command_came() {
    last_command = std::chrono::steady_clock::now();
    commanded = true;
  }

  /// However the actor ends (crash, shutdown), the caller gets an answer.
  ~OrderState() {
    if (owes) owed.deliver(to_caf(ErrorKind::retry, "order " + order.id + " stopped; retry"));
  }
};

using OrderActor = caf::stateful_actor<OrderState>;

/// Nothing to finish and nothing owed: the actor may stop (record kept).
bool may_passivate(const OrderState& s) {
  return records::at_rest(s.order) && s.order.phase == s.durable.phase && !s.busy && !s.owes &&
         !s.in_doubt && !s.settling && !s.unstored && !s.resuming && !s.adopting &&
         s.refunds_pending == 0;
}

/// How often an order that passivates at once (order_idle 0) checks again
/// when it came to rest with something still pending (a refund, a read).
constexpr std::chrono::milliseconds rest_recheck{1000};

/// When the passivation timer looks again.
std::chrono::milliseconds passivation_check(const OrderState& s) {
  return s.ctx->order_idle.count() == 0 ? rest_recheck : s.ctx->order_idle;
}

/// May stop now: nothing pending, and no message waiting (it would bounce;
/// see the resource's passivation).
bool may_stop_now(OrderActor* self) { return may_passivate(self->state) && self->mailbox().empty(); }

/// With order_idle 0 an order stops as soon as it comes to rest: its record
/// answers reads, the next command activates it. Called where a step ends;
/// the passivation timer covers every other way to rest.
void stop_if_at_rest(OrderActor* self) {
  const auto& s = self->state;
  if (s.ctx->order_idle.count() == 0 && s.commanded && may_stop_now(self)) self->quit();
}

void answer(OrderActor* self, const domain::Order& o) {
  auto& s = self->state;
  s.busy = false;
  if (s.owes) {
    s.owes = false;
    s.owed.deliver(o);
  }
  stop_if_at_rest(self);
}

void answer_error(OrderActor* self, domain::Error e) {
  auto& s = self->state;
  s.busy = false;
  if (s.owes) {
    s.owes = false;
    s.owed.deliver(to_caf(e));
  }
  stop_if_at_rest(self);
}

/// Gives money back (refund, or void when `void_only`) until the payment
/// pool confirms: the gateway's operations are idempotent, so retrying is
/// safe, and a pool being restarted must not swallow a refund. It counts as
/// pending across a retry's delay, so the order does not passivate before.
void money_back(OrderActor* self, RefundRequest r) {
  ++self->state.refunds_pending;
  timed_request(self, self->state.ctx->payments(), std::chrono::seconds(2), r)
    .then(
      [=](ok_atom) {
        --self->state.refunds_pending;
        stop_if_at_rest(self);
      },
      [=](caf::error&) {
        self->delayed_send(self, std::chrono::milliseconds(500), retry_refund_atom::value, r);
      });
}

/// Requests `msg` of resource `id`'s actor `actor`. A request the actor
/// bounced (it passivated as the request came, so nothing was done) goes
/// again, to its next activation, at most `resends` times; a crashed
/// actor's entry names it until its restart, so that error is told as it is.
template <class Msg, class OnOk, class OnError>
void ask_resource(OrderActor* self, const std::string& id, const caf::actor& actor,
                  std::chrono::milliseconds timeout, Msg msg, OnOk on_ok, OnError on_error,
                  int resends = 2) {
  timed_request(self, actor, timeout, msg)
    .then(on_ok, [=](caf::error& err) mutable {
      if (err == caf::sec::request_receiver_down && resends > 0)
        if (auto next = self->state.ctx->directory->resource_actor(id); next && next != actor)
          return ask_resource(self, id, next, timeout, std::move(msg), std::move(on_ok),
                              std::move(on_error), resends - 1);
      on_error(err);
    });
}

void release_hold(OrderActor* self) {
  auto& s = self->state;
  if (auto res = s.ctx->directory->resource_actor(s.order.resource_id))
    timed_request(self, res, s.ctx->timeouts.actor_call, ReleaseHold{s.order.id})
      .then([](ok_atom) {}, [](caf::error&) { /* the resource frees holds of dead orders */ });
}

/// Ends the saga without a booking: the order is recorded as rejected (so a
/// client can look it up by the id in the error) and the error is answered.
void store_rejection(OrderActor* self);

void reject(OrderActor* self, domain::Error e) {
  auto& s = self->state;
  auto now = domain::now_ms();
  s.order.reason = e.detail;
  domain::advance(s.order, OrderPhase::rejected, now);
  e.subject = s.order.id;
  // Answered once the rejection is durable (or its first write failed: it is
  // then retried in the background), so what the client reads next agrees.
  s.rejection = e;
  store_rejection(self);
}

/// Reads the order's record and adopts it as the durable version (a write
/// whose answer was lost may have happened), then runs `next`. Retries
/// while the store cannot be read.
template <class Next>
void resync(OrderActor* self, Next next) {
  auto& s = self->state;
  timed_request(self, s.ctx->store(), s.ctx->timeouts.store_write, StoreGet{records::order_key(s.order.id)})
    .then(
      [=](StoreValue& v) {
        if (v.found)
          if (auto o = records::decode_order(v.value)) self->state.durable = *o;
        next();
      },
      [=](caf::error&) {
        self->delayed_send(self, std::chrono::milliseconds(500), tick_atom::value);
      });
}

/// Writes the order as it is now, with the events since its last durable
/// version; once durable, that is the new durable version.
template <class OnOk, class OnError>
void persist(OrderActor* self, OnOk on_ok, OnError on_error) {
  auto& s = self->state;
  auto written = s.order;
  StoreWrite w;
  w.batches.push_back(records::order_change(s.durable, written));
  timed_request(self, s.ctx->store(), s.ctx->timeouts.store_write, std::move(w))
    .then(
      [=](ok_atom) {
        self->state.durable = written;
        on_ok();
      },
      [=](caf::error& err) { on_error(err); });
}

/// Makes the rejection durable (with its events); retried until it is, so
/// no order stays half-done in the store while this actor lives.
void store_rejection(OrderActor* self) {
  self->state.busy = true;
  persist(
    self,
    [=] {
      answer_error(self, self->state.rejection);
      self->state.busy = false;
      self->state.unstored = false;
      stop_if_at_rest(self);
    },
    [=](caf::error& err) {
      answer_error(self, self->state.rejection);
      self->state.busy = true;
      spdlog::warn("order {}: rejection not stored yet: {}", self->state.order.id,
                   from_caf(err).detail);
      self->state.unstored = true;
      self->delayed_send(self, std::chrono::milliseconds(500), tick_atom::value);
    });
}

/// Undoes a charge and a hold, then rejects.
/// Takes back whatever the payment may hold at the gateway, and records it:
/// captured -> refunded; authorized -> voided; none (a charge may still land)
/// -> voided (recorded as authorized, voided). Refunds and voids are
/// idempotent at the gateway and retried until acknowledged.
void undo_payment(OrderActor* self, domain::Timestamp now) {
  auto& p = self->state.order.payment;
  const domain::Money amount = self->state.order.amount;
  switch (p.status) {
    case PaymentStatus::captured:
      money_back(self, RefundRequest{p.id, amount, false});
      domain::advance(p, PaymentStatus::refunded, now);
      break;
    case PaymentStatus::none:
      money_back(self, RefundRequest{p.id, amount, true});
      domain::advance(p, PaymentStatus::authorized, now);
      domain::advance(p, PaymentStatus::voided, now);
      break;
    case PaymentStatus::authorized:
      money_back(self, RefundRequest{p.id, amount, true});
      domain::advance(p, PaymentStatus::voided, now);
      break;
    default: break;  // declined, voided, refunded: nothing is held
  }
}

void compensate(OrderActor* self, domain::Error e) {
  undo_payment(self, domain::now_ms());
  release_hold(self);
  if (e.kind == ErrorKind::timeout) e.kind = ErrorKind::retry;
  reject(self, std::move(e));
}

void settle_from_store(OrderActor* self, domain::Error fallback);

/// The store failed while making this order's change durable. Answer fast
/// (503, with the order id), then learn the outcome from the store (polled).
void enter_doubt(OrderActor* self, domain::Error e) {
  auto& s = self->state;
  e.kind = ErrorKind::store_unavailable;
  e.subject = s.order.id;
  if (s.owes) {
    s.owes = false;
    s.owed.deliver(to_caf(e));
  }
  s.busy = true;
  s.in_doubt = true;
  self->delayed_send(self, std::chrono::milliseconds(500), tick_atom::value);
}

/// Reads the order's record — answered after every write queued before the
/// read — and adopts what the store says: a confirmed or cancelled record
/// wins; without one, a confirmation never happened (compensate) and a
/// cancellation that did not happen leaves the order confirmed. `fallback`
/// is the error answered (if still owed) when nothing happened. When the
/// read fails the order is in doubt until a later read succeeds.
void settle_from_store(OrderActor* self, domain::Error fallback) {
  auto& s = self->state;
  if (s.settling) return;
  s.settling = true;
  timed_request(self, s.ctx->store(), s.ctx->timeouts.store_write, StoreGet{records::order_key(s.order.id)})
    .then(
      [=](StoreValue& v) {
        auto& st = self->state;
        st.settling = false;
        st.in_doubt = false;
        std::optional<domain::Order> stored;
        if (v.found)
          if (auto o = records::decode_order(v.value)) stored = *o;
        // What counts as done depends on what we were doing: cancelling a
        // confirmed order needs a stored cancellation; confirming needs a
        // stored confirmation (a later cancellation is fine too).
        const bool was_cancelling = st.order.phase == OrderPhase::confirmed;
        const bool done =
          stored && (stored->phase == OrderPhase::cancelled ||
                     (!was_cancelling && stored->phase == OrderPhase::confirmed));
        if (stored) st.durable = *stored;
        if (done) {
          if (stored->phase == OrderPhase::cancelled && st.order.phase != OrderPhase::cancelled)
            money_back(self, RefundRequest{stored->payment.id, stored->amount,
                                           stored->payment.status == PaymentStatus::voided});
          st.order = *stored;
          spdlog::info("order {}: outcome read from the store: {}", st.order.id, st.order.status());
          answer(self, st.order);
        } else if (was_cancelling) {
          answer_error(self, fallback);  // the cancellation did not happen
        } else {
          spdlog::info("order {}: the confirmation did not happen; compensating", st.order.id);
          compensate(self, fallback);
        }
      },
      [=](caf::error& err) {
        self->state.settling = false;
        enter_doubt(self, from_caf(err));
      });
}

void confirm(OrderActor* self) {
  auto& s = self->state;
  auto res = s.ctx->directory->resource_actor(s.order.resource_id);
  if (!res) return compensate(self, domain::make_error(ErrorKind::retry, "resource is restarting; retry"));
  domain::Order next = s.order;
  domain::advance(next, OrderPhase::confirmed, domain::now_ms());
  const auto& t = s.ctx->timeouts;
  ConfirmHold msg{next, s.durable, domain::now_ms() + t.actor_call.count()};
  timed_request(self, res, t.actor_call + t.store_write + std::chrono::milliseconds(500), std::move(msg))
    .then(
      [=](domain::Order& o) {
        self->state.order = o;
        self->state.durable = o;
        answer(self, o);
      },
      [=](caf::error& err) {
        auto e = from_caf(err);
        if (e.kind == ErrorKind::store_unavailable) return enter_doubt(self, e);
        if (e.kind != ErrorKind::retry && e.kind != ErrorKind::timeout)
          return compensate(self, e);
        // The outcome is unknown (resource restarted or slow). Any write the
        // resource started before our deadline is queued ahead of this read.
        settle_from_store(self, e);
      });
}

void charge(OrderActor* self) {
  auto& s = self->state;
  // A delivery fee is authorized now and captured when the call completes.
  const bool capture = s.order.mode != domain::Mode::dispatch;
  ChargeRequest c{s.order.payment.id, s.order.id, s.order.amount, capture};
  // The pool applies the call timeout (and voids on expiry); the margin only
  // guards against a pool that does not answer at all.
  const auto limit = s.ctx->timeouts.payment + std::chrono::milliseconds(500);
  timed_request(self, s.ctx->payments(), limit, std::move(c))
    .then(
      [=](ok_atom) {
        auto& o = self->state.order;
        auto now = domain::now_ms();
        domain::advance(o.payment, PaymentStatus::authorized, now);
        if (capture) domain::advance(o.payment, PaymentStatus::captured, now);
        domain::advance(o, OrderPhase::paid, now);
        confirm(self);
      },
      [=](caf::error& err) {
        auto& o = self->state.order;
        auto now = domain::now_ms();
        auto e = from_caf(err);
        if (e.kind == ErrorKind::payment_declined) {
          domain::advance(o.payment, PaymentStatus::declined, now);
        } else if (e.kind == ErrorKind::payment_unavailable && e.subject == breaker_open_subject) {
          // Refused by the open breaker: the gateway was never called.
        } else {
          // No answer in time: the authorization that may still happen is
          // voided (by the pool, and again here: voids are idempotent).
          undo_payment(self, now);
          if (e.kind != ErrorKind::payment_unavailable)
            e = domain::make_error(ErrorKind::payment_unavailable,
                                   "payment did not answer within " +
                                     std::to_string(self->state.ctx->timeouts.payment.count()) +
                                     " ms");
        }
        e.subject.clear();
        release_hold(self);
        reject(self, e);
      });
}

/// Write-ahead: the held order (and its events) is durable before the
/// gateway is called, so a restart finds every order that may have been
/// charged and compensates it.
void write_ahead_then_charge(OrderActor* self) {
  persist(
    self, [=] { charge(self); },
    [=](caf::error& err) {
      // Nothing was charged. Whether the held record landed is unknown:
      // learn it, then record the rejection on top of what is there.
      auto e = from_caf(err);
      e.kind = ErrorKind::store_unavailable;
      release_hold(self);
      auto& o = self->state.order;
      o.reason = e.detail;
      domain::advance(o, OrderPhase::rejected, domain::now_ms());
      e.subject = o.id;
      answer_error(self, e);
      self->state.busy = true;
      self->state.unstored = true;
      resync(self, [=] { store_rejection(self); });
    });
}

/// A restored order that was between its write-ahead and its end (the
/// process or the actor died): undo whatever may have happened — void the
/// payment (a capture is refunded by the gateway), free the hold — and
/// record the rejection.
void compensate_interrupted(OrderActor* self) {
  auto& s = self->state;
  auto& o = s.order;
  auto now = domain::now_ms();
  spdlog::info("order {} was interrupted while {}; compensating", o.id, o.status());
  undo_payment(self, now);
  release_hold(self);
  o.reason = "interrupted by a restart before it was confirmed";
  domain::advance(o, OrderPhase::rejected, now);
  store_rejection(self);
}

/// Takes the stored record as the truth (retried while the store cannot be
/// read).
void adopt_stored(OrderActor* self) {
  resync(self, [=] {
    auto& s = self->state;
    s.order = s.durable;
    s.adopting = false;
    s.busy = false;
    stop_if_at_rest(self);
  });
}

/// Advances fulfillment (the resource records it durably, and frees the
/// booking when the step ends it).
/// Sends a durable change of the order (`msg`: a step, a rider assignment
/// or release) to resource `id`'s actor `target` and answers what it makes
/// durable. When the outcome is unknown the stored record is adopted.
template <class Msg>
void send_change(OrderActor* self, const std::string& id, const caf::actor& target, Msg msg) {
  const auto& t = self->state.ctx->timeouts;
  ask_resource(self, id, target, t.actor_call + t.store_write + std::chrono::milliseconds(500),
               std::move(msg),
      [=](domain::Order& o) {
        self->state.order = o;
        self->state.durable = o;
        answer(self, o);
      },
      [=](caf::error& err) {
        auto e = from_caf(err);
        if (e.kind == ErrorKind::timeout) e.kind = ErrorKind::retry;
        answer_error(self, e);
        if (e.kind != ErrorKind::store_unavailable && e.kind != ErrorKind::retry) return;
        // The change may or may not have become durable: the store decides.
        self->state.busy = true;
        self->state.adopting = true;
        adopt_stored(self);
      });
}

domain::Timestamp deadline_of(const OrderActor* self) {
  return domain::now_ms() + self->state.ctx->timeouts.actor_call.count();
}

/// A delivery call's steps: `accepted` takes a unit of the named rider,
/// `picked` is recorded at the zone, `completed` captures the fee and frees
/// the rider.
void advance_call(OrderActor* self, domain::Order next, const caf::actor& zone) {
  auto& s = self->state;
  if (next.step == "accepted") {
    auto rider = s.ctx->directory->resource_actor(next.rider_id);
    if (!rider) return answer_error(self, domain::make_error(ErrorKind::retry, "rider is restarting; retry"));
    return send_change(self, next.rider_id, rider, RiderAssign{next, s.durable, deadline_of(self)});
  }
  if (next.step != "completed")
    return send_change(self, next.resource_id, zone,
                       StepBooking{next, s.durable, deadline_of(self), false});
  // Settle the fee first (idempotent at the gateway), then free the rider.
  timed_request(self, s.ctx->payments(), s.ctx->timeouts.payment + std::chrono::milliseconds(500),
                CaptureRequest{next.payment.id})
    .then(
      [=](ok_atom) mutable {
        domain::advance(next.payment, PaymentStatus::captured, domain::now_ms());
        auto rider = self->state.ctx->directory->resource_actor(next.rider_id);
        if (!rider)
          return answer_error(self, domain::make_error(ErrorKind::retry, "rider is restarting; retry"));
        send_change(self, next.rider_id, rider,
                    RiderRelease{next, self->state.durable, deadline_of(self)});
      },
      [=](caf::error& err) {
        auto e = from_caf(err);
        if (e.kind == ErrorKind::timeout) e.kind = ErrorKind::payment_unavailable;
        answer_error(self, e);
      });
}

/// Advances fulfillment (the resource records it durably, and frees the
/// booking when the step ends it; delivery calls: see advance_call).
caf::result<domain::Order> advance_step(OrderActor* self, const AdvanceStep& a) {
  auto& s = self->state;
  if (s.in_doubt)
    return to_caf(ErrorKind::store_unavailable, "order " + s.order.id + " awaits the store; retry");
  if (s.busy)
    return to_caf(ErrorKind::conflict, "order " + s.order.id + " is being processed; retry");
  auto entry = s.ctx->directory->resource(s.order.resource_id);
  if (!entry) return to_caf(ErrorKind::retry, "resource is restarting; retry");
  const bool call = s.order.mode == domain::Mode::dispatch;
  domain::Order next = s.order;
  if (!a.rider_id.empty() && !(call && a.step == "accepted"))
    return to_caf(ErrorKind::invalid_input,
                  call ? "'riderId' goes with the step accepted only"
                       : "'riderId' applies to delivery calls only");
  if (call && a.step == "accepted") {
    if (a.rider_id.empty())
      return to_caf(ErrorKind::invalid_input, "'riderId' is required to accept a delivery call");
    auto rider = s.ctx->directory->resource(a.rider_id);
    if (!rider) return to_caf(ErrorKind::not_found, "rider " + a.rider_id + " does not exist");
    if (rider->spec.mode != domain::Mode::capacity)
      return to_caf(ErrorKind::invalid_input, a.rider_id + " is not a rider (a capacity resource)");
    next.rider_id = a.rider_id;
  }
  if (auto st = domain::advance_step(next, entry->spec.steps, a.step, domain::now_ms()); !st)
    return to_caf(st.error());
  s.busy = true;
  s.owes = true;
  s.owed = self->make_response_promise();
  if (call)
    advance_call(self, std::move(next), entry->actor);
  else
    send_change(self, s.order.resource_id, entry->actor,
                StepBooking{next, s.durable, deadline_of(self),
                            domain::step_frees_resource(entry->spec, a.step)});
  return s.owed;
}

caf::behavior order_actor(OrderActor* self, std::shared_ptr<const Context> ctx,
                          domain::Order order, std::chrono::milliseconds resume_after) {
  self->state.ctx = std::move(ctx);
  self->state.order = std::move(order);
  // Restored from the store (or brand new, then with a placed-only history
  // that was never stored).
  const bool restored = self->state.order.phase != OrderPhase::placed;
  if (restored) self->state.durable = self->state.order;
  if (restored && !self->state.order.is_terminal() &&
      self->state.order.phase != OrderPhase::confirmed) {
    self->state.busy = true;
    self->state.resuming = true;
    self->delayed_send(self, resume_after, restore_atom::value);
  }
  // A restored order whose money went back may have died before the pool
  // confirmed it: say it again (idempotent at the gateway).
  {
    const auto& p = self->state.order.payment;
    if (p.status == PaymentStatus::refunded || p.status == PaymentStatus::voided)
      money_back(self, RefundRequest{p.id, p.amount, p.status == PaymentStatus::voided});
  }
  send_later(self, passivation_check(self->state), passivate_atom::value);
  self->set_exception_handler([](caf::scheduled_actor* ptr, std::exception_ptr&) -> caf::error {
    auto* me = static_cast<OrderActor*>(ptr);
    spdlog::warn("order {} crashed", me->state.order.id);
    if (me->state.owes) {
      me->state.owes = false;
      me->state.owed.deliver(
        to_caf(ErrorKind::retry, "order " + me->state.order.id + " restarted; retry"));
    }
    return caf::sec::runtime_error;
  });
  return {
    [=](PlaceOrder& p) -> caf::result<domain::Order> {
      auto& s = self->state;
      s.command_came();
      if (s.busy || s.order.phase != OrderPhase::placed)
        return to_caf(ErrorKind::conflict, "order " + s.order.id + " was already placed");
      auto res = s.ctx->directory->resource_actor(s.order.resource_id);
      if (!res) {
        self->quit();
        return to_caf(ErrorKind::not_found, "resource " + s.order.resource_id + " does not exist");
      }
      s.busy = true;
      s.owes = true;
      s.owed = self->make_response_promise();
      HoldRequest h{s.order.id, p.quantity, p.start, p.end, p.fee};
      ask_resource(self, s.order.resource_id, res, s.ctx->timeouts.actor_call, std::move(h),
          [=](domain::Money amount) {
            auto& o = self->state.order;
            o.amount = amount;
            o.payment.amount = amount;
            domain::advance(o, OrderPhase::held, domain::now_ms());
            write_ahead_then_charge(self);
          },
          [=](caf::error& err) {
            // Nothing was taken: no record, the order never existed.
            answer_error(self, from_caf(err));
            self->quit();
          });
      return s.owed;
    },
    [=](get_atom) -> domain::Order {
      self->state.command_came();
      return self->state.order;
    },
    [=](retry_refund_atom, RefundRequest& r) {
      --self->state.refunds_pending;
      money_back(self, std::move(r));
    },
    [=](passivate_atom) {
      // Its own timer, one per idle period: passivations spread over time
      // instead of arriving as one sweep.
      auto& s = self->state;
      const auto idle = std::chrono::steady_clock::now() - s.last_command;
      if (idle >= s.ctx->order_idle && may_stop_now(self)) return self->quit();  // normal exit
      send_later(self, passivation_check(s), passivate_atom::value);
    },
    [=](restore_atom) {
      // A confirmation sent before the restart may still land (until its
      // deadline, which `resume_after` covers): the store decides.
      resync(self, [=] {
        auto& st = self->state;
        st.resuming = false;
        if (st.durable.phase == OrderPhase::confirmed || st.durable.is_terminal()) {
          st.order = st.durable;
          st.busy = false;
          return stop_if_at_rest(self);
        }
        st.order = st.durable;
        compensate_interrupted(self);
      });
    },
    [=](tick_atom) {
      if (self->state.resuming) return self->send(self, restore_atom::value);
      if (self->state.adopting) return adopt_stored(self);
      if (self->state.unstored) return resync(self, [=] { store_rejection(self); });
      if (self->state.in_doubt)
        settle_from_store(self, domain::make_error(ErrorKind::store_unavailable,
                                                   "the change could not be stored"));
    },
    [=](cancel_atom) -> caf::result<domain::Order> {
      auto& s = self->state;
      s.command_came();
      if (s.in_doubt)
        return to_caf(ErrorKind::store_unavailable,
                      "order " + s.order.id + " awaits the store; retry");
      if (s.busy)
        return to_caf(ErrorKind::conflict, "order " + s.order.id + " is being processed; retry");
      auto entry = s.ctx->directory->resource(s.order.resource_id);
      if (!entry) return to_caf(ErrorKind::retry, "resource is restarting; retry");
      if (auto st = domain::check_cancellable(s.order, entry->spec); !st) return to_caf(st.error());
      auto res = entry->actor;
      domain::Order next = s.order;
      auto now = domain::now_ms();
      domain::advance(next, OrderPhase::cancelled, now);
      // A delivery fee not yet settled is voided; a capture is refunded.
      const bool void_only = next.payment.status == PaymentStatus::authorized;
      domain::advance(next.payment, void_only ? PaymentStatus::voided : PaymentStatus::refunded,
                      now);
      caf::actor rider;
      if (!next.rider_id.empty()) {
        rider = s.ctx->directory->resource_actor(next.rider_id);
        if (!rider) return to_caf(ErrorKind::retry, "rider is restarting; retry");
      }
      s.busy = true;
      s.owes = true;
      s.owed = self->make_response_promise();
      const auto& t = s.ctx->timeouts;
      const auto limit = t.actor_call + t.store_write + std::chrono::milliseconds(500);
      // An accepted call frees its rider; otherwise the booking is cancelled
      // at its resource.
      auto on_ok = [=](domain::Order& o) {
        // Durable first, then the money goes back.
        self->state.order = o;
        self->state.durable = o;
        money_back(self, RefundRequest{o.payment.id, o.amount, void_only});
        answer(self, o);
      };
      auto on_error = [=](caf::error& err) {
        auto e = from_caf(err);
        if (e.kind == ErrorKind::store_unavailable) return enter_doubt(self, e);
        if (e.kind != ErrorKind::retry && e.kind != ErrorKind::timeout) return answer_error(self, e);
        // Outcome unknown (the resource restarted or was slow): the store
        // decides. The read is queued behind any write already sent.
        e.kind = ErrorKind::retry;
        settle_from_store(self, e);
      };
      if (rider)
        ask_resource(self, next.rider_id, rider, limit, RiderRelease{next, s.durable, deadline_of(self)},
                     on_ok, on_error);
      else
        ask_resource(self, s.order.resource_id, res, limit,
                     CancelBooking{next, s.durable, deadline_of(self)}, on_ok, on_error);
      return s.owed;
    },
    [=](AdvanceStep& a) -> caf::result<domain::Order> {
      self->state.command_came();
      return advance_step(self, a);
    },
    [=](crash_atom) -> ok_atom {
      throw std::runtime_error("crash injected into order " + self->state.order.id);
    },
  };
}

}  // namespace

caf::actor spawn_order_actor(caf::event_based_actor* parent, std::shared_ptr<const Context> ctx,
                             domain::Order order, std::chrono::milliseconds resume_after) {
  return parent->spawn<caf::monitored>(order_actor, std::move(ctx), std::move(order), resume_after);
}

}  // namespace troupe::actors
