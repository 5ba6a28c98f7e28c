// Operations endpoints against the real binary: the supervision tree at
// /admin/actors, and fault injection at /admin/faults (absent unless enabled).

#include "flow_support.hpp"
#include "server.hpp"

using namespace troupe_it;

namespace {

std::vector<std::string> with_faults() {
  auto args = fast_payments();
  args.push_back("--enable-faults");
  return args;
}

json supervisor_named(const json& tree, const std::string& name) {
  for (const auto& s : tree["supervisors"])
    if (s.value("name", "") == name) return s;
  return json();
}

json order_body(const std::string& rid, long long q) {
  return {{"resourceId", rid}, {"customerId", "c-1"}, {"quantity", q}};
}

}  // namespace

TEST(Admin, FaultsDoNotExistUnlessEnabled) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"clear", true}}), 404));
  EXPECT_TRUE(IsProblem(http.get("/admin/faults"), 404));
  // The tree is always visible.
  auto tree = http.get("/admin/actors");
  ASSERT_EQ(tree.status, 200) << tree.describe();
  auto t = tree.body_json();
  EXPECT_EQ(str(t, "name"), "root");
  EXPECT_EQ(t["supervisors"].size(), 5u) << t.dump();
  for (const char* n : {"store", "payments", "resources", "orders", "subscribers"})
    EXPECT_FALSE(supervisor_named(t, n).is_null()) << n << " missing in " << t.dump();
}

TEST(Admin, CrashedResourceComesBackWithItsSeatsAndTheTreeShowsTheRestart) {
  TroupeServer server(with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_EQ(http.post("/v1/resources", musical("show-1", 10)).status, 201);
  ASSERT_EQ(http.post("/v1/orders", order_body("show-1", 4)).status, 201);

  auto crash = http.post("/admin/faults", json{{"crash", {{"resourceId", "show-1"}}}});
  ASSERT_EQ(crash.status, 200) << crash.describe();

  // Back within a moment, with its state; at most one request may notice.
  long long available = -1;
  for (int i = 0; i < 100 && available != 6; ++i) {
    auto r = http.get("/v1/resources/show-1");
    if (r.status == 200) available = r.body_json().value("available", -1LL);
    if (available != 6) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(available, 6);
  EXPECT_EQ(http.post("/v1/orders", order_body("show-1", 6)).status, 201);
  EXPECT_TRUE(IsProblem(http.post("/v1/orders", order_body("show-1", 1)), 409));

  auto tree = http.get("/admin/actors").body_json();
  auto res = supervisor_named(tree, "resources");
  EXPECT_GE(res.value("restarts", 0), 1) << tree.dump();
  EXPECT_NE(res["lastFailure"].get<std::string>().find("show-1"), std::string::npos) << tree.dump();

  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"crash", {{"resourceId", "nope"}}}}), 404));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"crash", {{"bogus", 1}}}}), 400));
  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"nonsense", true}}), 400));
}

