// The write-ahead saga, the event log written with each change, and the
// subscribers that follow it.

#include <nlohmann/json.hpp>

#include <set>

#include "actor_fixture.hpp"
#include "domain/event.hpp"
#include "views/projections.hpp"

namespace troupe::testing {
namespace {

using actors::ok_atom;
using domain::OrderPhase;
using domain::PaymentStatus;

class EventLog : public ActorFixture {
 protected:
  /// Every event in the log, in order.
  std::vector<domain::Event> log() {
    std::vector<domain::Event> out;
    std::uint64_t after = 0;
    for (;;) {
      auto page = ask<std::vector<persistence::Record>>(store, actors::LogRead{after, 100});
      EXPECT_TRUE(page.ok()) << page.describe();
      if (!page.ok() || page.value->empty()) return out;
      for (const auto& r : *page.value) {
        after = persistence::log_seq(r.key);
        auto e = domain::decode_event(r.value, after);
        EXPECT_TRUE(e.ok());
        if (e) out.push_back(*e);
      }
    }
  }

  static std::vector<std::string> types_of(const std::vector<domain::Event>& es,
                                           const std::string& order_id) {
    std::vector<std::string> out;
    for (const auto& e : es)
      if (e.order_id == order_id) out.push_back(e.type);
    return out;
  }

  Reply<std::vector<persistence::Record>> group(const std::string& g) {
    return ask<std::vector<persistence::Record>>(store, actors::StoreScanGroup{g});
  }

  size_t rows(const std::string& g) {
    auto r = group(g);
    return r.ok() ? r.value->size() : 0;
  }

  /// The distinct events a view group's rows hold (a mypage/report row
  /// holds the events of one order that one page of the log brought).
  size_t events_in(const std::string& g) {
    auto r = group(g);
    if (!r.ok()) return 0;
    std::set<std::uint64_t> ids;
    for (const auto& row : *r.value) {
      auto es = views::row_events(row);
      EXPECT_TRUE(es.ok()) << row.key;
      if (es)
        for (const auto& e : *es) ids.insert(e.seq);
    }
    return ids.size();
  }
};

TEST_F(EventLog, EveryOrderWriteAppendsItsEventsInBusinessOrder) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto o = place("show-1", 2, "alice");
  ASSERT_TRUE(o.ok()) << o.describe();
  ASSERT_TRUE(ask<domain::Order>(order_actor(o.value->id), actors::cancel_atom::value).ok());
  gateway->failure_rate = 1.0;
  auto declined = place("show-1", 1, "alice");
  ASSERT_FALSE(declined.ok());
  const auto declined_id = declined.error.subject;

  auto es = log();
  EXPECT_EQ(types_of(es, o.value->id),
            (std::vector<std::string>{"OrderPlaced", "ResourceHeld", "PaymentAuthorized",
                                      "PaymentCaptured", "OrderConfirmed", "OrderCancelled",
                                      "ResourceReleased", "PaymentRefunded"}));
  // The rejection's events follow the (already durable) write-ahead ones.
  ASSERT_TRUE(eventually([&] { return types_of(log(), declined_id).size() == 5; }));
  EXPECT_EQ(types_of(log(), declined_id),
            (std::vector<std::string>{"OrderPlaced", "ResourceHeld", "PaymentDeclined",
                                      "ResourceReleased", "OrderRejected"}));
  std::uint64_t last = 0;
  for (const auto& e : log()) {
    EXPECT_GT(e.seq, last) << "ids increase";
    last = e.seq;
    EXPECT_EQ(e.resource_id, "show-1");
    EXPECT_EQ(e.customer_id, "alice");
    EXPECT_FALSE(e.order_id.empty());
    EXPECT_GT(e.at, 0);
  }
}

TEST_F(EventLog, SequenceNumbersContinueAfterARestart) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  ASSERT_TRUE(place("show-1", 1).ok());
  const auto before = log();
  ASSERT_EQ(before.size(), 5u);
  shutdown();
  boot();
  ASSERT_TRUE(ask<actors::SupervisionStats>(supervisor, actors::restore_atom::value).ok());
  ASSERT_TRUE(place("show-1", 1).ok());
  const auto after = log();
  ASSERT_EQ(after.size(), 10u) << "no id reused, nothing overwritten";
  EXPECT_EQ(after[5].seq, before.back().seq + 1);
}

