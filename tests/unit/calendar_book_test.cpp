// Scenarios for the bookings of one calendar resource (a car, a room).
#include "domain/calendar_book.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace troupe::domain {
namespace {

constexpr Timestamp H = 3'600'000;  // one hour in ms
// A fixed, readable origin: 2030-01-01T00:00:00Z.
constexpr Timestamp T0 = 1'893'456'000'000;
constexpr Timestamp at(int hours) { return T0 + hours * H; }

// A book with one booking of [10 h, 20 h) for "base".
CalendarBook book_with_base() {
  CalendarBook b;
  EXPECT_TRUE(b.hold("base", at(10), at(20)));
  return b;
}

void expect_unavailable(CalendarBook& b, Timestamp s, Timestamp e) {
  const auto before = b.bookings();
  auto st = b.hold("other", s, e);
  ASSERT_FALSE(st) << "window [" << s << ", " << e << ") should clash";
  EXPECT_EQ(st.error().kind, ErrorKind::unavailable);
  EXPECT_FALSE(b.holds("other"));
  EXPECT_EQ(b.size(), before.size());
  EXPECT_FALSE(b.is_free(s, e));
}

TEST(CalendarBook, HoldsAFreeWindow) {
  CalendarBook b;
  EXPECT_TRUE(b.is_free(at(0), at(5)));
  ASSERT_TRUE(b.hold("o1", at(0), at(5)));
  EXPECT_TRUE(b.holds("o1"));
  EXPECT_EQ(b.size(), 1u);
  auto all = b.bookings();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].order_id, "o1");
  EXPECT_EQ(all[0].start, at(0));
  EXPECT_EQ(all[0].end, at(5));
  EXPECT_FALSE(all[0].confirmed);
}

TEST(CalendarBook, HasHoldsUntilEveryBookingIsConfirmed) {
  CalendarBook b;
  EXPECT_FALSE(b.has_holds());
  ASSERT_TRUE(b.hold("o1", at(0), at(5)));
  ASSERT_TRUE(b.restore_confirmed("o2", at(6), at(8)));
  EXPECT_TRUE(b.has_holds());
  ASSERT_TRUE(b.confirm("o1"));
  EXPECT_FALSE(b.has_holds());
}

TEST(CalendarBook, RefusesWindowInsideAnotherBooking) {
  auto b = book_with_base();
  expect_unavailable(b, at(12), at(15));
}

TEST(CalendarBook, RefusesWindowCoveringAnotherBooking) {
  auto b = book_with_base();
  expect_unavailable(b, at(5), at(25));
}

TEST(CalendarBook, RefusesWindowOverlappingTheLeftEdge) {
  auto b = book_with_base();
  expect_unavailable(b, at(5), at(11));
}

TEST(CalendarBook, RefusesWindowOverlappingTheRightEdge) {
  auto b = book_with_base();
  expect_unavailable(b, at(19), at(25));
}

TEST(CalendarBook, RefusesTheIdenticalWindow) {
  auto b = book_with_base();
  expect_unavailable(b, at(10), at(20));
}

TEST(CalendarBook, RefusesWindowsSharingOneEdgeAndOverlapping) {
  auto b = book_with_base();
  expect_unavailable(b, at(10), at(12));  // same start, shorter
  expect_unavailable(b, at(15), at(20));  // same end, shorter
  expect_unavailable(b, at(10), at(30));  // same start, longer
  expect_unavailable(b, at(0), at(20));   // same end, longer
}

TEST(CalendarBook, RefusesOverlapByASingleMillisecond) {
  auto b = book_with_base();
  expect_unavailable(b, at(0), at(10) + 1);
  expect_unavailable(b, at(20) - 1, at(30));
}

TEST(CalendarBook, RefusesWindowSpanningTwoBookings) {
  CalendarBook b;
  ASSERT_TRUE(b.hold("a", at(0), at(5)));
  ASSERT_TRUE(b.hold("c", at(10), at(15)));
  expect_unavailable(b, at(4), at(11));
  expect_unavailable(b, at(6), at(11));  // free at the start, clashes with "c"
  expect_unavailable(b, at(4), at(9));   // clashes with "a", free at the end
  EXPECT_TRUE(b.hold("b", at(5), at(10)));  // the gap fits exactly
}

