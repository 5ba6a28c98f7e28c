// Scenarios for resource registration (normalize) and the amount rule.
#include "domain/resource.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace troupe::domain {
namespace {

using Steps = std::vector<std::string>;
constexpr Timestamp kHour = 3'600'000;
constexpr Timestamp kDay = 24 * kHour;
constexpr Timestamp T0 = 1'893'456'000'000;  // 2030-01-01T00:00:00Z

ResourceSpec musical() {
  ResourceSpec r;
  r.id = "hamilton-2030";
  r.type = "musical";
  r.name = "Hamilton";
  r.mode = Mode::capacity;
  r.capacity = 500;
  r.price = 12'000;
  return r;
}

ResourceSpec room() {
  ResourceSpec r;
  r.id = "room-101";
  r.type = "room";
  r.name = "Room 101";
  r.mode = Mode::calendar;
  r.price = 9'900;
  return r;
}

ResourceSpec car() {
  ResourceSpec r = room();
  r.id = "car-7";
  r.type = "car";
  r.name = "Red car";
  return r;
}

ResourceSpec appliance() {
  ResourceSpec r = musical();
  r.id = "fridge-x";
  r.type = "appliance";
  r.name = "Fridge X";
  r.capacity = 20;
  return r;
}

void expect_invalid(const ResourceSpec& r, const std::string& mentions = {}) {
  auto n = normalize(r);
  ASSERT_FALSE(n) << "expected invalid_input for id '" << r.id << "'";
  EXPECT_EQ(n.error().kind, ErrorKind::invalid_input);
  if (!mentions.empty()) {
    EXPECT_NE(n.error().detail.find(mentions), std::string::npos) << n.error().detail;
  }
}

// ---- normalize: defaults ----------------------------------------------------

TEST(Resource, RoomDefaultsToNightlyPriceAndCheckInOutSteps) {
  auto n = normalize(room());
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_EQ(n->price_unit, PriceUnit::night);
  EXPECT_EQ(n->steps, (Steps{"checked_in", "checked_out"}));
}

TEST(Resource, HotelIsTreatedLikeARoom) {
  auto r = room();
  r.type = "hotel";
  auto n = normalize(r);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->price_unit, PriceUnit::night);
  EXPECT_EQ(n->steps, (Steps{"checked_in", "checked_out"}));
}

TEST(Resource, CarDefaultsToHourlyPriceAndPickUpReturnSteps) {
  auto n = normalize(car());
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_EQ(n->price_unit, PriceUnit::hour);
  EXPECT_EQ(n->steps, (Steps{"picked_up", "returned"}));
}

TEST(Resource, OtherCalendarTypesDefaultToDailyPrice) {
  auto r = room();
  r.type = "boat";
  auto n = normalize(r);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->price_unit, PriceUnit::day);
  EXPECT_TRUE(n->steps.empty());
}

TEST(Resource, ExplicitPriceUnitIsKept) {
  auto r = room();
  r.price_unit = PriceUnit::hour;
  auto n = normalize(r);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->price_unit, PriceUnit::hour);
}

TEST(Resource, ApplianceGetsShippingSteps) {
  auto n = normalize(appliance());
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_EQ(n->steps, (Steps{"taken", "packed", "shipped", "delivered"}));
  EXPECT_EQ(n->price_unit, PriceUnit::none);
}

TEST(Resource, MusicalHasNoSteps) {
  auto n = normalize(musical());
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_TRUE(n->steps.empty());
  EXPECT_EQ(n->price_unit, PriceUnit::none);
  EXPECT_EQ(n->capacity, 500);
}

TEST(Resource, ExplicitStepsReplaceTheDefaults) {
  auto r = room();
  r.steps = {"keys_handed", "cleaned"};
  auto n = normalize(r);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->steps, (Steps{"keys_handed", "cleaned"}));
}

TEST(Resource, NormalizeIsIdempotent) {
  for (const auto& r : {musical(), room(), car(), appliance()}) {
    auto once = normalize(r);
    ASSERT_TRUE(once);
    auto twice = normalize(*once);
    ASSERT_TRUE(twice);
    EXPECT_EQ(*twice, *once) << r.id;
  }
}

