#pragma once
// A latency histogram for /metrics (Prometheus text format): fixed buckets
// from 0.1 ms to 5 s, lock-free counters, safe to record from any thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace troupe::actors {

class LatencyHistogram {
public:
  /// Upper bounds of the buckets, in microseconds (then +Inf).
  static constexpr std::array<std::int64_t, 15> bounds_us{
    100, 250, 500, 1000, 2000, 3000, 5000, 7500, 10000, 20000, 50000, 100000, 500000, 1000000, 5000000};

  void record(std::chrono::steady_clock::duration took);

  /// `name`'s HELP, TYPE, cumulative `_bucket{le=...}`, `_sum` and `_count` lines.
  std::string render(const std::string& name, const std::string& help) const;

  /// Samples recorded (the buckets' total).
  std::uint64_t count() const;

private:
  std::array<std::atomic<std::uint64_t>, bounds_us.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_us_{0};
};

}  // namespace troupe::actors