TEST(CalendarBook, AcceptsAdjacentWindowAfter) {
  auto b = book_with_base();
  EXPECT_TRUE(b.is_free(at(20), at(30)));
  ASSERT_TRUE(b.hold("next", at(20), at(30)));
  EXPECT_EQ(b.size(), 2u);
}

TEST(CalendarBook, AcceptsAdjacentWindowBefore) {
  auto b = book_with_base();
  EXPECT_TRUE(b.is_free(at(0), at(10)));
  ASSERT_TRUE(b.hold("prev", at(0), at(10)));
  EXPECT_EQ(b.size(), 2u);
}

TEST(CalendarBook, AcceptsAdjacentWindowsOnBothSides) {
  auto b = book_with_base();
  ASSERT_TRUE(b.hold("prev", at(0), at(10)));
  ASSERT_TRUE(b.hold("next", at(20), at(30)));
  EXPECT_EQ(b.size(), 3u);
  // The day is now fully booked from 0 h to 30 h.
  expect_unavailable(b, at(9), at(21));
}

TEST(CalendarBook, RejectsZeroLengthWindow) {
  CalendarBook b;
  auto st = b.hold("o1", at(5), at(5));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
  EXPECT_FALSE(b.holds("o1"));
  EXPECT_EQ(b.size(), 0u);
  EXPECT_FALSE(b.is_free(at(5), at(5)));
}

TEST(CalendarBook, RejectsInvertedWindow) {
  CalendarBook b;
  auto st = b.hold("o1", at(6), at(5));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
  EXPECT_FALSE(b.holds("o1"));
  EXPECT_EQ(b.size(), 0u);
  EXPECT_FALSE(b.is_free(at(6), at(5)));
}

TEST(CalendarBook, InvalidWindowIsReportedEvenWhereItWouldClash) {
  auto b = book_with_base();
  auto st = b.hold("o1", at(15), at(12));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
}

TEST(CalendarBook, RefusesSecondWindowForTheSameOrder) {
  auto b = book_with_base();
  auto st = b.hold("base", at(30), at(40));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_TRUE(b.is_free(at(30), at(40)));
}

TEST(CalendarBook, ReleaseFreesTheWindowForAnotherBooking) {
  auto b = book_with_base();
  auto r = b.release("base");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->order_id, "base");
  EXPECT_EQ(r->start, at(10));
  EXPECT_EQ(r->end, at(20));
  EXPECT_FALSE(b.holds("base"));
  EXPECT_EQ(b.size(), 0u);
  EXPECT_TRUE(b.is_free(at(10), at(20)));
  ASSERT_TRUE(b.hold("o2", at(10), at(20)));
}

TEST(CalendarBook, ReleaseOfAConfirmedBookingFreesTheWindow) {
  auto b = book_with_base();
  ASSERT_TRUE(b.confirm("base"));
  auto r = b.release("base");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->confirmed);
  ASSERT_TRUE(b.hold("o2", at(12), at(18)));
}

TEST(CalendarBook, ReleaseTwiceIsNotFound) {
  auto b = book_with_base();
  ASSERT_TRUE(b.hold("other", at(30), at(40)));
  ASSERT_TRUE(b.release("base"));
  auto again = b.release("base");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::not_found);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_TRUE(b.holds("other"));
}

TEST(CalendarBook, ReleaseOfUnknownOrderIsNotFound) {
  CalendarBook b;
  auto r = b.release("ghost");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
}

TEST(CalendarBook, ConfirmMakesTheBookingFinal) {
  auto b = book_with_base();
  ASSERT_TRUE(b.confirm("base"));
  auto all = b.bookings();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].confirmed);
  // A confirmed booking still blocks its window.
  expect_unavailable(b, at(15), at(16));
}

