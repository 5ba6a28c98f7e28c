// The Idempotency-Key keeper (http/idempotency.hpp) over a map "store" and a
// fake clock: decisions, what is remembered, expiry, collisions, a failed
// write remembered in memory.
#include "http/idempotency.hpp"

#include <gtest/gtest.h>

#include "http/requests.hpp"

#include <map>
#include <string>

namespace troupe::http::idempotency {
namespace {

using K = Decision::Kind;

struct Fixture {
  std::map<std::string, std::string> store;
  bool store_down = false;  ///< reads and writes fail
  bool writes_fail = false;
  int writes = 0;
  domain::Timestamp now = 1'700'000'000'000;
  Keeper keeper{
    [this](const std::string& key) -> domain::Result<std::optional<std::string>> {
      if (store_down) return domain::make_error(domain::ErrorKind::store_unavailable, "down");
      auto it = store.find(key);
      if (it == store.end()) return std::optional<std::string>{};
      return std::optional<std::string>{it->second};
    },
    [this](const persistence::Write& w) -> domain::Status {
      ++writes;
      if (store_down || writes_fail)
        return domain::make_error(domain::ErrorKind::store_unavailable, "down");
      store[w.key] = w.value;
      return domain::ok_status();
    },
    [this] { return now; }};
};

const std::string fp_a = fingerprint("POST", "/v1/orders", R"({"customerId":"c","quantity":1})");
const std::string fp_b = fingerprint("POST", "/v1/orders", R"({"customerId":"c","quantity":2})");

Response created(const std::string& body = "{\"orderId\":\"o-1\"}") {
  return {201, "application/json", body, "/v1/orders/o-1"};
}

TEST(IdempotencyKey, Validation) {
  EXPECT_TRUE(check_key("a"));
  EXPECT_TRUE(check_key(std::string(255, 'x')));
  EXPECT_TRUE(check_key("with spaces and ~!@#"));
  EXPECT_FALSE(check_key(""));
  EXPECT_FALSE(check_key(std::string(256, 'x')));
  EXPECT_FALSE(check_key("tab\t"));
  EXPECT_FALSE(check_key("del\x7f"));
  EXPECT_FALSE(check_key("caf\xc3\xa9"));
}

TEST(IdempotencyKey, FingerprintAndStoreKey) {
  EXPECT_EQ(hex64(fnv1a64("")), "cbf29ce484222325");
  EXPECT_EQ(hex64(fnv1a64("a")), "af63dc4c8601ec8c");
  // Canonical JSON: key order and spaces do not matter; values, path, method do.
  EXPECT_EQ(fingerprint("POST", "/p", R"({"a":1,"b":2})"),
            fingerprint("POST", "/p", R"({ "b": 2, "a": 1 })"));
  EXPECT_NE(fingerprint("POST", "/p", R"({"a":1})"), fingerprint("POST", "/p", R"({"a":2})"));
  EXPECT_NE(fingerprint("POST", "/p", ""), fingerprint("POST", "/q", ""));
  EXPECT_NE(fingerprint("POST", "/p", "{bad"), fingerprint("POST", "/p", "{bad "));
  // A body parsed once (POST /v1/orders with a key): the canonical form it
  // leaves gives the fingerprint of the body itself, so records stored
  // before that change still match their retries.
  const std::string body = R"({ "quantity": 2, "resourceId": "r-1",  "customerId": "c-1" })";
  std::string canonical;
  ASSERT_TRUE(parse_order(body, &canonical));
  EXPECT_EQ(canonical, R"({"customerId":"c-1","quantity":2,"resourceId":"r-1"})");
  EXPECT_EQ(fingerprint_canonical("POST", "/v1/orders", canonical),
            fingerprint("POST", "/v1/orders", body));
  const auto k = store_key("cust-1", "my key/with slash");
  EXPECT_EQ(k.rfind("idem/cust-1/", 0), 0u);
  EXPECT_EQ(k.find('/', 12), std::string::npos) << "the field has no '/': " << k;
}

TEST(IdempotencyKey, RecordRoundTrip) {
  Record r{"k", "fp", 42, {409, "application/problem+json", "{\"x\":1}", ""}};
  auto d = decode(encode(r));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key, "k");
  EXPECT_EQ(d->fingerprint, "fp");
  EXPECT_EQ(d->created_at, 42);
  EXPECT_EQ(d->response.status, 409);
  EXPECT_EQ(d->response.body, "{\"x\":1}");
  EXPECT_EQ(d->response.content_type, "application/problem+json");
  EXPECT_EQ(d->response.location, "");
  EXPECT_FALSE(decode("{}"));
  EXPECT_FALSE(decode("not json"));
  EXPECT_FALSE(decode("I1\tk\tfp"));                             // too few fields
  EXPECT_FALSE(decode("I1\tk\tfp\tnot a time\t201\tt\tb\t"));  // a number that is none
  EXPECT_FALSE(decode("I1\tk\tfp\t42\t99\tt\tb\t"));           // no HTTP status
  EXPECT_FALSE(decode("X1\tk\tfp\t42\t201\tt\tb\t"));          // another record
}

TEST(IdempotencyKey, TheCompactRecordKeepsTabsNewlinesAndALocation) {
  Record r{"key\twith tab", "fp", 7,
           {201, "application/json", "{\"a\":\"line\\nbreak\"}\n\tend\\", "/v1/orders/o-1"}};
  const auto stored = encode(r);
  EXPECT_EQ(stored.rfind("I1\t", 0), 0u);
  EXPECT_EQ(stored.find('\n'), std::string::npos) << "one line";
  auto d = decode(stored);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key, r.key);
  EXPECT_EQ(d->response.status, 201);
  EXPECT_EQ(d->response.body, r.response.body);
  EXPECT_EQ(d->response.location, "/v1/orders/o-1");
}

