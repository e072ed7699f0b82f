// FiftyOne semantic segmentations ↔ V7 raster layers (darwin-api §7.4).
//
// V7 keeps an image's pixel masks as ONE `raster_layer` annotation per slot
// (class `__raster_layer__`): a row-major dense run-length encoding of small
// integer labels at the slot's size, label 0 the background, plus one empty
// `mask` annotation per class, which `mask_annotation_ids_mapping` ties to
// its label. A FiftyOne `Segmentation` maps pixel values to classes through
// the field's `mask_targets`.
//
// Upload: the mask is resized (nearest neighbour) to the slot when its size
// differs; each target value present becomes one `mask` annotation of its
// class (raster label 1, 2, ... in value order); values that are not targets
// are sent as background. Ids are deterministic from (run, label id, part):
// part 0 for the raster layer, part = pixel value for a mask annotation.
//
// Load: the raster layer is decoded back to pixel values through the mask
// annotations' classes. When the result equals what the upload sent, the
// snapshot label comes back unchanged (an unchanged load is pixel-exact, at
// the mask's own size, values that are not targets included); otherwise the
// edited mask comes back with the snapshot's id, tags, attributes, size and
// pixel width (resized back when the sizes differ).
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_RASTER_LAYER_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_RASTER_LAYER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/labels.pb.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "service/backend/darwin/darwin_json.h"

namespace labelport::backend::darwin {

// The most pixels a raster layer may decode to (8192 x 8192).
inline constexpr int64_t kMaxRasterPixels = int64_t{8192} * 8192;

// Pixel values of a mask, row-major (little-endian for 2 bytes per pixel).
// The caller has validated the byte count.
std::vector<uint16_t> MaskPixels(const labelport::v1::Segmentation& mask);

// Builds a Segmentation of `width` x `height` from pixel values.
labelport::v1::Segmentation MaskFromPixels(const std::vector<uint16_t>& pixels, int width,
                                           int height, int bytes_per_pixel);

// Nearest-neighbour resize of a row-major image (identity when sizes match).
std::vector<uint16_t> ResizeNearest(const std::vector<uint16_t>& pixels, int width, int height,
                                    int new_width, int new_height);

// Dense run-length encoding: [value, run length, ...] in row-major order.
std::vector<int64_t> DenseRle(const std::vector<uint16_t>& pixels);

// Decodes a dense RLE of `total_pixels` labels. INVALID_ARGUMENT when the
// runs do not add up to `total_pixels`, a run is not positive, a label
// exceeds 65535 or the total exceeds kMaxRasterPixels.
absl::StatusOr<std::vector<uint16_t>> DecodeDenseRle(const std::vector<int64_t>& dense_rle,
                                                     int64_t total_pixels);

// Encodes one segmentation (EncodeContext: the slot size, class ids of
// (class, "mask") and ("__raster_layer__", "raster_layer")). Nothing is
// sent for an all-background mask.
absl::StatusOr<EncodedLabels> EncodeSegmentation(const labelport::v1::Segmentation& mask,
                                                 const EncodeContext& context);

// What a segmentation field is decoded from.
struct RasterInputs {
  const labelport::v1::FieldSchema* field = nullptr;
  int slot_width = 0;
  int slot_height = 0;
  // The slot's raster layer (null when V7 has none) and its mask annotations.
  const ExportedAnnotation* raster = nullptr;
  std::vector<const ExportedAnnotation*> masks;
  // The field's label as last known (null when the field was empty).
  const labelport::v1::Segmentation* snapshot = nullptr;
  // Called with (annotation id, reason) for what cannot be used.
  std::function<void(const std::string&, const std::string&)> skip;
};

// The field's segmentation after V7, or nullopt when it has none (no
// raster layer and no non-background snapshot pixels).
std::optional<labelport::v1::Segmentation> DecodeSegmentation(const RasterInputs& in);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_RASTER_LAYER_H_
