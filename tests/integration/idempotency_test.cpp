// Idempotency-Key on POST /v1/orders, /v1/orders/{id}/cancel and
// /v1/orders/{id}/steps, against the real binary: a retry with the same key
// and body gets the first answer (status and body, `Idempotent-Replayed:
// true`) and nothing runs again; another body is 422; a retry while the first
// runs is 409; keys are per customer and survive restarts (graceful and kill
// -9); 4xx answers are replayed, 5xx are not remembered; a bad header is 400.
//
// "Nothing ran again" is checked on the resource (units), the gateway's own
// books (/admin/payments/gateway), the customer's page once the subscribers
// caught up (/admin/subscribers: bounded polls, never fixed sleeps) and
// /admin/reconcile.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

const char* kReused = "urn:troupe:problem:idempotency-key-reused";
const char* kInUse = "urn:troupe:problem:idempotency-key-in-use";

httplib::Headers key_header(const std::string& key) { return {{"Idempotency-Key", key}}; }

Reply post_key(Http& http, const std::string& path, const json& body, const std::string& key) {
  return http.post(path, body, key_header(key));
}

Reply cancel_key(Http& http, const std::string& order_id, const std::string& key) {
  return http.post_raw("/v1/orders/" + order_id + "/cancel", "", "application/json",
                       key_header(key));
}

bool replayed(const Reply& r) { return r.header("Idempotent-Replayed") == "true"; }

/// The simulated gateway's books.
json gateway(Http& http) { return get_json(http, "/admin/payments/gateway"); }

/// The customer's orders on their page, after the views caught up.
json mypage_orders(Http& http, const std::string& customer) {
  EXPECT_TRUE(ViewsCaughtUp(http));
  auto j = get_json(http, "/v1/customers/" + customer + "/mypage");
  if (!j.is_object() || !j.contains("orders")) return json::array();
  return j["orders"];
}

::testing::AssertionResult IsProblemType(const Reply& r, int status, const std::string& type) {
  auto p = IsProblem(r, status);
  if (!p) return p;
  if (str(r.body_json(), "type") != type)
    return ::testing::AssertionFailure() << "expected type " << type << ": " << r.describe();
  return ::testing::AssertionSuccess();
}

/// The same answer: status, body, Content-Type, Location.
::testing::AssertionResult SameAnswer(const Reply& first, const Reply& again) {
  if (first.status != again.status || first.body != again.body ||
      first.header("Content-Type") != again.header("Content-Type") ||
      first.header("Location") != again.header("Location"))
    return ::testing::AssertionFailure() << "answers differ:\n  first: " << first.describe()
                                         << " Location=" << first.header("Location")
                                         << "\n  again: " << again.describe()
                                         << " Location=" << again.header("Location");
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(Idempotency, SameKeyAndBodyReplaysTheFirstAnswer) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-1")));
  const long long payments_before = jnum(gateway(http), "payments");

  auto first = post_key(http, "/v1/orders", seat_order("show-1", 3, "alice"), "order-1");
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_FALSE(first.has_header("Idempotent-Replayed")) << first.describe();
  const auto order_id = str(first.body_json(), "orderId");
  ASSERT_FALSE(order_id.empty());

  auto again = post_key(http, "/v1/orders", seat_order("show-1", 3, "alice"), "order-1");
  EXPECT_EQ(again.status, 201) << again.describe();
  EXPECT_TRUE(replayed(again)) << "a replay says so: " << again.describe();
  EXPECT_TRUE(SameAnswer(first, again));
  EXPECT_EQ(again.header("Location"), "/v1/orders/" + order_id);

  // The same JSON with other key order and spacing is the same request.
  const std::string reordered =
      R"({ "quantity": 3, "customerId": "alice", "resourceId": "show-1" })";
  auto third = http.post_raw("/v1/orders", reordered, "application/json", key_header("order-1"));
  EXPECT_TRUE(replayed(third)) << third.describe();
  EXPECT_TRUE(SameAnswer(first, third));

  // Nothing ran again: 3 seats, one payment, one order.
  EXPECT_EQ(available(http, "show-1"), 97);
  EXPECT_EQ(jnum(gateway(http), "payments"), payments_before + 1) << gateway(http).dump();
  EXPECT_EQ(jnum(gateway(http), "captured"), 3 * 50000) << gateway(http).dump();
  auto orders = mypage_orders(http, "alice");
  ASSERT_EQ(orders.size(), 1u) << orders.dump();
  EXPECT_EQ(str(orders[0], "orderId"), order_id);
  EXPECT_TRUE(Balanced(http));

  // Without a key the same body is a new order, as always.
  auto plain = http.post("/v1/orders", seat_order("show-1", 3, "alice"));
  ASSERT_EQ(plain.status, 201) << plain.describe();
  EXPECT_NE(str(plain.body_json(), "orderId"), order_id);
  EXPECT_EQ(available(http, "show-1"), 94);
}

