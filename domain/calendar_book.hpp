#pragma once
/// The bookings of one calendar resource (a car, a room): one unit, booked in
/// half-open windows [start, end).
///
/// Guarantees: no two bookings (held or confirmed) overlap. Adjacent windows
/// ([a, b) and [b, c)) do not overlap. Not thread-safe: one owner mutates it.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/error.hpp"
#include "domain/time.hpp"

namespace troupe::domain {

struct Booking {
  std::string order_id;
  Timestamp start = 0;
  Timestamp end = 0;
  bool confirmed = false;
};

class CalendarBook {
 public:
  /// Holds [start, end) for `order_id`. invalid_input: empty or inverted
  /// window. conflict: the order already holds a window. unavailable: the
  /// window overlaps another booking (the detail names the clashing window).
  Status hold(const std::string& order_id, Timestamp start, Timestamp end);

  /// not_found: no booking. conflict: already confirmed.
  Status confirm(const std::string& order_id);

  /// Frees the order's window. not_found when it has none.
  Result<Booking> release(const std::string& order_id);

  /// Ends a booking early at `at` (check-out): the rest of the window is free
  /// again. A booking cut to nothing is removed. not_found when no booking.
  Status end_at(const std::string& order_id, Timestamp at);

  /// Re-creates a confirmed booking on restore; conflict on overlap.
  Status restore_confirmed(const std::string& order_id, Timestamp start, Timestamp end);

  bool holds(const std::string& order_id) const { return by_order_.count(order_id) != 0; }
  bool is_confirmed(const std::string& order_id) const;
  /// Active bookings in start order.
  std::vector<Booking> bookings() const;
  /// True when [start, end) is free.
  bool is_free(Timestamp start, Timestamp end) const;
  size_t size() const { return by_start_.size(); }
  /// Whether any booking is held (not yet confirmed).
  bool has_holds() const;

 private:
  const Booking* clash(Timestamp start, Timestamp end) const;
  std::map<Timestamp, Booking> by_start_;
  std::unordered_map<std::string, Timestamp> by_order_;
};

}  // namespace troupe::domain
