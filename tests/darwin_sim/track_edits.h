// Edits of a video track (video_track.h) as an annotator makes them in V7,
// for darwin-sim's annotator endpoints: keyframes, ranges, split and merge.
// Pure functions over tracks and `annotation_properties` objects.
//
// Invariants they keep: every range starts with a keyframe, and frames that
// stay inside a track keep the shape they were exported with (a frame that
// becomes a range boundary is turned into a keyframe with that shape).
#ifndef LABELPORT_TESTS_DARWIN_SIM_TRACK_EDITS_H_
#define LABELPORT_TESTS_DARWIN_SIM_TRACK_EDITS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json.hpp"
#include "video_track.h"

namespace labelport::darwin_sim {

// Gives each range whose first frame has no stored frame a keyframe there,
// with the shape `shown_by` shows at that frame.
void KeyframeRangeStarts(VideoTrack& track, const VideoTrack& shown_by);

// Replaces the ranges (joined when overlapping or touching); keyframes outside
// them are dropped; range starts are keyframed, and a range cut short at its
// end keyframes its new last frame when that was an in-between frame.
// Errors: InvalidArgument when `ranges` is empty.
absl::Status ReplaceRanges(VideoTrack& track, std::vector<FrameSpan> ranges);

// Sets the main shape `type` of the keyframe at `frame`. A new keyframe takes
// the sub-annotations shown at `frame`; a frame outside every range extends
// the nearest range to cover it ([frame, frame + 1) when there is none).
void SetKeyframe(VideoTrack& track, int64_t frame, const std::string& type,
                 boost::json::value shape);

struct SplitTracks {
  VideoTrack before;  // Frames < the split frame.
  VideoTrack after;   // Frames >= the split frame.
};
// Cuts `track` at `frame`: ranges and hidden areas are cut there and the
// frames on both sides of the cut are keyframed where needed.
// Errors: InvalidArgument unless ranges lie both before `frame` and at or
// after it.
absl::StatusOr<SplitTracks> SplitTrack(const VideoTrack& track, int64_t frame);

// `keep` with the keyframes of `other` (those of `keep` win on the same
// frame), both sets of ranges (joined) and of hidden areas. Ranges starting
// without a keyframe get one with the shape shown there before the merge.
VideoTrack MergeTracks(const VideoTrack& keep, const VideoTrack& other);

// Section property values (`annotation_properties` keys that are frame
// indices) on frames no range of `track` covers move to the start of the next
// range unless it sets them itself (the latest value wins), or are dropped
// when no range follows. "global" values are untouched.
void RealignSectionProperties(boost::json::object& properties, const VideoTrack& track);

// Splits `annotation_properties` at `frame`: "global" values go to both,
// section values to the side of their frame, and the values in effect at
// `frame` are set again at `after_start` unless set there already.
std::pair<boost::json::object, boost::json::object> SplitSectionProperties(
    const boost::json::object& properties, int64_t frame, int64_t after_start);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_TRACK_EDITS_H_
