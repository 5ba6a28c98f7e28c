#pragma once
/// Copying a whole store into another, through the store port only: a move
/// from the embedded store to Redis or back, or a copy into a fresh data
/// directory (`troupe copy-store`).
///
/// Contract:
///  - Nothing writes the source meanwhile: the file store's LOCK keeps a
///    running troupe out of its data directory; a Redis source must not be
///    served during the copy. The source is only read.
///  - The target must be empty (no record, no event-log entry); otherwise
///    conflict, and nothing is written.
///  - Every record lands in the target with its key and value, and every
///    event-log entry with its sequence number, in order; in commits of at
///    most `batch_writes` writes and about `batch_bytes` bytes.
///  - A copy is many commits, not one: the first commit writes the record
///    `unfinished_copy_key` and the last one, once every other commit
///    succeeded, erases it. A store holding it is a partial copy: `troupe
///    serve` refuses it (empty it and copy again), and so does a copy from it.
///  - Errors are values: the first read or commit that fails ends the copy
///    with that error (the target keeps the marker).

#include <cstdint>
#include <functional>

#include "persistence/store.hpp"

namespace troupe::persistence {

/// Present only in a store a copy is still writing (or that one left).
inline constexpr const char* unfinished_copy_key = "copy/unfinished";

struct CopyProgress {
  std::uint64_t records = 0;      ///< records written (log entries not counted)
  std::uint64_t log_entries = 0;  ///< event-log entries written
  std::uint64_t last_seq = 0;     ///< sequence number of the last log entry written
  std::uint64_t bytes = 0;        ///< keys and values written
  std::uint64_t commits = 0;
};

struct CopyOptions {
  size_t batch_writes = 5000;
  size_t batch_bytes = 8u << 20;
  size_t log_page = 10000;  ///< log entries read per read_log call
  /// Called after each commit the target confirmed.
  std::function<void(const CopyProgress&)> on_progress;
};

/// Copies every record and the event log of `from` into the empty `to`.
Result<CopyProgress> copy_store(Store& from, Store& to, const CopyOptions& options = {});

}  // namespace troupe::persistence
