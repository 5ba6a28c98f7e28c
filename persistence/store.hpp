#pragma once
/// The store port: durable key/value records written in atomic batches.
///
/// Two adapters implement it: the embedded file store (the default, see
/// file_store.hpp) and Redis. Nothing outside persistence/ knows which one
/// runs.
///
/// Contract:
///  - `commit` applies the given batches in order. Each batch is atomic: after
///    a crash either all of its writes are visible or none. When `commit`
///    returns OK, every write in it is durable (fsync'd / acknowledged by the
///    server). On error nothing of the failed call is acknowledged.
///  - `get`/`scan` see every committed write; they may run concurrently with
///    each other and with `commit` from any thread.
///  - Errors are values: store_unavailable when the medium fails. A failed
///    `commit` may be *in doubt* (sent, but the answer never came). Adapters
///    guarantee that once any later call has succeeded, an in-doubt commit can
///    no longer take effect (Redis: a fence bumped on every reconnect), so a
///    successful `get` after a failure tells the truth about it.
///  - The event log: a write whose key is `log_key(seq)` appends entry `seq`
///    to an append-only log (Redis: a stream entry with id `<seq>-0`, written
///    in the same atomic script as the rest of its commit). Sequence numbers
///    are assigned by the single writer in increasing order; gaps are
///    allowed. `read_log` returns entries after a sequence number in order.
///    A put of `log_floor_key` with value N (decimal) also erases every
///    entry up to N in the same atomic batch (Redis: XTRIM MINID), and stays
///    as a record: trimming costs one write however many entries go (an
///    erase of one entry's key works too).
///  - Groups: a key `<group>/<field>` whose field has no '/' belongs to the
///    group `<group>`; `scan_group` returns one group cheaply (Redis: one
///    hash), which is what the read views use.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"

namespace troupe::persistence {

using domain::Result;
using domain::Status;

struct Write {
  std::string key;
  std::string value;  ///< ignored when `erase`
  bool erase = false;
};

/// Writes that become durable together or not at all.
using Batch = std::vector<Write>;

struct Record {
  std::string key;
  std::string value;
};

struct StoreStats {
  std::uint64_t commits = 0;       ///< calls to commit (one fsync each)
  std::uint64_t batches = 0;       ///< batches written
  std::uint64_t writes = 0;        ///< individual writes
  std::uint64_t compactions = 0;
  std::uint64_t live_records = 0;
  std::uint64_t bytes_on_disk = 0;
};

/// `seq` as 20 zero-padded digits (any uint64): key order is number order.
std::string seq20(std::uint64_t seq);
/// The key of event-log entry `seq`: "log/" + seq20(seq).
std::string log_key(std::uint64_t seq);
inline constexpr const char* log_prefix = "log/";
/// The sequence number of a log key; 0 when `key` is not one.
std::uint64_t log_seq(const std::string& key);
/// The log's floor: a put of N erases every log entry up to N (see above).
inline constexpr const char* log_floor_key = "meta/log-floor";
/// The floor a put of `log_floor_key` names (0 when its value is no number).
std::uint64_t log_floor_of(const std::string& value);

/// Puts `records` in key order (the order every scan answers in); records
/// of equal keys keep their order.
void sort_by_key(std::vector<Record>& records);

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string describe() const = 0;
  virtual Status commit(const std::vector<Batch>& batches) = 0;
  /// Pipelined commits: `send_commit` starts a commit and returns without
  /// waiting for it; `wait_commit` returns the outcome of the oldest one
  /// started and not yet waited for (outcomes come in start order and mean
  /// what `commit`'s mean). Commits apply in start order; every other call
  /// (commit included) first waits for the started ones, so it sees them.
  /// One thread drives both. The default commits at once (the file store:
  /// its fsync has nothing to overlap with on the same thread).
  virtual void send_commit(const std::vector<Batch>& batches) { sent_.push_back(commit(batches)); }
  /// Whether send_commit returns before the commit is done (worth keeping
  /// one in flight while the next is gathered).
  virtual bool pipelines() const { return false; }
  virtual Status wait_commit() {
    if (sent_.empty()) return domain::make_error(domain::ErrorKind::internal, "no commit was started");
    Status s = std::move(sent_.front());
    sent_.erase(sent_.begin());
    return s;
  }
  /// Whether reads from other threads go on while a commit runs (the file
  /// store: its index under a shared lock) instead of queueing behind it
  /// (Redis: one connection, whose pending commit replies a read drains
  /// first). Readers that may do either use it to keep their reads off the
  /// writer's thread.
  virtual bool reads_in_parallel() const { return false; }
  virtual Result<std::optional<std::string>> get(const std::string& key) = 0;
  /// All records whose key starts with `prefix`, in key order.
  virtual Result<std::vector<Record>> scan(const std::string& prefix) = 0;
  /// Every record but the event log's entries (read_log reads those)
  /// handed to `sink` a chunk at a time, in no particular order, for
  /// copying a whole store (copy.hpp); nothing may write meanwhile. The
  /// first error, of a read or of `sink`, ends it. The default hands over
  /// scan("") as one chunk.
  virtual Status each_record(const std::function<Status(std::vector<Record>&&)>& sink) {
    auto all = scan("");
    if (!all) return all.error();
    all->erase(std::remove_if(all->begin(), all->end(),
                              [](const Record& r) { return log_seq(r.key) != 0; }),
               all->end());
    return sink(std::move(*all));
  }
  /// Up to `limit` event-log entries with a sequence number above `after`,
  /// in order (keys are log_key(seq)).
  virtual Result<std::vector<Record>> read_log(std::uint64_t after, size_t limit) = 0;
  /// Every record of one group (`<group>/<field>`, field without '/'), in
  /// key order.
  virtual Result<std::vector<Record>> scan_group(const std::string& group) = 0;
  virtual StoreStats stats() const = 0;
  /// Cheap liveness probe of the medium (Redis: PING). Used for readiness.
  virtual Status ping() = 0;
  /// Flushes and releases the medium. Further calls fail.
  virtual Status close() = 0;

 private:
  std::vector<Status> sent_;  ///< outcomes of the default send_commit
};

}  // namespace troupe::persistence
