// The stored form of orders (domain/order_codec.hpp) and its tab fields.
#include "domain/order_codec.hpp"

#include <gtest/gtest.h>

#include "domain/fields.hpp"
#include "domain/json.hpp"

#include <nlohmann/json.hpp>

namespace troupe::domain {
namespace {

Order full_order() {
  Order o = place("o-1a-7", "room\t42", "cust\\x", Mode::calendar, 1795000000000);
  o.phase = OrderPhase::cancelled;
  o.amount = 123456789012;
  o.quantity = 0;
  o.start = 1795000000000;
  o.end = 1795086400000;
  o.reason = "line one\nline two";
  o.step = "checked_in";
  o.destination = "Gangnam, 12\tB";
  o.rider_id = "rider-7";
  o.history.push_back({"held", 1795000000001});
  o.history.push_back({"cancelled", 1795000000009});
  o.payment.id = payment_id_for(o.id);
  o.payment.order_id = o.id;
  o.payment.amount = o.amount;
  o.payment.status = PaymentStatus::refunded;
  o.payment.history = {{"authorized", 1795000000002}, {"captured", 1795000000003},
                       {"refunded", 1795000000010}};
  return o;
}

void expect_same(const Order& a, const Order& b) {
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
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.destination, b.destination);
  EXPECT_EQ(a.rider_id, b.rider_id);
  EXPECT_EQ(a.history, b.history);
  EXPECT_EQ(a.payment.id, b.payment.id);
  EXPECT_EQ(a.payment.order_id, b.payment.order_id);
  EXPECT_EQ(a.payment.amount, b.payment.amount);
  EXPECT_EQ(a.payment.status, b.payment.status);
  EXPECT_EQ(a.payment.history, b.payment.history);
}

TEST(OrderRecord, RoundTripsEveryFieldWithSeparatorsInside) {
  const Order o = full_order();
  const auto stored = encode_order_record(o);
  EXPECT_EQ(stored.find('\n'), std::string::npos);
  EXPECT_LT(stored.size() * 2, to_json(o).dump().size()) << "less than half the JSON";
  auto back = decode_order_record(stored);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  expect_same(o, *back);
}

TEST(OrderRecord, ReadsTheJsonOfOlderStores) {
  const Order o = full_order();
  auto back = decode_order_record(to_json(o).dump());
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->id, o.id);
  EXPECT_EQ(back->payment.history, o.payment.history);
}

TEST(OrderRecord, RefusesTruncatedOrAlteredRecords) {
  const auto stored = encode_order_record(full_order());
  EXPECT_FALSE(decode_order_record("").ok());
  EXPECT_FALSE(decode_order_record("{").ok());
  EXPECT_FALSE(decode_order_record("O2" + stored.substr(2)).ok());
  // (A number cut short is still a number: the stores' own checksums catch
  // torn writes; this codec catches missing and extra fields.)
  for (size_t cut : {size_t{3}, stored.size() / 2, stored.rfind('\t')})
    EXPECT_FALSE(decode_order_record(stored.substr(0, cut)).ok()) << "cut at " << cut;
  EXPECT_FALSE(decode_order_record(stored + "\textra").ok());
  auto bad_phase = stored;
  bad_phase.replace(bad_phase.find("cancelled"), 9, "vanished!");
  EXPECT_FALSE(decode_order_record(bad_phase).ok());
}

TEST(Fields, NumbersAreCheckedNotAssumed) {
  fields::Reader r("T\t12\t-3\tx1\t");
  EXPECT_EQ(r.text(), "T");
  EXPECT_EQ(r.number(), 12);
  EXPECT_EQ(r.number(), -3);
  EXPECT_TRUE(r.ok());
  r.number();
  EXPECT_FALSE(r.ok());
  fields::Reader empty("T\t");
  empty.text();
  empty.number();
  EXPECT_FALSE(empty.ok()) << "an empty field is not a number";
  fields::Reader past("T");
  past.text();
  past.text();
  EXPECT_FALSE(past.ok()) << "reading past the end";
}

TEST(Fields, EscapedTabsNewlinesAndBackslashesComeBackAsWritten) {
  const std::string odd[] = {"", "plain", "a\tb", "tab\there", "line\nnext", "back\\slash",
                             "\\", "ends with \\", "\t\t", "mixed \\t\t\n"};
  fields::Writer w("T");
  for (const auto& v : odd) w.add(v);
  const std::string line = w.take();
  fields::Reader r(line);
  EXPECT_EQ(r.size(), 1 + std::size(odd));
  EXPECT_EQ(r.text(), "T");
  for (const auto& v : odd) EXPECT_EQ(r.text(), v);
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.ok());
  // Not written by a Writer: a backslash before a raw tab keeps the tab in the
  // field, and a last lone backslash stands for itself.
  fields::Reader lone("a\\\tb\tc\\");
  EXPECT_EQ(lone.size(), 2u);
  EXPECT_EQ(lone.text(), "a\tb") << "the backslash is dropped, the tab kept";
  EXPECT_EQ(lone.text(), "c\\");
}

TEST(Fields, AWriterCanContinueALineItIsHanded) {
  std::string rows = fields::Writer("R1").add("o-1").take();
  rows.push_back('\n');
  rows = fields::Writer(std::move(rows), "7").add("a\tb").add(42).take();
  EXPECT_EQ(rows, "R1\to-1\n7\ta\\tb\t42");
  const std::string second = rows.substr(rows.find('\n') + 1);
  fields::Reader r(second);
  EXPECT_EQ(r.text(), "7");
  EXPECT_EQ(r.text(), "a\tb");
  EXPECT_EQ(r.number(), 42);
  EXPECT_TRUE(r.at_end() && r.ok());
}

}  // namespace
}  // namespace troupe::domain
