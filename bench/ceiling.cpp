// The ceiling: a constant-response cpp-httplib server with exactly troupe's
// HTTP settings (thread pool, TCP_NODELAY, keep-alive, timeouts, body limit)
// and its default scheduling policy (SCHED_BATCH, --sched-batch).
// Every troupe figure is reported as a ratio to what this server does under
// the same load in the same run.
//
// usage: troupe-ceiling PORT [THREADS]

#include <sched.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <httplib.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const size_t threads = argc > 2 ? static_cast<size_t>(std::atoi(argv[2])) : 256;
  // As troupe's --sched-batch (its default), before the pool's threads start.
  sched_param none{};
  ::sched_setscheduler(0, SCHED_BATCH, &none);
  httplib::Server svr;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(100000);
  svr.set_keep_alive_timeout(3);
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  svr.set_payload_max_length(1 << 20);
  int listen_fd = -1;
  svr.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });
  // Roughly the size of an order response, so bytes on the wire compare.
  const std::string body(700, 'x');
  const std::string json = "{\"status\":\"confirmed\",\"pad\":\"" + body + "\"}";
  auto handler = [&json](const httplib::Request&, httplib::Response& res) {
    res.status = 201;
    res.set_content(json, "application/json");
  };
  svr.Post("/v1/orders", handler);
  svr.Get(R"(/.*)", handler);
  if (!svr.bind_to_port("127.0.0.1", port)) {
    std::fprintf(stderr, "ceiling: port %d in use\n", port);
    return 1;
  }
  // As troupe does: Debian's httplib listens with a backlog of 5.
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
  svr.listen_after_bind();
  return 0;
}
