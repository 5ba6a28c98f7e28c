#pragma once
/// The embedded store: an append-only log in a data directory.
///
/// Layout: `<dir>/troupe.log` holds frames `magic | length | crc32 | payload`,
/// one frame per batch, so a torn frame at the end (crash mid-write) is
/// detected by its CRC and cut off at start-up: a batch is all or nothing.
/// Each `commit` writes all its frames with one write() and one fdatasync()
/// (group commit is done by the caller collecting batches, see
/// actors/store_actor.hpp). The file runs up to a MiB past the last frame, in
/// zeros written ahead (appends then overwrite allocated blocks inside the
/// file's size: a cheaper fdatasync); a clean close cuts them, and after a
/// crash a zero tail is not mistaken for a torn one. The live records are
/// replayed into memory at open. When the log exceeds `compact_min_bytes` and
/// is more than twice the live data, it is rewritten on a thread of its own
/// while commits go on (to a temp file, then the frames committed meanwhile,
/// fsync, rename, fsync dir); a clean close compacts when over a fifth of the
/// log is dead.
/// `<dir>/LOCK` is flock'ed: two processes cannot share a data directory.

#include <functional>
#include <memory>
#include <string>

#include "persistence/store.hpp"

namespace troupe::persistence {

struct FileStoreOptions {
  std::string dir;
  std::uint64_t compact_min_bytes = 64ull << 20;
  bool sync = true;  ///< fdatasync per commit; off only in benchmarks of the ceiling
  /// Test hook: runs on the compaction thread after the live records are
  /// written, before the frames committed meanwhile are copied.
  std::function<void()> on_compaction_base_written;
};

/// Opens (creating if needed) and replays the store.
/// store_unavailable when the directory cannot be used or is locked.
Result<std::unique_ptr<Store>> open_file_store(const FileStoreOptions& options);

}  // namespace troupe::persistence
