#include "persistence/key_index.hpp"

#include <algorithm>

namespace troupe::persistence {
namespace {

/// Where a key's field starts: after its last '/' (0 when it has none).
size_t field_start(const std::string& key) {
  const auto slash = key.rfind('/');
  return slash == std::string::npos ? 0 : slash + 1;
}

std::uint64_t record_bytes(size_t key, size_t value) { return key + value + 9; }

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

template <class Map>
void KeyIndex::change(Map& m, typename Map::key_type k, Write&& w) {
  const size_t key_size = w.key.size();
  if (w.erase) {
    auto it = m.find(k);
    if (it == m.end()) return;
    live_bytes_ -= record_bytes(key_size, it->second.size());
    m.erase(it);
    --size_;
    return;
  }
  const size_t before = m.size();
  auto it = m.try_emplace(m.end(), std::move(k));  // (the log: appends at its end)
  if (m.size() > before)
    ++size_;
  else
    live_bytes_ -= record_bytes(key_size, it->second.size());
  live_bytes_ += record_bytes(key_size, w.value.size());
  it->second = std::move(w.value);
}

void KeyIndex::split(Group& g) const {
  Fields one = std::move(g.parts[0]);
  g.parts = std::vector<Fields>(parts_);
  for (auto& p : g.parts) p.reserve(2 * one.size() / parts_);
  while (!one.empty()) {
    auto node = one.extract(one.begin());  // (moves the node: no copy of key or value)
    g.parts[g.part_of(node.key())].insert(std::move(node));
  }
}

void KeyIndex::trim_log(std::uint64_t floor) {
  const auto end = log_.upper_bound(floor);
  for (auto it = log_.begin(); it != end; it = log_.erase(it)) {
    live_bytes_ -= record_bytes(std::char_traits<char>::length(log_prefix) + 20, it->second.size());
    --size_;
  }
}

void KeyIndex::apply(Write&& w) {
  if (const auto seq = log_seq(w.key); seq != 0) return change(log_, seq, std::move(w));
  if (!w.erase && w.key == log_floor_key) trim_log(log_floor_of(w.value));
  const size_t cut = field_start(w.key);
  const std::string prefix = w.key.substr(0, cut);
  std::string field = w.key.substr(cut);
  Group* g = nullptr;
  if (!w.erase) {
    g = &groups_[prefix];
  } else {
    auto it = groups_.find(prefix);
    if (it == groups_.end()) return;
    g = &it->second;
  }
  Fields& part = g->parts[g->part_of(field)];
  const size_t before = part.size();
  change(part, std::move(field), std::move(w));
  g->size = g->size + part.size() - before;
  if (g->size == 0) groups_.erase(prefix);
  else if (g->parts.size() == 1 && g->size >= split_at_) split(*g);
}

const std::string* KeyIndex::find(const std::string& key) const {
  if (const auto seq = log_seq(key); seq != 0) {
    auto it = log_.find(seq);
    return it == log_.end() ? nullptr : &it->second;
  }
  const size_t cut = field_start(key);
  auto g = groups_.find(key.substr(0, cut));
  if (g == groups_.end()) return nullptr;
  const std::string field = key.substr(cut);
  const Fields& part = g->second.parts[g->second.part_of(field)];
  auto f = part.find(field);
  return f == part.end() ? nullptr : &f->second;
}

std::vector<Record> KeyIndex::scan(const std::string& prefix) const {
  std::vector<Record> out;
  const std::string lp = log_prefix;
  if (prefix.size() <= lp.size() ? starts_with(lp, prefix) : starts_with(prefix, lp))
    for (const auto& [seq, value] : log_) {
      auto key = log_key(seq);
      if (starts_with(key, prefix)) out.push_back({std::move(key), value});
    }
  for (const auto& [group, g] : groups_) {
    if (group.size() >= prefix.size()) {
      if (!starts_with(group, prefix)) continue;
      for (const auto& fields : g.parts)
        for (const auto& [field, value] : fields) out.push_back({group + field, value});
    } else if (starts_with(prefix, group)) {
      const std::string rest = prefix.substr(group.size());
      for (const auto& fields : g.parts)
        for (const auto& [field, value] : fields)
          if (starts_with(field, rest)) out.push_back({group + field, value});
    }
  }
  return out;
}

std::vector<Record> KeyIndex::scan_group(const std::string& group) const {
  const std::string prefix = group + "/";
  std::vector<Record> out;
  if (prefix == log_prefix)
    for (const auto& [seq, value] : log_) out.push_back({log_key(seq), value});
  if (auto g = groups_.find(prefix); g != groups_.end()) {
    out.reserve(out.size() + g->second.size);
    for (const auto& fields : g->second.parts)
      for (const auto& [field, value] : fields) out.push_back({prefix + field, value});
  }
  return out;
}

std::vector<Record> KeyIndex::read_log(std::uint64_t after, size_t limit) const {
  std::vector<Record> out;
  for (auto it = log_.upper_bound(after); it != log_.end() && out.size() < limit; ++it)
    out.push_back({log_key(it->first), it->second});
  return out;
}

bool KeyIndex::walk(Walk& w, std::vector<Write>& out, size_t max_records, size_t max_bytes) const {
  size_t records = 0;
  size_t bytes = 0;
  auto full = [&] { return records >= max_records || bytes >= max_bytes; };
  auto take = [&](std::string key, const std::string& value) {
    bytes += key.size() + value.size();
    ++records;
    out.push_back({std::move(key), value, false});
  };
  if (!w.started) {
    w.started = true;
    w.groups.reserve(groups_.size());
    for (const auto& g : groups_) w.groups.push_back(g.first);
  }
  if (!w.log_done) {
    for (auto it = log_.upper_bound(w.last_seq); it != log_.end(); ++it) {
      if (full()) return true;
      take(log_key(it->first), it->second);
      w.last_seq = it->first;
    }
    w.log_done = true;
  }
  for (; w.group < w.groups.size(); ++w.group, w.part = 0, w.parts = 0, w.bucket = 0, w.buckets = 0) {
    const std::string& prefix = w.groups[w.group];
    auto g = groups_.find(prefix);
    if (g == groups_.end()) continue;  // gone: every record it had was erased
    // The group was split since the last chunk: its records moved between
    // tables, so it starts over (some come twice; none is missed).
    if (w.parts != g->second.parts.size()) {
      w.part = 0;
      w.parts = g->second.parts.size();
      w.bucket = 0;
      w.buckets = 0;
    }
    for (; w.part < w.parts; ++w.part, w.bucket = 0, w.buckets = 0) {
      const Fields& fields = g->second.parts[w.part];
      // The table grew since the last chunk: its records moved between
      // buckets, so this table starts over (some come twice; none is missed).
      if (w.buckets != fields.bucket_count()) {
        w.bucket = 0;
        w.buckets = fields.bucket_count();
      }
      for (; w.bucket < w.buckets; ++w.bucket) {
        if (full()) return true;
        for (auto it = fields.begin(w.bucket); it != fields.end(w.bucket); ++it)
          take(prefix + it->first, it->second);
      }
    }
  }
  return false;
}

}  // namespace troupe::persistence
