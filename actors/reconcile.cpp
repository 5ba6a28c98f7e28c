#include "actors/reconcile.hpp"

#include <unordered_set>

#include <nlohmann/json.hpp>

#include "actors/records.hpp"

namespace troupe::actors {

using domain::OrderPhase;
using domain::PaymentStatus;

Reconciliation reconcile(const std::vector<persistence::Record>& order_records,
                         const GatewayLedger& gateway) {
  Reconciliation r;
  const auto books = gateway.entries();
  const auto totals = gateway.totals();
  r.gateway_captured = totals.captured;
  r.gateway_refunded = totals.refunded;
  auto violation = [&r](std::string what) {
    if (r.violations.size() < 20) r.violations.push_back(std::move(what));
    ++r.violation_count;
  };
  auto at_gateway = [&books](const std::string& payment_id) {
    auto it = books.find(payment_id);
    return it == books.end() ? PaymentStatus::none : it->second.status;
  };
  std::unordered_set<std::string> confirmed_payments;
  for (const auto& rec : order_records) {
    auto o = records::decode_order(rec.value);
    if (!o) {
      violation("unreadable record " + rec.key);
      continue;
    }
    const auto g = at_gateway(o->payment.id);
    switch (o->phase) {
      case OrderPhase::confirmed:
        ++r.confirmed;
        if (o->payment.status == PaymentStatus::authorized) {
          // A delivery call: its fee is authorized until completion.
          if (g != PaymentStatus::authorized)
            violation("call " + o->id + " is open but its fee is " + domain::to_string(g) +
                      " at the gateway");
          break;
        }
        r.confirmed_amount += o->amount;
        confirmed_payments.insert(o->payment.id);
        if (g != PaymentStatus::captured)
          violation("order " + o->id + " is confirmed but its payment is " +
                    domain::to_string(g) + " at the gateway");
        break;
      case OrderPhase::cancelled:
        ++r.cancelled;
        if (g == PaymentStatus::captured || g == PaymentStatus::authorized)
          violation("order " + o->id + " is cancelled but its payment is still " +
                    domain::to_string(g));
        break;
      case OrderPhase::rejected:
        ++r.rejected;
        if (g == PaymentStatus::captured || g == PaymentStatus::authorized)
          violation("order " + o->id + " is rejected but its payment is " + domain::to_string(g));
        break;
      default:
        ++r.half_done;
        break;
    }
  }
  for (const auto& [id, e] : books)
    if (e.status == PaymentStatus::captured && !confirmed_payments.count(id))
      violation("payment " + id + " is captured but no confirmed order stands for it");
  return r;
}

nlohmann::json to_json(const Reconciliation& r) {
  return {{"balanced", r.balanced()},
          {"orders",
           {{"confirmed", r.confirmed},
            {"cancelled", r.cancelled},
            {"rejected", r.rejected},
            {"halfDone", r.half_done}}},
          {"confirmedAmount", r.confirmed_amount},
          {"gateway",
           {{"captured", r.gateway_captured},
            {"refunded", r.gateway_refunded},
            {"net", r.gateway_captured - r.gateway_refunded}}},
          {"violationCount", r.violation_count},
          {"violations", r.violations}};
}

}  // namespace troupe::actors