TEST(Resource, DispatchResourceNeedsNoCapacityOrUnit) {
  ResourceSpec r;
  r.id = "rider-1";
  r.type = "rider";
  r.name = "Rider";
  r.mode = Mode::dispatch;
  r.price = 500;
  auto n = normalize(r);
  ASSERT_TRUE(n) << n.error().detail;
  EXPECT_EQ(n->price_unit, PriceUnit::none);
  r.capacity = 3;
  expect_invalid(r, "capacity");
  r.capacity = 0;
  r.price_unit = PriceUnit::hour;
  expect_invalid(r, "priceUnit");
}

// ---- normalize: ids ---------------------------------------------------------

TEST(Resource, RejectsEmptyId) {
  auto r = musical();
  r.id = "";
  expect_invalid(r, "id");
}

TEST(Resource, AcceptsIdOf128Characters) {
  auto r = musical();
  r.id = std::string(128, 'a');
  EXPECT_TRUE(normalize(r));
  EXPECT_TRUE(is_valid_client_id(r.id));
}

TEST(Resource, RejectsIdOf129Characters) {
  auto r = musical();
  r.id = std::string(129, 'a');
  expect_invalid(r, "id");
}

TEST(Resource, RejectsIdWithSpaces) {
  auto r = musical();
  r.id = "my show";
  expect_invalid(r, "id");
  r.id = " show";
  expect_invalid(r, "id");
}

TEST(Resource, RejectsIdWithSlash) {
  auto r = musical();
  r.id = "a/b";
  expect_invalid(r, "id");
  r.id = "../etc";
  expect_invalid(r, "id");
}

TEST(Resource, ClientIdAlphabet) {
  EXPECT_TRUE(is_valid_client_id("Az09._-"));
  EXPECT_FALSE(is_valid_client_id(""));
  EXPECT_FALSE(is_valid_client_id("a b"));
  EXPECT_FALSE(is_valid_client_id("a/b"));
  EXPECT_FALSE(is_valid_client_id("a\\b"));
  EXPECT_FALSE(is_valid_client_id("a?b"));
  EXPECT_FALSE(is_valid_client_id("caf\xc3\xa9"));  // non-ASCII
  EXPECT_FALSE(is_valid_client_id(std::string("a\0b", 3)));
}

TEST(Resource, RejectsBadTypeAndName) {
  auto r = musical();
  r.type = "";
  expect_invalid(r, "type");
  r = musical();
  r.type = "big show";
  expect_invalid(r, "type");
  r = musical();
  r.name = "";
  expect_invalid(r, "name");
  r.name = std::string(201, 'n');
  expect_invalid(r, "name");
  r.name = std::string(200, 'n');
  EXPECT_TRUE(normalize(r));
}

// ---- normalize: numbers -----------------------------------------------------

TEST(Resource, RejectsZeroCapacity) {
  auto r = musical();
  r.capacity = 0;
  expect_invalid(r, "capacity");
}

TEST(Resource, RejectsNegativeCapacity) {
  auto r = musical();
  r.capacity = -1;
  expect_invalid(r, "capacity");
}

TEST(Resource, CapacityIsBoundedByMaxCapacity) {
  auto r = musical();
  r.capacity = max_capacity;
  EXPECT_TRUE(normalize(r));
  r.capacity = max_capacity + 1;
  expect_invalid(r, "capacity");
}

TEST(Resource, CalendarResourceHasNoCapacity) {
  auto r = room();
  r.capacity = 1;
  expect_invalid(r, "capacity");
}

TEST(Resource, CapacityResourceHasNoPriceUnit) {
  auto r = musical();
  r.price_unit = PriceUnit::day;
  expect_invalid(r, "priceUnit");
}

TEST(Resource, RejectsNegativePrice) {
  auto r = musical();
  r.price = -1;
  expect_invalid(r, "price");
}

TEST(Resource, PriceIsBoundedByMaxPrice) {
  auto r = musical();
  r.price = 0;  // free events are fine
  EXPECT_TRUE(normalize(r));
  r.price = max_price;
  EXPECT_TRUE(normalize(r));
  r.price = max_price + 1;
  expect_invalid(r, "price");
}

// ---- normalize: steps -------------------------------------------------------

