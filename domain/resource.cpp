#include "domain/resource.hpp"

#include <limits>

namespace troupe::domain {

const char* to_string(Mode m) {
  switch (m) {
    case Mode::capacity: return "capacity";
    case Mode::calendar: return "calendar";
    case Mode::dispatch: return "dispatch";
  }
  return "capacity";
}

const char* to_string(PriceUnit u) {
  switch (u) {
    case PriceUnit::none: return "none";
    case PriceUnit::hour: return "hour";
    case PriceUnit::day: return "day";
    case PriceUnit::night: return "night";
  }
  return "none";
}

Result<Mode> parse_mode(std::string_view s) {
  if (s == "capacity") return Mode::capacity;
  if (s == "calendar") return Mode::calendar;
  if (s == "dispatch") return Mode::dispatch;
  return make_error(ErrorKind::invalid_input,
                    "mode must be one of capacity, calendar, dispatch");
}

Result<PriceUnit> parse_price_unit(std::string_view s) {
  if (s == "hour") return PriceUnit::hour;
  if (s == "day") return PriceUnit::day;
  if (s == "night") return PriceUnit::night;
  return make_error(ErrorKind::invalid_input, "priceUnit must be one of hour, day, night");
}

bool is_valid_client_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> default_steps(std::string_view type) {
  if (type == "appliance") return {"taken", "packed", "shipped", "delivered"};
  if (type == "room" || type == "hotel") return {"checked_in", "checked_out"};
  if (type == "car") return {"picked_up", "returned"};
  return {};
}

PriceUnit default_price_unit(std::string_view type) {
  if (type == "room" || type == "hotel") return PriceUnit::night;
  if (type == "car") return PriceUnit::hour;
  return PriceUnit::day;
}

namespace {
Error invalid(std::string detail) { return make_error(ErrorKind::invalid_input, std::move(detail)); }
}  // namespace

Result<ResourceSpec> normalize(ResourceSpec r) {
  if (!is_valid_client_id(r.id))
    return invalid("id must be 1-128 characters of letters, digits, '-', '_', '.'");
  if (!is_valid_client_id(r.type))
    return invalid("type must be 1-128 characters of letters, digits, '-', '_', '.'");
  if (r.name.empty() || r.name.size() > 200) return invalid("name must be 1-200 characters");
  if (r.price < 0 || r.price > max_price)
    return invalid("price must be between 0 and " + std::to_string(max_price));
  switch (r.mode) {
    case Mode::capacity:
      if (r.capacity < 1 || r.capacity > max_capacity)
        return invalid("capacity must be between 1 and " + std::to_string(max_capacity));
      if (r.price_unit != PriceUnit::none)
        return invalid("priceUnit applies to calendar resources only");
      break;
    case Mode::calendar:
      if (r.capacity != 0) return invalid("capacity applies to capacity resources only");
      if (r.price_unit == PriceUnit::none) r.price_unit = default_price_unit(r.type);
      break;
    case Mode::dispatch:
      if (r.capacity != 0) return invalid("capacity applies to capacity resources only");
      if (r.price_unit != PriceUnit::none)
        return invalid("priceUnit applies to calendar resources only");
      break;
  }
  if (r.mode == Mode::dispatch) {
    // A delivery call's steps drive its rider and its fee: fixed.
    const std::vector<std::string> fixed = {"accepted", "picked", "completed"};
    if (!r.steps.empty() && r.steps != fixed)
      return invalid("the steps of a dispatch resource are always accepted, picked, completed");
    r.steps = fixed;
  } else if (r.steps.empty()) {
    r.steps = default_steps(r.type);
  } else {
    if (r.steps.size() > 32) return invalid("at most 32 steps");
    for (size_t i = 0; i < r.steps.size(); ++i) {
      const auto& s = r.steps[i];
      if (!is_valid_client_id(s) || s.size() > 64)
        return invalid("each step must be 1-64 characters of letters, digits, '-', '_', '.'");
      if (s == "placed" || s == "held" || s == "paid" || s == "confirmed" || s == "rejected" ||
          s == "cancelled" || s == "called")
        return invalid("step '" + s + "' is a reserved status name");
      for (size_t j = 0; j < i; ++j)
        if (r.steps[j] == s) return invalid("step '" + s + "' is listed twice");
    }
  }
  return r;
}

bool checked_mul(std::int64_t a, std::int64_t b, std::int64_t& out) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > std::numeric_limits<std::int64_t>::max() / a) return false;
  out = a * b;
  return true;
}

Result<Money> capacity_amount(const ResourceSpec& r, std::int64_t quantity) {
  if (r.mode != Mode::capacity) return invalid("resource " + r.id + " is not a capacity resource");
  if (quantity < 1 || quantity > max_quantity)
    return invalid("quantity must be between 1 and " + std::to_string(max_quantity));
  Money amount = 0;
  if (!checked_mul(r.price, quantity, amount)) return invalid("amount would overflow");
  return amount;
}

Result<Money> calendar_amount(const ResourceSpec& r, Timestamp start, Timestamp end) {
  if (r.mode != Mode::calendar) return invalid("resource " + r.id + " is not a calendar resource");
  if (end <= start) return invalid("end must be after start");
  if (end - start > max_booking_length_ms) return invalid("a booking may last at most 366 days");
  const std::int64_t unit_ms = r.price_unit == PriceUnit::hour ? 3'600'000 : 86'400'000;
  const std::int64_t units = (end - start + unit_ms - 1) / unit_ms;
  Money amount = 0;
  if (!checked_mul(r.price, units, amount)) return invalid("amount would overflow");
  return amount;
}

}  // namespace troupe::domain
