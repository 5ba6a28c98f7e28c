#include "app/stores.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "persistence/copy.hpp"
#include "persistence/file_store.hpp"
#include "persistence/redis_store.hpp"

namespace troupe::app {

domain::Result<std::unique_ptr<persistence::Store>> open_store(const Config& cfg,
                                                               const std::string& data_dir,
                                                               const std::string& redis_url,
                                                               int wait_for_redis_s) {
  if (redis_url.empty()) {
    persistence::FileStoreOptions fso;
    fso.dir = data_dir;
    return persistence::open_file_store(fso);
  }
  auto url = persistence::parse_redis_url(redis_url);
  if (!url) return url.error();
  persistence::RedisStoreOptions rso;
  rso.url = *url;
  if (!cfg.redis_password.empty()) rso.url.password = cfg.redis_password;
  rso.prefix = cfg.redis_prefix;
  rso.timeout = std::chrono::milliseconds(cfg.redis_timeout_ms);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(wait_for_redis_s);
  for (int attempt = 1;; ++attempt) {
    auto opened = persistence::open_redis_store(rso);
    if (opened || std::chrono::steady_clock::now() >= give_up) return opened;
    if (attempt == 1) std::fprintf(stderr, "troupe: waiting for redis: %s\n", opened.error().detail.c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

int copy_store_command(const Config& cfg) {
  using Clock = std::chrono::steady_clock;
  const bool to_redis = cfg.copy_to.rfind("redis://", 0) == 0;
  const std::string from_name = cfg.redis_url.empty() ? "data dir " + cfg.data_dir : "Redis " + cfg.redis_url;
  const std::string to_name = to_redis ? "Redis " + cfg.copy_to : "data dir " + cfg.copy_to;
  if (!to_redis && cfg.redis_url.empty() && cfg.copy_to == cfg.data_dir) {
    std::fprintf(stderr, "troupe copy-store: the target is the source (%s)\n", cfg.data_dir.c_str());
    return 2;
  }
  if (to_redis) {
    if (auto url = persistence::parse_redis_url(cfg.copy_to); !url) {
      std::fprintf(stderr, "troupe copy-store: target: %s\n", url.error().detail.c_str());
      return 2;
    }
  }
  if (cfg.redis_url.empty() && !std::filesystem::is_directory(cfg.data_dir)) {
    std::fprintf(stderr, "troupe copy-store: source data dir %s does not exist\n", cfg.data_dir.c_str());
    return 2;
  }
  auto from = open_store(cfg, cfg.data_dir, cfg.redis_url, 5);
  if (!from) {
    std::fprintf(stderr, "troupe copy-store: source %s: %s\n", from_name.c_str(), from.error().detail.c_str());
    return 2;
  }
  auto to = open_store(cfg, cfg.copy_to, to_redis ? cfg.copy_to : "", 5);
  if (!to) {
    std::fprintf(stderr, "troupe copy-store: target %s: %s\n", to_name.c_str(), to.error().detail.c_str());
    return 2;
  }
  std::fprintf(stderr, "troupe copy-store: %s (%s) -> %s (%s)\n", from_name.c_str(),
               (*from)->describe().c_str(), to_name.c_str(), (*to)->describe().c_str());
  const auto t0 = Clock::now();
  auto last = t0;
  auto seconds = [&](Clock::time_point t) { return std::chrono::duration<double>(t - t0).count(); };
  persistence::CopyOptions o;
  o.on_progress = [&](const persistence::CopyProgress& p) {
    const auto now = Clock::now();
    if (now - last < std::chrono::seconds(5)) return;
    last = now;
    std::fprintf(stderr, "troupe copy-store: %.0f s: %llu records, %llu log entries, %.1f MiB\n",
                 seconds(now), static_cast<unsigned long long>(p.records),
                 static_cast<unsigned long long>(p.log_entries), p.bytes / 1048576.0);
  };
  auto copied = persistence::copy_store(**from, **to, o);
  const auto closed = (*to)->close();
  (*from)->close();
  if (!copied) {
    const bool refused = copied.error().kind == domain::ErrorKind::conflict;
    std::fprintf(stderr, "troupe copy-store: %s%s\n", copied.error().detail.c_str(),
                 refused ? "" : " (the target holds a partial copy: empty it before copying again)");
    return refused ? 2 : 1;
  }
  if (!closed) {
    std::fprintf(stderr, "troupe copy-store: closing the target: %s\n", closed.error().detail.c_str());
    return 1;
  }
  std::fprintf(stderr,
               "troupe copy-store: copied %llu records and %llu event-log entries (to seq %llu), "
               "%.1f MiB in %llu commits, in %.2f s\n",
               static_cast<unsigned long long>(copied->records),
               static_cast<unsigned long long>(copied->log_entries),
               static_cast<unsigned long long>(copied->last_seq), copied->bytes / 1048576.0,
               static_cast<unsigned long long>(copied->commits), seconds(Clock::now()));
  return 0;
}

}  // namespace troupe::app
