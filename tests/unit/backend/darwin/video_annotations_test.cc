// Video labels both ways (spec: darwin-api §7.9-§7.10, §10.5, §11 item 10;
// annotation-semantics §5.8 without its defects): tracks → V7 video
// annotations (keyframes, segments, hidden areas), and exported video
// annotations (every frame of each range) → per-frame labels with ids kept.
// Round trips turn the import payload into the Darwin JSON an export holds
// (frames held from the last keyframe, as darwin-sim does) and decode it with
// DecodeDarwinJson and DecodeItem.
#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/backend/darwin/annotation_decoder.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "service/backend/darwin/darwin_json.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
namespace v1 = labelport::v1;
using labelport::internal::v1::AnnotationLink;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using testing::Parse;

constexpr char kSchema[] = R"pb(
  fields {
    field: "frames.objects"
    type: "detections"
    existing_field: true
    classes {
      entries { name: "car" }
      entries { name: "person" }
    }
  }
  fields {
    field: "frames.faces"
    type: "keypoints"
    existing_field: true
    classes { entries { name: "face" } }
  }
  fields {
    field: "frames.weather"
    type: "classifications"
    existing_field: true
    classes { entries { name: "sunny" } }
  }
)pb";

// A detection on frame `n` of track `index` (no index when < 0).
v1::FrameFieldValue Box(int n, const std::string& id, int64_t index, double x,
                        const std::string& label = "car", std::optional<bool> keyframe = {}) {
  v1::FrameFieldValue f;
  f.set_frame_number(n);
  f.set_frame_id(absl::StrCat("frame-", n));
  v1::Detection* d = f.mutable_value()->mutable_detections()->add_detections();
  d->set_id(id);
  d->set_label(label);
  for (double v : {x, 0.5, 0.25, 0.25}) d->add_bounding_box(v);
  if (index >= 0) d->set_index(index);
  if (keyframe) d->set_keyframe(*keyframe);
  return f;
}

class VideoTest : public ::testing::Test {
 protected:
  VideoTest()
      : schema_(Parse<v1::LabelSchema>(kSchema)),
        context_(testing::TestEncodeContext(&class_ids_, 200, 100)) {
    snapshot_.set_id("sample-1");
  }

  const v1::FieldSchema& Field(const std::string& name) const {
    for (const auto& f : schema_.fields())
      if (f.field() == name) return f;
    ADD_FAILURE() << "no field " << name;
    return v1::FieldSchema::default_instance();
  }

  // Encodes the frames as `field` of the snapshot, keeps the annotations and
  // links.
  EncodedLabels Upload(const std::string& field, const std::vector<v1::FrameFieldValue>& frames,
                       bool only_keyframes = false) {
    auto* sf = snapshot_.add_fields();
    sf->set_field(field);
    for (const auto& f : frames) *sf->add_frames() = f;
    context_.field = &Field(field);
    auto encoded = EncodeFrameFieldValues(sf->frames(), context_, only_keyframes);
    EXPECT_TRUE(encoded.ok()) << encoded.status();
    if (!encoded.ok()) return {};
    for (const auto& a : encoded->annotations) imported_.push_back(a.as_object());
    for (const auto& l : encoded->links) links_[l.annotation_id()] = l;
    return *std::move(encoded);
  }

