// Configuration: defaults < config file < environment < flags.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "app/config.hpp"

using troupe::app::parse_config;

namespace {
std::string write_file(const std::string& text) {
  char path[] = "/tmp/troupe-config-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST(Config, DefaultsServeOnTheEmbeddedStore) {
  auto c = parse_config({}, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->command, "serve");
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_TRUE(c->redis_url.empty());
  EXPECT_FALSE(c->enable_faults);
  EXPECT_EQ(c->payment_timeout_ms, 610);
  EXPECT_EQ(c->caf_scheduler, "sharing");
  EXPECT_EQ(c->order_idle_ms, 0);
  EXPECT_EQ(c->resource_idle_ms, 300000);
  EXPECT_EQ(c->store_nice, -10);
}

TEST(Config, FlagsBeatEnvironmentWhichBeatsTheFile) {
  const auto file = write_file("port = 1111\ndata-dir = /from/file\nlog-level = warn\n");
  std::string e1 = "TROUPE_PORT=2222", e2 = "TROUPE_CONFIG=" + file;
  char* env[] = {e1.data(), e2.data(), nullptr};
  auto c = parse_config({"serve", "--data-dir", "/from/flag"}, env);
  ASSERT_TRUE(c.ok()) << c.error().detail;
  EXPECT_EQ(c->port, 2222) << "environment over file";
  EXPECT_EQ(c->data_dir, "/from/flag") << "flag over file";
  EXPECT_EQ(c->log_level, "warn") << "file over default";
  std::remove(file.c_str());
}

TEST(Config, CommentsStartAtLineStartOrAfterSpaceSoValuesMayHoldAHash) {
  const auto file = write_file("# a comment\nport = 3333 # trailing\nredis-password = se#cret\n");
  auto c = parse_config({"--config", file}, nullptr);
  ASSERT_TRUE(c.ok()) << c.error().detail;
  EXPECT_EQ(c->port, 3333);
  EXPECT_EQ(c->redis_password, "se#cret");
  std::remove(file.c_str());
}

TEST(Config, BooleanFlagNeedsNoValueAndRedisUrlHasItsOwnVariable) {
  std::string e = "TROUPE_REDIS_URL=redis://127.0.0.1:6390";
  char* env[] = {e.data(), nullptr};
  auto c = parse_config({"serve", "--enable-faults", "--port", "9000"}, env);
  ASSERT_TRUE(c.ok()) << c.error().detail;
  EXPECT_TRUE(c->enable_faults);
  EXPECT_EQ(c->port, 9000);
  EXPECT_EQ(c->redis_url, "redis://127.0.0.1:6390");
}

TEST(Config, BatchSchedulingIsOnByDefaultAndCanBeTurnedOff) {
  auto d = parse_config({"serve"}, nullptr);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_TRUE(d->sched_batch);
  auto off = parse_config({"serve", "--sched-batch", "0"}, nullptr);
  ASSERT_TRUE(off.ok()) << off.error().detail;
  EXPECT_FALSE(off->sched_batch);
  std::string e = "TROUPE_SCHED_BATCH=off";
  char* env[] = {e.data(), nullptr};
  auto from_env = parse_config({"serve"}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.error().detail;
  EXPECT_FALSE(from_env->sched_batch);
  auto bad = parse_config({"serve", "--sched-batch", "sometimes"}, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("--sched-batch"), std::string::npos) << bad.error().detail;
}

TEST(Config, BadInputIsRefusedWithTheOptionsName) {
  for (auto args : std::vector<std::vector<std::string>>{
         {"--port", "0"},
         {"--port", "70000"},
         {"--port", "12x"},
         {"--payment-failure-rate", "1.5"},
         {"--payment-latency-ms", "5,1"},
         {"--log-level", "loud"},
         {"--caf-scheduler", "fifo"},
         {"--order-idle-ms", "-1"},
         {"--resource-idle-ms", "x"},
         {"--store-nice", "20"},
         {"--store-nice", "-21"},
         {"--nope", "1"},
         {"frobnicate"},
         {"--port"}}) {
    auto c = parse_config(args, nullptr);
    EXPECT_FALSE(c.ok()) << args[0];
  }
  auto missing = parse_config({"--config", "/no/such/file"}, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("/no/such/file"), std::string::npos);
}

TEST(Config, HelpListsEveryOptionWithItsVariable) {
  auto c = parse_config({"--help"}, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->command, "help");
  const auto u = troupe::app::usage();
  for (const char* s : {"--port", "TROUPE_PORT", "--data-dir", "TROUPE_DATA_DIR", "--redis",
                        "TROUPE_REDIS_URL", "TROUPE_REDIS_PASSWORD", "--enable-faults",
                        "--payment-timeout-ms", "--breaker-failures"})
    EXPECT_NE(u.find(s), std::string::npos) << s;
}

TEST(Config, CopyStoreTakesOneTargetAndTheSourcesOptions) {
  auto c = parse_config({"copy-store", "redis://127.0.0.1:6379", "--data-dir", "/srv/troupe"}, nullptr);
  ASSERT_TRUE(c.ok()) << c.error().detail;
  EXPECT_EQ(c->command, "copy-store");
  EXPECT_EQ(c->copy_to, "redis://127.0.0.1:6379");
  EXPECT_EQ(c->data_dir, "/srv/troupe");

  auto none = parse_config({"copy-store", "--data-dir", "/srv/troupe"}, nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().detail.find("where to"), std::string::npos) << none.error().detail;
  auto two = parse_config({"copy-store", "/a", "/b"}, nullptr);
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().detail.find("unexpected argument '/b'"), std::string::npos) << two.error().detail;
  auto serve_with_target = parse_config({"serve", "/a"}, nullptr);
  EXPECT_FALSE(serve_with_target.ok()) << "serve takes no positional argument";
}
