// Scenarios for the order saga lifecycle and its payment.
#include "domain/order.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace troupe::domain {
namespace {

const std::vector<OrderPhase> kAllPhases = {OrderPhase::placed,    OrderPhase::held,
                                            OrderPhase::paid,      OrderPhase::confirmed,
                                            OrderPhase::rejected,  OrderPhase::cancelled};
const std::vector<PaymentStatus> kAllPayments = {
    PaymentStatus::none,   PaymentStatus::authorized, PaymentStatus::captured,
    PaymentStatus::voided, PaymentStatus::refunded,   PaymentStatus::declined};

bool legal(OrderPhase from, OrderPhase to) {
  static const std::vector<std::pair<OrderPhase, OrderPhase>> edges = {
      {OrderPhase::placed, OrderPhase::held},       {OrderPhase::placed, OrderPhase::rejected},
      {OrderPhase::held, OrderPhase::paid},         {OrderPhase::held, OrderPhase::rejected},
      {OrderPhase::paid, OrderPhase::confirmed},    {OrderPhase::paid, OrderPhase::rejected},
      {OrderPhase::confirmed, OrderPhase::cancelled}};
  for (const auto& e : edges)
    if (e.first == from && e.second == to) return true;
  return false;
}

bool legal(PaymentStatus from, PaymentStatus to) {
  static const std::vector<std::pair<PaymentStatus, PaymentStatus>> edges = {
      {PaymentStatus::none, PaymentStatus::authorized},
      {PaymentStatus::none, PaymentStatus::declined},
      {PaymentStatus::authorized, PaymentStatus::captured},
      {PaymentStatus::authorized, PaymentStatus::voided},
      {PaymentStatus::captured, PaymentStatus::refunded}};
  for (const auto& e : edges)
    if (e.first == from && e.second == to) return true;
  return false;
}

Order placed_order(Timestamp now = 1000) {
  return place("o1", "hall-1", "alice", Mode::capacity, now);
}

// An order walked along legal transitions into `phase`.
Order order_in(OrderPhase phase) {
  Order o = placed_order();
  std::vector<OrderPhase> path;
  switch (phase) {
    case OrderPhase::placed: break;
    case OrderPhase::held: path = {OrderPhase::held}; break;
    case OrderPhase::paid: path = {OrderPhase::held, OrderPhase::paid}; break;
    case OrderPhase::confirmed:
      path = {OrderPhase::held, OrderPhase::paid, OrderPhase::confirmed};
      break;
    case OrderPhase::rejected: path = {OrderPhase::rejected}; break;
    case OrderPhase::cancelled:
      path = {OrderPhase::held, OrderPhase::paid, OrderPhase::confirmed, OrderPhase::cancelled};
      break;
  }
  Timestamp t = 2000;
  for (auto p : path) EXPECT_TRUE(advance(o, p, t += 1000));
  EXPECT_EQ(o.phase, phase);
  return o;
}

Payment payment_in(PaymentStatus s) {
  Payment p;
  p.id = "pay-o1";
  p.order_id = "o1";
  p.amount = 500;
  std::vector<PaymentStatus> path;
  switch (s) {
    case PaymentStatus::none: break;
    case PaymentStatus::authorized: path = {PaymentStatus::authorized}; break;
    case PaymentStatus::captured: path = {PaymentStatus::authorized, PaymentStatus::captured}; break;
    case PaymentStatus::voided: path = {PaymentStatus::authorized, PaymentStatus::voided}; break;
    case PaymentStatus::refunded:
      path = {PaymentStatus::authorized, PaymentStatus::captured, PaymentStatus::refunded};
      break;
    case PaymentStatus::declined: path = {PaymentStatus::declined}; break;
  }
  Timestamp t = 0;
  for (auto x : path) EXPECT_TRUE(advance(p, x, t += 10));
  EXPECT_EQ(p.status, s);
  return p;
}

std::vector<std::string> statuses(const std::vector<StatusChange>& h) {
  std::vector<std::string> out;
  for (const auto& c : h) out.push_back(c.status);
  return out;
}

TEST(Order, PlaceStartsAPlacedOrderWithHistory) {
  Order o = place("o-42", "room-7", "bob", Mode::calendar, 123456);
  EXPECT_EQ(o.id, "o-42");
  EXPECT_EQ(o.resource_id, "room-7");
  EXPECT_EQ(o.customer_id, "bob");
  EXPECT_EQ(o.mode, Mode::calendar);
  EXPECT_EQ(o.phase, OrderPhase::placed);
  EXPECT_EQ(o.status(), "placed");
  EXPECT_EQ(o.created_at, 123456);
  ASSERT_EQ(o.history.size(), 1u);
  EXPECT_EQ(o.history[0], (StatusChange{"placed", 123456}));
  EXPECT_FALSE(o.is_terminal());
  EXPECT_FALSE(o.occupies_resource());
}

TEST(Order, PlaceLinksTheOrderToItsPayment) {
  Order o = place("o-42", "room-7", "bob", Mode::calendar, 1);
  EXPECT_EQ(o.payment.id, payment_id_for("o-42"));
  EXPECT_EQ(o.payment.order_id, "o-42");
  EXPECT_EQ(o.payment.status, PaymentStatus::none);
  EXPECT_TRUE(o.payment.history.empty());
}

TEST(Order, WalksTheLegalPathToConfirmedAndThenCancelled) {
  Order o = placed_order(1000);
  ASSERT_TRUE(advance(o, OrderPhase::held, 2000));
  EXPECT_EQ(o.status(), "held");
  ASSERT_TRUE(advance(o, OrderPhase::paid, 3000));
  EXPECT_EQ(o.status(), "paid");
  EXPECT_FALSE(o.occupies_resource());
  ASSERT_TRUE(advance(o, OrderPhase::confirmed, 4000));
  EXPECT_EQ(o.status(), "confirmed");
  EXPECT_TRUE(o.occupies_resource());
  EXPECT_FALSE(o.is_terminal());
  ASSERT_TRUE(advance(o, OrderPhase::cancelled, 5000));
  EXPECT_EQ(o.status(), "cancelled");
  EXPECT_TRUE(o.is_terminal());
  EXPECT_FALSE(o.occupies_resource());

  const std::vector<StatusChange> expected = {
      {"placed", 1000}, {"held", 2000}, {"paid", 3000}, {"confirmed", 4000}, {"cancelled", 5000}};
  EXPECT_EQ(o.history, expected);
}

TEST(Order, CanBeRejectedFromEveryInFlightPhase) {
  for (auto from : {OrderPhase::placed, OrderPhase::held, OrderPhase::paid}) {
    Order o = order_in(from);
    const auto n = o.history.size();
    ASSERT_TRUE(advance(o, OrderPhase::rejected, 99'000)) << to_string(from);
    EXPECT_EQ(o.phase, OrderPhase::rejected);
    EXPECT_TRUE(o.is_terminal());
    ASSERT_EQ(o.history.size(), n + 1);
    EXPECT_EQ(o.history.back(), (StatusChange{"rejected", 99'000}));
  }
}

TEST(Order, ConfirmedOrderCannotBeRejected) {
  Order o = order_in(OrderPhase::confirmed);
  auto st = advance(o, OrderPhase::rejected, 9);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(o.phase, OrderPhase::confirmed);
}

TEST(Order, EveryIllegalTransitionIsAConflictAndChangesNothing) {
  int illegal = 0;
  for (auto from : kAllPhases) {
    for (auto to : kAllPhases) {
      Order o = order_in(from);
      const Order before = o;
      auto st = advance(o, to, 777'000);
      if (legal(from, to)) {
        EXPECT_TRUE(st) << to_string(from) << " -> " << to_string(to);
        continue;
      }
      ++illegal;
      ASSERT_FALSE(st) << to_string(from) << " -> " << to_string(to) << " should be refused";
      EXPECT_EQ(st.error().kind, ErrorKind::conflict);
      EXPECT_EQ(o.phase, before.phase);
      EXPECT_EQ(o.history, before.history);
      EXPECT_EQ(o.status(), before.status());
    }
  }
  EXPECT_EQ(illegal, 36 - 7);
}

TEST(Order, SkippingASagaStepIsAConflict) {
  Order o = placed_order();
  for (auto to : {OrderPhase::paid, OrderPhase::confirmed, OrderPhase::cancelled}) {
    auto st = advance(o, to, 5);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  }
  EXPECT_EQ(o.phase, OrderPhase::placed);
  EXPECT_EQ(o.history.size(), 1u);
}

TEST(Order, MovingToTheSamePhaseIsAConflict) {
  for (auto p : kAllPhases) {
    Order o = order_in(p);
    auto st = advance(o, p, 5);
    ASSERT_FALSE(st) << to_string(p);
    EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  }
}

TEST(Order, RejectedAndCancelledAreTerminal) {
  for (auto terminal : {OrderPhase::rejected, OrderPhase::cancelled}) {
    Order o = order_in(terminal);
    EXPECT_TRUE(o.is_terminal());
    EXPECT_FALSE(o.occupies_resource());
    for (auto to : kAllPhases) {
      auto st = advance(o, to, 1);
      ASSERT_FALSE(st) << to_string(terminal) << " -> " << to_string(to);
      EXPECT_EQ(st.error().kind, ErrorKind::conflict);
      EXPECT_EQ(o.phase, terminal);
    }
  }
}

TEST(Order, OnlyRejectedAndCancelledAreTerminal) {
  for (auto p : kAllPhases) {
    Order o = order_in(p);
    EXPECT_EQ(o.is_terminal(), p == OrderPhase::rejected || p == OrderPhase::cancelled)
        << to_string(p);
    EXPECT_EQ(o.occupies_resource(), p == OrderPhase::confirmed) << to_string(p);
  }
}

TEST(Order, CancelTwiceIsAConflict) {
  Order o = order_in(OrderPhase::confirmed);
  ASSERT_TRUE(advance(o, OrderPhase::cancelled, 10));
  const auto n = o.history.size();
  auto st = advance(o, OrderPhase::cancelled, 11);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(o.history.size(), n);
}

TEST(Order, PhaseNamesRoundTrip) {
  for (auto p : kAllPhases) {
    auto parsed = parse_order_phase(to_string(p));
    ASSERT_TRUE(parsed) << to_string(p);
    EXPECT_EQ(*parsed, p);
  }
  auto bad = parse_order_phase("shipped");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
  EXPECT_FALSE(parse_order_phase(""));
  EXPECT_FALSE(parse_order_phase("Placed"));
}

TEST(Payment, AuthorizeCaptureRefund) {
  Payment p;
  ASSERT_TRUE(advance(p, PaymentStatus::authorized, 10));
  EXPECT_EQ(p.status, PaymentStatus::authorized);
  ASSERT_TRUE(advance(p, PaymentStatus::captured, 20));
  EXPECT_EQ(p.status, PaymentStatus::captured);
  ASSERT_TRUE(advance(p, PaymentStatus::refunded, 30));
  EXPECT_EQ(p.status, PaymentStatus::refunded);
  const std::vector<StatusChange> expected = {
      {"authorized", 10}, {"captured", 20}, {"refunded", 30}};
  EXPECT_EQ(p.history, expected);
}

TEST(Payment, DeclinedStraightAway) {
  Payment p;
  ASSERT_TRUE(advance(p, PaymentStatus::declined, 10));
  EXPECT_EQ(p.status, PaymentStatus::declined);
  EXPECT_EQ(statuses(p.history), (std::vector<std::string>{"declined"}));
}

TEST(Payment, AuthorizedThenVoided) {
  Payment p;
  ASSERT_TRUE(advance(p, PaymentStatus::authorized, 10));
  ASSERT_TRUE(advance(p, PaymentStatus::voided, 20));
  EXPECT_EQ(p.status, PaymentStatus::voided);
  EXPECT_EQ(statuses(p.history), (std::vector<std::string>{"authorized", "voided"}));
}

TEST(Payment, CannotCaptureWithoutAuthorization) {
  Payment p;
  auto st = advance(p, PaymentStatus::captured, 10);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(p.status, PaymentStatus::none);
  EXPECT_TRUE(p.history.empty());
}

TEST(Payment, CannotVoidACapturedPayment) {
  Payment p = payment_in(PaymentStatus::captured);
  auto st = advance(p, PaymentStatus::voided, 99);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(p.status, PaymentStatus::captured);
}

TEST(Payment, CannotRefundTwice) {
  Payment p = payment_in(PaymentStatus::refunded);
  auto st = advance(p, PaymentStatus::refunded, 99);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
}

TEST(Payment, DeclinedVoidedAndRefundedAreFinal) {
  for (auto final_state : {PaymentStatus::declined, PaymentStatus::voided, PaymentStatus::refunded}) {
    for (auto to : kAllPayments) {
      Payment p = payment_in(final_state);
      auto st = advance(p, to, 99);
      ASSERT_FALSE(st) << to_string(final_state) << " -> " << to_string(to);
      EXPECT_EQ(st.error().kind, ErrorKind::conflict);
    }
  }
}

TEST(Payment, EveryIllegalTransitionIsAConflictAndChangesNothing) {
  int illegal = 0;
  for (auto from : kAllPayments) {
    for (auto to : kAllPayments) {
      Payment p = payment_in(from);
      const Payment before = p;
      auto st = advance(p, to, 12345);
      if (legal(from, to)) {
        ASSERT_TRUE(st) << to_string(from) << " -> " << to_string(to);
        EXPECT_EQ(p.status, to);
        EXPECT_EQ(p.history.back(), (StatusChange{to_string(to), 12345}));
        continue;
      }
      ++illegal;
      ASSERT_FALSE(st) << to_string(from) << " -> " << to_string(to) << " should be refused";
      EXPECT_EQ(st.error().kind, ErrorKind::conflict);
      EXPECT_EQ(p.status, before.status);
      EXPECT_EQ(p.history, before.history);
    }
  }
  EXPECT_EQ(illegal, 36 - 5);
}

TEST(Payment, StatusNamesRoundTrip) {
  for (auto s : kAllPayments) {
    auto parsed = parse_payment_status(to_string(s));
    ASSERT_TRUE(parsed) << to_string(s);
    EXPECT_EQ(*parsed, s);
  }
  auto bad = parse_payment_status("pending");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
}

TEST(PaymentId, RoundTripsThroughTheOrderId) {
  for (std::string id : {"o1", "order-123", "a.b_c-d", "pay-nested", "x"}) {
    const auto pid = payment_id_for(id);
    EXPECT_NE(pid, id);
    EXPECT_EQ(order_id_for_payment(pid), id) << pid;
  }
}

TEST(PaymentId, IsNotAnOrderIdWithoutThePrefix) {
  EXPECT_EQ(order_id_for_payment(""), "");
  EXPECT_EQ(order_id_for_payment("pay-"), "");
  EXPECT_EQ(order_id_for_payment("pay"), "");
  EXPECT_EQ(order_id_for_payment("o1"), "");
  EXPECT_EQ(order_id_for_payment("PAY-o1"), "");
  EXPECT_EQ(order_id_for_payment("xpay-o1"), "");
}

}  // namespace
}  // namespace troupe::domain