TEST(Idempotency, SameKeyWithAnotherRequestIs422) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-1")));

  auto first = post_key(http, "/v1/orders", seat_order("show-1", 2, "bob"), "k-1");
  ASSERT_EQ(first.status, 201) << first.describe();
  const auto order_id = str(first.body_json(), "orderId");

  // Another body under the same key and customer.
  auto other = post_key(http, "/v1/orders", seat_order("show-1", 5, "bob"), "k-1");
  EXPECT_TRUE(IsProblemType(other, 422, kReused));
  EXPECT_FALSE(replayed(other));
  // The same key on another endpoint of the same customer.
  auto cancel = cancel_key(http, order_id, "k-1");
  EXPECT_TRUE(IsProblemType(cancel, 422, kReused));
  EXPECT_EQ(str(get_json(http, "/v1/orders/" + order_id), "status"), "confirmed")
      << "a refused cancel changed the order";
  EXPECT_EQ(available(http, "show-1"), 98);

  // The first answer still stands.
  auto again = post_key(http, "/v1/orders", seat_order("show-1", 2, "bob"), "k-1");
  EXPECT_TRUE(replayed(again));
  EXPECT_TRUE(SameAnswer(first, again));
  EXPECT_EQ(mypage_orders(http, "bob").size(), 1u);
}

TEST(Idempotency, FiftyConcurrentRetriesPlaceOneOrder) {
  // Payments slow enough that the retries overlap the first request.
  TroupeServer server({"--payment-latency-ms", "150,200", "--payment-failure-rate", "0"});
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-1")));
  const long long payments_before = jnum(gateway(http), "payments");

  constexpr int n = 50;
  std::vector<Reply> replies(n);
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Http mine(server.port());  // its own connection
      {
        std::unique_lock<std::mutex> l(mu);
        ++ready;
        cv.notify_all();
        cv.wait(l, [&] { return go; });
      }
      replies[static_cast<size_t>(i)] =
        post_key(mine, "/v1/orders", seat_order("show-1", 2, "carol"), "once");
    });
  }
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return ready == n; });
    go = true;
    cv.notify_all();
  }
  for (auto& t : threads) t.join();

  int originals = 0, replays = 0, in_progress = 0;
  const Reply* original = nullptr;
  for (const auto& r : replies) {
    if (r.status == 201 && !replayed(r)) {
      ++originals;
      original = &r;
    } else if (r.status == 201) {
      ++replays;
    } else if (IsProblemType(r, 409, kInUse)) {
      ++in_progress;
      EXPECT_EQ(r.header("Retry-After"), "1") << r.describe();
    } else {
      ADD_FAILURE() << "unexpected answer: " << r.describe();
    }
  }
  EXPECT_EQ(originals, 1) << "exactly one request ran";
  ASSERT_NE(original, nullptr);
  for (const auto& r : replies) {
    if (r.status == 201) {
      EXPECT_TRUE(SameAnswer(*original, r));
    }
  }
  EXPECT_EQ(originals + replays + in_progress, n);
  EXPECT_GE(in_progress, 1) << "no retry overlapped the first request (payments take 150 ms)";

  // After all finished, a retry is a replay.
  auto last = post_key(http, "/v1/orders", seat_order("show-1", 2, "carol"), "once");
  EXPECT_TRUE(replayed(last)) << last.describe();
  EXPECT_TRUE(SameAnswer(*original, last));

  EXPECT_EQ(available(http, "show-1"), 98);
  EXPECT_EQ(jnum(gateway(http), "payments"), payments_before + 1) << gateway(http).dump();
  EXPECT_EQ(mypage_orders(http, "carol").size(), 1u);
  EXPECT_TRUE(Balanced(http));
  std::printf("50 concurrent retries: %d original, %d replays, %d in progress\n", originals,
              replays, in_progress);
}

