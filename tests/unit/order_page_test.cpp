// views::order_page: GET /v1/orders?customerId=… built from mypage rows.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "views/projections.hpp"

namespace troupe::views {
namespace {

using domain::Event;

Event ev(std::uint64_t seq, const std::string& type, const std::string& order,
         const std::string& status, const std::string& customer = "alice") {
  Event e;
  e.seq = seq;
  e.type = type;
  e.order_id = order;
  e.resource_id = "show-1";
  e.customer_id = customer;
  e.at = 1'700'000'000'000 + static_cast<domain::Timestamp>(seq);
  e.status = status;
  e.amount = 1000;
  e.payment_id = "pay-" + order;
  return e;
}

std::vector<persistence::Record> mypage_rows(const std::vector<Event>& events,
                                             const std::string& customer) {
  std::map<std::string, std::string> rows;
  for (const auto& e : events)
    for (const auto& w : project("mypage", e))
      if (w.key.rfind(mypage_group(customer) + "/", 0) == 0) rows[w.key] = w.value;
  std::vector<persistence::Record> out;
  for (const auto& kv : rows) out.push_back({kv.first, kv.second});
  return out;
}

/// o-z placed first, then o-a (ids sort the other way), o-m of bob in
/// between, o-c rejected, o-z cancelled last.
std::vector<Event> story() {
  return {ev(1, "OrderPlaced", "o-z", "held"),      ev(2, "OrderPlaced", "o-a", "held"),
          ev(3, "OrderPlaced", "o-m", "held", "bob"), ev(4, "OrderConfirmed", "o-z", "confirmed"),
          ev(5, "OrderConfirmed", "o-a", "confirmed"), ev(6, "OrderPlaced", "o-c", "held"),
          ev(7, "OrderRejected", "o-c", "rejected"), ev(8, "OrderCancelled", "o-z", "cancelled")};
}

std::vector<std::string> ids(const nlohmann::json& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.value("orderId", ""));
  return out;
}

TEST(OrderPage, OldestFirstByFirstEventNotById) {
  auto rows = mypage_rows(story(), "alice");
  auto p = order_page("alice", rows, "", 0, 50);
  EXPECT_EQ(ids(p.items), (std::vector<std::string>{"o-z", "o-a", "o-c"}));
  EXPECT_EQ(p.next, 0u);
  EXPECT_EQ(p.items[0]["status"], "cancelled") << "the current status";
  EXPECT_EQ(p.items[0]["customerId"], "alice");
  EXPECT_EQ(p.items[2]["status"], "rejected");
}

TEST(OrderPage, PagesWithAfterAndLimit) {
  auto rows = mypage_rows(story(), "alice");
  auto p1 = order_page("alice", rows, "", 0, 2);
  EXPECT_EQ(ids(p1.items), (std::vector<std::string>{"o-z", "o-a"}));
  EXPECT_EQ(p1.next, 2u) << "the first event id of o-a";
  auto p2 = order_page("alice", rows, "", p1.next, 2);
  EXPECT_EQ(ids(p2.items), (std::vector<std::string>{"o-c"}));
  EXPECT_EQ(p2.next, 0u);
  // Exactly `limit` left: no next page.
  auto all = order_page("alice", rows, "", 0, 3);
  EXPECT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.next, 0u);
  // Past the end.
  EXPECT_TRUE(order_page("alice", rows, "", 6, 2).items.empty());
}

TEST(OrderPage, StatusFilterAppliesBeforePaging) {
  auto rows = mypage_rows(story(), "alice");
  auto c = order_page("alice", rows, "confirmed", 0, 1);
  EXPECT_EQ(ids(c.items), (std::vector<std::string>{"o-a"}));
  EXPECT_EQ(c.next, 0u) << "no other confirmed order";
  EXPECT_EQ(ids(order_page("alice", rows, "cancelled", 0, 10).items),
            (std::vector<std::string>{"o-z"}));
  EXPECT_TRUE(order_page("alice", rows, "held", 0, 10).items.empty());
  EXPECT_TRUE(order_page("alice", rows, "no-such", 0, 10).items.is_array());
}

TEST(OrderPage, OtherCustomersAndNoRows) {
  auto bob = order_page("bob", mypage_rows(story(), "bob"), "", 0, 10);
  EXPECT_EQ(ids(bob.items), (std::vector<std::string>{"o-m"}));
  auto none = order_page("carol", {}, "", 0, 10);
  EXPECT_TRUE(none.items.is_array());
  EXPECT_TRUE(none.items.empty());
  EXPECT_EQ(none.next, 0u);
}

TEST(OrderPage, ADeliveryCallsConfirmationIsCalledInItsHistory) {
  auto rows = mypage_rows(
      {ev(1, "OrderPlaced", "o-d", "held"), ev(2, "OrderConfirmed", "o-d", "called")}, "alice");
  auto p = order_page("alice", rows, "called", 0, 10);
  ASSERT_EQ(p.items.size(), 1u);
  const auto& h = p.items[0]["history"];
  ASSERT_EQ(h.size(), 2u) << h.dump();
  EXPECT_EQ(h[1]["status"], "called") << h.dump();
  // A booking's confirmation stays "confirmed".
  auto b = order_page("alice", mypage_rows({ev(1, "OrderConfirmed", "o-b", "confirmed")}, "alice"),
                      "", 0, 10);
  EXPECT_EQ(b.items[0]["history"][0]["status"], "confirmed");
}

}  // namespace
}  // namespace troupe::views
