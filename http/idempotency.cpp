#include "http/idempotency.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "domain/fields.hpp"

namespace troupe::http::idempotency {

using domain::ErrorKind;
using domain::make_error;
using nlohmann::json;

std::string group(const std::string& customer_id) { return "idem/" + customer_id; }

domain::Status check_key(std::string_view key) {
  if (key.empty() || key.size() > 255)
    return make_error(ErrorKind::invalid_input,
                      std::string("'") + key_header + "' must be 1-255 printable ASCII characters");
  for (unsigned char c : key)
    if (c < 0x20 || c > 0x7e)
      return make_error(ErrorKind::invalid_input, std::string("'") + key_header +
                                                      "' must be 1-255 printable ASCII characters");
  return domain::ok_status();
}

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(std::uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = digits[v & 15];
  return out;
}

std::string fingerprint_canonical(std::string_view method, std::string_view path,
                                  std::string_view canonical) {
  std::string text;
  text.reserve(method.size() + path.size() + canonical.size() + 2);
  text.append(method).append(" ").append(path).append("\n").append(canonical);
  return hex64(fnv1a64(text)) + ":" + std::to_string(text.size());
}

std::string fingerprint(std::string_view method, std::string_view path, std::string_view body) {
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  if (!body.empty() && !j.is_discarded())  // object keys sorted, no spaces: the canonical form
    return fingerprint_canonical(method, path, j.dump());
  return fingerprint_canonical(method, path, body);
}

std::string store_key(const std::string& customer_id, std::string_view key) {
  return group(customer_id) + "/" + hex64(fnv1a64(key));
}

namespace {
constexpr std::string_view record_tag = "I1";

domain::Error corrupt_record() { return make_error(ErrorKind::internal, "corrupt idempotency record"); }

/// The JSON object of the first versions.
domain::Result<Record> decode_json(std::string_view value) {
  auto j = json::parse(value.begin(), value.end(), nullptr, false);
  if (!j.is_object()) return corrupt_record();
  Record r;
  try {
    r.key = j.at("key").get<std::string>();
    r.fingerprint = j.at("fingerprint").get<std::string>();
    r.created_at = j.at("createdAt").get<domain::Timestamp>();
    r.response.status = j.at("status").get<int>();
    r.response.content_type = j.at("contentType").get<std::string>();
    r.response.body = j.at("body").get<std::string>();
    if (j.contains("location")) r.response.location = j.at("location").get<std::string>();
  } catch (const json::exception&) {
    return corrupt_record();
  }
  return r;
}
}  // namespace

std::string encode(const Record& r) {
  return domain::fields::Writer(record_tag, 96 + r.response.body.size())
    .add(r.key)
    .add(r.fingerprint)
    .add(r.created_at)
    .add(r.response.status)
    .add(r.response.content_type)
    .add(r.response.body)
    .add(r.response.location)
    .take();
}

domain::Result<Record> decode(std::string_view value) {
  if (!value.empty() && value.front() == '{') return decode_json(value);
  domain::fields::Reader in(value);
  if (in.size() != 8 || in.text() != record_tag) return corrupt_record();
  Record r;
  r.key = in.text();
  r.fingerprint = in.text();
  r.created_at = in.number();
  const auto status = in.number();
  r.response.content_type = in.text();
  r.response.body = in.text();
  r.response.location = in.text();
  if (!in.ok() || status < 100 || status > 599) return corrupt_record();
  r.response.status = static_cast<int>(status);
  return r;
}

bool remembered(int status) { return status >= 200 && status < 500; }

// ---- Claim ----

Claim& Claim::operator=(Claim&& o) noexcept {
  if (this != &o) {
    if (keeper_) keeper_->release(scope_);
    keeper_ = o.keeper_;
    scope_ = std::move(o.scope_);
    key_ = std::move(o.key_);
    customer_ = std::move(o.customer_);
    fp_ = std::move(o.fp_);
    o.keeper_ = nullptr;
  }
  return *this;
}

Claim::~Claim() {
  if (keeper_) keeper_->release(scope_);
}

domain::Status Claim::finish(Response r) {
  domain::Status out = domain::ok_status();
  if (!keeper_) return out;
  Keeper* k = keeper_;
  keeper_ = nullptr;
  k->finish(scope_, customer_, fp_, key_, std::move(r), out);
  return out;
}

// ---- Keeper ----

Keeper::Keeper(Read read, Write write, Now now)
    : read_(std::move(read)), write_(std::move(write)), now_(std::move(now)) {}

Decision Keeper::from_record(const Record& rec, const std::string& fp) const {
  Decision d;
  if (rec.fingerprint == fp) {
    d.kind = Decision::Kind::replay;
    d.response = rec.response;
  } else {
    d.kind = Decision::Kind::mismatch;
  }
  return d;
}

Decision Keeper::begin(const std::string& customer, const std::string& key,
                       const std::string& fp, Claim& claim) {
  const std::string scope = customer + "\n" + key;
  std::optional<Record> unsaved;  // answered, but only remembered in memory
  Decision d;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = entries_.find(scope);
    if (it != entries_.end() && it->second.done &&
        now_() - it->second.record.created_at >= retention_ms) {
      entries_.erase(it);  // expired
      it = entries_.end();
    }
    if (it != entries_.end()) {
      if (!it->second.done) {
        d.kind = it->second.fp == fp ? Decision::Kind::in_progress : Decision::Kind::mismatch;
        return d;
      }
      d = from_record(it->second.record, fp);
      unsaved = it->second.record;
    } else {
      entries_[scope] = Entry{fp, false, {}};
    }
  }
  if (unsaved) {
    // Try again to make it durable; on success memory can forget it.
    if (write_({store_key(customer, key), encode(*unsaved), false})) {
      std::lock_guard<std::mutex> l(mu_);
      auto it = entries_.find(scope);
      if (it != entries_.end() && it->second.done &&
          it->second.record.created_at == unsaved->created_at)
        entries_.erase(it);
    }
    return d;
  }
  // Claimed: any later request waits for us (in_progress) until we release.
  auto stored = read_(store_key(customer, key));
  if (!stored) {
    release(scope);
    d.kind = Decision::Kind::failed;
    d.error = stored.error();
    return d;
  }
  if (*stored) {
    auto rec = decode(**stored);
    if (!rec) {
      spdlog::error("idempotency record {} is corrupt", store_key(customer, key));
      release(scope);
      d.kind = Decision::Kind::failed;
      d.error = rec.error();
      return d;
    }
    if (now_() - rec->created_at < retention_ms) {
      release(scope);
      if (rec->key != key) {  // another key with the same hash: refuse, never overwrite
        d.kind = Decision::Kind::mismatch;
        return d;
      }
      return from_record(*rec, fp);
    }
    // Expired: this request runs and its answer overwrites the record.
  }
  claim = Claim(this, scope, key, customer, fp);
  d.kind = Decision::Kind::execute;
  return d;
}

void Keeper::finish(const std::string& scope, const std::string& customer, const std::string& fp,
                    const std::string& key, Response r, domain::Status& out) {
  if (!remembered(r.status)) {
    release(scope);
    return;
  }
  Record rec{key, fp, now_(), std::move(r)};
  out = write_({store_key(customer, key), encode(rec), false});
  std::lock_guard<std::mutex> l(mu_);
  if (out) {
    entries_.erase(scope);
    return;
  }
  spdlog::warn("idempotency: the answer ({}) for customer {} could not be stored ({}); it is "
               "remembered in memory until it can be",
               rec.response.status, customer, out.error().detail);
  auto& e = entries_[scope];
  e.fp = fp;
  e.done = true;
  e.record = std::move(rec);
}

void Keeper::release(const std::string& scope) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(scope);
  if (it != entries_.end() && !it->second.done) entries_.erase(it);
}

size_t Keeper::running() const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& kv : entries_) n += kv.second.done ? 0 : 1;
  return n;
}

size_t Keeper::memory_only() const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& kv : entries_) n += kv.second.done ? 1 : 0;
  return n;
}

}  // namespace troupe::http::idempotency