  // The Darwin JSON 2.0 file an export of the imported annotations holds:
  // every frame of each segment outside the hidden areas, non-keyframes with
  // the shape of the last keyframe before them.
  std::string ExportJson() const {
    json::array annotations;
    for (const json::object& a : imported_) {
      const json::object& data = a.at("data").as_object();
      const int64_t class_id = a.at("annotation_class_id").to_number<int64_t>();
      const std::string name = class_id == 1   ? "car"
                               : class_id == 2 ? "person"
                               : class_id == 3 ? "sunny"
                                               : "face";
      std::map<int64_t, json::object> keyframes;
      for (const auto& [k, v] : data.at("frames").as_object())
        keyframes[std::stoll(std::string(k))] = v.as_object();
      std::vector<std::pair<int64_t, int64_t>> hidden;
      for (const auto& h : data.at("hidden_areas").as_array())
        hidden.emplace_back(h.as_array()[0].to_number<int64_t>(),
                            h.as_array()[1].to_number<int64_t>());
      json::object frames;
      json::array ranges;
      for (const auto& seg : data.at("segments").as_array()) {
        const int64_t start = seg.as_array()[0].to_number<int64_t>();
        const int64_t end = seg.as_array()[1].to_number<int64_t>();
        ranges.push_back(json::array{start, end});
        for (int64_t k = start; k < end; ++k) {
          auto held = keyframes.upper_bound(k);
          if (held == keyframes.begin()) continue;
          json::object frame = std::prev(held)->second;
          frame["keyframe"] = keyframes.contains(k);
          frames[absl::StrCat(k)] = std::move(frame);
        }
      }
      annotations.push_back(json::object{{"id", a.at("id")},
                                         {"name", name},
                                         {"slot_names", json::array{"0"}},
                                         {"frames", std::move(frames)},
                                         {"ranges", std::move(ranges)},
                                         {"hidden_areas", data.at("hidden_areas")},
                                         {"interpolated", data.at("interpolated")}});
    }
    for (const json::object& extra : extra_annotations_) annotations.push_back(extra);
    json::object slot = testing::ExportSlot("video", 200, 100);
    slot["fps"] = 25;
    slot["frame_count"] = 20;
    return testing::ExportFileJson("clip.mp4", "/", std::move(slot), std::move(annotations));
  }

  LoadedSample Decode() {
    auto item = DecodeDarwinJson(ExportJson(), "clip.json");
    EXPECT_TRUE(item.ok()) << item.status();
    if (!item.ok()) return {};
    item_skips_ = item->skipped;
    auto loaded = DecodeItem(*item, snapshot_, schema_, links_, &skipped_);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? *std::move(loaded) : LoadedSample{};
  }

  static const LoadedField& FieldOf(const LoadedSample& s, const std::string& name) {
    for (const auto& f : s.fields)
      if (f.field == name) return f;
    ADD_FAILURE() << "no field " << name;
    static const LoadedField empty;
    return empty;
  }

  // frame number → the detections of that frame.
  static std::map<int, std::vector<v1::Detection>> Detections(const LoadedField& f) {
    std::map<int, std::vector<v1::Detection>> out;
    for (const auto& fr : f.frames)
      for (const auto& d : fr.value().detections().detections())
        out[fr.frame_number()].push_back(d);
    return out;
  }

  // Car and person boxes, sunny tags, face keypoints.
  const testing::ClassIds class_ids_ = {{{"car", "bounding_box"}, 1},
                                        {{"person", "bounding_box"}, 2},
                                        {{"sunny", "tag"}, 3},
                                        {{"face", "keypoint"}, 4}};
  v1::LabelSchema schema_;
  v1::Sample snapshot_;
  EncodeContext context_;
  std::vector<json::object> imported_;
  std::vector<json::object> extra_annotations_;
  std::map<std::string, AnnotationLink> links_;
  std::vector<v1::SkippedEntry> skipped_;
  std::vector<std::pair<std::string, std::string>> item_skips_;
};

TEST_F(VideoTest, TrackBecomesOneAnnotationWithKeyframesSegmentAndHiddenAreas) {
  // Track 3 on frames 2, 3, 4 and 7 (absent on 5 and 6).
  const EncodedLabels e = Upload("frames.objects", {Box(2, "l2", 3, 0.1), Box(3, "l3", 3, 0.2),
                                                    Box(4, "l4", 3, 0.3), Box(7, "l7", 3, 0.4)});
  ASSERT_THAT(e.annotations, SizeIs(1));
  const json::object& a = e.annotations[0].as_object();
  EXPECT_EQ(a.at("annotation_class_id").to_number<int64_t>(), 1);
  const json::object& data = a.at("data").as_object();
  EXPECT_EQ(data.at("segments"), json::parse("[[1, 7]]"));
  EXPECT_EQ(data.at("hidden_areas"), json::parse("[[4, 5]]"));
  EXPECT_EQ(data.at("interpolated"), json::value(true));
  const json::object& frames = data.at("frames").as_object();
  ASSERT_THAT(frames, SizeIs(4));
  for (const char* k : {"1", "2", "3", "6"}) {
    ASSERT_TRUE(frames.contains(k)) << k;
    EXPECT_EQ(frames.at(k).at("keyframe"), json::value(true));
    EXPECT_EQ(frames.at(k).at("instance_id"), json::parse(R"({"value": 3})"));
  }
  EXPECT_DOUBLE_EQ(frames.at("6").at("bounding_box").at("x").to_number<double>(), 0.4 * 200);
  ASSERT_THAT(e.links, SizeIs(1));
  const AnnotationLink& link = e.links[0];
  EXPECT_EQ(link.annotation_id(), a.at("id").as_string());
  EXPECT_EQ(link.track_index(), 3);
  EXPECT_EQ(link.field(), "frames.objects");
  ASSERT_THAT(link.frames(), SizeIs(4));
  EXPECT_EQ(link.frames(3).frame_number(), 7);
  EXPECT_EQ(link.frames(3).label_id(), "l7");
}

