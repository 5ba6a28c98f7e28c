#include "persistence/file_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <shared_mutex>

#include "persistence/key_index.hpp"

namespace troupe::persistence {
namespace {

using domain::ErrorKind;
using domain::make_error;

constexpr std::uint32_t frame_magic = 0x50555254;  // "TRUP"
constexpr size_t header_size = 12;
constexpr std::uint8_t op_put = 1;
constexpr std::uint8_t op_erase = 2;

/// CRC-32 (IEEE, as in zlib/gzip): zlib's is several times faster than a
/// byte-wise table, which mattered at start-up (every frame is checked) and
/// on every commit.
std::uint32_t crc32(const char* data, size_t n) {
  uLong c = ::crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    c = ::crc32(c, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(c);
}

void put_u32(std::string& out, std::uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  out.append(b, 4);
}

std::uint32_t get_u32(const char* p) {
  return static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[0])) |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[2])) << 16 |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[3])) << 24;
}

/// Appends one frame holding `writes` to `out` (the payload is built in
/// place, its length and CRC filled in after it).
template <class It>
void encode_frame(std::string& out, It first, It last) {
  const size_t start = out.size();
  size_t payload_size = 4;
  for (auto it = first; it != last; ++it)
    payload_size += 9 + it->key.size() + (it->erase ? 0 : it->value.size());
  out.reserve(start + header_size + payload_size);
  put_u32(out, frame_magic);
  put_u32(out, static_cast<std::uint32_t>(payload_size));
  put_u32(out, 0);  // the CRC, below
  put_u32(out, static_cast<std::uint32_t>(std::distance(first, last)));
  for (auto it = first; it != last; ++it) {
    const bool erase = it->erase;
    out.push_back(static_cast<char>(erase ? op_erase : op_put));
    put_u32(out, static_cast<std::uint32_t>(it->key.size()));
    out += it->key;
    put_u32(out, static_cast<std::uint32_t>(erase ? 0 : it->value.size()));
    if (!erase) out += it->value;
  }
  const std::uint32_t crc = crc32(out.data() + start + header_size, payload_size);
  for (int i = 0; i < 4; ++i) out[start + 8 + static_cast<size_t>(i)] = static_cast<char>(crc >> (8 * i));
}

/// Decodes a verified payload into writes; false when malformed.
bool decode_payload(const char* p, size_t n, std::vector<Write>& out) {
  if (n < 4) return false;
  std::uint32_t count = get_u32(p);
  size_t pos = 4;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (pos + 5 > n) return false;
    Write w;
    const std::uint8_t op = static_cast<std::uint8_t>(p[pos]);
    std::uint32_t kl = get_u32(p + pos + 1);
    pos += 5;
    if (pos + kl + 4 > n) return false;
    w.key.assign(p + pos, kl);
    pos += kl;
    std::uint32_t vl = get_u32(p + pos);
    pos += 4;
    if (pos + vl > n) return false;
    w.value.assign(p + pos, vl);
    pos += vl;
    if (op != op_put && op != op_erase) return false;
    w.erase = op == op_erase;
    out.push_back(std::move(w));
  }
  return pos == n;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

class FileStore final : public Store {
 public:
  explicit FileStore(FileStoreOptions o) : opt_(std::move(o)) {}
  ~FileStore() override { close(); }

