// The store actor: group commit under concurrent writers, and no writer left
// without an answer when it stops.

#include "actor_fixture.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace troupe::testing {
namespace {

using actors::ok_atom;
using actors::StoreWrite;
using domain::ErrorKind;

class StoreActor : public ActorFixture {
 protected:
  static StoreWrite write_of(const std::string& key, const std::string& value) {
    StoreWrite w;
    w.batches.push_back({persistence::Write{key, value, false}});
    return w;
  }
};

TEST_F(StoreActor, ConcurrentWritesAreGroupCommitted) {
  constexpr int writers = 5;
  constexpr int per_writer = 100;
  std::atomic<int> oks{0};
  std::vector<std::string> failures[writers];
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      caf::scoped_actor me{*sys};
      using Handle = decltype(me->request(store, request_timeout, StoreWrite{}));
      std::vector<Handle> pending;
      pending.reserve(per_writer);
      // Send everything first, then collect: the writes pile up in the
      // store's mailbox while it commits.
      for (int i = 0; i < per_writer; ++i)
        pending.push_back(me->request(store, request_timeout,
                                      write_of("k/" + std::to_string(t) + "/" + std::to_string(i),
                                               "v" + std::to_string(i))));
      for (auto& h : pending)
        h.receive([&](ok_atom) { ++oks; },
                  [&](caf::error& e) { failures[t].push_back(caf::to_string(e)); });
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < writers; ++t)
    EXPECT_TRUE(failures[t].empty()) << "writer " << t << ": " << failures[t].front();
  EXPECT_EQ(oks.load(), writers * per_writer);

  auto stats = ask<actors::StoreStatsView>(store, actors::stats_atom::value);
  ASSERT_TRUE(stats.ok()) << stats.describe();
  EXPECT_EQ(stats.value->writes, static_cast<std::uint64_t>(writers * per_writer));
  EXPECT_EQ(stats.value->batches, static_cast<std::uint64_t>(writers * per_writer));
  RecordProperty("commits", static_cast<int>(stats.value->commits));
  EXPECT_GE(stats.value->commits, 1u);
  EXPECT_LT(stats.value->commits, stats.value->writes) << "no batching happened";
  EXPECT_EQ(stats.value->live_records, static_cast<std::uint64_t>(writers * per_writer));

  // Every write is readable afterwards.
  auto all = scan("k/");
  ASSERT_TRUE(all.ok()) << all.describe();
  EXPECT_EQ(all.value->size(), static_cast<size_t>(writers * per_writer));
  auto one = ask<actors::StoreValue>(store, actors::StoreGet{"k/3/42"});
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one.value->found);
  EXPECT_EQ(one.value->value, "v42");
}

TEST_F(StoreActor, ReadsSeeEveryWriteQueuedBeforeThem) {
  // No waiting for the write's answer: the read is queued behind it.
  auto& me = self();
  auto w = me->request(store, request_timeout, write_of("a", "1"));
  auto g = ask<actors::StoreValue>(store, actors::StoreGet{"a"});
  ASSERT_TRUE(g.ok()) << g.describe();
  EXPECT_TRUE(g.value->found);
  EXPECT_EQ(g.value->value, "1");
  bool ok = false;
  w.receive([&](ok_atom) { ok = true; }, [&](caf::error&) {});
  EXPECT_TRUE(ok);
}

TEST_F(StoreActor, StoppingAnswersEveryQueuedWrite) {
  constexpr int n = 200;
  auto& me = self();
  using Handle = decltype(me->request(store, request_timeout, StoreWrite{}));
  std::vector<Handle> pending;
  for (int i = 0; i < n; ++i)
    pending.push_back(
      me->request(store, std::chrono::milliseconds(2000), write_of("x/" + std::to_string(i), "v")));
  caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  int ok = 0, refused = 0, unavailable = 0;
  std::vector<std::string> silent;
  for (auto& h : pending)
    h.receive([&](ok_atom) { ++ok; },
              [&](caf::error& e) {
                auto k = actors::from_caf(e).kind;
                // durable-or-refused: store_unavailable from the stopping
                // store, retry for requests bounced from its mailbox.
                if (k == ErrorKind::store_unavailable || k == ErrorKind::retry)
                  ++refused;
                if (k == ErrorKind::store_unavailable) ++unavailable;
                else
                  silent.push_back(caf::to_string(e));
              });
  EXPECT_TRUE(silent.empty()) << silent.size() << " writes got no answer, e.g. "
                              << silent.front();
  RecordProperty("durable", ok);
  RecordProperty("refused", refused);
  RecordProperty("refused_while_pending", unavailable);
  EXPECT_EQ(ok + refused, n);
}

/// The nice value of each of this process's threads named `name`.
std::vector<int> nice_of_threads(const std::string& name) {
  std::vector<int> out;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(t.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream stat(t.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // Field 19 is the nice value; fields after the ")" that ends comm.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 19 && rest >> field; ++i) {}
    out.push_back(std::stoi(field));
  }
  return out;
}

TEST_F(StoreActor, ItsWriterThreadRunsAtTheConfiguredNiceValue) {
  // (A positive value needs no privilege; -10, the default, needs CAP_SYS_NICE.)
  auto before = nice_of_threads("caf.actor");
  auto niced = actors::spawn_store_actor(*sys, ctx->store_adapter, nullptr, 4096, 100000,
                                         std::chrono::seconds(1), 512, 7);
  auto& me = self();
  me->request(niced, request_timeout, write_of("n/k", "v")).receive([](ok_atom) {}, [](caf::error& e) {
    FAIL() << caf::to_string(e);
  });
  auto after = nice_of_threads("caf.actor");
  EXPECT_EQ(std::count(after.begin(), after.end(), 7), std::count(before.begin(), before.end(), 7) + 1);
  caf::anon_send_exit(niced, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace troupe::testing
