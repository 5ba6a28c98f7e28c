#pragma once
/// JSON forms of the domain values. The same shape is used on the wire (the
/// REST contract's field names) and in the store, so a stored record reads
/// like an API response. Decoding checks every field and returns
/// invalid_input naming the first bad one.

#include <nlohmann/json_fwd.hpp>

#include "domain/order.hpp"
#include "domain/resource.hpp"

namespace troupe::domain {

nlohmann::json to_json(const ResourceSpec& r);
nlohmann::json to_json(const Payment& p);
nlohmann::json to_json(const Order& o);
/// `to_json(o).dump()`, byte for byte, written directly (no JSON tree: the
/// tree and its dump were ~8 % of the CPU of a GET of an order).
std::string order_json_text(const Order& o);

Result<ResourceSpec> resource_from_json(const nlohmann::json& j);
Result<Payment> payment_from_json(const nlohmann::json& j);
Result<Order> order_from_json(const nlohmann::json& j);

}  // namespace troupe::domain
