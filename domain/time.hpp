#pragma once
/// Instants as integer milliseconds since the Unix epoch (UTC), and their
/// RFC 3339 text form. Pure functions, no clock access except `now_ms`.

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace troupe::domain {

using Timestamp = std::int64_t;  ///< milliseconds since 1970-01-01T00:00:00Z

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)` (RFC 3339; `t`/`z` accepted,
/// fractions beyond milliseconds truncated). Years 1970–9999.
/// Returns invalid_input with a reason on anything else.
Result<Timestamp> parse_rfc3339(std::string_view text);

/// Formats as `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` when not whole seconds.
std::string format_rfc3339(Timestamp t);

/// Wall clock now (the one impure function here, kept for convenience).
Timestamp now_ms();

}  // namespace troupe::domain
