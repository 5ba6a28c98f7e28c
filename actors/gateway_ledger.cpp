#include "actors/gateway_ledger.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace troupe::actors {

using domain::PaymentStatus;

GatewayLedger::~GatewayLedger() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

domain::Status GatewayLedger::open_journal(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  {
    std::ifstream in(path);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      std::istringstream ls(line);
      char op = 0;
      std::string id;
      domain::Money amount = 0;
      if (!(ls >> op >> id >> amount) || std::string("CDVRAP").find(op) == std::string::npos) {
        // A torn last line (the process died mid-write) is dropped.
        if (in.peek() == EOF) break;
        return domain::make_error(domain::ErrorKind::internal,
                                  "gateway journal " + path + ": bad line " + std::to_string(n));
      }
      apply(op, id, amount);
    }
  }
  journal_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (journal_fd_ < 0)
    return domain::make_error(domain::ErrorKind::store_unavailable,
                              "cannot open gateway journal " + path + ": " + std::strerror(errno));
  return domain::ok_status();
}

void GatewayLedger::journal(char op, const std::string& payment_id, domain::Money amount) {
  if (journal_fd_ < 0) return;
  std::string line;
  line += op;
  line += ' ';
  line += payment_id;
  line += ' ';
  line += std::to_string(amount);
  line += '\n';
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t w = ::write(journal_fd_, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the simulation goes on without its journal
    p += w;
    left -= static_cast<size_t>(w);
  }
}

void GatewayLedger::apply(char op, const std::string& payment_id, domain::Money amount) {
  auto& e = entries_[payment_id];
  switch (op) {
    case 'C':
      e.amount = amount;
      e.status = PaymentStatus::captured;
      ++totals_.payments;
      totals_.captured += amount;
      break;
    case 'D':
      e.amount = amount;
      e.status = PaymentStatus::declined;
      ++totals_.payments;
      ++totals_.declined;
      break;
    case 'V':
      e.status = PaymentStatus::voided;
      ++totals_.voided;
      break;
    case 'R':
      e.status = PaymentStatus::refunded;
      totals_.refunded += e.amount;
      break;
    case 'A':
      e.amount = amount;
      e.status = PaymentStatus::authorized;
      ++totals_.payments;
      break;
    case 'P':
      e.status = PaymentStatus::captured;
      totals_.captured += e.amount;
      break;
    default: break;
  }
}

GatewayLedger::Charge GatewayLedger::first_outcome(char op, const std::string& payment_id,
                                                   domain::Money amount, bool approve) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(payment_id);
  const PaymentStatus now = it == entries_.end() ? PaymentStatus::none : it->second.status;
  switch (now) {
    case PaymentStatus::none: {
      const char done = approve ? op : 'D';
      apply(done, payment_id, amount);
      journal(done, payment_id, amount);
      return approve ? Charge::captured : Charge::declined;
    }
    case PaymentStatus::voided:
      ++totals_.late_charges_refused;
      return Charge::voided;
    case PaymentStatus::declined: return Charge::declined;
    default: return Charge::captured;  // authorized or later: the first outcome
  }
}

GatewayLedger::Charge GatewayLedger::charge(const std::string& payment_id, domain::Money amount,
                                            bool approve) {
  return first_outcome('C', payment_id, amount, approve);
}

GatewayLedger::Charge GatewayLedger::authorize(const std::string& payment_id,
                                               domain::Money amount, bool approve) {
  return first_outcome('A', payment_id, amount, approve);
}

PaymentStatus GatewayLedger::capture(const std::string& payment_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(payment_id);
  if (it == entries_.end()) return PaymentStatus::none;
  if (it->second.status == PaymentStatus::authorized) {
    apply('P', payment_id, 0);
    journal('P', payment_id, 0);
  }
  return it->second.status;
}

PaymentStatus GatewayLedger::void_payment(const std::string& payment_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(payment_id);
  const PaymentStatus now = it == entries_.end() ? PaymentStatus::none : it->second.status;
  if (now == PaymentStatus::none || now == PaymentStatus::authorized) {
    apply('V', payment_id, 0);
    journal('V', payment_id, 0);
  } else if (now == PaymentStatus::captured) {
    // The success came before the void: give the money back.
    apply('R', payment_id, 0);
    journal('R', payment_id, 0);
  }
  return entries_[payment_id].status;
}

PaymentStatus GatewayLedger::refund(const std::string& payment_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(payment_id);
  if (it == entries_.end()) return PaymentStatus::none;
  if (it->second.status == PaymentStatus::captured) {
    apply('R', payment_id, 0);
    journal('R', payment_id, 0);
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

std::unordered_map<std::string, GatewayLedger::Entry> GatewayLedger::entries() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_;
}

}  // namespace troupe::actors
