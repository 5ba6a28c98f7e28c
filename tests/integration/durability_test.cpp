// Every 2xx is durable: a burst of orders and cancellations across several
// resources, kill -9 right after the last reply, restart on the same data dir,
// and everything acknowledged is there.

#include "server.hpp"

using namespace troupe_it;

namespace {

struct Acked {
  std::string order_id, payment_id, resource;
  long long quantity = 0;     // capacity orders
  std::string start, end;     // calendar orders
  bool cancelled = false;     // cancel acknowledged with 200
};

constexpr int kShows = 4;
constexpr long long kCapacity = 150;
constexpr int kRooms = 2;

std::string show(int i) { return "musical-d" + std::to_string(i); }
std::string room_id(int i) { return "room-d" + std::to_string(i); }

/// A distinct one-night window per (thread, op): never overlaps another.
std::pair<std::string, std::string> window(int thread, int op) {
  // Day index 0..(8*25) from 2031-01-01; each window is day d 14:00 -> d+1 10:00.
  const int day = thread * 25 + op;
  auto fmt = [](int d, int hour) {
    // 2031 is not a leap year; keep it inside the year.
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int m = 0;
    while (d >= mdays[m]) d -= mdays[m++];
    char b[32];
    std::snprintf(b, sizeof b, "2031-%02d-%02dT%02d:00:00Z", m + 1, d + 1, hour);
    return std::string(b);
  };
  return {fmt(day, 14), fmt(day + 1, 10)};
}

}  // namespace

TEST(Durability, AcknowledgedStateSurvivesKill9) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  {
    auto http = server.http();
    for (int i = 0; i < kShows; ++i) ASSERT_TRUE(Register(http, musical(show(i), kCapacity, 1000)));
    for (int i = 0; i < kRooms; ++i) ASSERT_TRUE(Register(http, room(room_id(i))));
  }

  // 8 threads x 25 operations: capacity orders of 1-3 seats, every 5th a room
  // booking, every 7th cancels the thread's previous capacity order.
  constexpr int kThreads = 8, kOps = 25;
  std::mutex mu;
  std::vector<Acked> acked;
  std::vector<std::string> unexpected;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto http = server.http(30);
      std::vector<Acked> mine;
      for (int op = 0; op < kOps; ++op) {
        if (op % 7 == 6 && !mine.empty()) {
          for (auto it = mine.rbegin(); it != mine.rend(); ++it) {
            if (it->quantity == 0 || it->cancelled) continue;
            auto r = http.post_raw("/v1/orders/" + it->order_id + "/cancel", "");
            if (r.status == 200)
              it->cancelled = true;
            else {
              std::lock_guard<std::mutex> l(mu);
              unexpected.push_back(r.describe());
            }
            break;
          }
          continue;
        }
        Acked a;
        json body;
        if (op % 5 == 4) {
          a.resource = room_id(t % kRooms);
          std::tie(a.start, a.end) = window(t, op);
          body = window_order(a.resource, a.start, a.end, "c-" + std::to_string(t));
        } else {
          a.resource = show((t + op) % kShows);
          a.quantity = 1 + (op % 3);
          body = seat_order(a.resource, a.quantity, "c-" + std::to_string(t));
        }
        auto r = http.post("/v1/orders", body);
        if (r.status == 201) {
          auto o = r.body_json();
          a.order_id = str(o, "orderId");
          a.payment_id = str(o, "paymentId");
          mine.push_back(a);
        } else {
          std::lock_guard<std::mutex> l(mu);
          unexpected.push_back(r.describe());
        }
      }
      std::lock_guard<std::mutex> l(mu);
      acked.insert(acked.end(), mine.begin(), mine.end());
    });
  for (auto& th : threads) th.join();

  // One last order, and kill -9 the moment its 201 arrives.
  {
    auto http = server.http();
    auto r = http.post("/v1/orders", seat_order(show(0), 2, "c-last"));
    server.kill9();
    ASSERT_EQ(r.status, 201) << r.describe();
    auto o = r.body_json();
    acked.push_back(Acked{str(o, "orderId"), str(o, "paymentId"), show(0), 2, "", "", false});
  }
  for (const auto& u : unexpected) ADD_FAILURE() << "request in the burst failed: " << u;
  ASSERT_GT(acked.size(), 150u);

  ASSERT_EQ(server.restart(), "") << "restart on the same data dir";
  auto http = server.http();

  std::map<std::string, long long> held;
  std::set<std::string> expected_bookings[kRooms];
  for (const auto& a : acked) {
    SCOPED_TRACE("order " + a.order_id + " on " + a.resource);
    auto g = http.get("/v1/orders/" + a.order_id);
    ASSERT_EQ(g.status, 200) << "acknowledged order lost: " << g.describe();
    auto o = g.body_json();
    EXPECT_EQ(str(o, "status"), a.cancelled ? "cancelled" : "confirmed") << g.describe();
    EXPECT_EQ(str(o, "resourceId"), a.resource);
    EXPECT_EQ(str(o, "paymentId"), a.payment_id);
    if (a.quantity > 0) {
      EXPECT_EQ(o.value("quantity", -1LL), a.quantity);
      if (!a.cancelled) held[a.resource] += a.quantity;
    } else {
      EXPECT_EQ(str(o, "start"), a.start);
      EXPECT_EQ(str(o, "end"), a.end);
      if (!a.cancelled)
        expected_bookings[a.resource == room_id(0) ? 0 : 1].insert(a.order_id + " " + a.start +
                                                                   " " + a.end);
    }
    auto p = http.get("/v1/payments/" + a.payment_id);
    ASSERT_EQ(p.status, 200) << p.describe();
    EXPECT_EQ(str(p.body_json(), "status"), a.cancelled ? "refunded" : "captured") << p.describe();
  }
  for (int i = 0; i < kShows; ++i)
    EXPECT_EQ(available(http, show(i)), kCapacity - held[show(i)]) << show(i);
  for (int i = 0; i < kRooms; ++i) {
    auto j = get_resource(http, room_id(i));
    ASSERT_TRUE(j.is_object() && j.contains("bookings")) << room_id(i);
    std::set<std::string> got;
    for (const auto& b : j["bookings"])
      got.insert(str(b, "orderId") + " " + str(b, "start") + " " + str(b, "end"));
    EXPECT_EQ(got, expected_bookings[i]) << room_id(i);
  }

  // The restored server keeps working on the restored state.
  auto more = http.post("/v1/orders", seat_order(show(1), 1, "c-after"));
  EXPECT_EQ(more.status, 201) << more.describe();
  EXPECT_EQ(available(http, show(1)), kCapacity - held[show(1)] - 1);
}

TEST(Durability, RegistrationSurvivesKill9) {
  TroupeServer server(fast_payments());
  ASSERT_EQ(server.start(), "");
  {
    auto http = server.http();
    auto r = http.post("/v1/resources", musical("musical-k", 33, 10));
    server.kill9();
    ASSERT_EQ(r.status, 201) << r.describe();
  }
  ASSERT_EQ(server.restart(), "");
  auto http = server.http();
  auto j = get_resource(http, "musical-k");
  ASSERT_TRUE(j.is_object()) << "registered resource lost after kill -9";
  EXPECT_EQ(j.value("capacity", -1LL), 33);
  EXPECT_EQ(j.value("available", -1LL), 33);
  // Same content again is still idempotent, different content still 409.
  EXPECT_EQ(http.post("/v1/resources", musical("musical-k", 33, 10)).status, 200);
  EXPECT_TRUE(IsProblem(http.post("/v1/resources", musical("musical-k", 34, 10)), 409));
}
