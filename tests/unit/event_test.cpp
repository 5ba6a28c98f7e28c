// Domain events derived from an order's change (domain/event.hpp).
#include "domain/event.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace troupe::domain {
namespace {

std::vector<std::string> types(const std::vector<Event>& es) {
  std::vector<std::string> out;
  for (const auto& e : es) out.push_back(e.type);
  return out;
}

Order placed_order() {
  Order o = place("o-1", "show-1", "alice", Mode::capacity, 1000);
  o.payment.id = payment_id_for(o.id);
  o.payment.order_id = o.id;
  return o;
}

TEST(Events, FirstWriteOfAHeldOrderTellsPlacedThenHeld) {
  Order before;  // never stored
  Order o = placed_order();
  o.amount = 500;
  ASSERT_TRUE(advance(o, OrderPhase::held, 1001));
  auto es = events_between(before, o);
  EXPECT_EQ(types(es), (std::vector<std::string>{"OrderPlaced", "ResourceHeld"}));
  for (const auto& e : es) {
    EXPECT_EQ(e.order_id, "o-1");
    EXPECT_EQ(e.resource_id, "show-1");
    EXPECT_EQ(e.customer_id, "alice");
    EXPECT_EQ(e.status, "held");
    EXPECT_EQ(e.amount, 500);
    EXPECT_EQ(e.seq, 0u) << "the log assigns the id";
  }
  EXPECT_EQ(es[0].at, 1000);
  EXPECT_EQ(es[1].at, 1001);
}

TEST(Events, ConfirmationTellsThePaymentStepsBeforeTheConfirmation) {
  Order o = placed_order();
  ASSERT_TRUE(advance(o, OrderPhase::held, 1001));
  const Order held = o;
  ASSERT_TRUE(advance(o.payment, PaymentStatus::authorized, 1002));
  ASSERT_TRUE(advance(o.payment, PaymentStatus::captured, 1002));
  ASSERT_TRUE(advance(o, OrderPhase::paid, 1002));
  ASSERT_TRUE(advance(o, OrderPhase::confirmed, 1002));
  auto es = events_between(held, o);
  EXPECT_EQ(types(es), (std::vector<std::string>{"PaymentAuthorized", "PaymentCaptured",
                                                 "OrderConfirmed"}));
  EXPECT_EQ(es.back().payment_status, "captured");
  EXPECT_EQ(es.back().payment_id, "pay-o-1");
}

TEST(Events, CancellationReleasesTheResourceAndRefunds) {
  Order o = placed_order();
  ASSERT_TRUE(advance(o, OrderPhase::held, 1));
  ASSERT_TRUE(advance(o.payment, PaymentStatus::authorized, 2));
  ASSERT_TRUE(advance(o.payment, PaymentStatus::captured, 2));
  ASSERT_TRUE(advance(o, OrderPhase::paid, 2));
  ASSERT_TRUE(advance(o, OrderPhase::confirmed, 2));
  const Order confirmed = o;
  ASSERT_TRUE(advance(o, OrderPhase::cancelled, 9));
  ASSERT_TRUE(advance(o.payment, PaymentStatus::refunded, 9));
  EXPECT_EQ(types(events_between(confirmed, o)),
            (std::vector<std::string>{"OrderCancelled", "ResourceReleased", "PaymentRefunded"}));
}

TEST(Events, DeclinedPaymentRejectsAndReleasesTheHoldWithTheReason) {
  Order o = placed_order();
  ASSERT_TRUE(advance(o, OrderPhase::held, 1));
  const Order held = o;
  ASSERT_TRUE(advance(o.payment, PaymentStatus::declined, 3));
  o.reason = "declined by the gateway";
  ASSERT_TRUE(advance(o, OrderPhase::rejected, 3));
  auto es = events_between(held, o);
  EXPECT_EQ(types(es), (std::vector<std::string>{"PaymentDeclined", "ResourceReleased",
                                                 "OrderRejected"}));
  EXPECT_EQ(es.back().detail, "declined by the gateway");
  EXPECT_TRUE(es.front().detail.empty());
}

TEST(Events, RejectionWithoutAHoldReleasesNothing) {
  Order o = placed_order();
  ASSERT_TRUE(advance(o, OrderPhase::rejected, 3));
  EXPECT_EQ(types(events_between(Order{}, o)),
            (std::vector<std::string>{"OrderPlaced", "OrderRejected"}));
}

TEST(Events, NoChangeNoEvents) {
  Order o = placed_order();
  ASSERT_TRUE(advance(o, OrderPhase::held, 1));
  EXPECT_TRUE(events_between(o, o).empty());
}

TEST(Events, JsonRoundTripKeepsEveryFieldAndTakesTheIdFromTheLog) {
  Event e;
  e.type = "OrderRejected";
  e.order_id = "o-1";
  e.resource_id = "room-7";
  e.customer_id = "bob";
  e.at = 1'700'000'000'123;
  e.status = "rejected";
  e.amount = 4200;
  e.payment_id = "pay-o-1";
  e.payment_status = "voided";
  e.detail = "timeout";
  auto back = event_from_json(to_json(e), 77);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->seq, 77u);
  EXPECT_EQ(back->type, e.type);
  EXPECT_EQ(back->order_id, e.order_id);
  EXPECT_EQ(back->resource_id, e.resource_id);
  EXPECT_EQ(back->customer_id, e.customer_id);
  EXPECT_EQ(back->at, e.at);
  EXPECT_EQ(back->status, e.status);
  EXPECT_EQ(back->amount, e.amount);
  EXPECT_EQ(back->payment_id, e.payment_id);
  EXPECT_EQ(back->payment_status, e.payment_status);
  EXPECT_EQ(back->detail, e.detail);
}

