// The file store's in-memory index against a plain ordered map of every key
// (what the store used to keep): the same answers to every read after random
// puts and erases, and a compaction walk that, replayed with the writes made
// during it, gives back exactly the live records.

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "persistence/key_index.hpp"

using namespace troupe::persistence;

namespace {

using Model = std::map<std::string, std::string>;

/// Keys of every shape the index tells apart: grouped, nested groups,
/// without '/', empty fields and groups, log entries, log look-alikes.
std::string random_key(std::mt19937& rng) {
  auto n = [&](int m) { return std::to_string(std::uniform_int_distribution<int>(0, m - 1)(rng)); };
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0: return "order/o-1a1ff6744ec-" + n(300);
    case 1: return "mypage/c" + n(20) + "/o-" + n(40) + ".000" + n(9);
    case 2: return "alloc/r" + n(5) + "/o-" + n(60);
    case 3: return log_key(1 + static_cast<std::uint64_t>(std::stoi(n(400))));
    case 4: return "log/x" + n(5);  // not a log entry: a record of group "log"
    case 5: return "root" + n(10);
    case 6: return "a/" + std::string(n(2) == "0" ? "" : "f");
    case 7: return "/lead" + n(3);
    case 8: return "a//b" + n(3);
    default: return "res/r" + n(50);
  }
}

Write random_write(std::mt19937& rng) {
  Write w;
  w.key = random_key(rng);
  w.erase = std::uniform_int_distribution<int>(0, 3)(rng) == 0;
  if (!w.erase) w.value = std::string(std::uniform_int_distribution<size_t>(0, 40)(rng), 'v') + w.key;
  return w;
}

void model_apply(Model& m, const Write& w) {
  if (w.erase)
    m.erase(w.key);
  else
    m[w.key] = w.value;
}

