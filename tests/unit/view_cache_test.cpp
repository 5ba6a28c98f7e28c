// The view cache and the group change counters it is stamped with.

#include <gtest/gtest.h>

#include "http/view_cache.hpp"
#include "persistence/group_versions.hpp"

using troupe::http::ViewCache;
using troupe::persistence::GroupVersions;

namespace {

TEST(GroupVersions, AWriteChangesItsGroupOnly) {
  GroupVersions v;
  const auto page = v.of("mypage/alice");
  const auto other = v.of("mypage/bob");
  v.changed("mypage/alice/o-1.00000000000000000007");
  EXPECT_NE(v.of("mypage/alice"), page);
  EXPECT_EQ(v.of("mypage/bob"), other);
  v.changed("no-group");  // a key without a group changes nothing
  EXPECT_EQ(v.of("mypage/bob"), other);
}

TEST(ViewCache, AnswersOnlyABodyStampedWithTheCurrentVersions) {
  GroupVersions v;
  ViewCache cache(16);
  const ViewCache::Stamp before{v.of("mypage/alice"), v.of("notif/alice")};
  EXPECT_FALSE(cache.find("mypage alice", before));
  cache.put("mypage alice", before, "page-1");
  EXPECT_EQ(cache.find("mypage alice", before).value_or(""), "page-1");
  // A notification for alice arrives: the page is stale.
  v.changed("notif/alice/00000000000000000009");
  const ViewCache::Stamp after{v.of("mypage/alice"), v.of("notif/alice")};
  EXPECT_FALSE(cache.find("mypage alice", after));
  cache.put("mypage alice", after, "page-2");
  EXPECT_EQ(cache.find("mypage alice", after).value_or(""), "page-2");
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(ViewCache, KeepsAtMostItsCapacityAndNothingAtZero) {
  ViewCache cache(16);  // one per shard
  for (int i = 0; i < 1000; ++i) cache.put("k" + std::to_string(i), {0, 0}, "body");
  int kept = 0;
  for (int i = 0; i < 1000; ++i) kept += cache.find("k" + std::to_string(i), {0, 0}) ? 1 : 0;
  EXPECT_GT(kept, 0);
  EXPECT_LE(kept, 16);
  ViewCache none(0);
  none.put("k", {0, 0}, "body");
  EXPECT_FALSE(none.find("k", {0, 0}));
}

}  // namespace
