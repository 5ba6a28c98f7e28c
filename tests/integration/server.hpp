#pragma once
/// Support for the integration tests: start the REAL `troupe` binary as a
/// child process on a free port with a temporary data dir, and talk HTTP to it.
///
///   TroupeServer s({"--payment-failure-rate", "0"});
///   ASSERT_EQ(s.start(), "");            // "" = ready, else why not
///   auto http = s.http();                // one client per thread
///   Reply r = http.post("/v1/orders", json{...});
///   EXPECT_EQ(s.stop(), 0);              // SIGTERM + wait, exit code
///
/// Every TroupeServer kills (SIGKILL) and reaps its child and removes its temp
/// dir in the destructor, so a failing ASSERT never leaks a process. The child
/// also gets PR_SET_PDEATHSIG(SIGKILL): if the test process itself dies (ctest
/// timeout, crash), the server goes with it. Create servers on the test's main
/// thread (PDEATHSIG follows the thread that forked).
///
/// Set TROUPE_IT_KEEP=1 to keep temp dirs (data + logs) for inspection.
///
/// The store under test comes from the environment: TROUPE_IT_STORE unset,
/// empty or "file" = the embedded store (--data-dir); "redis" = every
/// TroupeServer starts its own `redis-server` (RedisServer below: free port,
/// temp dir, AOF with appendfsync always) before its first spawn and passes
/// `--redis redis://127.0.0.1:<port>` (plus --data-dir, then unused). The same
/// Redis is kept across restart()/kill9(), so durability tests restart troupe
/// on the same data. ctest registers every test twice: `Suite.Name` (file) and
/// `redis.Suite.Name` (TROUPE_IT_STORE=redis). A test whose meaning depends on
/// the embedded store skips under Redis:
///
///   TROUPE_IT_EMBEDDED_STORE_ONLY("checks the data-dir lock");
///
/// TROUPE_IT_REDIS_SERVER overrides the redis-server binary (default
/// /usr/bin/redis-server, else the one on PATH).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#ifndef TROUPE_BINARY
#error "TROUPE_BINARY must be defined to the path of the troupe executable"
#endif

