// Scenarios for the seats/stock ledger of a capacity resource.
#include "domain/capacity_book.hpp"

#include <gtest/gtest.h>

#include <string>

namespace troupe::domain {
namespace {

// The book's counters, captured to prove that a refused call changed nothing.
struct Snapshot {
  std::int64_t held, confirmed, available;
  friend bool operator==(const Snapshot& a, const Snapshot& b) {
    return a.held == b.held && a.confirmed == b.confirmed && a.available == b.available;
  }
};
Snapshot snap(const CapacityBook& b) { return {b.held(), b.confirmed(), b.available()}; }

TEST(CapacityBook, StartsWithEverythingAvailable) {
  CapacityBook book(10);
  EXPECT_EQ(book.capacity(), 10);
  EXPECT_EQ(book.available(), 10);
  EXPECT_EQ(book.held(), 0);
  EXPECT_EQ(book.confirmed(), 0);
  EXPECT_FALSE(book.holds("o1"));
}

TEST(CapacityBook, HoldTakesUnitsTentatively) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 3));
  EXPECT_TRUE(book.holds("o1"));
  EXPECT_FALSE(book.is_confirmed("o1"));
  EXPECT_EQ(book.held(), 3);
  EXPECT_EQ(book.confirmed(), 0);
  EXPECT_EQ(book.available(), 7);
}

TEST(CapacityBook, HoldsAllRemainingUnitsOnExactFit) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 4));
  ASSERT_TRUE(book.hold("o2", 6));
  EXPECT_EQ(book.available(), 0);
  EXPECT_EQ(book.held(), 10);
}

TEST(CapacityBook, HoldsTheWholeCapacityAtOnce) {
  CapacityBook book(5);
  ASSERT_TRUE(book.hold("o1", 5));
  EXPECT_EQ(book.available(), 0);
}

TEST(CapacityBook, RefusesHoldBeyondAvailable) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 4));
  const auto before = snap(book);
  auto st = book.hold("o2", 7);  // one more than the 6 left
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::unavailable);
  EXPECT_FALSE(book.holds("o2"));
  EXPECT_EQ(snap(book), before);
}

TEST(CapacityBook, RefusesOneOverCapacityOnAnEmptyBook) {
  CapacityBook book(3);
  auto st = book.hold("o1", 4);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(book.available(), 3);
  EXPECT_FALSE(book.holds("o1"));
}

TEST(CapacityBook, RefusesAnyHoldWhenSoldOut) {
  CapacityBook book(2);
  ASSERT_TRUE(book.hold("o1", 2));
  ASSERT_TRUE(book.confirm("o1"));
  auto st = book.hold("o2", 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(book.available(), 0);
}

TEST(CapacityBook, RejectsZeroQuantity) {
  CapacityBook book(10);
  auto st = book.hold("o1", 0);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
  EXPECT_FALSE(book.holds("o1"));
  EXPECT_EQ(book.available(), 10);
}

TEST(CapacityBook, RejectsNegativeQuantity) {
  CapacityBook book(10);
  auto st = book.hold("o1", -3);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
  EXPECT_FALSE(book.holds("o1"));
  EXPECT_EQ(book.available(), 10);
  EXPECT_EQ(book.held(), 0);
}

TEST(CapacityBook, RefusesSecondHoldForTheSameOrder) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 2));
  const auto before = snap(book);
  auto st = book.hold("o1", 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(snap(book), before);
}

TEST(CapacityBook, RefusesHoldForAnOrderThatIsAlreadyConfirmed) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 2));
  ASSERT_TRUE(book.confirm("o1"));
  auto st = book.hold("o1", 2);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(book.confirmed(), 2);
  EXPECT_EQ(book.held(), 0);
}

TEST(CapacityBook, ConfirmMovesUnitsFromHeldToConfirmed) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 3));
  ASSERT_TRUE(book.hold("o2", 2));
  ASSERT_TRUE(book.confirm("o1"));
  EXPECT_TRUE(book.is_confirmed("o1"));
  EXPECT_FALSE(book.is_confirmed("o2"));
  EXPECT_EQ(book.held(), 2);
  EXPECT_EQ(book.confirmed(), 3);
  EXPECT_EQ(book.available(), 5);  // confirming does not change availability
}

TEST(CapacityBook, ConfirmTwiceIsAConflict) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 3));
  ASSERT_TRUE(book.confirm("o1"));
  const auto before = snap(book);
  auto st = book.confirm("o1");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(snap(book), before);
}

TEST(CapacityBook, ConfirmWithoutHoldIsNotFound) {
  CapacityBook book(10);
  auto st = book.confirm("ghost");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::not_found);
  EXPECT_EQ(book.confirmed(), 0);
}

TEST(CapacityBook, ReleaseOfAHoldGivesUnitsBack) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 4));
  auto r = book.release("o1");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 4);
  EXPECT_FALSE(book.holds("o1"));
  EXPECT_EQ(book.held(), 0);
  EXPECT_EQ(book.available(), 10);
}

TEST(CapacityBook, ReleaseOfAConfirmedAllocationGivesUnitsBack) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 4));
  ASSERT_TRUE(book.confirm("o1"));
  auto r = book.release("o1");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 4);
  EXPECT_EQ(book.confirmed(), 0);
  EXPECT_EQ(book.held(), 0);
  EXPECT_EQ(book.available(), 10);
  EXPECT_FALSE(book.is_confirmed("o1"));
}