/// A gateway slower than the test looks: the charge is in flight.
class WriteAhead : public EventLog {
 protected:
  WriteAhead() {
    timeouts.payment = 3000ms;
    gateway->latency_min_ms = 800;
    gateway->latency_max_ms = 800;
  }
};

TEST_F(WriteAhead, TheHeldOrderIsDurableBeforeTheGatewayIsCalled) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto pending = self()->request(supervisor, 5s, actors::PlaceOrder{"", "show-1", "c-1", 2, 0, 0, "", 0});
  std::vector<std::string> ids;
  ASSERT_TRUE(eventually([&] {
    ids = directory->TEST_order_ids();
    return !ids.empty() && !log().empty();
  }));
  // The charge has not come back yet, and the store already knows.
  EXPECT_EQ(gateway->ledger.status(domain::payment_id_for(ids[0])), PaymentStatus::none);
  auto rec = ask<actors::StoreValue>(store, actors::StoreGet{actors::records::order_key(ids[0])});
  ASSERT_TRUE(rec.ok() && rec.value->found);
  auto stored = actors::records::decode_order(rec.value->value);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->phase, OrderPhase::held);
  EXPECT_EQ(stored->amount, 200);
  // ... and indexed as unfinished, so a cold start restores it.
  auto open = ask<actors::StoreValue>(store, actors::StoreGet{actors::records::open_prefix + ids[0]});
  ASSERT_TRUE(open.ok() && open.value->found);
  EXPECT_EQ(types_of(log(), ids[0]), (std::vector<std::string>{"OrderPlaced", "ResourceHeld"}));
  pending.receive([](domain::Order& o) { EXPECT_EQ(o.phase, OrderPhase::confirmed); },
                  [](caf::error& e) { ADD_FAILURE() << caf::to_string(e); });
}

TEST_F(WriteAhead, AnOrderInterruptedByARestartIsCompensatedAndItsChargeUndone) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  self()->send(supervisor, actors::PlaceOrder{"", "show-1", "c-1", 3, 0, 0, "", 0});
  std::vector<std::string> ids;
  ASSERT_TRUE(eventually([&] {
    ids = directory->TEST_order_ids();
    return !ids.empty() && !log().empty();
  }));
  const std::string id = ids[0];
  const std::string pay = domain::payment_id_for(id);
  // The process dies with the charge in flight (the answer is never
  // awaited); the gateway (another party) still captures it.
  shutdown();
  ASSERT_EQ(gateway->ledger.charge(pay, 300, true), actors::GatewayLedger::Charge::captured);
  boot();
  ASSERT_TRUE(ask<actors::SupervisionStats>(supervisor, actors::restore_atom::value).ok());

  ASSERT_TRUE(eventually([&] {
    auto o = order(id);
    return o.ok() && o.value->phase == OrderPhase::rejected;
  })) << "the half-done order is compensated";
  EXPECT_TRUE(eventually([&] { return gateway->ledger.status(pay) == PaymentStatus::refunded; }))
    << "the capture that raced the crash is given back";
  auto o = order(id);
  EXPECT_NE(o.value->reason.find("restart"), std::string::npos) << o.value->reason;
  EXPECT_EQ(o.value->payment.status, PaymentStatus::voided);
  // Durable too, with its events.
  EXPECT_TRUE(eventually([&] {
    auto t = types_of(log(), id);
    return !t.empty() && t.back() == "OrderRejected";
  }));
  EXPECT_EQ(types_of(log(), id),
            (std::vector<std::string>{"OrderPlaced", "ResourceHeld", "PaymentAuthorized",
                                      "ResourceReleased", "PaymentVoided", "OrderRejected"}));
  EXPECT_EQ(view("show-1").value->available, 10);
  const auto t = gateway->ledger.totals();
  EXPECT_EQ(t.captured - t.refunded, 0);
}

