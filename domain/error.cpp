#include "domain/error.hpp"

namespace troupe::domain {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_input: return "invalid_input";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::unavailable: return "unavailable";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::payment_declined: return "payment_declined";
    case ErrorKind::payment_unavailable: return "payment_unavailable";
    case ErrorKind::store_unavailable: return "store_unavailable";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::retry: return "retry";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

}  // namespace troupe::domain
