#include "actors/deadlines.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/error.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/sec.hpp>

namespace troupe::actors {
namespace {

std::int64_t ms_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Deadlines::Deadlines(std::chrono::milliseconds tick)
    : tick_(tick.count() > 0 ? tick : std::chrono::milliseconds(1)),
      shared_(std::make_shared<Shared>()),
      thread_(&Deadlines::run, shared_, tick_) {}

Deadlines::~Deadlines() {
  {
    std::lock_guard<std::mutex> lk(shared_->mtx);
    shared_->stop = true;
  }
  shared_->cv.notify_all();
  // The last reference may go on the timer thread itself (it dropped the
  // last reference to an actor holding the context): it ends on its own.
  if (thread_.get_id() == std::this_thread::get_id())
    thread_.detach();
  else
    thread_.join();
}

void Deadlines::expire(caf::actor_control_block* self, caf::message_id response_id,
                       std::chrono::milliseconds timeout, Answered answered) {
  add(timeout, Entry{caf::weak_actor_ptr{self}, response_id, std::move(answered), caf::message{}});
}

void Deadlines::send_later(caf::actor_control_block* self, std::chrono::milliseconds delay,
                           caf::message msg) {
  add(delay, Entry{caf::weak_actor_ptr{self}, caf::make_message_id(), nullptr, std::move(msg)});
}

std::size_t Deadlines::pending() const {
  std::lock_guard<std::mutex> lk(shared_->mtx);
  return shared_->count;
}

void Deadlines::add(std::chrono::milliseconds after, Entry e) {
  const std::int64_t t = tick_.count();
  const std::int64_t at = (ms_now() + std::max<std::int64_t>(0, after.count()) + t - 1) / t;
  bool was_empty;
  {
    std::lock_guard<std::mutex> lk(shared_->mtx);
    was_empty = shared_->count == 0;
    shared_->due[at].push_back(std::move(e));
    ++shared_->count;
  }
  // Only an idle timer thread needs waking; a busy one ticks anyway.
  if (was_empty) shared_->cv.notify_one();
}

void Deadlines::run(std::shared_ptr<Shared> shared, std::chrono::milliseconds tick) {
  std::vector<Entry> fire;
  std::unique_lock<std::mutex> lk(shared->mtx);
  for (;;) {
    if (shared->stop) return;
    if (shared->count == 0)
      shared->cv.wait(lk);
    else
      shared->cv.wait_for(lk, tick);
    if (shared->stop) return;
    const std::int64_t now_tick = ms_now() / tick.count();
    for (auto it = shared->due.begin(); it != shared->due.end() && it->first <= now_tick;) {
      for (auto& e : it->second) fire.push_back(std::move(e));
      shared->count -= it->second.size();
      it = shared->due.erase(it);
    }
    if (fire.empty()) continue;
    lk.unlock();
    for (auto& e : fire) {
      if (e.answered && e.answered->load(std::memory_order_relaxed)) continue;
      auto target = e.target.lock();
      if (!target) continue;  // the actor is gone
      if (e.answered) {
        // Counted first: whoever gets the timeout sees it counted.
        shared->fired.fetch_add(1, std::memory_order_relaxed);
        target->get()->eq_impl(e.id, nullptr, nullptr, caf::make_error(caf::sec::request_timeout));
      } else {
        target->get()->enqueue(caf::make_mailbox_element(nullptr, e.id, {}, std::move(e.msg)),
                               nullptr);
      }
    }
    // Actors may be destroyed here (the entry held the last reference)
    // while the lock is not held.
    fire.clear();
    lk.lock();
  }
}

}  // namespace troupe::actors
