// Domain errors that name the offending input.
//
// Below the transport every error is an absl::Status. Errors about a request
// carry two payloads that service/api turns into google.rpc details:
//   kFieldPayload  - the request field path, e.g. "header.anno_key"
//                    (becomes a google.rpc.BadRequest field violation);
//   kReasonPayload - an UPPER_SNAKE reason, e.g. "INVALID_RUN_KEY"
//                    (becomes google.rpc.ErrorInfo.reason).
#ifndef LABELPORT_SERVICE_COMMON_ERRORS_H_
#define LABELPORT_SERVICE_COMMON_ERRORS_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace labelport::common {

inline constexpr absl::string_view kFieldPayload = "labelport.dev/field";
inline constexpr absl::string_view kReasonPayload = "labelport.dev/reason";

// Returns `status` with the field and reason payloads set.
absl::Status WithDetails(absl::Status status, absl::string_view field, absl::string_view reason);

// INVALID_ARGUMENT about `field`, for the rule `reason`.
absl::Status InvalidArgument(absl::string_view field, absl::string_view reason,
                             absl::string_view message);
// ALREADY_EXISTS about `field`.
absl::Status AlreadyExists(absl::string_view field, absl::string_view reason,
                           absl::string_view message);
// NOT_FOUND about `field`.
absl::Status NotFound(absl::string_view field, absl::string_view reason, absl::string_view message);

// How many bytes of a request value an error message shows.
inline constexpr size_t kExcerptBytes = 64;

// `value` as an error message shows it: whole when it has at most
// kExcerptBytes bytes, otherwise its first kExcerptBytes bytes (cut back to a
// UTF-8 character boundary) followed by "…(N bytes)", N being its size.
// Every error message that echoes a value from a request goes through this,
// so that a megabyte-long name never travels back in a status (whose message
// the client receives in size-limited metadata).
std::string Excerpt(absl::string_view value);

// `message` cut to at most `max_bytes` bytes plus the "…(N bytes)" marker
// (at a UTF-8 character boundary); unchanged when it fits.
std::string Truncated(absl::string_view message, size_t max_bytes);

// `status` with `prefix` put before its message (the same code and
// payloads), e.g. Prefixed("--tenants_file: ", loaded.status()).
absl::Status Prefixed(absl::string_view prefix, const absl::Status& status);

// The payloads of a status, when present.
std::optional<std::string> ErrorField(const absl::Status& status);
std::optional<std::string> ErrorReason(const absl::Status& status);

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_ERRORS_H_
