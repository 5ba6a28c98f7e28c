#pragma once
/// The payment pool: a front actor with the circuit breaker, in front of N
/// worker actors that call the payment gateway.
///
/// Protocol (of the front actor):
///   ChargeRequest -> ok (authorized and captured), or error
///     payment_declined (the gateway said no), or payment_unavailable — at
///     once while the breaker is open (no gateway call at all), or after the
///     call timeout (the charge is then voided, so a late success at the
///     gateway never leaves a charge behind).
///   ChargeRequest{capture = false} authorizes only (delivery fees).
///   CaptureRequest -> ok (captures an authorization; idempotent)
///   RefundRequest -> ok (forwarded to a worker; a void of an authorization
///     or of nothing leaves a tombstone, a void of a capture refunds it)
///   breaker_atom  -> BreakerView
/// Timeouts count as breaker failures; declines do not (the gateway answered).
///
/// The gateway here is `simulated`: latency drawn uniformly from
/// [latency_min_ms, latency_max_ms] and a failure (decline) rate. The
/// settings are atomics so fault injection can change them at run time.

#include <atomic>
#include <cstddef>
#include <memory>

#include <chrono>

#include <caf/fwd.hpp>

#include "actors/gateway_ledger.hpp"
#include "domain/circuit_breaker.hpp"

namespace troupe::actors {

/// The simulated gateway: its behaviour (changed at run time by fault
/// injection) and its own ledger of payments.
struct GatewaySettings {
  std::atomic<int> latency_min_ms{0};
  std::atomic<int> latency_max_ms{0};
  std::atomic<double> failure_rate{0.0};  ///< 0.0 .. 1.0
  GatewayLedger ledger;
};

struct PaymentPoolOptions {
  size_t workers = 8;
  std::chrono::milliseconds call_timeout{610};
  domain::BreakerConfig breaker;
};

/// One simulated gateway worker (the pool spawns `workers` of these). Its
/// latency counts from the request's `sent_at_ms`.
caf::actor spawn_payment_worker(caf::actor_system& sys, std::shared_ptr<GatewaySettings> gateway);

/// Spawns the front actor, which spawns `workers` workers (round robin).
caf::actor spawn_payment_pool(caf::actor_system& sys, PaymentPoolOptions options,
                              std::shared_ptr<GatewaySettings> gateway);

}  // namespace troupe::actors