  Status open() {
    if (::mkdir(opt_.dir.c_str(), 0755) != 0 && errno != EEXIST)
      return unavailable(errno_text("cannot create data directory " + opt_.dir));
    lock_fd_ = ::open((opt_.dir + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) return unavailable(errno_text("cannot open " + opt_.dir + "/LOCK"));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
      return unavailable("data directory " + opt_.dir + " is in use by another process");
    log_path_ = opt_.dir + "/troupe.log";
    const bool existed = ::access(log_path_.c_str(), F_OK) == 0;
    fd_ = ::open(log_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return unavailable(errno_text("cannot open " + log_path_));
    if (!existed && opt_.sync) sync_dir();  // the new file's name must survive a crash too
    return replay();
  }

  std::string describe() const override { return "file:" + opt_.dir; }

  Status commit(const std::vector<Batch>& batches) override {
    std::string buf;
    size_t nwrites = 0;
    for (const auto& b : batches) {
      if (b.empty()) continue;
      encode_frame(buf, b.begin(), b.end());
      nwrites += b.size();
    }
    std::lock_guard<std::mutex> wl(write_mu_);
    if (fd_ < 0) return unavailable("store is closed");
    if (!buf.empty()) {
      const std::uint64_t end = file_size_ + buf.size();
      if (!write_all(fd_, buf.data(), buf.size())) {
        auto err = errno_text("write to " + log_path_ + " failed");
        // Cut off whatever part of the frames reached the file: the failed
        // commit must not become visible at the next start.
        cut_back();
        return unavailable(err);
      }
      zero_ahead(end);
      if (opt_.sync && ::fdatasync(fd_) != 0) {
        // After a failed fsync the page cache may still reach the disk later:
        // cut the frames off so the commit is definitely not applied.
        auto err = errno_text("fdatasync of " + log_path_ + " failed");
        cut_back();
        return unavailable(err);
      }
      drop_synced_pages(end);
      file_size_ = end;
    }
    {
      std::unique_lock<std::shared_mutex> l(index_mu_);
      for (const auto& b : batches)
        for (const auto& w : b) index_.apply(Write(w));
      stats_.commits++;
      stats_.batches += batches.size();
      stats_.writes += nwrites;
    }
    maybe_compact_in_background();
    return domain::ok_status();
  }

  bool reads_in_parallel() const override { return true; }

  Result<std::optional<std::string>> get(const std::string& key) override {
    std::shared_lock<std::shared_mutex> l(index_mu_);
    const std::string* v = index_.find(key);
    if (v == nullptr) return std::optional<std::string>{};
    return std::optional<std::string>{*v};
  }

  Result<std::vector<Record>> scan(const std::string& prefix) override {
    return sorted_copy([&] { return index_.scan(prefix); });
  }

  /// The index walked a chunk at a time (the lock let go between chunks),
  /// unsorted: a copy of 5M records skips sorting them all at once.
  Status each_record(const std::function<Status(std::vector<Record>&&)>& sink) override {
    KeyIndex::Walk walk;
    walk.log_done = true;  // (the log's entries are read_log's)
    std::vector<Write> chunk;
    for (bool more = true; more;) {
      chunk.clear();
      {
        std::shared_lock<std::shared_mutex> l(index_mu_);
        more = index_.walk(walk, chunk, 8192, 4u << 20);
      }
      if (chunk.empty()) continue;
      std::vector<Record> records;
      records.reserve(chunk.size());
      for (auto& w : chunk) records.push_back({std::move(w.key), std::move(w.value)});
      if (auto st = sink(std::move(records)); !st) return st;
    }
    return domain::ok_status();
  }

  Result<std::vector<Record>> read_log(std::uint64_t after, size_t limit) override {
    std::shared_lock<std::shared_mutex> l(index_mu_);
    return index_.read_log(after, limit);
  }

  Result<std::vector<Record>> scan_group(const std::string& group) override {
    return sorted_copy([&] { return index_.scan_group(group); });
  }

  StoreStats stats() const override {
    std::shared_lock<std::shared_mutex> l(index_mu_);
    StoreStats s = stats_;
    s.live_records = index_.size();
    s.bytes_on_disk = file_size_;
    return s;
  }

  Status ping() override {
    std::lock_guard<std::mutex> wl(write_mu_);
    if (fd_ < 0) return unavailable("store is closed");
    return domain::ok_status();
  }

  Status close() override {
    {
      std::lock_guard<std::mutex> wl(write_mu_);
      closing_ = true;  // no compaction starts any more
    }
    join_compactor();
    // A clean shutdown leaves the log compacted when over a fifth of it is
    // dead: the next start replays only live records.
    std::uint64_t from = 0;
    {
      std::lock_guard<std::mutex> wl(write_mu_);
      if (fd_ >= 0 && file_size_ > close_compact_min && file_size_ > index_.live_bytes() + index_.live_bytes() / 4)
        from = file_size_;
    }
    if (from > 0) compact_concurrently(from);
    std::lock_guard<std::mutex> wl(write_mu_);
    if (fd_ >= 0) {
      // The space zeroed ahead goes: the file ends with its last frame.
      if (prepared_ > file_size_ && ::ftruncate(fd_, static_cast<off_t>(file_size_.load())) == 0)
        prepared_ = file_size_;
      if (opt_.sync) ::fsync(fd_);
      ::close(fd_);
      fd_ = -1;
    }
    if (lock_fd_ >= 0) {
      ::flock(lock_fd_, LOCK_UN);
      ::close(lock_fd_);
      lock_fd_ = -1;
    }
    return domain::ok_status();
  }

 private:
  static domain::Error unavailable(std::string detail) {
    return make_error(ErrorKind::store_unavailable, std::move(detail));
  }

  /// Keeps the file's end (`prepared_`) at least zero_ahead_min bytes past
  /// the log's end `end` by writing zeros (caller holds write_mu_; before
  /// the commit's fdatasync, which makes them durable with it). Appends then
  /// overwrite blocks that are allocated and inside the file's size, so an
  /// fdatasync writes the data and flushes, without the inode write and
  /// block allocation an appending one needs. Measured here (20 KB commits,
  /// write + fdatasync): 92-110 -> 54-65 us of CPU and p50 380-450 ->
  /// 135-270 us per commit. Best effort: a failed write only means appends.
  void zero_ahead(std::uint64_t end) {
    if (prepared_ >= end + zero_ahead_min) return;
    static const std::string zeros(zero_ahead_chunk, '\0');
    std::uint64_t at = std::max<std::uint64_t>(prepared_, end);
    const std::uint64_t target = end + zero_ahead_chunk;
    while (at < target) {
      const size_t n = static_cast<size_t>(std::min<std::uint64_t>(target - at, zeros.size()));
      const ssize_t w = ::pwrite(fd_, zeros.data(), n, static_cast<off_t>(at));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      at += static_cast<std::uint64_t>(w);
    }
    prepared_ = std::max(at, end);
  }

  /// Cuts the file back to the log's end after a failed commit (the zeroed
  /// space goes too) and puts the write position there (caller holds
  /// write_mu_).
  void cut_back() {
    if (::ftruncate(fd_, static_cast<off_t>(file_size_.load())) == 0 && opt_.sync) ::fdatasync(fd_);
    prepared_ = file_size_;
    ::lseek(fd_, static_cast<off_t>(file_size_.load()), SEEK_SET);
  }

  /// Lets the page cache drop the log's pages below `to` once they are on
  /// disk, but for the partly written last one (caller holds write_mu_).
  /// Reads come from the index; the log is read back only at start-up and
  /// by a compaction (the frames committed while it ran, from disk now, at
  /// ~0.5-0.9 GB/s here). Keeping every page meant a fresh page for every
  /// 4 KiB appended: on the 2-core VM that was a tenth of the writer
  /// thread's time late in s1 (copies into cold pages, page clearing),
  /// against pages that stay cache-hot when reused. A/B, 5 s of s1 at c=64
  /// after 15 s: writer thread 53-61 -> 42-48 us per order, process 216-238
  /// -> 193-213 us, p99 24-27 -> 19-20 ms.
  /// The range ends at the last whole page: Linux drops a partial last page
  /// when the range reaches the end of the file, and the next commit's
  /// write then read it back from the disk (one synchronous 4 KiB read per
  /// commit, on the path every order waits on). It starts at the 2 MiB
  /// boundary below where the last one ended: the page cache holds the
  /// zeroed space in large folios (up to 2 MiB, aligned to their size),
  /// and a folio goes only once a range covers all of it.
  void drop_synced_pages(std::uint64_t to) {
    if (!opt_.sync) return;  // (dirty pages would only start their writeback)
    static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    constexpr std::uint64_t largest_folio = 2ull << 20;
    const std::uint64_t first = dropped_to_ / largest_folio * largest_folio;
    const std::uint64_t last = to / page * page;
    if (last <= dropped_to_) return;
    ::posix_fadvise(fd_, static_cast<off_t>(first), static_cast<off_t>(last - first),
                    POSIX_FADV_DONTNEED);
    dropped_to_ = last;
  }

  /// What `copy` takes out of the index under the shared lock, put in key
  /// order after letting go of it (sorting 1M orders under it held every
  /// writer up for the sort too).
  template <class Copy>
  std::vector<Record> sorted_copy(Copy copy) const {
    std::vector<Record> out;
    {
      std::shared_lock<std::shared_mutex> l(index_mu_);
      out = copy();
    }
    sort_by_key(out);
    return out;
  }

  /// Whether any complete frame with a valid CRC starts at or after `from`.
  static bool valid_frame_after(const char* data, size_t size, size_t from) {
    for (size_t p = from; p + header_size <= size; ++p) {
      const char* h = data + p;
      if (get_u32(h) != frame_magic) continue;
      const std::uint32_t len = get_u32(h + 4);
      if (p + header_size + len > size) continue;
      if (crc32(h + header_size, len) == get_u32(h + 8)) return true;
    }
    return false;
  }

  /// The log file mapped read-only for replay (no copy of it on the heap:
  /// at 2.5 GB, allocating and zeroing the buffer was a quarter of the
  /// start-up).
  struct Mapped {
    const char* data = nullptr;
    size_t size = 0;
    Mapped() = default;
    Mapped(const Mapped&) = delete;
    Mapped& operator=(const Mapped&) = delete;
    ~Mapped() {
      if (data != nullptr) ::munmap(const_cast<char*>(data), size);
    }
  };

  Status replay() {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return unavailable(errno_text("stat " + log_path_));
    Mapped m;
    m.size = static_cast<size_t>(st.st_size);
    if (m.size > 0) {
      void* p = ::mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (p == MAP_FAILED) return unavailable(errno_text("mmap " + log_path_));
      ::madvise(p, m.size, MADV_SEQUENTIAL);
      m.data = static_cast<const char*>(p);
    }
    size_t pos = 0;
    std::vector<Write> writes;
    while (pos + header_size <= m.size) {
      const char* h = m.data + pos;
      if (get_u32(h) != frame_magic) break;
      const std::uint32_t len = get_u32(h + 4);
      if (pos + header_size + len > m.size) break;
      const char* payload = h + header_size;
      if (crc32(payload, len) != get_u32(h + 8)) break;
      writes.clear();
      if (!decode_payload(payload, len, writes)) break;
      for (auto& w : writes) index_.apply(std::move(w));  // (single-threaded at open)
      pos += header_size + len;
    }
    // Zeros after the last frame are space zeroed ahead (a crash left them):
    // kept as such, not a torn tail.
    const bool zero_tail = std::all_of(m.data + pos, m.data + m.size, [](char c) { return c == 0; });
    if (pos != m.size && !zero_tail && valid_frame_after(m.data, m.size, pos + 1))
      return make_error(ErrorKind::internal,
                        log_path_ + " is corrupt at offset " + std::to_string(pos) +
                          " but holds valid batches after it; refusing to start (restore from "
                          "a backup or move the file away)");
    prepared_ = m.size;
    if (pos != m.size && !zero_tail) {
      // A torn or corrupt tail: the batch never became durable as a whole.
      if (::ftruncate(fd_, static_cast<off_t>(pos)) != 0)
        return unavailable(errno_text("truncate torn tail of " + log_path_));
      if (opt_.sync) ::fdatasync(fd_);
      prepared_ = pos;
    }
    file_size_ = pos;
    dropped_to_ = pos;
    if (::lseek(fd_, static_cast<off_t>(pos), SEEK_SET) < 0)
      return unavailable(errno_text("seek " + log_path_));
    return domain::ok_status();
  }

  void sync_dir() {
    int dfd = ::open(opt_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

  /// Writes the live records to `tfd` in frames of at most 4096 records /
  /// 1 MiB, streamed; the index is walked a chunk at a time (under its shared
  /// lock, released in between, so commits go on). Returns the bytes
  /// written, or nothing when a write failed.
  std::optional<std::uint64_t> write_live(int tfd) {
    std::uint64_t written = 0;
    std::string buf;
    KeyIndex::Walk walk;
    for (bool more = true; more;) {
      std::vector<Write> chunk;
      {
        std::shared_lock<std::shared_mutex> l(index_mu_);
        more = index_.walk(walk, chunk, 4096, 1u << 20);
      }
      if (!chunk.empty()) encode_frame(buf, chunk.begin(), chunk.end());
      if (buf.size() >= (4u << 20) || (!more && !buf.empty())) {
        if (!write_all(tfd, buf.data(), buf.size())) return std::nullopt;
        written += buf.size();
        buf.clear();
      }
    }
    return written;
  }

  /// Copies the log's bytes [from, to) to `tfd` (the frames committed while
  /// a compaction ran). Caller makes sure the range is stable.
  bool copy_log_range(int tfd, std::uint64_t from, std::uint64_t to) {
    std::string buf(std::min<std::uint64_t>(to - from, 4u << 20), '\0');
    while (from < to) {
      const size_t n = static_cast<size_t>(std::min<std::uint64_t>(to - from, buf.size()));
      ssize_t r = ::pread(fd_, &buf[0], n, static_cast<off_t>(from));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0 || !write_all(tfd, buf.data(), static_cast<size_t>(r))) return false;
      from += static_cast<std::uint64_t>(r);
    }
    return true;
  }

  /// Puts the compacted file in the log's place (caller holds write_mu_).
  bool install(int tfd, const std::string& tmp, std::uint64_t size) {
    if ((opt_.sync && ::fsync(tfd) != 0) || ::rename(tmp.c_str(), log_path_.c_str()) != 0) return false;
    if (opt_.sync) sync_dir();
    // The new log's descriptor is kept across the rename: there is no reopen
    // that could fail and leave us appending to the replaced (unlinked) file.
    ::close(fd_);
    fd_ = tfd;
    file_size_ = size;
    prepared_ = size;
    dropped_to_ = size;  // (its pages stay cached: dropping them at once stalled a commit)
    ::lseek(fd_, static_cast<off_t>(file_size_), SEEK_SET);
    std::unique_lock<std::shared_mutex> l(index_mu_);
    stats_.compactions++;
    return true;
  }

  /// Starts a compaction on its own thread when the log is over
  /// compact_min_bytes and more than twice the live data (caller holds
  /// write_mu_). Commits go on meanwhile: the live records are written as
  /// of some moment after `from` (the log's size when it starts), then the
  /// frames committed since `from` are copied behind them, so replaying the
  /// new file gives every key its last value. Only that last copy, and the
  /// swap, hold the commits up. (Compacting inside a commit stalled every
  /// writer for seconds at 1 GB of live data: 503s under load.)
  void maybe_compact_in_background() {
    std::lock_guard<std::mutex> cl(compact_mu_);
    if (compacting_.load() || closing_) return;
    if (compactor_.joinable()) compactor_.join();  // the last one has finished
    if (file_size_ <= opt_.compact_min_bytes || file_size_ <= 2 * index_.live_bytes() ||
        file_size_ < next_compaction_at_)
      return;
    compacting_ = true;
    const std::uint64_t from = file_size_;
    compactor_ = std::thread([this, from] {
      // Behind the request work in the CPU's queue (nice +10): on 2 cores a
      // compaction at full priority delayed payment replies past their
      // timeout together, and 5 timeouts in a row open the breaker.
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
      if (!compact_concurrently(from)) {
        // Retry once the log has grown by another compact_min_bytes.
        std::lock_guard<std::mutex> wl(write_mu_);
        next_compaction_at_ = file_size_ + opt_.compact_min_bytes;
      }
      compacting_ = false;
    });
  }

  /// Rewrites the log as its live records plus the frames committed since
  /// `from` (the log's size when it began); false when it could not (the
  /// log stays as it was: compaction is an optimisation). Also the clean
  /// close's compaction, where nothing commits meanwhile.
  bool compact_concurrently(std::uint64_t from) {
    const std::string tmp = log_path_ + ".compact";
    int tfd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tfd < 0) return false;
    auto fail = [&] {
      ::close(tfd);
      ::unlink(tmp.c_str());
      return false;
    };
    auto written = write_live(tfd);
    if (!written) return fail();
    if (opt_.on_compaction_base_written) opt_.on_compaction_base_written();
    // Most of what was committed meanwhile is copied without holding the
    // writers up, and made durable; then the rest under the lock.
    std::uint64_t copied = from;
    {
      std::uint64_t upto;
      {
        std::lock_guard<std::mutex> wl(write_mu_);
        upto = file_size_;
      }
      // (Below file_size_ the log only changes by a compaction, which is us.)
      if (!copy_log_range(tfd, copied, upto)) return fail();
      *written += upto - copied;
      copied = upto;
      if (opt_.sync && ::fdatasync(tfd) != 0) return fail();
    }
    std::lock_guard<std::mutex> wl(write_mu_);
    if (fd_ < 0 || !copy_log_range(tfd, copied, file_size_)) return fail();
    *written += file_size_ - copied;
    if (!install(tfd, tmp, *written)) return fail();
    return true;
  }

  void join_compactor() {
    std::thread t;
    {
      std::lock_guard<std::mutex> cl(compact_mu_);
      t = std::move(compactor_);
    }
    if (t.joinable()) t.join();
  }

  /// Below this, a clean shutdown does not bother to compact.
  static constexpr std::uint64_t close_compact_min = 4ull << 20;

  FileStoreOptions opt_;
  std::string log_path_;
  int fd_ = -1;
  int lock_fd_ = -1;
  std::mutex write_mu_;                 // serializes commits, compaction, close
  mutable std::shared_mutex index_mu_;    // guards index_, stats_
  KeyIndex index_;
  std::atomic<std::uint64_t> file_size_{0};  // written under write_mu_; stats() reads it without
  std::uint64_t prepared_ = 0;  // (write_mu_) the file's size: the log, then zeros (zero_ahead)
  std::uint64_t dropped_to_ = 0;  // (write_mu_) drop_synced_pages has dropped the pages below
  /// zero_ahead keeps at least min, writing chunk at a time (~every 3/4 MiB
  /// of log). In the microbenchmark 4 MiB chunks had a p99 of 2.6 ms per
  /// commit against 1.7 (the commit that writes them waits for them).
  static constexpr std::uint64_t zero_ahead_chunk = 1ull << 20;
  static constexpr std::uint64_t zero_ahead_min = 256ull << 10;
  StoreStats stats_;
  std::mutex compact_mu_;               // guards compactor_
  std::thread compactor_;
  std::atomic<bool> compacting_{false};
  std::uint64_t next_compaction_at_ = 0;  // (write_mu_) after a failed one
  bool closing_ = false;                  // (write_mu_)
};

}  // namespace

Result<std::unique_ptr<Store>> open_file_store(const FileStoreOptions& options) {
  auto s = std::make_unique<FileStore>(options);
  auto st = s->open();
  if (!st) return st.error();
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace troupe::persistence
