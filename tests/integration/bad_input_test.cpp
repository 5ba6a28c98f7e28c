// Bad input gets a clear 4xx problem+json and changes nothing, against the real
// binary. Each TEST runs a table of cases on one server (one start per table,
// so ctest's one-process-per-test stays fast); every case asserts the status,
// the problem shape and that the observable state is byte-for-byte unchanged.

#include "server.hpp"

using namespace troupe_it;

namespace {

struct Case {
  std::string name;
  std::string method;
  std::string path;
  std::string body;      // sent as is ("" = no body)
  int status;            // expected HTTP status
  std::string allow;     // 405: a method the Allow header must list
};

const std::string kShow = "musical-1";
const std::string kRoom = "room-101";
const std::string kZone = "zone-1";
const std::string kStart = "2030-05-01T14:00:00Z", kEnd = "2030-05-03T10:00:00Z";

std::string order_body(const json& patch, const std::vector<std::string>& drop = {}) {
  json j = seat_order(kShow, 3);
  for (auto& [k, v] : patch.items()) j[k] = v;
  for (const auto& k : drop) j.erase(k);
  return j.dump();
}

std::string booking_body(const json& patch, const std::vector<std::string>& drop = {}) {
  json j = window_order(kRoom, "2030-06-01T14:00:00Z", "2030-06-02T10:00:00Z");
  for (auto& [k, v] : patch.items()) j[k] = v;
  for (const auto& k : drop) j.erase(k);
  return j.dump();
}

std::string resource_body(const json& patch, const std::vector<std::string>& drop = {},
                          json base = musical("musical-new")) {
  for (auto& [k, v] : patch.items()) base[k] = v;
  for (const auto& k : drop) base.erase(k);
  return base.dump();
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto why = server_.start();
    ASSERT_EQ(why, "");
    http_ = std::make_unique<Http>(server_.port());
    ASSERT_TRUE(Register(*http_, musical(kShow)));
    ASSERT_TRUE(Register(*http_, room(kRoom)));
    ASSERT_EQ(http_->post("/v1/resources", json{{"id", kZone}, {"type", "zone"}, {"name", "Zone"},
                                                 {"mode", "dispatch"}, {"price", 0}})
                  .status,
              201);
    auto o = http_->post("/v1/orders", seat_order(kShow, 3));
    ASSERT_EQ(o.status, 201) << o.describe();
    order_id_ = str(o.body_json(), "orderId");
    payment_id_ = str(o.body_json(), "paymentId");
    auto b = http_->post("/v1/orders", window_order(kRoom, kStart, kEnd));
    ASSERT_EQ(b.status, 201) << b.describe();
    booking_id_ = str(b.body_json(), "orderId");
    before_ = snapshot();
    ASSERT_EQ(before_["show"].value("available", -1LL), 97) << before_.dump();
  }

  /// Everything a bad request could have changed.
  json snapshot() {
    json s;
    s["show"] = http_->get("/v1/resources/" + kShow).body_json();
    s["room"] = http_->get("/v1/resources/" + kRoom).body_json();
    s["order"] = http_->get("/v1/orders/" + order_id_).body_json();
    s["booking"] = http_->get("/v1/orders/" + booking_id_).body_json();
    s["payment"] = http_->get("/v1/payments/" + payment_id_).body_json();
    s["list"] = http_->get("/v1/resources?limit=100").body_json();
    return s;
  }

  void run(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
      SCOPED_TRACE("case '" + c.name + "': " + c.method + " " + c.path + " " +
                   tail(c.body, 200));
      Reply r = c.method == "POST" && !c.body.empty()
                    ? http_->post_raw(c.path, c.body)
                    : http_->send(c.method, c.path, c.body);
      EXPECT_TRUE(IsProblem(r, c.status));
      if (r.status == c.status && !c.allow.empty()) {
        EXPECT_TRUE(r.has_header("Allow")) << "405 without Allow: " << r.describe();
        EXPECT_NE(r.header("Allow").find(c.allow), std::string::npos)
            << "Allow should list " << c.allow << ": '" << r.header("Allow") << "'";
      }
      if (r.status >= 400 && r.status < 500) {
        auto j = r.body_json();
        types_[r.status].insert(str(j, "type"));
      }
      json after = snapshot();
      EXPECT_EQ(after, before_) << "state changed: " << r.describe();
      if (after != before_) before_ = after;  // report each change once
    }
  }

  void TearDown() override {
    for (const auto& [status, types] : types_) {
      std::string all;
      for (const auto& t : types) all += " '" + t + "'";
      std::printf("problem types seen for %d:%s\n", status, all.c_str());
    }
  }

  TroupeServer server_{fast_payments()};
  std::unique_ptr<Http> http_;
  std::string order_id_, payment_id_, booking_id_;
  json before_;
  std::map<int, std::set<std::string>> types_;
};

}  // namespace

