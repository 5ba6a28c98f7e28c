#include "actors/latency_histogram.hpp"

#include <cstdio>

namespace troupe::actors {

void LatencyHistogram::record(std::chrono::steady_clock::duration took) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  const auto clamped = us < 0 ? 0 : us;
  size_t i = 0;
  while (i < bounds_us.size() && clamped > bounds_us[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::uint64_t>(clamped), std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::count() const {
  std::uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

std::string LatencyHistogram::render(const std::string& name, const std::string& help) const {
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  std::uint64_t cumulative = 0;
  char le[32];
  for (size_t i = 0; i <= bounds_us.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    if (i < bounds_us.size())
      std::snprintf(le, sizeof le, "%g", static_cast<double>(bounds_us[i]) / 1e6);
    else
      std::snprintf(le, sizeof le, "+Inf");
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  out += name + "_sum " + sum + "\n";
  // The count is the buckets' total as read above (consistent with +Inf).
  out += name + "_count " + std::to_string(cumulative) + "\n";
  return out;
}

}  // namespace troupe::actors
