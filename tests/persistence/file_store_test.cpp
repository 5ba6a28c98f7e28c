// The embedded store on a real temp directory: atomic batches across a torn
// tail, refusal on corruption in the middle, compaction, the directory lock,
// the page cache let go of what is on disk.

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

#include "persistence/file_store.hpp"

using namespace troupe::persistence;
namespace fs = std::filesystem;

namespace {

class FileStoreTest : public ::testing::Test {
 protected:
  std::string dir;
  void SetUp() override {
    char tmpl[] = "/tmp/troupe-fs-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::unique_ptr<Store> open(std::uint64_t compact_min = 64ull << 20) {
    FileStoreOptions o;
    o.dir = dir;
    o.compact_min_bytes = compact_min;
    auto s = open_file_store(o);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().detail);
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::string log() const { return dir + "/troupe.log"; }
  static Batch batch(std::initializer_list<std::pair<std::string, std::string>> kvs) {
    Batch b;
    for (const auto& kv : kvs) b.push_back({kv.first, kv.second, false});
    return b;
  }
  static std::string value(Store& s, const std::string& k) {
    auto v = s.get(k);
    return v.ok() && *v ? **v : "<none>";
  }
};

TEST_F(FileStoreTest, CommittedBatchesSurviveReopen) {
  {
    auto s = open();
    ASSERT_TRUE(s->commit({batch({{"a/1", "x"}, {"a/2", "y"}}), batch({{"b/1", "z"}})}).ok());
    ASSERT_TRUE(s->commit({Batch{{"a/2", "", true}}}).ok());
  }
  auto s = open();
  EXPECT_EQ(value(*s, "a/1"), "x");
  EXPECT_EQ(value(*s, "a/2"), "<none>") << "the erase was replayed";
  EXPECT_EQ(value(*s, "b/1"), "z");
  auto scan = s->scan("a/");
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 1u);
  EXPECT_EQ((*scan)[0].key, "a/1");
}

TEST_F(FileStoreTest, ATornLastBatchIsDroppedWholeAtStart) {
  {
    auto s = open();
    ASSERT_TRUE(s->commit({batch({{"k/1", "one"}})}).ok());
    ASSERT_TRUE(s->commit({batch({{"k/2", "two"}, {"k/3", "three"}})}).ok());
  }
  const auto size = fs::file_size(log());
  fs::resize_file(log(), size - 3);  // a crash in the middle of the last write
  {
    auto s = open();
    EXPECT_EQ(value(*s, "k/1"), "one");
    EXPECT_EQ(value(*s, "k/2"), "<none>") << "no half batch";
    EXPECT_EQ(value(*s, "k/3"), "<none>");
    ASSERT_TRUE(s->commit({batch({{"k/4", "four"}})}).ok()) << "appends after the cut";
  }
  auto s = open();
  EXPECT_EQ(value(*s, "k/4"), "four");
  EXPECT_EQ(value(*s, "k/2"), "<none>");
}

/// The log as a crash would leave it: copied while `s` still has it open
/// (no clean close), into a data directory of its own.
std::string crashed_copy(const std::string& log, const std::string& to) {
  fs::create_directories(to);
  fs::copy_file(log, to + "/troupe.log", fs::copy_options::overwrite_existing);
  return to;
}

std::unique_ptr<Store> open_dir(const std::string& d) {
  FileStoreOptions o;
  o.dir = d;
  auto s = open_file_store(o);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().detail);
  return s.ok() ? std::move(*s) : nullptr;
}

TEST_F(FileStoreTest, TheSpaceZeroedAheadOfTheLogIsNotATornTailAfterACrash) {
  auto s = open();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(s->commit({batch({{"k/" + std::to_string(i), std::string(100, 'a' + i % 26)}})}).ok());
  const auto end = s->stats().bytes_on_disk;
  ASSERT_GT(fs::file_size(log()), end) << "zeros ahead of the log's end";
  {
    auto c = open_dir(crashed_copy(log(), dir + "/crash1"));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->stats().bytes_on_disk, end) << "the zeros are not log";
    EXPECT_EQ(c->stats().live_records, 20u);
    ASSERT_TRUE(c->commit({batch({{"k/new", "after the crash"}})}).ok());
    auto again = open_dir(crashed_copy(dir + "/crash1/troupe.log", dir + "/crash2"));
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(value(*again, "k/new"), "after the crash") << "written over the zeros";
    EXPECT_EQ(value(*again, "k/19"), std::string(100, 'a' + 19));
    EXPECT_EQ(again->stats().live_records, 21u);
  }
  s.reset();  // a clean close leaves no zeros behind
  EXPECT_EQ(fs::file_size(log()), end);
  auto reopened = open();
  EXPECT_EQ(reopened->stats().live_records, 20u);
}

