#include "actors/store_actor.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

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
  bool flush_scheduled = false;
  std::uint64_t log_head = 0;    ///< last sequence number handed out
  bool head_known = false;
  std::uint64_t log_retention = 100000;
  std::uint64_t trimmed_upto = 0;  ///< entries up to here are gone
  std::chrono::milliseconds trim_every{10000};
  static inline const char* name = "store";

  /// Runs when the actor exits, however it exits. (Not an attach_functor:
  /// CAF destroys the state in on_exit, before attached functors run.)
  ~StoreState() {
    // Whatever is still pending never became durable: tell the writers.
    for (auto& rp : waiting)
      rp.deliver(to_caf(domain::ErrorKind::store_unavailable, "store is shutting down"));
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

/// Erases log entries no subscriber needs any more (see the header).
void trim_log(StoreState& st) {
  std::uint64_t slowest = UINT64_MAX;
  for (const auto& name : views::subscriber_names) {
    auto c = st.store->get(views::cursor_key(name));
    if (!c) return;
    slowest = std::min<std::uint64_t>(slowest, *c ? std::strtoull((*c)->c_str(), nullptr, 10) : 0);
  }
  if (slowest <= st.log_retention) return;
  const std::uint64_t bound = slowest - st.log_retention;
  if (bound <= st.trimmed_upto) return;
  auto entries = st.store->read_log(st.trimmed_upto, 20000);
  if (!entries) return;
  persistence::Batch erase;
  std::uint64_t last = st.trimmed_upto;
  for (const auto& r : *entries) {
    const auto seq = persistence::log_seq(r.key);
    if (seq == 0 || seq > bound) break;
    erase.push_back({r.key, {}, true});
    last = seq;
  }
  if (erase.empty()) {
    st.trimmed_upto = bound;
    return;
  }
  if (st.store->commit({erase})) {
    st.trimmed_upto = last;
    spdlog::debug("event log trimmed up to {}", last);
  }
}

void commit_pending(caf::stateful_actor<StoreState>* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty()) return;
  auto batches = std::move(st.pending);
  auto waiting = std::move(st.waiting);
  st.pending.clear();
  st.waiting.clear();
  auto result = number_events(st, batches);
  if (result) result = st.store->commit(batches);
  st.last_commit = domain::now_ms();
  note_health(st, result);
  if (result) {
    st.health->log_head.store(st.log_head);
    for (auto& rp : waiting) rp.deliver(ok_atom::value);
  } else {
    for (auto& rp : waiting) rp.deliver(to_caf(result.error()));
  }
}

caf::behavior store_actor(caf::stateful_actor<StoreState>* self,
                          std::shared_ptr<persistence::Store> store,
                          std::shared_ptr<StoreHealth> health, size_t max_batches,
                          std::uint64_t log_retention, std::chrono::milliseconds trim_every) {
  self->state.store = std::move(store);
  self->state.health = health ? std::move(health) : std::make_shared<StoreHealth>();
  self->state.max_batches = max_batches;
  self->state.log_retention = log_retention;
  self->state.trim_every = trim_every;
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
        trim_log(st);
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
    [=](flush_atom) { commit_pending(self); },
    [=](StoreGet& g) -> caf::result<StoreValue> {
      commit_pending(self);
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
                             std::uint64_t log_retention, std::chrono::milliseconds trim_every) {
  return sys.spawn<caf::detached>(store_actor, std::move(store), std::move(health), max_batches,
                                  log_retention, trim_every);
}

}  // namespace troupe::actors