TEST(Idempotency, KeysSurviveRestartsAndKill9) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-1")));
  auto first = post_key(http, "/v1/orders", seat_order("show-1", 4, "dave"), "durable");
  ASSERT_EQ(first.status, 201) << first.describe();
  auto refused = post_key(http, "/v1/orders", seat_order("show-1", 500, "dave"), "too-many");
  ASSERT_TRUE(IsProblem(refused, 409));

  ASSERT_EQ(server.restart(), "") << "graceful restart";
  {
    auto h = server.http();
    auto again = post_key(h, "/v1/orders", seat_order("show-1", 4, "dave"), "durable");
    EXPECT_TRUE(replayed(again)) << again.describe();
    EXPECT_TRUE(SameAnswer(first, again));
    auto again409 = post_key(h, "/v1/orders", seat_order("show-1", 500, "dave"), "too-many");
    EXPECT_TRUE(replayed(again409)) << again409.describe();
    EXPECT_TRUE(SameAnswer(refused, again409));
    EXPECT_TRUE(IsProblemType(post_key(h, "/v1/orders", seat_order("show-1", 1, "dave"), "durable"),
                              422, kReused));
  }

  server.kill9();
  ASSERT_EQ(server.start(), "") << "start after kill -9";
  auto h = server.http();
  auto after_kill = post_key(h, "/v1/orders", seat_order("show-1", 4, "dave"), "durable");
  EXPECT_TRUE(replayed(after_kill)) << after_kill.describe();
  EXPECT_TRUE(SameAnswer(first, after_kill));
  EXPECT_EQ(available(h, "show-1"), 96);
  EXPECT_EQ(mypage_orders(h, "dave").size(), 1u);
  EXPECT_TRUE(Balanced(h));
}

TEST(Idempotency, KeysAreScopedPerCustomer) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-1")));

  auto a = post_key(http, "/v1/orders", seat_order("show-1", 1, "erin"), "shared-key");
  auto b = post_key(http, "/v1/orders", seat_order("show-1", 1, "frank"), "shared-key");
  ASSERT_EQ(a.status, 201) << a.describe();
  ASSERT_EQ(b.status, 201) << b.describe();
  EXPECT_FALSE(replayed(b)) << "another customer's key is another key: " << b.describe();
  EXPECT_NE(str(a.body_json(), "orderId"), str(b.body_json(), "orderId"));
  EXPECT_EQ(available(http, "show-1"), 98);
  // Each replays its own.
  EXPECT_TRUE(SameAnswer(
      a, post_key(http, "/v1/orders", seat_order("show-1", 1, "erin"), "shared-key")));
  EXPECT_TRUE(SameAnswer(
      b, post_key(http, "/v1/orders", seat_order("show-1", 1, "frank"), "shared-key")));
  EXPECT_EQ(mypage_orders(http, "erin").size(), 1u);
  EXPECT_EQ(mypage_orders(http, "frank").size(), 1u);
}