TEST_F(VideoTest, AnnotationIdOfATrackIsDeterministicAndUniquePerSample) {
  const std::vector<v1::FrameFieldValue> frames = {Box(1, "a", 1, 0.1), Box(2, "b", 1, 0.2)};
  const EncodedLabels first = Upload("frames.objects", frames);
  const EncodedLabels again = Upload("frames.objects", frames);
  EXPECT_EQ(first.annotations[0].at("id"), again.annotations[0].at("id"));
  // Track 1 of another video of the run is another V7 annotation.
  context_.sample_id = "sample-2";
  const EncodedLabels other = Upload("frames.objects", {Box(1, "c", 1, 0.1)});
  EXPECT_NE(first.annotations[0].at("id"), other.annotations[0].at("id"));
}

TEST_F(VideoTest, TracksSplitByIndexAndClassLabelsWithoutIndexStandAlone) {
  const EncodedLabels e = Upload(
      "frames.objects", {Box(1, "a1", 1, 0.1), Box(2, "a2", 1, 0.2), Box(1, "p1", 1, 0.5, "person"),
                         Box(2, "b2", 2, 0.6), Box(3, "n3", -1, 0.7), Box(4, "n4", -1, 0.7)});
  // car#1, person#1, car#2, and two single-frame annotations.
  ASSERT_THAT(e.annotations, SizeIs(5));
  std::vector<std::string> segments;
  for (const auto& a : e.annotations)
    segments.push_back(json::serialize(a.at("data").at("segments")));
  EXPECT_THAT(segments, ElementsAre("[[0,2]]", "[[0,1]]", "[[1,2]]", "[[2,3]]", "[[3,4]]"));
  EXPECT_FALSE(e.links[3].has_track_index());
  EXPECT_FALSE(
      e.annotations[3].at("data").at("frames").at("2").as_object().contains("instance_id"));
}

TEST_F(VideoTest, OnlyKeyframesSendsKeyframesAndTheFirstLabelButLinksEveryFrame) {
  const EncodedLabels e =
      Upload("frames.objects",
             {Box(1, "f1", 1, 0.1, "car", false), Box(2, "f2", 1, 0.2, "car", false),
              Box(3, "f3", 1, 0.3, "car", true), Box(4, "f4", 1, 0.4, "car", false),
              Box(5, "f5", 1, 0.5, "car", true)},
             /*only_keyframes=*/true);
  ASSERT_THAT(e.annotations, SizeIs(1));
  const json::object& frames = e.annotations[0].at("data").at("frames").as_object();
  std::vector<std::string> keys;
  for (const auto& [k, v] : frames) keys.emplace_back(k);
  std::sort(keys.begin(), keys.end());
  EXPECT_THAT(keys, ElementsAre("0", "2", "4"));
  EXPECT_EQ(e.annotations[0].at("data").at("segments"), json::parse("[[0, 5]]"));
  EXPECT_THAT(e.links[0].frames(), SizeIs(5));
}

TEST_F(VideoTest, FrameClassificationsAreSingleFrameTags) {
  v1::FrameFieldValue f;
  f.set_frame_number(4);
  auto* c = f.mutable_value()->mutable_classifications()->add_classifications();
  c->set_id("c4");
  c->set_label("sunny");
  const EncodedLabels e = Upload("frames.weather", {f});
  ASSERT_THAT(e.annotations, SizeIs(1));
  EXPECT_EQ(e.annotations[0].at("data"),
            json::parse(R"({"frames": {"3": {"tag": {}, "keyframe": true}},
                            "segments": [[3, 4]], "interpolated": true, "hidden_areas": []})"));
}

