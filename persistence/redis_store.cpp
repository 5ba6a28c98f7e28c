#include "persistence/redis_store.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <optional>
#include <mutex>
#include <unordered_set>
#include <set>
#include <string_view>
#include <unordered_map>

namespace troupe::persistence {
namespace {

using domain::ErrorKind;
using domain::make_error;

domain::Error unavailable(std::string detail) {
  return make_error(ErrorKind::store_unavailable, std::move(detail));
}

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r) freeReplyObject(r);
  }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<long>(ms.count() / 1000);
  tv.tv_usec = static_cast<long>((ms.count() % 1000) * 1000);
  return tv;
}

class RedisStore final : public Store {
 public:
  explicit RedisStore(RedisStoreOptions o) : opt_(std::move(o)) {}
  ~RedisStore() override { close(); }

  Status connect_now() {
    std::lock_guard<std::mutex> l(mu_);
    return ensure_connected(true);
  }

  std::string describe() const override {
    return "redis://" + opt_.url.host + ":" + std::to_string(opt_.url.port) + "/" +
           std::to_string(opt_.url.db) + " prefix " + opt_.prefix;
  }

  Status commit(const std::vector<Batch>& batches) override {
    std::lock_guard<std::mutex> l(mu_);
    drain();
    if (auto st = ensure_connected(false); !st) return st;
    Sent sent;
    auto cmd = build_commit(batches, sent);
    auto round_trip = [&]() -> Result<Reply> {
      if (auto st = append(cmd); !st) return st.error();
      return next_reply();
    };
    auto r = round_trip();
    if (r && (*r)->type == REDIS_REPLY_ERROR &&
        std::string_view((*r)->str, (*r)->len).rfind("NOSCRIPT", 0) == 0) {
      // The script cache was flushed: nothing ran; send the script itself.
      cmd[0] = "EVAL";
      cmd[1] = commit_script();
      r = round_trip();
    }
    if (!r) return r.error();
    return outcome_of(*r, sent);
  }

  /// Pipelined: the commit goes out now; its reply is read by wait_commit
  /// (or by any other call, which reads every outstanding reply first).
  /// While Redis runs it (and fsyncs its AOF), the store actor answers the
  /// previous commit's writers and gathers the next batches.
  void send_commit(const std::vector<Batch>& batches) override {
    std::lock_guard<std::mutex> l(mu_);
    Sent sent;
    if (auto st = ensure_connected(false); !st) {
      sent.outcome = st;
      sent_.push_back(std::move(sent));
      return;
    }
    auto cmd = build_commit(batches, sent);
    // Sent in full now (not with the next read): Redis works on it while
    // the caller does not wait.
    Status st = append(cmd);
    for (int done = 0; st && done == 0;)
      if (redisBufferWrite(ctx_, &done) != REDIS_OK) st = lost(ctx_->errstr);
    // (A failure dropped the connection, which failed the other outstanding
    // commits too.)
    if (!st) sent.outcome = st;
    sent_.push_back(std::move(sent));
  }

  bool pipelines() const override { return true; }

  Status wait_commit() override {
    std::lock_guard<std::mutex> l(mu_);
    if (sent_.empty()) return make_error(ErrorKind::internal, "no commit was started");
    if (!sent_.front().outcome) read_commit_reply();
    Status out = std::move(*sent_.front().outcome);
    sent_.pop_front();
    return out;
  }

  Result<std::optional<std::string>> get(const std::string& key) override {
    std::lock_guard<std::mutex> l(mu_);
    drain();
    if (auto st = ensure_connected(false); !st) return st.error();
    auto [hash, field] = split(key);
    std::vector<Reply> r;
    if (auto st = pipeline({{"HGET", hash, field}}, r); !st) return st.error();
    if (r[0]->type == REDIS_REPLY_NIL) return std::optional<std::string>{};
    if (r[0]->type != REDIS_REPLY_STRING) return unexpected(r[0], "HGET");
    return std::optional<std::string>{std::string(r[0]->str, r[0]->len)};
  }

