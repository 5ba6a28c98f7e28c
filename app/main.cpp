// troupe: wiring of the whole system, top to bottom.
//
//   config -> logging -> store (embedded log) -> actor system
//     -> supervision tree: root -> store, payments, resources, orders
//     -> HTTP bridge (bind: a busy port is fatal) -> restore -> ready
//     -> wait for SIGINT/SIGTERM -> drain HTTP -> flush store -> exit 0

#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include <caf/all.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/payment_pool.hpp"
#include "actors/store_actor.hpp"
#include "app/config.hpp"
#include "app/stores.hpp"
#include "http/bridge.hpp"
#include "http/webhook.hpp"
#include "persistence/copy.hpp"
#include "supervision/supervisor.hpp"

extern char** environ;

namespace {

std::atomic<bool> g_gave_up{false};

using namespace troupe;

/// SCHED_BATCH for this thread and every thread it starts after (they
/// inherit it): an order crosses threads ~5 times (HTTP thread, workers, the
/// store's writer), and under the default policy each wake-up preempts the
/// thread that sent it. Needs no privilege; a failure only costs speed.
void use_batch_scheduling() {
  sched_param none{};
  if (::sched_setscheduler(0, SCHED_BATCH, &none) != 0)
    spdlog::warn("SCHED_BATCH not applied: {}", std::strerror(errno));
}

int serve(const app::Config& cfg) {
  // Logs go to stderr, unbuffered: nothing is lost on kill -9.
  spdlog::set_default_logger(spdlog::stderr_color_mt("troupe"));
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  // Before the first thread (store, actor system, HTTP) starts.
  if (cfg.sched_batch) use_batch_scheduling();

  // Signals are taken by sigwait below, never by a handler in a random thread.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // (Redis may still be starting or loading its AOF: retried for a while.)
  auto opened = app::open_store(cfg, cfg.data_dir, cfg.redis_url, 30);
  if (!opened) {
    std::fprintf(stderr, "troupe: %s\n", opened.error().detail.c_str());
    return opened.error().kind == domain::ErrorKind::invalid_input ? 2 : 1;  // (a bad URL: 2)
  }
  std::shared_ptr<persistence::Store> store = std::move(*opened);
  // A copy that did not finish (troupe copy-store) lacks records: serving it
  // would forget bookings.
  if (auto unfinished = store->get(persistence::unfinished_copy_key); !unfinished || *unfinished) {
    std::fprintf(stderr, "troupe: %s\n",
                 !unfinished ? unfinished.error().detail.c_str()
                             : "the store holds an unfinished copy (troupe copy-store was "
                               "interrupted or failed): empty it and copy again");
    return 1;
  }
  spdlog::info("store: {}", store->describe());

  caf::actor_system_config caf_cfg;
  actors::register_message_types(caf_cfg);
  if (cfg.caf_threads > 0)
    caf_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.caf_threads));
  caf_cfg.set("scheduler.policy", caf::atom_from_string(cfg.caf_scheduler));
  caf::actor_system sys{caf_cfg};

  auto ctx = std::make_shared<actors::Context>();
  ctx->store_adapter = store;
  ctx->gateway->latency_min_ms = cfg.payment_latency_min_ms;
  ctx->gateway->latency_max_ms = cfg.payment_latency_max_ms;
  ctx->gateway->failure_rate = cfg.payment_failure_rate;
  {
    // The simulated gateway keeps its books in a journal, so money can be
    // reconciled across a crash of troupe.
    const std::string journal =
      cfg.gateway_journal.empty() ? cfg.data_dir + "/gateway.journal" : cfg.gateway_journal;
    if (cfg.gateway_journal.empty()) ::mkdir(cfg.data_dir.c_str(), 0755);
    if (auto st = ctx->gateway->ledger.open_journal(journal); !st) {
      std::fprintf(stderr, "troupe: %s\n", st.error().detail.c_str());
      return 1;
    }
  }
  if (!cfg.webhook_url.empty()) {
    auto hook = http::make_webhook(cfg.webhook_url, std::chrono::milliseconds(cfg.webhook_timeout_ms));
    if (!hook) {
      std::fprintf(stderr, "troupe: %s\n", hook.error().detail.c_str());
      return 2;
    }
    ctx->webhook = std::move(*hook);
    spdlog::info("notifications are also posted to {}", cfg.webhook_url);
  }
  ctx->payments_options.workers = static_cast<size_t>(cfg.payment_workers);
  ctx->payments_options.call_timeout = std::chrono::milliseconds(cfg.payment_timeout_ms);
  ctx->payments_options.breaker.consecutive_failures = cfg.breaker_failures;
  ctx->payments_options.breaker.window_calls = cfg.breaker_window;
  ctx->payments_options.breaker.failure_rate = cfg.breaker_failure_rate;
  ctx->payments_options.breaker.cool_down_ms = cfg.breaker_cool_down_ms;
  ctx->payments_options.breaker.max_cool_down_ms = cfg.breaker_max_cool_down_ms;
  ctx->timeouts.actor_call = std::chrono::milliseconds(cfg.actor_timeout_ms);
  ctx->timeouts.payment = std::chrono::milliseconds(cfg.payment_timeout_ms);
  ctx->timeouts.store_write = std::chrono::milliseconds(cfg.store_timeout_ms);
  ctx->event_retention = static_cast<std::uint64_t>(cfg.event_retention);
  ctx->store_nice = cfg.store_nice;
  ctx->order_idle = std::chrono::milliseconds(cfg.order_idle_ms);
  ctx->resource_idle = std::chrono::milliseconds(cfg.resource_idle_ms);

  supervision::SupervisionConfig sup_cfg;
  sup_cfg.resources.max_restarts = cfg.restart_max;
  sup_cfg.resources.window = std::chrono::milliseconds(cfg.restart_window_ms);
  sup_cfg.orders.max_restarts = cfg.restart_max;
  sup_cfg.orders.window = std::chrono::milliseconds(cfg.restart_window_ms);
  sup_cfg.on_give_up = [] {
    // The tree cannot heal itself: stop like on SIGTERM, but exit non-zero
    // so that the process supervisor (systemd, Kubernetes) restarts us.
    g_gave_up = true;
    ::kill(::getpid(), SIGTERM);
  };
  auto root = supervision::spawn_supervision_tree(sys, ctx, sup_cfg);

  http::HttpOptions ho;
  ho.bind = cfg.bind;
  ho.port = cfg.port;
  ho.threads = static_cast<size_t>(cfg.http_threads);
  ho.view_cache_entries = static_cast<size_t>(cfg.view_cache);
  ho.body_limit = static_cast<size_t>(cfg.body_limit);
  ho.io_timeout = std::chrono::seconds(cfg.io_timeout_s);
  ho.request_timeout = std::chrono::milliseconds(cfg.request_timeout_ms);
  {
    // An order's saga answers within: hold + charge + confirm + reading the
    // outcome + recording a rejection. The HTTP wait must be longer, or a
    // client could get a 504 for an order that then confirms.
    const auto& t = ctx->timeouts;
    const auto saga = t.actor_call + (t.payment + std::chrono::milliseconds(500)) +
                      (t.actor_call + t.store_write + std::chrono::milliseconds(500)) +
                      2 * t.store_write + std::chrono::milliseconds(1000);
    if (ho.request_timeout < saga) {
      spdlog::warn("--request-timeout-ms {} is shorter than an order's worst case; using {} ms",
                   ho.request_timeout.count(), saga.count());
      ho.request_timeout = saga;
    }
  }
  ho.enable_faults = cfg.enable_faults;
  http::Bridge bridge(sys, ctx, ho);
  if (cfg.enable_faults) spdlog::warn("fault injection is enabled (POST /admin/faults)");

  // Actors first (their last writes are already queued at the store actor,
  // which commits everything queued before it closes), then the store.
  auto shutdown_actors = [&] {
    caf::anon_send_exit(ctx->directory->service("orders"), caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ctx->directory->service("resources"), caf::exit_reason::user_shutdown);
    caf::scoped_actor self{sys};
    // (Closing may compact the embedded store: seconds for gigabytes.)
    self->request(ctx->store(), std::chrono::seconds(120), actors::close_atom::value)
      .receive([](actors::ok_atom) { spdlog::info("store flushed and closed"); },
               [](caf::error& e) { spdlog::error("store close: {}", caf::to_string(e)); });
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  };

  if (auto st = bridge.bind(); !st) {
    std::fprintf(stderr, "troupe: %s\n", st.error().detail.c_str());
    shutdown_actors();
    return 1;
  }
  std::thread server([&] { bridge.run(); });
  spdlog::info("listening on http://{}:{}", cfg.bind, cfg.port);

  bool restored = false;
  {
    caf::scoped_actor self{sys};
    auto started = std::chrono::steady_clock::now();
    self->request(root, std::chrono::minutes(10), actors::restore_atom::value)
      .receive(
        [&](actors::SupervisionStats& s) {
          auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
          spdlog::info("restored {} resources and {} orders in {} ms", s.resources, s.orders, ms);
          restored = true;
        },
        [&](caf::error& e) { spdlog::error("restore failed: {}", caf::to_string(e)); });
  }
  int code = 0;
  if (restored) {
    bridge.set_ready(true);
    spdlog::info("ready");
    int sig = 0;
    sigwait(&sigs, &sig);
    spdlog::info("received {}, draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
  } else {
    code = 1;
  }
  bridge.stop();
  server.join();
  spdlog::info("HTTP stopped; in-flight requests finished");
  shutdown_actors();
  if (g_gave_up) {
    spdlog::critical("exiting after the supervision tree gave up");
    return 3;
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto cfg = app::parse_config(args, environ);
  if (!cfg) {
    std::fprintf(stderr, "troupe: %s\n", cfg.error().detail.c_str());
    return 2;
  }
  if (cfg->command == "help") {
    std::fputs(app::usage().c_str(), stdout);
    return 0;
  }
  if (cfg->command == "copy-store") return app::copy_store_command(*cfg);
  return serve(*cfg);
}