TEST_F(VideoTest, UnchangedTrackRoundTripsWithEveryIdAndFrame) {
  Upload("frames.objects", {Box(2, "l2", 3, 0.1), Box(3, "l3", 3, 0.2), Box(4, "l4", 3, 0.3),
                            Box(7, "l7", 3, 0.4), Box(9, "n9", -1, 0.5)});
  const LoadedSample s = Decode();
  EXPECT_THAT(skipped_, IsEmpty());
  ASSERT_THAT(s.fields, SizeIs(3));  // one per schema field, in schema order
  EXPECT_EQ(s.fields[2].field, "frames.weather");
  EXPECT_THAT(s.fields[2].frames, IsEmpty());
  const auto dets = Detections(FieldOf(s, "frames.objects"));
  std::vector<int> frames;
  for (const auto& [n, list] : dets) frames.push_back(n);
  EXPECT_THAT(frames, ElementsAre(2, 3, 4, 7, 9));
  EXPECT_EQ(dets.at(2)[0].id(), "l2");
  EXPECT_EQ(dets.at(7)[0].id(), "l7");
  EXPECT_EQ(dets.at(7)[0].index(), 3);
  EXPECT_TRUE(dets.at(7)[0].keyframe());
  EXPECT_DOUBLE_EQ(dets.at(7)[0].bounding_box(0), 0.4);
  EXPECT_EQ(dets.at(9)[0].id(), "n9");
  EXPECT_FALSE(dets.at(9)[0].has_index());
  // Frame ids come back from the snapshot.
  EXPECT_EQ(FieldOf(s, "frames.objects").frames[0].frame_id(), "frame-2");
}

TEST_F(VideoTest, InterpolatedFramesOfAnUploadedTrackGetIdsDerivedFromTrackAndFrame) {
  Upload("frames.objects", {Box(1, "k1", 5, 0.1, "car", true), Box(4, "k4", 5, 0.4, "car", true)},
         /*only_keyframes=*/true);
  // Remove the hidden area so V7 shows the object on frames 2 and 3 (held).
  imported_[0]["data"].as_object()["hidden_areas"] = json::array{};
  const auto dets = Detections(FieldOf(Decode(), "frames.objects"));
  ASSERT_THAT(dets, SizeIs(4));
  EXPECT_EQ(dets.at(1)[0].id(), "k1");
  EXPECT_EQ(dets.at(2)[0].id(), DerivedLabelId(absl::StrCat("k1@", 2)));
  EXPECT_FALSE(dets.at(2)[0].keyframe());
  EXPECT_EQ(dets.at(2)[0].index(), 5);
  EXPECT_DOUBLE_EQ(dets.at(2)[0].bounding_box(0), 0.1);  // held from frame 1
  EXPECT_EQ(dets.at(4)[0].id(), "k4");
}

TEST_F(VideoTest, NewAnnotationWithoutInstanceIdGetsAFreshTrackIndex) {
  Upload("frames.objects", {Box(1, "a", 4, 0.1)});
  extra_annotations_.push_back(json::parse(R"({
      "id": "new-track", "name": "person", "slot_names": ["0"],
      "frames": {"5": {"bounding_box": {"x": 10, "y": 10, "w": 20, "h": 20}, "keyframe": true},
                 "6": {"bounding_box": {"x": 12, "y": 10, "w": 20, "h": 20}, "keyframe": false},
                 "8": {"bounding_box": {"x": 14, "y": 10, "w": 20, "h": 20}, "keyframe": true}},
      "ranges": [[5, 9]], "hidden_areas": [[7, 7]],
      "properties": [], "annotators": [{"full_name": "Ann", "email": "a@x"}]})")
                                   .as_object());
  const auto dets = Detections(FieldOf(Decode(), "frames.objects"));
  std::vector<int> frames;
  for (const auto& [n, list] : dets) frames.push_back(n);
  EXPECT_THAT(frames, ElementsAre(1, 6, 7, 9));
  const v1::Detection& d = dets.at(6)[0];
  EXPECT_EQ(d.id(), DerivedLabelId("new-track@6"));
  EXPECT_EQ(d.label(), "person");
  EXPECT_EQ(d.index(), 5);  // above the uploaded index 4
  EXPECT_EQ(dets.at(7)[0].index(), 5);
  EXPECT_DOUBLE_EQ(dets.at(7)[0].bounding_box(0), 12.0 / 200);
  EXPECT_EQ(d.attributes().at("darwin_annotators").list_value().values(0).string_value(), "Ann");
}

