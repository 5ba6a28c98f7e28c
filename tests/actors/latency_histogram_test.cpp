// The latency histogram behind /metrics' *_seconds series: each sample lands
// in the first bucket whose bound it does not exceed, buckets render
// cumulatively in seconds, and sum and count agree with what was recorded.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "actors/latency_histogram.hpp"

namespace {

using namespace std::chrono_literals;
using troupe::actors::LatencyHistogram;

/// The value of `series` (a whole line's name and labels) in `text`; -1 if absent.
double value_of(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(LatencyHistogram, SamplesFallIntoTheFirstBucketTheyDoNotExceedAndRenderCumulatively) {
  LatencyHistogram h;
  h.record(100us);    // on the first bound: in it
  h.record(101us);    // just past it: the next
  h.record(3ms);
  h.record(9ms);
  h.record(9ms);
  h.record(6s);       // past the last bound: +Inf only
  h.record(-5ms);     // a clock step back counts as 0
  EXPECT_EQ(h.count(), 7u);
  const auto text = h.render("t_seconds", "test");
  EXPECT_EQ(text.rfind("# HELP t_seconds test\n# TYPE t_seconds histogram\n", 0), 0u) << text;
  EXPECT_EQ(value_of(text, "t_seconds_bucket{le=\"0.0001\"}"), 2);  // 100 us and the 0
  EXPECT_EQ(value_of(text, "t_seconds_bucket{le=\"0.00025\"}"), 3);
  EXPECT_EQ(value_of(text, "t_seconds_bucket{le=\"0.002\"}"), 3);
  EXPECT_EQ(value_of(text, "t_seconds_bucket{le=\"0.003\"}"), 4);
  EXPECT_EQ(value_of(text, "t_seconds_bucket{le=\"0.01\"}"), 6);
  EXPECT_EQ(value_of(text, "t_seconds_bucket{le=\"5\"}"), 6);
  EXPECT_EQ(value_of(text, "t_seconds_bucket{le=\"+Inf\"}"), 7);
  EXPECT_EQ(value_of(text, "t_seconds_count"), 7);
  EXPECT_NEAR(value_of(text, "t_seconds_sum"), 0.000100 + 0.000101 + 0.003 + 0.018 + 6, 1e-6);
}

TEST(LatencyHistogram, AnEmptyHistogramRendersEveryBucketAtZero) {
  LatencyHistogram h;
  const auto text = h.render("e_seconds", "empty");
  EXPECT_EQ(value_of(text, "e_seconds_bucket{le=\"0.0001\"}"), 0);
  EXPECT_EQ(value_of(text, "e_seconds_bucket{le=\"+Inf\"}"), 0);
  EXPECT_EQ(value_of(text, "e_seconds_count"), 0);
  EXPECT_EQ(value_of(text, "e_seconds_sum"), 0);
}

}  // namespace
