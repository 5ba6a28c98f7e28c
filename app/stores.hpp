#pragma once
/// Opening the store a configuration names, and `troupe copy-store`.

#include <memory>
#include <string>

#include "app/config.hpp"
#include "persistence/store.hpp"

namespace troupe::app {

/// The embedded store in `data_dir` when `redis_url` is empty, else Redis
/// at that URL (with cfg's password, prefix and timeout; retried for up to
/// `wait_for_redis_s` while Redis starts or loads its AOF).
domain::Result<std::unique_ptr<persistence::Store>> open_store(const Config& cfg,
                                                               const std::string& data_dir,
                                                               const std::string& redis_url,
                                                               int wait_for_redis_s);

/// troupe copy-store: the store `serve` would open into cfg.copy_to (a data
/// directory, or redis://…); progress and the outcome on stderr. Exit code:
/// 0 copied, 1 failed (the target holds a partial copy), 2 refused (bad
/// target, not empty, source unusable).
int copy_store_command(const Config& cfg);

}  // namespace troupe::app