  Result<std::vector<Record>> scan(const std::string& prefix) override {
    std::lock_guard<std::mutex> l(mu_);
    drain();
    if (auto st = ensure_connected(false); !st) return st.error();
    std::vector<Reply> r;
    if (auto st = pipeline({{"SMEMBERS", opt_.prefix + "hashes"}}, r); !st) return st.error();
    // An error reply (-BUSY, -LOADING, -WRONGTYPE, ...) is a failure, never
    // "no records": a restore from an empty scan would forget allocations.
    if (!is_string_array(r[0])) return unexpected(r[0], "SMEMBERS");
    std::vector<std::string> hashes;
    for (size_t i = 0; i < r[0]->elements; ++i) {
      std::string h(r[0]->element[i]->str, r[0]->element[i]->len);
      // The hash `<prefix>a/b` holds keys `a/b/<field>`.
      const std::string as_key = h.substr(opt_.prefix.size()) + "/";
      if (as_key.compare(0, std::min(prefix.size(), as_key.size()), prefix, 0,
                         std::min(prefix.size(), as_key.size())) == 0)
        hashes.push_back(h);
    }
    std::vector<Record> out;
    for (const auto& h : hashes)
      if (auto st = read_hash(h, prefix, out); !st) return st.error();
    return sorted_once(std::move(out));
  }

