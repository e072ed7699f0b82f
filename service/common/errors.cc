#include "service/common/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace labelport::common {

std::string Truncated(absl::string_view message, size_t max_bytes) {
  if (message.size() <= max_bytes) return std::string(message);
  size_t end = max_bytes;
  // Back up over UTF-8 continuation bytes (10xxxxxx) so that no character
  // is split; a cut character is dropped whole.
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat(message.substr(0, end), "\u2026(", message.size(), " bytes)");
}

std::string Excerpt(absl::string_view value) { return Truncated(value, kExcerptBytes); }

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

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  absl::Status prefixed(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&prefixed](absl::string_view type_url, const absl::Cord& payload) {
    prefixed.SetPayload(type_url, payload);
  });
  return prefixed;
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