TEST_F(BadInput, CapacityOrders) {
  const std::string long_id(129, 'a');
  run({
      {"malformed JSON", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":3)", 400, ""},
      {"not JSON at all", "POST", "/v1/orders", "quantity=3", 400, ""},
      {"empty body", "POST", "/v1/orders", "", 400, ""},
      {"array", "POST", "/v1/orders", "[]", 400, ""},
      {"string", "POST", "/v1/orders", R"("musical-1")", 400, ""},
      {"number", "POST", "/v1/orders", "3", 400, ""},
      {"null", "POST", "/v1/orders", "null", 400, ""},
      {"trailing garbage", "POST", "/v1/orders", order_body({}) + "}", 400, ""},
      {"quantity as string", "POST", "/v1/orders", order_body({{"quantity", "3"}}), 400, ""},
      {"quantity 3.5", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":3.5})", 400, ""},
      {"quantity true", "POST", "/v1/orders", order_body({{"quantity", true}}), 400, ""},
      {"quantity null", "POST", "/v1/orders", order_body({{"quantity", nullptr}}), 400, ""},
      {"quantity array", "POST", "/v1/orders", order_body({{"quantity", {3}}}), 400, ""},
      {"resourceId number", "POST", "/v1/orders", order_body({{"resourceId", 1}}), 400, ""},
      {"customerId object", "POST", "/v1/orders", order_body({{"customerId", json::object()}}), 400, ""},
      {"missing resourceId", "POST", "/v1/orders", order_body({}, {"resourceId"}), 400, ""},
      {"missing customerId", "POST", "/v1/orders", order_body({}, {"customerId"}), 400, ""},
      {"missing quantity", "POST", "/v1/orders", order_body({}, {"quantity"}), 400, ""},
      {"unknown field", "POST", "/v1/orders", order_body({{"coupon", "FREE"}}), 400, ""},
      {"client-set amount", "POST", "/v1/orders", order_body({{"amount", 1}}), 400, ""},
      {"start/end on a capacity order", "POST", "/v1/orders", order_body({{"start", kStart}, {"end", kEnd}}), 400, ""},
      {"quantity 0", "POST", "/v1/orders", order_body({{"quantity", 0}}), 400, ""},
      {"quantity -1", "POST", "/v1/orders", order_body({{"quantity", -1}}), 400, ""},
      {"quantity INT64_MIN", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":-9223372036854775808})", 400, ""},
      {"quantity 1e12", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":1e12})", 400, ""},
      {"quantity 10^12", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":1000000000000})", 400, ""},
      {"quantity 10^9+1", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":1000000001})", 400, ""},
      {"quantity 2^63", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":9223372036854775808})", 400, ""},
      {"quantity 2^64-1", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":18446744073709551615})", 400, ""},
      {"quantity 99999999999999999999", "POST", "/v1/orders", R"({"resourceId":"musical-1","customerId":"c-42","quantity":99999999999999999999})", 400, ""},
      {"quantity 10^9 (in range, > available)", "POST", "/v1/orders", order_body({{"quantity", 1000000000}}), 409, ""},
      {"quantity 98 > 97 left", "POST", "/v1/orders", order_body({{"quantity", 98}}), 409, ""},
      {"unknown resource", "POST", "/v1/orders", order_body({{"resourceId", "musical-404"}}), 404, ""},
      {"resourceId with space", "POST", "/v1/orders", order_body({{"resourceId", "musical 1"}}), 400, ""},
      {"resourceId 129 chars", "POST", "/v1/orders", order_body({{"resourceId", long_id}}), 400, ""},
      {"resourceId empty", "POST", "/v1/orders", order_body({{"resourceId", ""}}), 400, ""},
      {"customerId with space", "POST", "/v1/orders", order_body({{"customerId", "c 42"}}), 400, ""},
      {"customerId 129 chars", "POST", "/v1/orders", order_body({{"customerId", long_id}}), 400, ""},
      {"customerId empty", "POST", "/v1/orders", order_body({{"customerId", ""}}), 400, ""},
      {"customerId with slash", "POST", "/v1/orders", order_body({{"customerId", "c/42"}}), 400, ""},
      {"customerId non-ASCII", "POST", "/v1/orders", order_body({{"customerId", "c-\xc3\xa9"}}), 400, ""},
      {"invalid UTF-8", "POST", "/v1/orders", "{\"resourceId\":\"musical-1\",\"customerId\":\"c-\xff\xfe\",\"quantity\":1}", 400, ""},
  });
}

