// FiftyOne instance masks (`Detection.mask`, label type "instances") ↔ V7
// polygons.
//
// An instance goes to V7 as ONE polygon traced from its mask: the boundary
// between mask pixels and the others, along pixel edges, as closed paths
// (outer boundaries and holes, several parts when the mask has them).
// V7 fills a polygon's paths even-odd, so the polygon covers exactly the mask's
// pixels: rasterised at pixel centres it gives the mask back. A polygon (not
// the raster layer) because instances overlap and V7 keeps one raster layer
// per image, shared with semantic segmentation; and it stays editable with
// V7's polygon tools.
//
// Load: a polygon equal to the one uploaded gives the snapshot's box and mask
// back unchanged (pixel-exact, values and size as they were); an edited one
// becomes the polygon's bounding box and its even-odd rasterisation at the
// image's pixel resolution (values 0/1).
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_INSTANCE_MASK_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_INSTANCE_MASK_H_

#include <vector>

#include "labelport/v1/labels.pb.h"
#include "service/backend/darwin/darwin_json.h"

namespace labelport::backend::darwin {

using PixelPaths = std::vector<std::vector<PixelPoint>>;

// The polygon paths (image pixels) of `detection`'s mask, which spans its
// bounding box; `width` x `height` is the image. Collinear vertices are
// dropped. Empty when the mask has no pixel set.
PixelPaths TraceInstanceMask(const labelport::v1::Detection& detection, int width, int height);

// What an instance is sent to V7 as: its traced mask, or its box as a
// rectangle when the mask has no pixel set.
PixelPaths InstancePolygon(const labelport::v1::Detection& detection, int width, int height);

// Sets `detection`'s bounding box (relative) to the extent of `paths` and its
// mask to their even-odd rasterisation at pixel centres, one mask pixel per
// image pixel of the box (at least 1 x 1). The box is clipped to the image,
// so the mask has at most width x height pixels.
void RasterizeInstance(const PixelPaths& paths, int width, int height,
                       labelport::v1::Detection* detection);

// Whether two sets of paths are the same polygon (vertices within 1e-3 px,
// which also absorbs coordinates rounded to 3 decimals on the way).
bool SamePaths(const PixelPaths& a, const PixelPaths& b);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_INSTANCE_MASK_H_
