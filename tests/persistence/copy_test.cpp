// Copying a store into another through the port (troupe copy-store): every
// record and every log entry with its sequence number arrives, a non-empty
// target is refused untouched, and a copy that fails is marked unfinished.

#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>

#include "persistence/copy.hpp"
#include "persistence/file_store.hpp"

namespace troupe::persistence {
bool operator==(const Record& a, const Record& b) { return a.key == b.key && a.value == b.value; }
}  // namespace troupe::persistence

using namespace troupe::persistence;
namespace fs = std::filesystem;

namespace {

/// A target that forwards to a real store, pipelines (commits are applied
/// when waited for, in order) and fails every commit from number `fail_at`
/// on (0: never).
class PipelinedTarget : public Store {
 public:
  PipelinedTarget(Store& inner, int fail_at) : inner_(inner), fail_at_(fail_at) {}
  std::string describe() const override { return "pipelined " + inner_.describe(); }
  Status commit(const std::vector<Batch>& b) override {
    send_commit(b);
    return wait_commit();
  }
  void send_commit(const std::vector<Batch>& b) override { queued_.push_back(b); }
  bool pipelines() const override { return true; }
  Status wait_commit() override {
    if (queued_.empty()) return troupe::domain::make_error(troupe::domain::ErrorKind::internal, "none");
    auto b = std::move(queued_.front());
    queued_.pop_front();
    max_in_flight_seen = std::max(max_in_flight_seen, queued_.size() + 1);
    ++commits;
    if (fail_at_ > 0 && commits >= fail_at_)
      return troupe::domain::make_error(troupe::domain::ErrorKind::store_unavailable, "injected");
    return inner_.commit(b);
  }
  Result<std::optional<std::string>> get(const std::string& k) override { return inner_.get(k); }
  Result<std::vector<Record>> scan(const std::string& p) override { return inner_.scan(p); }
  Result<std::vector<Record>> read_log(std::uint64_t a, size_t l) override { return inner_.read_log(a, l); }
  Result<std::vector<Record>> scan_group(const std::string& g) override { return inner_.scan_group(g); }
  StoreStats stats() const override { return inner_.stats(); }
  Status ping() override { return inner_.ping(); }
  Status close() override { return inner_.close(); }

  int commits = 0;
  size_t max_in_flight_seen = 0;

 private:
  Store& inner_;
  int fail_at_;
  std::deque<std::vector<Batch>> queued_;
};

class CopyTest : public ::testing::Test {
 protected:
  std::string root;
  void SetUp() override {
    char tmpl[] = "/tmp/troupe-copy-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root = tmpl;
  }
  void TearDown() override { fs::remove_all(root); }

  std::unique_ptr<Store> open(const std::string& name) {
    FileStoreOptions o;
    o.dir = root + "/" + name;
    auto s = open_file_store(o);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().detail);
    return s.ok() ? std::move(*s) : nullptr;
  }
  static Write put(std::string k, std::string v) { return {std::move(k), std::move(v), false}; }
  static Write erase(std::string k) { return {std::move(k), {}, true}; }

  /// A source with groups, a big group, a key without '/', erased records,
  /// and an event log with gaps whose front was trimmed.
  static void fill(Store& s) {
    Batch b;
    for (int i = 0; i < 300; ++i) b.push_back(put("order/o-" + std::to_string(i), "{\"n\":" + std::to_string(i) + "}"));
    b.push_back(put("resource/r-1", "{\"capacity\":10}"));
    b.push_back(put("mypage/c-1/00000000000000000007", "row 7"));
    b.push_back(put("cursor/mypage", "42"));
    b.push_back(put("lonely", "no group"));
    b.push_back(put("order/gone", "x"));
    for (std::uint64_t seq : {1, 2, 3, 5, 9, 10, 11, 40}) b.push_back(put(log_key(seq), "event " + std::to_string(seq)));
    ASSERT_TRUE(s.commit({b}).ok());
    ASSERT_TRUE(s.commit({{erase("order/gone"), erase(log_key(1)), erase(log_key(2)), put("order/o-0", "{\"n\":0,\"v\":2}")}}).ok());
  }
  static std::vector<Record> everything(Store& s) {
    auto r = s.scan("");
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<Record>{};
  }
  static std::vector<Record> log_of(Store& s) {
    auto r = s.read_log(0, 1000);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<Record>{};
  }
};