TEST_F(BadInput, StepsAndDeliveryCalls) {
  const std::string steps = "/v1/orders/" + booking_id_ + "/steps";
  const std::string seat_steps = "/v1/orders/" + order_id_ + "/steps";
  auto call = [](const json& patch, const std::vector<std::string>& drop = {}) {
    json j = {{"resourceId", kZone}, {"customerId", "rest-9"}, {"destination", "Main St 1"},
              {"fee", 3500}};
    for (auto& [k, v] : patch.items()) j[k] = v;
    for (const auto& k : drop) j.erase(k);
    return j.dump();
  };
  run({
      {"step: malformed JSON", "POST", steps, R"({"step":"checked_in")", 400, ""},
      {"step: empty body", "POST", steps, "", 400, ""},
      {"step: missing", "POST", steps, R"({})", 400, ""},
      {"step: number", "POST", steps, R"({"step":1})", 400, ""},
      {"step: null", "POST", steps, R"({"step":null})", 400, ""},
      {"step: unknown field", "POST", steps, R"({"step":"checked_in","by":"manager"})", 400, ""},
      {"step: bad characters", "POST", steps, R"({"step":"checked in"})", 400, ""},
      {"step: unknown step", "POST", steps, R"({"step":"cleaned"})", 400, ""},
      {"step: out of order", "POST", steps, R"({"step":"checked_out"})", 409, ""},
      {"step: riderId on a room", "POST", steps, R"({"step":"checked_in","riderId":"rider-1"})", 400, ""},
      {"step: seats have no steps", "POST", seat_steps, R"({"step":"taken"})", 400, ""},
      {"step: unknown order", "POST", "/v1/orders/o-nope/steps", R"({"step":"checked_in"})", 404, ""},
      {"step: bad order id", "POST", "/v1/orders/o%20x/steps", R"({"step":"checked_in"})", 400, ""},
      {"step: GET", "GET", steps, "", 405, "POST"},
      {"call: fee 0", "POST", "/v1/orders", call({{"fee", 0}}), 400, ""},
      {"call: fee negative", "POST", "/v1/orders", call({{"fee", -5}}), 400, ""},
      {"call: fee as string", "POST", "/v1/orders", call({{"fee", "3500"}}), 400, ""},
      {"call: fee 35.5", "POST", "/v1/orders", R"({"resourceId":"zone-1","customerId":"r","destination":"x","fee":35.5})", 400, ""},
      {"call: fee huge", "POST", "/v1/orders", call({{"fee", 1e30}}), 400, ""},
      {"call: fee over the maximum", "POST", "/v1/orders", call({{"fee", 1000000000001LL}}), 400, ""},
      {"call: missing fee", "POST", "/v1/orders", call({}, {"fee"}), 400, ""},
      {"call: missing destination", "POST", "/v1/orders", call({}, {"destination"}), 400, ""},
      {"call: empty destination", "POST", "/v1/orders", call({{"destination", ""}}), 400, ""},
      {"call: destination number", "POST", "/v1/orders", call({{"destination", 7}}), 400, ""},
      {"call: destination too long", "POST", "/v1/orders", call({{"destination", std::string(201, 'x')}}), 400, ""},
      {"call: quantity on a call", "POST", "/v1/orders", call({{"quantity", 1}}), 400, ""},
      {"call: window on a call", "POST", "/v1/orders", call({{"start", kStart}, {"end", kEnd}}), 400, ""},
      {"fee on a seat order", "POST", "/v1/orders", order_body({{"fee", 100}}), 400, ""},
      {"destination on a room", "POST", "/v1/orders", booking_body({{"destination", "x"}}), 400, ""},
      {"dispatch with custom steps", "POST", "/v1/resources",
       json{{"id", "zone-2"}, {"type", "zone"}, {"name", "Z"}, {"mode", "dispatch"}, {"price", 0},
            {"steps", {"accepted", "completed"}}}.dump(), 400, ""},
  });
}

