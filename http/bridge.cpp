#include "http/bridge.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <regex>

#include <caf/all.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/latency_histogram.hpp"
#include "actors/messages.hpp"
#include "actors/reconcile.hpp"
#include "actors/records.hpp"
#include "views/projections.hpp"
#include "domain/json.hpp"
#include "http/idempotency.hpp"
#include "http/problem.hpp"
#include "http/requests.hpp"
#include "http/view_cache.hpp"

namespace troupe::http {

using domain::ErrorKind;
using domain::make_error;
using nlohmann::json;

namespace {

constexpr const char* json_type = "application/json";

/// Set on httplib's handler threads (they may keep a scoped actor each: the
/// pool joins them before the actor system goes away).
thread_local bool handler_thread = false;

struct HandlerPool : httplib::ThreadPool {
  using httplib::ThreadPool::ThreadPool;
  void enqueue(std::function<void()> fn) override {
    httplib::ThreadPool::enqueue([fn = std::move(fn)] {
      handler_thread = true;
      fn();
    });
  }
};

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), json_type);
}

/// An order's JSON (written directly, the same bytes as to_json's dump).
void send_order(httplib::Response& res, int status, const domain::Order& o) {
  res.status = status;
  res.set_content(domain::order_json_text(o), json_type);
}

void send_problem(httplib::Response& res, const Problem& p, const std::string& detail,
                  const std::string& subject = {}) {
  res.status = p.status;
  if (p.retry_after) res.set_header("Retry-After", "1");
  res.set_content(problem_body(p, detail, subject), problem_content_type);
}

void send_problem(httplib::Response& res, const domain::Error& e) {
  send_problem(res, problem_for(e.kind), e.detail, e.subject);
}

json resource_json(const actors::ResourceView& v) {
  json j = domain::to_json(v.spec);
  if (v.spec.mode == domain::Mode::capacity) {
    j["available"] = v.available;
    j["held"] = v.held;
  }
  if (v.spec.mode == domain::Mode::calendar) {
    json b = json::array();
    for (const auto& bk : v.bookings)
      b.push_back({{"orderId", bk.order_id},
                   {"start", domain::format_rfc3339(bk.start)},
                   {"end", domain::format_rfc3339(bk.end)},
                   {"status", bk.confirmed ? "confirmed" : "held"}});
    j["bookings"] = std::move(b);
  }
  return j;
}

/// Path ids follow the client id rules; anything else is a 400.
bool check_path_id(const std::string& id, const char* what, httplib::Response& res) {
  if (domain::is_valid_client_id(id)) return true;
  send_problem(res, make_error(ErrorKind::invalid_input,
                               std::string(what) + " id must be 1-128 characters of letters, "
                                                   "digits, '-', '_', '.'"));
  return false;
}

}  // namespace

struct Bridge::Impl {
  caf::actor_system& sys;
  std::shared_ptr<const actors::Context> ctx;
  std::mutex faults_mu;
  std::deque<std::string> fault_log;  ///< most recent faults, newest last
  int default_latency_min = 0, default_latency_max = 0;
  double default_failure_rate = 0.0;
  HttpOptions opt;
  httplib::Server svr;
  std::atomic<bool> ready{false};
  std::atomic<std::uint64_t> orders_placed{0};  ///< 201s of POST /v1/orders since start
  /// How long POST /v1/orders took in troupe, from the handler's start to
  /// the answer (whatever it was); the socket and the client are not in it.
  actors::LatencyHistogram order_latency;
  ViewCache views_cache{opt.view_cache_entries};
  int bound_port = 0;
  int listen_fd = -1;  ///< the listening socket, seen through set_socket_options
  std::array<std::atomic<std::uint64_t>, 600> responses{};
  idempotency::Keeper idem;

  Impl(caf::actor_system& s, std::shared_ptr<const actors::Context> c, HttpOptions o)
      : sys(s), ctx(std::move(c)), opt(std::move(o)),
        idem([this](const std::string& key) { return ctx->store_adapter->get(key); },
             [this](const persistence::Write& w) -> domain::Status {
               auto r = ask<actors::ok_atom>(ctx->store(), ctx->timeouts.store_write,
                                             actors::StoreWrite{{persistence::Batch{w}}});
               if (!r) return r.error();
               return domain::ok_status();
             }) {
    default_latency_min = ctx->gateway->latency_min_ms.load();
    default_latency_max = ctx->gateway->latency_max_ms.load();
    default_failure_rate = ctx->gateway->failure_rate.load();
  }

  caf::actor service(const char* name) const { return ctx->directory->service(name); }

  /// Sends `xs` as a request and waits for its answer at most `timeout`.
  /// The wait is the scoped actor's own (a condition variable), not a
  /// request timeout of CAF's clock, which costs a clock-thread event to
  /// set and another to cancel. Each handler thread keeps one scoped actor
  /// for all its requests (creating one per request was a third of the
  /// cost of a one-hop GET); after a timeout it is replaced, so a late
  /// answer reaches an actor that is gone and is dropped. `on_error` sees
  /// the CAF error (sec::request_timeout when the time is up).
  template <class T, class OnError, class... Ts>
  domain::Result<T> request_within(const caf::actor& dest, std::chrono::milliseconds timeout,
                                   OnError on_error, Ts&&... xs) {
    domain::Result<T> out{make_error(ErrorKind::internal, "no answer")};
    std::unique_ptr<caf::scoped_actor> own;
    auto& holder = self_holder(own);
    auto& self = *holder;
    auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    bool timed_out = false;
    caf::blocking_actor::accept_one_cond rc;
    self->varargs_receive(rc, handle.id(), [&](T& v) { out = std::move(v); },
                          [&](caf::error& e) { out = on_error(e); },
                          caf::after(timeout) >> [&] {
                            timed_out = true;
                            caf::error e = caf::make_error(caf::sec::request_timeout);
                            out = on_error(e);
                          });
    if (timed_out) holder.reset();
    return out;
  }

  /// The scoped actor a request waits with: the handler thread's own, or
  /// on a thread outside the pool a new one kept in `own`. Reset after a
  /// timeout, so a late answer reaches an actor that is gone.
  std::unique_ptr<caf::scoped_actor>& self_holder(std::unique_ptr<caf::scoped_actor>& own) {
    if (handler_thread) return thread_self();
    own = std::make_unique<caf::scoped_actor>(sys, true);
    return own;
  }

