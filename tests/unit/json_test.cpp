// Scenarios for the JSON forms of the domain values (wire and store).
#include "domain/json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace troupe::domain {
namespace {

using nlohmann::json;

constexpr Timestamp T0 = 1'893'456'000'000;  // 2030-01-01T00:00:00Z
constexpr Timestamp kHour = 3'600'000;

ResourceSpec musical() {
  ResourceSpec r;
  r.id = "hamilton-2030";
  r.type = "musical";
  r.name = "Hamilton";
  r.mode = Mode::capacity;
  r.capacity = 500;
  r.price = 12'000;
  return r;
}

ResourceSpec room() {
  ResourceSpec r;
  r.id = "room-101";
  r.type = "room";
  r.name = "Room 101 \"sea view\" — café";  // quotes and UTF-8 survive
  r.mode = Mode::calendar;
  r.price = 9'900;
  r.price_unit = PriceUnit::night;
  r.steps = {"checked_in", "checked_out"};
  return r;
}

ResourceSpec rider() {
  ResourceSpec r;
  r.id = "rider-1";
  r.type = "rider";
  r.name = "Rider";
  r.mode = Mode::dispatch;
  r.price = 500;
  return r;
}

// A capacity order walked all the way to cancelled, with a refunded payment.
Order capacity_order() {
  Order o = place("o-1", "hamilton-2030", "alice", Mode::capacity, T0);
  o.quantity = 3;
  o.amount = 36'000;
  o.payment.amount = 36'000;
  EXPECT_TRUE(advance(o, OrderPhase::held, T0 + 1));
  EXPECT_TRUE(advance(o.payment, PaymentStatus::authorized, T0 + 2));
  EXPECT_TRUE(advance(o.payment, PaymentStatus::captured, T0 + 3));
  EXPECT_TRUE(advance(o, OrderPhase::paid, T0 + 4));
  EXPECT_TRUE(advance(o, OrderPhase::confirmed, T0 + 5));
  EXPECT_TRUE(advance(o, OrderPhase::cancelled, T0 + kHour));
  EXPECT_TRUE(advance(o.payment, PaymentStatus::refunded, T0 + kHour + 7));
  return o;
}

// A calendar order that was rejected because the payment was declined.
Order calendar_order() {
  Order o = place("o-2", "room-101", "bob", Mode::calendar, T0 + 123);
  o.start = T0 + 24 * kHour;
  o.end = T0 + 49 * kHour;
  o.amount = 19'800;
  o.payment.amount = 19'800;
  EXPECT_TRUE(advance(o, OrderPhase::held, T0 + 200));
  EXPECT_TRUE(advance(o.payment, PaymentStatus::declined, T0 + 300));
  EXPECT_TRUE(advance(o, OrderPhase::rejected, T0 + 301));
  o.reason = "payment declined";
  return o;
}

void expect_same_payment(const Payment& a, const Payment& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.order_id, b.order_id);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.history, b.history);
}

void expect_same_order(const Order& a, const Order& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.resource_id, b.resource_id);
  EXPECT_EQ(a.customer_id, b.customer_id);
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.quantity, b.quantity);
  EXPECT_EQ(a.start, b.start);
  EXPECT_EQ(a.end, b.end);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.history, b.history);
  expect_same_payment(a.payment, b.payment);
}

void expect_resource_rejected(const json& j, const std::string& field) {
  auto r = resource_from_json(j);
  ASSERT_FALSE(r) << j.dump();
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_input);
  if (!field.empty()) {
    EXPECT_NE(r.error().detail.find(field), std::string::npos) << r.error().detail;
  }
}

void expect_order_rejected(const json& j, const std::string& field) {
  auto o = order_from_json(j);
  ASSERT_FALSE(o) << j.dump();
  EXPECT_EQ(o.error().kind, ErrorKind::invalid_input);
  if (!field.empty()) {
    EXPECT_NE(o.error().detail.find(field), std::string::npos) << o.error().detail;
  }
}

// ---- ResourceSpec -------------------------------------------------------------

TEST(ResourceJson, CapacityResourceRoundTrips) {
  const auto r = *normalize(musical());
  auto back = resource_from_json(to_json(r));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, r);
}

TEST(ResourceJson, CalendarResourceRoundTrips) {
  const auto r = *normalize(room());
  auto back = resource_from_json(to_json(r));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, r);
}

TEST(ResourceJson, DispatchResourceRoundTrips) {
  const auto r = *normalize(rider());
  auto back = resource_from_json(to_json(r));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, r);
}

