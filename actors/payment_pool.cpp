#include "actors/payment_pool.hpp"

#include <map>
#include <random>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace troupe::actors {
namespace {

struct PendingCharge {
  caf::response_promise promise;
  bool approve = true;
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

caf::behavior payment_worker(Worker* self, std::shared_ptr<GatewaySettings> gateway) {
  self->state.gateway = std::move(gateway);
  return {
    [=](ChargeRequest& c) -> caf::result<ok_atom> {
      auto& s = self->state;
      const double rate = s.gateway->failure_rate.load();
      const bool approve =
        rate <= 0.0 ? true : std::uniform_real_distribution<double>(0.0, 1.0)(s.rng) >= rate;
      int lo = s.gateway->latency_min_ms.load();
      int hi = s.gateway->latency_max_ms.load();
      if (hi < lo) hi = lo;
      const int latency = hi <= 0 ? 0 : std::uniform_int_distribution<int>(lo, hi)(s.rng);
      if (latency == 0) {
        if (!approve) return declined(c.payment_id);
        return ok_atom::value;
      }
      auto rp = self->make_response_promise();
      const auto seq = s.next_seq++;
      s.pending.emplace(seq, PendingCharge{rp, approve});
      self->delayed_send(self, std::chrono::milliseconds(latency), tick_atom::value, seq,
                         c.payment_id);
      return rp;
    },
    [=](tick_atom, std::uint64_t seq, const std::string& payment_id) {
      auto it = self->state.pending.find(seq);
      if (it == self->state.pending.end()) return;
      if (it->second.approve)
        it->second.promise.deliver(ok_atom::value);
      else
        it->second.promise.deliver(declined(payment_id));
      self->state.pending.erase(it);
    },
    [=](RefundRequest&) -> ok_atom { return ok_atom::value; },
  };
}

}  // namespace

caf::actor spawn_payment_pool(caf::actor_system& sys, size_t workers,
                              std::shared_ptr<GatewaySettings> gateway) {
  if (workers == 0) workers = 1;
  auto factory = [&sys, gateway] { return sys.spawn(payment_worker, gateway); };
  return caf::actor_pool::make(sys.dummy_execution_unit(), workers, factory,
                               caf::actor_pool::round_robin());
}

}  // namespace troupe::actors
