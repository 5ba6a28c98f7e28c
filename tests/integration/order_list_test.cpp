// GET /v1/orders?customerId=…[&status=…][&limit=…][&cursor=…] against the
// real binary: built from the customer's page rows (eventually consistent:
// every test first waits, bounded, until the subscribers caught up), oldest
// order first, paginated with an opaque cursor like /v1/resources.

#include <functional>
#include <set>
#include <thread>

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

/// Walks every page of `query` (without cursor) and returns the items in
/// order; fails on a page over `limit` items or a walk that does not end.
std::vector<json> walk(Http& http, const std::string& query, size_t limit, int* pages = nullptr) {
  std::vector<json> out;
  std::string cursor;
  for (int page = 0;; ++page) {
    if (page > 50) {
      ADD_FAILURE() << "pagination does not terminate: " << query;
      break;
    }
    std::string path = "/v1/orders?" + query + "&limit=" + std::to_string(limit);
    if (!cursor.empty()) path += "&cursor=" + url_encode(cursor);
    auto r = http.get(path);
    if (r.status != 200) {
      ADD_FAILURE() << r.describe();
      break;
    }
    auto j = r.body_json();
    if (!j.is_object() || !j.contains("items") || !j["items"].is_array() ||
        !j.contains("nextCursor")) {
      ADD_FAILURE() << "not a list: " << r.describe();
      break;
    }
    EXPECT_LE(j["items"].size(), limit) << r.describe();
    for (const auto& item : j["items"]) out.push_back(item);
    if (pages) *pages = page + 1;
    if (j["nextCursor"].is_null()) break;
    if (!j["nextCursor"].is_string() || j["nextCursor"].get<std::string>().empty()) {
      ADD_FAILURE() << "nextCursor must be a string or null: " << r.describe();
      break;
    }
    EXPECT_FALSE(j["items"].empty()) << "a page with a next cursor has items: " << r.describe();
    cursor = j["nextCursor"].get<std::string>();
  }
  return out;
}

std::vector<std::string> ids(const std::vector<json>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(str(i, "orderId"));
  return out;
}

class OrderList : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(server_.start(), "");
    http_ = std::make_unique<Http>(server_.port());
    ASSERT_TRUE(Register(*http_, musical("show-1", 20)));
    // Five orders of lee, oldest first; one cancelled, one refused (409: no
    // order at all); two of someone else in between.
    for (int i = 0; i < 5; ++i) {
      auto r = http_->post("/v1/orders", seat_order("show-1", 1 + i % 2, "lee"));
      ASSERT_EQ(r.status, 201) << r.describe();
      lee_.push_back(str(r.body_json(), "orderId"));
      if (i == 1 || i == 3) {
        auto o = http_->post("/v1/orders", seat_order("show-1", 1, "max"));
        ASSERT_EQ(o.status, 201) << o.describe();
      }
    }
    ASSERT_TRUE(IsProblem(http_->post("/v1/orders", seat_order("show-1", 50, "lee")), 409));
    ASSERT_EQ(http_->post_raw("/v1/orders/" + lee_[2] + "/cancel", "").status, 200);
    ASSERT_TRUE(ViewsCaughtUp(*http_));
  }

  TroupeServer server_{fast_payments()};
  std::unique_ptr<Http> http_;
  std::vector<std::string> lee_;  ///< in creation order
};

}  // namespace

TEST_F(OrderList, PaginationWalksEveryOrderOnceOldestFirst) {
  int pages = 0;
  auto items = walk(*http_, "customerId=lee", 2, &pages);
  EXPECT_EQ(ids(items), lee_) << "every order once, oldest first";
  EXPECT_EQ(pages, 3) << "5 orders at limit=2";
  for (const auto& item : items) {
    EXPECT_EQ(str(item, "customerId"), "lee") << item.dump();
    EXPECT_EQ(str(item, "resourceId"), "show-1") << item.dump();
    EXPECT_FALSE(str(item, "status").empty()) << item.dump();
    EXPECT_TRUE(item.contains("amount") && item["amount"].is_number_integer()) << item.dump();
    EXPECT_TRUE(item.contains("history") && item["history"].is_array()) << item.dump();
    EXPECT_TRUE(item.contains("payment") && item["payment"].is_object()) << item.dump();
  }
  // The same orders as the customer's page shows.
  auto page = http_->get("/v1/customers/lee/mypage").body_json();
  ASSERT_TRUE(page.contains("orders")) << page.dump();
  std::vector<std::string> mypage;
  for (const auto& o : page["orders"]) mypage.push_back(str(o, "orderId"));
  EXPECT_EQ(mypage, lee_);

  // One page with everything: no next cursor. limit=1: five pages.
  auto all = http_->get("/v1/orders?customerId=lee");
  ASSERT_EQ(all.status, 200) << all.describe();
  EXPECT_EQ(all.body_json()["items"].size(), 5u);
  EXPECT_TRUE(all.body_json()["nextCursor"].is_null()) << all.describe();
  EXPECT_EQ(ids(walk(*http_, "customerId=lee", 1, &pages)), lee_);
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(ids(walk(*http_, "customerId=lee", 5, &pages)), lee_);
  EXPECT_EQ(pages, 1) << "exactly limit items left: no empty last page";

  // A cursor stays valid while new orders come: they come after it.
  auto first = http_->get("/v1/orders?customerId=lee&limit=2").body_json();
  const auto cursor = first["nextCursor"].get<std::string>();
  auto r = http_->post("/v1/orders", seat_order("show-1", 1, "lee"));
  ASSERT_EQ(r.status, 201) << r.describe();
  ASSERT_TRUE(ViewsCaughtUp(*http_));
  std::vector<std::string> rest;
  std::string c = cursor;
  while (!c.empty()) {
    auto p = http_->get("/v1/orders?customerId=lee&limit=2&cursor=" + url_encode(c)).body_json();
    for (const auto& i : p["items"]) rest.push_back(str(i, "orderId"));
    c = p["nextCursor"].is_string() ? p["nextCursor"].get<std::string>() : "";
  }
  std::vector<std::string> expected(lee_.begin() + 2, lee_.end());
  expected.push_back(str(r.body_json(), "orderId"));
  EXPECT_EQ(rest, expected);
}

