#pragma once
/// The HTTP bridge: REST requests in, actor messages out.
///
/// Handler threads (a fixed pool) decode and validate, then ask the right
/// actor through a per-request scoped actor with a timeout; they never touch
/// domain state. Every error is problem+json. TCP_NODELAY is on, the body
/// size is limited (413), reads/writes time out, and a busy port is an error
/// (no SO_REUSEPORT).
///
/// Thread-safety: bind() then run() from one thread; stop(), set_ready() from
/// any thread.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/context.hpp"
#include "domain/error.hpp"

namespace troupe::http {

struct HttpOptions {
  std::string bind = "127.0.0.1";
  int port = 8080;
  size_t threads = 256;              ///< one per concurrent keep-alive connection
  size_t body_limit = 1 << 20;       ///< bytes; larger bodies get 413
  std::chrono::seconds io_timeout{5};
  std::chrono::milliseconds request_timeout{20000};  ///< longest wait on the actors
  bool enable_faults = false;  ///< serve POST/GET /admin/faults
  size_t view_cache_entries = 4096;  ///< rendered mypage bodies kept (0: none)
};

class Bridge {
 public:
  /// Actors are found through ctx->directory (services "root",
  /// "resources", "orders", "store").
  Bridge(caf::actor_system& sys, std::shared_ptr<const actors::Context> ctx, HttpOptions options);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  /// Binds the listening socket. store_unavailable-free: invalid_input with
  /// "already in use" when the port is taken.
  domain::Status bind();
  /// Serves until stop(); returns after in-flight requests finished.
  void run();
  /// Stops accepting; run() returns once the handlers are done.
  void stop();
  /// Readiness as reported by /health/ready.
  void set_ready(bool ready);
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace troupe::http
