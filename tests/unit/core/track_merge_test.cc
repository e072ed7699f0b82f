// Frame-level merges with FiftyOne's track update (`_update_tracks`, spec:
// annotation-semantics §4.4, checklist items 43 and 55) as
// MergeFrameFieldValues computes them.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/label_merge.h"
#include "service/core/track_update.h"
#include "tests/unit/core/test_util.h"

namespace labelport::core {
namespace {

using ::labelport::core::testing::Parse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

v1::FieldSchema Schema(const std::string& text) { return Parse<v1::FieldSchema>(text); }

constexpr char kExisting[] = R"pb(
  field: "frames.objects"
  type: "detections"
  existing_field: true
  classes { entries { name: "car" } }
)pb";

// A frame with one detection per (id, index, x); index < 0 means none.
struct Box {
  std::string id;
  int64_t index;
  double x;
  std::optional<bool> keyframe = {};
};

v1::FrameFieldValue Frame(int n, const std::vector<Box>& boxes) {
  v1::FrameFieldValue f;
  f.set_frame_number(n);
  f.set_frame_id("fid-" + std::to_string(n));
  auto* list = f.mutable_value()->mutable_detections();
  for (const Box& b : boxes) {
    auto* d = list->add_detections();
    d->set_id(b.id);
    d->set_label("car");
    for (double v : {b.x, 0.1, 0.2, 0.2}) d->add_bounding_box(v);
    if (b.index >= 0) d->set_index(b.index);
    if (b.keyframe) d->set_keyframe(*b.keyframe);
  }
  return f;
}

// frame number → ids of the merged detections (with their index).
std::map<int, std::vector<std::string>> Merged(const std::vector<FrameMerge>& frames) {
  std::map<int, std::vector<std::string>> out;
  for (const auto& f : frames)
    for (const auto& d : f.merge.merged.detections().detections())
      out[f.frame_number].push_back(d.id() + "#" + std::to_string(d.index()));
  return out;
}

std::vector<std::string> All(const std::vector<FrameMerge>& frames,
                             std::vector<std::string> FieldMerge::*list) {
  std::vector<std::string> out;
  for (const auto& f : frames)
    for (const auto& id : f.merge.*list) out.push_back(id);
  return out;
}

TEST(TrackMergeTest, UnchangedTrackKeepsEveryIdAndChangesNothing) {
  const std::vector<v1::FrameFieldValue> base = {Frame(1, {{"a1", 1, 0.1}}),
                                                 Frame(2, {{"a2", 1, 0.2}})};
  auto frames = MergeFrameFieldValues(Schema(kExisting), base, base);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_THAT(Merged(frames),
              (std::map<int, std::vector<std::string>>{{1, {"a1#1"}}, {2, {"a2#1"}}}));
  EXPECT_THAT(All(frames, &FieldMerge::added), IsEmpty());
  EXPECT_THAT(All(frames, &FieldMerge::edited), IsEmpty());
  EXPECT_THAT(All(frames, &FieldMerge::deleted), IsEmpty());
  EXPECT_EQ(frames[0].frame_id, "fid-1");
}

TEST(TrackMergeTest, InterpolatedFrameOnAnExistingObservationInheritsItsId) {
  // Keyframe-only run: frames 1 and 3 were sent, frame 2 exists in the
  // dataset as a non-keyframe of the same track.
  const std::string schema = std::string(kExisting) + "only_keyframes: true";
  const std::vector<v1::FrameFieldValue> base = {Frame(1, {{"k1", 4, 0.1, true}}),
                                                 Frame(2, {{"m2", 4, 0.2, false}}),
                                                 Frame(3, {{"k3", 4, 0.3, true}})};
  // V7 interpolated frame 2 (a new id) and the track came back as index 9.
  const std::vector<v1::FrameFieldValue> down = {Frame(1, {{"k1", 9, 0.1, true}}),
                                                 Frame(2, {{"x2", 9, 0.25, false}}),
                                                 Frame(3, {{"k3", 9, 0.3, true}})};
  auto frames = MergeFrameFieldValues(Schema(schema), base, down);
  EXPECT_THAT(Merged(frames), (std::map<int, std::vector<std::string>>{
                                  {1, {"k1#4"}}, {2, {"m2#4"}}, {3, {"k3#4"}}}));
  EXPECT_THAT(All(frames, &FieldMerge::edited), ElementsAre("m2"));  // x 0.2 → 0.25
  EXPECT_THAT(All(frames, &FieldMerge::added), IsEmpty());
  EXPECT_THAT(All(frames, &FieldMerge::deleted), IsEmpty());
  EXPECT_EQ(frames[1].downloaded.detections().detections(0).id(), "m2");
}

TEST(TrackMergeTest, NewTracksGetIndexesAboveTheSampleMaximumInOrder) {
  const std::vector<v1::FrameFieldValue> base = {Frame(1, {{"a", 2, 0.1}, {"b", 7, 0.5}})};
  const std::vector<v1::FrameFieldValue> down = {
      Frame(1, {{"a", 2, 0.1}, {"b", 7, 0.5}, {"n1", 40, 0.6}}),
      Frame(2, {{"n2", 40, 0.6}, {"m2", 3, 0.9}})};
  auto frames = MergeFrameFieldValues(Schema(kExisting), base, down);
  // Unmatched indexes 3 and 40 → 8 and 9, in ascending order.
  EXPECT_THAT(Merged(frames), (std::map<int, std::vector<std::string>>{{1, {"a#2", "b#7", "n1#9"}},
                                                                       {2, {"n2#9", "m2#8"}}}));
  EXPECT_THAT(All(frames, &FieldMerge::added), ElementsAre("n1", "n2", "m2"));
}

TEST(TrackMergeTest, MergedTracksTakeTheSmallerIndexUnlessIndexEditsAreRefused) {
  const std::vector<v1::FrameFieldValue> base = {Frame(1, {{"a1", 1, 0.1}}),
                                                 Frame(2, {{"b2", 2, 0.2}})};
  // In V7 both frames are now one track (index 5 there).
  const std::vector<v1::FrameFieldValue> down = {Frame(1, {{"a1", 5, 0.1}}),
                                                 Frame(2, {{"b2", 5, 0.2}})};
  auto frames = MergeFrameFieldValues(Schema(kExisting), base, down);
  EXPECT_THAT(Merged(frames),
              (std::map<int, std::vector<std::string>>{{1, {"a1#1"}}, {2, {"b2#1"}}}));
  EXPECT_THAT(All(frames, &FieldMerge::edited), ElementsAre("b2"));

  const std::string no_index = std::string(kExisting) + "allow_index_edits: false";
  frames = MergeFrameFieldValues(Schema(no_index), base, down);
  EXPECT_THAT(Merged(frames),
              (std::map<int, std::vector<std::string>>{{1, {"a1#1"}}, {2, {"b2#2"}}}));
  EXPECT_THAT(All(frames, &FieldMerge::edited), IsEmpty());
}

TEST(TrackMergeTest, SplitTrackBecomesANewTrackAndTheMovedFramesAreReplaced) {
  const std::vector<v1::FrameFieldValue> base = {Frame(1, {{"a1", 1, 0.1}}),
                                                 Frame(2, {{"a2", 1, 0.2}})};
  // V7: frame 1 still the uploaded track; frame 2 now another track (new ids).
  const std::vector<v1::FrameFieldValue> down = {Frame(1, {{"a1", 1, 0.1}}),
                                                 Frame(2, {{"s2", 30, 0.2}})};
  auto frames = MergeFrameFieldValues(Schema(kExisting), base, down);
  EXPECT_THAT(Merged(frames),
              (std::map<int, std::vector<std::string>>{{1, {"a1#1"}}, {2, {"s2#2"}}}));
  EXPECT_THAT(All(frames, &FieldMerge::deleted), ElementsAre("a2"));
  EXPECT_THAT(All(frames, &FieldMerge::added), ElementsAre("s2"));
}

TEST(TrackMergeTest, DeletedFramesAreReportedOnTheirFrame) {
  const std::vector<v1::FrameFieldValue> base = {Frame(1, {{"a1", 1, 0.1}}),
                                                 Frame(2, {{"a2", 1, 0.2}})};
  auto frames = MergeFrameFieldValues(Schema(kExisting), base, {Frame(1, {{"a1", 1, 0.1}})});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].frame_number, 2);
  EXPECT_THAT(frames[1].merge.deleted, ElementsAre("a2"));
  EXPECT_EQ(frames[1].merge.merged.detections().detections_size(), 0);
}

