#pragma once
/// The embedded store's in-memory records: every live key and its value,
/// laid out for what the store port asks of it (store.hpp), not for a global
/// key order.
///
///  - A key `<group>/<field>` lives in its group's hash table (keys without
///    '/' in a group of their own), so a put, an erase or a `find` costs two
///    hash lookups however many records there are. (One ordered map of every
///    key cost a ~23-level descent of string compares per write at 1M
///    orders, on the single thread every order waits on: the store's cost
///    per order grew by two thirds over the first 100,000 orders.)
///  - A group that reaches `split_at` fields is split into `parts` tables by
///    the field's hash, once: a table grows by rehashing every record it
///    holds, on the single writer every order waits on, and the order group
///    at 1M orders is one table of 1M (s1: index updates up to 21 ms while
///    it held ~150,000). 1M puts into one group, the slowest put: 129-180 ms
///    as one table, 3.2-4.7 ms split at 8,192 into 64 (the same total time).
///  - Event-log entries (`log_key(seq)`) live in an ordered map by sequence
///    number: appended at its end, trimmed at its front (a put of
///    `log_floor_key`, or an erase per entry), read from a cursor.
///  - `scan_group` copies one group; `scan` walks the group names (start-up
///    and admin reads only). Both return their records in no particular
///    order: `sort_by_key` puts them in key order, which the caller does
///    after letting go of its lock (sorting 1M orders under it held the
///    writer up for the sort too).
///  - `walk` copies the records out a chunk at a time for a compaction that
///    releases the store's lock between chunks: every record that is live
///    when the walk starts and not written during it is copied at least
///    once (a record may come twice when its group's table grew or the
///    group was split meanwhile; records written during the walk may come
///    or not — the compaction replays the frames committed meanwhile on
///    top).
///
/// Not thread-safe: the file store guards it with its lock.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "persistence/store.hpp"

namespace troupe::persistence {

class KeyIndex {
 public:
  explicit KeyIndex(size_t split_at = 8192, size_t parts = 64)
      : split_at_(split_at), parts_(parts < 2 ? 2 : parts) {}
  /// Applies a put or an erase (an erase of a missing key does nothing).
  void apply(Write&& w);
  /// The value of `key`; null when it has none.
  const std::string* find(const std::string& key) const;
  /// Every record whose key starts with `prefix` (in no particular order).
  std::vector<Record> scan(const std::string& prefix) const;
  /// Every record `<group>/<field>` (field without '/'; in no particular
  /// order).
  std::vector<Record> scan_group(const std::string& group) const;
  /// Up to `limit` log entries with a sequence number above `after`, in order.
  std::vector<Record> read_log(std::uint64_t after, size_t limit) const;
  size_t size() const { return size_; }
  /// Bytes of the live records as the log stores them (key + value + 9 each).
  std::uint64_t live_bytes() const { return live_bytes_; }

  /// Where a walk stands; a new one starts at the beginning.
  struct Walk {
    bool started = false;
    bool log_done = false;
    std::uint64_t last_seq = 0;
    std::vector<std::string> groups;  ///< the group names when the walk started
    size_t group = 0;                 ///< index into `groups`
    size_t part = 0;                  ///< which of that group's tables
    size_t parts = 0;                 ///< its number of tables when `part` was set
    size_t bucket = 0;                ///< next bucket of that table
    size_t buckets = 0;               ///< its bucket count when `bucket` was set
  };
  /// Appends the next live records to `out` (about `max_records` or
  /// `max_bytes` of keys and values, whole hash buckets at a time); false
  /// once the walk has nothing more.
  bool walk(Walk& w, std::vector<Write>& out, size_t max_records, size_t max_bytes) const;

 private:
  using Fields = std::unordered_map<std::string, std::string>;
  /// A group's fields: one table, or `parts_` once it reached `split_at_`.
  struct Group {
    std::vector<Fields> parts = std::vector<Fields>(1);
    size_t size = 0;
    /// Which table holds `field`.
    size_t part_of(const std::string& field) const {
      return parts.size() == 1 ? 0 : std::hash<std::string>{}(field) % parts.size();
    }
  };
  /// Puts or erases `w` in `m` under `k`, keeping size and live bytes.
  template <class Map>
  void change(Map& m, typename Map::key_type k, Write&& w);
  /// Spreads a one-table group over `parts_` tables.
  void split(Group& g) const;
  /// Erases every log entry up to `floor`.
  void trim_log(std::uint64_t floor);
  const size_t split_at_;
  const size_t parts_;
  /// Groups by their key prefix: "<group>/", or "" for keys without '/'.
  std::unordered_map<std::string, Group> groups_;
  std::map<std::uint64_t, std::string> log_;
  size_t size_ = 0;
  std::uint64_t live_bytes_ = 0;
};

}  // namespace troupe::persistence