TEST(Idempotency, CancelAndStepsWithAKeyRunOnce) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-1")));
  ASSERT_TRUE(Register(http, room("room-1")));

  auto o = http.post("/v1/orders", seat_order("show-1", 2, "gina"));
  ASSERT_EQ(o.status, 201) << o.describe();
  const auto order_id = str(o.body_json(), "orderId");

  auto c1 = cancel_key(http, order_id, "cancel-1");
  ASSERT_EQ(c1.status, 200) << c1.describe();
  auto c2 = cancel_key(http, order_id, "cancel-1");
  EXPECT_TRUE(replayed(c2)) << c2.describe();
  EXPECT_TRUE(SameAnswer(c1, c2));
  // With a body (curl -d '{}'), the cancel is the same request: cancel reads no body.
  auto c3 = http.post_raw("/v1/orders/" + order_id + "/cancel", "{}", "application/json",
                          key_header("cancel-1"));
  EXPECT_TRUE(replayed(c3)) << c3.describe();
  EXPECT_TRUE(SameAnswer(c1, c3));
  // Without a key a second cancel is the usual conflict: it was cancelled once.
  EXPECT_TRUE(IsProblem(http.post_raw("/v1/orders/" + order_id + "/cancel", ""), 409));
  EXPECT_EQ(available(http, "show-1"), 100);
  auto g = gateway(http);
  EXPECT_EQ(jnum(g, "refunded"), 2 * 50000) << "one refund: " << g.dump();
  EXPECT_EQ(jnum(g, "net"), 0) << g.dump();

  // An unknown order with a key is a 404, not remembered.
  EXPECT_TRUE(IsProblem(cancel_key(http, "no-such-order", "cancel-2"), 404));

  // Steps: checking in twice under one key checks in once.
  auto b = http.post("/v1/orders", window_order("room-1", "2030-05-01T14:00:00Z",
                                                "2030-05-03T10:00:00Z", "gina"));
  ASSERT_EQ(b.status, 201) << b.describe();
  const auto booking = str(b.body_json(), "orderId");
  const json step = {{"step", "checked_in"}};
  auto s1 = post_key(http, "/v1/orders/" + booking + "/steps", step, "step-1");
  ASSERT_EQ(s1.status, 200) << s1.describe();
  auto s2 = post_key(http, "/v1/orders/" + booking + "/steps", step, "step-1");
  EXPECT_TRUE(replayed(s2)) << s2.describe();
  EXPECT_TRUE(SameAnswer(s1, s2));
  // Without the key, the same step again is refused (already there).
  EXPECT_TRUE(IsProblem(http.post("/v1/orders/" + booking + "/steps", step), 409));
  // The same key for the next step is another request.
  EXPECT_TRUE(IsProblemType(
      post_key(http, "/v1/orders/" + booking + "/steps", json{{"step", "checked_out"}}, "step-1"),
      422, kReused));
  EXPECT_EQ(str(get_json(http, "/v1/orders/" + booking), "status"), "checked_in");
  EXPECT_TRUE(Balanced(http));
}

TEST(Idempotency, ClientErrorsAreReplayed) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("small", 10)));
  auto big = http.post("/v1/orders", seat_order("small", 9, "hank"));
  ASSERT_EQ(big.status, 201) << big.describe();

  auto no = post_key(http, "/v1/orders", seat_order("small", 3, "ivy"), "try-3");
  ASSERT_TRUE(IsProblem(no, 409));
  EXPECT_EQ(str(no.body_json(), "type"), "urn:troupe:problem:not-available") << no.describe();

  // Seats come free, but the key's answer stays the first one.
  ASSERT_EQ(http.post_raw("/v1/orders/" + str(big.body_json(), "orderId") + "/cancel", "").status,
            200);
  ASSERT_EQ(available(http, "small"), 10);
  auto again = post_key(http, "/v1/orders", seat_order("small", 3, "ivy"), "try-3");
  EXPECT_TRUE(replayed(again)) << again.describe();
  EXPECT_TRUE(SameAnswer(no, again));
  EXPECT_EQ(available(http, "small"), 10) << "a replayed 409 booked nothing";

  // A body that does not parse is a 400 that leaves the key unused.
  auto bad = http.post_raw("/v1/orders", "{not json", "application/json", key_header("try-4"));
  EXPECT_TRUE(IsProblem(bad, 400));
  auto good = post_key(http, "/v1/orders", seat_order("small", 1, "ivy"), "try-4");
  EXPECT_EQ(good.status, 201) << good.describe();
  EXPECT_FALSE(replayed(good));
  EXPECT_EQ(available(http, "small"), 9);
}

