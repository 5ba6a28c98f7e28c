// Process lifecycle of the real binary: health probes, busy port, graceful
// SIGTERM/SIGINT, and the payment failure paths (declined, timed out) leaving
// nothing held or charged.

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server.hpp"

using namespace troupe_it;

TEST(Lifecycle, HealthProbes) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  EXPECT_EQ(http.get("/health/live").status, 200);
  EXPECT_EQ(http.get("/health/ready").status, 200);
  EXPECT_EQ(server.stop(), 0);
}

namespace {
/// The scheduling policy (SCHED_*) of each of `pid`'s threads, from field 41
/// of /proc/PID/task/TID/stat.
std::vector<int> thread_policies(pid_t pid) {
  std::vector<int> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(t.path() / "stat");
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');  // the name may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 41 && rest >> field; ++i)
      if (i == 41) out.push_back(std::stoi(field));
  }
  return out;
}
}  // namespace

TEST(Lifecycle, EveryThreadRunsUnderBatchSchedulingUnlessTurnedOff) {
  for (const bool batch : {true, false}) {
    TroupeServer server(batch ? std::vector<std::string>{}
                              : std::vector<std::string>{"--sched-batch", "0"});
    ASSERT_EQ(server.start(), "");
    // Serve a request first, so the HTTP and actor threads all exist.
    EXPECT_EQ(server.http().get("/health/ready").status, 200);
    const auto policies = thread_policies(server.pid());
    ASSERT_GT(policies.size(), 4u) << "the HTTP pool, the workers and the store's writer";
    // Off: troupe leaves the policy it inherited (this test's) alone.
    const int inherited = ::sched_getscheduler(0);
    for (int p : policies) EXPECT_EQ(p, batch ? SCHED_BATCH : inherited) << "batch=" << batch;
    EXPECT_EQ(server.stop(), 0);
  }
}

TEST(Lifecycle, BusyPortHeldBySocketFailsFast) {
  PortHolder holder;
  ASSERT_GT(holder.port(), 0);
  TroupeServer second(fast_payments(), holder.port());
  const auto t0 = Clock::now();
  ASSERT_EQ(second.spawn(), "");
  auto code = second.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "server on a busy port is still running after 10 s";
  const auto exit_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_LT(exit_ms, 5000) << "should exit quickly, took " << exit_ms << " ms";
  EXPECT_NE(*code, 0) << "exit code on a busy port";
  EXPECT_NE(second.stderr_text().find("already in use"), std::string::npos)
      << "stderr should say 'already in use'; got:\n" << second.stderr_text();
}

// The harness itself: a port picked for a server and taken by someone else
// before it binds (a client's ephemeral port, a parallel test: CI once lost
// one so) is replaced, not a failed test.
TEST(Lifecycle, APickedPortTakenBeforeTheStartIsReplacedByTheHarness) {
  TroupeServer server(fast_payments());
  const int picked = server.port();
  PortHolder thief(picked);
  ASSERT_EQ(thief.port(), picked);
  ASSERT_EQ(server.start(), "");
  EXPECT_NE(server.port(), picked);
  EXPECT_EQ(server.http().get("/health/ready").status, 200);
}

TEST(Lifecycle, BusyPortHeldByAnotherTroupeFailsFast) {
  TroupeServer first(fast_payments());
  ASSERT_EQ(first.start(), "");
  TroupeServer second(fast_payments(), first.port());
  ASSERT_EQ(second.spawn(), "");
  auto code = second.wait_exit(10s);
  ASSERT_TRUE(code.has_value())
      << "a second troupe bound the same port (SO_REUSEPORT?) and kept running";
  EXPECT_NE(*code, 0);
  EXPECT_NE(second.stderr_text().find("already in use"), std::string::npos)
      << "stderr:\n" << second.stderr_text();
  // The first one is unaffected.
  auto http = first.http();
  EXPECT_EQ(http.get("/health/ready").status, 200);
  EXPECT_EQ(first.stop(), 0);
}