  Result<std::vector<Record>> read_log(std::uint64_t after, size_t limit) override {
    std::lock_guard<std::mutex> l(mu_);
    drain();
    if (auto st = ensure_connected(false); !st) return st.error();
    std::vector<Reply> r;
    if (auto st = pipeline({{"XRANGE", log_stream(), std::to_string(after + 1) + "-0", "+", "COUNT",
                             std::to_string(limit)}},
                           r);
        !st)
      return st.error();
    if (!r[0] || r[0]->type != REDIS_REPLY_ARRAY) return unexpected(r[0], "XRANGE");
    std::vector<Record> out;
    for (size_t i = 0; i < r[0]->elements; ++i) {
      const redisReply* e = r[0]->element[i];
      if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
          e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY ||
          e->element[1]->elements != 2 || e->element[1]->element[1]->type != REDIS_REPLY_STRING)
        return unexpected(r[0], "XRANGE");
      const std::string id(e->element[0]->str, e->element[0]->len);
      const auto seq = std::strtoull(id.c_str(), nullptr, 10);
      const auto* v = e->element[1]->element[1];
      out.push_back({log_key(seq), std::string(v->str, v->len)});
    }
    return out;
  }

  Result<std::vector<Record>> scan_group(const std::string& group) override {
    std::lock_guard<std::mutex> l(mu_);
    drain();
    if (auto st = ensure_connected(false); !st) return st.error();
    std::vector<Record> out;
    if (auto st = read_hash(opt_.prefix + group, "", out); !st) return st.error();
    return sorted_once(std::move(out));
  }

  StoreStats stats() const override {
    std::lock_guard<std::mutex> l(mu_);
    return stats_;
  }

  Status ping() override {
    std::lock_guard<std::mutex> l(mu_);
    drain();
    if (auto st = ensure_connected(false); !st) return st;
    std::vector<Reply> r;
    if (auto st = pipeline({{"PING"}}, r); !st) return st;
    if (r[0]->type == REDIS_REPLY_ERROR) {
      std::string why = r[0]->str;
      drop_connection(why);
      return unavailable("redis: " + why);
    }
    return domain::ok_status();
  }

  Status close() override {
    std::lock_guard<std::mutex> l(mu_);
    drain();
    if (ctx_) {
      redisFree(ctx_);
      ctx_ = nullptr;
    }
    closed_ = true;
    return domain::ok_status();
  }

 private:
  /// A commit sent and not yet waited for: what its reply will settle.
  struct Sent {
    std::optional<Status> outcome;        ///< empty while its reply is due
    std::vector<std::string> new_hashes;  ///< listed in the hashes set by it
    size_t batches = 0;
    size_t writes = 0;
  };

  /// The commit's script call (see commit_script), and what it will list.
  std::vector<std::string> build_commit(const std::vector<Batch>& batches, Sent& sent) {
    // One EVAL = one round trip, atomic like MULTI/EXEC, and fenced: it
    // applies nothing unless the fence still holds this connection's token.
    // A commit lost in a dead connection (in doubt) that reaches Redis after
    // the reconnect's INCR is therefore refused — MULTI/EXEC with WATCH in
    // the same pipeline could not guarantee that.
    std::vector<std::string> cmd = {"EVALSHA", script_sha_, "2", fence_key(),
                                    opt_.prefix + "hashes", fence_token_};
    // Event-log appends first, in order: an XADD the stream refuses (id not
    // above the last) then fails the script before it changed anything.
    // The records are gathered meanwhile, with the last write of each key.
    std::vector<std::string> erased_ids;
    std::uint64_t floor = 0;  ///< the highest log floor put in this commit
    std::vector<const Write*> records;
    std::unordered_map<std::string_view, const Write*> last;
    for (const auto& b : batches) {
      for (const auto& w : b) {
        ++sent.writes;
        const auto seq = log_seq(w.key);
        if (seq == 0) {
          records.push_back(&w);
          last[w.key] = &w;
          if (!w.erase && w.key == log_floor_key) floor = std::max(floor, log_floor_of(w.value));
          continue;
        }
        if (w.erase) {
          erased_ids.push_back(std::to_string(seq) + "-0");
          continue;
        }
        cmd.push_back("X");
        cmd.push_back(log_stream());
        cmd.push_back(std::to_string(seq) + "-0");
        cmd.push_back(w.value);
      }
    }
    append_grouped(cmd, "XD", log_stream(), erased_ids, 1);
    if (floor > 0) {
      cmd.push_back("XT");
      cmd.push_back(log_stream());
      cmd.push_back(std::to_string(floor + 1) + "-0");
    }
    // Records: the last write of each key wins, and each hash gets one HSET
    // (and one HDEL) for all its fields — a commit of ~10 orders wrote the
    // `order` hash ~20 times, one Lua call each.
    struct HashWrites {
      std::string hash;
      std::vector<std::string> puts;  ///< field, value, field, value, ...
      std::vector<std::string> dels;  ///< fields
    };
    std::vector<HashWrites> groups;
    std::unordered_map<std::string, size_t> group_of;
    for (const Write* w : records) {
      if (last[w->key] != w) continue;  // overwritten later in this commit
      auto [hash, field] = split(w->key);
      auto [it, added] = group_of.try_emplace(hash, groups.size());
      if (added) groups.push_back({hash, {}, {}});
      auto& g = groups[it->second];
      if (w->erase) {
        g.dels.push_back(std::move(field));
      } else {
        g.puts.push_back(std::move(field));
        g.puts.push_back(w->value);
      }
    }
    for (auto& g : groups) {
      // A hash this connection has listed already needs no SADD (9 of ~25
      // commands per order were SADDs of known hashes).
      const bool listed = known_hashes_.count(g.hash) > 0;
      if (!listed && !g.puts.empty()) sent.new_hashes.push_back(g.hash);
      append_grouped(cmd, listed ? "H" : "HN", g.hash, g.puts, 2);
      append_grouped(cmd, "D", g.hash, g.dels, 1);
    }
    sent.batches = batches.size();
    return cmd;
  }

  /// What a commit's reply means (and its bookkeeping when it succeeded).
  Status outcome_of(const Reply& r, const Sent& sent) {
    if (r->type == REDIS_REPLY_ERROR) {
      std::string why(r->str, r->len);
      if (why.find("FENCED") != std::string::npos) {
        drop_connection("fenced by another connection");
        return unavailable("commit refused: the store was fenced by a reconnect");
      }
      if (why.rfind("NOSCRIPT", 0) == 0) {
        // A pipelined commit cannot be sent again behind the ones after
        // it: this one did nothing, those fail with the connection, and
        // the reconnect loads the script again.
        drop_connection("the script cache was flushed");
        return unavailable("commit not applied: Redis's script cache was flushed; retry");
      }
      return unavailable("commit failed: " + why);
    }
    if (known_hashes_.size() > 1000000) known_hashes_.clear();  // (re-listing is harmless)
    known_hashes_.insert(sent.new_hashes.begin(), sent.new_hashes.end());
    stats_.commits++;
    stats_.batches += sent.batches;
    stats_.writes += sent.writes;
    return domain::ok_status();
  }

  /// Reads the reply of the oldest sent commit whose reply is due. Caller holds mu_.
  void read_commit_reply() {
    for (auto& s : sent_) {
      if (s.outcome) continue;
      auto r = next_reply();
      // (A lost connection has settled every outstanding commit, this one too.)
      if (r) s.outcome = outcome_of(*r, s);
      return;
    }
  }

  /// Reads every outstanding commit reply (kept for wait_commit), so the
  /// next command's reply is the next one read. Caller holds mu_.
  void drain() {
    for (size_t i = 0; i < sent_.size(); ++i)
      if (!sent_[i].outcome) read_commit_reply();
  }

  std::string fence_key() const { return opt_.prefix + "fence"; }
  std::string log_stream() const { return opt_.prefix + "log"; }

  /// The commit script. ARGV[1] is the fence token, then operations:
  ///   X  stream id value           XADD of one log entry
  ///   XD stream n id...            XDEL of n entries
  ///   XT stream id                 XTRIM MINID: every entry below id goes
  ///   H  hash n field value ...    HSET of n fields (HN: and SADD to the hashes set)
  ///   D  hash n field ...          HDEL of n fields
  /// (n at most `max_group` values, so unpack stays far below Lua's C stack).
  static const std::string& commit_script() {
    static const std::string script =
      "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED') end "
      "local i, n = 2, #ARGV "
      "while i <= n do "
      "  local op = ARGV[i] "
      "  if op == 'X' then "
      "    redis.call('XADD', ARGV[i+1], ARGV[i+2], 'e', ARGV[i+3]) "
      "    i = i + 4 "
      "  elseif op == 'XT' then "
      "    redis.call('XTRIM', ARGV[i+1], 'MINID', ARGV[i+2]) "
      "    i = i + 3 "
      "  else "
      "    local key, count = ARGV[i+1], tonumber(ARGV[i+2]) "
      "    local last = i + 2 + count * (((op == 'H') or (op == 'HN')) and 2 or 1) "
      "    if op == 'XD' then redis.call('XDEL', key, unpack(ARGV, i + 3, last)) "
      "    elseif op == 'D' then redis.call('HDEL', key, unpack(ARGV, i + 3, last)) "
      "    else "
      "      redis.call('HSET', key, unpack(ARGV, i + 3, last)) "
      "      if op == 'HN' then redis.call('SADD', KEYS[2], key) end "
      "    end "
      "    i = last + 1 "
      "  end "
      "end "
      "return n";
    return script;
  }
  static constexpr size_t max_group = 1000;  ///< values per grouped operation

  /// Appends `op key n values...` for `values` (`width` values per item),
  /// split into operations of at most max_group values.
  static void append_grouped(std::vector<std::string>& cmd, const char* op, const std::string& key,
                             std::vector<std::string>& values, size_t width) {
    const size_t per_op = (max_group / width) * width;
    for (size_t at = 0; at < values.size(); at += per_op) {
      const size_t end = std::min(values.size(), at + per_op);
      cmd.push_back(op);
      cmd.push_back(key);
      cmd.push_back(std::to_string((end - at) / width));
      for (size_t i = at; i < end; ++i) cmd.push_back(std::move(values[i]));
    }
  }

  static bool is_string_array(const Reply& r) { return is_string_array(r.get()); }
  static bool is_string_array(const redisReply* r) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return false;
    for (size_t i = 0; i < r->elements; ++i)
      if (!r->element[i] || r->element[i]->type != REDIS_REPLY_STRING) return false;
    return true;
  }
  static domain::Error unexpected(const Reply& r, const char* command) {
    if (r && r->type == REDIS_REPLY_ERROR)
      return unavailable(std::string("redis: ") + command + ": " + std::string(r->str, r->len));
    return unavailable(std::string("unexpected reply to ") + command);
  }

  std::pair<std::string, std::string> split(const std::string& key) const {
    auto slash = key.rfind('/');
    if (slash == std::string::npos) return {opt_.prefix + "_", key};
    return {opt_.prefix + key.substr(0, slash), key.substr(slash + 1)};
  }

  void drop_connection(const std::string& why) {
    // Commits sent on this connection whose replies never came are in
    // doubt; the fence bumped at the reconnect keeps them from landing later.
    for (auto& s : sent_)
      if (!s.outcome) s.outcome = unavailable("redis: " + why + " (commit outcome unknown)");
    known_hashes_.clear();  // whatever happened meanwhile, list them again
    if (ctx_) {
      redisFree(ctx_);
      ctx_ = nullptr;
    }
    last_error_ = why;
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
  }

  // Caller holds mu_.
  Status ensure_connected(bool force) {
    if (closed_) return unavailable("store is closed");
    if (ctx_) return domain::ok_status();
    if (!force && std::chrono::steady_clock::now() < next_attempt_)
      return unavailable("redis unavailable: " + last_error_);
    ctx_ = redisConnectWithTimeout(opt_.url.host.c_str(), opt_.url.port, to_timeval(opt_.timeout));
    if (!ctx_ || ctx_->err) {
      std::string why = ctx_ ? ctx_->errstr : "cannot allocate context";
      drop_connection(why);
      return unavailable("cannot connect to redis at " + opt_.url.host + ":" +
                         std::to_string(opt_.url.port) + ": " + why);
    }
    redisSetTimeout(ctx_, to_timeval(opt_.timeout));
    redisEnableKeepAlive(ctx_);
    std::vector<std::vector<std::string>> setup;
    if (!opt_.url.password.empty()) {
      if (opt_.url.user.empty())
        setup.push_back({"AUTH", opt_.url.password});
      else
        setup.push_back({"AUTH", opt_.url.user, opt_.url.password});
    }
    if (opt_.url.db != 0) setup.push_back({"SELECT", std::to_string(opt_.url.db)});
    setup.push_back({"SCRIPT", "LOAD", commit_script()});
    // Fence off every commit an earlier connection may still have in flight.
    setup.push_back({"INCR", fence_key()});
    {
      std::vector<Reply> r;
      if (auto st = pipeline(setup, r); !st) return st;
      if (r.back()->type == REDIS_REPLY_INTEGER) fence_token_ = std::to_string(r.back()->integer);
      if (const auto& sha = r[r.size() - 2]; sha->type == REDIS_REPLY_STRING)
        script_sha_.assign(sha->str, sha->len);
      for (const auto& x : r)
        if (x->type == REDIS_REPLY_ERROR) {
          std::string why = x->str;  // never contains the password
          drop_connection(why);
          return unavailable("redis refused the connection setup: " + why);
        }
    }
    backoff_ = std::chrono::milliseconds(100);
    return domain::ok_status();
  }

  /// Appends the records of hash `h` (`<prefix>a/b`: keys `a/b/<field>`)
  /// whose key starts with `only`, HSCAN by HSCAN (`opt_.scan_count` a call);
  /// a field may come twice (sorted_once keeps the last one read).
  Status read_hash(const std::string& h, const std::string& only, std::vector<Record>& out) {
    const std::string base = h.substr(opt_.prefix.size()) + "/";
    std::string cursor = "0";
    const std::string count = std::to_string(std::max<std::size_t>(1, opt_.scan_count));
    do {
      std::vector<Reply> r;
      if (auto st = pipeline({{"HSCAN", h, cursor, "COUNT", count}}, r); !st) return st;
      const redisReply* x = r[0].get();
      if (!x || x->type != REDIS_REPLY_ARRAY || x->elements != 2 ||
          x->element[0]->type != REDIS_REPLY_STRING || !is_string_array(x->element[1]))
        return unexpected(r[0], "HSCAN");
      cursor.assign(x->element[0]->str, x->element[0]->len);
      const redisReply* kv = x->element[1];
      for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        std::string key = base;
        key.append(kv->element[i]->str, kv->element[i]->len);
        if (key.compare(0, only.size(), only) == 0)
          out.push_back({std::move(key), std::string(kv->element[i + 1]->str, kv->element[i + 1]->len)});
      }
    } while (cursor != "0");
    return domain::ok_status();
  }

  /// `recs` in key order, each key once: the last one read of a repeated key.
  static std::vector<Record> sorted_once(std::vector<Record> recs) {
    sort_by_key(recs);  // (stable: of a repeated key, the last one read comes last)
    size_t n = 0;  // recs[0, n): the kept records
    for (size_t i = 0; i < recs.size(); ++i) {
      if (n == 0 || recs[n - 1].key != recs[i].key) ++n;  // a new key, else it replaces the kept one
      if (n - 1 != i) recs[n - 1] = std::move(recs[i]);
    }
    recs.resize(n);
    return recs;
  }

  // Sends all commands, then reads all replies (one round trip). Caller holds mu_.
  Status pipeline(const std::vector<std::vector<std::string>>& cmds, std::vector<Reply>& out) {
    for (const auto& c : cmds)
      if (auto st = append(c); !st) return st;
    out.clear();
    for (size_t i = 0; i < cmds.size(); ++i) {
      auto r = next_reply();
      if (!r) return r.error();
      out.push_back(std::move(*r));
    }
    return domain::ok_status();
  }

  /// Appends one command to the connection's output buffer (sent with the
  /// next reply read, or by send_commit). Caller holds mu_.
  Status append(const std::vector<std::string>& c) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    argv.reserve(c.size());
    lens.reserve(c.size());
    for (const auto& a : c) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK)
      return lost(ctx_->errstr);
    return domain::ok_status();
  }

  /// Reads the next reply (after sending whatever is buffered). Caller holds mu_.
  Result<Reply> next_reply() {
    void* raw = nullptr;
    if (!ctx_) return lost("not connected");
    if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw) return lost(ctx_->err ? ctx_->errstr : "no reply");
    return Reply(static_cast<redisReply*>(raw));
  }

  /// The connection failed: dropped, and the error to return.
  domain::Error lost(std::string why) {
    drop_connection(why);
    return unavailable("redis: " + why);
  }

  RedisStoreOptions opt_;
  mutable std::mutex mu_;
  redisContext* ctx_ = nullptr;
  bool closed_ = false;
  std::string fence_token_;  ///< the fence value this connection set (INCR at connect)
  std::string script_sha_;   ///< the commit script's SHA1 (SCRIPT LOAD at connect)
  std::string last_error_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{100};
  StoreStats stats_;
  /// Hashes this connection's commits have put in the `hashes` set (what
  /// prefix scans list); cleared on every reconnect.
  std::unordered_set<std::string> known_hashes_;
  std::deque<Sent> sent_;  ///< pipelined commits not yet waited for, in send order
};

}  // namespace

