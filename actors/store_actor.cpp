#include "actors/store_actor.hpp"

#include <spdlog/spdlog.h>

#include <caf/all.hpp>

#include "actors/messages.hpp"

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

void commit_pending(caf::stateful_actor<StoreState>* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty()) return;
  auto batches = std::move(st.pending);
  auto waiting = std::move(st.waiting);
  st.pending.clear();
  st.waiting.clear();
  auto result = st.store->commit(batches);
  st.last_commit = domain::now_ms();
  note_health(st, result);
  if (result) {
    for (auto& rp : waiting) rp.deliver(ok_atom::value);
  } else {
    for (auto& rp : waiting) rp.deliver(to_caf(result.error()));
  }
}

caf::behavior store_actor(caf::stateful_actor<StoreState>* self,
                          std::shared_ptr<persistence::Store> store,
                          std::shared_ptr<StoreHealth> health, size_t max_batches) {
  self->state.store = std::move(store);
  self->state.health = health ? std::move(health) : std::make_shared<StoreHealth>();
  self->state.max_batches = max_batches;
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
    [=](tick_atom) {
      auto& st = self->state;
      if (!st.store) return;
      if (domain::now_ms() - st.last_commit >= 1000 || !st.health->healthy.load())
        note_health(st, st.store->ping());
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
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
                             std::shared_ptr<StoreHealth> health, size_t max_batches) {
  return sys.spawn<caf::detached>(store_actor, std::move(store), std::move(health), max_batches);
}

}  // namespace troupe::actors
