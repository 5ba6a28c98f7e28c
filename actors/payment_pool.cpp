#include "actors/payment_pool.hpp"

#include <algorithm>
#include <map>
#include <random>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace troupe::actors {
namespace {

struct PendingCharge {
  caf::response_promise promise;
  bool approve = true;
  std::string payment_id;
  domain::Money amount = 0;
  bool capture = true;
};

struct WorkerState {
  std::shared_ptr<GatewaySettings> gateway;
  std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t next_seq = 0;
  std::map<std::uint64_t, PendingCharge> pending;
  static inline const char* name = "payment-worker";
};

using Worker = caf::stateful_actor<WorkerState>;

caf::error declined(const std::string& payment_id) {
  return to_caf(domain::ErrorKind::payment_declined,
                "payment " + payment_id + " was declined by the gateway");
}

/// The gateway's answer once the simulated latency has elapsed.
caf::result<ok_atom> complete(GatewaySettings& g, const std::string& payment_id,
                              domain::Money amount, bool approve, bool capture) {
  switch (capture ? g.ledger.charge(payment_id, amount, approve)
                  : g.ledger.authorize(payment_id, amount, approve)) {
    case GatewayLedger::Charge::captured: return ok_atom::value;
    case GatewayLedger::Charge::declined: return declined(payment_id);
    case GatewayLedger::Charge::voided: break;
  }
  return to_caf(domain::ErrorKind::payment_unavailable,
                "payment " + payment_id + " was voided before the gateway answered");
}

/// Whether the simulated gateway approves this call (its failure rate).
bool approves(const GatewaySettings& g, std::mt19937_64& rng) {
  const double rate = g.failure_rate.load();
  return rate <= 0.0 ? true : std::uniform_real_distribution<double>(0.0, 1.0)(rng) >= rate;
}

caf::behavior payment_worker(Worker* self, std::shared_ptr<GatewaySettings> gateway) {
  self->state.gateway = std::move(gateway);
  return {
    [=](ChargeRequest& c) -> caf::result<ok_atom> {
      auto& s = self->state;
      const bool approve = approves(*s.gateway, s.rng);
      int lo = s.gateway->latency_min_ms.load();
      int hi = s.gateway->latency_max_ms.load();
      if (hi < lo) hi = lo;
      const int latency = hi <= 0 ? 0 : std::uniform_int_distribution<int>(lo, hi)(s.rng);
      // The time the request spent reaching this worker is part of the
      // latency (a 605 ms payment must not time out at 610 ms because the
      // worker got to it 6 ms late).
      const auto waited = c.sent_at_ms > 0 ? domain::now_ms() - c.sent_at_ms : 0;
      const auto rest = std::max<std::int64_t>(0, latency - waited);
      if (latency == 0 || rest == 0)
        return complete(*s.gateway, c.payment_id, c.amount, approve, c.capture);
      auto rp = self->make_response_promise();
      const auto seq = s.next_seq++;
      s.pending.emplace(seq, PendingCharge{rp, approve, c.payment_id, c.amount, c.capture});
      self->delayed_send(self, std::chrono::milliseconds(rest), tick_atom::value, seq);
      return rp;
    },
    [=](tick_atom, std::uint64_t seq) {
      auto it = self->state.pending.find(seq);
      if (it == self->state.pending.end()) return;
      auto& p = it->second;
      auto r = complete(*self->state.gateway, p.payment_id, p.amount, p.approve, p.capture);
      if (r.flag == caf::rt_value)
        p.promise.deliver(ok_atom::value);
      else
        p.promise.deliver(r.err);
      self->state.pending.erase(it);
    },
    [=](CaptureRequest& c) -> caf::result<ok_atom> {
      const auto st = self->state.gateway->ledger.capture(c.payment_id);
      if (st == domain::PaymentStatus::captured) return ok_atom::value;
      return to_caf(domain::ErrorKind::payment_unavailable,
                    "payment " + c.payment_id + " is " + domain::to_string(st) +
                      " and cannot be captured");
    },
    [=](RefundRequest& r) -> ok_atom {
      auto& ledger = self->state.gateway->ledger;
      if (r.void_only)
        ledger.void_payment(r.payment_id);
      else
        ledger.refund(r.payment_id);
      return ok_atom::value;
    },
  };
}

struct FrontState {
  caf::actor workers;
  std::shared_ptr<GatewaySettings> gateway;
  std::mt19937_64 rng{std::random_device{}()};
  std::chrono::milliseconds call_timeout{610};
  static constexpr std::chrono::milliseconds scheduling_grace{3};
  domain::CircuitBreaker breaker;
  static inline const char* name = "payments";
  ~FrontState() {
    if (workers) caf::anon_send_exit(workers, caf::exit_reason::user_shutdown);
  }
};

using Front = caf::stateful_actor<FrontState>;

BreakerView view_of(const FrontState& s) {
  const auto& b = s.breaker;
  BreakerView v;
  v.state = domain::to_string(b.state());
  v.calls = b.calls();
  v.successes = b.successes();
  v.failures = b.failures();
  v.refused = b.refused();
  v.consecutive_failures = b.consecutive_failures();
  v.cool_down_ms = b.cool_down_ms();
  v.retry_after_ms = b.retry_after_ms(domain::now_ms());
  v.call_timeout_ms = s.call_timeout.count();
  v.transitions_total = b.transition_count();
  for (const auto& t : b.transitions())
    v.transitions.push_back({domain::to_string(t.from), domain::to_string(t.to), t.at, t.why});
  v.config = b.config();
  return v;
}

caf::behavior payment_front(Front* self, PaymentPoolOptions opt,
                            std::shared_ptr<GatewaySettings> gateway) {
  auto& s = self->state;
  s.call_timeout = opt.call_timeout;
  s.gateway = gateway;
  // A run of failures opens the breaker once it lasts a call timeout.
  if (opt.breaker.failure_span_ms == 0) opt.breaker.failure_span_ms = opt.call_timeout.count();
  s.breaker = domain::CircuitBreaker(opt.breaker);
  auto* sys = &self->system();
  auto factory = [sys, gateway] { return sys->spawn(payment_worker, gateway); };
  s.workers = caf::actor_pool::make(sys->dummy_execution_unit(), std::max<size_t>(1, opt.workers),
                                    factory, caf::actor_pool::round_robin());
  return {
    [=](ChargeRequest& c) -> caf::result<ok_atom> {
      auto& st = self->state;
      const auto now = domain::now_ms();
      const auto permit = st.breaker.acquire(now);
      if (permit == domain::CircuitBreaker::Permit::refuse)
        return to_caf(domain::make_error(
          domain::ErrorKind::payment_unavailable,
          "payment is unavailable (circuit breaker " +
            std::string(domain::to_string(st.breaker.state())) + "); retry in " +
            std::to_string(st.breaker.retry_after_ms(now)) + " ms",
          breaker_open_subject));
      const bool trial = permit == domain::CircuitBreaker::Permit::trial;
      // A simulated gateway without latency answers at once: no need for a
      // worker (three hops and a timeout per charge, measured ~10 % of the
      // CPU of an order). The breaker counts the answer all the same.
      if (st.gateway->latency_max_ms.load() <= 0) {
        auto r = complete(*st.gateway, c.payment_id, c.amount, approves(*st.gateway, st.rng), c.capture);
        const bool answered = r.flag == caf::rt_value ||
                              from_caf(r.err).kind == domain::ErrorKind::payment_declined;
        if (answered)
          st.breaker.on_success(now, trial);
        else
          st.breaker.on_failure(now, trial);
        return r;
      }
      auto rp = self->make_response_promise();
      RefundRequest void_it{c.payment_id, c.amount, true};
      c.sent_at_ms = domain::now_ms();
      // The call timeout plus a grace for troupe's own scheduling (the
      // worker's timer, its reply reaching this actor): a gateway answering
      // at the timeout is not slower than it, and without the grace every
      // such call failed (and, under the seeds' load, ~0.5 % more than the
      // payments slower than the timeout).
      self->request(st.workers, st.call_timeout + FrontState::scheduling_grace, std::move(c))
        .then(
          [=](ok_atom) mutable {
            self->state.breaker.on_success(domain::now_ms(), trial);
            rp.deliver(ok_atom::value);
          },
          [=](caf::error& err) mutable {
            auto e = from_caf(err);
            if (e.kind == domain::ErrorKind::payment_declined) {
              self->state.breaker.on_success(domain::now_ms(), trial);  // the gateway answered
              rp.deliver(err);
              return;
            }
            self->state.breaker.on_failure(domain::now_ms(), trial);
            // Void whatever the gateway may still authorize.
            caf::anon_send(self->state.workers, void_it);
            rp.deliver(to_caf(domain::ErrorKind::payment_unavailable,
                              "payment did not answer within " +
                                std::to_string(self->state.call_timeout.count()) + " ms"));
          });
      return rp;
    },
    [=](RefundRequest& r) -> caf::result<ok_atom> {
      self->delegate(self->state.workers, std::move(r));
      return caf::delegated<ok_atom>{};
    },
    [=](CaptureRequest& c) -> caf::result<ok_atom> {
      self->delegate(self->state.workers, std::move(c));
      return caf::delegated<ok_atom>{};
    },
    [=](breaker_atom) -> BreakerView { return view_of(self->state); },
  };
}

}  // namespace

caf::actor spawn_payment_worker(caf::actor_system& sys, std::shared_ptr<GatewaySettings> gateway) {
  return sys.spawn(payment_worker, std::move(gateway));
}

caf::actor spawn_payment_pool(caf::actor_system& sys, PaymentPoolOptions options,
                              std::shared_ptr<GatewaySettings> gateway) {
  return sys.spawn(payment_front, std::move(options), std::move(gateway));
}

}  // namespace troupe::actors