TEST_F(BadInput, CalendarOrders) {
  run({
      {"start malformed month", "POST", "/v1/orders", booking_body({{"start", "2030-13-01T00:00:00Z"}}), 400, ""},
      {"start not a time", "POST", "/v1/orders", booking_body({{"start", "tomorrow"}}), 400, ""},
      {"end Feb 30", "POST", "/v1/orders", booking_body({{"end", "2030-02-30T10:00:00Z"}}), 400, ""},
      {"start without zone", "POST", "/v1/orders", booking_body({{"start", "2030-06-01T14:00:00"}}), 400, ""},
      {"start as number", "POST", "/v1/orders", booking_body({{"start", 1906639200}}), 400, ""},
      {"end null", "POST", "/v1/orders", booking_body({{"end", nullptr}}), 400, ""},
      {"missing start", "POST", "/v1/orders", booking_body({}, {"start"}), 400, ""},
      {"missing end", "POST", "/v1/orders", booking_body({}, {"end"}), 400, ""},
      {"inverted window", "POST", "/v1/orders", booking_body({{"start", "2030-06-02T10:00:00Z"}, {"end", "2030-06-01T14:00:00Z"}}), 400, ""},
      {"zero-length window", "POST", "/v1/orders", booking_body({{"start", "2030-06-01T14:00:00Z"}, {"end", "2030-06-01T14:00:00Z"}}), 400, ""},
      {"window over a year", "POST", "/v1/orders", booking_body({{"start", "2030-06-01T14:00:00Z"}, {"end", "2032-06-01T10:00:00Z"}}), 400, ""},
      {"quantity on a calendar order", "POST", "/v1/orders", booking_body({{"quantity", 1}}), 400, ""},
      {"unknown field", "POST", "/v1/orders", booking_body({{"guests", 2}}), 400, ""},
      {"overlaps the booking", "POST", "/v1/orders", booking_body({{"start", "2030-05-02T14:00:00Z"}, {"end", "2030-05-04T10:00:00Z"}}), 409, ""},
      {"unknown room", "POST", "/v1/orders", booking_body({{"resourceId", "room-404"}}), 404, ""},
  });
}

TEST_F(BadInput, ResourceRegistration) {
  const std::string long_id(129, 'r');
  run({
      {"malformed JSON", "POST", "/v1/resources", R"({"id":"musical-new","type":)", 400, ""},
      {"array", "POST", "/v1/resources", R"([{"id":"musical-new"}])", 400, ""},
      {"empty body", "POST", "/v1/resources", "", 400, ""},
      {"missing id", "POST", "/v1/resources", resource_body({}, {"id"}), 400, ""},
      {"missing type", "POST", "/v1/resources", resource_body({}, {"type"}), 400, ""},
      {"missing name", "POST", "/v1/resources", resource_body({}, {"name"}), 400, ""},
      {"missing mode", "POST", "/v1/resources", resource_body({}, {"mode"}), 400, ""},
      {"missing price", "POST", "/v1/resources", resource_body({}, {"price"}), 400, ""},
      {"missing capacity", "POST", "/v1/resources", resource_body({}, {"capacity"}), 400, ""},
      {"unknown mode", "POST", "/v1/resources", resource_body({{"mode", "auction"}}), 400, ""},
      {"unknown field", "POST", "/v1/resources", resource_body({{"colour", "red"}}), 400, ""},
      {"client-set available", "POST", "/v1/resources", resource_body({{"available", 5}}), 400, ""},
      {"capacity 0", "POST", "/v1/resources", resource_body({{"capacity", 0}}), 400, ""},
      {"capacity -1", "POST", "/v1/resources", resource_body({{"capacity", -1}}), 400, ""},
      {"capacity as string", "POST", "/v1/resources", resource_body({{"capacity", "100"}}), 400, ""},
      {"capacity 2.5", "POST", "/v1/resources", resource_body({{"capacity", 2.5}}), 400, ""},
      {"capacity 10^9+1", "POST", "/v1/resources", resource_body({{"capacity", 1000000001}}), 400, ""},
      {"capacity 99999999999999999999", "POST", "/v1/resources", R"({"id":"musical-new","type":"musical","name":"HOT","mode":"capacity","capacity":99999999999999999999,"price":1})", 400, ""},
      {"price -1", "POST", "/v1/resources", resource_body({{"price", -1}}), 400, ""},
      {"price 3.5", "POST", "/v1/resources", resource_body({{"price", 3.5}}), 400, ""},
      {"price as string", "POST", "/v1/resources", resource_body({{"price", "50000"}}), 400, ""},
      {"price 10^12+1", "POST", "/v1/resources", resource_body({{"price", 1000000000001}}), 400, ""},
      {"id with space", "POST", "/v1/resources", resource_body({{"id", "musical new"}}), 400, ""},
      {"id 129 chars", "POST", "/v1/resources", resource_body({{"id", long_id}}), 400, ""},
      {"id empty", "POST", "/v1/resources", resource_body({{"id", ""}}), 400, ""},
      {"id with slash", "POST", "/v1/resources", resource_body({{"id", "musical/new"}}), 400, ""},
      {"name empty", "POST", "/v1/resources", resource_body({{"name", ""}}), 400, ""},
      {"steps not an array", "POST", "/v1/resources", resource_body({{"steps", "taken"}}), 400, ""},
      {"steps with a reserved name", "POST", "/v1/resources", resource_body({{"steps", {"confirmed"}}}), 400, ""},
      {"capacity on a calendar resource", "POST", "/v1/resources", resource_body({{"capacity", 3}}, {}, room("room-new")), 400, ""},
      {"unknown priceUnit", "POST", "/v1/resources", resource_body({{"priceUnit", "week"}}, {}, room("room-new")), 400, ""},
      {"same id, different content", "POST", "/v1/resources", musical(kShow, 120).dump(), 409, ""},
      {"same room id, different price", "POST", "/v1/resources", room(kRoom, 9999).dump(), 409, ""},
  });
}

