// Bounds on what a request may contain. Exceeding one is INVALID_ARGUMENT
// naming the input and the bound.
#ifndef LABELPORT_SERVICE_CORE_LIMITS_H_
#define LABELPORT_SERVICE_CORE_LIMITS_H_

#include <cstddef>

namespace labelport::core {

inline constexpr size_t kMaxSamplesPerRun = 200'000;
inline constexpr size_t kMaxSamplesPerBatch = 1'000;
inline constexpr size_t kMaxIdLength = 128;      // sample, label, frame ids
inline constexpr size_t kMaxNameLength = 256;    // dataset, key, field, class
inline constexpr size_t kMaxPathLength = 4'096;  // paths, URLs, storage keys
inline constexpr size_t kMaxLabelsPerSample = 10'000;
inline constexpr size_t kMaxClientMetadataEntries = 64;
inline constexpr size_t kMaxClientMetadataValue = 4'096;
inline constexpr int kDefaultRunPageSize = 50;
inline constexpr int kMaxRunPageSize = 1'000;
inline constexpr int kDefaultSamplePageSize = 1'000;
inline constexpr int kMaxSamplePageSize = 10'000;

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_LIMITS_H_
