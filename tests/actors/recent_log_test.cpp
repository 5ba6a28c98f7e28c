// The store actor's hand-over of durable event-log entries to the
// subscribers: a gap-free run after the reader's cursor, the newest entries
// kept, values shared.

#include <gtest/gtest.h>

#include "actors/recent_log.hpp"

using troupe::actors::RecentLog;

namespace {

std::vector<RecentLog::Entry> entries(std::initializer_list<std::uint64_t> seqs) {
  std::vector<RecentLog::Entry> out;
  for (auto s : seqs) out.emplace_back(s, std::make_shared<const std::string>("E1\tv" + std::to_string(s)));
  return out;
}

std::vector<std::uint64_t> seqs(const std::vector<RecentLog::Entry>& es) {
  std::vector<std::uint64_t> out;
  for (const auto& e : es) out.push_back(e.first);
  return out;
}

using Seqs = std::vector<std::uint64_t>;

TEST(RecentLog, HandsOutOnlyTheRunThatFollowsTheCursorWithoutAGap) {
  RecentLog log(100);
  log.put(entries({3, 4, 5}));
  log.put(entries({7, 8}));  // 6: a commit that failed
  std::vector<RecentLog::Entry> got;
  log.take(2, 10, got);
  EXPECT_EQ(seqs(got), (Seqs{3, 4, 5})) << "stops before the gap at 6";
  EXPECT_EQ(*got[1].second, "E1\tv4");
  got.clear();
  log.take(1, 10, got);
  EXPECT_TRUE(got.empty()) << "2 is not held: the reader must go to the store";
  got.clear();
  log.take(6, 10, got);
  EXPECT_EQ(seqs(got), (Seqs{7, 8}));
  got.clear();
  log.take(3, 1, got);
  EXPECT_EQ(seqs(got), (Seqs{4})) << "at most the limit";
  got.clear();
  log.take(8, 10, got);
  EXPECT_TRUE(got.empty()) << "nothing after the newest";
}

TEST(RecentLog, KeepsTheNewestEntriesUpToItsCapacity) {
  RecentLog log(3);
  log.put(entries({1, 2, 3, 4, 5}));
  EXPECT_EQ(log.size(), 3u);
  std::vector<RecentLog::Entry> got;
  log.take(0, 10, got);
  EXPECT_TRUE(got.empty()) << "1 was dropped";
  log.take(2, 10, got);
  EXPECT_EQ(seqs(got), (Seqs{3, 4, 5}));
  RecentLog none(0);
  none.put(entries({1}));
  EXPECT_EQ(none.size(), 0u);
}

TEST(RecentLog, AnEntryNotAboveTheNewestStartsTheLogAfresh) {
  RecentLog log(100);
  log.put(entries({10, 11, 12}));
  // A restarted store actor numbering from an older head: what is held may
  // not be the log any more.
  log.put(entries({11, 12}));
  EXPECT_EQ(log.size(), 2u);
  std::vector<RecentLog::Entry> got;
  log.take(10, 10, got);
  EXPECT_EQ(seqs(got), (Seqs{11, 12}));
}

TEST(RecentLog, ValuesAreSharedNotCopied) {
  RecentLog log(100);
  auto es = entries({1});
  const std::string* value = es[0].second.get();
  log.put(std::move(es));
  std::vector<RecentLog::Entry> a, b;
  log.take(0, 1, a);
  log.take(0, 1, b);
  EXPECT_EQ(a[0].second.get(), value);
  EXPECT_EQ(b[0].second.get(), value);
}

}  // namespace