TEST(Idempotency, ServiceUnavailableIsNotRemembered) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-1")));

  // Payments slower than their 610 ms timeout: 503, the order is rejected.
  ASSERT_EQ(http.post("/admin/faults", json{{"payment", {{"latencyMs", {900, 1000}}}}}).status, 200);
  auto first = post_key(http, "/v1/orders", seat_order("show-1", 2, "jack"), "retry-me");
  ASSERT_TRUE(IsProblem(first, 503));
  EXPECT_TRUE(first.has_header("Retry-After")) << first.describe();
  EXPECT_EQ(available(http, "show-1"), 100);

  ASSERT_EQ(http.post("/admin/faults", json{{"clear", true}}).status, 200);
  // The breaker may be open for a moment after a timeout: retry on 503 like a client would.
  Reply second;
  ASSERT_TRUE(eventually([&] {
    second = post_key(http, "/v1/orders", seat_order("show-1", 2, "jack"), "retry-me");
    return second.status != 503;
  })) << second.describe();
  ASSERT_EQ(second.status, 201) << second.describe();
  EXPECT_FALSE(replayed(second)) << "a 503 must not be replayed: " << second.describe();
  auto third = post_key(http, "/v1/orders", seat_order("show-1", 2, "jack"), "retry-me");
  EXPECT_TRUE(replayed(third));
  EXPECT_TRUE(SameAnswer(second, third));
  EXPECT_EQ(available(http, "show-1"), 98);
  auto orders = mypage_orders(http, "jack");
  int confirmed = 0;
  for (const auto& o : orders) confirmed += str(o, "status") == "confirmed" ? 1 : 0;
  EXPECT_EQ(confirmed, 1) << orders.dump();
  EXPECT_TRUE(Balanced(http));
}

TEST(Idempotency, BadKeysAre400) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  ASSERT_TRUE(Register(http, musical("show-1")));
  const json body = seat_order("show-1", 1, "kim");

  // (An empty header never reaches troupe: cpp-httplib drops header lines
  // without a value, so it is the same as none.)
  EXPECT_TRUE(IsProblem(post_key(http, "/v1/orders", body, std::string(256, 'k')), 400)) << "256";
  EXPECT_TRUE(IsProblem(post_key(http, "/v1/orders", body, "cl\xc3\xa9"), 400)) << "not ASCII";
  EXPECT_TRUE(IsProblem(post_key(http, "/v1/orders", body, "tab\there"), 400)) << "control";
  EXPECT_TRUE(IsProblem(
      http.post("/v1/orders", body, {{"Idempotency-Key", "a"}, {"Idempotency-Key", "b"}}), 400))
      << "two keys";
  EXPECT_EQ(available(http, "show-1"), 100) << "a refused key booked something";

  // The longest key and every printable character are fine.
  const std::string longest(255, 'k');
  EXPECT_EQ(post_key(http, "/v1/orders", body, longest).status, 201);
  EXPECT_TRUE(replayed(post_key(http, "/v1/orders", body, longest)));
  std::string printable;
  for (char c = 0x21; c < 0x7f; ++c) printable += c;
  printable = "a " + printable;
  EXPECT_EQ(post_key(http, "/v1/orders", body, printable).status, 201);
  EXPECT_TRUE(replayed(post_key(http, "/v1/orders", body, printable)));
  EXPECT_EQ(available(http, "show-1"), 98);
}