TEST(ResourceJson, RoundTripsThroughText) {
  for (const auto& spec : {musical(), room(), rider()}) {
    const auto r = *normalize(spec);
    auto back = resource_from_json(json::parse(to_json(r).dump()));
    ASSERT_TRUE(back) << back.error().detail;
    EXPECT_EQ(*back, r);
  }
}

TEST(ResourceJson, UsesTheContractFieldNames) {
  const auto j = to_json(*normalize(room()));
  EXPECT_EQ(j.at("id"), "room-101");
  EXPECT_EQ(j.at("mode"), "calendar");
  EXPECT_EQ(j.at("priceUnit"), "night");
  EXPECT_EQ(j.at("price"), 9'900);
  EXPECT_EQ(j.at("steps"), json::array({"checked_in", "checked_out"}));
  EXPECT_FALSE(j.contains("capacity"));
  const auto c = to_json(*normalize(musical()));
  EXPECT_EQ(c.at("capacity"), 500);
  EXPECT_FALSE(c.contains("priceUnit"));
}

TEST(ResourceJson, StepsAreOptional) {
  auto j = to_json(musical());
  j.erase("steps");
  auto r = resource_from_json(j);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->steps.empty());
}

TEST(ResourceJson, RejectsANonObject) {
  expect_resource_rejected(json::array(), "");
  expect_resource_rejected(json("room"), "");
  expect_resource_rejected(json(nullptr), "");
}

TEST(ResourceJson, RejectsMissingFields) {
  for (const char* field : {"id", "type", "name", "mode", "price", "capacity"}) {
    auto j = to_json(musical());
    j.erase(field);
    expect_resource_rejected(j, field);
  }
  auto j = to_json(room());
  j.erase("priceUnit");
  expect_resource_rejected(j, "priceUnit");
}

TEST(ResourceJson, RejectsWronglyTypedFields) {
  const json base = to_json(musical());
  auto with = [&](const char* k, json v) {
    json j = base;
    j[k] = std::move(v);
    return j;
  };
  expect_resource_rejected(with("id", 42), "id");
  expect_resource_rejected(with("type", json::array()), "type");
  expect_resource_rejected(with("name", nullptr), "name");
  expect_resource_rejected(with("mode", true), "mode");
  expect_resource_rejected(with("price", "12000"), "price");
  expect_resource_rejected(with("price", 120.5), "price");
  expect_resource_rejected(with("price", true), "price");
  expect_resource_rejected(with("capacity", "500"), "capacity");
  expect_resource_rejected(with("capacity", 1.0), "capacity");
  expect_resource_rejected(with("steps", "taken"), "steps");
  expect_resource_rejected(with("steps", json::array({"taken", 3})), "steps");
}

TEST(ResourceJson, RejectsUnknownModeAndPriceUnit) {
  auto j = to_json(musical());
  j["mode"] = "auction";
  expect_resource_rejected(j, "mode");
  auto c = to_json(room());
  c["priceUnit"] = "week";
  expect_resource_rejected(c, "priceUnit");
  c["priceUnit"] = 3;
  expect_resource_rejected(c, "priceUnit");
}

TEST(ResourceJson, RejectsIntegersTooLargeForMoney) {
  auto j = json::parse(R"({"id":"a","type":"musical","name":"A","mode":"capacity",
                          "price":18446744073709551615,"capacity":1})");
  expect_resource_rejected(j, "price");
  j = json::parse(R"({"id":"a","type":"musical","name":"A","mode":"capacity",
                     "price":1,"capacity":9223372036854775808})");
  expect_resource_rejected(j, "capacity");
}

TEST(ResourceJson, DecodingDoesNotValidateBusinessRules) {
  // Decoding checks shapes; normalize() checks the rules.
  auto j = to_json(musical());
  j["capacity"] = -5;
  auto r = resource_from_json(j);
  ASSERT_TRUE(r);
  EXPECT_FALSE(normalize(*r));
}

// ---- Order --------------------------------------------------------------------

TEST(OrderJson, CapacityOrderRoundTrips) {
  const Order o = capacity_order();
  auto back = order_from_json(to_json(o));
  ASSERT_TRUE(back) << back.error().detail;
  expect_same_order(*back, o);
}

TEST(OrderJson, CalendarOrderRoundTrips) {
  const Order o = calendar_order();
  auto back = order_from_json(to_json(o));
  ASSERT_TRUE(back) << back.error().detail;
  expect_same_order(*back, o);
}

TEST(OrderJson, FreshlyPlacedOrderRoundTrips) {
  const Order o = place("o-3", "car-7", "carol", Mode::calendar, T0 + 5);
  auto back = order_from_json(to_json(o));
  ASSERT_TRUE(back) << back.error().detail;
  expect_same_order(*back, o);
}

