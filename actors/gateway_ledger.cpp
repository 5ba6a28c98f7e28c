#include "actors/gateway_ledger.hpp"

namespace troupe::actors {

using domain::PaymentStatus;

GatewayLedger::Charge GatewayLedger::charge(const std::string& payment_id, domain::Money amount,
                                            bool approve) {
  std::lock_guard<std::mutex> l(mu_);
  auto& e = entries_[payment_id];
  switch (e.status) {
    case PaymentStatus::none:
      e.amount = amount;
      ++totals_.payments;
      if (!approve) {
        e.status = PaymentStatus::declined;
        ++totals_.declined;
        return Charge::declined;
      }
      e.status = PaymentStatus::captured;
      totals_.captured += amount;
      return Charge::captured;
    case PaymentStatus::voided:
      ++totals_.late_charges_refused;
      return Charge::voided;
    case PaymentStatus::declined: return Charge::declined;
    default: return Charge::captured;  // captured or refunded: the first outcome
  }
}

PaymentStatus GatewayLedger::void_payment(const std::string& payment_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto& e = entries_[payment_id];
  if (e.status == PaymentStatus::none) {
    e.status = PaymentStatus::voided;
    ++totals_.voided;
  } else if (e.status == PaymentStatus::captured) {
    // The success came before the void: give the money back.
    e.status = PaymentStatus::refunded;
    totals_.refunded += e.amount;
  }
  return e.status;
}

PaymentStatus GatewayLedger::refund(const std::string& payment_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(payment_id);
  if (it == entries_.end()) return PaymentStatus::none;
  if (it->second.status == PaymentStatus::captured) {
    it->second.status = PaymentStatus::refunded;
    totals_.refunded += it->second.amount;
  }
  return it->second.status;
}

GatewayLedger::Totals GatewayLedger::totals() const {
  std::lock_guard<std::mutex> l(mu_);
  return totals_;
}

PaymentStatus GatewayLedger::status(const std::string& payment_id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(payment_id);
  return it == entries_.end() ? PaymentStatus::none : it->second.status;
}

}  // namespace troupe::actors
