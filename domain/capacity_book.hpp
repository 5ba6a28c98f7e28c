#pragma once
/// The seats/stock ledger of one capacity resource.
///
/// Guarantees: held + confirmed never exceeds capacity, so `available()` is
/// never below zero. Each order owns at most one allocation. Not thread-safe:
/// exactly one owner (the resource actor) mutates it.

#include <cstdint>
#include <string>
#include <unordered_map>

#include "domain/error.hpp"

namespace troupe::domain {

class CapacityBook {
 public:
  explicit CapacityBook(std::int64_t capacity = 0) : capacity_(capacity) {}

  /// Takes `quantity` units for `order_id`, tentatively.
  /// invalid_input: quantity < 1. conflict: the order already holds units.
  /// unavailable: fewer than `quantity` units are left.
  Status hold(const std::string& order_id, std::int64_t quantity);

  /// Makes a hold final. not_found: no allocation. conflict: already confirmed.
  Status confirm(const std::string& order_id);

  /// Gives back whatever the order holds or has confirmed; returns the units.
  /// not_found when the order has nothing here (so releasing twice is safe
  /// to detect).
  Result<std::int64_t> release(const std::string& order_id);

  /// Re-creates a confirmed allocation on restore (no availability check
  /// beyond the invariant: conflict if it would exceed capacity).
  Status restore_confirmed(const std::string& order_id, std::int64_t quantity);

  bool holds(const std::string& order_id) const { return allocs_.count(order_id) != 0; }
  bool is_confirmed(const std::string& order_id) const;
  std::int64_t capacity() const { return capacity_; }
  std::int64_t held() const { return held_; }
  std::int64_t confirmed() const { return confirmed_; }
  std::int64_t available() const { return capacity_ - held_ - confirmed_; }

 private:
  struct Allocation {
    std::int64_t quantity;
    bool confirmed;
  };
  std::int64_t capacity_;
  std::int64_t held_ = 0;
  std::int64_t confirmed_ = 0;
  std::unordered_map<std::string, Allocation> allocs_;
};

}  // namespace troupe::domain
