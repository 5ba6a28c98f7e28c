#pragma once
/// Idempotency-Key on the POSTs that change an order (POST /v1/orders,
/// /v1/orders/{id}/cancel, /v1/orders/{id}/steps).
///
/// A client sends `Idempotency-Key: <1-255 printable ASCII>`; the key is
/// scoped per customer (the body's customerId for a new order, the order's
/// customer for cancel/steps). For one (customer, key):
///   - the first request runs; its answer, when it is a 2xx or a 4xx, is
///     stored durably (record `idem/<customerId>/<fnv1a64(key)>`, written
///     through the store actor) before it is sent;
///   - a later request with the same fingerprint (method, path, body) gets
///     that answer again — status, body, Content-Type, Location — with
///     `Idempotent-Replayed: true`, and nothing runs again;
///   - a later request with another fingerprint: 422 (key reused);
///   - a request while the first still runs (same process): 409 in progress
///     (422 when its fingerprint differs).
/// 5xx answers are not stored (troupe's 503s leave nothing done, so the retry
/// must run again). Records count for `retention_ms` (24 h); an older one is
/// ignored and overwritten by the next use of its key. Nothing purges them.
///
/// A record that could not be written after the action was done (the store
/// failed in between) is kept in memory and replayed from there, and written
/// again at its next use; it is lost only if the process also stops.
///
/// No httplib here: the bridge maps requests to these calls.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "domain/time.hpp"
#include "persistence/store.hpp"

namespace troupe::http::idempotency {

inline constexpr const char* key_header = "Idempotency-Key";
inline constexpr const char* replayed_header = "Idempotent-Replayed";
/// How long a stored answer counts (at least the promised 24 h).
inline constexpr domain::Timestamp retention_ms = 24LL * 60 * 60 * 1000;
/// The store group of a customer's records.
std::string group(const std::string& customer_id);

/// 1-255 printable ASCII characters (0x20-0x7e); invalid_input otherwise.
domain::Status check_key(std::string_view key);

/// 64-bit FNV-1a.
std::uint64_t fnv1a64(std::string_view s);
/// 16 lower-case hex digits.
std::string hex64(std::uint64_t v);

/// What makes two requests "the same": method, path and body (the body's
/// canonical JSON when it parses — key order and spacing do not matter —
/// its raw bytes otherwise): `<hex64 of FNV-1a 64>:<length>` of that text.
std::string fingerprint(std::string_view method, std::string_view path, std::string_view body);
/// The same for a body already parsed: `canonical` is its canonical JSON
/// (nlohmann's dump(): keys sorted, no spaces), so the body is not parsed twice.
std::string fingerprint_canonical(std::string_view method, std::string_view path,
                                  std::string_view canonical);

/// `idem/<customerId>/<hex64(fnv1a64(key))>` (the raw key is in the record).
std::string store_key(const std::string& customer_id, std::string_view key);

/// An answer as sent.
struct Response {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string location;  ///< the Location header, if any
};

struct Record {
  std::string key;          ///< the raw Idempotency-Key
  std::string fingerprint;  ///< of the first request
  domain::Timestamp created_at = 0;
  Response response;
};

/// The stored form: one line of tab-separated fields (domain/fields.hpp),
/// tag `I1`, then key, fingerprint, createdAt, status, contentType, body,
/// location. The answer's body is copied as it is, not escaped into a JSON
/// string. decode() also reads the JSON object that earlier versions wrote.
std::string encode(const Record& r);
domain::Result<Record> decode(std::string_view value);

/// Whether an answer is remembered: 2xx and 4xx.
bool remembered(int status);

class Keeper;

/// What to do with a request that carries a key.
struct Decision {
  enum class Kind {
    execute,      ///< run it, then Claim::finish with its answer
    replay,       ///< send `response` again (with Idempotent-Replayed: true)
    in_progress,  ///< the first request still runs: 409
    mismatch,     ///< the key was used for another request: 422
    failed,       ///< could not read the store: `error` (nothing was done)
  };
  Kind kind = Kind::failed;
  Response response;
  domain::Error error;
};

/// The right to run a request for (customer, key); dropping it unfinished
/// (an exception, a return without finish) frees the key again.
class Claim {
 public:
  Claim() = default;
  Claim(Keeper* k, std::string scope, std::string key, std::string customer, std::string fp)
      : keeper_(k), scope_(std::move(scope)), key_(std::move(key)),
        customer_(std::move(customer)), fp_(std::move(fp)) {}
  Claim(Claim&& o) noexcept { *this = std::move(o); }
  Claim& operator=(Claim&& o) noexcept;
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;
  ~Claim();

  /// The request ran and answered `r`: a 2xx/4xx is made durable (returns
  /// its write's status; on failure it stays remembered in memory), and the
  /// key is free for replays.
  domain::Status finish(Response r);

 private:
  Keeper* keeper_ = nullptr;
  std::string scope_, key_, customer_, fp_;
};

class Keeper {
 public:
  /// Reads one record (Store::get; may run on any thread).
  using Read = std::function<domain::Result<std::optional<std::string>>(const std::string& key)>;
  /// Makes one record durable (through the store actor), blocking.
  using Write = std::function<domain::Status(const persistence::Write& w)>;
  using Now = std::function<domain::Timestamp()>;

  Keeper(Read read, Write write, Now now = domain::now_ms);

  /// Decides for a request with `key` (already checked) of `customer`
  /// whose fingerprint is `fp`. On `execute`, `claim` holds the key.
  Decision begin(const std::string& customer, const std::string& key, const std::string& fp,
                 Claim& claim);

  /// Requests running now, answers kept in memory only (for tests/metrics).
  size_t running() const;
  size_t memory_only() const;

 private:
  friend class Claim;
  struct Entry {
    std::string fp;
    bool done = false;  ///< finished, but its record is not durable yet
    Record record;      ///< when done
  };
  void finish(const std::string& scope, const std::string& customer, const std::string& fp,
              const std::string& key, Response r, domain::Status& out);
  void release(const std::string& scope);
  Decision from_record(const Record& rec, const std::string& fp) const;

  Read read_;
  Write write_;
  Now now_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  ///< by scope (customer + '\n' + key)
};

}  // namespace troupe::http::idempotency