namespace troupe_it {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The Debian cpp-httplib is built with CPPHTTPLIB_SEND_FLAGS=0: a write to a
// socket the server already closed would raise SIGPIPE and kill the test.
inline const bool sigpipe_ignored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// ---------------------------------------------------------------------------
// Ports and temp dirs

/// A port that was free a moment ago: bind 127.0.0.1:0, read it, close.
inline int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  int port = -1;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

/// Holds a plain listening socket on 127.0.0.1:port (no SO_REUSEPORT), to make
/// a port busy. Closed in the destructor.
class PortHolder {
 public:
  /// `port` 0: any free one.
  explicit PortHolder(int port = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t len = sizeof a;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::listen(fd_, 16) == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port_ = ntohs(a.sin_port);
  }
  ~PortHolder() {
    if (fd_ >= 0) ::close(fd_);
  }
  PortHolder(const PortHolder&) = delete;
  PortHolder& operator=(const PortHolder&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = -1;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// HTTP

/// One HTTP exchange, flattened so tests never dereference a null result.
struct Reply {
  int status = 0;               ///< 0: no response (transport error)
  std::string transport_error;  ///< httplib's error when status == 0
  std::string method, path;     ///< what was asked, for messages
  std::string body;
  httplib::Headers headers;  ///< case-insensitive keys

  bool has_header(const std::string& k) const { return headers.find(k) != headers.end(); }
  std::string header(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? std::string() : it->second;
  }
  /// Parsed body, or a `discarded` json when it is not JSON.
  json body_json() const { return json::parse(body, nullptr, false); }
  /// For assertion messages.
  std::string describe() const {
    std::ostringstream o;
    o << method << " " << path << " -> ";
    if (status == 0)
      o << "no response (" << transport_error << ")";
    else
      o << status << " [" << header("Content-Type") << "] " << tail(body, 600);
    return o.str();
  }
};

inline Reply to_reply(httplib::Result&& r, std::string method, std::string path) {
  Reply out;
  out.method = std::move(method);
  out.path = std::move(path);
  if (!r) {
    out.transport_error = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  out.headers = r->headers;
  return out;
}

/// A client for one server. Not thread-safe: give each thread its own.
class Http {
 public:
  Http(int port, int read_timeout_s = 20, int connect_timeout_s = 10)
      : cli_(std::make_unique<httplib::Client>("127.0.0.1", port)) {
    cli_->set_connection_timeout(connect_timeout_s, 0);
    cli_->set_read_timeout(read_timeout_s, 0);
    cli_->set_write_timeout(10, 0);
    cli_->set_keep_alive(false);
  }

  Reply get(const std::string& path, const httplib::Headers& h = {}) {
    return to_reply(cli_->Get(path, h), "GET", path);
  }
  Reply post(const std::string& path, const json& body, const httplib::Headers& h = {}) {
    return post_raw(path, body.dump(), "application/json", h);
  }
  Reply post_raw(const std::string& path, const std::string& body,
                 const std::string& content_type = "application/json",
                 const httplib::Headers& h = {}) {
    return to_reply(cli_->Post(path, h, body, content_type), "POST", path);
  }
  /// Any method, any body ("" = no body).
  Reply send(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& content_type = "application/json") {
    httplib::Request req;
    req.method = method;
    req.path = path;
    if (!body.empty()) {
      req.body = body;
      req.headers.emplace("Content-Type", content_type);
    }
    return to_reply(cli_->send(req), method, path);
  }

 private:
  std::unique_ptr<httplib::Client> cli_;
};

/// Sends `head` (request line + headers, ending in a blank line), then after a
/// short pause `body`, while reading whatever the server answers; stops writing
/// as soon as a response starts arriving or the server closes. For requests a
/// server is expected to refuse before reading them whole (413), which an
/// ordinary client may report only as a broken pipe.
inline Reply raw_exchange(int port, const std::string& head, const std::string& body,
                          std::chrono::milliseconds timeout = 10s) {
  Reply out;
  out.method = "RAW";
  out.path = head.substr(0, head.find("\r\n"));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    out.transport_error = std::string("connect: ") + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return out;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string request = head;
  const auto head_sent_at = Clock::now();
  size_t sent = 0;
  bool body_appended = false, write_closed = false, peer_closed = false;
  std::string in;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline && !peer_closed) {
    if (!body_appended && Clock::now() - head_sent_at > 300ms) {
      request += body;
      body_appended = true;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (!write_closed && sent < request.size() ? POLLOUT : 0)),
             0};
    ::poll(&p, 1, 20);
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[65536];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        in.append(buf, static_cast<size_t>(n));
        write_closed = true;  // an answer has started: stop sending
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        peer_closed = true;
      }
    }
    if (!write_closed && (p.revents & POLLOUT) && sent < request.size()) {
      ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n > 0)
        sent += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        write_closed = true;
    }
    // A complete response (headers + Content-Length bytes) ends the exchange.
    auto he = in.find("\r\n\r\n");
    if (he != std::string::npos) {
      std::string lower = in.substr(0, he);
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      auto cl = lower.find("content-length:");
      if (cl != std::string::npos &&
          in.size() >= he + 4 + std::strtoull(lower.c_str() + cl + 15, nullptr, 10))
        break;
    }
  }
  ::close(fd);
  auto he = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.", 0) != 0 || he == std::string::npos) {
    out.transport_error = "no complete response; got " + std::to_string(in.size()) + " bytes, sent " +
                          std::to_string(sent) + " of " + std::to_string(head.size() + body.size());
    return out;
  }
  out.status = std::atoi(in.c_str() + 9);
  std::istringstream hs(in.substr(0, he));
  std::string line;
  std::getline(hs, line);  // status line
  while (std::getline(hs, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto c = line.find(':');
    if (c == std::string::npos) continue;
    auto v = line.substr(c + 1);
    v.erase(0, v.find_first_not_of(' '));
    out.headers.emplace(line.substr(0, c), v);
  }
  out.body = in.substr(he + 4);
  return out;
}

// ---------------------------------------------------------------------------
// Child processes and temp dirs

/// A fresh directory under $TMPDIR (or /tmp) named `<stem>-XXXXXX`; "" (and a
/// test failure) when it cannot be made.
inline std::string make_temp_dir(const std::string& stem) {
  std::string tmpl =
      (std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : std::string("/tmp")) + "/" +
      stem + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << " failed: " << std::strerror(errno);
    return "";
  }
  return buf.data();
}

