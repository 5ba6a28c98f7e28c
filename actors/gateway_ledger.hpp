#pragma once
/// The simulated payment gateway's own ledger: what the outside world would
/// know about each payment, independent of troupe's records — so money can
/// be reconciled against it.
///
/// Every operation is idempotent by payment id (one payment per order):
///   charge  none -> captured | declined      (again: the first outcome)
///   authorize none -> authorized | declined  (delivery fees: captured later)
///   capture authorized -> captured            (again: still captured)
///   void    none -> voided (a tombstone: a late charge is then refused)
///           captured -> refunded (the success beat the void: undo it)
///   refund  captured -> refunded              (again: still refunded)
/// Thread-safe (workers run concurrently).
///
/// The gateway is another party: its books must outlive a crash of troupe
/// (so money can be reconciled after a kill -9). With a journal file every
/// operation is appended (one write(2) per change, which survives the
/// process; not fsync'd: this simulates the other party, not a disk) and
/// replayed when the ledger is opened again.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "domain/order.hpp"

namespace troupe::actors {

class GatewayLedger {
 public:
  enum class Charge { captured, declined, voided };

  GatewayLedger() = default;
  ~GatewayLedger();
  GatewayLedger(const GatewayLedger&) = delete;
  GatewayLedger& operator=(const GatewayLedger&) = delete;

  /// Replays `path` (if it exists) and appends every later change to it.
  /// Error: the file cannot be opened or a line cannot be read.
  domain::Status open_journal(const std::string& path);

  /// Completes a charge whose simulated latency has elapsed.
  Charge charge(const std::string& payment_id, domain::Money amount, bool approve);
  /// Authorizes without capturing (`Charge::captured` here means
  /// "authorized"); otherwise like charge.
  Charge authorize(const std::string& payment_id, domain::Money amount, bool approve);
  /// Captures an authorization. Returns the status after (captured when it
  /// was authorized or captured already).
  domain::PaymentStatus capture(const std::string& payment_id);
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

  struct Entry {
    domain::Money amount = 0;
    domain::PaymentStatus status = domain::PaymentStatus::none;
  };
  /// Every payment the gateway knows, by payment id.
  std::unordered_map<std::string, Entry> entries() const;

 private:
  /// charge / authorize: `op` ('C' or 'A') on a new payment, else the first
  /// outcome again.
  Charge first_outcome(char op, const std::string& payment_id, domain::Money amount, bool approve);
  /// Appends one change to the journal (caller holds mu_).
  void journal(char op, const std::string& payment_id, domain::Money amount);
  /// Applies one change (caller holds mu_ or is replaying).
  void apply(char op, const std::string& payment_id, domain::Money amount);

  mutable std::mutex mu_;
  int journal_fd_ = -1;
  std::unordered_map<std::string, Entry> entries_;
  Totals totals_;
};

}  // namespace troupe::actors