TEST(Resource, RejectsDuplicateStep) {
  auto r = appliance();
  r.steps = {"packed", "shipped", "packed"};
  expect_invalid(r, "twice");
}

TEST(Resource, RejectsReservedStepNames) {
  for (const char* reserved :
       {"placed", "held", "paid", "confirmed", "rejected", "cancelled", "called"}) {
    auto r = appliance();
    r.steps = {"packed", reserved};
    auto n = normalize(r);
    ASSERT_FALSE(n) << reserved;
    EXPECT_EQ(n.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(n.error().detail.find("reserved"), std::string::npos) << n.error().detail;
  }
}

TEST(Resource, RejectsMalformedSteps) {
  auto r = appliance();
  r.steps = {"packed", ""};
  expect_invalid(r, "step");
  r.steps = {"in transit"};
  expect_invalid(r, "step");
  r.steps = {std::string(65, 's')};
  expect_invalid(r, "step");
  r.steps = {std::string(64, 's')};
  EXPECT_TRUE(normalize(r));
}

TEST(Resource, AtMost32Steps) {
  auto r = appliance();
  r.steps.clear();
  for (int i = 0; i < 32; ++i) r.steps.push_back("s" + std::to_string(i));
  EXPECT_TRUE(normalize(r));
  r.steps.push_back("s32");
  expect_invalid(r, "32");
}

// ---- names ------------------------------------------------------------------

TEST(Resource, ModeAndPriceUnitNamesRoundTrip) {
  for (auto m : {Mode::capacity, Mode::calendar, Mode::dispatch}) {
    auto p = parse_mode(to_string(m));
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, m);
  }
  for (auto u : {PriceUnit::hour, PriceUnit::day, PriceUnit::night}) {
    auto p = parse_price_unit(to_string(u));
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, u);
  }
  EXPECT_FALSE(parse_mode("Capacity"));
  EXPECT_FALSE(parse_mode(""));
  EXPECT_FALSE(parse_price_unit("none"));  // not a client choice
  EXPECT_FALSE(parse_price_unit("week"));
}

// ---- amount rule: capacity --------------------------------------------------

TEST(Amount, CapacityIsPriceTimesQuantity) {
  auto r = musical();  // 12'000 per seat
  auto one = capacity_amount(r, 1);
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, 12'000);
  auto four = capacity_amount(r, 4);
  ASSERT_TRUE(four);
  EXPECT_EQ(*four, 48'000);
}

TEST(Amount, FreeEventCostsNothing) {
  auto r = musical();
  r.price = 0;
  auto a = capacity_amount(r, max_quantity);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 0);
}

TEST(Amount, CapacityRejectsNonPositiveOrHugeQuantity) {
  auto r = musical();
  for (std::int64_t q : {std::int64_t{0}, std::int64_t{-1}, max_quantity + 1,
                         std::numeric_limits<std::int64_t>::max()}) {
    auto a = capacity_amount(r, q);
    ASSERT_FALSE(a) << q;
    EXPECT_EQ(a.error().kind, ErrorKind::invalid_input);
  }
  EXPECT_TRUE(capacity_amount(r, max_quantity));
}

TEST(Amount, CapacityOverflowIsInvalidInput) {
  auto r = musical();
  r.price = max_price;  // 10^12 x 10^9 = 10^21 > 2^63
  auto a = capacity_amount(r, max_quantity);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(a.error().detail.find("overflow"), std::string::npos);
}

TEST(Amount, CapacityLargestAmountThatFits) {
  auto r = musical();
  r.price = max_price;
  auto a = capacity_amount(r, 9'000'000);  // 9 x 10^18 < 2^63 - 1
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 9'000'000'000'000'000'000);
  auto b = capacity_amount(r, 9'300'000);  // 9.3 x 10^18 > 2^63 - 1
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::invalid_input);
}

TEST(Amount, CapacityAmountOfACalendarResourceIsInvalid) {
  auto a = capacity_amount(room(), 1);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::invalid_input);
}