TEST_F(WriteAhead, AnOrderActorCrashMidChargeIsCompensatedOnceItsDeadlinePassed) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 10, 100)).ok());
  auto pending = self()->request(supervisor, 5s, actors::PlaceOrder{"", "show-1", "c-1", 1, 0, 0, "", 0});
  std::vector<std::string> ids;
  ASSERT_TRUE(eventually([&] {
    ids = directory->TEST_order_ids();
    return !ids.empty() && !log().empty();
  }));
  ASSERT_TRUE(ask<ok_atom>(supervisor, actors::CrashActor{"order", ids[0]}).ok());
  pending.receive([](domain::Order&) { ADD_FAILURE() << "a crashed order cannot confirm"; },
                  [](caf::error&) {});
  const auto pay = domain::payment_id_for(ids[0]);
  // The charge still lands at the gateway (800 ms); the restarted actor,
  // started from its held record, undoes it after the confirmation deadline.
  EXPECT_TRUE(eventually(
    [&] {
      auto o = order(ids[0]);
      return o.ok() && o.value->phase == OrderPhase::rejected &&
             gateway->ledger.status(pay) == PaymentStatus::refunded;
    },
    12000ms))
    << domain::to_string(gateway->ledger.status(pay));
  EXPECT_EQ(view("show-1").value->available, 10);
}

class Retention : public EventLog {
 protected:
  Retention() {
    event_retention = 3;
    event_trim_every = 100ms;
  }
};

TEST_F(Retention, TheLogIsTrimmedBehindTheSlowestSubscriberOnly) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 100, 10)).ok());
  auto subs = directory->service("subscribers");
  ASSERT_TRUE(ask<ok_atom>(subs, actors::SubscriberControl{"report", false}).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(place("show-1", 1, "dan").ok());  // 20 events
  ASSERT_TRUE(eventually([&] { return rows(views::notifications_group("dan")) == 4; }));
  // The stopped report subscriber holds every event: nothing may go, however
  // many trim rounds pass (five here).
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(log().size(), 20u);
  ASSERT_TRUE(ask<ok_atom>(subs, actors::SubscriberControl{"report", true}).ok());
  ASSERT_TRUE(eventually([&] { return events_in(views::report_group("show-1")) == 4 * 2; }));  // captured + confirmed per order
  // Once all have applied everything, only the last 3 stay (next trim round).
  EXPECT_TRUE(eventually([&] { return log().size() == 3; }, 3000ms)) << log().size();
  EXPECT_EQ(log().front().seq, 18u);
  // The views keep everything.
  EXPECT_EQ(events_in(views::mypage_group("dan")), 20u);
}

class ChunkedRetention : public EventLog {
 protected:
  ChunkedRetention() {
    event_retention = 3;
    event_trim_every = 1000ms;
    event_trim_chunk = 2;
  }
};

// A round erases chunk after chunk until it reaches the retention bound (one
// chunk per round fell behind the load: the log grew without bound).
TEST_F(ChunkedRetention, OneRoundTrimsEverythingBehindTheBoundInChunks) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 100, 10)).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(place("show-1", 1, "dan").ok());  // 20 events
  ASSERT_TRUE(eventually([&] { return events_in(views::report_group("show-1")) == 4 * 2; }));
  ASSERT_TRUE(eventually([&] { return rows(views::notifications_group("dan")) == 4; }));
  // 17 entries in chunks of 2: nine commits, all within the next round or two
  // (one chunk per 1 s round would take nine seconds).
  EXPECT_TRUE(eventually([&] { return log().size() == 3; }, 2500ms)) << log().size();
  EXPECT_EQ(log().front().seq, 18u);
  EXPECT_EQ(events_in(views::mypage_group("dan")), 20u);
}

