// Hotel rooms end to end against the real binary: calendar bookings, overlap
// refusal, adjacent windows, cancellation freeing the window; check-in (no
// cancel afterwards), check-out freeing the room, a notification per status
// change, the room's status in its report view.

#include <set>

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

/// The room's active bookings as "orderId start end" strings.
std::set<std::string> bookings(Http& http, const std::string& id) {
  std::set<std::string> out;
  auto r = http.get("/v1/resources/" + id);
  auto j = r.body_json();
  if (r.status != 200 || !j.is_object() || !j.contains("bookings") || !j["bookings"].is_array()) {
    ADD_FAILURE() << "cannot read bookings of " << id << ": " << r.describe();
    return out;
  }
  for (const auto& b : j["bookings"])
    out.insert(str(b, "orderId") + " " + str(b, "start") + " " + str(b, "end"));
  return out;
}

}  // namespace

TEST(HotelFlow, BookOverlapAdjacentCancelRebook) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();

  auto reg = http.post("/v1/resources", room("room-101"));
  ASSERT_EQ(reg.status, 201) << reg.describe();
  auto rj = reg.body_json();
  EXPECT_EQ(str(rj, "mode"), "calendar") << rj.dump();
  EXPECT_EQ(str(rj, "priceUnit"), "night") << rj.dump();
  EXPECT_EQ(rj.value("price", -1LL), 12000);
  EXPECT_TRUE(rj.contains("bookings") && rj["bookings"] == json::array()) << rj.dump();
  EXPECT_EQ(http.post("/v1/resources", room("room-101")).status, 200);

  // 14:00 to 10:00 two days later: 44 h, billed as 2 nights.
  const std::string s1 = "2030-05-01T14:00:00Z", e1 = "2030-05-03T10:00:00Z";
  auto b1 = http.post("/v1/orders", window_order("room-101", s1, e1));
  ASSERT_EQ(b1.status, 201) << b1.describe();
  auto o1 = b1.body_json();
  const auto id1 = str(o1, "orderId");
  ASSERT_FALSE(id1.empty());
  EXPECT_EQ(b1.header("Location"), "/v1/orders/" + id1);
  EXPECT_EQ(str(o1, "status"), "confirmed");
  EXPECT_EQ(o1.value("amount", -1LL), 2 * 12000) << o1.dump();
  EXPECT_EQ(str(o1, "start"), s1);
  EXPECT_EQ(str(o1, "end"), e1);
  EXPECT_EQ(str(o1.value("payment", json::object()), "status"), "captured") << o1.dump();
  EXPECT_EQ(bookings(http, "room-101"), (std::set<std::string>{id1 + " " + s1 + " " + e1}));

  // Overlaps of every shape are refused and change nothing.
  struct Window {
    std::string start, end, what;
  };
  for (const Window& w : std::vector<Window>{Window{"2030-05-02T00:00:00Z", "2030-05-04T00:00:00Z", "tail overlap"},
                          Window{"2030-04-30T12:00:00Z", "2030-05-01T15:00:00Z", "head overlap"},
                          Window{"2030-05-01T20:00:00Z", "2030-05-02T08:00:00Z", "inside"},
                          Window{"2030-04-01T00:00:00Z", "2030-06-01T00:00:00Z", "enclosing"},
                          Window{s1, e1, "identical"},
                          Window{"2030-05-03T09:59:59Z", "2030-05-04T10:00:00Z", "one second"}}) {
    SCOPED_TRACE(w.what);
    EXPECT_TRUE(IsProblem(http.post("/v1/orders", window_order("room-101", w.start, w.end, "c-7")),
                          409));
  }
  EXPECT_EQ(bookings(http, "room-101").size(), 1u);

  // Adjacent: starts exactly where the first ends (half-open windows).
  const std::string s2 = e1, e2 = "2030-05-04T10:00:00Z";
  auto b2 = http.post("/v1/orders", window_order("room-101", s2, e2, "c-7"));
  ASSERT_EQ(b2.status, 201) << b2.describe();
  const auto id2 = str(b2.body_json(), "orderId");
  EXPECT_EQ(b2.body_json().value("amount", -1LL), 12000);
  // And one that ends exactly where the first starts.
  auto b0 = http.post("/v1/orders",
                      window_order("room-101", "2030-04-30T14:00:00Z", s1, "c-8"));
  ASSERT_EQ(b0.status, 201) << b0.describe();
  const auto id0 = str(b0.body_json(), "orderId");
  EXPECT_EQ(bookings(http, "room-101").size(), 3u);

  // Cancel the first: refunded, the window is free again.
  auto c = http.post_raw("/v1/orders/" + id1 + "/cancel", "");
  ASSERT_EQ(c.status, 200) << c.describe();
  EXPECT_EQ(str(c.body_json(), "status"), "cancelled");
  EXPECT_EQ(str(c.body_json().value("payment", json::object()), "status"), "refunded");
  auto p1 = http.get("/v1/payments/" + str(o1, "paymentId"));
  EXPECT_EQ(str(p1.body_json(), "status"), "refunded") << p1.describe();
  auto after = bookings(http, "room-101");
  EXPECT_EQ(after.size(), 2u);
  for (const auto& b : after) EXPECT_EQ(b.find(id1), std::string::npos) << "cancelled still booked";
  EXPECT_TRUE(IsProblem(http.post_raw("/v1/orders/" + id1 + "/cancel", ""), 409));

  auto again = http.post("/v1/orders", window_order("room-101", s1, e1, "c-9"));
  ASSERT_EQ(again.status, 201) << again.describe();
  const auto id3 = str(again.body_json(), "orderId");
  EXPECT_NE(id3, id1);
  EXPECT_EQ(bookings(http, "room-101"),
            (std::set<std::string>{id0 + " 2030-04-30T14:00:00Z " + s1, id3 + " " + s1 + " " + e1,
                                   id2 + " " + s2 + " " + e2}));

  // Unknown room: 404, nothing created.
  EXPECT_TRUE(IsProblem(http.post("/v1/orders", window_order("room-404", s1, e1)), 404));
}

