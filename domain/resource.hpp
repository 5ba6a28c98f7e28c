#pragma once
/// What a bookable resource is: its registration, validation and price rule.
///
/// Money is an integer in the currency's minor unit (`Money`). The amount of
/// an order is always computed here, by the server, never taken from a client:
///   - capacity mode: price x quantity
///   - calendar mode: price x billed units, where billed units =
///     ceil((end - start) / unit) and unit is 1 h (`hour`) or 24 h (`day`,
///     `night`). A 25-hour stay at a nightly price is billed 2 nights.
///   - dispatch mode: the call's fee (1 .. max_price), authorized when the
///     call is made and captured when it is completed. Its steps are always
///     accepted (a rider, a capacity resource, takes it), picked, completed.
/// Arithmetic is checked: an amount that would overflow is invalid_input.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "domain/time.hpp"

namespace troupe::domain {

using Money = std::int64_t;

/// Upper bounds that keep every computation far from overflow.
inline constexpr std::int64_t max_capacity = 1'000'000'000;
inline constexpr Money max_price = 1'000'000'000'000;      // 10^12 minor units
inline constexpr std::int64_t max_quantity = 1'000'000'000;
inline constexpr Timestamp max_booking_length_ms = 366LL * 24 * 3600 * 1000;

enum class Mode : std::uint8_t { capacity, calendar, dispatch };
enum class PriceUnit : std::uint8_t { none, hour, day, night };

const char* to_string(Mode m);
const char* to_string(PriceUnit u);
Result<Mode> parse_mode(std::string_view s);
Result<PriceUnit> parse_price_unit(std::string_view s);

/// Ids a client supplies: 1–128 of [A-Za-z0-9._-].
bool is_valid_client_id(std::string_view id);

/// A resource as registered by an admin. Plain value; equality is content.
struct ResourceSpec {
  std::string id;
  std::string type;   ///< business type: musical, room, car, appliance, zone, rider…
  std::string name;
  Mode mode = Mode::capacity;
  std::int64_t capacity = 0;   ///< capacity mode only (seats, units in stock)
  Money price = 0;             ///< per unit, per billed time unit
  PriceUnit price_unit = PriceUnit::none;  ///< calendar mode only
  std::vector<std::string> steps;          ///< fulfillment steps after confirmation
  friend bool operator==(const ResourceSpec& a, const ResourceSpec& b) {
    return a.id == b.id && a.type == b.type && a.name == b.name && a.mode == b.mode &&
           a.capacity == b.capacity && a.price == b.price && a.price_unit == b.price_unit &&
           a.steps == b.steps;
  }
  friend bool operator!=(const ResourceSpec& a, const ResourceSpec& b) { return !(a == b); }
};

/// Default fulfillment steps for a business type (empty for unknown types).
std::vector<std::string> default_steps(std::string_view type);

/// Default price unit of a calendar resource for a business type
/// (room/hotel: night, car: hour, otherwise day).
PriceUnit default_price_unit(std::string_view type);

/// Checks a registration and fills defaults (steps, price unit). Returns the
/// normalized spec or invalid_input naming the offending field.
Result<ResourceSpec> normalize(ResourceSpec spec);

/// Amount for `quantity` units of a capacity resource.
Result<Money> capacity_amount(const ResourceSpec& r, std::int64_t quantity);

/// Amount for the window [start, end) of a calendar resource.
Result<Money> calendar_amount(const ResourceSpec& r, Timestamp start, Timestamp end);

/// Checked a * b for non-negative operands.
bool checked_mul(std::int64_t a, std::int64_t b, std::int64_t& out);

}  // namespace troupe::domain