TEST_F(FileStoreTest, ATornBatchInTheZeroedSpaceIsCutOff) {
  auto s = open();
  ASSERT_TRUE(s->commit({batch({{"k/1", "one"}})}).ok());
  const auto end = s->stats().bytes_on_disk;
  const std::string d = crashed_copy(log(), dir + "/crash");
  ASSERT_GT(fs::file_size(d + "/troupe.log"), end + 16);
  {
    // The start of a frame that never finished: its header (the magic
    // "TRUP", a length, a CRC) and a few bytes, then the zeros.
    std::fstream f(d + "/troupe.log", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(end));
    const char torn[] = {'T', 'R', 'U', 'P', 40, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0};
    f.write(torn, sizeof torn);
  }
  {
    auto c = open_dir(d);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(value(*c, "k/1"), "one");
    EXPECT_EQ(c->stats().bytes_on_disk, end);
    ASSERT_TRUE(c->commit({batch({{"k/2", "two"}})}).ok());
  }
  auto c = open_dir(d);
  EXPECT_EQ(value(*c, "k/1"), "one");
  EXPECT_EQ(value(*c, "k/2"), "two");
  EXPECT_EQ(c->stats().live_records, 2u);
}

TEST_F(FileStoreTest, CorruptionBeforeValidBatchesRefusesToStart) {
  {
    auto s = open();
    ASSERT_TRUE(s->commit({batch({{"k/1", "one"}})}).ok());
    ASSERT_TRUE(s->commit({batch({{"k/2", "two"}})}).ok());
    ASSERT_TRUE(s->commit({batch({{"k/3", "three"}})}).ok());
  }
  {
    std::fstream f(log(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);  // inside the first frame's payload
    f.put('#');
  }
  FileStoreOptions o;
  o.dir = dir;
  auto s = open_file_store(o);
  ASSERT_FALSE(s.ok()) << "acknowledged batches after the damage must not be cut away";
  EXPECT_NE(s.error().detail.find("corrupt"), std::string::npos) << s.error().detail;
}

/// Polls `ok` for up to 5 s.
bool eventually(const std::function<bool()>& ok) {
  for (int i = 0; i < 500; ++i) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ok();
}

// The log's floor erases the entries below it when committed, again when
// the log is replayed at start, and a compaction keeps only what is above.
TEST_F(FileStoreTest, ALogFloorTrimsTheLogAndTheTrimSurvivesReopenAndCompaction) {
  const std::string big(1024, 'e');
  auto expect_log = [&](Store& st, const char* when) {
    auto log = st.read_log(0, 1000);
    ASSERT_TRUE(log.ok()) << when;
    ASSERT_EQ(log->size(), 6u) << when;
    EXPECT_EQ(log->front().key, log_key(96)) << when;
    EXPECT_EQ(log->back().key, log_key(101)) << when;
    EXPECT_EQ(value(st, log_floor_key), "95") << when;
  };
  {
    auto s = open();
    Batch entries;
    for (std::uint64_t seq = 1; seq <= 100; ++seq) entries.push_back({log_key(seq), big, false});
    ASSERT_TRUE(s->commit({entries}).ok());
    ASSERT_TRUE(s->commit({batch({{log_floor_key, "95"}, {log_key(101), big}})}).ok());
    expect_log(*s, "committed");
  }
  {
    auto s = open(/*compact_min=*/4096);
    expect_log(*s, "replayed");
    // (Compaction runs on a thread of its own; a commit starts the next one.)
    EXPECT_TRUE(eventually([&] {
      EXPECT_TRUE(s->commit({batch({{"after", "compaction"}})}).ok());
      return s->stats().compactions >= 1;
    }));
    EXPECT_LT(s->stats().bytes_on_disk, 20 * 1024u) << "the trimmed entries are gone from the file";
  }
  auto s = open();
  expect_log(*s, "replayed after the compaction");
}

TEST_F(FileStoreTest, CompactionKeepsLiveRecordsAndShrinksTheLog) {
  {
    auto s = open(/*compact_min=*/4096);
    const std::string big(200, 'v');
    for (int round = 0; round < 50; ++round)
      for (int k = 0; k < 10; ++k)
        ASSERT_TRUE(s->commit({batch({{"r/" + std::to_string(k), big + std::to_string(round)}})}).ok());
    // (It runs on a thread of its own; a commit starts the next one.)
    EXPECT_TRUE(eventually([&] {
      EXPECT_TRUE(s->commit({batch({{"after", "compaction"}})}).ok());
      return s->stats().compactions >= 1 && s->stats().bytes_on_disk < 3 * 10 * 260u;
    })) << "rewritten to about the live data: " << s->stats().bytes_on_disk << " bytes";
  }
  auto s = open();
  for (int k = 0; k < 10; ++k)
    EXPECT_EQ(value(*s, "r/" + std::to_string(k)), std::string(200, 'v') + "49");
  EXPECT_EQ(value(*s, "after"), "compaction") << "writes after compaction reach the new log";
  EXPECT_EQ(s->stats().live_records, 11u);
}

TEST_F(FileStoreTest, ACleanCloseCompactsAMostlyDeadLogAndItsReplayKeepsKeyOrder) {
  const std::string big(4096, 'v');
  {
    auto s = open();  // (no compaction while running: the log stays under 64 MiB)
    for (int round = 0; round < 150; ++round) {
      Batch b;
      for (int k = 9; k >= 0; --k)  // keys written in decreasing order
        b.push_back({"r/" + std::to_string(k), big + std::to_string(round), false});
      ASSERT_TRUE(s->commit({b}).ok());
    }
    ASSERT_TRUE(s->commit({Batch{{"r/5", "", true}}, batch({{"a/first", "1"}, {"z/last", "2"}})}).ok());
    EXPECT_EQ(s->stats().compactions, 0u);
    EXPECT_GT(s->stats().bytes_on_disk, 6'000'000u);
    ASSERT_TRUE(s->close().ok());
  }
  EXPECT_LT(fs::file_size(log()), 11 * 4200u) << "a clean close leaves only the live records";
  auto s = open();
  EXPECT_EQ(s->stats().live_records, 11u);
  for (int k = 0; k < 10; ++k)
    EXPECT_EQ(value(*s, "r/" + std::to_string(k)), k == 5 ? "<none>" : big + "149");
  auto scan = s->scan("");
  ASSERT_TRUE(scan.ok());
  std::vector<std::string> keys;
  for (const auto& r : *scan) keys.push_back(r.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a/first", "r/0", "r/1", "r/2", "r/3", "r/4", "r/6",
                                            "r/7", "r/8", "r/9", "z/last"}));
  // Writes after the compacted base: a key before every other one, an
  // overwrite and an erase of the last one.
  ASSERT_TRUE(s->commit({batch({{"0/new", "n"}, {"r/0", "again"}}), Batch{{"z/last", "", true}}}).ok());
  s.reset();
  s = open();
  EXPECT_EQ(value(*s, "0/new"), "n");
  EXPECT_EQ(value(*s, "r/0"), "again");
  EXPECT_EQ(value(*s, "z/last"), "<none>");
  EXPECT_EQ(s->stats().live_records, 11u);
}