/// fork + exec `argv_s` (argv_s[0] is the path) with stdin from /dev/null and
/// stdout/stderr into the given files. The child gets PR_SET_PDEATHSIG(SIGKILL)
/// (it dies with the thread that forked it), its own process group (a
/// terminal's Ctrl-C goes to the test only), an empty signal mask, default
/// SIGPIPE, and none of the test's file descriptors. Returns the pid, or -1
/// with `why` set.
inline pid_t spawn_child(const std::vector<std::string>& argv_s, const std::string& out_path,
                         const std::string& err_path, std::string& why) {
  std::vector<std::string> copy = argv_s;
  std::vector<char*> argv;
  for (auto& s : copy) argv.push_back(s.data());
  argv.push_back(nullptr);
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    why = "cannot open log files " + out_path + ", " + err_path;
    for (int fd : {out_fd, err_fd, null_fd})
      if (fd >= 0) ::close(fd);
    return -1;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);  // drop the test's sockets
    ::execv(argv[0], argv.data());
    const char msg[] = "troupe integration test: execv failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(fork_errno);
    return -1;
  }
  return pid;
}

/// Exit code of a waitpid status: the code, 128+signal when killed, else -1.
inline int decode_wait_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

/// SIGKILL `pid` (if running), reap it, record its exit code, forget it.
inline void kill_and_reap(pid_t& pid, std::optional<int>& last_exit) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  last_exit = decode_wait_status(st);
  pid = -1;
}

// ---------------------------------------------------------------------------
// Which store the suite runs against (TROUPE_IT_STORE)

/// "file" (unset or empty too) or "redis"; anything else is returned as is
/// and makes every TroupeServer fail.
inline std::string it_store() {
  const char* e = std::getenv("TROUPE_IT_STORE");
  return e == nullptr || *e == '\0' ? std::string("file") : std::string(e);
}
inline bool it_store_is_redis() { return it_store() == "redis"; }

/// In a TEST body: skip when the suite runs against Redis, with the reason.
#define TROUPE_IT_EMBEDDED_STORE_ONLY(reason)                                            \
  do {                                                                                  \
    if (::troupe_it::it_store_is_redis())                                               \
      GTEST_SKIP() << "meaningful for the embedded store only (TROUPE_IT_STORE=redis): " \
                   << reason;                                                           \
  } while (0)

// ---------------------------------------------------------------------------
// A tiny Redis client: one command per connection, raw RESP over a socket

namespace resp {

/// Parses one RESP reply at `pos` into a flat text: simple strings and bulk
/// strings as they are, errors as "-ERR …", integers as digits, nil as
/// "(nil)", arrays as their elements joined by '\n'. 1 = complete (pos moves
/// past it), 0 = need more bytes, -1 = not RESP.
inline int parse(const std::string& in, size_t& pos, std::string& out) {
  if (pos >= in.size()) return 0;
  auto eol = in.find("\r\n", pos);
  if (eol == std::string::npos) return 0;
  const char type = in[pos];
  const std::string line = in.substr(pos + 1, eol - pos - 1);
  switch (type) {
    case '+':
    case ':':
      out = line;
      pos = eol + 2;
      return 1;
    case '-':
      out = "-" + line;
      pos = eol + 2;
      return 1;
    case '$': {
      const long n = std::strtol(line.c_str(), nullptr, 10);
      if (n < 0) {
        out = "(nil)";
        pos = eol + 2;
        return 1;
      }
      if (in.size() < eol + 2 + static_cast<size_t>(n) + 2) return 0;
      out = in.substr(eol + 2, static_cast<size_t>(n));
      pos = eol + 2 + static_cast<size_t>(n) + 2;
      return 1;
    }
    case '*': {
      const long n = std::strtol(line.c_str(), nullptr, 10);
      size_t p = eol + 2;
      std::string all;
      if (n < 0) all = "(nil)";
      for (long i = 0; i < n; ++i) {
        std::string one;
        const int r = parse(in, p, one);
        if (r != 1) return r;
        all += (i ? "\n" : "") + one;
      }
      out = all;
      pos = p;
      return 1;
    }
    default:
      return -1;
  }
}

/// Sends one command to 127.0.0.1:port and returns its reply (see parse), or
/// nullopt when it could not be sent or no complete reply came in `timeout`.
inline std::optional<std::string> command(int port, const std::vector<std::string>& args,
                                          std::chrono::milliseconds timeout = 2s) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const auto deadline = Clock::now() + timeout;
  auto left_ms = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::max<long long>(0, ms));
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (errno != EINPROGRESS) {
      ::close(fd);
      return std::nullopt;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, left_ms()) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0) {
      ::close(fd);
      return std::nullopt;
    }
  }
  std::string req = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& x : args) req += "$" + std::to_string(x.size()) + "\r\n" + x + "\r\n";
  size_t sent = 0;
  std::string in;
  std::optional<std::string> result;
  while (Clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(sent < req.size() ? POLLOUT : POLLIN), 0};
    if (::poll(&p, 1, std::max(1, left_ms())) <= 0) continue;
    if (sent < req.size()) {
      ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
      if (n > 0) sent += static_cast<size_t>(n);
      continue;
    }
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) break;
    if (n > 0) in.append(buf, static_cast<size_t>(n));
    size_t pos = 0;
    std::string out;
    const int r = parse(in, pos, out);
    if (r == 1) result = out;
    if (r != 0) break;
  }
  ::close(fd);
  return result;
}

}  // namespace resp

