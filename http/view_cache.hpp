#pragma once
/// Rendered read views (response bodies) kept until a record group they were
/// built from changes (see persistence/group_versions.hpp).
///
/// A reader stamps the groups' versions *before* reading them and stores the
/// body under that stamp; `find` answers only a body whose stamp equals the
/// current one. At most `capacity` bodies are kept (sharded; a full shard
/// drops one entry to take another). Capacity 0 keeps nothing. Thread-safe.

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace troupe::http {

class ViewCache {
 public:
  /// The versions of the (up to two) groups a view is built from.
  using Stamp = std::array<std::uint64_t, 2>;

  explicit ViewCache(std::size_t capacity) : per_shard_((capacity + shards - 1) / shards) {}

  std::optional<std::string> find(const std::string& key, const Stamp& stamp) {
    if (per_shard_ == 0) return std::nullopt;
    auto& sh = shard(key);
    std::lock_guard<std::mutex> l(sh.mu);
    auto it = sh.bodies.find(key);
    if (it == sh.bodies.end() || it->second.stamp != stamp) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    return it->second.body;
  }

  void put(const std::string& key, const Stamp& stamp, std::string body) {
    if (per_shard_ == 0) return;
    auto& sh = shard(key);
    std::lock_guard<std::mutex> l(sh.mu);
    auto it = sh.bodies.find(key);
    if (it == sh.bodies.end() && sh.bodies.size() >= per_shard_) sh.bodies.erase(sh.bodies.begin());
    sh.bodies[key] = Entry{stamp, std::move(body)};
  }

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t shards = 16;
  struct Entry {
    Stamp stamp{};
    std::string body;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> bodies;
  };
  Shard& shard(const std::string& key) { return shards_[std::hash<std::string>{}(key) % shards]; }

  std::size_t per_shard_;
  std::array<Shard, shards> shards_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace troupe::http