// Commits go on while a compaction runs (it stalled every writer before):
// what they change after the live records were copied reaches the new log
// too, and the next start sees every last value, erase and new key.
TEST_F(FileStoreTest, CommitsDuringABackgroundCompactionSurviveIt) {
  std::promise<void> base_written, go_on;
  auto go = go_on.get_future().share();
  // Lets the compaction thread go once, at the latest when it is destroyed.
  struct Release {
    std::promise<void>& p;
    bool done = false;
    void operator()() {
      if (!done) p.set_value();
      done = true;
    }
    ~Release() { (*this)(); }
  };
  FileStoreOptions o;
  o.dir = dir;
  o.compact_min_bytes = 4096;
  std::atomic<int> compactions_started{0};
  o.on_compaction_base_written = [&, go] {
    if (compactions_started++ > 0) return;  // (later ones run freely)
    base_written.set_value();
    go.wait();
  };
  const std::string big(300, 'v');
  {
    auto opened = open_file_store(o);
    ASSERT_TRUE(opened.ok());
    auto& s = *opened;
    // Declared after the store, so released before its close joins the
    // compaction thread: a failed assertion must not hang the test.
    Release release{go_on};
    for (int round = 0; round < 20; ++round) {
      Batch b;
      for (int k = 0; k < 5; ++k) b.push_back({"r/" + std::to_string(k), big + std::to_string(round), false});
      ASSERT_TRUE(s->commit({b}).ok());
    }
    // The compaction has copied the live records and waits: meanwhile the
    // writers overwrite, erase and add (and are not held up).
    ASSERT_EQ(base_written.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
    ASSERT_TRUE(s->commit({batch({{"r/0", "newer"}}), Batch{{"r/1", "", true}}}).ok());
    ASSERT_TRUE(s->commit({batch({{"n/1", "new"}})}).ok());
    EXPECT_EQ(s->stats().compactions, 0u);
    release();
    ASSERT_TRUE(eventually([&] { return s->stats().compactions >= 1; }));
    ASSERT_TRUE(s->commit({batch({{"n/2", "after"}})}).ok()) << "appends to the new log";
    EXPECT_EQ(value(*s, "r/0"), "newer");
  }
  auto s = open();
  EXPECT_EQ(value(*s, "r/0"), "newer");
  EXPECT_EQ(value(*s, "r/1"), "<none>");
  for (int k = 2; k < 5; ++k) EXPECT_EQ(value(*s, "r/" + std::to_string(k)), big + "19");
  EXPECT_EQ(value(*s, "n/1"), "new");
  EXPECT_EQ(value(*s, "n/2"), "after");
  EXPECT_EQ(s->stats().live_records, 6u);
}

TEST_F(FileStoreTest, OneProcessPerDataDirectory) {
  auto first = open();
  FileStoreOptions o;
  o.dir = dir;
  auto second = open_file_store(o);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().detail.find("in use"), std::string::npos) << second.error().detail;
}