class Subscribers : public EventLog {};

TEST_F(Subscribers, ViewsFollowTheLogAndAStoppedOneCatchesUpExactly) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 100, 10)).ok());
  ASSERT_TRUE(place("show-1", 1, "alice").ok());
  ASSERT_TRUE(eventually([&] { return rows(views::notifications_group("alice")) == 1; }));
  auto subs = directory->service("subscribers");
  ASSERT_TRUE(ask<ok_atom>(subs, actors::SubscriberControl{"notifier", false}).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(place("show-1", 1, "alice").ok());
  // mypage keeps up; the notifier does not.
  EXPECT_TRUE(eventually([&] { return events_in(views::mypage_group("alice")) == 6 * 5; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(rows(views::notifications_group("alice")), 1u);
  ASSERT_TRUE(ask<ok_atom>(subs, actors::SubscriberControl{"notifier", true}).ok());
  EXPECT_TRUE(eventually([&] { return rows(views::notifications_group("alice")) == 6; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(rows(views::notifications_group("alice")), 6u);
}

TEST_F(Subscribers, AReplayFromTheStartDuplicatesNothing) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 100, 10)).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(place("show-1", 1, "bob").ok());
  ASSERT_TRUE(eventually([&] { return rows(views::notifications_group("bob")) == 4; }));
  ASSERT_TRUE(eventually([&] { return events_in(views::report_group("show-1")) == 4 * 2; }));
  // Forget the cursors as if every row had been written but no cursor, then
  // crash the subscribers: they replay the whole log.
  auto subs = directory->service("subscribers");
  for (const auto& name : views::subscriber_names)
    ASSERT_TRUE(ask<ok_atom>(subs, actors::SubscriberControl{name, false}).ok());
  actors::StoreWrite w;
  w.batches.push_back({});
  for (const auto& name : views::subscriber_names)
    w.batches.back().push_back({views::cursor_key(name), "0", false});
  ASSERT_TRUE(ask<ok_atom>(store, std::move(w)).ok());
  for (const auto& name : views::subscriber_names)
    ASSERT_TRUE(ask<ok_atom>(subs, actors::SubscriberControl{name, true}).ok());
  ASSERT_TRUE(eventually([&] {
    auto c = ask<actors::StoreValue>(store, actors::StoreGet{views::cursor_key("report")});
    return c.ok() && c.value->found && c.value->value != "0";
  }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(rows(views::notifications_group("bob")), 4u);
  EXPECT_EQ(events_in(views::mypage_group("bob")), 20u);
  EXPECT_EQ(events_in(views::report_group("show-1")), 8u);
}

/// Forwards to the file store, counting the event-log reads.
class LogReadCounter final : public persistence::Store {
 public:
  LogReadCounter(std::shared_ptr<persistence::Store> inner, std::shared_ptr<std::atomic<int>> n)
      : inner_(std::move(inner)), reads_(std::move(n)) {}
  std::string describe() const override { return inner_->describe(); }
  domain::Status commit(const std::vector<persistence::Batch>& b) override { return inner_->commit(b); }
  bool reads_in_parallel() const override { return inner_->reads_in_parallel(); }
  domain::Result<std::optional<std::string>> get(const std::string& k) override { return inner_->get(k); }
  domain::Result<std::vector<persistence::Record>> scan(const std::string& p) override {
    return inner_->scan(p);
  }
  domain::Result<std::vector<persistence::Record>> read_log(std::uint64_t after, size_t limit) override {
    reads_->fetch_add(1);
    return inner_->read_log(after, limit);
  }
  domain::Result<std::vector<persistence::Record>> scan_group(const std::string& g) override {
    return inner_->scan_group(g);
  }
  persistence::StoreStats stats() const override { return inner_->stats(); }
  domain::Status ping() override { return inner_->ping(); }
  domain::Status close() override { return inner_->close(); }

 private:
  std::shared_ptr<persistence::Store> inner_;
  std::shared_ptr<std::atomic<int>> reads_;
};

class LogHandOver : public EventLog {
 protected:
  std::shared_ptr<std::atomic<int>> log_reads = std::make_shared<std::atomic<int>>(0);
  LogHandOver() {
    wrap_store = [n = log_reads](std::shared_ptr<persistence::Store> s) {
      return std::make_shared<LogReadCounter>(std::move(s), n);
    };
  }
  /// Places `n` orders of dora's and waits for every view to hold them.
  void place_and_follow(int n) {
    ASSERT_TRUE(register_resource(capacity_spec("show-1", 100, 10)).ok());
    for (int i = 0; i < n; ++i) ASSERT_TRUE(place("show-1", 1, "dora").ok());
    ASSERT_TRUE(eventually([&] { return rows(views::notifications_group("dora")) == size_t(n); }));
    ASSERT_TRUE(eventually([&] { return events_in(views::mypage_group("dora")) == size_t(n) * 5; }));
    ASSERT_TRUE(eventually([&] { return events_in(views::report_group("show-1")) == size_t(n) * 2; }));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(rows(views::notifications_group("dora")), size_t(n)) << "nothing twice";
    EXPECT_EQ(events_in(views::mypage_group("dora")), size_t(n) * 5);
  }
};

TEST_F(LogHandOver, SubscribersTakeNewEntriesFromTheStoreActorWithoutReadingTheStore) {
  place_and_follow(12);
  EXPECT_EQ(log_reads->load(), 0);
}

class TooSmallHandOver : public LogHandOver {
 protected:
  TooSmallHandOver() { recent_log_capacity = 2; }
};

TEST_F(TooSmallHandOver, EntriesItNoLongerHoldsAreReadFromTheStore) {
  // The notifier stopped: by the time it runs again the recent log holds
  // only the last 2 of 40 entries.
  auto subs = directory->service("subscribers");
  ASSERT_TRUE(ask<ok_atom>(subs, actors::SubscriberControl{"notifier", false}).ok());
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 100, 10)).ok());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(place("show-1", 1, "dora").ok());
  ASSERT_TRUE(eventually([&] { return events_in(views::mypage_group("dora")) == 40u; }));
  ASSERT_TRUE(ask<ok_atom>(subs, actors::SubscriberControl{"notifier", true}).ok());
  EXPECT_TRUE(eventually([&] { return rows(views::notifications_group("dora")) == 8u; }));
  EXPECT_GT(log_reads->load(), 0);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(rows(views::notifications_group("dora")), 8u);
}

TEST_F(Subscribers, ACrashedSubscriberIsRestartedAtItsCursor) {
  ASSERT_TRUE(register_resource(capacity_spec("show-1", 100, 10)).ok());
  ASSERT_TRUE(place("show-1", 1, "carol").ok());
  ASSERT_TRUE(eventually([&] { return rows(views::notifications_group("carol")) == 1; }));
  ASSERT_TRUE(ask<ok_atom>(supervisor, actors::CrashActor{"subscriber", "notifier"}).ok());
  ASSERT_TRUE(place("show-1", 1, "carol").ok());
  EXPECT_TRUE(eventually([&] { return rows(views::notifications_group("carol")) == 2; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(rows(views::notifications_group("carol")), 2u);
  auto tree = ask<std::vector<actors::SupervisorView>>(supervisor, actors::tree_atom::value);
  ASSERT_TRUE(tree.ok());
  bool seen = false;
  for (const auto& v : *tree.value)
    if (v.name == "subscribers") {
      seen = true;
      EXPECT_EQ(v.restarts, 1u);
      EXPECT_EQ(v.children, 3u);
    }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace troupe::testing