TEST(Admin, PaymentFaultsChangeOutcomesAndClearRestoresThem) {
  TroupeServer server(with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_EQ(http.post("/v1/resources", musical("show-1", 10)).status, 201);

  auto set = http.post("/admin/faults", json{{"payment", {{"failureRate", 1.0}}}});
  ASSERT_EQ(set.status, 200) << set.describe();
  EXPECT_DOUBLE_EQ(set.body_json()["payment"].value("failureRate", -1.0), 1.0);
  auto declined = http.post("/v1/orders", order_body("show-1", 2));
  EXPECT_TRUE(IsProblem(declined, 402)) << declined.describe();

  auto slow = http.post("/admin/faults",
                        json{{"payment", {{"failureRate", 0.0}, {"latencyMs", {700, 700}}}}});
  ASSERT_EQ(slow.status, 200) << slow.describe();
  auto timed_out = http.post("/v1/orders", order_body("show-1", 2));
  EXPECT_TRUE(IsProblem(timed_out, 503)) << timed_out.describe();
  EXPECT_FALSE(timed_out.header("Retry-After").empty());

  EXPECT_TRUE(IsProblem(http.post("/admin/faults", json{{"payment", {{"failureRate", 2}}}}), 400));
  EXPECT_TRUE(
    IsProblem(http.post("/admin/faults", json{{"payment", {{"latencyMs", {5, 1}}}}}), 400));

  ASSERT_EQ(http.post("/admin/faults", json{{"clear", true}}).status, 200);
  EXPECT_EQ(http.post("/v1/orders", order_body("show-1", 2)).status, 201);
  auto faults = http.get("/admin/faults").body_json();
  EXPECT_GE(faults["recent"].size(), 3u) << faults.dump();
  // Nothing of the failed orders holds seats.
  EXPECT_EQ(http.get("/v1/resources/show-1").body_json().value("available", -1LL), 8);
}

TEST(Admin, CrashedSupervisorIsRestartedWithItsChildren) {
  TroupeServer server(with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_EQ(http.post("/v1/resources", musical("show-1", 10)).status, 201);
  ASSERT_EQ(http.post("/v1/orders", order_body("show-1", 3)).status, 201);
  auto crash = http.post("/admin/faults", json{{"crash", {{"supervisor", "resources"}}}});
  ASSERT_EQ(crash.status, 200) << crash.describe();
  // Wait (bounded) until the root has restarted the supervisor and the
  // restored resource answers: the old resource actor may still answer for a
  // moment before its supervisor's crash takes it down.
  json tree;
  long long available = -1;
  for (int i = 0; i < 150; ++i) {
    tree = http.get("/admin/actors").body_json();
    auto r = http.get("/v1/resources/show-1");
    available = r.status == 200 ? r.body_json().value("available", -1LL) : -1;
    if (tree.value("restarts", 0) == 1 && supervisor_named(tree, "resources").value("children", 0) == 1 &&
        available == 7)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(available, 7);
  EXPECT_EQ(tree.value("restarts", 0), 1) << tree.dump();
  EXPECT_EQ(supervisor_named(tree, "resources").value("escalations", 0), 1) << tree.dump();
}

TEST(Admin, BreakerOpensOnTimeoutsAnswersFastAndClosesByItself) {
  auto args = with_faults();
  for (const char* a : {"--payment-timeout-ms", "60", "--breaker-failures", "3",
                        "--breaker-cool-down-ms", "300"})
    args.push_back(a);
  TroupeServer server(args);
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_EQ(http.post("/v1/resources", musical("show-1", 100)).status, 201);
  auto b0 = http.get("/admin/payments/breaker");
  ASSERT_EQ(b0.status, 200) << b0.describe();
  EXPECT_EQ(str(b0.body_json(), "state"), "closed");

  // The gateway gets slower than the call timeout: three timeouts open it.
  ASSERT_EQ(http.post("/admin/faults", json{{"payment", {{"latencyMs", {150, 150}}}}}).status, 200);
  for (int i = 0; i < 3; ++i) {
    auto r = http.post("/v1/orders", order_body("show-1", 1));
    EXPECT_TRUE(IsProblem(r, 503)) << r.describe();
  }
  auto b1 = http.get("/admin/payments/breaker").body_json();
  EXPECT_EQ(str(b1, "state"), "open") << b1.dump();

  // While open: an immediate 503 payment-unavailable with Retry-After, no gateway call.
  const auto calls_before = b1.value("calls", 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto fast = http.post("/v1/orders", order_body("show-1", 1));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(IsProblem(fast, 503)) << fast.describe();
  EXPECT_EQ(str(fast.body_json(), "type"), "urn:troupe:problem:payment-unavailable");
  EXPECT_FALSE(fast.header("Retry-After").empty());
  EXPECT_LT(ms, 50) << "an open breaker answers at once";
  auto b2 = http.get("/admin/payments/breaker").body_json();
  EXPECT_EQ(b2.value("calls", -1), calls_before) << b2.dump();
  EXPECT_GE(b2.value("refused", 0), 1);
  // Nothing is held or charged for the refused orders.
  EXPECT_EQ(http.get("/v1/resources/show-1").body_json().value("available", -1LL), 100);

  // The gateway recovers: after the cool-down one trial closes the breaker.
  ASSERT_EQ(http.post("/admin/faults", json{{"clear", true}}).status, 200);
  // Until the cool-down is over (bounded poll; an open breaker reports at
  // least 1 ms left, so 1 means "at most 1 ms": wait that out too).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (http.get("/admin/payments/breaker").body_json().value("retryAfterMs", -1) > 1 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto ok = http.post("/v1/orders", order_body("show-1", 1));
  EXPECT_EQ(ok.status, 201) << ok.describe();
  auto b3 = http.get("/admin/payments/breaker").body_json();
  EXPECT_EQ(str(b3, "state"), "closed") << b3.dump();
  EXPECT_GE(b3["transitions"].size(), 3u) << b3.dump();
  EXPECT_NE(http.get("/metrics").body.find("troupe_payment_breaker_state 0"), std::string::npos);
}

TEST(Admin, MoneyReconcilesWithTheGatewayThroughDeclinesTimeoutsAndCancels) {
  auto args = with_faults();
  for (const char* a : {"--payment-timeout-ms", "80", "--breaker-failures", "1000"})
    args.push_back(a);
  TroupeServer server(args);
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_EQ(http.post("/v1/resources", musical("show-1", 1000, 700)).status, 201);
  std::vector<std::string> confirmed;
  auto place = [&](int expect) {
    auto r = http.post("/v1/orders", order_body("show-1", 2));
    EXPECT_EQ(r.status, expect) << r.describe();
    if (r.status == 201) confirmed.push_back(str(r.body_json(), "orderId"));
  };
  for (int i = 0; i < 5; ++i) place(201);
  ASSERT_EQ(http.post("/admin/faults", json{{"payment", {{"failureRate", 1.0}}}}).status, 200);
  for (int i = 0; i < 3; ++i) place(402);
  // Slower than the timeout: rejected with 503, and the late success at the
  // gateway must not leave money behind.
  ASSERT_EQ(http.post("/admin/faults",
                      json{{"payment", {{"failureRate", 0.0}, {"latencyMs", {120, 120}}}}})
              .status,
            200);
  for (int i = 0; i < 3; ++i) place(503);
  ASSERT_EQ(http.post("/admin/faults", json{{"clear", true}}).status, 200);
  for (int i = 0; i < 4; ++i) place(201);
  // Cancel two.
  for (int i = 0; i < 2; ++i) {
    auto c = http.post_raw("/v1/orders/" + confirmed[i] + "/cancel", "");
    EXPECT_EQ(c.status, 200) << c.describe();
  }
  long long expected = 0;
  for (const auto& id : confirmed) {
    auto o = http.get("/v1/orders/" + id).body_json();
    if (str(o, "status") == "confirmed") expected += o.value("amount", 0LL);
  }
  EXPECT_EQ(expected, 7 * 2 * 700);
  // Wait (bounded) until the gateway has answered all 15 charges: the 3
  // timed-out ones land late, either refused (voided first) or captured and
  // then refunded. Only then is the net final.
  json g;
  for (int i = 0; i < 150; ++i) {
    g = http.get("/admin/payments/gateway").body_json();
    if (g.value("payments", 0) + g.value("lateChargesRefused", 0) == 15) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(g.value("payments", 0) + g.value("lateChargesRefused", 0), 15) << g.dump();
  EXPECT_EQ(g.value("net", -1LL), expected) << g.dump();
  EXPECT_EQ(g.value("declined", -1), 3) << g.dump();
  EXPECT_EQ(http.get("/v1/resources/show-1").body_json().value("available", -1LL), 1000 - 7 * 2);
}

TEST(Admin, MetricsTimeEveryOrderPlacementAndEveryStoreCommit) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_EQ(http.post("/v1/resources", musical("show-1", 10)).status, 201);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(http.post("/v1/orders", order_body("show-1", 1)).status, 201);
  EXPECT_EQ(http.post("/v1/orders", order_body("show-1", 0)).status, 400);  // timed too
  const auto text = http.get("/metrics").body;  // one snapshot: its values agree
  auto value = [&](const std::string& series) { return metric_in(text, series); };
  EXPECT_EQ(value("troupe_order_placement_seconds_count"), 5) << text;
  EXPECT_EQ(value("troupe_order_placement_seconds_bucket{le=\"+Inf\"}"), 5) << text;
  EXPECT_GT(value("troupe_order_placement_seconds_sum"), 0) << text;
  // Each 201 waited for two commits (the write-ahead and the confirmation).
  EXPECT_GE(value("troupe_store_commit_seconds_count"), 2) << text;
  EXPECT_EQ(value("troupe_store_commit_seconds_count"),
            value("troupe_store_commit_seconds_bucket{le=\"+Inf\"}")) << text;
  EXPECT_NE(text.find("# TYPE troupe_order_placement_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("# TYPE troupe_store_commit_seconds histogram"), std::string::npos);
}
