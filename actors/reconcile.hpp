#pragma once
/// Money reconciliation: troupe's order records against the payment
/// gateway's own books (GET /admin/reconcile; the drills' final check).
///
/// Balanced means: captured − refunded at the gateway equals the sum of the
/// amounts of confirmed orders whose payment is captured (an open delivery
/// call's fee is only authorized, and must be so at the gateway); every
/// other confirmed order's payment is captured;
/// no capture stands for an order that is not confirmed (cancelled ones are
/// refunded, rejected ones were never captured or were given back); no order
/// is half-done (placed / held / paid). Refunds and voids travel after the
/// durable change, so right after load a few may still be on their way:
/// callers poll until balanced (bounded).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/gateway_ledger.hpp"
#include "persistence/store.hpp"

namespace troupe::actors {

struct Reconciliation {
  std::uint64_t confirmed = 0, cancelled = 0, rejected = 0, half_done = 0;
  domain::Money confirmed_amount = 0;
  domain::Money gateway_captured = 0, gateway_refunded = 0;
  std::uint64_t violation_count = 0;
  std::vector<std::string> violations;  ///< the first few, in words
  bool balanced() const {
    return violation_count == 0 && half_done == 0 &&
           gateway_captured - gateway_refunded == confirmed_amount;
  }
};

/// `order_records`: every order/ record of the store.
Reconciliation reconcile(const std::vector<persistence::Record>& order_records,
                         const GatewayLedger& gateway);

nlohmann::json to_json(const Reconciliation& r);

}  // namespace troupe::actors
