#include "actors/store_actor.hpp"

#include <algorithm>
#include <cstdint>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <cstring>

#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "views/projections.hpp"

namespace troupe::actors {
namespace {

struct StoreState {
  std::shared_ptr<persistence::Store> store;
  std::shared_ptr<StoreHealth> health;
  domain::Timestamp last_commit = 0;
  size_t max_batches = 4096;
  std::vector<persistence::Batch> pending;
  std::vector<caf::response_promise> waiting;
  /// A commit sent to the store and not yet waited for (pipelined).
  struct InFlight {
    std::vector<caf::response_promise> waiting;
    std::vector<persistence::Batch> batches;  ///< what it writes
    size_t written = 0;          ///< batches[0, written) change views (the rest: a trim chunk)
    std::uint64_t trim_from = 0;  ///< trimmed_upto before its trim chunk
    std::uint64_t log_head = 0;   ///< the head once it is durable
    std::chrono::steady_clock::time_point sent;
  };
  std::deque<InFlight> in_flight;
  bool flush_scheduled = false;
  std::uint64_t log_head = 0;    ///< last sequence number handed out
  bool head_known = false;
  std::uint64_t log_retention = 100000;
  std::uint64_t trimmed_upto = 0;  ///< entries up to here are gone
  std::uint64_t trim_target = 0;   ///< entries up to here may go
  bool log_start_known = false;
  std::chrono::milliseconds trim_every{1000};
  std::size_t trim_chunk = 512;
  static inline const char* name = "store";