TEST(HotelFlow, ConcurrentSameWindowOnlyOneWins) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  {
    auto http = server.http();
    ASSERT_TRUE(Register(http, room("room-7")));
  }
  constexpr int kClients = 40;
  std::vector<Reply> replies(kClients);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kClients; ++i)
    threads.emplace_back([&, i] {
      auto http = server.http(30);
      while (!go.load()) std::this_thread::yield();
      replies[i] = http.post("/v1/orders", window_order("room-7", "2030-07-01T14:00:00Z",
                                                        "2030-07-02T10:00:00Z",
                                                        "c-" + std::to_string(i)));
    });
  go = true;
  for (auto& t : threads) t.join();
  int created = 0, refused = 0;
  for (const auto& r : replies) {
    if (r.status == 201)
      ++created;
    else if (r.status == 409)
      ++refused;
    else
      ADD_FAILURE() << "unexpected: " << r.describe();
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(refused, kClients - 1);
  auto http = server.http();
  EXPECT_EQ(bookings(http, "room-7").size(), 1u);
}

// Mission domain 5: a manager registers rooms; a reservation makes the room
// unavailable; payment confirms it; the guest checks in (no cancel from
// then on); the manager checks the guest out and the room is available
// again; another reservation is cancelled; every status change notifies; the
// room's status shows in its report view.
TEST(HotelFlow, CheckInCheckOutFreesTheRoomNotifiesAndShowsInTheReport) {
  TroupeServer server(fast_payments_with_faults());
  ASSERT_EQ(server.start(), "");
  auto http = server.http();
  auto reg = http.post("/v1/resources", room("room-201"));
  ASSERT_EQ(reg.status, 201) << reg.describe();
  EXPECT_EQ(jfield(reg.body_json(), "steps"), (json{"checked_in", "checked_out"})) << reg.describe();
  ASSERT_TRUE(Register(http, room("room-202")));
  const std::string me = "c-guest";
  const std::string s1 = "2030-08-01T15:00:00Z", e1 = "2030-08-04T11:00:00Z";

  // A: three nights; the room is then unavailable for that window.
  auto ra = http.post("/v1/orders", window_order("room-201", s1, e1, me));
  ASSERT_EQ(ra.status, 201) << ra.describe();
  const auto a = str(ra.body_json(), "orderId");
  EXPECT_EQ(str(ra.body_json(), "status"), "confirmed") << ra.describe();
  EXPECT_EQ(jnum(ra.body_json(), "amount"), 3 * 12000) << ra.describe();
  EXPECT_TRUE(IsProblem(http.post("/v1/orders", window_order("room-201", "2030-08-02T15:00:00Z",
                                                             "2030-08-03T11:00:00Z", "c-other")),
                        409));
  // The other room is still free for it.
  auto rother = http.post("/v1/orders", window_order("room-202", s1, e1, "c-other"));
  ASSERT_EQ(rother.status, 201) << rother.describe();

  EXPECT_TRUE(IsProblem(step(http, a, "checked_out"), 409)) << "out before in";
  EXPECT_TRUE(IsProblem(step(http, a, "picked_up"), 400)) << "not a room step";

  // Check-in: from now on the stay cannot be cancelled.
  ASSERT_TRUE(Step(http, a, "checked_in"));
  EXPECT_TRUE(IsProblem(cancel(http, a), 409)) << "cancel after check-in";
  EXPECT_EQ(str(order_of(http, a), "status"), "checked_in");
  EXPECT_EQ(str(jfield(order_of(http, a), "payment"), "status"), "captured");
  EXPECT_EQ(calendar_bookings(http, "room-201"), (std::set<std::string>{a + " " + s1 + " " + e1}));
  EXPECT_TRUE(IsProblem(step(http, a, "checked_in"), 409)) << "checked in twice";
  // The room's status shows in its read view.
  json rep;
  EXPECT_TRUE(eventually([&] {
    rep = get_json(http, "/v1/resources/room-201/report");
    return str(entry_of(jfield(rep, "orders"), a), "status") == "checked_in";
  })) << rep.dump();

  // The manager checks the guest out (a night early): the room is available.
  ASSERT_TRUE(Step(http, a, "checked_out"));
  EXPECT_EQ(str(order_of(http, a), "status"), "checked_out");
  EXPECT_EQ(calendar_bookings(http, "room-201"), std::set<std::string>{});
  EXPECT_TRUE(IsProblem(step(http, a, "checked_out"), 409)) << "checked out twice";
  EXPECT_TRUE(IsProblem(cancel(http, a), 409)) << "cancel after check-out";
  auto rnext = http.post("/v1/orders", window_order("room-201", "2030-08-03T15:00:00Z",
                                                    "2030-08-04T11:00:00Z", "c-next"));
  ASSERT_EQ(rnext.status, 201) << "the checked-out room is available again: " << rnext.describe();
  const auto next = str(rnext.body_json(), "orderId");

  // B: booked and cancelled (refunded, the window free again).
  auto rb = http.post("/v1/orders", window_order("room-201", "2030-09-01T15:00:00Z",
                                                 "2030-09-02T11:00:00Z", me));
  ASSERT_EQ(rb.status, 201) << rb.describe();
  const auto b = str(rb.body_json(), "orderId");
  auto cb = cancel(http, b);
  ASSERT_EQ(cb.status, 200) << cb.describe();
  EXPECT_EQ(str(jfield(cb.body_json(), "payment"), "status"), "refunded") << cb.describe();
  EXPECT_EQ(calendar_bookings(http, "room-201").size(), 1u);
  // D: payment declined: no reservation.
  ASSERT_TRUE(Fault(http, {{"payment", {{"failureRate", 1.0}}}}));
  auto rd = http.post("/v1/orders", window_order("room-201", "2030-09-01T15:00:00Z",
                                                 "2030-09-02T11:00:00Z", me));
  ASSERT_TRUE(IsProblem(rd, 402));
  const auto d = str(rd.body_json(), "orderId");
  ASSERT_TRUE(Fault(http, {{"clear", true}}));
  EXPECT_EQ(calendar_bookings(http, "room-201").size(), 1u);

  // ---- views: one notification per status change.
  ASSERT_TRUE(ViewsCaughtUp(http));
  auto notes = notifications_of(http, me);
  expect_distinct_event_ids(notes);
  EXPECT_EQ(kinds_of(notes, a),
            (std::vector<std::string>{"booking-confirmed", "status-checked_in", "status-checked_out"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, b), (std::vector<std::string>{"booking-confirmed", "booking-cancelled"}))
      << notes.dump();
  EXPECT_EQ(kinds_of(notes, d), (std::vector<std::string>{"booking-rejected"})) << notes.dump();
  EXPECT_EQ(notes.size(), 6u) << notes.dump();
  EXPECT_NE(str(note_of(notes, a, "status-checked_in"), "message").find("checked_in"),
            std::string::npos)
      << notes.dump();

  auto page = mypage_of(http, me);
  ASSERT_EQ(jsize(page, "orders"), 3u) << page.dump();
  for (const auto& id : {a, b, d}) {
    SCOPED_TRACE("mypage order " + id);
    auto po = entry_of(page["orders"], id);
    auto o = order_of(http, id);
    EXPECT_EQ(str(po, "status"), str(o, "status")) << po.dump();
    EXPECT_EQ(statuses_of(jfield(po, "history")), order_history_without_paid(o)) << po.dump();
  }
  EXPECT_EQ(statuses_of(jfield(entry_of(page["orders"], a), "history")),
            (std::vector<std::string>{"placed", "held", "confirmed", "checked_in", "checked_out"}))
      << page.dump();

  rep = report_of(http, "room-201");
  EXPECT_EQ(str(entry_of(rep["orders"], a), "status"), "checked_out") << rep.dump();
  EXPECT_EQ(jfield(entry_of(rep["orders"], a), "settled"), true) << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], next), "status"), "confirmed") << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], b), "status"), "cancelled") << rep.dump();
  EXPECT_EQ(str(entry_of(rep["orders"], d), "status"), "rejected") << rep.dump();
  EXPECT_EQ(jnum(rep, "revenue"), 3 * 12000 + 12000) << rep.dump();
  auto rep2 = report_of(http, "room-202");
  EXPECT_EQ(jsize(rep2, "orders"), 1u) << rep2.dump();

  json rec;
  ASSERT_TRUE(Balanced(http, rec));
  EXPECT_EQ(jnum(rec, "confirmedAmount"), 3 * 12000 + 12000 + 3 * 12000) << rec.dump();
}