TEST(OrderJson, RoundTripsThroughText) {
  for (const Order& o : {capacity_order(), calendar_order()}) {
    const std::string text = to_json(o).dump();
    auto back = order_from_json(json::parse(text));
    ASSERT_TRUE(back) << back.error().detail;
    expect_same_order(*back, o);
    EXPECT_EQ(to_json(*back).dump(), text);
  }
}

TEST(OrderJson, UsesTheContractFieldNames) {
  const auto j = to_json(calendar_order());
  EXPECT_EQ(j.at("orderId"), "o-2");
  EXPECT_EQ(j.at("resourceId"), "room-101");
  EXPECT_EQ(j.at("customerId"), "bob");
  EXPECT_EQ(j.at("status"), "rejected");
  EXPECT_EQ(j.at("paymentId"), "pay-o-2");
  EXPECT_EQ(j.at("createdAt"), "2030-01-01T00:00:00.123Z");
  EXPECT_EQ(j.at("start"), "2030-01-02T00:00:00Z");
  EXPECT_EQ(j.at("end"), "2030-01-03T01:00:00Z");
  EXPECT_EQ(j.at("reason"), "payment declined");
  EXPECT_FALSE(j.contains("quantity"));
  EXPECT_EQ(j.at("history").size(), 3u);
  EXPECT_EQ(j.at("history")[0], (json{{"status", "placed"}, {"at", "2030-01-01T00:00:00.123Z"}}));
  EXPECT_EQ(j.at("payment").at("status"), "declined");

  const auto c = to_json(capacity_order());
  EXPECT_EQ(c.at("quantity"), 3);
  EXPECT_FALSE(c.contains("start"));
  EXPECT_FALSE(c.contains("end"));
  EXPECT_FALSE(c.contains("reason"));
}

TEST(OrderJson, RejectsANonObject) {
  expect_order_rejected(json::array(), "");
  expect_order_rejected(json(7), "");
}

TEST(OrderJson, RejectsMissingFields) {
  for (const char* field : {"orderId", "resourceId", "customerId", "mode", "amount",
                            "createdAt", "history", "quantity", "payment"}) {
    auto j = to_json(capacity_order());
    j.erase(field);
    expect_order_rejected(j, field);
  }
  {
    auto j = to_json(capacity_order());
    j.erase("phase");
    j.erase("status");
    expect_order_rejected(j, "status");
  }
  for (const char* field : {"start", "end"}) {
    auto j = to_json(calendar_order());
    j.erase(field);
    expect_order_rejected(j, field);
  }
}

TEST(OrderJson, RejectsWronglyTypedFields) {
  const json base = to_json(capacity_order());
  auto with = [&](const char* k, json v) {
    json j = base;
    j[k] = std::move(v);
    return j;
  };
  expect_order_rejected(with("orderId", 1), "orderId");
  expect_order_rejected(with("resourceId", nullptr), "resourceId");
  expect_order_rejected(with("customerId", json::object()), "customerId");
  expect_order_rejected(with("mode", 0), "mode");
  expect_order_rejected(with("phase", false), "phase");
  expect_order_rejected(with("amount", "36000"), "amount");
  expect_order_rejected(with("amount", 36000.5), "amount");
  expect_order_rejected(with("createdAt", T0), "createdAt");  // a number, not a time
  expect_order_rejected(with("createdAt", "yesterday"), "createdAt");
  expect_order_rejected(with("createdAt", "2030-01-01T00:00:00"), "createdAt");
  expect_order_rejected(with("history", json::object()), "history");
  expect_order_rejected(with("history", json::array({"placed"})), "history");
  expect_order_rejected(with("history", json::array({json{{"status", "placed"}}})), "history");
  expect_order_rejected(
      with("history", json::array({json{{"status", 1}, {"at", "2030-01-01T00:00:00Z"}}})),
      "history");
  expect_order_rejected(with("quantity", "3"), "quantity");
  expect_order_rejected(with("payment", "pay-o-1"), "payment");

  const json cal = to_json(calendar_order());
  json j = cal;
  j["start"] = "2030-02-30T00:00:00Z";
  expect_order_rejected(j, "start");
  j = cal;
  j["end"] = 42;
  expect_order_rejected(j, "end");
}

TEST(OrderJson, ThePhaseIsStoredApartFromTheStatusAndOldRecordsStillRead) {
  auto o = capacity_order();
  o.phase = OrderPhase::confirmed;
  o.step = "packed";
  auto j = to_json(o);
  EXPECT_EQ(j["status"], "packed");
  EXPECT_EQ(j["phase"], "confirmed");
  auto back = order_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->phase, OrderPhase::confirmed);
  EXPECT_EQ(back->step, "packed");
  EXPECT_EQ(back->status(), "packed");
  // A record written before phases were stored apart: the status is the phase.
  auto legacy = to_json(capacity_order());
  legacy.erase("phase");
  auto old = order_from_json(legacy);
  ASSERT_TRUE(old.ok()) << old.error().detail;
  EXPECT_EQ(old->phase, capacity_order().phase);
}