TEST_F(OrderList, FiltersOnTheCurrentStatus) {
  auto cancelled = walk(*http_, "customerId=lee&status=cancelled", 2);
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(str(cancelled[0], "orderId"), lee_[2]);
  EXPECT_EQ(str(cancelled[0], "status"), "cancelled");

  int pages = 0;
  auto confirmed = walk(*http_, "customerId=lee&status=confirmed", 1, &pages);
  EXPECT_EQ(ids(confirmed), (std::vector<std::string>{lee_[0], lee_[1], lee_[3], lee_[4]}));
  EXPECT_EQ(pages, 4);
  for (const auto& o : confirmed) EXPECT_EQ(str(o, "status"), "confirmed") << o.dump();

  auto none = http_->get("/v1/orders?customerId=lee&status=rejected");
  ASSERT_EQ(none.status, 200) << none.describe();
  EXPECT_EQ(none.body_json(), json({{"items", json::array()}, {"nextCursor", nullptr}}));

  // Someone else's orders are not lee's.
  EXPECT_EQ(walk(*http_, "customerId=max", 10).size(), 2u);
}

TEST_F(OrderList, UnknownCustomerIsAnEmptyList) {
  auto r = http_->get("/v1/orders?customerId=nobody");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u) << r.describe();
  EXPECT_EQ(r.body_json(), json({{"items", json::array()}, {"nextCursor", nullptr}}));
}

TEST_F(OrderList, BadQueriesAre400) {
  const auto first = http_->get("/v1/orders?customerId=lee&limit=2").body_json();
  ASSERT_TRUE(first["nextCursor"].is_string()) << first.dump();
  const std::string good_cursor = first["nextCursor"].get<std::string>();
  const auto resources = http_->get("/v1/resources?limit=1").body_json();
  ASSERT_TRUE(resources["nextCursor"].is_string() || resources["nextCursor"].is_null());

  for (const std::string& q : {
           std::string(""),                              // no customerId
           std::string("status=confirmed"),              // still none
           std::string("customerId="),                   // empty
           std::string("customerId=a%20b"),              // not an id
           std::string("customerId=") + std::string(129, 'x'),
           std::string("customerId=lee&limit=0"),
           std::string("customerId=lee&limit=501"),
           std::string("customerId=lee&limit=-1"),
           std::string("customerId=lee&limit=abc"),
           std::string("customerId=lee&limit=2x"),
           std::string("customerId=lee&limit=+2"),
           std::string("customerId=lee&limit="),
           std::string("customerId=lee&cursor=zz"),
           std::string("customerId=lee&cursor=abc"),     // odd length
           std::string("customerId=lee&cursor="),        // empty
           std::string("customerId=lee&cursor=") + "73686f772d31",  // hex of "show-1": a resource cursor
           std::string("customerId=lee&cursor=") + good_cursor + "00",
           std::string("customerId=lee&status=a%20b"),
       }) {
    SCOPED_TRACE(q);
    EXPECT_TRUE(IsProblem(http_->get("/v1/orders?" + q), 400));
  }
  // The limits themselves are fine.
  EXPECT_EQ(http_->get("/v1/orders?customerId=lee&limit=1").status, 200);
  EXPECT_EQ(http_->get("/v1/orders?customerId=lee&limit=500").status, 200);
  EXPECT_EQ(http_->get("/v1/orders?customerId=lee&cursor=" + good_cursor).status, 200);

  // Methods: GET and POST are served, the rest is 405 with both in Allow.
  for (const char* method : {"PUT", "DELETE", "PATCH"}) {
    auto r = http_->send(method, "/v1/orders", "{}");
    EXPECT_TRUE(IsProblem(r, 405)) << method;
    EXPECT_NE(r.header("Allow").find("GET"), std::string::npos) << r.describe();
    EXPECT_NE(r.header("Allow").find("POST"), std::string::npos) << r.describe();
  }
}
