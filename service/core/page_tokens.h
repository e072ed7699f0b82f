// Opaque page tokens for the List RPCs. A token is only valid for the list
// kind that issued it; anything else is INVALID_ARGUMENT naming "page_token".
#ifndef LABELPORT_SERVICE_CORE_PAGE_TOKENS_H_
#define LABELPORT_SERVICE_CORE_PAGE_TOKENS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::core {

std::string EncodeRunPageToken(absl::string_view after_anno_key);
absl::StatusOr<std::string> DecodeRunPageToken(absl::string_view token);

std::string EncodeSamplePageToken(int64_t start_position);
absl::StatusOr<int64_t> DecodeSamplePageToken(absl::string_view token);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_PAGE_TOKENS_H_
