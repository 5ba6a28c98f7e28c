#pragma once
/// Change counters for record groups, so a reader can cache what it built
/// from a group (a rendered view) and know when it is stale.
///
/// Contract: the writer calls `changed(key)` for every key of a commit
/// *after* the commit is visible (or failed: in doubt counts as changed). A
/// reader takes `of(group)` *before* it reads the group; a cached result is
/// current while `of(group)` still returns the number it was built with.
/// Groups share counters by hash (8192 slots): a collision costs an extra
/// rebuild, never a stale answer. Thread-safe, lock-free.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace troupe::persistence {

class GroupVersions {
 public:
  /// The counter of the group `<group>` of `key` = `<group>/<field>`.
  void changed(std::string_view key) {
    const auto slash = key.rfind('/');
    if (slash == std::string_view::npos) return;
    slot(key.substr(0, slash)).fetch_add(1, std::memory_order_release);
  }
  std::uint64_t of(std::string_view group) const {
    return slot(group).load(std::memory_order_acquire);
  }

 private:
  static constexpr std::size_t slots = 8192;
  std::atomic<std::uint64_t>& slot(std::string_view group) const {
    return counters_[std::hash<std::string_view>{}(group) % slots];
  }
  mutable std::array<std::atomic<std::uint64_t>, slots> counters_{};
};

}  // namespace troupe::persistence
