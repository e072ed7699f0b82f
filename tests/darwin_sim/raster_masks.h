// Pixel masks as V7 stores them (darwin-api §7.4): one `raster_layer`
// annotation per slot, of the built-in class `__raster_layer__`, whose
// `dense_rle` ([label, run length, ...], row-major, label 0 background)
// covers `total_pixels` = width x height, and whose
// `mask_annotation_ids_mapping` ties each `mask` annotation (an empty body)
// to its label.
//
// Import (E35) and the annotator endpoints validate these bodies the way V7
// refuses them; the annotator can paint a class into a slot's raster layer
// (POST /_sim/items/{id}/masks/paint), as a person with V7's brush would.
// Callers hold Store's lock.
#ifndef LABELPORT_TESTS_DARWIN_SIM_RASTER_MASKS_H_
#define LABELPORT_TESTS_DARWIN_SIM_RASTER_MASKS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/json.hpp"
#include "store.h"

namespace labelport::darwin_sim {

// Validates the body of a `raster_layer` (its object under the key).
// `slot_pixels`, when known, must equal total_pixels. InvalidArgument names
// the rule broken.
absl::Status ValidateRasterLayer(const boost::json::value& body,
                                 std::optional<int64_t> slot_pixels);

// Validates a `mask` body: `{}` or `{"sparse_rle": null}`.
absl::Status ValidateMask(const boost::json::value& body);

// Validates an imported annotation's `data` against its class's main type:
// raster_layer and mask bodies need the matching class (the raster layer
// the built-in `__raster_layer__`), and a well-formed body.
absl::Status ValidateMaskData(const std::string& main_type, const std::string& class_name,
                              const boost::json::object& data, std::optional<int64_t> slot_pixels);

// Paints a rectangle of `item`'s slot: `{"class_name": "road" | null,
// "rect": {"x", "y", "w", "h"} (pixels, clipped to the slot),
// "slot_name"?}`. A class gets its `mask` annotation on the slot (created,
// with the class, when missing) and its label in the slot's raster layer
// (created at the slot's size when missing); null paints background.
// Returns {"raster_layer": <annotation view>, "mask": <view> | null}.
// Errors: InvalidArgument for a bad request or a slot without a size.
absl::StatusOr<boost::json::object> PaintMaskLocked(Store& store, Item& item,
                                                    const boost::json::object& req)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu());

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_RASTER_MASKS_H_
