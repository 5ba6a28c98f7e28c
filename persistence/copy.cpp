#include "persistence/copy.hpp"

#include <utility>

namespace troupe::persistence {
namespace {

using domain::ErrorKind;
using domain::make_error;

/// Gathers writes into one-batch commits and sends them, keeping at most one
/// in flight when the target pipelines (Redis: the next commit is gathered
/// while the last one's reply is on its way).
class Committer {
 public:
  Committer(Store& to, const CopyOptions& o) : to_(to), o_(o) {}

  Status add(Write w) {
    pending_.bytes += w.key.size() + w.value.size();
    if (const auto seq = log_seq(w.key); seq != 0) {
      pending_.log_entries++;
      pending_.last_seq = seq;
    } else if (w.key != unfinished_copy_key) {
      pending_.records++;
    }
    batch_.push_back(std::move(w));
    if (batch_.size() >= o_.batch_writes || pending_.bytes >= o_.batch_bytes) return send();
    return domain::ok_status();
  }

  /// Sends what is gathered and waits until every commit is confirmed.
  Status flush() {
    if (auto st = send(); !st) return st;
    return wait_all();
  }

  const CopyProgress& done() const { return done_; }

 private:
  Status send() {
    if (batch_.empty()) return domain::ok_status();
    // One in flight at most: the previous is confirmed before the next
    // starts (it overlapped with gathering this one).
    if (auto st = wait_all(); !st) return st;
    to_.send_commit({std::move(batch_)});
    sent_ = pending_;
    in_flight_ = true;
    batch_.clear();
    pending_ = {};
    return domain::ok_status();
  }

  Status wait_one() {
    in_flight_ = false;
    if (auto st = to_.wait_commit(); !st) return st;
    done_.records += sent_.records;
    done_.log_entries += sent_.log_entries;
    if (sent_.log_entries) done_.last_seq = sent_.last_seq;
    done_.bytes += sent_.bytes;
    done_.commits++;
    if (o_.on_progress) o_.on_progress(done_);
    return domain::ok_status();
  }

  Status wait_all() { return in_flight_ ? wait_one() : domain::ok_status(); }

  Store& to_;
  const CopyOptions& o_;
  Batch batch_;
  CopyProgress pending_;  ///< counts and bytes of `batch_`
  CopyProgress sent_;     ///< counts of the commit in flight
  bool in_flight_ = false;
  CopyProgress done_;
};

}  // namespace

Result<CopyProgress> copy_store(Store& from, Store& to, const CopyOptions& options) {
  CopyOptions o = options;
  if (o.batch_writes == 0) o.batch_writes = 1;
  if (o.log_page == 0) o.log_page = 1;

  auto there = to.scan("");
  if (!there) return there.error();
  auto there_log = to.read_log(0, 1);
  if (!there_log) return there_log.error();
  if (!there->empty() || !there_log->empty())
    return make_error(ErrorKind::conflict,
                      "the target store is not empty (" + std::to_string(there->size()) +
                        " records" + (there_log->empty() ? "" : " and an event log") +
                        "): copy into an empty one");

  auto unfinished = from.get(unfinished_copy_key);
  if (!unfinished) return unfinished.error();
  if (*unfinished)
    return make_error(ErrorKind::conflict,
                      "the source store is itself an unfinished copy (" +
                        std::string(unfinished_copy_key) + "): nothing was copied");

  Committer out(to, o);
  // The marker first, alone: whatever lands after it is known to be partial
  // until the last commit erases it.
  if (auto st = out.add({unfinished_copy_key, "troupe copy-store", false}); !st) return st.error();
  if (auto st = out.flush(); !st) return st.error();
  // The records as the source hands them over; the log's entries follow,
  // in order, from read_log.
  auto copied = from.each_record([&](std::vector<Record>&& chunk) -> Status {
    for (auto& r : chunk)
      if (auto st = out.add({std::move(r.key), std::move(r.value), false}); !st) return st;
    return domain::ok_status();
  });
  if (!copied) return copied.error();

  for (std::uint64_t after = 0;;) {
    auto page = from.read_log(after, o.log_page);
    if (!page) return page.error();
    if (page->empty()) break;
    for (auto& e : *page) {
      const auto seq = log_seq(e.key);
      if (seq <= after)
        return make_error(ErrorKind::internal, "the source's event log is out of order at " + e.key);
      after = seq;
      if (auto st = out.add({std::move(e.key), std::move(e.value), false}); !st) return st.error();
    }
  }
  if (auto st = out.flush(); !st) return st.error();
  if (auto st = out.add({unfinished_copy_key, {}, true}); !st) return st.error();
  if (auto st = out.flush(); !st) return st.error();
  return out.done();
}

}  // namespace troupe::persistence
