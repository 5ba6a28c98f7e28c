#pragma once
/// The simulated payment gateway's own ledger: what the outside world would
/// know about each payment, independent of troupe's records — so money can
/// be reconciled against it.
///
/// Every operation is idempotent by payment id (one payment per order):
///   charge  none -> captured | declined      (again: the first outcome)
///   void    none -> voided (a tombstone: a late charge is then refused)
///           captured -> refunded (the success beat the void: undo it)
///   refund  captured -> refunded              (again: still refunded)
/// Thread-safe (workers run concurrently).

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "domain/order.hpp"

namespace troupe::actors {

class GatewayLedger {
 public:
  enum class Charge { captured, declined, voided };

  /// Completes a charge whose simulated latency has elapsed.
  Charge charge(const std::string& payment_id, domain::Money amount, bool approve);
  /// Voids an authorization that may still arrive. Returns the status after.
  domain::PaymentStatus void_payment(const std::string& payment_id);
  /// Gives a captured amount back. Returns the status after.
  domain::PaymentStatus refund(const std::string& payment_id);

  struct Totals {
    domain::Money captured = 0;   ///< sum of amounts ever captured
    domain::Money refunded = 0;   ///< sum of amounts refunded
    std::uint64_t payments = 0;
    std::uint64_t declined = 0;
    std::uint64_t voided = 0;
    std::uint64_t late_charges_refused = 0;  ///< charges that arrived after their void
  };
  Totals totals() const;
  domain::PaymentStatus status(const std::string& payment_id) const;

 private:
  struct Entry {
    domain::Money amount = 0;
    domain::PaymentStatus status = domain::PaymentStatus::none;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  Totals totals_;
};

}  // namespace troupe::actors