  /// Runs when the actor exits, however it exits. (Not an attach_functor:
  /// CAF destroys the state in on_exit, before attached functors run.)
  ~StoreState() {
    // Whatever is still pending never became durable: tell the writers.
    for (auto& rp : waiting)
      rp.deliver(to_caf(domain::ErrorKind::store_unavailable, "store is shutting down"));
    for (auto& f : in_flight)
      for (auto& rp : f.waiting)
        rp.deliver(to_caf(domain::ErrorKind::store_unavailable,
                          "store is shutting down; the write's outcome is unknown"));
  }
};

/// Records the outcome of a store call; logs only on a change.
void note_health(StoreState& st, const domain::Status& result) {
  const bool ok = result.ok();
  const bool was = st.health->healthy.exchange(ok);
  if (was && !ok) spdlog::error("store unavailable: {}", result.error().detail);
  if (!was && ok) spdlog::info("store available again");
}

/// Learns the last sequence number from the store (once per actor life).
domain::Status load_log_head(StoreState& st) {
  if (st.head_known) return domain::ok_status();
  auto r = st.store->get(log_head_key);
  if (!r) return r.error();
  if (*r) st.log_head = std::strtoull((*r)->c_str(), nullptr, 10);
  st.head_known = true;
  st.health->log_head.store(st.log_head);
  return domain::ok_status();
}

/// Gives every appended event its sequence number; a batch with events also
/// records the new head (atomically with them).
domain::Status number_events(StoreState& st, std::vector<persistence::Batch>& batches) {
  bool any = false;
  for (const auto& b : batches)
    for (const auto& w : b) any = any || w.key == append_to_log;
  if (!any) return domain::ok_status();
  if (auto s = load_log_head(st); !s) return s;
  for (auto& b : batches) {
    bool appended = false;
    for (auto& w : b) {
      if (w.key != append_to_log) continue;
      w.key = persistence::log_key(++st.log_head);
      appended = true;
    }
    if (appended) b.push_back({log_head_key, std::to_string(st.log_head), false});
  }
  return domain::ok_status();
}

/// Where trimming stands: `trim_target` is the last entry no subscriber
/// needs (0: none known yet); entries up to `trimmed_upto` are gone.
/// Learns the target from the subscribers' cursors, and once per actor life
/// where the log starts (so a restarted store actor does not erase again
/// what is long gone). False when the store cannot tell.
bool update_trim_target(StoreState& st) {
  std::uint64_t slowest = UINT64_MAX;
  for (const auto& name : views::subscriber_names) {
    auto c = st.store->get(views::cursor_key(name));
    if (!c) return false;
    slowest = std::min<std::uint64_t>(slowest, *c ? std::strtoull((*c)->c_str(), nullptr, 10) : 0);
  }
  if (slowest <= st.log_retention) return true;
  st.trim_target = std::max(st.trim_target, slowest - st.log_retention);
  if (!st.log_start_known) {
    auto first = st.store->read_log(st.trimmed_upto, 1);
    if (!first) return false;
    if (!first->empty()) st.trimmed_upto = persistence::log_seq(first->front().key) - 1;
    else st.trimmed_upto = st.trim_target;
    st.log_start_known = true;
  }
  return true;
}

/// The write that trims the next `trim_chunk` entries behind the target:
/// one put of the log's floor (persistence::log_floor_key), not an erase per
/// entry — those were a quarter of the writes of an order (5 of ~20) and of
/// its index work. `upto` is the new floor; empty when nothing is due.
persistence::Batch next_trim_chunk(const StoreState& st, std::uint64_t& upto) {
  upto = st.trimmed_upto;
  if (!st.log_start_known || st.trim_target <= st.trimmed_upto) return {};
  upto = std::min<std::uint64_t>(st.trim_target, st.trimmed_upto + st.trim_chunk);
  return {{persistence::log_floor_key, std::to_string(upto), false}};
}

/// Sends the pending batches as one commit (plus the next trim chunk, if
/// any: trimming rides along with the group commits instead of stalling the
/// writers with commits of its own) without waiting for it; false when
/// nothing was sent.
bool send_pending(caf::stateful_actor<StoreState>* self) {
  auto& st = self->state;
  if (st.pending.empty()) return false;
  StoreState::InFlight f;
  f.batches = std::move(st.pending);
  f.waiting = std::move(st.waiting);
  st.pending.clear();
  st.waiting.clear();
  if (auto numbered = number_events(st, f.batches); !numbered) {
    note_health(st, numbered);
    for (auto& rp : f.waiting) rp.deliver(to_caf(numbered.error()));
    return false;
  }
  f.written = f.batches.size();
  f.trim_from = st.trimmed_upto;
  std::uint64_t trim_upto = 0;
  if (auto erase = next_trim_chunk(st, trim_upto); !erase.empty()) {
    f.batches.push_back(std::move(erase));
    st.trimmed_upto = trim_upto;  // (the next chunk follows it; undone if it fails)
  }
  f.log_head = st.log_head;
  f.sent = std::chrono::steady_clock::now();
  st.store->send_commit(f.batches);
  st.in_flight.push_back(std::move(f));
  return true;
}

/// Hands the event-log entries of the durable commit `f` to the recent log
/// (their values moved out: once durable, a commit's writes are needed for
/// their keys only).
void publish_log_entries(StoreState& st, StoreState::InFlight& f) {
  std::vector<RecentLog::Entry> entries;
  for (size_t i = 0; i < f.written; ++i)
    for (auto& w : f.batches[i])
      if (const auto seq = persistence::log_seq(w.key); seq != 0 && !w.erase)
        entries.emplace_back(seq, std::make_shared<const std::string>(std::move(w.value)));
  st.health->recent_log.put(std::move(entries));
}

/// Waits for the oldest commit sent and answers its writers.
void finish_oldest(caf::stateful_actor<StoreState>* self) {
  auto& st = self->state;
  auto f = std::move(st.in_flight.front());
  st.in_flight.pop_front();
  auto result = st.store->wait_commit();
  st.health->commit_latency.record(std::chrono::steady_clock::now() - f.sent);
  // Visible now (or in doubt): cached views of these groups are stale.
  for (size_t i = 0; i < f.written; ++i)
    for (const auto& w : f.batches[i]) st.health->groups.changed(w.key);
  st.last_commit = domain::now_ms();
  note_health(st, result);
  if (result) {
    publish_log_entries(st, f);
    st.health->log_head.store(std::max(st.health->log_head.load(), f.log_head));
    for (auto& rp : f.waiting) rp.deliver(ok_atom::value);
  } else {
    st.trimmed_upto = std::min(st.trimmed_upto, f.trim_from);  // (erasing again is harmless)
    for (auto& rp : f.waiting) rp.deliver(to_caf(result.error()));
  }
}

/// Commits the pending batches and waits for every commit sent: on return
/// everything written before is durable (or its writers got the error).
void commit_pending(caf::stateful_actor<StoreState>* self) {
  self->state.flush_scheduled = false;
  send_pending(self);
  while (!self->state.in_flight.empty()) finish_oldest(self);
}

/// A flush keeps one commit in flight: it sends the pending batches, then
/// waits for the commits sent before (the store works on the new one
/// meanwhile), and comes back for the new one after the mailbox's writes.
void flush(caf::stateful_actor<StoreState>* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  const bool sent = send_pending(self);
  const size_t keep = sent && st.store->pipelines() ? 1 : 0;
  while (st.in_flight.size() > keep) finish_oldest(self);
  if (!st.in_flight.empty() && !st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

/// A trim round: learns the target, then erases a chunk on its own when no
/// writes carry it; true when more remain behind the target.
bool trim_round(StoreState& st) {
  if (!update_trim_target(st)) return false;
  std::uint64_t upto = 0;
  auto erase = next_trim_chunk(st, upto);
  if (erase.empty()) return false;
  if (!st.store->commit({erase})) return false;
  st.trimmed_upto = upto;
  spdlog::debug("event log trimmed up to {}", upto);
  return upto < st.trim_target;
}

caf::behavior store_actor(caf::stateful_actor<StoreState>* self,
                          std::shared_ptr<persistence::Store> store,
                          std::shared_ptr<StoreHealth> health, size_t max_batches,
                          std::uint64_t log_retention, std::chrono::milliseconds trim_every,
                          std::size_t trim_chunk, int nice) {
  // Every order waits for this thread twice (write-ahead, confirm), and it
  // is one among ~70 runnable threads under load: at an equal share it sat
  // waiting for a CPU while writes queued (Redis s1: 5.7 ms in its mailbox
  // for a ~1 ms commit). (Runs on the actor's own thread: detached.)
  if (nice != 0 && ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice) != 0) {
    static std::atomic<bool> told{false};
    if (!told.exchange(true))
      spdlog::info("store thread keeps its priority (nice {} refused: {})", nice, std::strerror(errno));
  }
  self->state.store = std::move(store);
  self->state.health = health ? std::move(health) : std::make_shared<StoreHealth>();
  self->state.max_batches = max_batches;
  self->state.log_retention = log_retention;
  self->state.trim_every = trim_every;
  self->state.trim_chunk = std::max<std::size_t>(trim_chunk, 1);
  // Learn the head now, so metrics and lag are right before the first
  // append (retried on every tick until the store answers).
  load_log_head(self->state);
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  self->delayed_send(self, self->state.trim_every, trim_atom::value);
  return {
    [=](tick_atom) {
      auto& st = self->state;
      if (!st.store) return;
      if (domain::now_ms() - st.last_commit >= 1000 || !st.health->healthy.load())
        note_health(st, st.store->ping());
      if (!st.head_known) load_log_head(st);
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
    },
    [=](trim_atom) {
      auto& st = self->state;
      if (!st.store) return;
      if (st.health->healthy.load()) {
        commit_pending(self);
        // More to erase: the next round queues behind the writes waiting
        // now (which carry chunks of their own).
        if (trim_round(st)) return self->send(self, trim_atom::value);
      }
      self->delayed_send(self, st.trim_every, trim_atom::value);
    },
    [=](StoreWrite& w) -> caf::result<ok_atom> {
      auto& st = self->state;
      auto rp = self->make_response_promise();
      for (auto& b : w.batches) st.pending.push_back(std::move(b));
      st.waiting.push_back(rp);
      if (st.pending.size() >= st.max_batches) {
        commit_pending(self);
      } else if (!st.flush_scheduled) {
        // The flush message queues behind every write already in the
        // mailbox: they all join this commit.
        st.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
      return rp;
    },
    [=](flush_atom) { flush(self); },
    [=](StoreGet& g) -> caf::result<StoreValue> {
      if (!g.unqueued) commit_pending(self);
      auto r = self->state.store->get(g.key);
      note_health(self->state, r ? domain::ok_status() : domain::Status(r.error()));
      if (!r) return to_caf(r.error());
      StoreValue v;
      if (*r) {
        v.found = true;
        v.value = std::move(**r);
      }
      return v;
    },
    [=](StoreScan& s) -> caf::result<std::vector<persistence::Record>> {
      commit_pending(self);
      auto r = self->state.store->scan(s.prefix);
      if (!r) return to_caf(r.error());
      return std::move(*r);
    },
    [=](LogRead& r) -> caf::result<std::vector<persistence::Record>> {
      commit_pending(self);
      auto out = self->state.store->read_log(r.after, r.limit);
      if (!out) return to_caf(out.error());
      return std::move(*out);
    },
    [=](StoreScanGroup& g) -> caf::result<std::vector<persistence::Record>> {
      commit_pending(self);
      auto out = self->state.store->scan_group(g.group);
      if (!out) return to_caf(out.error());
      return std::move(*out);
    },
    [=](stats_atom) -> StoreStatsView {
      auto s = self->state.store->stats();
      return {s.commits, s.batches, s.writes, s.compactions, s.live_records, s.bytes_on_disk};
    },
    [=](close_atom) -> caf::result<ok_atom> {
      commit_pending(self);
      auto r = self->state.store->close();
      self->state.store.reset();
      self->quit();
      if (!r) return to_caf(r.error());
      return ok_atom::value;
    },
  };
}

}  // namespace

caf::actor spawn_store_actor(caf::actor_system& sys, std::shared_ptr<persistence::Store> store,
                             std::shared_ptr<StoreHealth> health, size_t max_batches,
                             std::uint64_t log_retention, std::chrono::milliseconds trim_every,
                             std::size_t trim_chunk, int nice) {
  return sys.spawn<caf::detached>(store_actor, std::move(store), std::move(health), max_batches,
                                  log_retention, trim_every, trim_chunk, nice);
}

}  // namespace troupe::actors