// ---------------------------------------------------------------------------
// A redis-server of our own

/// `redis-server` as a child process on a free port, with its data in a temp
/// dir and AOF on (`appendfsync always`: every acknowledged write is on disk,
/// so a kill -9 of Redis loses nothing acknowledged). Like TroupeServer: the
/// destructor SIGKILLs and reaps it and removes the dir (TROUPE_IT_KEEP=1
/// keeps it); PR_SET_PDEATHSIG takes it down with the test process. Create it
/// on the test's main thread.
///
///   RedisServer redis;
///   ASSERT_EQ(redis.start(), "");       // "" = answers PING
///   redis.pause(); redis.resume();      // kill -STOP / -CONT
///   redis.kill9();                      // crash it...
///   ASSERT_EQ(redis.restart(), "");     // ...and bring it back: same port, same dir
class RedisServer {
 public:
  /// `extra_args` are appended to the redis-server command line. `port` 0 =
  /// a free one (another is tried if it is taken before redis binds it).
  explicit RedisServer(std::vector<std::string> extra_args = {}, int port = 0)
      : extra_args_(std::move(extra_args)),
        fixed_port_(port > 0),
        port_(port > 0 ? port : pick_free_port()) {
    if (const char* b = std::getenv("TROUPE_IT_REDIS_SERVER"); b && *b)
      binary_ = b;
    else if (::access("/usr/bin/redis-server", X_OK) == 0)
      binary_ = "/usr/bin/redis-server";
    else
      binary_ = "redis-server";  // resolved on PATH below
    if (binary_.find('/') == std::string::npos) {
      const char* path = std::getenv("PATH");
      std::istringstream dirs(path ? path : "");
      std::string d;
      while (std::getline(dirs, d, ':'))
        if (!d.empty() && ::access((d + "/" + binary_).c_str(), X_OK) == 0) {
          binary_ = d + "/" + binary_;
          break;
        }
    }
    root_ = make_temp_dir("troupe-it-redis");
    if (root_.empty()) return;
    dir_ = root_ + "/data";
    std::filesystem::create_directory(dir_);
  }

