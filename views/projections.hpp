#pragma once
/// The read models fed by the event log, one per subscriber:
///
///   notifier  notif/<customerId>/<eventId>            one message per
///             OrderConfirmed / OrderRejected / OrderCancelled / StepAdvanced
///   mypage    mypage/<customerId>/<orderId>.<eventId>  every event of the
///             customer's orders
///   report    report/<resourceId>/<orderId>.<eventId>  the status and money events of the
///             resource's orders
///
/// A notifier row is one event. A mypage or report row holds the events of
/// one order that one page of the log brought (usually all of a booking's:
/// one row instead of five), and is keyed by the first one's id: a line with
/// what they share (R1, order, resource, customer, payment id), then one line
/// per event (id, type, at, status, amount, payment status, detail). A subscriber writes its rows and its cursor in
/// one atomic batch, so a restart resumes exactly after the last page; a
/// replay from an earlier cursor may group differently, and the views read
/// every event once by its id: no duplicates. The REST views are
/// put together from one group of rows (Store::scan_group) — they never ask
/// the order or resource actors.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/event.hpp"
#include "persistence/store.hpp"

namespace troupe::views {

/// The subscribers, by name.
inline const std::vector<std::string> subscriber_names = {"notifier", "mypage", "report"};
bool is_subscriber(const std::string& name);

/// The rows subscriber `name` writes for one page of the log (events in id
/// order; none when no event concerns it). The events are read, not copied.
std::vector<persistence::Write> project_page(const std::string& name,
                                             const std::vector<const domain::Event*>& events);
std::vector<persistence::Write> project_page(const std::string& name,
                                             const std::vector<domain::Event>& events);
/// The rows for a page of one event.
std::vector<persistence::Write> project(const std::string& name, const domain::Event& e);
/// Whether the report keeps a row for `e`: the events that change a line's
/// status or money (confirmed, cancelled, rejected, captured, refunded, a
/// step) — not the in-between ones (placed, held, authorized, declined,
/// voided, released).
bool reported(const domain::Event& e);

/// The notification a notifier row holds and a webhook receives: a JSON
/// object {amount, at, customerId, eventId, kind, message, orderId,
/// resourceId} as text (written directly, no JSON tree).
std::string notification(const domain::Event& e);
/// Whether the notifier tells the customer about `e`.
bool notifies(const domain::Event& e);

/// Where subscriber `name` keeps its cursor (the last event id applied).
std::string cursor_key(const std::string& name);

std::string notifications_group(const std::string& customer_id);
std::string mypage_group(const std::string& customer_id);
std::string report_group(const std::string& resource_id);

/// GET /v1/customers/{id}/notifications: {customerId, notifications:[...]}.
nlohmann::json notifications_view(const std::string& customer_id,
                                  const std::vector<persistence::Record>& notif_rows);
/// GET /v1/customers/{id}/mypage: the customer's orders (status history,
/// payment with its history) and notifications.
nlohmann::json mypage_view(const std::string& customer_id,
                           const std::vector<persistence::Record>& mypage_rows,
                           const std::vector<persistence::Record>& notif_rows);
/// One page of GET /v1/orders?customerId=…: the customer's orders as
/// mypage_view shows them (plus `customerId`), oldest first by the id of
/// their first event — stable, new orders always come last — keeping those
/// whose current status is `status` (all when empty) and whose first event
/// id is above `after` (0: from the start); at most `limit` (>= 1).
struct OrderPage {
  nlohmann::json items;    ///< array
  std::uint64_t last = 0;  ///< first event id of the last item (0: none)
  std::uint64_t next = 0;  ///< `after` of the next page; 0: this is the last
};
OrderPage order_page(const std::string& customer_id,
                     const std::vector<persistence::Record>& mypage_rows,
                     const std::string& status, std::uint64_t after, size_t limit);
/// GET /v1/resources/{id}/report: bookings, revenue, refunds, per order.
nlohmann::json report_view(const std::string& resource_id,
                           const std::vector<persistence::Record>& report_rows);

/// The events a mypage/report row holds.
domain::Result<std::vector<domain::Event>> row_events(const persistence::Record& row);

}  // namespace troupe::views
