// The subscribers' shared cache of decoded log entries: it hands out only a
// gap-free run after the reader's cursor, and keeps its newest entries.

#include <gtest/gtest.h>

#include "actors/decoded_events.hpp"

using troupe::actors::DecodedEvents;
using troupe::actors::EventRef;
using troupe::domain::Event;

namespace {

std::vector<EventRef> events(std::initializer_list<std::uint64_t> seqs) {
  std::vector<EventRef> out;
  for (auto s : seqs) {
    Event e;
    e.seq = s;
    e.type = "OrderPlaced";
    e.order_id = "o-" + std::to_string(s);
    out.push_back(std::make_shared<const Event>(std::move(e)));
  }
  return out;
}

std::vector<std::uint64_t> seqs(const std::vector<EventRef>& es) {
  std::vector<std::uint64_t> out;
  for (const auto& e : es) out.push_back(e->seq);
  return out;
}

TEST(DecodedEvents, HandsOutOnlyTheRunThatFollowsTheCursorWithoutAGap) {
  DecodedEvents cache(100);
  cache.put(events({3, 4, 5, 7, 8}));
  std::vector<EventRef> got;
  cache.take(2, 10, got);
  EXPECT_EQ(seqs(got), (std::vector<std::uint64_t>{3, 4, 5})) << "stops before the gap at 6";
  EXPECT_EQ(got[1]->order_id, "o-4");
  got.clear();
  cache.take(0, 10, got);
  EXPECT_TRUE(got.empty()) << "1 and 2 are not cached: the reader must go to the store";
  cache.take(6, 10, got);
  EXPECT_EQ(seqs(got), (std::vector<std::uint64_t>{7, 8}));
  got.clear();
  cache.take(3, 1, got);
  EXPECT_EQ(seqs(got), (std::vector<std::uint64_t>{4})) << "at most the limit";
  got.clear();
  cache.take(8, 10, got);
  EXPECT_TRUE(got.empty());
  cache.put(events({6}));
  cache.take(2, 10, got);
  EXPECT_EQ(seqs(got), (std::vector<std::uint64_t>{3, 4, 5, 6, 7, 8})) << "the gap filled";
}

TEST(DecodedEvents, KeepsTheNewestEntriesUpToItsCapacity) {
  DecodedEvents cache(4);
  cache.put(events({1, 2, 3}));
  cache.put(events({4, 5, 6}));
  EXPECT_EQ(cache.size(), 4u);
  std::vector<EventRef> got;
  cache.take(0, 10, got);
  EXPECT_TRUE(got.empty()) << "the oldest went first";
  cache.take(2, 10, got);
  EXPECT_EQ(seqs(got), (std::vector<std::uint64_t>{3, 4, 5, 6}));
  DecodedEvents none(0);
  none.put(events({1}));
  EXPECT_EQ(none.size(), 0u);
}

TEST(DecodedEvents, EveryReaderSharesTheEntryItWasGivenNotACopy) {
  DecodedEvents cache(10);
  const auto given = events({1, 2});
  cache.put(given);
  std::vector<EventRef> a, b;
  cache.take(0, 10, a);
  cache.take(0, 10, b);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(a[0].get(), given[0].get());
  EXPECT_EQ(b[1].get(), given[1].get());
}

}  // namespace
