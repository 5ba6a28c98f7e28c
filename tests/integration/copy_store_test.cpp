// troupe copy-store with the real binary: bookings made on one store are
// served the same from its copy in a fresh Redis (or data dir), new orders
// go on from there, a non-empty target is refused, and a store an
// interrupted copy left is not served.

#include "flow_support.hpp"

using namespace troupe_it;

namespace {

struct Ran {
  int code = -1;
  std::string err;
};

/// Runs `troupe ARGS...` to its end (SIGKILL after `timeout`).
Ran run_troupe(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s) {
  Ran ran;
  const std::string dir = make_temp_dir("troupe-it-run");
  if (dir.empty()) return ran;
  std::vector<std::string> argv = {TROUPE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string why;
  pid_t pid = spawn_child(argv, dir + "/out", dir + "/err", why);
  if (pid < 0) {
    ran.err = why;
  } else {
    const auto deadline = Clock::now() + timeout;
    std::optional<int> code;
    while (!code && Clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) code = decode_wait_status(st);
      else std::this_thread::sleep_for(10ms);
    }
    if (!code) {
      ADD_FAILURE() << "troupe " << args.at(0) << " did not end within " << timeout.count() << " ms";
      kill_and_reap(pid, code);
    }
    ran.code = *code;
    ran.err = read_file(dir + "/err");
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return ran;
}

/// `copy-store TARGET` from where `s` keeps its store.
std::vector<std::string> copy_args(const TroupeServer& s, const std::string& target) {
  std::vector<std::string> a = {"copy-store", target, "--data-dir", s.data_dir()};
  if (s.uses_redis()) a.insert(a.end(), {"--redis", s.redis()->url()});
  return a;
}

/// What a client can see of the bookings below, read once the views caught up.
struct Seen {
  json show, room, order, cancelled, page;
};

Seen look(Http& http, const std::string& order_id, const std::string& cancelled_id) {
  EXPECT_TRUE(ViewsCaughtUp(http));
  return {get_resource(http, "cp-show"), get_resource(http, "cp-room"), order_of(http, order_id),
          order_of(http, cancelled_id), mypage_of(http, "c-copy")};
}

}  // namespace

TEST(CopyStore, ACopyInAFreshRedisServesTheSameBookingsAndTakesNewOnes) {
  RedisServer target;
  ASSERT_EQ(target.start(), "");
  TroupeServer source(fast_payments());
  ASSERT_EQ(source.start(), "");
  std::string order_id, cancelled_id;
  Seen before;
  {
    auto http = source.http();
    ASSERT_TRUE(Register(http, musical("cp-show", 10, 5000)));
    ASSERT_TRUE(Register(http, room("cp-room")));
    auto r = http.post("/v1/orders", seat_order("cp-show", 3, "c-copy"));
    ASSERT_EQ(r.status, 201) << r.body;
    order_id = str(r.body_json(), "orderId");
    r = http.post("/v1/orders", window_order("cp-room", "2031-03-01T14:00:00Z", "2031-03-03T10:00:00Z", "c-copy"));
    ASSERT_EQ(r.status, 201) << r.body;
    cancelled_id = str(r.body_json(), "orderId");
    ASSERT_EQ(cancel(http, cancelled_id).status, 200);
    before = look(http, order_id, cancelled_id);
  }
  ASSERT_EQ(source.stop(), 0);

  auto copied = run_troupe(copy_args(source, target.url()));
  ASSERT_EQ(copied.code, 0) << copied.err;
  EXPECT_NE(copied.err.find("copied"), std::string::npos) << copied.err;

  // A second copy into the same Redis is refused: it is not empty any more.
  auto again = run_troupe(copy_args(source, target.url()));
  EXPECT_EQ(again.code, 2) << again.err;
  EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;

  // Served from the copy (the simulated gateway's journal is the gateway's
  // books, not the store: it comes along as the same gateway).
  auto args = fast_payments();
  args.insert(args.end(), {"--redis", target.url(), "--gateway-journal", source.data_dir() + "/gateway.journal"});
  TroupeServer moved(args);
  ASSERT_EQ(moved.start(), "");
  auto http = moved.http();
  Seen after = look(http, order_id, cancelled_id);
  EXPECT_EQ(after.show, before.show);
  EXPECT_EQ(after.room, before.room);
  EXPECT_EQ(after.order, before.order);
  EXPECT_EQ(after.cancelled, before.cancelled);
  EXPECT_EQ(after.page, before.page);
  EXPECT_EQ(available(http, "cp-show"), 7);

  // New bookings go on from the copied state: the seats taken stay taken,
  // the cancelled window is free, and the event log continues (the new
  // order reaches the customer's page after the old ones).
  auto r = http.post("/v1/orders", seat_order("cp-show", 8, "c-copy"));
  EXPECT_TRUE(IsProblem(r, 409)) << "only 7 seats are left";
  r = http.post("/v1/orders", seat_order("cp-show", 7, "c-copy"));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string new_id = str(r.body_json(), "orderId");
  r = http.post("/v1/orders", window_order("cp-room", "2031-03-01T14:00:00Z", "2031-03-03T10:00:00Z", "c-copy"));
  EXPECT_EQ(r.status, 201) << r.body;
  ASSERT_TRUE(ViewsCaughtUp(http));
  EXPECT_EQ(available(http, "cp-show"), 0);
  auto page = mypage_of(http, "c-copy");
  EXPECT_TRUE(entry_of(page["orders"], new_id).is_object()) << page.dump();
  EXPECT_TRUE(entry_of(page["orders"], order_id).is_object()) << page.dump();
  EXPECT_TRUE(Balanced(http));
  EXPECT_EQ(moved.stop(), 0);
}

// (Under TROUPE_IT_STORE=redis the source is a Redis: Redis -> data dir.)
TEST(CopyStore, ACopyInAFreshDataDirIsServedLikeTheOriginal) {
  TroupeServer source(fast_payments());
  ASSERT_EQ(source.start(), "");
  std::string order_id;
  json show_before;
  {
    auto http = source.http();
    ASSERT_TRUE(Register(http, musical("cp-show", 10, 5000)));
    auto r = http.post("/v1/orders", seat_order("cp-show", 4, "c-copy"));
    ASSERT_EQ(r.status, 201) << r.body;
    order_id = str(r.body_json(), "orderId");
    show_before = get_resource(http, "cp-show");
  }
  ASSERT_EQ(source.stop(), 0);
  const std::string copy_dir = make_temp_dir("troupe-it-copy");
  ASSERT_FALSE(copy_dir.empty());
  auto copied = run_troupe(copy_args(source, copy_dir + "/data"));
  ASSERT_EQ(copied.code, 0) << copied.err;

  auto args = fast_payments();
  // (--redis "": the embedded store, also where the harness passes a Redis)
  args.insert(args.end(), {"--redis", "", "--data-dir", copy_dir + "/data", "--gateway-journal",
                           source.data_dir() + "/gateway.journal"});
  TroupeServer moved(args);
  ASSERT_EQ(moved.start(), "");
  auto http = moved.http();
  EXPECT_EQ(get_resource(http, "cp-show"), show_before);
  EXPECT_EQ(str(order_of(http, order_id), "status"), "confirmed");
  EXPECT_NE(moved.stderr_text().find("store: file:" + copy_dir), std::string::npos)
      << "served from the data dir: " << moved.stderr_text();
  EXPECT_TRUE(Balanced(http));
  EXPECT_EQ(moved.stop(), 0);
  std::error_code ec;
  std::filesystem::remove_all(copy_dir, ec);
}

TEST(CopyStore, AStoreAnInterruptedCopyLeftIsNotServed) {
  RedisServer partial;
  ASSERT_EQ(partial.start(), "");
  // What a copy that failed half-way leaves: its marker (and some records).
  ASSERT_TRUE(resp::command(partial.port(), {"HSET", "troupe:copy", "unfinished", "troupe copy-store"}, 2s));
  TroupeServer s({"--redis", partial.url()});
  std::string why = s.start(5s);
  EXPECT_NE(why, "") << "served a partial copy";
  EXPECT_EQ(s.last_exit(), 1);
  EXPECT_NE(s.stderr_text().find("unfinished copy"), std::string::npos) << s.stderr_text();
}

TEST(CopyStore, BadUsageIsRefusedWithoutTouchingAnything) {
  auto no_target = run_troupe({"copy-store"});
  EXPECT_EQ(no_target.code, 2) << no_target.err;
  EXPECT_NE(no_target.err.find("where to"), std::string::npos) << no_target.err;

  const std::string dir = make_temp_dir("troupe-it-copy");
  ASSERT_FALSE(dir.empty());
  auto no_source = run_troupe({"copy-store", dir + "/to", "--data-dir", dir + "/missing"});
  EXPECT_EQ(no_source.code, 2) << no_source.err;
  EXPECT_NE(no_source.err.find("does not exist"), std::string::npos) << no_source.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/to")) << "the target was created anyway";

  auto onto_itself = run_troupe({"copy-store", dir, "--data-dir", dir});
  EXPECT_EQ(onto_itself.code, 2) << onto_itself.err;

  auto bad_url = run_troupe({"copy-store", "redis://127.0.0.1:notaport", "--data-dir", dir});
  EXPECT_EQ(bad_url.code, 2) << bad_url.err;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