TEST(Events, JsonWithoutCorrelationFieldsIsRefused) {
  for (const char* missing : {"type", "orderId", "resourceId", "customerId", "at"}) {
    Event e;
    e.type = "OrderPlaced";
    e.order_id = "o";
    e.resource_id = "r";
    e.customer_id = "c";
    e.at = 1;
    auto j = to_json(e);
    j.erase(missing);
    EXPECT_FALSE(event_from_json(j, 1).ok()) << missing;
  }
  EXPECT_FALSE(event_from_json(nlohmann::json::array(), 1).ok());
}

TEST(Events, StoredFormRoundTripsEveryFieldEvenWithTabsBackslashesAndNewlines) {
  Event e;
  e.type = event_type::order_rejected;
  e.order_id = "o-1";
  e.resource_id = "show\\1";
  e.customer_id = "al\tice";
  e.at = 1795000000123;
  e.status = "rejected";
  e.amount = -42;
  e.payment_id = "pay-o-1";
  e.payment_status = "declined";
  e.detail = "card declined:\n\tinsufficient funds \\ try later";
  const auto stored = encode_event(e);
  EXPECT_EQ(stored.find('\n'), std::string::npos) << "one line";
  EXPECT_LT(stored.size(), to_json(e).dump().size());
  auto back = decode_event(stored, 77);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->seq, 77u);
  EXPECT_EQ(back->type, e.type);
  EXPECT_EQ(back->order_id, e.order_id);
  EXPECT_EQ(back->resource_id, e.resource_id);
  EXPECT_EQ(back->customer_id, e.customer_id);
  EXPECT_EQ(back->at, e.at);
  EXPECT_EQ(back->status, e.status);
  EXPECT_EQ(back->amount, e.amount);
  EXPECT_EQ(back->payment_id, e.payment_id);
  EXPECT_EQ(back->payment_status, e.payment_status);
  EXPECT_EQ(back->detail, e.detail);
}

TEST(Events, StoredFormStillReadsTheJsonFormOfOlderStores) {
  Event e;
  e.type = event_type::order_confirmed;
  e.order_id = "o-2";
  e.resource_id = "r";
  e.customer_id = "c";
  e.at = 1795000000000;
  e.amount = 10;
  auto back = decode_event(to_json(e).dump(), 5);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->type, e.type);
  EXPECT_EQ(back->amount, 10);
  EXPECT_EQ(back->seq, 5u);
}

TEST(Events, StoredFormRefusesGarbage) {
  EXPECT_FALSE(decode_event("", 1).ok());
  EXPECT_FALSE(decode_event("{not json", 1).ok());
  EXPECT_FALSE(decode_event("E1\tOrderPlaced\to-1", 1).ok()) << "too few fields";
  EXPECT_FALSE(decode_event("E9\ta\tb\tc\td\t1\ts\t1\tp\tq\t", 1).ok()) << "unknown version";
  EXPECT_FALSE(decode_event("E1\tOrderPlaced\to-1\tr\tc\tnoon\ts\t1\tp\tq\t", 1).ok()) << "bad time";
  EXPECT_FALSE(decode_event("E1\tOrderPlaced\to-1\tr\tc\t1\ts\t1x\tp\tq\t", 1).ok()) << "bad amount";
}

}  // namespace
}  // namespace troupe::domain