Result<RedisUrl> parse_redis_url(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return make_error(ErrorKind::invalid_input, "redis URL must start with redis://");
  std::string rest = url.substr(scheme.size());
  RedisUrl u;
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = cred.find(':');
    if (colon == std::string::npos) {
      u.password = cred;
    } else {
      u.user = cred.substr(0, colon);
      u.password = cred.substr(colon + 1);
    }
  }
  auto slash = rest.find('/');
  if (slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      char* end = nullptr;
      long v = std::strtol(db.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v > 15)
        return make_error(ErrorKind::invalid_input, "redis URL: db must be 0-15");
      u.db = static_cast<int>(v);
    }
  }
  auto colon = rest.rfind(':');
  if (colon != std::string::npos) {
    char* end = nullptr;
    long p = std::strtol(rest.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || p < 1 || p > 65535)
      return make_error(ErrorKind::invalid_input, "redis URL: port must be 1-65535");
    u.port = static_cast<int>(p);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return make_error(ErrorKind::invalid_input, "redis URL: host is missing");
  u.host = rest;
  return u;
}

Result<std::unique_ptr<Store>> open_redis_store(const RedisStoreOptions& options) {
  auto s = std::make_unique<RedisStore>(options);
  if (auto st = s->connect_now(); !st) return st.error();
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace troupe::persistence
