#include "track_edits.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

json::object J(std::string_view text) { return ParseJson(text)->as_object(); }

// Keyframes at 0 (x=0) and 10 (x=10) over [0, 11), interpolated.
VideoTrack Ramp() {
  return *ParseVideoTrack(J(R"({
      "frames": {"0": {"keypoint": {"x": 0, "y": 0}, "keyframe": true},
                 "10": {"keypoint": {"x": 10, "y": 0}, "keyframe": true}},
      "segments": [[0, 11]], "interpolated": true})"));
}

double XAt(const VideoTrack& t, int64_t frame) {
  return *GetNumber(FrameAt(t, frame).at("keypoint").at("x"));
}

TEST(TrackEditsTest, ShorteningRangesKeepsTheShapesOfTheFramesThatStay) {
  VideoTrack track = Ramp();
  ASSERT_TRUE(ReplaceRanges(track, {{3, 8}}).ok());
  EXPECT_EQ(track.ranges, (std::vector<FrameSpan>{{3, 8}}));
  std::vector<int64_t> keys;
  for (const auto& [index, frame] : track.frames) keys.push_back(index);
  EXPECT_EQ(keys, (std::vector<int64_t>{3, 7}));
  for (int64_t f = 3; f < 8; ++f) EXPECT_DOUBLE_EQ(XAt(track, f), f);
  EXPECT_FALSE(ReplaceRanges(track, {}).ok());
}

TEST(TrackEditsTest, ExtendingRangesHoldsAndKeyframesTheNewStart) {
  VideoTrack track = Ramp();
  ASSERT_TRUE(ReplaceRanges(track, {{12, 14}, {0, 13}}).ok());
  EXPECT_EQ(track.ranges, (std::vector<FrameSpan>{{0, 14}}));
  EXPECT_EQ(track.frames.size(), 2u);
  EXPECT_DOUBLE_EQ(XAt(track, 13), 10);
}

TEST(TrackEditsTest, SetKeyframeKeepsSubAnnotationsAndExtendsTheNearestRange) {
  VideoTrack track = Ramp();
  track.frames[0]["text"] = J(R"({"text": "t"})");
  SetKeyframe(track, 4, "keypoint", J(R"({"x": 40, "y": 0})"));
  EXPECT_EQ(json::value(track.frames.at(4)),
            json::value(J(R"({"keypoint": {"x": 40, "y": 0}, "text": {"text": "t"},
                              "keyframe": true})")));
  SetKeyframe(track, 15, "keypoint", J(R"({"x": 15, "y": 0})"));
  EXPECT_EQ(track.ranges, (std::vector<FrameSpan>{{0, 16}}));
  VideoTrack empty;
  SetKeyframe(empty, 7, "tag", json::object());
  EXPECT_EQ(empty.ranges, (std::vector<FrameSpan>{{7, 8}}));
}

TEST(TrackEditsTest, SplitKeyframesBothSidesOfTheCut) {
  VideoTrack track = Ramp();
  track.hidden_areas = {{4, 6}};
  absl::StatusOr<SplitTracks> halves = SplitTrack(track, 5);
  ASSERT_TRUE(halves.ok()) << halves.status();
  EXPECT_EQ(halves->before.ranges, (std::vector<FrameSpan>{{0, 5}}));
  EXPECT_EQ(halves->after.ranges, (std::vector<FrameSpan>{{5, 11}}));
  EXPECT_EQ(halves->before.hidden_areas, (std::vector<FrameSpan>{{4, 4}}));
  EXPECT_EQ(halves->after.hidden_areas, (std::vector<FrameSpan>{{5, 6}}));
  EXPECT_EQ(halves->before.frames.count(4), 1u);
  EXPECT_EQ(halves->after.frames.count(5), 1u);
  for (int64_t f = 0; f < 5; ++f) EXPECT_DOUBLE_EQ(XAt(halves->before, f), f);
  for (int64_t f = 5; f < 11; ++f) EXPECT_DOUBLE_EQ(XAt(halves->after, f), f);
  for (int64_t at : {0, 11, 20}) {
    absl::StatusOr<SplitTracks> bad = SplitTrack(track, at);
    ASSERT_FALSE(bad.ok());
    EXPECT_TRUE(absl::StrContains(bad.status().message(), "before it and at or after it"));
  }
}

TEST(TrackEditsTest, MergeJoinsRangesAndKeyframesTheStarts) {
  VideoTrack keep = Ramp();
  VideoTrack other = *ParseVideoTrack(J(R"({
      "frames": {"10": {"keypoint": {"x": 99, "y": 0}}, "16": {"keypoint": {"x": 16, "y": 0}}},
      "segments": [[8, 12], [14, 18]], "hidden_areas": [[15, 15]]})"));
  VideoTrack merged = MergeTracks(keep, other);
  EXPECT_EQ(merged.ranges, (std::vector<FrameSpan>{{0, 12}, {14, 18}}));
  EXPECT_DOUBLE_EQ(XAt(merged, 10), 10);  // Kept track wins.
  EXPECT_DOUBLE_EQ(XAt(merged, 14), 16);  // New range start keyframed from `other`.
  EXPECT_EQ(merged.frames.count(14), 1u);
  EXPECT_EQ(merged.hidden_areas, (std::vector<FrameSpan>{{15, 15}}));
}

TEST(TrackEditsTest, SectionPropertiesFollowTheirFrames) {
  VideoTrack track = Ramp();
  ASSERT_TRUE(ReplaceRanges(track, {{3, 8}}).ok());
  json::object props = J(R"({"global": {"p": ["g"]}, "0": {"p": ["a"], "q": ["x"]},
                             "2": {"p": ["b"]}, "5": {"p": ["c"]}, "9": {"p": ["d"]}})");
  RealignSectionProperties(props, track);
  EXPECT_EQ(json::value(props), json::value(J(R"({"global": {"p": ["g"]},
      "5": {"p": ["c"]}, "3": {"p": ["b"], "q": ["x"]}})")));

  auto [before, after] = SplitSectionProperties(props, 4, 4);
  EXPECT_EQ(json::value(before),
            json::value(J(R"({"global": {"p": ["g"]}, "3": {"p": ["b"], "q": ["x"]}})")));
  EXPECT_EQ(json::value(after), json::value(J(R"({"global": {"p": ["g"]}, "5": {"p": ["c"]},
                                                 "4": {"p": ["b"], "q": ["x"]}})")));
}

}  // namespace
}  // namespace labelport::darwin_sim
