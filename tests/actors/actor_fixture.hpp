#pragma once
/// Common fixture of the actor tests: a real actor system wired like the
/// application (file store in a fresh temp dir behind the store actor, a
/// payment pool with shared gateway settings, a directory, a context and a
/// supervisor), driven from a scoped actor with a timeout on every request.
///
/// A derived fixture may change `timeouts`, `gateway` or `policy` in its
/// constructor (before SetUp boots the system). `shutdown()` + `boot()` start a
/// new system on the same data dir (restore tests).

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/context.hpp"
#include "actors/directory.hpp"
#include "actors/messages.hpp"
#include "actors/payment_pool.hpp"
#include "actors/records.hpp"
#include "actors/store_actor.hpp"
#include "domain/error.hpp"
#include "domain/order.hpp"
#include "domain/resource.hpp"
#include "persistence/file_store.hpp"
#include "supervision/supervisor.hpp"

namespace troupe::testing {

using namespace std::chrono_literals;

/// The outcome of one request: a value or the error (mapped by from_caf).
template <class T>
struct Reply {
  std::optional<T> value;
  domain::Error error;
  caf::error raw;
  bool ok() const { return value.has_value(); }
  /// For assertion messages.
  std::string describe() const {
    if (ok()) return "ok";
    return std::string(domain::to_string(error.kind)) + ": " + error.detail +
           (error.subject.empty() ? "" : " [" + error.subject + "]") + " (" +
           caf::to_string(raw) + ")";
  }
};

class ActorFixture : public ::testing::Test {
 protected:
  /// Timeout of every request the test makes.
  static constexpr std::chrono::milliseconds request_timeout{5000};

  // ---- knobs (set in a derived fixture's constructor) ----
  actors::Timeouts timeouts;
  supervision::RestartPolicy policy;
  std::shared_ptr<actors::GatewaySettings> gateway = std::make_shared<actors::GatewaySettings>();
  size_t payment_workers = 4;
  std::uint64_t event_retention = 100000;
  std::chrono::milliseconds event_trim_every{10000};
  std::size_t event_trim_chunk = 1024;
  std::chrono::milliseconds order_idle{10000};
  std::chrono::milliseconds resource_idle{10000};
  size_t recent_log_capacity = 16384;
  /// Wraps the file store before anything uses it (e.g. to count calls).
  std::function<std::shared_ptr<persistence::Store>(std::shared_ptr<persistence::Store>)> wrap_store;

  // ---- the running system ----
  std::string dir;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<actors::Directory> directory;
  std::shared_ptr<const actors::Context> ctx;
  caf::actor store;
  caf::actor payments;
  caf::actor supervisor;
  std::unique_ptr<caf::scoped_actor> self_;

  void SetUp() override {
    dir = make_temp_dir();
    ASSERT_FALSE(dir.empty()) << "mkdtemp failed";
    boot();
  }

  void TearDown() override {
    shutdown();
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }

  static std::string make_temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/troupe-actor-test-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) return {};
    return std::string(buf.data());
  }

  /// Starts a system on `dir` (store, payments, directory, context,
  /// supervisor). Does not restore: send restore_atom for that.
  void boot() {
    cfg = std::make_unique<caf::actor_system_config>();
    actors::register_message_types(*cfg);
    sys = std::make_unique<caf::actor_system>(*cfg);
    persistence::FileStoreOptions opts;
    opts.dir = dir;
    auto opened = persistence::open_file_store(opts);
    ASSERT_TRUE(opened.ok()) << opened.error().detail;
    std::shared_ptr<persistence::Store> fs = std::move(*opened);
    if (wrap_store) fs = wrap_store(std::move(fs));
    directory = std::make_shared<actors::Directory>();
    auto c = std::make_shared<actors::Context>();
    c->directory = directory;
    c->store_adapter = std::move(fs);
    c->store_health = std::make_shared<actors::StoreHealth>(recent_log_capacity);
    c->gateway = gateway;
    c->payments_options.workers = payment_workers;
    c->payments_options.call_timeout = timeouts.payment;
    c->timeouts = timeouts;
    c->event_retention = event_retention;
    c->event_trim_every = event_trim_every;
    c->event_trim_chunk = event_trim_chunk;
    c->order_idle = order_idle;
    c->resource_idle = resource_idle;
    ctx = c;
    supervision::SupervisionConfig sc;
    sc.resources = policy;
    sc.orders = policy;
    supervisor = supervision::spawn_supervision_tree(*sys, ctx, sc);
    // The tree registers its services as it starts; wait until they exist.
    for (int i = 0; i < 400 && (!directory->service("store") || !directory->service("payments")); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    store = directory->service("store");
    payments = directory->service("payments");
    ASSERT_TRUE(store && payments) << "the supervision tree did not register store and payments";
    self_ = std::make_unique<caf::scoped_actor>(*sys);
  }

  /// Stops every actor and the system. Exits go to the supervisor (which
  /// must take its children down), the payment pool and the store actor
  /// (detached); a hang here is a test failure, not a stuck test run.
  void shutdown() {
    if (!sys) return;
    self_.reset();
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    std::atomic<bool> done{false};
    std::thread watchdog([&] {
      for (int i = 0; i < 100 && !done.load(); ++i) std::this_thread::sleep_for(100ms);
      if (!done.load()) {
        std::fprintf(stderr,
                     "FATAL: actor system did not shut down within 10 s (%zu actors running)\n",
                     sys->registry().running());
        std::fflush(stderr);
        std::_Exit(3);
      }
    });
    sys->await_all_actors_done();
    done = true;
    watchdog.join();
    supervisor = nullptr;
    payments = nullptr;
    store = nullptr;
    ctx.reset();
    directory.reset();
    sys.reset();
    cfg.reset();
  }

  caf::scoped_actor& self() { return *self_; }

  /// Requests `xs` from `dest` and waits (bounded) for a T or an error.
  template <class T, class... Ts>
  Reply<T> ask(const caf::actor& dest, Ts&&... xs) {
    return ask_for<T>(dest, request_timeout, std::forward<Ts>(xs)...);
  }

  template <class T, class... Ts>
  Reply<T> ask_for(const caf::actor& dest, std::chrono::milliseconds timeout, Ts&&... xs) {
    Reply<T> r;
    if (!dest) {
      r.error = domain::make_error(domain::ErrorKind::not_found, "no actor to ask");
      return r;
    }
    self()
      ->request(dest, timeout, std::forward<Ts>(xs)...)
      .receive([&](T v) { r.value = std::move(v); },
               [&](caf::error& e) {
                 r.raw = e;
                 r.error = actors::from_caf(e);
               });
    return r;
  }

  // ---- domain helpers ----

  static domain::ResourceSpec capacity_spec(const std::string& id, std::int64_t capacity,
                                            domain::Money price) {
    domain::ResourceSpec s;
    s.id = id;
    s.type = "musical";
    s.name = "Show " + id;
    s.mode = domain::Mode::capacity;
    s.capacity = capacity;
    s.price = price;
    return s;
  }

  static domain::ResourceSpec calendar_spec(const std::string& id, domain::Money price) {
    domain::ResourceSpec s;
    s.id = id;
    s.type = "car";
    s.name = "Car " + id;
    s.mode = domain::Mode::calendar;
    s.price = price;
    return s;
  }

  Reply<actors::RegisterResult> register_resource(const domain::ResourceSpec& spec) {
    return ask<actors::RegisterResult>(supervisor, actors::RegisterResource{spec});
  }

  Reply<domain::Order> place(const std::string& rid, std::int64_t quantity,
                             const std::string& customer = "c-1") {
    return ask<domain::Order>(supervisor, actors::PlaceOrder{"", rid, customer, quantity, 0, 0, "", 0});
  }

  Reply<domain::Order> place_window(const std::string& rid, domain::Timestamp start,
                                    domain::Timestamp end, const std::string& customer = "c-1") {
    return ask<domain::Order>(supervisor, actors::PlaceOrder{"", rid, customer, 0, start, end, "", 0});
  }

  Reply<actors::ResourceView> view(const std::string& rid) {
    return ask<actors::ResourceView>(directory->resource_actor(rid), actors::get_atom::value);
  }

  /// Order `oid`'s actor: the running one, or activated from its record by
  /// the orders supervisor (as the HTTP bridge does for commands).
  caf::actor order_actor(const std::string& oid) {
    if (auto a = directory->order(oid)) return a;
    auto a = ask<caf::actor>(directory->service("orders"), actors::activate_atom::value, oid);
    return a.ok() ? *a.value : caf::actor{};
  }

  Reply<domain::Order> order(const std::string& oid) {
    return ask<domain::Order>(order_actor(oid), actors::get_atom::value);
  }

  Reply<actors::SupervisionStats> supervision_stats() {
    return ask<actors::SupervisionStats>(supervisor, actors::stats_atom::value);
  }

  Reply<std::vector<persistence::Record>> scan(const std::string& prefix) {
    return ask<std::vector<persistence::Record>>(store, actors::StoreScan{prefix});
  }

  /// Polls (every 20 ms, up to `limit`) until `pred()` holds.
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit = 3000ms) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (pred()) return true;
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(20ms);
    }
  }
};

}  // namespace troupe::testing