  ~RedisServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);  // also ends a stopped (SIGSTOP) process
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
    }
    if (!root_.empty() && !std::getenv("TROUPE_IT_KEEP")) {
      std::error_code ec;
      std::filesystem::remove_all(root_, ec);
    }
  }

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// Spawns redis-server and waits until it answers PING with PONG (after it
  /// loaded its AOF). "" on success, else why not (with its log). On the very
  /// first start of a server with a picked port, a port lost to someone else
  /// in the meantime is replaced by another free one (up to 5 tries).
  std::string start(std::chrono::milliseconds ready_timeout = 10s) {
    for (int attempt = 1;; ++attempt) {
      const bool first = runs_ == 0;
      std::string why = spawn();
      if (!why.empty()) return why;
      why = wait_ready(ready_timeout);
      if (why.empty()) return "";
      const bool port_lost = log().find("Address already in use") != std::string::npos;
      if (!(first && !fixed_port_ && port_lost && attempt < 5)) return why;
      kill9();
      port_ = pick_free_port();
    }
  }

  /// Forks and execs redis-server without waiting. "" on success.
  std::string spawn() {
    if (pid_ > 0) return "redis already running";
    if (root_.empty()) return "no temp dir";
    if (port_ <= 0) return "no free port";
    if (::access(binary_.c_str(), X_OK) != 0)
      return "redis-server not found ('" + binary_ + "'); install redis-server or set TROUPE_IT_REDIS_SERVER";
    ++runs_;
    std::vector<std::string> argv = {binary_,         "--port",        std::to_string(port_),
                                     "--dir",         dir_,            "--appendonly",
                                     "yes",           "--appendfsync", "always",
                                     "--save",        "",              "--daemonize",
                                     "no",            "--bind",        "127.0.0.1"};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + (a.empty() ? "''" : a);
    commands_.push_back(cmd);
    std::string why;
    const pid_t pid = spawn_child(argv, out_path(runs_), err_path(runs_), why);
    if (pid < 0) return why;
    pid_ = pid;
    paused_ = false;
    return "";
  }

  /// Polls PING until PONG ("-LOADING" while it replays the AOF). "" on
  /// success, else why not.
  std::string wait_ready(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    std::string last = "(no answer)";
    while (Clock::now() < deadline) {
      if (auto code = try_reap())
        return "redis-server exited with " + std::to_string(*code) + " before it answered PING\n" +
               tail(log(), 3000);
      if (auto r = resp::command(port_, {"PING"}, 500ms)) {
        if (*r == "PONG") return "";
        last = *r;
      }
      std::this_thread::sleep_for(20ms);
    }
    return "redis-server did not answer PING within " + std::to_string(timeout.count()) +
           " ms (last reply " + last + ")\n" + tail(log(), 3000);
  }

  /// One command, its reply as flat text (see resp::parse); nullopt when
  /// Redis does not answer within `timeout` (e.g. while paused).
  std::optional<std::string> command(const std::vector<std::string>& args,
                                     std::chrono::milliseconds timeout = 2s) const {
    return resp::command(port_, args, timeout);
  }
  bool ping(std::chrono::milliseconds timeout = 1s) const {
    auto r = command({"PING"}, timeout);
    return r && *r == "PONG";
  }

  /// kill -STOP: Redis keeps its sockets but answers nothing (a hung Redis).
  void pause() {
    if (pid_ > 0 && ::kill(pid_, SIGSTOP) == 0) paused_ = true;
  }
  /// kill -CONT.
  void resume() {
    if (pid_ > 0 && ::kill(pid_, SIGCONT) == 0) paused_ = false;
  }
  bool paused() const { return paused_; }

  /// Sends `sig` (SIGCONT too when paused, so it is delivered) and waits for
  /// exit; SIGKILL after `grace`. Exit code (128+signal), -1 when not running.
  int signal_and_wait(int sig, std::chrono::milliseconds grace = 10s) {
    if (pid_ <= 0) return last_exit_.value_or(-1);
    ::kill(pid_, sig);
    if (paused_) resume();
    const auto deadline = Clock::now() + grace;
    while (Clock::now() < deadline) {
      if (auto code = try_reap()) return *code;
      std::this_thread::sleep_for(10ms);
    }
    if (auto code = try_reap()) return *code;
    ADD_FAILURE() << "redis-server did not exit within " << grace.count() << " ms of signal " << sig
                  << "; killing it";
    kill9();
    return last_exit_.value_or(-1);
  }

  /// Graceful stop (SIGTERM: Redis fsyncs the AOF and exits 0).
  int stop(std::chrono::milliseconds grace = 10s) { return signal_and_wait(SIGTERM, grace); }

  /// kill -9 and reap (works while paused too).
  void kill9() {
    kill_and_reap(pid_, last_exit_);
    paused_ = false;
  }

  /// Starts again on the SAME port and dir (stopping gracefully first if it
  /// still runs): clients reconnect to the same URL and find the data of the
  /// AOF. Redis binds with SO_REUSEADDR, so the port is free at once.
  std::string restart(std::chrono::milliseconds ready_timeout = 10s) {
    if (pid_ > 0) stop();
    return start(ready_timeout);
  }

  bool running() { return pid_ > 0 && !try_reap(); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  int runs() const { return runs_; }
  const std::string& dir() const { return dir_; }
  std::optional<int> last_exit() const { return last_exit_; }
  /// `redis://127.0.0.1:<port>`, what troupe's --redis takes.
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  /// Command line and output of run `run` (1-based; 0 = the latest).
  std::string log(int run = 0) const {
    if (run <= 0) run = runs_;
    if (run <= 0 || run > static_cast<int>(commands_.size())) return "(redis never started)";
    return "[cmd] " + commands_[run - 1] + "\n[stdout]\n" + read_file(out_path(run)) +
           "\n[stderr]\n" + read_file(err_path(run));
  }

 private:
  std::string out_path(int run) const {
    return root_ + "/redis-stdout-" + std::to_string(run) + ".log";
  }
  std::string err_path(int run) const {
    return root_ + "/redis-stderr-" + std::to_string(run) + ".log";
  }
  std::optional<int> try_reap() {
    if (pid_ <= 0) return last_exit_;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      last_exit_ = decode_wait_status(st);
      pid_ = -1;
      paused_ = false;
      return last_exit_;
    }
    return std::nullopt;
  }

  std::vector<std::string> extra_args_;
  bool fixed_port_ = false;
  int port_ = -1;
  std::string binary_, root_, dir_;
  std::vector<std::string> commands_;  // per run
  pid_t pid_ = -1;
  bool paused_ = false;
  int runs_ = 0;
  std::optional<int> last_exit_;
};

