#include "service/core/page_tokens.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "service/common/errors.h"

namespace labelport::core {
namespace {

constexpr absl::string_view kRunPrefix = "runs.v1:";
constexpr absl::string_view kSamplePrefix = "samples.v1:";

absl::Status BadToken() {
  return common::InvalidArgument("page_token", "INVALID_PAGE_TOKEN",
                                 "page_token is not a token returned by this list call");
}

absl::StatusOr<std::string> Unwrap(absl::string_view token, absl::string_view prefix) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return BadToken();
  absl::string_view view(raw);
  if (!absl::ConsumePrefix(&view, prefix)) return BadToken();
  return std::string(view);
}

}  // namespace

std::string EncodeRunPageToken(absl::string_view after_anno_key) {
  return absl::WebSafeBase64Escape(absl::StrCat(kRunPrefix, after_anno_key));
}

absl::StatusOr<std::string> DecodeRunPageToken(absl::string_view token) {
  auto key = Unwrap(token, kRunPrefix);
  if (!key.ok()) return key.status();
  if (key->empty()) return BadToken();
  return key;
}

std::string EncodeSamplePageToken(int64_t start_position) {
  return absl::WebSafeBase64Escape(absl::StrCat(kSamplePrefix, start_position));
}

absl::StatusOr<int64_t> DecodeSamplePageToken(absl::string_view token) {
  auto raw = Unwrap(token, kSamplePrefix);
  if (!raw.ok()) return raw.status();
  int64_t position = 0;
  if (!absl::SimpleAtoi(*raw, &position) || position < 0) return BadToken();
  return position;
}

}  // namespace labelport::core