TEST(TrackMergeTest, KeyframeFlagsAreDroppedWhenTheRunDidNotUseKeyframes) {
  std::vector<v1::FrameFieldValue> down = {Frame(1, {{"n", 1, 0.1, true}})};
  UpdateTracks(Schema(kExisting), {}, &down, /*as_new=*/false);
  EXPECT_FALSE(down[0].value().detections().detections(0).has_keyframe());
  // A new field imports them.
  down = {Frame(1, {{"n", 1, 0.1, true}})};
  UpdateTracks(Schema(R"pb(field: "frames.x" type: "detections")pb"), {}, &down, false);
  EXPECT_TRUE(down[0].value().detections().detections(0).keyframe());
}

TEST(TrackMergeTest, InheritedIdIsNotGivenTwiceInOneFrame) {
  const std::vector<v1::FrameFieldValue> base = {Frame(1, {{"a1", 1, 0.1}})};
  // a1 is still there; another downloaded label of the same track lands on
  // frame 1 too: it must not take a1's id.
  std::vector<v1::FrameFieldValue> down = {Frame(1, {{"a1", 1, 0.1}, {"z", 1, 0.5}})};
  UpdateTracks(Schema(kExisting), base, &down, false);
  std::vector<std::string> ids;
  for (const auto& d : down[0].value().detections().detections()) ids.push_back(d.id());
  EXPECT_THAT(ids, UnorderedElementsAre("a1", "z"));
}

TEST(TrackMergeTest, LabelsWithoutIndexAreLeftAlone) {
  const std::vector<v1::FrameFieldValue> base = {Frame(1, {{"a", -1, 0.1}})};
  auto frames = MergeFrameFieldValues(Schema(kExisting), base, base);
  EXPECT_FALSE(frames[0].merge.merged.detections().detections(0).has_index());
  EXPECT_EQ(frames[0].merge.unchanged, 1);
}

}  // namespace
}  // namespace labelport::core