std::vector<Record> model_scan(const Model& m, const std::string& prefix) {
  std::vector<Record> out;
  for (auto it = m.lower_bound(prefix); it != m.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.push_back({it->first, it->second});
  return out;
}

std::vector<Record> model_group(const Model& m, const std::string& group) {
  std::vector<Record> out;
  for (auto& r : model_scan(m, group + "/"))
    if (r.key.find('/', group.size() + 1) == std::string::npos) out.push_back(r);
  return out;
}

std::vector<Record> model_log(const Model& m, std::uint64_t after, size_t limit) {
  std::vector<Record> out;
  for (auto it = m.upper_bound(log_key(after)); it != m.end() && out.size() < limit && log_seq(it->first) != 0; ++it)
    out.push_back({it->first, it->second});
  return out;
}

/// The records in key order, as the store returns a scan (the index leaves
/// the sorting to its caller, outside the caller's lock).
std::vector<Record> sorted(std::vector<Record> rs) {
  sort_by_key(rs);
  return rs;
}

std::string show(const std::vector<Record>& rs) {
  std::string s;
  for (const auto& r : rs) s += r.key + "=" + r.value + " ";
  return s;
}

void expect_same(const KeyIndex& idx, const Model& m) {
  ASSERT_EQ(idx.size(), m.size());
  std::uint64_t bytes = 0;
  for (const auto& [k, v] : m) {
    bytes += k.size() + v.size() + 9;
    const std::string* got = idx.find(k);
    ASSERT_NE(got, nullptr) << k;
    EXPECT_EQ(*got, v) << k;
  }
  EXPECT_EQ(idx.live_bytes(), bytes);
  EXPECT_EQ(idx.find("order/never"), nullptr);
  EXPECT_EQ(idx.find(log_key(100000)), nullptr);
  for (const std::string p : {"", "o", "order/", "order/o-1a1ff6744ec-1", "mypage/", "mypage/c1", "mypage/c1/",
                              "log", "log/", "log/0000", "log/x", "r", "root1", "a/", "/", "a//", "zzz"})
    EXPECT_EQ(show(sorted(idx.scan(p))), show(model_scan(m, p))) << "scan '" << p << "'";
  for (const std::string g : {"order", "mypage/c3", "alloc/r2", "log", "a", "", "a/", "res", "none"})
    EXPECT_EQ(show(sorted(idx.scan_group(g))), show(model_group(m, g))) << "group '" << g << "'";
  for (std::uint64_t after : {0u, 1u, 57u, 200u, 399u, 401u})
    for (size_t limit : {1u, 7u, 1000u})
      EXPECT_EQ(show(idx.read_log(after, limit)), show(model_log(m, after, limit)))
        << "read_log " << after << " " << limit;
}

/// `n` random writes applied to both.
void fill(KeyIndex& idx, Model& m, std::mt19937& rng, int n) {
  for (int i = 0; i < n; ++i) {
    Write w = random_write(rng);
    model_apply(m, w);
    idx.apply(std::move(w));
  }
}

TEST(LogKey, TwentyDigitsInKeyOrderAndBack) {
  EXPECT_EQ(log_key(1), "log/00000000000000000001");
  EXPECT_EQ(log_key(1234567890), "log/00000000001234567890");
  EXPECT_EQ(log_key(UINT64_MAX), "log/18446744073709551615");
  for (std::uint64_t seq : std::initializer_list<std::uint64_t>{1, 9, 10, 99999, 1ull << 40, UINT64_MAX - 1, UINT64_MAX})
    EXPECT_EQ(log_seq(log_key(seq)), seq);
  EXPECT_LT(log_key(9), log_key(10));
  EXPECT_EQ(log_seq("log/1"), 0u);
  EXPECT_EQ(log_seq("log/0000000000000000000x"), 0u);
}

/// The index as the store makes it, and one whose groups split at 8 fields
/// into 4 tables (the store's groups split at 8,192 into 64).
struct Shape {
  size_t split_at, parts;
};
const Shape shapes[] = {{8192, 64}, {8, 4}};

TEST(KeyIndex, AnswersLikeAnOrderedMapOfEveryKey) {
  for (const auto& shape : shapes) {
    SCOPED_TRACE("split at " + std::to_string(shape.split_at));
    std::mt19937 rng(42);
    KeyIndex idx(shape.split_at, shape.parts);
    Model m;
    for (int round = 0; round < 40; ++round) {
      fill(idx, m, rng, 150);
      expect_same(idx, m);
      if (HasFatalFailure()) return;
    }
    // Everything erased: nothing left, not even empty groups' records.
    for (const auto& kv : Model(m)) {
      idx.apply(Write{kv.first, {}, true});
      m.erase(kv.first);
    }
    expect_same(idx, m);
    EXPECT_TRUE(idx.scan("").empty());
  }
}

TEST(KeyIndex, ALogFloorErasesEveryEntryUpToItAndStaysAsARecord) {
  KeyIndex idx;
  for (std::uint64_t seq = 1; seq <= 10; ++seq) idx.apply(Write{log_key(seq), "event " + std::to_string(seq), false});
  idx.apply(Write{"order/o-1", "x", false});
  auto bytes = [](const std::string& key, const std::string& value) { return key.size() + value.size() + 9; };
  idx.apply(Write{log_floor_key, "6", false});
  auto left = idx.read_log(0, 100);
  ASSERT_EQ(left.size(), 4u);
  EXPECT_EQ(left.front().key, log_key(7));
  EXPECT_EQ(left.back().key, log_key(10));
  ASSERT_NE(idx.find(log_floor_key), nullptr);
  EXPECT_EQ(*idx.find(log_floor_key), "6");
  EXPECT_EQ(idx.size(), 6u) << "4 entries, the order and the floor";
  std::uint64_t live = bytes("order/o-1", "x") + bytes(log_floor_key, "6");
  for (std::uint64_t seq = 7; seq <= 10; ++seq) live += bytes(log_key(seq), "event " + std::to_string(seq));
  EXPECT_EQ(idx.live_bytes(), live);
  // A lower floor, one that is no number, or its erase: nothing more goes.
  idx.apply(Write{log_floor_key, "3", false});
  idx.apply(Write{log_floor_key, "9x", false});
  idx.apply(Write{log_floor_key, {}, true});
  EXPECT_EQ(idx.read_log(0, 100).size(), 4u);
  // Past the end: the log is empty, and appends go on above it.
  idx.apply(Write{log_floor_key, "99", false});
  EXPECT_TRUE(idx.read_log(0, 100).empty());
  idx.apply(Write{log_key(100), "event 100", false});
  EXPECT_EQ(idx.read_log(0, 100).size(), 1u);
  EXPECT_EQ(log_floor_of("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(log_floor_of(""), 0u);
  EXPECT_EQ(log_floor_of("-1"), 0u);
}

Model walk_all(const KeyIndex& idx, KeyIndex::Walk& w, size_t chunk) {
  Model out;
  for (bool more = true; more;) {
    std::vector<Write> got;
    more = idx.walk(w, got, chunk, 1u << 20);
    for (auto& r : got) out[r.key] = r.value;
  }
  return out;
}

TEST(KeyIndex, AWalkCopiesEveryLiveRecord) {
  for (const auto& shape : shapes) {
    std::mt19937 rng(7);
    KeyIndex idx(shape.split_at, shape.parts);
    Model m;
    fill(idx, m, rng, 3000);
    KeyIndex::Walk w;
    EXPECT_EQ(walk_all(idx, w, 37), m) << "split at " << shape.split_at;
  }
}

// What a compaction relies on: the walk's records, then the writes made while
// it ran (in their order), replayed into an empty index give the live records
// — even when groups grow (their tables rehash), split, empty out and come
// back.
TEST(KeyIndex, AWalkReplayedWithTheWritesDuringItGivesTheLiveRecords) {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    const Shape shape = shapes[seed % 2];
    SCOPED_TRACE("seed " + std::to_string(seed) + ", split at " + std::to_string(shape.split_at));
    std::mt19937 rng(seed);
    KeyIndex idx(shape.split_at, shape.parts);
    Model m;
    fill(idx, m, rng, 500);
    std::vector<Write> during;
    KeyIndex::Walk w;
    std::vector<Write> base;
    for (bool more = true; more;) {
      more = idx.walk(w, base, 11, 1u << 20);
      for (int i = 0; i < 40; ++i) {  // more writes than the walk copies: tables grow
        Write x = random_write(rng);
        if (i % 3 == 0) x.key = "grow/" + std::to_string(during.size());
        model_apply(m, x);
        during.push_back(x);
        idx.apply(std::move(x));
      }
    }
    KeyIndex replayed(shape.split_at, shape.parts);
    for (auto& r : base) replayed.apply(std::move(r));
    for (auto& x : during) replayed.apply(std::move(x));
    expect_same(replayed, m);
    if (HasFatalFailure()) return;
  }
}

// A group split while the walk is inside it: its records moved between
// tables, the walk must not miss the ones it had not copied yet.
TEST(KeyIndex, AWalkThroughAGroupThatSplitsMidwayMissesNothing) {
  int split_mid_walk = 0;
  for (size_t first_chunk = 1; first_chunk <= 6; ++first_chunk) {
    SCOPED_TRACE("first chunk " + std::to_string(first_chunk));
    KeyIndex idx(8, 4);
    Model m;
    for (int i = 0; i < 7; ++i) {
      Write w{"g/f" + std::to_string(i), "v" + std::to_string(i), false};
      model_apply(m, w);
      idx.apply(std::move(w));
    }
    KeyIndex::Walk w;
    std::vector<Write> base;
    bool more = idx.walk(w, base, first_chunk, 1u << 20);
    if (!more) continue;  // (whole buckets: the first chunk took all 7)
    ++split_mid_walk;
    std::vector<Write> during;
    for (int i = 7; i < 30; ++i) {  // the group splits at 8
      Write x{"g/f" + std::to_string(i), "v" + std::to_string(i), false};
      model_apply(m, x);
      during.push_back(x);
      idx.apply(std::move(x));
    }
    while (more) more = idx.walk(w, base, 3, 1u << 20);
    KeyIndex replayed(8, 4);
    for (auto& r : base) replayed.apply(std::move(r));
    for (auto& x : during) replayed.apply(std::move(x));
    expect_same(replayed, m);
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(split_mid_walk, 3);
}

}  // namespace