// ---------------------------------------------------------------------------
// The server process

class TroupeServer {
 public:
  /// `args` are appended after `serve --port P --data-dir D --bind 127.0.0.1`
  /// (and `--redis URL` under TROUPE_IT_STORE=redis). `port` 0 picks a free one.
  explicit TroupeServer(std::vector<std::string> args = {}, int port = 0)
      : args_(std::move(args)), port_(port > 0 ? port : pick_free_port()), picked_port_(port <= 0) {
    const std::string store = it_store();
    if (store == "redis") {
      redis_ = std::make_shared<RedisServer>();
    } else if (store != "file") {
      ADD_FAILURE() << "TROUPE_IT_STORE='" << store << "': expected 'file' or 'redis'";
      return;  // no temp dir: spawn() refuses
    }
    root_ = make_temp_dir("troupe-it");
    if (root_.empty()) return;
    data_dir_ = root_ + "/data";
    std::filesystem::create_directory(data_dir_);
  }

  ~TroupeServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
    }
    if (::testing::Test::HasFailure()) {
      for (int run = 1; run <= runs_; ++run)
        std::fprintf(stderr, "---- troupe server log, run %d of %d ----\n%s\n----\n", run, runs_,
                     tail(log(run), 3000).c_str());
      if (redis_)
        for (int run = 1; run <= redis_->runs(); ++run)
          std::fprintf(stderr, "---- redis-server log, run %d of %d ----\n%s\n----\n", run,
                       redis_->runs(), tail(redis_->log(run), 2000).c_str());
    }
    // redis_ (when this was its last owner) is killed and removed after this.
    if (!root_.empty() && !std::getenv("TROUPE_IT_KEEP")) {
      std::error_code ec;
      std::filesystem::remove_all(root_, ec);
    }
  }

  TroupeServer(const TroupeServer&) = delete;
  TroupeServer& operator=(const TroupeServer&) = delete;

  /// Spawns the binary and waits until /health/ready is 200. Returns "" on
  /// success, else why not (with the server's output). A picked port lost
  /// to someone else in the meantime (a client's ephemeral port, a parallel
  /// test) is replaced by another free one (up to 5 tries); a port the test
  /// chose is its business.
  std::string start(std::chrono::milliseconds ready_timeout = 15s) {
    for (int attempt = 1;; ++attempt) {
      std::string why = spawn();
      if (!why.empty()) return why;
      why = wait_ready(ready_timeout);
      if (why.empty()) return "";
      const bool port_lost = !running() && stderr_text().find("is already in use") != std::string::npos;
      if (!(picked_port_ && port_lost && attempt < 5)) return why;
      port_ = pick_free_port();
    }
  }

  /// Forks and execs the binary without waiting for it. "" on success.
  /// Under TROUPE_IT_STORE=redis the first spawn starts this server's Redis
  /// first; later spawns (restart after kill9/stop) reuse it as it is — a
  /// Redis a test stopped or killed on purpose is not brought back here.
  std::string spawn() {
    if (pid_ > 0) return "already running";
    if (root_.empty()) return "no temp dir";
    if (port_ <= 0) return "no free port";
    if (redis_ && redis_->runs() == 0) {
      std::string why = redis_->start();
      if (!why.empty()) return "cannot start the Redis for this server: " + why;
    }
    ++runs_;
    stdout_path_ = out_path(runs_);
    stderr_path_ = err_path(runs_);

    std::vector<std::string> argv_s = {TROUPE_BINARY, "serve",     "--port",
                                       std::to_string(port_), "--data-dir", data_dir_,
                                       "--bind",      "127.0.0.1"};
    if (redis_) {
      argv_s.push_back("--redis");
      argv_s.push_back(redis_->url());
    }
    argv_s.insert(argv_s.end(), args_.begin(), args_.end());
    // The binary runs as it is: troupe logs to unbuffered stderr, so even a
    // killed server leaves its log.
    command_line_.clear();
    for (auto& s : argv_s) command_line_ += (command_line_.empty() ? "" : " ") + s;
    commands_.push_back(command_line_);

    std::string why;
    const pid_t pid = spawn_child(argv_s, stdout_path_, stderr_path_, why);
    if (pid < 0) return why;
    pid_ = pid;
    return "";
  }

  /// Polls GET /health/ready until 200. "" on success, else why not.
  std::string wait_ready(std::chrono::milliseconds timeout = 15s) {
    const auto deadline = Clock::now() + timeout;
    int last = 0;
    while (Clock::now() < deadline) {
      if (auto code = try_reap())
        return "server exited with " + std::to_string(*code) + " before it was ready: " +
               command_line_ + "\n" + tail(log(), 3000);
      httplib::Client c("127.0.0.1", port_);
      c.set_connection_timeout(0, 200'000);
      c.set_read_timeout(1, 0);
      auto r = c.Get("/health/ready");
      if (r) {
        last = r->status;
        if (r->status == 200) return "";
      }
      std::this_thread::sleep_for(50ms);
    }
    return "not ready after " + std::to_string(timeout.count()) +
           " ms (last /health/ready status " + std::to_string(last) + "): " + command_line_ + "\n" +
           tail(log(), 3000);
  }

  /// Waits for the child to exit. Exit code, 128+signal if killed by a signal,
  /// or nullopt on timeout (the child is left running).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    do {
      if (auto code = try_reap()) return code;
      std::this_thread::sleep_for(10ms);
    } while (Clock::now() < deadline);
    return try_reap();
  }

  /// Sends `sig` and waits for exit; SIGKILL after `grace`. Returns the exit
  /// code (128+signal when killed by a signal; 128+9 if we had to SIGKILL),
  /// -1 when no child was running.
  int signal_and_wait(int sig, std::chrono::milliseconds grace = 10s) {
    if (pid_ <= 0) return last_exit_.value_or(-1);
    ::kill(pid_, sig);
    if (auto code = wait_exit(grace)) return *code;
    ADD_FAILURE() << "server did not exit within " << grace.count() << " ms of signal " << sig
                  << "; killing it";
    kill9();
    return last_exit_.value_or(-1);
  }

  /// Graceful stop: SIGTERM, wait (SIGKILL after 10 s). Exit code.
  int stop(std::chrono::milliseconds grace = 10s) { return signal_and_wait(SIGTERM, grace); }

  /// kill -9 and reap.
  void kill9() { kill_and_reap(pid_, last_exit_); }

  /// Starts again on the same data dir (and the same Redis) (stopping gracefully first if still
  /// running). A fresh port by default: the old one may linger in TIME_WAIT.
  std::string restart(bool new_port = true, std::chrono::milliseconds ready_timeout = 15s) {
    if (pid_ > 0) stop();
    if (new_port) port_ = pick_free_port();
    picked_port_ = new_port;  // the same port on purpose: not to be replaced
    return start(ready_timeout);
  }

  bool running() { return pid_ > 0 && !try_reap(); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  /// The Redis this server uses (TROUPE_IT_STORE=redis, or use_redis), else
  /// nullptr. Fault tests may pause/kill/restart it.
  RedisServer* redis() const { return redis_.get(); }
  bool uses_redis() const { return redis_ != nullptr; }
  /// Before the first spawn: use `r` (e.g. shared by two servers, or one
  /// with extra options) instead of this server's own Redis. A Redis not yet
  /// started is started by the first spawn.
  void use_redis(std::shared_ptr<RedisServer> r) { redis_ = std::move(r); }
  const std::string& command_line() const { return command_line_; }
  std::optional<int> last_exit() const { return last_exit_; }

  /// A new client (one per thread).
  Http http(int read_timeout_s = 20, int connect_timeout_s = 10) const {
    return Http(port_, read_timeout_s, connect_timeout_s);
  }

  /// Output of the current/last run.
  std::string stderr_text() const { return read_file(stderr_path_); }
  std::string stdout_text() const { return read_file(stdout_path_); }
  /// Command line and output of run `run` (1-based; 0 = the latest).
  std::string log(int run = 0) const {
    if (run <= 0) run = runs_;
    if (run <= 0 || run > static_cast<int>(commands_.size())) return "(never started)";
    return "[cmd] " + commands_[run - 1] + "\n[stdout]\n" + read_file(out_path(run)) +
           "\n[stderr]\n" + read_file(err_path(run));
  }

 private:
  std::string out_path(int run) const { return root_ + "/stdout-" + std::to_string(run) + ".log"; }
  std::string err_path(int run) const { return root_ + "/stderr-" + std::to_string(run) + ".log"; }
  std::optional<int> try_reap() {
    if (pid_ <= 0) return last_exit_;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      last_exit_ = decode_wait_status(st);
      pid_ = -1;
      return last_exit_;
    }
    return std::nullopt;
  }

  std::vector<std::string> args_;
  int port_ = -1;
  bool picked_port_ = false;  ///< port_ came from pick_free_port (may be replaced)
  std::string root_, data_dir_, stdout_path_, stderr_path_, command_line_;
  std::vector<std::string> commands_;  // per run
  pid_t pid_ = -1;
  int runs_ = 0;
  std::optional<int> last_exit_;
  std::shared_ptr<RedisServer> redis_;  // killed after the troupe child (destructor body)
};