TEST(CalendarBook, ReportsWhetherAnOrderIsConfirmed) {
  auto b = book_with_base();
  EXPECT_FALSE(b.is_confirmed("base"));
  EXPECT_FALSE(b.is_confirmed("ghost"));
  ASSERT_TRUE(b.confirm("base"));
  EXPECT_TRUE(b.is_confirmed("base"));
  ASSERT_TRUE(b.release("base"));
  EXPECT_FALSE(b.is_confirmed("base"));
}

TEST(CalendarBook, ConfirmTwiceIsAConflict) {
  auto b = book_with_base();
  ASSERT_TRUE(b.confirm("base"));
  auto st = b.confirm("base");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_TRUE(b.bookings()[0].confirmed);
}

TEST(CalendarBook, ConfirmWithoutHoldIsNotFound) {
  CalendarBook b;
  auto st = b.confirm("ghost");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::not_found);
}

TEST(CalendarBook, CheckOutEarlyFreesTheRestOfTheWindow) {
  auto b = book_with_base();
  ASSERT_TRUE(b.confirm("base"));
  ASSERT_TRUE(b.end_at("base", at(14)));
  auto all = b.bookings();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].start, at(10));
  EXPECT_EQ(all[0].end, at(14));
  EXPECT_TRUE(all[0].confirmed);
  EXPECT_TRUE(b.holds("base"));
  EXPECT_TRUE(b.is_free(at(14), at(20)));
  EXPECT_FALSE(b.is_free(at(13), at(15)));
  ASSERT_TRUE(b.hold("next", at(14), at(20)));
}

TEST(CalendarBook, CheckOutAtOrBeforeTheStartRemovesTheBooking) {
  for (Timestamp when : {at(10), at(5)}) {
    auto b = book_with_base();
    ASSERT_TRUE(b.end_at("base", when));
    EXPECT_FALSE(b.holds("base"));
    EXPECT_EQ(b.size(), 0u);
    EXPECT_TRUE(b.is_free(at(10), at(20)));
    // Gone means gone: releasing it afterwards is not found.
    auto r = b.release("base");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  }
}

TEST(CalendarBook, CheckOutAtOrAfterTheEndChangesNothing) {
  for (Timestamp when : {at(20), at(25)}) {
    auto b = book_with_base();
    ASSERT_TRUE(b.end_at("base", when));
    auto all = b.bookings();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].end, at(20));
  }
}

TEST(CalendarBook, CheckOutOfUnknownOrderIsNotFound) {
  CalendarBook b;
  auto st = b.end_at("ghost", at(1));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::not_found);
}

TEST(CalendarBook, BookingsAreListedInStartOrder) {
  CalendarBook b;
  ASSERT_TRUE(b.hold("c", at(40), at(50)));
  ASSERT_TRUE(b.hold("a", at(0), at(10)));
  ASSERT_TRUE(b.hold("d", at(60), at(61)));
  ASSERT_TRUE(b.hold("b", at(10), at(20)));
  auto all = b.bookings();
  ASSERT_EQ(all.size(), 4u);
  std::vector<std::string> ids;
  for (const auto& bk : all) ids.push_back(bk.order_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c", "d"}));
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].start, all[i].start);
    EXPECT_LE(all[i - 1].end, all[i].start);  // never overlapping
  }
}

TEST(CalendarBook, RestoreConfirmedRecreatesAFinalBooking) {
  CalendarBook b;
  ASSERT_TRUE(b.restore_confirmed("o1", at(0), at(10)));
  EXPECT_TRUE(b.holds("o1"));
  auto all = b.bookings();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].confirmed);
}

TEST(CalendarBook, RefusesRestoreThatOverlaps) {
  auto b = book_with_base();
  auto st = b.restore_confirmed("o1", at(15), at(25));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_FALSE(b.holds("o1"));
  EXPECT_EQ(b.size(), 1u);
}

TEST(CalendarBook, RefusesRestoreOfAnInvalidWindow) {
  CalendarBook b;
  auto st = b.restore_confirmed("o1", at(5), at(5));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(b.size(), 0u);
}

}  // namespace
}  // namespace troupe::domain