TEST(Lifecycle, SigtermDrainsExitsZeroAndStateSurvives) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  std::string order_id;
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, musical("musical-1", 10, 100)));
    auto o = http.post("/v1/orders", seat_order("musical-1", 4));
    ASSERT_EQ(o.status, 201) << o.describe();
    order_id = str(o.body_json(), "orderId");
  }
  const auto t0 = Clock::now();
  EXPECT_EQ(server.stop(), 0) << "SIGTERM must drain and exit 0";
  const auto drain_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_LT(drain_ms, 10000) << "drain took " << drain_ms << " ms";

  ASSERT_EQ(server.restart(), "");
  auto http = server.http();
  EXPECT_EQ(available(http, "musical-1"), 6);
  auto g = http.get("/v1/orders/" + order_id);
  EXPECT_EQ(g.status, 200) << g.describe();
  EXPECT_EQ(str(g.body_json(), "status"), "confirmed");
  EXPECT_EQ(server.signal_and_wait(SIGINT), 0) << "SIGINT must drain and exit 0";
}

TEST(Lifecycle, SigtermWhileOrdersAreInFlight) {
  // Slow payments so requests are in flight when SIGTERM arrives: every one
  // must get an answer (2xx or a clear 5xx), and exit is 0.
  TroupeServer server({"--payment-latency-ms", "200,200", "--payment-failure-rate", "0"});
  ASSERT_EQ(server.start(), "");
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, musical("musical-1", 100, 100)));
  }
  std::vector<Reply> replies(10);
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i)
    threads.emplace_back([&, i] {
      auto http = server.http(20);
      replies[i] = http.post("/v1/orders", seat_order("musical-1", 1, "c-" + std::to_string(i)));
    });
  std::this_thread::sleep_for(50ms);
  const int code = server.stop();
  for (auto& t : threads) t.join();
  EXPECT_EQ(code, 0);
  std::vector<std::string> confirmed;
  for (const auto& r : replies) {
    if (r.status == 201) {
      confirmed.push_back(str(r.body_json(), "orderId"));
    } else if (r.status != 0) {
      EXPECT_GE(r.status, 500) << r.describe();
    } else {
      EXPECT_EQ(r.transport_error.find("Read"), std::string::npos)
          << "an accepted request was dropped during the drain: " << r.describe();
    }
  }
  // Whatever was acknowledged is there after the restart.
  ASSERT_EQ(server.restart(), "");
  auto http = server.http();
  for (const auto& id : confirmed)
    EXPECT_EQ(str(http.get("/v1/orders/" + id).body_json(), "status"), "confirmed") << id;
  EXPECT_EQ(available(http, "musical-1"), 100 - static_cast<long long>(confirmed.size()));
}

TEST(Lifecycle, PaymentDeclinedIs402AndHoldsNothing) {
  TroupeServer server({"--payment-failure-rate", "1", "--payment-latency-ms", "1,5"});
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("musical-1", 10, 5000)));

  auto r = http.post("/v1/orders", seat_order("musical-1", 2));
  ASSERT_TRUE(IsProblem(r, 402));
  auto j = r.body_json();
  const auto order_id = str(j, "orderId"), payment_id = str(j, "paymentId");
  EXPECT_FALSE(order_id.empty()) << "402 body must carry orderId: " << r.describe();
  EXPECT_FALSE(payment_id.empty()) << "402 body must carry paymentId: " << r.describe();
  EXPECT_EQ(available(http, "musical-1"), 10) << "declined order still holds seats";

  if (!payment_id.empty()) {
    auto p = http.get("/v1/payments/" + payment_id);
    EXPECT_EQ(p.status, 200) << p.describe();
    const auto st = str(p.body_json(), "status");
    EXPECT_TRUE(st == "declined" || st == "voided") << "customer must not stay charged: "
                                                    << p.describe();
  }
  if (!order_id.empty()) {
    auto o = http.get("/v1/orders/" + order_id);
    if (o.status == 200) {
      EXPECT_NE(str(o.body_json(), "status"), "confirmed") << o.describe();
    }
  }
  // Another attempt: declined again, or refused fast once the breaker opens.
  auto r2 = http.post("/v1/orders", seat_order("musical-1", 1));
  EXPECT_TRUE(r2.status == 402 || r2.status == 503) << r2.describe();
  EXPECT_EQ(available(http, "musical-1"), 10);
}

