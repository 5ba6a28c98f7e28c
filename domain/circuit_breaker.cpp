#include "domain/circuit_breaker.hpp"

#include <algorithm>

namespace troupe::domain {

const char* to_string(BreakerState s) {
  switch (s) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
  }
  return "closed";
}

void CircuitBreaker::move_to(BreakerState to, Timestamp now, std::string why) {
  transitions_.push_back({state_, to, now, std::move(why)});
  if (transitions_.size() > 50) transitions_.pop_front();
  ++transition_count_;
  state_ = to;
  if (to == BreakerState::open) opened_at_ = now;
  if (to == BreakerState::closed) {
    cool_down_ms_ = cfg_.cool_down_ms;
    consecutive_ = 0;
    window_.clear();
    window_failures_ = 0;
  }
}

CircuitBreaker::Permit CircuitBreaker::acquire(Timestamp now) {
  switch (state_) {
    case BreakerState::closed:
      ++calls_;
      return Permit::call;
    case BreakerState::open:
      if (now - opened_at_ >= cool_down_ms_) {
        move_to(BreakerState::half_open, now, "cool-down of " + std::to_string(cool_down_ms_) +
                                                  " ms elapsed");
        trial_in_flight_ = true;
        ++calls_;
        return Permit::trial;
      }
      ++refused_;
      return Permit::refuse;
    case BreakerState::half_open:
      if (!trial_in_flight_) {
        trial_in_flight_ = true;
        ++calls_;
        return Permit::trial;
      }
      ++refused_;
      return Permit::refuse;
  }
  return Permit::refuse;
}

void CircuitBreaker::record(Timestamp now, bool failed) {
  window_.push_back({now, failed});
  if (failed) ++window_failures_;
  while (static_cast<int>(window_.size()) > cfg_.window_calls &&
         window_.front().at <= now - cfg_.failure_span_ms) {
    if (window_.front().failed) --window_failures_;
    window_.pop_front();
  }
}

void CircuitBreaker::on_success(Timestamp now, bool trial) {
  ++successes_;
  if (trial) {
    trial_in_flight_ = false;
    if (state_ == BreakerState::half_open) move_to(BreakerState::closed, now, "trial call succeeded");
    return;
  }
  if (state_ != BreakerState::closed) return;  // a late answer from before opening
  consecutive_ = 0;
  last_success_at_ = now;
  record(now, false);
}

void CircuitBreaker::on_failure(Timestamp now, bool trial) {
  ++failures_;
  if (trial) {
    trial_in_flight_ = false;
    if (state_ == BreakerState::half_open) {
      cool_down_ms_ = std::min(cool_down_ms_ * 2, cfg_.max_cool_down_ms);
      move_to(BreakerState::open, now, "trial call failed");
    }
    return;
  }
  if (state_ != BreakerState::closed) return;
  ++consecutive_;
  record(now, true);
  if (consecutive_ >= cfg_.consecutive_failures &&
      (last_success_at_ == 0 || now - last_success_at_ >= cfg_.failure_span_ms)) {
    move_to(BreakerState::open, now, std::to_string(consecutive_) + " failures in a row");
  } else if (static_cast<int>(window_.size()) >= cfg_.window_calls &&
             window_failures_ >= cfg_.failure_rate * static_cast<double>(window_.size())) {
    move_to(BreakerState::open, now, std::to_string(window_failures_) + " of the last " +
                                         std::to_string(window_.size()) + " calls failed");
  }
}

std::int64_t CircuitBreaker::retry_after_ms(Timestamp now) const {
  if (state_ == BreakerState::closed) return 0;
  if (state_ == BreakerState::half_open) return 1;
  return std::max<std::int64_t>(1, cool_down_ms_ - (now - opened_at_));
}

}  // namespace troupe::domain