/// Which pages of `path` are in the page cache (mincore over a mapping of
/// it); empty when it cannot tell.
std::vector<bool> residency(const std::string& path) {
  const auto size = static_cast<size_t>(fs::file_size(path));
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, ::fileno(f), 0);
  std::fclose(f);
  if (p == MAP_FAILED) return {};
  std::vector<unsigned char> in((size + page - 1) / page);
  std::vector<bool> out;
  if (::mincore(p, size, in.data()) == 0)
    for (auto b : in) out.push_back((b & 1) != 0);
  ::munmap(p, size);
  return out;
}

size_t page_size() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

TEST_F(FileStoreTest, CommittedPagesLeaveThePageCacheAndTheStoreStillReadsEverything) {
  struct statfs fsinfo {};
  ASSERT_EQ(::statfs(dir.c_str(), &fsinfo), 0);
  if (fsinfo.f_type == TMPFS_MAGIC) GTEST_SKIP() << dir << " is on tmpfs: its pages are the file";
  auto s = open();
  // 300 commits of 9-30 KB: ~6 MB, appends that start and end mid-page.
  const std::string chunk(3000, 'v');
  std::uint64_t records = 0;
  for (int i = 0; i < 300; ++i) {
    Batch b;
    records += 3 + i % 8;
    for (int k = 0; k < 3 + i % 8; ++k)
      b.push_back({"g" + std::to_string(i % 7) + "/" + std::to_string(i) + "." + std::to_string(k),
                   chunk + std::to_string(i), false});
    ASSERT_TRUE(s->commit({b}).ok());
    // The partly written last page of the log stays cached: the next append
    // fills it, and had it been dropped that write would first read it from
    // the disk (Linux drops a partial last page when the range reaches the
    // end of the file).
    const auto in = residency(log());
    const auto end = s->stats().bytes_on_disk;
    ASSERT_GT(in.size(), end / page_size());
    if (end % page_size() != 0) {
      ASSERT_TRUE(in[end / page_size()]) << "the partial last page was dropped after commit " << i;
    }
  }
  // The log's pages left the cache, but for those in the (large) folio the
  // log ends in: the page cache holds the space zeroed ahead in folios of
  // up to 2 MiB, and the one holding the partly written last page stays.
  // The zeroed space (at most a MiB) may stay too.
  const auto end = s->stats().bytes_on_disk;
  const auto pages = end / page_size();
  const auto folio_pages = (2u << 20) / page_size();
  ASSERT_GT(pages, 2 * folio_pages);
  const auto in = residency(log());
  ASSERT_GT(in.size(), pages);
  const auto settled = static_cast<std::ptrdiff_t>(pages / folio_pages * folio_pages);
  EXPECT_EQ(std::count(in.begin(), in.begin() + settled, true), 0)
    << "of the " << settled << " pages below the log's last 2 MiB boundary";
  EXPECT_LE(in.size() - pages, (1u << 20) / page_size() + 1) << "pages zeroed ahead";
  EXPECT_EQ(value(*s, "g5/299.2"), chunk + "299");
  s.reset();
  auto again = open();
  EXPECT_EQ(value(*again, "g0/0.0"), chunk + "0") << "replayed from disk";
  EXPECT_EQ(value(*again, "g5/299.2"), chunk + "299");
  EXPECT_EQ(again->stats().live_records, records);
}

}  // namespace