TEST(Lifecycle, PaymentTimeoutIs503WithRetryAfterAndHoldsNothing) {
  TroupeServer server(
      {"--payment-latency-ms", "300,300", "--payment-timeout-ms", "50", "--payment-failure-rate", "0"});
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("musical-1", 10, 5000)));

  const auto t0 = Clock::now();
  auto r = http.post("/v1/orders", seat_order("musical-1", 2));
  const auto took = Clock::now() - t0;
  ASSERT_TRUE(IsProblem(r, 503));
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 3000)
      << "a payment timeout should answer promptly";
  const auto retry = r.header("Retry-After");
  EXPECT_FALSE(retry.empty()) << "503 needs Retry-After: " << r.describe();
  EXPECT_TRUE(!retry.empty() && (retry.find_first_not_of("0123456789") == std::string::npos ||
                                 retry.find("GMT") != std::string::npos))
      << "Retry-After must be delta-seconds or an HTTP date: '" << retry << "'";
  EXPECT_EQ(available(http, "musical-1"), 10);

  // After the slow payment would have completed, still nothing held or charged.
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(available(http, "musical-1"), 10);
  auto j = r.body_json();
  if (!str(j, "paymentId").empty()) {
    auto p = http.get("/v1/payments/" + str(j, "paymentId"));
    if (p.status == 200) {
      const auto st = str(p.body_json(), "status");
      EXPECT_NE(st, "captured") << "late payment left the customer charged: " << p.describe();
      EXPECT_NE(st, "authorized") << p.describe();
    }
  }
  if (!str(j, "orderId").empty()) {
    auto o = http.get("/v1/orders/" + str(j, "orderId"));
    if (o.status == 200) {
      EXPECT_NE(str(o.body_json(), "status"), "confirmed") << o.describe();
    }
  }
}

// Regression: 503s sent before the request body was read left the body on the
// keep-alive connection, and the next valid request got a spurious 400.
TEST(Lifecycle, StoreOutage503sKeepTheKeepAliveConnectionUsable) {
  if (!troupe_it::it_store_is_redis()) GTEST_SKIP() << "needs a Redis to freeze";
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_EQ(http.post("/v1/resources", musical("show-1", 100)).status, 201);
  ASSERT_NE(server.redis(), nullptr);
  server.redis()->pause();
  bool unready = false;
  for (int i = 0; i < 100 && !unready; ++i) {
    unready = http.get("/health/ready").status == 503;
    if (!unready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(unready) << "readiness did not notice the frozen store";

  httplib::Client one("127.0.0.1", server.port());
  one.set_keep_alive(true);
  one.set_read_timeout(5, 0);
  const std::string body = R"({"resourceId":"show-1","customerId":"c-1","quantity":1})";
  for (int i = 0; i < 4; ++i) {
    auto r = one.Post("/v1/orders", body, "application/json");
    ASSERT_TRUE(r) << "request " << i << " failed: " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 503) << "request " << i << ": " << r->body;
  }
  server.redis()->resume();
  int status = 0;
  for (int i = 0; i < 100 && status != 201; ++i) {
    auto r = one.Post("/v1/orders", body, "application/json");
    status = r ? r->status : -1;
    if (status != 201) {
      EXPECT_EQ(status, 503) << "only 503 while recovering";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_EQ(status, 201);
}