TEST_F(VideoTest, EveryV7AnnotationIsOneTrackWhateverItsInstanceId) {
  Upload("frames.objects", {Box(1, "a1", 4, 0.1), Box(2, "a2", 4, 0.2)});
  // The annotator split the track: the part after frame 1 is a new
  // annotation that kept instance id 4; and changed the uploaded one's to 6.
  imported_[0]["data"].as_object()["segments"] = json::parse("[[0, 1]]");
  for (auto& [k, frame] : imported_[0]["data"].as_object()["frames"].as_object())
    frame.as_object()["instance_id"] = json::object{{"value", 6}};
  extra_annotations_.push_back(json::parse(R"({
      "id": "split-off", "name": "car", "slot_names": ["0"],
      "frames": {"1": {"bounding_box": {"x": 40, "y": 25, "w": 50, "h": 50},
                       "instance_id": {"value": 4}, "keyframe": true}},
      "ranges": [[1, 2]]})")
                                   .as_object());
  const auto dets = Detections(FieldOf(Decode(), "frames.objects"));
  ASSERT_THAT(dets, SizeIs(2));
  EXPECT_EQ(dets.at(1)[0].id(), "a1");
  EXPECT_EQ(dets.at(1)[0].index(), 6);
  EXPECT_EQ(dets.at(2)[0].id(), DerivedLabelId("split-off@2"));
  EXPECT_EQ(dets.at(2)[0].index(), 7);  // a new track, above 6
}

TEST_F(VideoTest, MultiPointKeypointTrackIsOneAnnotationPerPointAndRegroupsPerFrame) {
  auto face = [](int n, const std::string& id) {
    v1::FrameFieldValue f;
    f.set_frame_number(n);
    v1::Keypoint* k = f.mutable_value()->mutable_keypoints()->add_keypoints();
    k->set_id(id);
    k->set_label("face");
    k->set_index(1);
    for (double x : {0.25, 0.5, 0.75}) {
      v1::Point* p = k->add_points();
      p->set_x(x);
      p->set_y(0.5);
    }
    return f;
  };
  const EncodedLabels e = Upload("frames.faces", {face(1, "k1"), face(3, "k3")});
  ASSERT_THAT(e.annotations, SizeIs(3));  // one track per point
  for (const auto& l : e.links) EXPECT_EQ(l.part_count(), 3);
  EXPECT_EQ(e.annotations[1].at("data").at("hidden_areas"), json::parse("[[1, 1]]"));
  // V7 shows frame 2 too (the hidden area removed).
  for (auto& a : imported_) a["data"].as_object()["hidden_areas"] = json::array{};
  const LoadedSample loaded = Decode();
  const LoadedField& faces = FieldOf(loaded, "frames.faces");
  ASSERT_THAT(faces.frames, SizeIs(3));
  std::vector<std::string> ids;
  for (const auto& fr : faces.frames) {
    ASSERT_EQ(fr.value().keypoints().keypoints_size(), 1) << fr.frame_number();
    const v1::Keypoint& k = fr.value().keypoints().keypoints(0);
    EXPECT_EQ(k.points_size(), 3);
    EXPECT_DOUBLE_EQ(k.points(2).x(), 0.75);
    EXPECT_EQ(k.index(), 1);
    ids.push_back(k.id());
  }
  EXPECT_THAT(ids, ElementsAre("k1", DerivedLabelId("k1@2"), "k3"));
}

TEST_F(VideoTest, AnnotationOfATypeNoFieldHasIsUnexpectedPerFrame) {
  Upload("frames.objects", {Box(1, "a", 1, 0.1)});
  extra_annotations_.push_back(json::parse(R"({
      "id": "lake", "name": "lake", "slot_names": ["0"],
      "frames": {"2": {"polygon": {"paths": [[{"x": 0, "y": 0}, {"x": 20, "y": 0},
                                              {"x": 0, "y": 10}]]}, "keyframe": true},
                 "3": {"polygon": {"paths": [[{"x": 0, "y": 0}, {"x": 20, "y": 0},
                                              {"x": 0, "y": 10}]]}, "keyframe": false}},
      "ranges": [[2, 4]]})")
                                   .as_object());
  const LoadedSample s = Decode();
  EXPECT_THAT(skipped_, IsEmpty());
  const LoadedField& objects = FieldOf(s, "frames.objects");  // the first field
  ASSERT_THAT(objects.frame_unexpected, SizeIs(2));
  const LoadedFrameUnexpected& u = objects.frame_unexpected[1];
  EXPECT_EQ(u.frame_number, 4);
  EXPECT_EQ(u.labels.return_type(), "polylines");
  ASSERT_EQ(u.labels.labels().polylines().polylines_size(), 1);
  const v1::Polyline& lake = u.labels.labels().polylines().polylines(0);
  EXPECT_EQ(lake.id(), DerivedLabelId("lake@4"));
  EXPECT_EQ(lake.index(), 2);  // a new track
  EXPECT_FALSE(lake.keyframe());
  EXPECT_DOUBLE_EQ(lake.points(0).points(1).x(), 0.1);
}