  /// This thread's scoped actor (hidden: it does not hold up shutdown), made
  /// on first use; it ends with its thread (httplib's pool joins them when
  /// the server stops, before the actor system goes).
  std::unique_ptr<caf::scoped_actor>& thread_self() {
    struct Slot {
      caf::actor_system* sys = nullptr;
      std::unique_ptr<caf::scoped_actor> self;
    };
    static thread_local Slot slot;
    if (slot.sys != &sys || !slot.self) {
      slot.self.reset();
      slot.self = std::make_unique<caf::scoped_actor>(sys, true);
      slot.sys = &sys;
    }
    return slot.self;
  }

  /// One request/response with an actor, bounded by `timeout`.
  template <class T, class... Ts>
  domain::Result<T> ask(const caf::actor& dest, std::chrono::milliseconds timeout, Ts&&... xs) {
    if (!dest) return make_error(ErrorKind::retry, "the actor is restarting; retry");
    return request_within<T>(dest, timeout, [](caf::error& e) { return actors::from_caf(e); },
                             std::forward<Ts>(xs)...);
  }

  void configure() {
    const size_t threads = opt.threads;
    svr.new_task_queue = [threads] { return new HandlerPool(threads); };
    svr.set_tcp_nodelay(true);
    svr.set_keep_alive_max_count(100000);
    svr.set_keep_alive_timeout(3);
    svr.set_read_timeout(opt.io_timeout);
    svr.set_write_timeout(opt.io_timeout);
    svr.set_payload_max_length(opt.body_limit);
    // httplib's default also sets SO_REUSEPORT, which would let two servers
    // share a port silently. SO_REUSEADDR alone still refuses a live listener.
    svr.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd = sock;
    });
    svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      auto p = problem_for_status(res.status);
      std::string detail = p.title;
      if (res.status == 413) detail = "the request body exceeds the configured limit";
      if (res.status == 404) detail = "no such route";
      res.set_content(problem_body(p, detail), problem_content_type);
      return httplib::Server::HandlerResponse::Handled;
    }));
    svr.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("{} {}: unhandled exception: {}", req.method, req.path, what);
        send_problem(res, make_error(ErrorKind::internal, "internal error"));
      });
    // Until state is restored (and while draining) the API is not served.
    // Only the body-less cancel is taken here: httplib runs this before it
    // reads a body, so answering a request that has one would leave the body
    // unread on a keep-alive connection and break the next request. Every
    // other /v1 check (readiness, store health) runs inside the handlers.
    svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      // `curl -X POST …/cancel` sends no Content-Length, which httplib
      // refuses as a bad request before routing. Cancel needs no body.
      static const std::regex cancel_path(R"(^/v1/orders/([^/]+)/cancel$)");
      std::smatch m;
      if (req.method == "POST" && !req.has_header("Content-Length") &&
          !req.has_header("Transfer-Encoding") && std::regex_match(req.path, m, cancel_path)) {
        if (admit(req, res)) cancel_route(req, res, m[1]);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    svr.set_logger([this](const httplib::Request&, const httplib::Response& res) {
      if (res.status >= 0 && res.status < 600) responses[static_cast<size_t>(res.status)]++;
    });
    routes();
  }

  /// Until state is restored (and while draining) the API is not served;
  /// while the store is down, changes fail fast and reads keep working.
  bool admit(const httplib::Request& req, httplib::Response& res) {
    if (!ready.load()) {
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content(problem_body(problem_for_status(503), "troupe is starting or draining"),
                      problem_content_type);
      return false;
    }
    if (req.method == "POST" && !ctx->store_health->healthy.load()) {
      send_problem(res, make_error(ErrorKind::store_unavailable,
                                   "the store is unavailable; nothing was changed"));
      return false;
    }
    return true;
  }

  /// A /v1 handler behind admit().
  template <class F>
  httplib::Server::Handler guarded(F f) {
    return [this, f](const httplib::Request& req, httplib::Response& res) {
      if (admit(req, res)) f(req, res);
    };
  }

  void allow_only(const std::string& pattern, const std::string& allow) {
    auto h = [allow](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", allow);
      res.status = 405;
      res.set_content(problem_body(problem_for_status(405), "allowed: " + allow),
                      problem_content_type);
    };
    if (allow.find("GET") == std::string::npos) svr.Get(pattern, h);
    if (allow.find("POST") == std::string::npos) svr.Post(pattern, h);
    svr.Put(pattern, h);
    svr.Patch(pattern, h);
    svr.Delete(pattern, h);
  }

  void routes() {
    using Req = const httplib::Request&;
    using Res = httplib::Response&;

    svr.Get("/health/live", [](Req, Res res) { send_json(res, 200, {{"status", "live"}}); });
    svr.Get("/health/ready", [this](Req, Res res) {
      const bool store_ok = ctx->store_health->healthy.load();
      if (ready.load() && store_ok) return send_json(res, 200, {{"status", "ready"}});
      auto p = problem_for_status(503);
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content(problem_body(p, !ready.load() ? "starting, draining or restoring"
                                                    : "the store is unavailable"),
                      problem_content_type);
    });
    svr.Get("/metrics", [this](Req, Res res) { metrics(res); });
    allow_only("/health/live", "GET");
    allow_only("/health/ready", "GET");
    allow_only("/metrics", "GET");

    svr.Post("/v1/resources", guarded([this](Req req, Res res) {
      auto spec = parse_resource(req.body);
      if (!spec) return send_problem(res, spec.error());
      auto r = ask<actors::RegisterResult>(service("resources"), opt.request_timeout,
                                           actors::RegisterResource{*spec});
      if (!r) return send_problem(res, r.error());
      res.set_header("Location", "/v1/resources/" + spec->id);
      send_json(res, r->created ? 201 : 200, resource_json(r->view));
    }));
    svr.Get("/v1/resources", guarded([this](Req req, Res res) { list_resources(req, res); }));
    allow_only("/v1/resources", "GET, POST");

    svr.Get(R"(/v1/resources/([^/]+))", guarded([this](Req req, Res res) {
      const std::string id = req.matches[1];
      if (!check_path_id(id, "resource", res)) return;
      if (!ctx->directory->has_resource(id))
        return send_problem(res, make_error(ErrorKind::not_found, "resource " + id + " does not exist"));
      auto v = resource_view(id, ctx->directory->resource_actor(id));
      if (!v) return send_problem(res, v.error());
      send_json(res, 200, resource_json(*v));
    }));
    allow_only(R"(/v1/resources/([^/]+))", "GET");

    svr.Post("/v1/orders", guarded([this](Req req, Res res) {
      struct Timed {  // recorded however the handler ends
        actors::LatencyHistogram& h;
        std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
        ~Timed() { h.record(std::chrono::steady_clock::now() - t0); }
      } timed{order_latency};
      // The body is parsed once: for the key's scope (the body's customer)
      // and canonical form when a key came, else just before placing.
      std::optional<OrderInput> in;
      std::string canonical;
      with_key(req, res, req.body, [&]() -> std::optional<std::string> {
        auto parsed = parse_order(req.body, &canonical);
        if (!parsed) {
          send_problem(res, parsed.error());  // nothing was done: nothing to remember
          return std::nullopt;
        }
        in = std::move(*parsed);
        return in->customer_id;
      }, [&](const std::string& identity) {
        if (!in) {
          auto parsed = parse_order(req.body);
          if (!parsed) return send_problem(res, parsed.error());
          in = std::move(*parsed);
        }
        place_order(res, *in, identity);
      }, &canonical);
    }));
    svr.Get("/v1/orders", guarded([this](Req req, Res res) { list_orders(req, res); }));
    allow_only("/v1/orders", "GET, POST");

    svr.Get(R"(/v1/orders/([^/]+))", guarded([this](Req req, Res res) {
      const std::string id = req.matches[1];
      if (!check_path_id(id, "order", res)) return;
      auto o = read_order(id);
      if (!o) return send_problem(res, o.error());
      send_order(res, 200, *o);
    }));
    allow_only(R"(/v1/orders/([^/]+))", "GET");

    svr.Post(R"(/v1/orders/([^/]+)/cancel)",
             guarded([this](Req req, Res res) { cancel_route(req, res, req.matches[1]); }));
    allow_only(R"(/v1/orders/([^/]+)/cancel)", "POST");

    svr.Post(R"(/v1/orders/([^/]+)/steps)", guarded([this](Req req, Res res) {
      const std::string id = req.matches[1];
      if (!check_path_id(id, "order", res)) return;
      with_key(req, res, req.body, [&] { return order_customer(id, res); },
               [&](const std::string&) { advance_step(req, res, id); });
    }));
    allow_only(R"(/v1/orders/([^/]+)/steps)", "POST");

    svr.Get(R"(/v1/payments/([^/]+))", guarded([this](Req req, Res res) {
      const std::string id = req.matches[1];
      if (!check_path_id(id, "payment", res)) return;
      const auto order_id = domain::order_id_for_payment(id);
      const auto missing = make_error(ErrorKind::not_found, "payment " + id + " does not exist");
      if (order_id.empty()) return send_problem(res, missing);
      auto o = read_order(order_id);
      if (!o) return send_problem(res, o.error().kind == ErrorKind::not_found ? missing : o.error());
      if (o->payment.status == domain::PaymentStatus::none) return send_problem(res, missing);
      send_json(res, 200, domain::to_json(o->payment));
    }));
    allow_only(R"(/v1/payments/([^/]+))", "GET");

    svr.Get("/admin/payments/breaker", [this](Req, Res res) {
      auto b = ask<actors::BreakerView>(ctx->payments(), std::chrono::milliseconds(2000),
                                        actors::breaker_atom::value);
      if (!b) return send_problem(res, b.error());
      send_json(res, 200, breaker_json(*b));
    });
    allow_only("/admin/payments/breaker", "GET");
    // The simulated gateway's own ledger, for reconciliation.
    svr.Get("/admin/payments/gateway", [this](Req, Res res) {
      const auto t = ctx->gateway->ledger.totals();
      send_json(res, 200,
                {{"captured", t.captured},
                 {"refunded", t.refunded},
                 {"net", t.captured - t.refunded},
                 {"payments", t.payments},
                 {"declined", t.declined},
                 {"voided", t.voided},
                 {"lateChargesRefused", t.late_charges_refused}});
    });
    allow_only("/admin/payments/gateway", "GET");
    // Read views: built from the subscribers' rows only (never the actors).
    svr.Get(R"(/v1/customers/([^/]+)/mypage)", guarded([this](Req req, Res res) {
      const std::string id = req.matches[1];
      if (!check_path_id(id, "customer", res)) return;
      // Rendered pages are kept until the customer's rows change (stamped
      // before they are read: a change meanwhile makes the entry stale).
      const auto mypage = views::mypage_group(id);
      const auto notif = views::notifications_group(id);
      const auto& versions = ctx->store_health->groups;
      const ViewCache::Stamp stamp{versions.of(mypage), versions.of(notif)};
      const std::string key = "mypage " + id;
      if (auto body = views_cache.find(key, stamp)) {
        res.status = 200;
        return res.set_content(std::move(*body), json_type);
      }
      auto rows = read_group(mypage, res);
      if (!rows) return;
      auto notes = read_group(notif, res);
      if (!notes) return;
      auto body = views::mypage_view(id, *rows, *notes).dump();
      views_cache.put(key, stamp, body);
      res.status = 200;
      res.set_content(std::move(body), json_type);
    }));
    allow_only(R"(/v1/customers/([^/]+)/mypage)", "GET");
    svr.Get(R"(/v1/customers/([^/]+)/notifications)", guarded([this](Req req, Res res) {
      const std::string id = req.matches[1];
      if (!check_path_id(id, "customer", res)) return;
      auto notes = read_group(views::notifications_group(id), res);
      if (!notes) return;
      send_json(res, 200, views::notifications_view(id, *notes));
    }));
    allow_only(R"(/v1/customers/([^/]+)/notifications)", "GET");
    svr.Get(R"(/v1/resources/([^/]+)/report)", guarded([this](Req req, Res res) {
      const std::string id = req.matches[1];
      if (!check_path_id(id, "resource", res)) return;
      if (!ctx->directory->has_resource(id))
        return send_problem(res, make_error(ErrorKind::not_found, "resource " + id + " does not exist"));
      auto rows = read_group(views::report_group(id), res);
      if (!rows) return;
      send_json(res, 200, views::report_view(id, *rows));
    }));
    allow_only(R"(/v1/resources/([^/]+)/report)", "GET");
    svr.Get("/admin/subscribers", [this](Req, Res res) { send_json(res, 200, subscribers_json()); });
    allow_only("/admin/subscribers", "GET");
    svr.Get("/admin/reconcile", [this](Req, Res res) {
      auto recs = ctx->store_adapter->scan(actors::records::order_prefix);
      if (!recs) return send_problem(res, recs.error());
      send_json(res, 200, actors::to_json(actors::reconcile(*recs, ctx->gateway->ledger)));
    });
    allow_only("/admin/reconcile", "GET");
    svr.Get("/admin/actors", [this](Req, Res res) { actor_tree(res); });
    allow_only("/admin/actors", "GET");
    if (opt.enable_faults) {
      svr.Get("/admin/faults", [this](Req, Res res) { send_json(res, 200, faults_json()); });
      svr.Post("/admin/faults", [this](Req req, Res res) { inject_fault(req, res); });
      allow_only("/admin/faults", "GET, POST");
    }
  }

  void actor_tree(httplib::Response& res) {
    auto views = ask<std::vector<actors::SupervisorView>>(service("root"),
                                                          std::chrono::milliseconds(3000),
                                                          actors::tree_atom::value);
    if (!views) return send_problem(res, views.error());
    json root;
    json kids = json::array();
    for (const auto& v : *views) {
      json j = {{"name", v.name},
                {"strategy", v.strategy},
                {"children", v.children},
                {"restarts", v.restarts},
                {"escalations", v.escalations},
                {"intensity", {{"maxRestarts", v.max_restarts}, {"windowMs", v.window_ms}}},
                {"lastFailure", v.last_failure.empty() ? json(nullptr) : json(v.last_failure)}};
      if (v.parent.empty())
        root = std::move(j);
      else
        kids.push_back(std::move(j));
    }
    root["supervisors"] = std::move(kids);
    send_json(res, 200, root);
  }

  static json breaker_json(const actors::BreakerView& b) {
    json transitions = json::array();
    for (const auto& t : b.transitions)
      transitions.push_back({{"from", t.from},
                             {"to", t.to},
                             {"at", domain::format_rfc3339(t.at)},
                             {"why", t.why}});
    return {{"state", b.state},
            {"calls", b.calls},
            {"successes", b.successes},
            {"failures", b.failures},
            {"refused", b.refused},
            {"consecutiveFailures", b.consecutive_failures},
            {"coolDownMs", b.cool_down_ms},
            {"retryAfterMs", b.retry_after_ms},
            {"callTimeoutMs", b.call_timeout_ms},
            {"transitionsTotal", b.transitions_total},
            {"transitions", std::move(transitions)},
            {"config",
             {{"consecutiveFailures", b.config.consecutive_failures},
              {"windowCalls", b.config.window_calls},
              {"failureRate", b.config.failure_rate},
              {"coolDownMs", b.config.cool_down_ms},
              {"maxCoolDownMs", b.config.max_cool_down_ms}}}};
  }

  /// One group of view rows, or a problem written to `res`.
  std::optional<std::vector<persistence::Record>> read_group(const std::string& group,
                                                             httplib::Response& res) {
    auto rows = ctx->store_adapter->scan_group(group);
    if (!rows) {
      send_problem(res, rows.error());
      return std::nullopt;
    }
    return std::move(*rows);
  }

  json subscribers_json() {
    const auto head = ctx->store_health->log_head.load();
    json list = json::array();
    for (const auto& s : ctx->subscribers->all())
      list.push_back({{"name", s.name},
                      {"running", s.running},
                      {"cursor", s.cursor},
                      {"lag", head > s.cursor ? head - s.cursor : 0},
                      {"applied", s.applied},
                      {"rows", s.rows},
                      {"webhookDelivered", s.webhook_delivered},
                      {"webhookFailures", s.webhook_failures},
                      {"lastError", s.last_error}});
    return {{"logHead", head}, {"subscribers", std::move(list)}};
  }

  json faults_json() {
    auto& g = *ctx->gateway;
    std::lock_guard<std::mutex> l(faults_mu);
    json log = json::array();
    for (const auto& f : fault_log) log.push_back(f);
    return {{"payment",
             {{"latencyMs", {g.latency_min_ms.load(), g.latency_max_ms.load()}},
              {"failureRate", g.failure_rate.load()}}},
            {"stoppedSubscribers", stopped_subscribers()},
            {"recent", std::move(log)}};
  }

  json stopped_subscribers() {
    auto names = ask<std::vector<std::string>>(service("subscribers"), std::chrono::milliseconds(2000),
                                               actors::subscribers_atom::value);
    return names ? json(*names) : json::array();
  }

  void note_fault(const std::string& what) {
    spdlog::warn("fault injected: {}", what);
    std::lock_guard<std::mutex> l(faults_mu);
    fault_log.push_back(domain::format_rfc3339(domain::now_ms()) + " " + what);
    while (fault_log.size() > 50) fault_log.pop_front();
  }

  void inject_fault(const httplib::Request& req, httplib::Response& res) {
    auto bad = [&res](const std::string& why) {
      send_problem(res, make_error(ErrorKind::invalid_input, why));
    };
    auto j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 1)
      return bad("expected one of {\"payment\":…}, {\"crash\":…}, {\"stop\":…}, "
                 "{\"start\":…}, {\"clear\":true}");
    const std::string what = j.begin().key();
    const json& arg = j.begin().value();
    auto& g = *ctx->gateway;
    if (what == "clear") {
      if (arg != true) return bad("'clear' must be true");
      g.latency_min_ms = default_latency_min;
      g.latency_max_ms = default_latency_max;
      g.failure_rate = default_failure_rate;
      for (const auto& name : views::subscriber_names)
        ask<actors::ok_atom>(service("subscribers"), opt.request_timeout,
                             actors::SubscriberControl{name, true});
      note_fault("clear");
      return send_json(res, 200, faults_json());
    }
    if (what == "payment") {
      if (!arg.is_object()) return bad("'payment' must be an object");
      int lo = g.latency_min_ms.load(), hi = g.latency_max_ms.load();
      double rate = g.failure_rate.load();
      for (auto it = arg.begin(); it != arg.end(); ++it) {
        if (it.key() == "latencyMs") {
          const json& l = it.value();
          if (!l.is_array() || l.size() != 2 || !l[0].is_number_integer() ||
              !l[1].is_number_integer() || l[0].get<long>() < 0 ||
              l[1].get<long>() < l[0].get<long>() || l[1].get<long>() > 600000)
            return bad("'latencyMs' must be [min, max] with 0 <= min <= max <= 600000");
          lo = l[0].get<int>();
          hi = l[1].get<int>();
        } else if (it.key() == "failureRate") {
          if (!it.value().is_number() || it.value().get<double>() < 0.0 ||
              it.value().get<double>() > 1.0)
            return bad("'failureRate' must be a number between 0 and 1");
          rate = it.value().get<double>();
        } else {
          return bad("unknown field '" + it.key() + "' in 'payment'");
        }
      }
      g.latency_min_ms = lo;
      g.latency_max_ms = hi;
      g.failure_rate = rate;
      note_fault("payment latency " + std::to_string(lo) + ".." + std::to_string(hi) +
                 " ms, failure rate " + std::to_string(rate));
      return send_json(res, 200, faults_json());
    }
    if (what == "crash") {
      if (!arg.is_object() || arg.size() != 1)
        return bad("'crash' takes one of resourceId, orderId, randomResources, supervisor, subscriber");
      const std::string key = arg.begin().key();
      const json& v = arg.begin().value();
      if (key == "randomResources") {
        if (!v.is_number_integer() || v.get<long>() < 1 || v.get<long>() > 100000)
          return bad("'randomResources' must be an integer between 1 and 100000");
        auto n = ask<std::uint32_t>(service("resources"), opt.request_timeout,
                                    actors::CrashRandom{v.get<std::uint32_t>()});
        if (!n) return send_problem(res, n.error());
        note_fault("crash " + std::to_string(*n) + " random resources");
        json body = faults_json();
        body["crashed"] = *n;
        return send_json(res, 200, body);
      }
      if (!v.is_string()) return bad("'" + key + "' must be a string");
      const std::string id = v.get<std::string>();
      actors::CrashActor c;
      caf::actor target;
      if (key == "resourceId") {
        c = {"resource", id};
        target = service("resources");
      } else if (key == "orderId") {
        c = {"order", id};
        target = service("orders");
      } else if (key == "supervisor") {
        c = {"supervisor", id};
        target = service("root");
      } else if (key == "subscriber") {
        c = {"subscriber", id};
        target = service("subscribers");
      } else {
        return bad("'crash' takes one of resourceId, orderId, randomResources, supervisor, subscriber");
      }
      auto r = ask<actors::ok_atom>(target, opt.request_timeout, c);
      if (!r) return send_problem(res, r.error());
      note_fault("crash " + c.kind + " " + id);
      json body = faults_json();
      body["crashed"] = 1;
      return send_json(res, 200, body);
    }
    if (what == "stop" || what == "start") {
      // {"stop":{"subscriber":"notifier"}} (the contract) or {"stop":"notifier"}.
      const json* name_arg = &arg;
      if (arg.is_object() && arg.size() == 1 && arg.contains("subscriber"))
        name_arg = &arg["subscriber"];
      if (!name_arg->is_string() || !views::is_subscriber(name_arg->get<std::string>()))
        return bad("'" + what +
                   "' takes {\"subscriber\": name} with name notifier, mypage or report");
      const std::string name = name_arg->get<std::string>();
      auto r = ask<actors::ok_atom>(service("subscribers"), opt.request_timeout,
                                    actors::SubscriberControl{name, what == "start"});
      if (!r) return send_problem(res, r.error());
      note_fault(what + " subscriber " + name);
      return send_json(res, 200, faults_json());
    }
    return bad("unknown fault '" + what + "'");
  }

  /// The request's Idempotency-Key in `key` ("" when it has none); false
  /// when the header is invalid (a 400 is written).
  bool idempotency_key(const httplib::Request& req, httplib::Response& res, std::string& key) {
    key.clear();
    const size_t n = req.get_header_value_count(idempotency::key_header);
    if (n == 0) return true;
    if (n > 1) {
      send_problem(res, make_error(ErrorKind::invalid_input, std::string("send one '") +
                                                                 idempotency::key_header +
                                                                 "' header"));
      return false;
    }
    key = req.get_header_value(idempotency::key_header);
    if (auto st = idempotency::check_key(key); !st) {
      send_problem(res, st.error());
      return false;
    }
    return true;
  }

  /// Runs `run` (which answers into `res`) at most once per Idempotency-Key
  /// and customer; see http/idempotency.hpp. Without the header it just runs.
  /// `scope()` gives the customer, or nullopt after writing a problem.
  /// `body` is the part of the body that identifies the request. `run`
  /// gets the request's identity — a hash of customer, key and fingerprint,
  /// empty without a key — from which an order id can be derived.
  /// `canonical`, when given, is where `scope()` left the body's canonical
  /// JSON (it parsed the body already: the fingerprint does not again).
  template <class Scope, class Run>
  void with_key(const httplib::Request& req, httplib::Response& res, const std::string& body,
                Scope scope, Run run, const std::string* canonical = nullptr) {
    std::string key;
    if (!idempotency_key(req, res, key)) return;
    if (key.empty()) return run(std::string());
    const std::optional<std::string> customer = scope();
    if (!customer) return;
    idempotency::Claim claim;
    const auto fp = canonical ? idempotency::fingerprint_canonical(req.method, req.path, *canonical)
                              : idempotency::fingerprint(req.method, req.path, body);
    const auto d = idem.begin(*customer, key, fp, claim);
    using K = idempotency::Decision::Kind;
    switch (d.kind) {
      case K::replay:
        res.status = d.response.status;
        if (!d.response.location.empty()) res.set_header("Location", d.response.location);
        res.set_header(idempotency::replayed_header, "true");
        res.set_content(d.response.body, d.response.content_type);
        return;
      case K::in_progress:
        return send_problem(res, idempotency_in_progress(),
                            "the first request with this Idempotency-Key is still being "
                            "processed; retry later");
      case K::mismatch:
        return send_problem(res, idempotency_key_reused(),
                            "this Idempotency-Key was already used with another method, path or "
                            "body; use a new key for a new request");
      case K::failed:
        return send_problem(res, d.error);
      case K::execute:
        break;
    }
    run(idempotency::hex64(idempotency::fnv1a64(*customer + "\n" + key + "\n" + fp)));
    // Stored before the answer leaves; if that fails the answer is still the
    // real one (the action is done) and the keeper remembers it in memory.
    claim.finish({res.status, res.get_header_value("Content-Type"), res.body,
                  res.get_header_value("Location")});
  }

  /// The customer of order `id` (an Idempotency-Key's scope), or nullopt with
  /// a problem (400, 404, 503…) written.
  std::optional<std::string> order_customer(const std::string& id, httplib::Response& res) {
    if (!check_path_id(id, "order", res)) return std::nullopt;
    auto o = read_order(id);
    if (!o) {
      send_problem(res, o.error());
      return std::nullopt;
    }
    return o->customer_id;
  }

  void cancel_route(const httplib::Request& req, httplib::Response& res, const std::string& id) {
    // Cancel reads no body: it is not part of what identifies the request.
    with_key(req, res, std::string(), [&] { return order_customer(id, res); },
             [&](const std::string&) { cancel_order(id, res); });
  }

  void advance_step(const httplib::Request& req, httplib::Response& res, const std::string& id) {
    auto in = parse_step(req.body);
    if (!in) return send_problem(res, in.error());
    auto o = ask_order<domain::Order>(id, actors::AdvanceStep{in->step, in->rider_id});
    if (!o) return send_problem(res, o.error());
    send_order(res, 200, *o);
  }

  /// GET /v1/orders?customerId=…[&status=…][&limit=…][&cursor=…], from the
  /// customer's mypage view rows (eventually consistent, like mypage).
  void list_orders(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("customerId"))
      return send_problem(res, make_error(ErrorKind::invalid_input, "'customerId' is required"));
    const std::string customer = req.get_param_value("customerId");
    if (!domain::is_valid_client_id(customer))
      return send_problem(res, make_error(ErrorKind::invalid_input,
                                          "'customerId' must be 1-128 characters of letters, "
                                          "digits, '-', '_', '.'"));
    std::string status;
    if (req.has_param("status")) {
      status = req.get_param_value("status");
      if (!domain::is_valid_client_id(status))
        return send_problem(res, make_error(ErrorKind::invalid_input,
                                            "'status' must be an order status such as "
                                            "confirmed, cancelled, rejected or a step"));
    }
    size_t limit = 50;
    if (req.has_param("limit")) {
      auto l = parse_limit(req.get_param_value("limit"));
      if (!l) return send_problem(res, l.error());
      limit = *l;
    }
    std::uint64_t after = 0;
    if (req.has_param("cursor")) {
      auto c = decode_order_cursor(req.get_param_value("cursor"));
      if (!c) return send_problem(res, c.error());
      after = *c;
    }
    auto rows = read_group(views::mypage_group(customer), res);
    if (!rows) return;
    auto page = views::order_page(customer, *rows, status, after, limit);
    json body = {{"items", std::move(page.items)}, {"nextCursor", nullptr}};
    if (page.next != 0) body["nextCursor"] = encode_order_cursor(page.next);
    send_json(res, 200, body);
  }

  void cancel_order(const std::string& id, httplib::Response& res) {
    if (!check_path_id(id, "order", res)) return;
    auto o = ask_order<domain::Order>(id, actors::cancel_atom::value);
    if (!o) return send_problem(res, o.error());
    send_order(res, 200, *o);
  }

  /// Order `id` as it is now. Its committed record is read first, on this
  /// thread (no actor hop): an order at rest (confirmed, rejected,
  /// cancelled) is answered from it — a change still in flight is not
  /// committed, and every answer a client got was given after its change
  /// was. An order in mid-saga (or not yet written) is asked of its actor,
  /// which knows more than its write-ahead record (e.g. a rejection the
  /// store failed to take); without an actor, the record tells.
  domain::Result<domain::Order> read_order(const std::string& id) {
    auto record = ctx->store_adapter->get(actors::records::order_key(id));
    std::optional<domain::Order> stored;
    if (record && *record) {
      auto o = actors::records::decode_order(**record);
      if (!o) return o.error();
      if (actors::records::at_rest(*o)) return o;
      stored = std::move(*o);
    }
    if (auto actor = ctx->directory->order(id)) {
      auto o = ask<domain::Order>(actor, opt.request_timeout, actors::get_atom::value);
      if (o || o.error().kind != ErrorKind::retry) return o;
      // It stopped in between (passivated or restarting): its record tells.
      record = ctx->store_adapter->get(actors::records::order_key(id));
      if (record && *record) return actors::records::decode_order(**record);
    }
    if (!record) return record.error();
    if (stored) return *stored;
    return make_error(ErrorKind::not_found, "order " + id + " does not exist");
  }

  /// Resource `id`'s view from its actor `actor`. A request bounced by an
  /// actor that passivated just then (its entry is cleared before it stops)
  /// goes once more, to the next activation.
  domain::Result<actors::ResourceView> resource_view(const std::string& id, const caf::actor& actor) {
    if (!actor) return make_error(ErrorKind::retry, "resource " + id + " could not be activated; retry");
    bool bounced = false;
    auto v = request_within<actors::ResourceView>(actor, opt.request_timeout,
                                                  [&](caf::error& e) {
                                                    bounced = e == caf::sec::request_receiver_down;
                                                    return actors::from_caf(e);
                                                  },
                                                  actors::get_atom::value);
    if (!bounced) return v;
    auto next = ctx->directory->resource_actor(id);
    if (!next || next == actor) return v;
    return ask<actors::ResourceView>(next, opt.request_timeout, actors::get_atom::value);
  }

  /// The views of many resources (id, actor), in that order: every request
  /// goes out before the first answer is awaited, so a page of 500 costs
  /// about one round trip instead of 500 in a row. Within one deadline; a
  /// request bounced by an actor that passivated just then goes again on
  /// its own (resource_view). The first failure is the answer.
  domain::Result<std::vector<actors::ResourceView>> resource_views(
    const std::vector<std::pair<std::string, caf::actor>>& targets) {
    for (const auto& [id, actor] : targets)
      if (!actor) return make_error(ErrorKind::retry, "resource " + id + " could not be activated; retry");
    std::unique_ptr<caf::scoped_actor> own;
    auto& holder = self_holder(own);
    auto& self = *holder;
    std::vector<caf::message_id> ids;
    ids.reserve(targets.size());
    for (const auto& t : targets)
      ids.push_back(self->request(t.second, caf::infinite, actors::get_atom::value).id());
    const auto deadline = std::chrono::steady_clock::now() + opt.request_timeout;
    std::vector<actors::ResourceView> out(targets.size());
    std::vector<size_t> bounced;
    std::optional<domain::Error> failed;
    bool timed_out = false;
    // Every answer is taken, failures too, so none is left in the mailbox.
    for (size_t i = 0; i < ids.size() && !timed_out; ++i) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      caf::blocking_actor::accept_one_cond rc;
      self->varargs_receive(rc, ids[i], [&](actors::ResourceView& v) { out[i] = std::move(v); },
                            [&](caf::error& e) {
                              if (e == caf::sec::request_receiver_down) bounced.push_back(i);
                              else if (!failed) failed = actors::from_caf(e);
                            },
                            caf::after(std::max(left, std::chrono::milliseconds(0))) >> [&] {
                              timed_out = true;
                            });
    }
    if (timed_out) {
      holder.reset();  // late answers go to an actor that is gone
      return actors::from_caf(caf::make_error(caf::sec::request_timeout));
    }
    if (failed) return *failed;
    for (size_t i : bounced) {
      auto v = resource_view(targets[i].first, ctx->directory->resource_actor(targets[i].first));
      if (!v) return v.error();
      out[i] = std::move(*v);
    }
    return out;
  }

  /// Sends a command to order `id`'s actor, activating a passivated order
  /// first. A request bounced by an actor that stopped before reading it
  /// (passivated just then) is sent again, to the new activation, at most
  /// twice (a new activation idle past --order-idle-ms before the request
  /// came passivates too): the directory may still name the stopped actor,
  /// so the orders supervisor is asked, and it activates the order once it
  /// has seen that actor go.
  template <class T, class Msg>
  domain::Result<T> ask_order(const std::string& id, const Msg& msg) {
    caf::actor_addr bounced_by;
    for (int attempt = 0;; ++attempt) {
      caf::actor actor = bounced_by ? caf::actor{} : ctx->directory->order(id);
      if (!actor) {
        auto a = bounced_by ? ask<caf::actor>(service("orders"), opt.request_timeout,
                                              actors::activate_atom::value, id, bounced_by)
                            : ask<caf::actor>(service("orders"), opt.request_timeout,
                                              actors::activate_atom::value, id);
        if (!a) return a.error();
        actor = std::move(*a);
      }
      bool bounced = false;
      auto out = request_within<T>(actor, opt.request_timeout,
                                   [&](caf::error& e) {
                                     bounced = e == caf::sec::request_receiver_down;
                                     return actors::from_caf(e);
                                   },
                                   msg);
      if (!bounced || attempt == 2) return out;
      bounced_by = actor.address();
    }
  }

  void place_order(httplib::Response& res, const OrderInput& in, const std::string& identity) {
    auto spec = ctx->directory->resource_spec(in.resource_id);
    if (!spec)
      return send_problem(res, make_error(ErrorKind::not_found,
                                          "resource " + in.resource_id + " does not exist"));
    if (auto st = check_order_for(in, *spec, domain::now_ms()); !st)
      return send_problem(res, st.error());
    actors::PlaceOrder p;
    p.resource_id = in.resource_id;
    p.customer_id = in.customer_id;
    p.quantity = in.quantity.value_or(0);
    p.start = in.start.value_or(0);
    p.end = in.end.value_or(0);
    p.destination = in.destination.value_or("");
    p.fee = in.fee.value_or(0);
    // With an Idempotency-Key the order id derives from the request's
    // identity (customer, key, request): a retry after a crash that lost the
    // key's record finds the order instead of placing a second one, and the
    // same key with another request never finds it.
    if (!identity.empty()) p.order_id = "o-k" + identity;
    auto o = ask<domain::Order>(service("orders"), opt.request_timeout, std::move(p));
    if (!o) return send_problem(res, o.error());
    res.set_header("Location", "/v1/orders/" + o->id);
    orders_placed.fetch_add(1, std::memory_order_relaxed);
    send_order(res, 201, *o);
  }

  void list_resources(const httplib::Request& req, httplib::Response& res) {
    size_t limit = 50;
    if (req.has_param("limit")) {
      auto l = parse_limit(req.get_param_value("limit"));
      if (!l) return send_problem(res, l.error());
      limit = *l;
    }
    std::string after;
    if (req.has_param("cursor")) {
      auto c = decode_cursor(req.get_param_value("cursor"));
      if (!c) return send_problem(res, c.error());
      after = *c;
    }
    const std::string type = req.has_param("type") ? req.get_param_value("type") : "";
    bool more = false;
    auto entries = ctx->directory->list_resources(after, limit, type, more);
    // (A passivated resource is activated to tell its availability.)
    std::vector<std::pair<std::string, caf::actor>> actors;
    actors.reserve(entries.size());
    for (const auto& e : entries)
      actors.emplace_back(e.spec.id, e.actor ? e.actor : ctx->directory->resource_actor(e.spec.id));
    auto views = resource_views(actors);
    if (!views) return send_problem(res, views.error());
    json items = json::array();
    for (const auto& v : *views) items.push_back(resource_json(v));
    json body = {{"items", std::move(items)}, {"nextCursor", nullptr}};
    if (more && !entries.empty()) body["nextCursor"] = encode_cursor(entries.back().spec.id);
    send_json(res, 200, body);
  }

  void metrics(httplib::Response& res) {
    std::string out;
    auto line = [&out](const std::string& s) { out += s + "\n"; };
    line("# TYPE troupe_ready gauge");
    line("troupe_ready " + std::to_string(ready.load() ? 1 : 0));
    line("# TYPE troupe_http_responses_total counter");
    for (size_t code = 100; code < responses.size(); ++code)
      if (auto n = responses[code].load())
        line("troupe_http_responses_total{code=\"" + std::to_string(code) + "\"} " +
             std::to_string(n));
    line("# TYPE troupe_resources gauge");
    line("troupe_resources " + std::to_string(ctx->directory->resource_count()));
    line("# HELP troupe_resource_actors resource actors running (the others are passivated)");
    line("# TYPE troupe_resource_actors gauge");
    line("troupe_resource_actors " + std::to_string(ctx->directory->active_resource_count()));
    line("# HELP troupe_view_cache_hits_total mypage answers served from the view cache");
    line("# TYPE troupe_view_cache_hits_total counter");
    line("troupe_view_cache_hits_total " + std::to_string(views_cache.hits()));
    line("# TYPE troupe_view_cache_misses_total counter");
    line("troupe_view_cache_misses_total " + std::to_string(views_cache.misses()));
    line("# HELP troupe_orders_placed_total orders placed (201) since this process started");
    line("# TYPE troupe_orders_placed_total counter");
    line("troupe_orders_placed_total " + std::to_string(orders_placed.load()));
    line("# HELP troupe_orders order actors running (orders at rest are passivated)");
    line("# TYPE troupe_orders gauge");
    line("troupe_orders " + std::to_string(ctx->directory->order_count()));
    auto sup = ask<actors::SupervisionStats>(service("root"), std::chrono::milliseconds(1000),
                                             actors::stats_atom::value);
    if (sup) {
      line("# TYPE troupe_actor_restarts_total counter");
      line("troupe_actor_restarts_total " + std::to_string(sup->restarts));
    }
    auto st = ask<actors::StoreStatsView>(ctx->store(), std::chrono::milliseconds(1000),
                                          actors::stats_atom::value);
    if (st) {
      line("# TYPE troupe_store_commits_total counter");
      line("troupe_store_commits_total " + std::to_string(st->commits));
      line("# TYPE troupe_store_writes_total counter");
      line("troupe_store_writes_total " + std::to_string(st->writes));
      line("# TYPE troupe_store_bytes gauge");
      line("troupe_store_bytes " + std::to_string(st->bytes_on_disk));
      line("# TYPE troupe_store_records gauge");
      line("troupe_store_records " + std::to_string(st->live_records));
    }
    auto br = ask<actors::BreakerView>(ctx->payments(), std::chrono::milliseconds(1000),
                                       actors::breaker_atom::value);
    if (br) {
      const int state = br->state == "closed" ? 0 : br->state == "open" ? 1 : 2;
      line("# HELP troupe_payment_breaker_state 0 closed, 1 open, 2 half-open");
      line("# TYPE troupe_payment_breaker_state gauge");
      line("troupe_payment_breaker_state " + std::to_string(state));
      line("# TYPE troupe_payment_calls_total counter");
      line("troupe_payment_calls_total " + std::to_string(br->calls));
      line("# TYPE troupe_payment_failures_total counter");
      line("troupe_payment_failures_total " + std::to_string(br->failures));
      line("# TYPE troupe_payment_refused_total counter");
      line("troupe_payment_refused_total " + std::to_string(br->refused));
      line("# TYPE troupe_payment_breaker_transitions_total counter");
      line("troupe_payment_breaker_transitions_total " + std::to_string(br->transitions_total));
    }
    out += order_latency.render("troupe_order_placement_seconds",
                                "POST /v1/orders in troupe: handler start to answer, any outcome");
    out += ctx->store_health->commit_latency.render(
      "troupe_store_commit_seconds", "store commits (a group of writes), sent to durable");
    const auto head = ctx->store_health->log_head.load();
    line("# TYPE troupe_event_log_head gauge");
    line("troupe_event_log_head " + std::to_string(head));
    line("# HELP troupe_subscriber_lag events appended but not yet applied by the subscriber");
    line("# TYPE troupe_subscriber_lag gauge");
    for (const auto& s : ctx->subscribers->all())
      line("troupe_subscriber_lag{subscriber=\"" + s.name + "\"} " +
           std::to_string(head > s.cursor ? head - s.cursor : 0));
    line("# TYPE troupe_subscriber_running gauge");
    for (const auto& s : ctx->subscribers->all())
      line("troupe_subscriber_running{subscriber=\"" + s.name + "\"} " + (s.running ? "1" : "0"));
    line("# TYPE troupe_webhook_failures_total counter");
    for (const auto& s : ctx->subscribers->all())
      if (s.name == "notifier")
        line("troupe_webhook_failures_total " + std::to_string(s.webhook_failures));
    res.status = 200;
    res.set_content(out, "text/plain; version=0.0.4");
  }
};