TEST(IdempotencyKey, RecordsOfEarlierVersionsStillRead) {
  // The JSON object the first versions stored.
  auto d = decode(R"({"key":"k","fingerprint":"fp","createdAt":42,"status":201,)"
                  R"("contentType":"application/json","body":"{\"orderId\":\"o-1\"}",)"
                  R"("location":"/v1/orders/o-1"})");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key, "k");
  EXPECT_EQ(d->created_at, 42);
  EXPECT_EQ(d->response.status, 201);
  EXPECT_EQ(d->response.body, R"({"orderId":"o-1"})");
  EXPECT_EQ(d->response.location, "/v1/orders/o-1");
}

TEST(IdempotencyKey, FirstRunsThenReplaysOrRefuses) {
  Fixture f;
  Claim c;
  auto d = f.keeper.begin("cust", "k", fp_a, c);
  ASSERT_EQ(d.kind, K::execute);
  EXPECT_EQ(f.keeper.running(), 1u);
  // While it runs: 409 for the same request, 422 for another.
  Claim c2;
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_a, c2).kind, K::in_progress);
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_b, c2).kind, K::mismatch);
  // Another customer's same key is another key.
  Claim other;
  EXPECT_EQ(f.keeper.begin("cust-2", "k", fp_a, other).kind, K::execute);

  ASSERT_TRUE(c.finish(created()));
  EXPECT_EQ(f.writes, 1);
  EXPECT_EQ(f.keeper.running(), 1u) << "only cust-2's";
  auto again = f.keeper.begin("cust", "k", fp_a, c2);
  ASSERT_EQ(again.kind, K::replay);
  EXPECT_EQ(again.response.status, 201);
  EXPECT_EQ(again.response.body, "{\"orderId\":\"o-1\"}");
  EXPECT_EQ(again.response.location, "/v1/orders/o-1");
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_b, c2).kind, K::mismatch);
  EXPECT_EQ(f.writes, 1) << "replays write nothing";
}