TEST_F(VideoTest, VideoPropertiesFollowTheirFrameIndex) {
  auto item = DecodeDarwinJson(R"({
      "version": "2.0",
      "item": {"name": "v.mp4", "source_info": {"item_id": "i"},
               "slots": [{"slot_name": "0", "type": "video", "width": 10, "height": 10}]},
      "annotations": [{"id": "a", "name": "car", "slot_names": ["0"],
        "frames": {"0": {"bounding_box": {"x": 1, "y": 1, "w": 1, "h": 1}, "keyframe": true},
                   "1": {"bounding_box": {"x": 1, "y": 1, "w": 1, "h": 1}, "keyframe": false},
                   "2": {"bounding_box": {"x": 1, "y": 1, "w": 1, "h": 1}, "keyframe": true}},
        "segments": [[0, 3]],
        "properties": [{"frame_index": 0, "name": "color", "value": "red"},
                       {"frame_index": 2, "name": "color", "value": "blue"},
                       {"frame_index": "global", "name": "kind", "value": "suv"}]}]})",
                               "v.json");
  ASSERT_TRUE(item.ok()) << item.status();
  ASSERT_THAT(item->annotations, SizeIs(3));
  auto values = [&](size_t i) {
    std::vector<std::string> out;
    for (const auto& p : item->annotations[i].properties) out.push_back(p.name + "=" + *p.value);
    return out;
  };
  EXPECT_THAT(values(0), ElementsAre("color=red", "kind=suv"));
  EXPECT_THAT(values(1), ElementsAre("color=red", "kind=suv"));
  EXPECT_THAT(values(2), ElementsAre("color=blue", "kind=suv"));
  EXPECT_EQ(item->annotations[1].frame, 1);
  EXPECT_FALSE(item->annotations[1].keyframe);
  EXPECT_TRUE(item->annotations[2].keyframe);
}

TEST_F(VideoTest, MalformedFrameKeyIsSkippedWithAReason) {
  auto item = DecodeDarwinJson(R"({
      "version": "2.0",
      "item": {"name": "v.mp4", "source_info": {"item_id": "i"},
               "slots": [{"slot_name": "0", "type": "video", "width": 10, "height": 10}]},
      "annotations": [{"id": "a", "name": "car", "frames": {"x": {"tag": {}}}}]})",
                               "v.json");
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_THAT(item->annotations, IsEmpty());
  ASSERT_THAT(item->skipped, SizeIs(1));
  EXPECT_THAT(item->skipped[0].second, HasSubstr("frame key 'x' is not a 0-based index"));
}

TEST_F(VideoTest, TagSpanningFramesBecomesOneClassificationPerFrame) {
  v1::FrameFieldValue f;
  f.set_frame_number(2);
  auto* c = f.mutable_value()->mutable_classifications()->add_classifications();
  c->set_id("c2");
  c->set_label("sunny");
  Upload("frames.weather", {f});
  // The annotator extends the tag to frames 2-4.
  imported_[0]["data"].as_object()["segments"] = json::parse("[[1, 4]]");
  const LoadedSample loaded = Decode();
  const LoadedField& weather = FieldOf(loaded, "frames.weather");
  ASSERT_THAT(weather.frames, SizeIs(3));
  EXPECT_EQ(weather.frames[0].value().classifications().classifications(0).id(), "c2");
  EXPECT_EQ(weather.frames[2].frame_number(), 4);
  EXPECT_EQ(weather.frames[2].value().classifications().classifications(0).id(),
            DerivedLabelId("c2@4"));
}

}  // namespace
}  // namespace labelport::backend::darwin
