#include "domain/capacity_book.hpp"

namespace troupe::domain {

Status CapacityBook::hold(const std::string& order_id, std::int64_t quantity) {
  if (quantity < 1) return make_error(ErrorKind::invalid_input, "quantity must be at least 1");
  if (allocs_.count(order_id))
    return make_error(ErrorKind::conflict, "order " + order_id + " already holds units");
  if (quantity > available())
    return make_error(ErrorKind::unavailable, "requested " + std::to_string(quantity) +
                                                  ", only " + std::to_string(available()) +
                                                  " available");
  allocs_.emplace(order_id, Allocation{quantity, false});
  held_ += quantity;
  return ok_status();
}

Status CapacityBook::confirm(const std::string& order_id) {
  auto it = allocs_.find(order_id);
  if (it == allocs_.end())
    return make_error(ErrorKind::not_found, "order " + order_id + " holds nothing");
  if (it->second.confirmed)
    return make_error(ErrorKind::conflict, "order " + order_id + " is already confirmed");
  it->second.confirmed = true;
  held_ -= it->second.quantity;
  confirmed_ += it->second.quantity;
  return ok_status();
}

Result<std::int64_t> CapacityBook::release(const std::string& order_id) {
  auto it = allocs_.find(order_id);
  if (it == allocs_.end())
    return make_error(ErrorKind::not_found, "order " + order_id + " holds nothing");
  const auto q = it->second.quantity;
  (it->second.confirmed ? confirmed_ : held_) -= q;
  allocs_.erase(it);
  return q;
}

Status CapacityBook::restore_confirmed(const std::string& order_id, std::int64_t quantity) {
  if (quantity < 1) return make_error(ErrorKind::invalid_input, "quantity must be at least 1");
  if (allocs_.count(order_id))
    return make_error(ErrorKind::conflict, "order " + order_id + " already restored");
  if (quantity > available())
    return make_error(ErrorKind::conflict, "restoring order " + order_id + " exceeds capacity");
  allocs_.emplace(order_id, Allocation{quantity, true});
  confirmed_ += quantity;
  return ok_status();
}

bool CapacityBook::is_confirmed(const std::string& order_id) const {
  auto it = allocs_.find(order_id);
  return it != allocs_.end() && it->second.confirmed;
}

}  // namespace troupe::domain
