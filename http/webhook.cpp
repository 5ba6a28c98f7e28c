#include "http/webhook.hpp"

#include <memory>

#include <httplib.h>

namespace troupe::http {

using domain::ErrorKind;

domain::Result<std::function<domain::Status(const std::string&)>> make_webhook(
  const std::string& url, std::chrono::milliseconds timeout) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    return domain::make_error(ErrorKind::invalid_input, "webhook URL must start with http://");
  const auto rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string host_port = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = host_port;
  int port = 80;
  if (auto colon = host_port.rfind(':'); colon != std::string::npos) {
    host = host_port.substr(0, colon);
    const auto p = host_port.substr(colon + 1);
    char* end = nullptr;
    const long v = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v < 1 || v > 65535)
      return domain::make_error(ErrorKind::invalid_input, "webhook URL has a bad port");
    port = static_cast<int>(v);
  }
  if (host.empty()) return domain::make_error(ErrorKind::invalid_input, "webhook URL has no host");
  auto client = std::make_shared<httplib::Client>(host, port);
  const auto secs = static_cast<time_t>(timeout.count() / 1000);
  const auto usecs = static_cast<time_t>((timeout.count() % 1000) * 1000);
  client->set_connection_timeout(secs, usecs);
  client->set_read_timeout(secs, usecs);
  client->set_write_timeout(secs, usecs);
  client->set_keep_alive(true);
  return std::function<domain::Status(const std::string&)>(
    [client, path, url](const std::string& body) -> domain::Status {
      auto r = client->Post(path.c_str(), body, "application/json");
      if (!r)
        return domain::make_error(ErrorKind::retry,
                                  "webhook " + url + ": " + httplib::to_string(r.error()));
      if (r->status < 200 || r->status >= 300)
        return domain::make_error(ErrorKind::retry,
                                  "webhook " + url + " answered " + std::to_string(r->status));
      return domain::ok_status();
    });
}

}  // namespace troupe::http