Bridge::Bridge(caf::actor_system& sys, std::shared_ptr<const actors::Context> ctx,
               HttpOptions options)
    : impl_(std::make_unique<Impl>(sys, std::move(ctx), std::move(options))) {
  impl_->configure();
}

Bridge::~Bridge() = default;

domain::Status Bridge::bind() {
  errno = 0;
  if (!impl_->svr.bind_to_port(impl_->opt.bind, impl_->opt.port)) {
    const int err = errno;
    const std::string where = impl_->opt.bind + ":" + std::to_string(impl_->opt.port);
    if (err == EADDRINUSE)
      return make_error(ErrorKind::invalid_input, "port " + where + " is already in use");
    return make_error(ErrorKind::invalid_input,
                      "cannot listen on " + where + (err ? std::string(": ") + std::strerror(err) : ""));
  }
  impl_->bound_port = impl_->opt.port;
  // Debian's compiled cpp-httplib listens with a backlog of 5: a burst of
  // new connections overflows it and clients stall or are dropped. Calling
  // listen() again on the bound socket raises the backlog.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  return domain::ok_status();
}

void Bridge::run() { impl_->svr.listen_after_bind(); }

void Bridge::stop() {
  impl_->ready = false;
  impl_->svr.stop();
}

void Bridge::set_ready(bool ready) { impl_->ready = ready; }

int Bridge::port() const { return impl_->bound_port; }

}  // namespace troupe::http
