#include "persistence/store.hpp"

#include <cstring>

namespace troupe::persistence {

std::string log_key(std::uint64_t seq) {
  std::string key = "log/00000000000000000000";  // (20 digits: any uint64)
  for (size_t i = key.size(); seq > 0; seq /= 10) key[--i] = static_cast<char>('0' + seq % 10);
  return key;
}

std::uint64_t log_seq(const std::string& key) {
  constexpr size_t p = 4;
  if (key.size() != p + 20 || key.compare(0, p, log_prefix) != 0) return 0;
  std::uint64_t v = 0;
  for (size_t i = p; i < key.size(); ++i) {
    if (key[i] < '0' || key[i] > '9') return 0;
    v = v * 10 + static_cast<std::uint64_t>(key[i] - '0');
  }
  return v;
}

}  // namespace troupe::persistence
