#pragma once
/// The Redis adapter of the store port (hiredis).
///
/// Mapping: a port key `a/b/c` lives in the Redis hash `<prefix>a/b` under
/// field `c` (the last path segment), so a prefix scan of `alloc/<id>/` reads
/// one hash and a scan of `alloc/` walks the hashes listed in the set
/// `<prefix>hashes`. A hash is read with HSCAN, `scan_count` fields a call:
/// one HGETALL of the 1,000,000-field `order` hash held Redis (and every
/// writer) for over a second and outlasted the command timeout. (HSCAN may
/// repeat a field: the last one read counts.)
///
/// Each `commit` is ONE round trip: one EVAL of a small script that applies
/// every HSET/HDEL of all batches — atomically, like MULTI/EXEC — but only
/// while `<prefix>fence` still holds the token this connection set when it
/// connected (INCR). The call returns once Redis answered. A commit whose
/// answer was lost (in doubt) and that reaches Redis after a reconnect is
/// refused, so a read after the reconnect is the truth.
/// (Durability across a Redis crash is Redis's: run it with AOF,
/// `appendfsync always` for strict durability, `everysec` loses up to 1 s.)
///
/// Every command has a timeout (`redisSetTimeout`); after a failure the
/// connection is re-established on the next call, at most once per backoff
/// interval (100 ms doubling to 2 s), and until then calls fail fast with
/// store_unavailable. The password is never logged.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "persistence/store.hpp"

namespace troupe::persistence {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;
  std::string password;
  int db = 0;
};

/// Parses `redis://[[user]:password@]host[:port][/db]`.
Result<RedisUrl> parse_redis_url(const std::string& url);

struct RedisStoreOptions {
  RedisUrl url;
  std::string prefix = "troupe:";
  std::chrono::milliseconds timeout{1000};
  /// HSCAN's COUNT when a hash is read (fields per round trip, roughly).
  std::size_t scan_count = 10000;
};

/// Connects (failing if Redis cannot be reached now) and returns the store.
Result<std::unique_ptr<Store>> open_redis_store(const RedisStoreOptions& options);

}  // namespace troupe::persistence
