#pragma once
/// Request timeouts and delayed messages on troupe's own timer thread.
///
/// Why not CAF's: CAF 0.17 sets every request timeout through its clock
/// thread and cancels it again when the answer comes, each event a push
/// that wakes that thread. An order makes five requests: ~11 clock events,
/// 16 % of troupe's CPU at c=64 (the `caf.clock` thread) and, measured in
/// paired runs, ~25 % of the orders per second.
///
/// Here registering is a push under a mutex that wakes nobody (the thread
/// ticks every `tick` while anything is pending, and sleeps otherwise); an
/// answer only sets a flag. What is due and not answered gets exactly what
/// CAF's clock would deliver: `sec::request_timeout` as the response to that
/// request. Timeouts fire up to one tick late; actors that are gone are
/// skipped (entries hold weak references).
///
/// Contract: `request_within(self, deadlines, dest, timeout, xs...)` is
/// `self->request(dest, timeout, xs...)` for event-based actors; its
/// `.then(on_answer[, on_error])` behaves the same, timeout included.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>

namespace troupe::actors {

class Deadlines {
 public:
  /// Set when the request was answered (value or error): no timeout then.
  using Answered = std::shared_ptr<std::atomic<bool>>;

  explicit Deadlines(std::chrono::milliseconds tick = std::chrono::milliseconds(5));
  ~Deadlines();
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;

  /// After `timeout`, unless `answered` is set by then, `self` receives
  /// sec::request_timeout as the response `response_id`.
  void expire(caf::actor_control_block* self, caf::message_id response_id,
              std::chrono::milliseconds timeout, Answered answered);

  /// Sends `msg` to `self` after `delay` (like `delayed_send(self, ...)`).
  void send_later(caf::actor_control_block* self, std::chrono::milliseconds delay,
                  caf::message msg);

  /// Entries not yet due.
  std::size_t pending() const;
  /// Timeouts delivered so far, each counted before it is delivered
  /// (answered requests and actors that are gone get none).
  std::uint64_t fired() const { return shared_->fired.load(); }

 private:
  struct Entry {
    caf::weak_actor_ptr target;
    caf::message_id id;  ///< response id; or an ordinary id for a delayed message
    Answered answered;   ///< null for a delayed message
    caf::message msg;    ///< empty for a timeout
  };
  struct Shared {
    mutable std::mutex mtx;
    std::condition_variable cv;
    std::map<std::int64_t, std::vector<Entry>> due;  ///< by tick number
    std::size_t count = 0;
    bool stop = false;
    std::atomic<std::uint64_t> fired{0};
  };
  void add(std::chrono::milliseconds after, Entry e);
  static void run(std::shared_ptr<Shared> shared, std::chrono::milliseconds tick);

  std::chrono::milliseconds tick_;
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

namespace detail {

template <class F, class... Args>
auto flagging(F f, Deadlines::Answered answered, caf::detail::type_list<Args...>) {
  using R = typename caf::detail::get_callable_trait<F>::result_type;
  return [f = std::move(f), answered = std::move(answered)](Args... xs) mutable -> R {
    answered->store(true, std::memory_order_relaxed);
    return f(std::forward<Args>(xs)...);
  };
}

template <class F>
auto flagging(F f, Deadlines::Answered answered) {
  return flagging(std::move(f), std::move(answered),
                  typename caf::detail::get_callable_trait<F>::arg_types{});
}

}  // namespace detail

/// A response handle whose handlers mark the request answered.
template <class Handle>
class TimedResponse {
 public:
  TimedResponse(Handle h, Deadlines::Answered answered)
      : handle_(std::move(h)), answered_(std::move(answered)) {}

  template <class F>
  void then(F f) const {
    handle_.then(detail::flagging(std::move(f), answered_));
  }

  template <class F, class OnError>
  void then(F f, OnError g) const {
    handle_.then(detail::flagging(std::move(f), answered_),
                 detail::flagging(std::move(g), answered_));
  }

 private:
  Handle handle_;
  Deadlines::Answered answered_;
};

/// `self->request(dest, timeout, xs...)` with the timeout kept by `d`.
template <class Self, class... Ts>
auto request_within(Self* self, Deadlines& d, const caf::actor& dest,
                    std::chrono::milliseconds timeout, Ts&&... xs) {
  auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
  auto answered = std::make_shared<std::atomic<bool>>(false);
  d.expire(self->ctrl(), handle.id(), timeout, answered);
  return TimedResponse<decltype(handle)>{std::move(handle), std::move(answered)};
}

}  // namespace troupe::actors
