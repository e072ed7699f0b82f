// Bounds on what a request may contain. Exceeding one is INVALID_ARGUMENT
// naming the input, the bound and the value found (values themselves are
// quoted through common::Excerpt). README.md "Request limits" lists them.
#ifndef LABELPORT_SERVICE_CORE_LIMITS_H_
#define LABELPORT_SERVICE_CORE_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace labelport::core {

// --- Client streams ---
// CreateRun: samples per run, per batch message, bytes per message and per
// call (the serialised messages). A message is well below the gRPC receive
// limit (--max_message_mb, 64 MiB by default); the clients send batches of at
// most 1,000 samples and 4 MiB.
inline constexpr size_t kMaxSamplesPerRun = 1'000'000;
inline constexpr size_t kMaxSamplesPerBatch = 1'000;
inline constexpr int64_t kMaxCreateRunMessageBytes = int64_t{16} << 20;
inline constexpr int64_t kMaxCreateRunBytes = int64_t{4} << 30;
// UploadMedia: bytes per chunk message and messages per call (the bytes per
// call are the announced size, at most store::kMaxContentBytes).
inline constexpr int64_t kMaxMediaChunkBytes = int64_t{1} << 20;
inline constexpr int64_t kMaxMediaChunksPerUpload = int64_t{1} << 20;

// --- Strings (bytes) ---
inline constexpr size_t kMaxIdLength = 128;      // sample, label, frame, request ids
inline constexpr size_t kMaxNameLength = 256;    // dataset, key, field, class, attribute,
                                                 // type names; collection name; tags
inline constexpr size_t kMaxPathLength = 4'096;  // paths, URLs, storage keys
inline constexpr size_t kMaxTextLength = 4'096;  // attribute string values
inline constexpr size_t kMaxClientMetadataValue = 4'096;

// --- Lists ---
inline constexpr size_t kMaxClientMetadataEntries = 64;
inline constexpr size_t kMaxFieldsPerSchema = 256;       // label-schema fields
inline constexpr size_t kMaxExistingFields = 1'024;      // header.existing_fields
inline constexpr size_t kMaxClassesPerField = 10'000;    // given, dataset_classes or inferred
inline constexpr size_t kMaxClassesPerRun = 20'000;      // all fields of the schema
inline constexpr size_t kMaxAttributesPerField = 256;    // specs per field or class group,
                                                         // attributes per label
inline constexpr size_t kMaxAttributesPerRun = 4'096;    // all fields and class groups
inline constexpr size_t kMaxValuesPerAttribute = 1'024;  // spec values, list values
inline constexpr size_t kMaxTagsPerLabel = 256;
inline constexpr size_t kMaxLabelsPerSample = 10'000;  // per field of a sample or frame
inline constexpr size_t kMaxPointsPerShape = 65'536;   // polyline shape, keypoint points
inline constexpr size_t kMaxShapesPerPolyline = 1'024;
inline constexpr uint32_t kMaxMaskSide = 16'384;        // segmentation mask width, height
inline constexpr size_t kMaxFramesPerSample = 100'000;  // labelled frames per field
inline constexpr int kMaxAttributeValueDepth = 4;       // nested list values

// --- Coordinates (relative to the image, FiftyOne's convention) ---
// Every coordinate of a box ([x, y, x + w, y + h]) or point must lie within
// [-kCoordinateSlack, 1 + kCoordinateSlack]: farther out is not a slightly
// overshooting box but a unit mistake (pixels sent as relative values).
inline constexpr double kCoordinateSlack = 1.0;

// --- Paging ---
inline constexpr int kDefaultRunPageSize = 50;
inline constexpr int kMaxRunPageSize = 1'000;
inline constexpr int kDefaultSamplePageSize = 1'000;
inline constexpr int kMaxSamplePageSize = 10'000;

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_LIMITS_H_
