// A stored video annotation (a "track") in V7's import format
// (darwin-api.md §7.9, §7.10): keyframes by 0-based frame index, `segments`
// (V7's `ranges`: [start, end) pairs, end exclusive), `hidden_areas`
// ([start, end] pairs, inclusive) and the `interpolated` flag.
//
// darwin-sim's rules for the frames between keyframes, shared by the export
// (every frame of each range) and the annotator (split, range edits):
// * a frame takes the nearest keyframe before it in its range, else the
//   nearest after it in its range, else the nearest before it anywhere, else
//   the nearest after it (shapes are held);
// * when `interpolated` is true and the frame lies between two keyframes of
//   the same range, every numeric coordinate of the main shape
//   (bounding_box, polygon, keypoint, line, ellipse, skeleton, cuboid,
//   directional_vector) is interpolated linearly; arrays of different lengths
//   (polygons with different point counts) are held from the earlier one.
//   Sub-annotations (text, instance_id, ...) are always held.
#ifndef LABELPORT_TESTS_DARWIN_SIM_VIDEO_TRACK_H_
#define LABELPORT_TESTS_DARWIN_SIM_VIDEO_TRACK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json.hpp"

namespace labelport::darwin_sim {

using FrameSpan = std::pair<int64_t, int64_t>;

struct VideoTrack {
  // Stored frames (keyframes, normally) in import format, each with its main
  // shape, sub-annotations and `keyframe` flag.
  std::map<int64_t, boost::json::object> frames;
  std::vector<FrameSpan> ranges;        // [start, end), sorted as stored.
  std::vector<FrameSpan> hidden_areas;  // [start, end], inclusive.
  std::optional<bool> interpolated;     // Absent for tags, masks, raster layers.
  boost::json::object extra;            // Other keys, kept verbatim.
};

// True when `data` (import format) is a video annotation (has `frames`).
bool IsVideoData(const boost::json::object& data);

// Parses stored or imported video data (`segments` or `ranges` accepted).
// Errors: InvalidArgument naming the rule: `frames` must be an object keyed by
// non-negative integers with object values; `segments`/`ranges` and
// `hidden_areas` must be lists of [start, end] integer pairs with
// 0 <= start < end (hidden areas: start <= end).
absl::StatusOr<VideoTrack> ParseVideoTrack(const boost::json::object& data);

// Import format again: {"frames", "segments", "hidden_areas",
// "interpolated"?, ...extra}.
boost::json::object VideoTrackToData(const VideoTrack& track);

// The shape and sub-annotations shown at `frame` (import format, without the
// `keyframe` flag): the stored frame itself, or held/interpolated as in the
// file comment. Empty when the track has no frames.
boost::json::object FrameAt(const VideoTrack& track, int64_t frame);

// The range containing `frame`, if any.
std::optional<FrameSpan> RangeOf(const VideoTrack& track, int64_t frame);
bool IsHidden(const VideoTrack& track, int64_t frame);

// Sorts `spans` and joins overlapping or touching [start, end) spans.
std::vector<FrameSpan> JoinRanges(std::vector<FrameSpan> spans);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_VIDEO_TRACK_H_
