#include "service/http/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace labelport::http {

absl::Status RetryPolicy::Validate() const {
  if (max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry policy: max_attempts must be >= 1, got ", max_attempts));
  }
  if (initial_backoff < absl::ZeroDuration() || max_backoff < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retry policy: backoffs must not be negative");
  }
  if (!(multiplier >= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry policy: multiplier must be >= 1, got ", multiplier));
  }
  if (!(jitter >= 0.0 && jitter <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry policy: jitter must be in [0, 1], got ", jitter));
  }
  if (per_attempt_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retry policy: per_attempt_timeout must be > 0");
  }
  return absl::OkStatus();
}

bool IsRetryableHttpStatus(int status, bool idempotent) {
  switch (status) {
    case 429:
    case 503:
      return true;
    case 500:
    case 502:
    case 504:
      return idempotent;
    default:
      return false;
  }
}

bool IsRetryableError(const absl::Status& status, bool idempotent) {
  return idempotent && (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status));
}

absl::Duration BackoffDelay(const RetryPolicy& policy, int retry, double uniform01) {
  const double exponent = std::max(0, retry - 1);
  const double factor = std::pow(policy.multiplier, std::min(exponent, 64.0));
  absl::Duration delay = policy.initial_backoff * factor;
  if (!(delay < policy.max_backoff)) delay = policy.max_backoff;
  const double u = std::clamp(uniform01, 0.0, 1.0);
  return delay * (1.0 - policy.jitter * u);
}

bool MayRetry(const RetryPolicy& policy, int attempt, absl::Time now, absl::Duration delay,
              absl::Time deadline) {
  return attempt < policy.max_attempts && now + delay < deadline;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
    int64_t seconds = 0;
    // Absurdly large values saturate rather than fail: the caller caps them.
    if (value.size() > 12 || !absl::SimpleAtoi(value, &seconds)) return absl::InfiniteDuration();
    return absl::Seconds(seconds);
  }
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
      "%a %b %e %H:%M:%S %Y",       // asctime
  };
  for (const char* format : kFormats) {
    absl::Time when;
    std::string error;
    if (absl::ParseTime(format, std::string(value), absl::UTCTimeZone(), &when, &error)) {
      return std::max(absl::ZeroDuration(), when - now);
    }
  }
  return std::nullopt;
}

}  // namespace labelport::http
