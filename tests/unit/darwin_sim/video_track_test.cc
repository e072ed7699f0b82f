#include "video_track.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

json::object J(std::string_view text) { return ParseJson(text)->as_object(); }

TEST(VideoTrackTest, ParsesAndWritesBackImportFormat) {
  absl::StatusOr<VideoTrack> track = ParseVideoTrack(J(R"({
      "frames": {"3": {"keypoint": {"x": 1, "y": 2}, "keyframe": true}},
      "ranges": [[3, 6]], "hidden_areas": [[4, 4]], "interpolated": false,
      "global_sub_types": {}})"));
  ASSERT_TRUE(track.ok()) << track.status();
  EXPECT_EQ(track->frames.size(), 1u);
  EXPECT_EQ(track->ranges, (std::vector<FrameSpan>{{3, 6}}));
  EXPECT_EQ(track->hidden_areas, (std::vector<FrameSpan>{{4, 4}}));
  EXPECT_EQ(track->interpolated, false);
  EXPECT_EQ(json::value(VideoTrackToData(*track)), json::value(J(R"({
      "global_sub_types": {},
      "frames": {"3": {"keypoint": {"x": 1, "y": 2}, "keyframe": true}},
      "segments": [[3, 6]], "hidden_areas": [[4, 4]], "interpolated": false})")));
  EXPECT_TRUE(IsHidden(*track, 4));
  EXPECT_FALSE(IsHidden(*track, 5));
}

TEST(VideoTrackTest, RefusesMalformedTracksNamingTheRule) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"frames": {"a": {}}})", "0-based frame indices"},
      {R"({"frames": {"1": []}})", "frame 1 must be an object"},
      {R"({"frames": 3})", "frames must be an object"},
      {R"({"frames": {}, "segments": [[2, 2]]})", "0 <= start < end"},
      {R"({"frames": {}, "segments": [[-1, 2]]})", "segments must be a list"},
      {R"({"frames": {}, "hidden_areas": [[2, 1]]})", "0 <= start <= end"},
      {R"({"frames": {}, "interpolated": "yes"})", "interpolated must be a bool"},
  };
  for (const auto& [data, rule] : cases) {
    absl::StatusOr<VideoTrack> track = ParseVideoTrack(J(data));
    ASSERT_FALSE(track.ok()) << data;
    EXPECT_TRUE(absl::StrContains(track.status().message(), rule)) << track.status();
  }
}

TEST(VideoTrackTest, FrameAtHoldsInterpolatesAndKeepsSubAnnotations) {
  VideoTrack track = *ParseVideoTrack(J(R"({
      "frames": {"2": {"bounding_box": {"x": 0, "y": 0, "w": 4, "h": 4},
                       "text": {"text": "t"}, "keyframe": true},
                 "6": {"bounding_box": {"x": 8, "y": 4, "w": 4, "h": 4}, "keyframe": true}},
      "segments": [[0, 10]], "interpolated": true})"));
  EXPECT_EQ(json::value(FrameAt(track, 4)), json::value(J(R"({
      "bounding_box": {"x": 4.0, "y": 2.0, "w": 4.0, "h": 4.0}, "text": {"text": "t"}})")));
  EXPECT_EQ(FrameAt(track, 0).at("bounding_box").at("x"), 0);  // Before the first: held.
  EXPECT_EQ(FrameAt(track, 9).at("bounding_box").at("x"), 8);  // After the last: held.
  track.interpolated = false;
  EXPECT_EQ(FrameAt(track, 5).at("bounding_box").at("x"), 0);
  EXPECT_TRUE(FrameAt(VideoTrack{}, 1).empty());
}

TEST(VideoTrackTest, JoinRangesSortsAndJoinsTouchingSpans) {
  EXPECT_EQ(JoinRanges({{8, 9}, {0, 3}, {3, 5}, {2, 4}}), (std::vector<FrameSpan>{{0, 5}, {8, 9}}));
}

}  // namespace
}  // namespace labelport::darwin_sim
