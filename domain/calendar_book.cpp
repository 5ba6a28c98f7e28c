#include "domain/calendar_book.hpp"

namespace troupe::domain {

const Booking* CalendarBook::clash(Timestamp start, Timestamp end) const {
  // Bookings never overlap, so sorted by start they are also sorted by end:
  // only the last booking starting before `end` can reach into [start, end).
  auto it = by_start_.lower_bound(end);
  if (it == by_start_.begin()) return nullptr;
  --it;
  return it->second.end > start ? &it->second : nullptr;
}

bool CalendarBook::is_free(Timestamp start, Timestamp end) const {
  return start < end && clash(start, end) == nullptr;
}

Status CalendarBook::hold(const std::string& order_id, Timestamp start, Timestamp end) {
  if (end <= start) return make_error(ErrorKind::invalid_input, "end must be after start");
  if (by_order_.count(order_id))
    return make_error(ErrorKind::conflict, "order " + order_id + " already holds a window");
  if (const Booking* b = clash(start, end))
    return make_error(ErrorKind::unavailable, "window overlaps a booking from " +
                                                  format_rfc3339(b->start) + " to " +
                                                  format_rfc3339(b->end));
  by_start_.emplace(start, Booking{order_id, start, end, false});
  by_order_.emplace(order_id, start);
  return ok_status();
}

Status CalendarBook::confirm(const std::string& order_id) {
  auto it = by_order_.find(order_id);
  if (it == by_order_.end())
    return make_error(ErrorKind::not_found, "order " + order_id + " holds no window");
  Booking& b = by_start_.at(it->second);
  if (b.confirmed)
    return make_error(ErrorKind::conflict, "order " + order_id + " is already confirmed");
  b.confirmed = true;
  return ok_status();
}

Result<Booking> CalendarBook::release(const std::string& order_id) {
  auto it = by_order_.find(order_id);
  if (it == by_order_.end())
    return make_error(ErrorKind::not_found, "order " + order_id + " holds no window");
  auto bit = by_start_.find(it->second);
  Booking b = bit->second;
  by_start_.erase(bit);
  by_order_.erase(it);
  return b;
}

Status CalendarBook::end_at(const std::string& order_id, Timestamp at) {
  auto it = by_order_.find(order_id);
  if (it == by_order_.end())
    return make_error(ErrorKind::not_found, "order " + order_id + " holds no window");
  Booking& b = by_start_.at(it->second);
  if (at <= b.start) {
    by_start_.erase(it->second);
    by_order_.erase(it);
  } else if (at < b.end) {
    b.end = at;
  }
  return ok_status();
}

Status CalendarBook::restore_confirmed(const std::string& order_id, Timestamp start,
                                       Timestamp end) {
  auto st = hold(order_id, start, end);
  if (!st) {
    if (st.error().kind == ErrorKind::unavailable)
      return make_error(ErrorKind::conflict, "restoring order " + order_id + ": " + st.error().detail);
    return st;
  }
  return confirm(order_id);
}

bool CalendarBook::is_confirmed(const std::string& order_id) const {
  auto it = by_order_.find(order_id);
  return it != by_order_.end() && by_start_.at(it->second).confirmed;
}

std::vector<Booking> CalendarBook::bookings() const {
  std::vector<Booking> out;
  out.reserve(by_start_.size());
  for (const auto& kv : by_start_) out.push_back(kv.second);
  return out;
}

bool CalendarBook::has_holds() const {
  for (const auto& kv : by_start_)
    if (!kv.second.confirmed) return true;
  return false;
}

}  // namespace troupe::domain
