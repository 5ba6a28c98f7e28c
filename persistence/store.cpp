#include "persistence/store.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace troupe::persistence {

namespace {
/// Writes `seq`'s digits backwards from `end` over a run of 20 '0's.
void put_digits(char* end, std::uint64_t seq) {
  for (; seq > 0; seq /= 10) *--end = static_cast<char>('0' + seq % 10);
}

/// The number `digits` (1..20 decimal digits) spells; 0 when it is not one.
std::uint64_t parse_digits(std::string_view digits) {
  if (digits.empty() || digits.size() > 20) return 0;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}
}  // namespace

std::string seq20(std::uint64_t seq) {
  std::string out(20, '0');
  put_digits(out.data() + out.size(), seq);
  return out;
}

std::string log_key(std::uint64_t seq) {
  std::string key = "log/00000000000000000000";  // (built in place: one allocation)
  put_digits(key.data() + key.size(), seq);
  return key;
}

void sort_by_key(std::vector<Record>& records) {
  std::stable_sort(records.begin(), records.end(),
                   [](const Record& a, const Record& b) { return a.key < b.key; });
}

std::uint64_t log_floor_of(const std::string& value) { return parse_digits(value); }

std::uint64_t log_seq(const std::string& key) {
  constexpr size_t p = 4;
  if (key.size() != p + 20 || key.compare(0, p, log_prefix) != 0) return 0;
  return parse_digits(std::string_view(key).substr(p));
}

}  // namespace troupe::persistence
