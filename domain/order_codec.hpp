#pragma once
/// The stored form of an order (its record, written at every change of the
/// saga): tab-separated fields (domain/fields.hpp), every field of Order and
/// its Payment, histories included. About a third of the JSON's bytes and no
/// JSON work on the hot path; the API keeps speaking JSON (domain/json.hpp).

#include <string>
#include <string_view>

#include "domain/order.hpp"

namespace troupe::domain {

std::string encode_order_record(const Order& o);
/// Also reads the JSON form that stores written before this one hold.
Result<Order> decode_order_record(std::string_view stored);

}  // namespace troupe::domain
