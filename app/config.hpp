#pragma once
/// troupe's configuration: defaults < config file < environment < flags.
///
/// Every option has a long flag (`--data-dir`), an environment variable
/// (`TROUPE_DATA_DIR`) and a config-file key (`data-dir = ./data`, one per
/// line, `#` comments). `usage()` lists them all.

#include <string>
#include <vector>

#include "domain/error.hpp"

namespace troupe::app {

struct Config {
  std::string command;          ///< "serve", "copy-store" or "help"
  /// copy-store: where to (a data directory, or a redis:// URL); the source
  /// is the store `serve` would open (--data-dir, or --redis when set).
  std::string copy_to;
  std::string bind = "127.0.0.1";
  int port = 8080;
  std::string data_dir = "./data";
  std::string config_file;
  int http_threads = 256;
  int view_cache = 4096;  ///< rendered mypage bodies kept until their rows change
  long body_limit = 1 << 20;
  int request_timeout_ms = 20000;
  int io_timeout_s = 5;
  int payment_workers = 8;
  int payment_latency_min_ms = 0;
  int payment_latency_max_ms = 0;
  double payment_failure_rate = 0.0;
  int payment_timeout_ms = 610;
  int breaker_failures = 5;           ///< consecutive failures that open the breaker
  int breaker_window = 20;            ///< calls in the failure-rate window
  double breaker_failure_rate = 0.5;  ///< share of failures in a full window that opens it
  int breaker_cool_down_ms = 1000;    ///< first open period (doubles per failed trial)
  int breaker_max_cool_down_ms = 30000;
  int store_timeout_ms = 3000;
  int actor_timeout_ms = 2000;
  int caf_threads = 0;          ///< 0: one per core
  int store_nice = -10;         ///< the store thread's nice value (best effort)
  /// Every thread under SCHED_BATCH: a woken thread waits for the running
  /// one's slice instead of preempting it (fewer context switches per order).
  bool sched_batch = true;
  std::string caf_scheduler = "sharing";  ///< CAF scheduler policy: sharing | stealing
  std::string log_level = "info";
  std::string redis_url;        ///< empty: embedded store
  std::string redis_password;   ///< TROUPE_REDIS_PASSWORD; never logged
  std::string redis_prefix = "troupe:";
  int redis_timeout_ms = 1000;
  bool enable_faults = false;   ///< POST /admin/faults exists only then
  int restart_max = 1000;       ///< intensity R of the resource/order supervisors
  int restart_window_ms = 10000;  ///< intensity T
  /// Journal of the simulated payment gateway's books (empty: <data-dir>/gateway.journal).
  std::string gateway_journal;
  std::string webhook_url;      ///< notifications are also POSTed here (empty: none)
  int webhook_timeout_ms = 2000;
  int event_retention = 100000;  ///< event-log entries kept behind the slowest subscriber
  int order_idle_ms = 0;         ///< orders at rest idle this long are passivated (0: at once)
  int resource_idle_ms = 300000; ///< idle resources are passivated after this long (0: never)
};

/// Parses argv (without argv[0]) and the environment (`envp`, may be null).
domain::Result<Config> parse_config(const std::vector<std::string>& args, char** envp);

std::string usage();

}  // namespace troupe::app
