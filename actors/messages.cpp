#include "actors/messages.hpp"

namespace troupe::actors {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<domain::ResourceSpec>("troupe.ResourceSpec");
  cfg.add_message_type<domain::StatusChange>("troupe.StatusChange");
  cfg.add_message_type<domain::Payment>("troupe.Payment");
  cfg.add_message_type<domain::Order>("troupe.Order");
  cfg.add_message_type<domain::Booking>("troupe.Booking");
  cfg.add_message_type<persistence::Write>("troupe.Write");
  cfg.add_message_type<persistence::Record>("troupe.Record");
  cfg.add_message_type<HoldRequest>("troupe.HoldRequest");
  cfg.add_message_type<RiderAssign>("troupe.RiderAssign");
  cfg.add_message_type<RiderRelease>("troupe.RiderRelease");
  cfg.add_message_type<ConfirmHold>("troupe.ConfirmHold");
  cfg.add_message_type<ReleaseHold>("troupe.ReleaseHold");
  cfg.add_message_type<CancelBooking>("troupe.CancelBooking");
  cfg.add_message_type<StepBooking>("troupe.StepBooking");
  cfg.add_message_type<AdvanceStep>("troupe.AdvanceStep");
  cfg.add_message_type<ResourceView>("troupe.ResourceView");
  cfg.add_message_type<PlaceOrder>("troupe.PlaceOrder");
  cfg.add_message_type<RegisterResource>("troupe.RegisterResource");
  cfg.add_message_type<RegisterResult>("troupe.RegisterResult");
  cfg.add_message_type<domain::BreakerConfig>("troupe.BreakerConfig");
  cfg.add_message_type<BreakerTransitionView>("troupe.BreakerTransitionView");
  cfg.add_message_type<BreakerView>("troupe.BreakerView");
  cfg.add_message_type<ChargeRequest>("troupe.ChargeRequest");
  cfg.add_message_type<RefundRequest>("troupe.RefundRequest");
  cfg.add_message_type<CaptureRequest>("troupe.CaptureRequest");
  cfg.add_message_type<StoreWrite>("troupe.StoreWrite");
  cfg.add_message_type<StoreGet>("troupe.StoreGet");
  cfg.add_message_type<StoreScan>("troupe.StoreScan");
  cfg.add_message_type<StoreValue>("troupe.StoreValue");
  cfg.add_message_type<LogRead>("troupe.LogRead");
  cfg.add_message_type<StoreScanGroup>("troupe.StoreScanGroup");
  cfg.add_message_type<StoreStatsView>("troupe.StoreStatsView");
  cfg.add_message_type<CrashActor>("troupe.CrashActor");
  cfg.add_message_type<SupervisionStats>("troupe.SupervisionStats");
  cfg.add_message_type<CrashRandom>("troupe.CrashRandom");
  cfg.add_message_type<SubscriberControl>("troupe.SubscriberControl");
  cfg.add_message_type<SupervisorView>("troupe.SupervisorView");
}

caf::error to_caf(const domain::Error& e) {
  if (e.subject.empty()) return to_caf(e.kind, e.detail);
  return caf::error(static_cast<std::uint8_t>(e.kind), error_category,
                    caf::make_message(e.detail, e.subject));
}

caf::error to_caf(domain::ErrorKind kind, std::string detail) {
  return caf::error(static_cast<std::uint8_t>(kind), error_category,
                    caf::make_message(std::move(detail)));
}

domain::Error from_caf(const caf::error& e) {
  using domain::ErrorKind;
  if (e.category() == error_category) {
    std::string detail, subject;
    const auto& ctx = e.context();
    if (ctx.size() >= 1 && ctx.match_element<std::string>(0)) detail = ctx.get_as<std::string>(0);
    if (ctx.size() >= 2 && ctx.match_element<std::string>(1)) subject = ctx.get_as<std::string>(1);
    auto code = e.code();
    if (code < static_cast<std::uint8_t>(ErrorKind::invalid_input) ||
        code > static_cast<std::uint8_t>(ErrorKind::internal))
      return {ErrorKind::internal, detail, subject};
    return {static_cast<ErrorKind>(code), detail, subject};
  }
  if (e == caf::sec::request_timeout)
    return domain::make_error(ErrorKind::timeout, "the actor did not answer in time");
  if (e == caf::sec::request_receiver_down ||
      e == caf::sec::runtime_error)
    return domain::make_error(ErrorKind::retry, "the actor handling the request stopped; retry");
  return domain::make_error(ErrorKind::internal, caf::to_string(e));
}

}  // namespace troupe::actors