// ---------------------------------------------------------------------------
// Contract helpers

/// Fast, deterministic payments for the flow tests (the contract's flags).
inline std::vector<std::string> fast_payments() {
  return {"--payment-latency-ms", "1,5", "--payment-failure-rate", "0"};
}

inline json musical(const std::string& id, long long capacity = 100, long long price = 50000) {
  return {{"id", id},         {"type", "musical"},   {"name", "HOT"},
          {"mode", "capacity"}, {"capacity", capacity}, {"price", price}};
}

inline json room(const std::string& id, long long price = 12000) {
  return {{"id", id}, {"type", "room"}, {"name", "Sea view"}, {"mode", "calendar"}, {"price", price}};
}

inline json seat_order(const std::string& resource, long long quantity,
                       const std::string& customer = "c-42") {
  return {{"resourceId", resource}, {"customerId", customer}, {"quantity", quantity}};
}

inline json window_order(const std::string& resource, const std::string& start,
                         const std::string& end, const std::string& customer = "c-42") {
  return {{"resourceId", resource}, {"customerId", customer}, {"start", start}, {"end", end}};
}

/// The response is an RFC 9457 problem with the given status.
inline ::testing::AssertionResult IsProblem(const Reply& r, int status) {
  if (r.status != status)
    return ::testing::AssertionFailure() << "expected HTTP " << status << ", got " << r.describe();
  auto ct = r.header("Content-Type");
  if (ct.rfind("application/problem+json", 0) != 0)
    return ::testing::AssertionFailure()
           << "Content-Type is '" << ct << "', expected application/problem+json; "
           << r.describe();
  auto j = r.body_json();
  if (!j.is_object())
    return ::testing::AssertionFailure() << "problem body is not a JSON object; " << r.describe();
  for (const char* k : {"type", "title", "detail"})
    if (!j.contains(k) || !j[k].is_string() || j[k].get<std::string>().empty())
      return ::testing::AssertionFailure()
             << "problem field '" << k << "' missing or not a non-empty string; "
             << r.describe();
  if (!j.contains("status") || !j["status"].is_number_integer() || j["status"].get<int>() != status)
    return ::testing::AssertionFailure()
           << "problem field 'status' must be the integer " << status << "; " << r.describe();
  return ::testing::AssertionSuccess();
}

/// GET /v1/resources/{id} as JSON (discarded json when not 200).
inline json get_resource(Http& http, const std::string& id) {
  auto r = http.get("/v1/resources/" + id);
  if (r.status != 200) return json(json::value_t::discarded);
  return r.body_json();
}

/// `available` of a capacity resource, or -1 (with a test failure) when it
/// cannot be read.
inline long long available(Http& http, const std::string& id) {
  auto r = http.get("/v1/resources/" + id);
  auto j = r.body_json();
  if (r.status != 200 || !j.is_object() || !j.contains("available") ||
      !j["available"].is_number_integer()) {
    ADD_FAILURE() << "cannot read available of " << id << ": " << r.describe();
    return -1;
  }
  return j["available"].get<long long>();
}

/// Registers and checks 201 (or 200 when it already existed identically).
inline ::testing::AssertionResult Register(Http& http, const json& spec) {
  auto r = http.post("/v1/resources", spec);
  if (r.status == 201 || r.status == 200) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "register " << spec.dump() << ": " << r.describe();
}

inline std::string str(const json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
}

}  // namespace troupe_it
