#include "actors/subscriber.hpp"

#include <algorithm>
#include <cstdlib>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/context.hpp"
#include "actors/decoded_events.hpp"
#include "actors/messages.hpp"
#include "actors/recent_log.hpp"
#include "actors/store_actor.hpp"
#include "views/projections.hpp"

namespace troupe::actors {
namespace {

constexpr std::uint32_t page_size = 1024;
constexpr auto idle_poll = std::chrono::milliseconds(50);

struct SubscriberState {
  std::shared_ptr<const Context> ctx;
  std::string sub;  ///< which subscriber
  std::uint64_t cursor = 0;
  bool loaded = false;
  std::chrono::milliseconds backoff{100};
  static inline const char* name = "subscriber";

  ~SubscriberState() {
    if (ctx && ctx->subscribers)
      ctx->subscribers->update(sub, [](SubscriberStatus& s) { s.running = false; });
  }
};

using Subscriber = caf::stateful_actor<SubscriberState>;

void board(Subscriber* self, const std::function<void(SubscriberStatus&)>& f) {
  if (self->state.ctx->subscribers) self->state.ctx->subscribers->update(self->state.sub, f);
}

/// Something failed: try again later (growing wait, at most 5 s).
void retry_later(Subscriber* self, const std::string& why) {
  auto& s = self->state;
  board(self, [&](SubscriberStatus& st) { st.last_error = why; });
  self->delayed_send(self, s.backoff, tick_atom::value);
  s.backoff = std::min(s.backoff * 2, std::chrono::milliseconds(5000));
}

/// Posts the notifications of a page to the webhook; false if one failed
/// (the page is then tried again, from the start, later).
bool deliver(Subscriber* self, const std::vector<EventRef>& events) {
  const auto& hook = self->state.ctx->webhook;
  if (!hook || self->state.sub != "notifier") return true;
  for (const auto& ep : events) {
    const auto& e = *ep;
    if (!views::notifies(e) || e.customer_id.empty()) continue;
    auto st = hook(views::notification(e));
    if (!st) {
      board(self, [&](SubscriberStatus& s) {
        s.webhook_failures++;
        s.last_error = "webhook: " + st.error().detail;
      });
      return false;
    }
    board(self, [](SubscriberStatus& s) { s.webhook_delivered++; });
  }
  return true;
}

void poll(Subscriber* self);

/// Nothing new: look again after `idle_poll`.
void idle(Subscriber* self) {
  auto& s = self->state;
  s.backoff = std::chrono::milliseconds(100);
  board(self, [](SubscriberStatus& b) { b.last_error.clear(); });
  self->delayed_send(self, idle_poll, tick_atom::value);
}

/// Applies `events` (the log's entries after the cursor up to `last`, minus
/// unreadable ones): webhook, then the rows and the new cursor in one
/// batch. `full`: more may be waiting, read on at once.
void apply_events(Subscriber* self, const std::vector<EventRef>& events, std::uint64_t last,
                  bool full) {
  auto& s = self->state;
  if (!deliver(self, events)) return retry_later(self, "webhook delivery failed");
  std::vector<const domain::Event*> page;
  page.reserve(events.size());
  for (const auto& e : events) page.push_back(e.get());
  persistence::Batch batch = views::project_page(s.sub, page);
  const auto rows = batch.size();
  batch.push_back({views::cursor_key(s.sub), std::to_string(last), false});
  const auto applied = events.size();
  StoreWrite w;
  w.batches.push_back(std::move(batch));
  timed_request(self, s.ctx->store(), s.ctx->timeouts.store_write, std::move(w))
    .then(
      [=](ok_atom) {
        auto& st = self->state;
        st.cursor = last;
        st.backoff = std::chrono::milliseconds(100);
        board(self, [&](SubscriberStatus& b) {
          b.cursor = last;
          b.applied += applied;
          b.rows += rows;
          b.last_error.clear();
        });
        if (full)
          poll(self);
        else
          self->delayed_send(self, idle_poll, tick_atom::value);
      },
      [=](caf::error& e) { retry_later(self, "store: " + from_caf(e).detail); });
}

/// Decodes log entry `seq` into `fresh`; an unreadable one is logged and
/// skipped.
void decode_into(Subscriber* self, std::uint64_t seq, const std::string& value,
                 std::vector<EventRef>& fresh) {
  auto e = domain::decode_event(value, seq);
  if (!e) {
    spdlog::error("subscriber {}: skipping unreadable event {}: {}", self->state.sub, seq,
                  e.error().detail);
    return;
  }
  fresh.push_back(std::make_shared<const domain::Event>(std::move(*e)));
}

/// Shares the freshly decoded events with the other subscribers and
/// appends them to `events`.
void share_and_follow(Subscriber* self, std::vector<EventRef> fresh, std::vector<EventRef>& events) {
  self->state.ctx->decoded_events->put(fresh);
  events.insert(events.end(), std::make_move_iterator(fresh.begin()),
                std::make_move_iterator(fresh.end()));
}

/// `recs` (up to `want` log entries after `last`, read from the store)
/// follow the cached `events`: decoded, shared with the other subscribers,
/// applied.
void read_done(Subscriber* self, std::vector<EventRef>& events, std::uint64_t last,
               const std::vector<persistence::Record>& recs, size_t want) {
  auto& s = self->state;
  std::vector<EventRef> fresh;
  for (const auto& r : recs) {
    const auto seq = persistence::log_seq(r.key);
    if (seq == 0) continue;
    last = std::max(last, seq);
    decode_into(self, seq, r.value, fresh);
  }
  share_and_follow(self, std::move(fresh), events);
  if (last == s.cursor) return idle(self);
  apply_events(self, events, last, recs.size() >= want);
}

/// Follows `events` (ending at `last`) with what the recent log holds next,
/// decoded and shared with the other subscribers; `last` moves to the last
/// entry taken.
void take_recent(Subscriber* self, std::vector<EventRef>& events, std::uint64_t& last,
                 size_t want) {
  auto& s = self->state;
  std::vector<RecentLog::Entry> recent;
  s.ctx->store_health->recent_log.take(last, want, recent);
  if (recent.empty()) return;
  std::vector<EventRef> fresh;
  fresh.reserve(recent.size());
  for (const auto& [seq, value] : recent) decode_into(self, seq, *value, fresh);
  last = recent.back().first;
  share_and_follow(self, std::move(fresh), events);
}

void poll(Subscriber* self) {
  auto& s = self->state;
  auto store = s.ctx->store();
  if (!store) return retry_later(self, "store actor not running");
  if (!s.loaded) {
    timed_request(self, store, s.ctx->timeouts.store_write, StoreGet{views::cursor_key(s.sub)})
      .then(
        [=](StoreValue& v) {
          auto& st = self->state;
          st.cursor = v.found ? std::strtoull(v.value.c_str(), nullptr, 10) : 0;
          st.loaded = true;
          board(self, [&](SubscriberStatus& b) { b.cursor = st.cursor; });
          spdlog::info("subscriber {} starts after event {}", st.sub, st.cursor);
          poll(self);
        },
        [=](caf::error& e) { retry_later(self, "store: " + from_caf(e).detail); });
    return;
  }
  // Nothing new since the last commit: no store round trip (a read would
  // also make the store actor commit early, splitting its group commits).
  const auto head = s.ctx->store_health->log_head.load();
  if (head <= s.cursor) return idle(self);
  // What another subscriber has decoded already, then what the store actor
  // handed over, then the rest (past a gap, or too old for the recent log)
  // from the store.
  std::vector<EventRef> events;
  s.ctx->decoded_events->take(s.cursor, page_size, events);
  std::uint64_t last = events.empty() ? s.cursor : events.back()->seq;
  if (events.size() < page_size && head > last)
    take_recent(self, events, last, page_size - events.size());
  if (events.size() >= page_size || head <= last)
    return apply_events(self, events, last, events.size() >= page_size);
  const size_t want = page_size - events.size();
  // The file store's log is read here, on this actor's thread: through the
  // store actor the subscribers' reads took a seventh of the single
  // writer's time that every order waits on. (Entries are committed before
  // the head moves, and trimmed only far behind the slowest cursor.)
  if (const auto& adapter = s.ctx->store_adapter; adapter && adapter->reads_in_parallel()) {
    auto recs = adapter->read_log(last, want);
    if (!recs) return retry_later(self, "store: " + recs.error().detail);
    return read_done(self, events, last, *recs, want);
  }
  auto cached = std::make_shared<std::vector<EventRef>>(std::move(events));
  timed_request(self, store, s.ctx->timeouts.store_write, LogRead{last, static_cast<std::uint32_t>(want)})
    .then([=](std::vector<persistence::Record>& recs) { read_done(self, *cached, last, recs, want); },
          [=](caf::error& e) { retry_later(self, "store: " + from_caf(e).detail); });
}

caf::behavior subscriber(Subscriber* self, std::shared_ptr<const Context> ctx, std::string name) {
  self->state.ctx = std::move(ctx);
  self->state.sub = std::move(name);
  board(self, [](SubscriberStatus& s) {
    s.running = true;
    s.last_error.clear();
  });
  self->set_exception_handler([](caf::scheduled_actor* ptr, std::exception_ptr&) -> caf::error {
    spdlog::warn("subscriber {} crashed", static_cast<Subscriber*>(ptr)->state.sub);
    return caf::sec::runtime_error;
  });
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) { poll(self); },
    [=](crash_atom) -> ok_atom {
      throw std::runtime_error("crash injected into subscriber " + self->state.sub);
    },
  };
}

}  // namespace

caf::actor spawn_subscriber(caf::event_based_actor* parent, std::shared_ptr<const Context> ctx,
                            const std::string& name) {
  if (ctx->webhook && name == "notifier")
    return parent->spawn<caf::monitored + caf::detached>(subscriber, std::move(ctx), name);
  return parent->spawn<caf::monitored>(subscriber, std::move(ctx), name);
}

}  // namespace troupe::actors