TEST(CapacityBook, CancelTwiceReleasesOnceAndThenIsNotFound) {
  CapacityBook book(10);
  ASSERT_TRUE(book.hold("o1", 4));
  ASSERT_TRUE(book.confirm("o1"));
  ASSERT_TRUE(book.hold("o2", 1));
  ASSERT_TRUE(book.release("o1"));
  const auto before = snap(book);
  auto again = book.release("o1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::not_found);
  EXPECT_EQ(snap(book), before);  // the second cancel gives nothing back twice
  EXPECT_EQ(book.available(), 9);
}

TEST(CapacityBook, ReleaseOfUnknownOrderIsNotFound) {
  CapacityBook book(10);
  auto r = book.release("ghost");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_EQ(book.available(), 10);
}

TEST(CapacityBook, ReleasedUnitsCanBeHeldAgain) {
  CapacityBook book(3);
  ASSERT_TRUE(book.hold("o1", 3));
  ASSERT_FALSE(book.hold("o2", 1));
  ASSERT_TRUE(book.release("o1"));
  ASSERT_TRUE(book.hold("o2", 3));
  // The released order may come back as a fresh allocation later.
  ASSERT_TRUE(book.release("o2"));
  ASSERT_TRUE(book.hold("o1", 1));
  EXPECT_EQ(book.available(), 2);
}

TEST(CapacityBook, AvailableNeverGoesNegative) {
  CapacityBook book(7);
  int n = 0;
  // Greedy customers ask for 3 at a time, then single units, until refused.
  for (std::int64_t q : {3, 3, 3, 1, 1, 1, 2}) {
    const auto id = "o" + std::to_string(n++);
    auto before = book.available();
    auto st = book.hold(id, q);
    if (st) {
      EXPECT_EQ(book.available(), before - q);
    } else {
      EXPECT_EQ(st.error().kind, ErrorKind::unavailable);
      EXPECT_EQ(book.available(), before);
    }
    EXPECT_GE(book.available(), 0);
    EXPECT_LE(book.held() + book.confirmed(), book.capacity());
  }
  EXPECT_EQ(book.available(), 0);
  EXPECT_EQ(book.held(), 7);  // 3 + 3 + 1
}

TEST(CapacityBook, AvailableNeverNegativeAcrossMixedOperations) {
  CapacityBook book(5);
  ASSERT_TRUE(book.hold("a", 2));
  ASSERT_TRUE(book.confirm("a"));
  ASSERT_TRUE(book.hold("b", 3));
  EXPECT_EQ(book.available(), 0);
  EXPECT_FALSE(book.hold("c", 1));
  EXPECT_FALSE(book.restore_confirmed("d", 1));
  ASSERT_TRUE(book.release("b"));
  EXPECT_EQ(book.available(), 3);
  ASSERT_TRUE(book.restore_confirmed("d", 3));
  EXPECT_EQ(book.available(), 0);
  EXPECT_EQ(book.confirmed(), 5);
  EXPECT_EQ(book.held(), 0);
}

TEST(CapacityBook, RestoreConfirmedRecreatesAFinalAllocation) {
  CapacityBook book(10);
  ASSERT_TRUE(book.restore_confirmed("o1", 4));
  EXPECT_TRUE(book.holds("o1"));
  EXPECT_TRUE(book.is_confirmed("o1"));
  EXPECT_EQ(book.confirmed(), 4);
  EXPECT_EQ(book.held(), 0);
  EXPECT_EQ(book.available(), 6);
  auto st = book.confirm("o1");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
}

TEST(CapacityBook, RestoreConfirmedUpToExactCapacity) {
  CapacityBook book(10);
  ASSERT_TRUE(book.restore_confirmed("o1", 6));
  ASSERT_TRUE(book.restore_confirmed("o2", 4));
  EXPECT_EQ(book.available(), 0);
}

TEST(CapacityBook, RefusesRestoreBeyondCapacity) {
  CapacityBook book(10);
  ASSERT_TRUE(book.restore_confirmed("o1", 6));
  const auto before = snap(book);
  auto st = book.restore_confirmed("o2", 5);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_FALSE(book.holds("o2"));
  EXPECT_EQ(snap(book), before);
  EXPECT_GE(book.available(), 0);
}

TEST(CapacityBook, RefusesRestoreOfTheSameOrderTwice) {
  CapacityBook book(10);
  ASSERT_TRUE(book.restore_confirmed("o1", 2));
  auto st = book.restore_confirmed("o1", 2);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(book.confirmed(), 2);
}

TEST(CapacityBook, RejectsRestoreOfNonPositiveQuantity) {
  CapacityBook book(10);
  for (std::int64_t q : {0, -1}) {
    auto st = book.restore_confirmed("o1", q);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
  }
  EXPECT_FALSE(book.holds("o1"));
  EXPECT_EQ(book.available(), 10);
}

TEST(CapacityBook, EmptyBookOffersNothing) {
  CapacityBook book;  // capacity 0
  auto st = book.hold("o1", 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(book.available(), 0);
}

}  // namespace
}  // namespace troupe::domain
