// Scenarios for RFC 3339 instants (milliseconds since the epoch, UTC).
#include "domain/time.hpp"

#include <gtest/gtest.h>

#include <string>

namespace troupe::domain {
namespace {

constexpr Timestamp kHour = 3'600'000;
constexpr Timestamp k2024 = 1'704'067'200'000;      // 2024-01-01T00:00:00Z
constexpr Timestamp kLeapDay = 1'835'395'200'000;   // 2028-02-29T00:00:00Z

Timestamp parse_ok(const std::string& s) {
  auto t = parse_rfc3339(s);
  EXPECT_TRUE(t) << s << ": " << (t ? "" : t.error().detail);
  return t ? *t : -1;
}

void expect_rejected(const std::string& s) {
  auto t = parse_rfc3339(s);
  ASSERT_FALSE(t) << "'" << s << "' should not parse, got " << (t ? *t : 0);
  EXPECT_EQ(t.error().kind, ErrorKind::invalid_input);
  EXPECT_FALSE(t.error().detail.empty());
}

TEST(Time, ParsesTheEpoch) {
  EXPECT_EQ(parse_ok("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
}

TEST(Time, ParsesAKnownInstant) {
  EXPECT_EQ(parse_ok("2024-01-01T00:00:00Z"), k2024);
  EXPECT_EQ(parse_ok("2024-03-10T12:34:56.789Z"), 1'710'074'096'789);
}

TEST(Time, FormatThenParseRoundTrips) {
  for (Timestamp t : {Timestamp{0}, Timestamp{1}, Timestamp{999}, Timestamp{1000}, k2024,
                      k2024 + 1, k2024 + 86'399'999, kLeapDay, kLeapDay + 12 * kHour + 5,
                      Timestamp{1'710'074'096'789}, Timestamp{253'402'300'799'999}}) {
    const auto text = format_rfc3339(t);
    EXPECT_EQ(parse_ok(text), t) << text;
  }
}

TEST(Time, ParseThenFormatRoundTrips) {
  for (const char* s : {"1970-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "2024-03-10T12:34:56.789Z",
                        "2028-02-29T23:59:59.001Z", "2000-02-29T12:00:00Z",
                        "9999-12-31T23:59:59.999Z", "2030-06-15T08:05:03.100Z"}) {
    EXPECT_EQ(format_rfc3339(parse_ok(s)), s);
  }
}

TEST(Time, FormatsWholeSecondsWithoutFraction) {
  EXPECT_EQ(format_rfc3339(k2024), "2024-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(k2024 + 1000), "2024-01-01T00:00:01Z");
}

TEST(Time, FormatsMillisecondsWithThreeDigits) {
  EXPECT_EQ(format_rfc3339(k2024 + 1), "2024-01-01T00:00:00.001Z");
  EXPECT_EQ(format_rfc3339(k2024 + 10), "2024-01-01T00:00:00.010Z");
  EXPECT_EQ(format_rfc3339(k2024 + 500), "2024-01-01T00:00:00.500Z");
}

TEST(Time, FormatsInstantsBeforeTheEpoch) {
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339(-1000), "1969-12-31T23:59:59Z");
}

TEST(Time, PositiveOffsetIsConvertedToUtc) {
  EXPECT_EQ(parse_ok("2024-01-01T09:00:00+09:00"), k2024);
  EXPECT_EQ(format_rfc3339(parse_ok("2024-01-01T09:00:00+09:00")), "2024-01-01T00:00:00Z");
}

TEST(Time, NegativeOffsetIsConvertedToUtc) {
  EXPECT_EQ(parse_ok("2023-12-31T19:00:00-05:00"), k2024);
}

TEST(Time, OffsetWithMinutes) {
  EXPECT_EQ(parse_ok("2024-01-01T05:30:00+05:30"), k2024);
  EXPECT_EQ(parse_ok("2023-12-31T20:15:00-03:45"), k2024);
}

TEST(Time, ZeroOffsetEqualsZ) {
  EXPECT_EQ(parse_ok("2024-01-01T00:00:00+00:00"), k2024);
  EXPECT_EQ(parse_ok("2024-01-01T00:00:00-00:00"), k2024);
}

TEST(Time, OffsetCrossesADateLine) {
  // Early on 1 March in Tokyo is still the leap day in UTC.
  EXPECT_EQ(format_rfc3339(parse_ok("2028-03-01T08:00:00+09:00")), "2028-02-29T23:00:00Z");
}

TEST(Time, LowercaseSeparatorsAreAccepted) {
  EXPECT_EQ(parse_ok("2024-01-01t00:00:00z"), k2024);
}

TEST(Time, FractionsArePaddedToMilliseconds) {
  EXPECT_EQ(parse_ok("2024-01-01T00:00:00.5Z"), k2024 + 500);
  EXPECT_EQ(parse_ok("2024-01-01T00:00:00.05Z"), k2024 + 50);
  EXPECT_EQ(parse_ok("2024-01-01T00:00:00.123Z"), k2024 + 123);
}

TEST(Time, FractionsBeyondMillisecondsAreTruncated) {
  EXPECT_EQ(parse_ok("2024-01-01T00:00:00.123456Z"), k2024 + 123);
  EXPECT_EQ(parse_ok("2024-01-01T00:00:00.999999999Z"), k2024 + 999);
}

TEST(Time, FractionWithOffset) {
  EXPECT_EQ(parse_ok("2024-01-01T09:00:00.250+09:00"), k2024 + 250);
}

TEST(Time, LeapDayInALeapYearIsValid) {
  EXPECT_EQ(parse_ok("2028-02-29T00:00:00Z"), kLeapDay);
  EXPECT_EQ(parse_ok("2000-02-29T00:00:00Z") > 0, true);  // divisible by 400
}

TEST(Time, LeapDayInACommonYearIsInvalid) {
  expect_rejected("2027-02-29T00:00:00Z");
  expect_rejected("2100-02-29T00:00:00Z");  // divisible by 100, not by 400
}

TEST(Time, DayAfterTheLeapDayIsTheFirstOfMarch) {
  EXPECT_EQ(parse_ok("2028-03-01T00:00:00Z") - kLeapDay, 24 * kHour);
  EXPECT_EQ(parse_ok("2027-03-01T00:00:00Z") - parse_ok("2027-02-28T00:00:00Z"), 24 * kHour);
}

TEST(Time, RejectsOutOfRangeFields) {
  expect_rejected("2024-00-10T00:00:00Z");  // month 0
  expect_rejected("2024-13-10T00:00:00Z");  // month 13
  expect_rejected("2024-01-00T00:00:00Z");  // day 0
  expect_rejected("2024-01-32T00:00:00Z");
  expect_rejected("2024-04-31T00:00:00Z");  // April has 30 days
  expect_rejected("2024-01-01T24:00:00Z");
  expect_rejected("2024-01-01T00:60:00Z");
  expect_rejected("2024-01-01T00:00:60Z");  // no leap seconds
  expect_rejected("1969-12-31T23:59:59Z");  // before 1970
}

TEST(Time, RejectsMissingZone) {
  expect_rejected("2024-01-01T00:00:00");
  expect_rejected("2024-01-01T00:00:00.123");
  expect_rejected("2024-01-01T00:00:00 ");
}

TEST(Time, RejectsBadOffsets) {
  expect_rejected("2024-01-01T00:00:00+09");
  expect_rejected("2024-01-01T00:00:00+0900");
  expect_rejected("2024-01-01T00:00:00+09:0");
  expect_rejected("2024-01-01T00:00:00+24:00");
  expect_rejected("2024-01-01T00:00:00+09:60");
  expect_rejected("2024-01-01T00:00:00+");
  expect_rejected("2024-01-01T00:00:00+xx:00");
}

TEST(Time, RejectsEmptyFraction) {
  expect_rejected("2024-01-01T00:00:00.Z");
  expect_rejected("2024-01-01T00:00:00.");
}

TEST(Time, RejectsTrailingCharacters) {
  expect_rejected("2024-01-01T00:00:00ZZ");
  expect_rejected("2024-01-01T00:00:00Z ");
  expect_rejected("2024-01-01T00:00:00+09:00Z");
}

TEST(Time, RejectsGarbage) {
  expect_rejected("");
  expect_rejected("now");
  expect_rejected("tomorrow at noon");
  expect_rejected("2024");
  expect_rejected("2024-01-01");
  expect_rejected("2024-01-01 00:00:00Z");   // space instead of T
  expect_rejected("2024/01/01T00:00:00Z");
  expect_rejected("24-01-01T00:00:00Z");
  expect_rejected("2024-1-01T00:00:00Z");
  expect_rejected("2024-01-01T0:00:00Z");
  expect_rejected("2024-01-01T00:00Z");      // no seconds
  expect_rejected("1704067200000");          // a number, not a time
  expect_rejected("-024-01-01T00:00:00Z");
  expect_rejected(std::string("2024-01-01T00:00:00Z\0", 21));
}

TEST(Time, ErrorDetailQuotesTheInput) {
  auto t = parse_rfc3339("yesterday-ish");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().detail.find("yesterday-ish"), std::string::npos) << t.error().detail;
}

TEST(Time, NowIsAfter2024) { EXPECT_GT(now_ms(), k2024); }

}  // namespace
}  // namespace troupe::domain
