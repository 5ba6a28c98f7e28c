#pragma once
/// The notifier's webhook sink: POSTs one JSON notification to a URL.
/// (httplib stays inside webhook.cpp.)

#include <chrono>
#include <functional>
#include <string>

#include "domain/error.hpp"

namespace troupe::http {

/// A poster for `url` (http://host[:port][/path]). Each call POSTs `body`
/// with Content-Type application/json and succeeds on a 2xx answer; any
/// other outcome is a `retry` error. Not thread-safe: one caller (the
/// notifier).
/// Error: the URL is malformed.
domain::Result<std::function<domain::Status(const std::string& body)>> make_webhook(
  const std::string& url, std::chrono::milliseconds timeout);

}  // namespace troupe::http
