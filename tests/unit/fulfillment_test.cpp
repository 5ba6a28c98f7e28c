// Fulfillment steps, cancellation cut-offs and delivery calls (domain rules).
#include "domain/order.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace troupe::domain {
namespace {

ResourceSpec spec_of(const std::string& type, Mode mode) {
  ResourceSpec r;
  r.id = type + "-1";
  r.type = type;
  r.name = type;
  r.mode = mode;
  r.capacity = mode == Mode::capacity ? 5 : 0;
  r.price = 100;
  auto n = normalize(r);
  EXPECT_TRUE(n.ok()) << n.error().detail;
  return *n;
}

Order confirmed_order(const ResourceSpec& r) {
  Order o = place("o-1", r.id, "c-1", r.mode, 1);
  EXPECT_TRUE(advance(o, OrderPhase::held, 2));
  EXPECT_TRUE(advance(o, OrderPhase::paid, 3));
  EXPECT_TRUE(advance(o, OrderPhase::confirmed, 4));
  return o;
}

TEST(Fulfillment, StepsGoInOrderAndTheStatusFollows) {
  auto r = spec_of("appliance", Mode::capacity);
  auto o = confirmed_order(r);
  EXPECT_EQ(o.status(), "confirmed");
  auto skip = advance_step(o, r.steps, "packed", 5);
  ASSERT_FALSE(skip.ok());
  EXPECT_EQ(skip.error().kind, ErrorKind::conflict);
  EXPECT_EQ(o.status(), "confirmed") << "a refused step changes nothing";
  for (const char* s : {"taken", "packed", "shipped", "delivered"}) {
    ASSERT_TRUE(advance_step(o, r.steps, s, 6).ok()) << s;
    EXPECT_EQ(o.status(), s);
    EXPECT_EQ(o.history.back().status, s);
  }
  auto again = advance_step(o, r.steps, "delivered", 7);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::conflict);
}

TEST(Fulfillment, UnknownStepIsInvalidInputAndNamesTheSteps) {
  auto r = spec_of("room", Mode::calendar);
  auto o = confirmed_order(r);
  auto st = advance_step(o, r.steps, "cleaned", 5);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(st.error().detail.find("checked_in"), std::string::npos);
  auto musical = spec_of("musical", Mode::capacity);
  auto m = confirmed_order(musical);
  EXPECT_EQ(advance_step(m, musical.steps, "taken", 5).error().kind, ErrorKind::invalid_input);
}

TEST(Fulfillment, StepsApplyToConfirmedOrdersOnly) {
  auto r = spec_of("car", Mode::calendar);
  Order o = place("o-1", r.id, "c-1", r.mode, 1);
  auto st = advance_step(o, r.steps, "picked_up", 2);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
}

TEST(Fulfillment, CancellationStopsAtEachDomainsPointOfNoReturn) {
  struct Case {
    std::string type;
    Mode mode;
    std::string last_cancellable;  // "" = before any step
    std::string stop;
  };
  for (const auto& c : std::vector<Case>{{"appliance", Mode::capacity, "shipped", "delivered"},
                                         {"car", Mode::calendar, "", "picked_up"},
                                         {"room", Mode::calendar, "", "checked_in"},
                                         {"zone", Mode::dispatch, "accepted", "picked"}}) {
    auto r = spec_of(c.type, c.mode);
    EXPECT_EQ(point_of_no_return(r), c.stop) << c.type;
    auto o = confirmed_order(r);
    EXPECT_TRUE(check_cancellable(o, r).ok()) << c.type << " before any step";
    for (const auto& s : r.steps) {
      if (s == c.stop) break;
      ASSERT_TRUE(advance_step(o, r.steps, s, 5).ok());
      EXPECT_TRUE(check_cancellable(o, r).ok()) << c.type << " at " << s;
    }
    ASSERT_TRUE(advance_step(o, r.steps, c.stop, 6).ok());
    auto st = check_cancellable(o, r);
    ASSERT_FALSE(st.ok()) << c.type << " at " << c.stop;
    EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  }
  auto musical = spec_of("musical", Mode::capacity);
  EXPECT_EQ(point_of_no_return(musical), "");
  EXPECT_TRUE(check_cancellable(confirmed_order(musical), musical).ok());
}

TEST(Fulfillment, OnlyTheLastStepOfACalendarBookingFreesIt) {
  auto room = spec_of("room", Mode::calendar);
  EXPECT_FALSE(step_frees_resource(room, "checked_in"));
  EXPECT_TRUE(step_frees_resource(room, "checked_out"));
  auto car = spec_of("car", Mode::calendar);
  EXPECT_TRUE(step_frees_resource(car, "returned"));
  auto tv = spec_of("appliance", Mode::capacity);
  EXPECT_FALSE(step_frees_resource(tv, "delivered")) << "delivered stock stays sold";
}

TEST(DeliveryCall, IsCalledOnceConfirmedWithFixedSteps) {
  auto zone = spec_of("zone", Mode::dispatch);
  EXPECT_EQ(zone.steps, (std::vector<std::string>{"accepted", "picked", "completed"}));
  auto o = confirmed_order(zone);
  EXPECT_EQ(o.status(), "called");
  EXPECT_EQ(o.history.back().status, "called");
  ResourceSpec custom = zone;
  custom.steps = {"accepted", "completed"};
  EXPECT_FALSE(normalize(custom).ok());
}

TEST(DeliveryCall, OccupiesItsRiderFromAcceptedUntilCompleted) {
  auto zone = spec_of("zone", Mode::dispatch);
  auto rider = spec_of("rider", Mode::capacity);
  auto o = confirmed_order(zone);
  o.rider_id = rider.id;
  EXPECT_FALSE(occupies(o, rider)) << "not accepted yet";
  ASSERT_TRUE(advance_step(o, zone.steps, "accepted", 5).ok());
  EXPECT_TRUE(occupies(o, rider));
  ASSERT_TRUE(advance_step(o, zone.steps, "picked", 6).ok());
  EXPECT_TRUE(occupies(o, rider));
  ASSERT_TRUE(advance_step(o, zone.steps, "completed", 7).ok());
  EXPECT_FALSE(occupies(o, rider));
  auto other = rider;
  other.id = "rider-2";
  EXPECT_FALSE(occupies(o, other));
}

TEST(DeliveryCall, ACheckedOutRoomNoLongerOccupiesIt) {
  auto room = spec_of("room", Mode::calendar);
  auto o = confirmed_order(room);
  EXPECT_TRUE(occupies(o, room));
  ASSERT_TRUE(advance_step(o, room.steps, "checked_in", 5).ok());
  EXPECT_TRUE(occupies(o, room));
  ASSERT_TRUE(advance_step(o, room.steps, "checked_out", 6).ok());
  EXPECT_FALSE(occupies(o, room));
}

}  // namespace
}  // namespace troupe::domain
