#include "service/common/errors.h"

#include "absl/strings/cord.h"

namespace labelport::common {

absl::Status WithDetails(absl::Status status, absl::string_view field, absl::string_view reason) {
  if (!field.empty()) status.SetPayload(kFieldPayload, absl::Cord(field));
  if (!reason.empty()) status.SetPayload(kReasonPayload, absl::Cord(reason));
  return status;
}

absl::Status InvalidArgument(absl::string_view field, absl::string_view reason,
                             absl::string_view message) {
  return WithDetails(absl::InvalidArgumentError(message), field, reason);
}

absl::Status AlreadyExists(absl::string_view field, absl::string_view reason,
                           absl::string_view message) {
  return WithDetails(absl::AlreadyExistsError(message), field, reason);
}

absl::Status NotFound(absl::string_view field, absl::string_view reason,
                      absl::string_view message) {
  return WithDetails(absl::NotFoundError(message), field, reason);
}

std::optional<std::string> ErrorField(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldPayload);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

std::optional<std::string> ErrorReason(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayload);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

}  // namespace labelport::common