TEST(OrderJson, RejectsUnknownStatusAndMode) {
  auto j = to_json(capacity_order());
  j["phase"] = "shipped";
  expect_order_rejected(j, "shipped");
  j = to_json(capacity_order());
  j.erase("phase");
  j["status"] = "shipped";
  expect_order_rejected(j, "shipped");
  j = to_json(capacity_order());
  j["mode"] = "barter";
  expect_order_rejected(j, "mode");
}

TEST(OrderJson, RejectsABrokenPayment) {
  for (const char* field : {"paymentId", "orderId", "amount", "status", "history"}) {
    auto j = to_json(capacity_order());
    j["payment"].erase(field);
    expect_order_rejected(j, field);
  }
  auto j = to_json(capacity_order());
  j["payment"]["status"] = "pending";
  expect_order_rejected(j, "pending");
  j = to_json(capacity_order());
  j["payment"]["amount"] = "lots";
  expect_order_rejected(j, "amount");
}

TEST(OrderJson, RejectsAnAmountTooLargeForMoney) {
  auto j = to_json(capacity_order());
  j["amount"] = std::uint64_t{18'446'744'073'709'551'615u};
  expect_order_rejected(j, "amount");
  j = to_json(capacity_order());
  j["payment"]["amount"] = std::uint64_t{9'223'372'036'854'775'808u};
  expect_order_rejected(j, "amount");
  j = to_json(capacity_order());
  j["quantity"] = std::uint64_t{9'223'372'036'854'775'808u};
  expect_order_rejected(j, "quantity");
}

TEST(OrderJson, AcceptsTheLargestMoneyValue) {
  auto j = to_json(capacity_order());
  j["amount"] = std::uint64_t{9'223'372'036'854'775'807u};  // as parsed from text
  auto o = order_from_json(j);
  ASSERT_TRUE(o) << o.error().detail;
  EXPECT_EQ(o->amount, 9'223'372'036'854'775'807);
}

TEST(OrderJson, ReasonIsOptional) {
  auto j = to_json(capacity_order());
  ASSERT_FALSE(j.contains("reason"));
  auto o = order_from_json(j);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->reason.empty());
}

TEST(PaymentJson, RoundTrips) {
  const Order o = capacity_order();
  auto back = payment_from_json(to_json(o.payment));
  ASSERT_TRUE(back) << back.error().detail;
  expect_same_payment(*back, o.payment);
  auto j = to_json(o.payment);
  EXPECT_EQ(j.at("paymentId"), "pay-o-1");
  EXPECT_EQ(j.at("orderId"), "o-1");
  EXPECT_EQ(j.at("status"), "refunded");
}

TEST(PaymentJson, RejectsANonObject) {
  auto p = payment_from_json(json("pay-o-1"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().kind, ErrorKind::invalid_input);
}

}  // namespace
}  // namespace troupe::domain

namespace troupe::domain {
namespace {
// The direct writer must say exactly what the JSON tree's dump says.
void expect_text_as_dump(const Order& o) { EXPECT_EQ(order_json_text(o), to_json(o).dump()); }

TEST(OrderJsonText, IsTheDumpOfEveryModeAndPhase) {
  expect_text_as_dump(capacity_order());
  expect_text_as_dump(calendar_order());
  expect_text_as_dump(place("o-3", "car-7", "carol", Mode::calendar, T0 + 5));
  expect_text_as_dump(place("o-4", "show", "dan", Mode::capacity, -1));  // before the epoch
  Order call = place("o-5", "zone-1", "erin", Mode::dispatch, T0 + 999);
  call.destination = "Main St. 1";
  call.amount = 500;
  expect_text_as_dump(call);
  call.rider_id = "rider-9";
  call.step = "accepted";
  expect_text_as_dump(call);
}

TEST(OrderJsonText, EscapesAsTheDump) {
  Order o = calendar_order();
  o.reason = std::string("quote \" backslash \\ newline \n tab \t cr \r bell \x07 del \x7f ") +
             "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \x01\x1f";
  o.customer_id = "c/\"x\"";
  o.history.back().status = "odd\bstatus\f";
  expect_text_as_dump(o);
  Order call = place("o-6", "zone-1", "erin", Mode::dispatch, T0);
  call.destination = "Stra\xc3\x9f" "e 5, \"Hinterhaus\"\n2. OG";
  expect_text_as_dump(call);
}

}  // namespace
}  // namespace troupe::domain