TEST(IdempotencyKey, FiveHundredsAreForgottenFourHundredsKept) {
  Fixture f;
  {
    Claim c;
    ASSERT_EQ(f.keeper.begin("cust", "k", fp_a, c).kind, K::execute);
    ASSERT_TRUE(c.finish({503, "application/problem+json", "{}", ""}));
  }
  EXPECT_TRUE(f.store.empty());
  Claim c;
  ASSERT_EQ(f.keeper.begin("cust", "k", fp_a, c).kind, K::execute) << "a 503 runs again";
  ASSERT_TRUE(c.finish({409, "application/problem+json", "{\"type\":\"x\"}", ""}));
  Claim c2;
  auto d = f.keeper.begin("cust", "k", fp_a, c2);
  ASSERT_EQ(d.kind, K::replay);
  EXPECT_EQ(d.response.status, 409);
}

TEST(IdempotencyKey, AnUnfinishedClaimFreesTheKey) {
  Fixture f;
  {
    Claim c;
    ASSERT_EQ(f.keeper.begin("cust", "k", fp_a, c).kind, K::execute);
  }  // dropped (an exception in the handler)
  EXPECT_EQ(f.keeper.running(), 0u);
  Claim c;
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_a, c).kind, K::execute);
}

TEST(IdempotencyKey, RecordsExpireAfterRetention) {
  Fixture f;
  Claim c;
  ASSERT_EQ(f.keeper.begin("cust", "k", fp_a, c).kind, K::execute);
  ASSERT_TRUE(c.finish(created()));
  f.now += retention_ms - 1;
  Claim c2;
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_a, c2).kind, K::replay) << "kept 24 h";
  f.now += 1;
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_b, c2).kind, K::execute) << "then the key is free";
  ASSERT_TRUE(c2.finish(created("{\"orderId\":\"o-2\"}")));
  Claim c3;
  auto d = f.keeper.begin("cust", "k", fp_b, c3);
  ASSERT_EQ(d.kind, K::replay);
  EXPECT_EQ(d.response.body, "{\"orderId\":\"o-2\"}");
}

TEST(IdempotencyKey, HashCollisionIsRefusedNeverOverwritten) {
  Fixture f;
  // Another raw key stored where "k" hashes to.
  f.store[store_key("cust", "k")] = encode({"other", fp_a, f.now, created()});
  Claim c;
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_a, c).kind, K::mismatch);
  EXPECT_EQ(f.writes, 0);
}

TEST(IdempotencyKey, StoreReadFailureRunsNothing) {
  Fixture f;
  f.store_down = true;
  Claim c;
  auto d = f.keeper.begin("cust", "k", fp_a, c);
  EXPECT_EQ(d.kind, K::failed);
  EXPECT_EQ(d.error.kind, domain::ErrorKind::store_unavailable);
  EXPECT_EQ(f.keeper.running(), 0u);
  f.store_down = false;
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_a, c).kind, K::execute);
}

TEST(IdempotencyKey, AFailedWriteIsRememberedInMemoryAndWrittenLater) {
  Fixture f;
  Claim c;
  ASSERT_EQ(f.keeper.begin("cust", "k", fp_a, c).kind, K::execute);
  f.writes_fail = true;
  EXPECT_FALSE(c.finish(created()));
  EXPECT_TRUE(f.store.empty());
  EXPECT_EQ(f.keeper.memory_only(), 1u);
  // Replayed from memory (and the write is tried again, failing still).
  Claim c2;
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_a, c2).kind, K::replay);
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_b, c2).kind, K::mismatch);
  EXPECT_EQ(f.keeper.memory_only(), 1u);
  // The store is back: the next use writes it and memory forgets it.
  f.writes_fail = false;
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_a, c2).kind, K::replay);
  EXPECT_EQ(f.keeper.memory_only(), 0u);
  EXPECT_EQ(f.store.size(), 1u);
  EXPECT_EQ(f.keeper.begin("cust", "k", fp_a, c2).kind, K::replay) << "now from the store";
}

}  // namespace
}  // namespace troupe::http::idempotency