TEST_F(CopyTest, EveryRecordAndLogEntryArrivesWithItsSequenceNumber) {
  auto from = open("from");
  fill(*from);
  // direct: file store to file store (its chunked walk); pipelined: the
  // target pipelines, and the source hands its records over through the
  // port's default (one scan)
  for (bool pipelined : {false, true}) {
    SCOPED_TRACE(pipelined ? "pipelined target, default each_record" : "direct target");
    const std::string name = pipelined ? "to-p" : "to";
    {
      auto to = open(name);
      PipelinedTarget p(*to, 0);
      PipelinedTarget source_by_scan(*from, 0);
      CopyOptions o;
      o.batch_writes = 7;  // many commits
      o.log_page = 2;      // many log pages
      int progress_calls = 0;
      o.on_progress = [&](const CopyProgress&) { ++progress_calls; };
      auto done = pipelined ? copy_store(source_by_scan, p, o) : copy_store(*from, *to, o);
      ASSERT_TRUE(done.ok()) << done.error().detail;
      EXPECT_EQ(done->records, 304u);  // 300 orders, resource, mypage row, cursor, lonely
      EXPECT_EQ(done->log_entries, 6u);
      EXPECT_EQ(done->last_seq, 40u);
      EXPECT_GT(done->commits, 40u);
      EXPECT_EQ(progress_calls, static_cast<int>(done->commits));
      if (pipelined) {
        EXPECT_EQ(p.max_in_flight_seen, 1u) << "at most one commit in flight";
      }
      EXPECT_EQ(everything(*to), everything(*from));
      EXPECT_EQ(log_of(*to), log_of(*from));
      EXPECT_FALSE(*to->get(unfinished_copy_key));
      ASSERT_TRUE(to->close().ok());
    }
    // durable: the same after a reopen
    auto again = open(name);
    EXPECT_EQ(everything(*again), everything(*from));
    auto log = log_of(*again);
    ASSERT_EQ(log.size(), 6u);
    EXPECT_EQ(log.front().key, log_key(3));
    EXPECT_EQ(log.back().value, "event 40");
    EXPECT_EQ(**again->get("order/o-0"), "{\"n\":0,\"v\":2}");
    EXPECT_FALSE(*again->get("order/gone"));
  }
}

TEST_F(CopyTest, ACommitClosesAtItsByteBoundAndEveryByteIsCounted) {
  auto from = open("from");
  fill(*from);
  std::uint64_t source_bytes = 0;
  // (scan("") holds the log's entries too)
  for (const auto& r : everything(*from)) source_bytes += r.key.size() + r.value.size();
  auto to = open("to");
  CopyOptions o;
  o.batch_writes = 1000000;  // only the byte bound closes a commit
  o.batch_bytes = 256;
  auto done = copy_store(*from, *to, o);
  ASSERT_TRUE(done.ok()) << done.error().detail;
  // The marker's put (its key = "troupe copy-store") and its erase too.
  const std::uint64_t marker = std::string(unfinished_copy_key).size();
  EXPECT_EQ(done->bytes, source_bytes + marker + std::string("troupe copy-store").size() + marker);
  EXPECT_GE(done->commits, source_bytes / (256 + 64)) << "commits of about 256 bytes";
  EXPECT_EQ(everything(*to), everything(*from));
}

TEST_F(CopyTest, AnEmptySourceMakesAnEmptyCopy) {
  auto from = open("from");
  auto to = open("to");
  auto done = copy_store(*from, *to);
  ASSERT_TRUE(done.ok()) << done.error().detail;
  EXPECT_EQ(done->records, 0u);
  EXPECT_TRUE(everything(*to).empty());
}

TEST_F(CopyTest, ATargetWithRecordsOrALogIsRefusedUntouched) {
  auto from = open("from");
  fill(*from);
  auto with_record = open("rec");
  ASSERT_TRUE(with_record->commit({{put("resource/mine", "keep")}}).ok());
  auto refused = copy_store(*from, *with_record);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, troupe::domain::ErrorKind::conflict);
  EXPECT_NE(refused.error().detail.find("not empty"), std::string::npos) << refused.error().detail;
  ASSERT_EQ(everything(*with_record).size(), 1u);
  EXPECT_EQ(**with_record->get("resource/mine"), "keep");

  auto with_log = open("log");
  ASSERT_TRUE(with_log->commit({{put(log_key(7), "e")}}).ok());
  refused = copy_store(*from, *with_log);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, troupe::domain::ErrorKind::conflict);
  EXPECT_EQ(everything(*with_log).size(), 1u);
}

TEST_F(CopyTest, ACopyThatFailsIsMarkedUnfinishedAndCannotBeCopiedOn) {
  auto from = open("from");
  fill(*from);
  auto to = open("to");
  PipelinedTarget failing(*to, 4);  // the marker and two commits land, then errors
  CopyOptions o;
  o.batch_writes = 10;
  auto done = copy_store(*from, failing, o);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().kind, troupe::domain::ErrorKind::store_unavailable);
  EXPECT_TRUE(*to->get(unfinished_copy_key)) << "a partial copy keeps the marker";
  EXPECT_LT(everything(*to).size(), everything(*from).size());

  // A partial copy is no source: copying it on would hide that it is partial.
  auto onward = open("onward");
  auto refused = copy_store(*to, *onward);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, troupe::domain::ErrorKind::conflict);
  EXPECT_TRUE(everything(*onward).empty());
}

}  // namespace