TEST(Amount, CheckedMultiplication) {
  std::int64_t out = -7;
  EXPECT_TRUE(checked_mul(0, std::numeric_limits<std::int64_t>::max(), out));
  EXPECT_EQ(out, 0);
  EXPECT_TRUE(checked_mul(3, 4, out));
  EXPECT_EQ(out, 12);
  EXPECT_TRUE(checked_mul(1, std::numeric_limits<std::int64_t>::max(), out));
  EXPECT_EQ(out, std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(checked_mul(2, std::numeric_limits<std::int64_t>::max() / 2 + 1, out));
  EXPECT_FALSE(checked_mul(-1, 5, out));
  EXPECT_FALSE(checked_mul(5, -1, out));
}

// ---- amount rule: calendar --------------------------------------------------

Result<Money> nightly(Timestamp length) {
  auto r = normalize(room());  // 9'900 per night
  EXPECT_TRUE(r);
  return calendar_amount(*r, T0, T0 + length);
}

TEST(Amount, ExactlyTwoNightsAreBilledTwoNights) {
  auto a = nightly(2 * kDay);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 2 * 9'900);
}

TEST(Amount, TwentyFiveHoursAtANightlyPriceAreBilledTwoNights) {
  auto a = nightly(25 * kHour);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 2 * 9'900);
}

TEST(Amount, AnyStartedNightIsBilled) {
  auto one_ms = nightly(1);
  ASSERT_TRUE(one_ms);
  EXPECT_EQ(*one_ms, 9'900);
  auto a_day = nightly(kDay);
  ASSERT_TRUE(a_day);
  EXPECT_EQ(*a_day, 9'900);
  auto a_day_and_a_ms = nightly(kDay + 1);
  ASSERT_TRUE(a_day_and_a_ms);
  EXPECT_EQ(*a_day_and_a_ms, 2 * 9'900);
}

TEST(Amount, HourlyCarIsBilledPerStartedHour) {
  auto r = normalize(car());  // 9'900 per hour
  ASSERT_TRUE(r);
  auto ninety_minutes = calendar_amount(*r, T0, T0 + 90 * 60'000);
  ASSERT_TRUE(ninety_minutes);
  EXPECT_EQ(*ninety_minutes, 2 * 9'900);
  auto three_hours = calendar_amount(*r, T0, T0 + 3 * kHour);
  ASSERT_TRUE(three_hours);
  EXPECT_EQ(*three_hours, 3 * 9'900);
}

TEST(Amount, DailyPriceIsBilledPerStartedDay) {
  auto r = room();
  r.price_unit = PriceUnit::day;
  auto a = calendar_amount(r, T0, T0 + 36 * kHour);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 2 * 9'900);
}

TEST(Amount, CalendarRejectsInvertedWindow) {
  auto r = normalize(room());
  ASSERT_TRUE(r);
  auto a = calendar_amount(*r, T0 + kDay, T0);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::invalid_input);
}

TEST(Amount, CalendarRejectsEmptyWindow) {
  auto r = normalize(room());
  ASSERT_TRUE(r);
  auto a = calendar_amount(*r, T0, T0);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::invalid_input);
}

TEST(Amount, CalendarBookingIsAtMost366Days) {
  auto r = normalize(room());
  ASSERT_TRUE(r);
  auto longest = calendar_amount(*r, T0, T0 + 366 * kDay);
  ASSERT_TRUE(longest);
  EXPECT_EQ(*longest, 366 * 9'900);
  auto too_long = calendar_amount(*r, T0, T0 + 366 * kDay + 1);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().kind, ErrorKind::invalid_input);
}

TEST(Amount, CalendarAtTheHighestPriceDoesNotOverflow) {
  auto r = car();
  r.price = max_price;
  auto n = normalize(r);
  ASSERT_TRUE(n);
  auto a = calendar_amount(*n, T0, T0 + 366 * kDay);  // 8'784 hours
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, max_price * 366 * 24);
}

TEST(Amount, CalendarOverflowIsInvalidInput) {
  auto r = car();
  r.price_unit = PriceUnit::hour;
  r.price = std::numeric_limits<std::int64_t>::max() / 2;  // not a normalized price
  auto a = calendar_amount(r, T0, T0 + 3 * kHour);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::invalid_input);
}

TEST(Amount, CalendarAmountOfACapacityResourceIsInvalid) {
  auto a = calendar_amount(musical(), T0, T0 + kDay);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::invalid_input);
}

}  // namespace
}  // namespace troupe::domain
