#pragma once
/// The payment pool: N worker actors in front of a payment gateway.
///
/// Protocol: ChargeRequest -> ok (authorized and captured) or error
/// payment_declined; RefundRequest -> ok. The caller applies the timeout
/// (Timeouts::payment); a charge that times out is voided by the caller.
///
/// The gateway here is `simulated`: latency drawn uniformly from
/// [latency_min_ms, latency_max_ms] and a failure (decline) rate. The
/// settings are atomics so fault injection can change them at run time.

#include <atomic>
#include <cstddef>
#include <memory>

#include <caf/fwd.hpp>

namespace troupe::actors {

struct GatewaySettings {
  std::atomic<int> latency_min_ms{0};
  std::atomic<int> latency_max_ms{0};
  std::atomic<double> failure_rate{0.0};  ///< 0.0 .. 1.0
};

/// Spawns `workers` payment workers behind a round-robin pool actor.
caf::actor spawn_payment_pool(caf::actor_system& sys, size_t workers,
                              std::shared_ptr<GatewaySettings> gateway);

}  // namespace troupe::actors