TEST_F(BadInput, RoutesMethodsAndLookups) {
  run({
      {"unknown route", "GET", "/v1/nope", "", 404, ""},
      {"unknown route outside v1", "GET", "/nope", "", 404, ""},
      {"unknown POST route", "POST", "/v1/refunds", R"({"orderId":"x"})", 404, ""},
      {"DELETE /v1/orders", "DELETE", "/v1/orders", "", 405, "POST"},
      {"PUT /v1/orders", "PUT", "/v1/orders", "", 405, "POST"},
      {"DELETE /v1/orders", "DELETE", "/v1/orders", "", 405, "GET"},
      {"list orders without customerId", "GET", "/v1/orders", "", 400, ""},
      {"PUT /v1/resources/x", "PUT", "/v1/resources/x", musical("x").dump(), 405, "GET"},
      {"DELETE a resource", "DELETE", "/v1/resources/" + kShow, "", 405, "GET"},
      {"PATCH an order", "PATCH", "/v1/orders/" + order_id_, R"({"status":"cancelled"})", 405, "GET"},
      {"GET a cancel", "GET", "/v1/orders/" + order_id_ + "/cancel", "", 405, "POST"},
      {"DELETE a payment", "DELETE", "/v1/payments/" + payment_id_, "", 405, "GET"},
      {"unknown order", "GET", "/v1/orders/no-such-order", "", 404, ""},
      {"cancel unknown order", "POST", "/v1/orders/no-such-order/cancel", "", 404, ""},
      {"unknown payment", "GET", "/v1/payments/no-such-payment", "", 404, ""},
      {"unknown resource", "GET", "/v1/resources/no-such-resource", "", 404, ""},
      {"list limit not a number", "GET", "/v1/resources?limit=abc", "", 400, ""},
      {"list limit negative", "GET", "/v1/resources?limit=-1", "", 400, ""},
  });
}

TEST_F(BadInput, BodiesOverTheLimitAre413) {
  const std::string pad(2 * 1024 * 1024, ' ');  // 2 MiB of JSON whitespace
  for (const auto& [path, valid] :
       std::vector<std::pair<std::string, std::string>>{
           {"/v1/orders", seat_order(kShow, 1).dump()},
           {"/v1/resources", musical("musical-big").dump()}}) {
    SCOPED_TRACE(path);
    // Valid JSON padded past the limit: a server that ignored the limit would
    // succeed (201) and change state.
    std::string body = valid + pad;
    std::string head = "POST " + path +
                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    Reply r = raw_exchange(server_.port(), head, body);
    EXPECT_TRUE(IsProblem(r, 413));
    json after = snapshot();
    EXPECT_EQ(after, before_) << "state changed";
    before_ = after;
  }
  // The server is still healthy afterwards.
  EXPECT_EQ(http_->get("/health/live").status, 200);
}

TEST_F(BadInput, BodyJustUnderTheLimitIsRead) {
  // 900 KiB of whitespace after a valid order: under 1 MiB, so not 413.
  auto r = http_->post_raw("/v1/orders", seat_order(kShow, 1).dump() + std::string(900 * 1024, ' '));
  EXPECT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(available(*http_, kShow), 96);
}

TEST_F(BadInput, BoundaryIdsAreAccepted) {
  // 128 characters of the allowed alphabet is valid.
  const std::string id128 = std::string(120, 'a') + "-_.Z9xyz";
  ASSERT_EQ(id128.size(), 128u);
  auto reg = http_->post("/v1/resources", musical(id128, 5, 10));
  EXPECT_EQ(reg.status, 201) << reg.describe();
  auto o = http_->post("/v1/orders", seat_order(id128, 5, id128));
  EXPECT_EQ(o.status, 201) << o.describe();
  EXPECT_EQ(available(*http_, id128), 0);
}
