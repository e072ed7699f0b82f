#include "export_builder.h"

#include <zip.h>

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

json::value J(std::string_view text) { return *ParseJson(text); }

// An annotation `id` of class `class_id` whose data is the JSON `data`.
Annotation NewAnnotation(std::string id, int64_t class_id, std::string_view data) {
  Annotation a;
  a.id = std::move(id);
  a.class_id = class_id;
  a.data = J(data).as_object();
  return a;
}

// Reads every entry of a zip archive held in memory.
std::map<std::string, std::string> Unzip(const std::string& bytes) {
  std::map<std::string, std::string> out;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY, &error);
  EXPECT_NE(archive, nullptr);
  if (archive == nullptr) return out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(archive, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(archive, i, 0, &st);
    std::string content(st.size, '\0');
    zip_file_t* f = zip_fopen_index(archive, i, 0);
    zip_fread(f, content.data(), st.size);
    zip_fclose(f);
    out[st.name] = content;
  }
  zip_close(archive);
  return out;
}

class ExportBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.teams[1] = Team{1, "team", "Team"};
    Dataset& ds = state_.datasets[1];
    ds.id = 1;
    ds.team_id = 1;
    ds.name = "Data";
    ds.slug = "data";
    AddClass(10, "road", {"polygon", "attributes"});
    AddClass(11, "car", {"bounding_box", "text", "instance_id"});
    AddClass(12, "seg", {"mask"});
    state_.attributes[5] = Attribute{5, 10, "wet"};
    Property& colour = AddProperty("p-colour", "colour", "multi_select", "section");
    colour.annotation_class_id = 11;
    colour.values = {{"v-red", "red", "rgba(1,0,0,1.0)"}, {"v-blue", "blue", "rgba(0,0,1,1.0)"}};
    AddProperty("p-note", "note", "text", "item");
  }

  // A property of team 1, appended to the property order.
  Property& AddProperty(std::string id, std::string name, std::string type,
                        std::string granularity) {
    state_.property_order.push_back(id);
    Property& p = state_.properties[id];
    p.id = std::move(id);
    p.team_id = 1;
    p.name = std::move(name);
    p.type = std::move(type);
    p.granularity = std::move(granularity);
    return p;
  }

  void AddClass(int64_t id, std::string name, std::vector<std::string> types) {
    AnnotationClass& c = state_.classes[id];
    c.id = id;
    c.team_id = 1;
    c.name = std::move(name);
    c.annotation_types = std::move(types);
    c.datasets = {1};
  }

  Item& AddItem(std::string id, std::string name, std::string path, std::string status) {
    const uint64_t seq = state_.next_item_seq++;
    Item& item = state_.items[seq];
    item.seq = seq;
    item.id = std::move(id);
    item.team_id = 1;
    item.dataset_id = 1;
    item.name = std::move(name);
    item.path = std::move(path);
    item.status = std::move(status);
    Slot slot;
    slot.id = "slot-" + item.id;
    slot.slot_name = "0";
    slot.type = "image";
    slot.file_name = item.name;
    slot.upload_id = "up-" + item.id;
    slot.width = 64;
    slot.height = 48;
    item.slots.push_back(slot);
    state_.datasets[1].item_seqs.push_back(seq);
    state_.item_by_id[item.id] = seq;
    return item;
  }

  State state_;
};

TEST_F(ExportBuilderTest, PolygonBecomesPathsWithBoundingBoxAndAttributeNames) {
  Item& item = AddItem("i1", "a.png", "/", "complete");
  Annotation a = NewAnnotation(
      "a1", 10, R"({"polygon": {"path": [{"x": 4, "y": 33}, {"x": 40, "y": 33}, {"x": 40, "y": 50}],
                 "additional_paths": [[{"x": 1, "y": 1}, {"x": 5, "y": 5}]]},
                 "attributes": {"attributes": [5, 99]}})");
  json::object out = AnnotationToDarwinJson(state_, item, a, false);
  EXPECT_EQ(out.at("name"), "road");
  EXPECT_EQ(out.at("slot_names"),
            J(R"(["0"])"));  // Default slot when none stored.
  EXPECT_EQ(out.at("polygon"),
            J(R"({"paths": [[{"x": 4, "y": 33}, {"x": 40, "y": 33}, {"x": 40, "y": 50}],
                            [{"x": 1, "y": 1}, {"x": 5, "y": 5}]]})"));
  EXPECT_EQ(out.at("bounding_box"), J(R"({"h": 49.0, "w": 39.0, "x": 1.0, "y": 1.0})"));
  EXPECT_EQ(out.at("attributes"), J(R"(["wet"])"));
  EXPECT_FALSE(out.contains("annotators"));
}

TEST_F(ExportBuilderTest, PropertiesAndAuthorship) {
  Item& item = AddItem("i1", "a.png", "/", "complete");
  Annotation a = NewAnnotation(
      "a1", 11, R"({"bounding_box": {"x": 1, "y": 2, "w": 3, "h": 4}, "text": {"text": "t"}})");
  a.slot_names = {"0"};
  a.annotation_properties = J(R"({"0": {"p-colour": ["v-red", "v-blue"]}})").as_object();
  a.actors = J(R"([{"email": "jane@x.org", "role": "annotator"},
                   {"email": "rob@x.org", "role": "reviewer", "full_name": "Rob"}])")
                 .as_array();
  json::object out = AnnotationToDarwinJson(state_, item, a, true);
  EXPECT_EQ(out.at("properties"), J(R"([{"frame_index": 0, "name": "colour", "value": "red"},
                  {"frame_index": 0, "name": "colour", "value": "blue"}])"));
  EXPECT_EQ(out.at("annotators"), J(R"([{"email": "jane@x.org", "full_name": "jane"}])"));
  EXPECT_EQ(out.at("reviewers"), J(R"([{"email": "rob@x.org", "full_name": "Rob"}])"));
  EXPECT_EQ(out.at("text"), J(R"({"text": "t"})"));
}

TEST_F(ExportBuilderTest, VideoFramesAreFilledHeldOrInterpolated) {
  Item& item = AddItem("i1", "v.mp4", "/", "complete");
  Annotation a = NewAnnotation(
      "a1", 11, R"({"frames": {"2": {"bounding_box": {"x": 0, "y": 0, "w": 10, "h": 10},
                                  "keyframe": true},
                            "6": {"bounding_box": {"x": 4, "y": 8, "w": 10, "h": 10},
                                  "keyframe": true}},
                 "segments": [[2, 8]], "interpolated": true, "hidden_areas": []})");
  json::object out = AnnotationToDarwinJson(state_, item, a, false);
  const json::object& frames = out.at("frames").as_object();
  EXPECT_EQ(frames.size(), 6u);  // [2, 8): end exclusive.
  EXPECT_EQ(out.at("ranges"), J("[[2, 8]]"));
  EXPECT_EQ(frames.at("3").at("keyframe"), false);
  EXPECT_EQ(frames.at("4").at("bounding_box"), J(R"({"x": 2.0, "y": 4.0, "w": 10.0, "h": 10.0})"));
  EXPECT_EQ(frames.at("7").at("bounding_box").at("x"),
            4);  // Held after the last keyframe.
  EXPECT_EQ(out.at("interpolate_algorithm"), "linear-1.1");

  a.data["interpolated"] = false;
  json::object held = AnnotationToDarwinJson(state_, item, a, false);
  EXPECT_EQ(held.at("frames").at("5").at("bounding_box").at("x"), 0);

  Annotation mask;
  mask.id = "m1";
  mask.class_id = 12;
  mask.data =
      J(R"({"frames": {"1": {"mask": {}, "keyframe": true}}, "segments": [[0, 5]]})").as_object();
  json::object m = AnnotationToDarwinJson(state_, item, mask, false);
  EXPECT_EQ(m.at("only_keyframes"), true);
  EXPECT_EQ(m.at("frames").as_object().size(), 1u);
}

TEST_F(ExportBuilderTest, VideoHiddenFramesAreLeftOutAndInterpolationStaysInItsRange) {
  Item& item = AddItem("i1", "v.mp4", "/", "complete");
  Annotation a = NewAnnotation(
      "a1", 11, R"({"frames": {"0": {"bounding_box": {"x": 0, "y": 0, "w": 2, "h": 2}},
                            "4": {"bounding_box": {"x": 8, "y": 0, "w": 2, "h": 2}},
                            "8": {"bounding_box": {"x": 80, "y": 0, "w": 2, "h": 2}}},
                 "ranges": [[0, 5], [7, 10]], "interpolated": true,
                 "hidden_areas": [[2, 2], [9, 9]]})");
  json::object out = AnnotationToDarwinJson(state_, item, a, false);
  const json::object& frames = out.at("frames").as_object();
  std::vector<std::string> keys;
  for (const auto& kv : frames) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"0", "1", "3", "4", "7", "8"}));
  EXPECT_EQ(frames.at("0").at("keyframe"), true);  // No flag stored: a keyframe.
  EXPECT_EQ(frames.at("3").at("bounding_box").at("x"), 6.0);
  // Frame 7 starts the second range before its keyframe 8: held from 8, not
  // interpolated across the gap from 4.
  EXPECT_EQ(frames.at("7").at("bounding_box").at("x"), 80);
  EXPECT_EQ(frames.at("7").at("keyframe"), false);
  EXPECT_EQ(out.at("ranges"), J("[[0, 5], [7, 10]]"));
  EXPECT_EQ(out.at("hidden_areas"), J("[[2, 2], [9, 9]]"));
}

TEST_F(ExportBuilderTest, VideoTagsCarryNoInterpolationKeys) {
  AddClass(13, "day", {"tag"});
  Item& item = AddItem("i1", "v.mp4", "/", "complete");
  Annotation a = NewAnnotation(
      "t1", 13, R"({"frames": {"1": {"tag": {}, "keyframe": true}}, "segments": [[1, 3]]})");
  json::object out = AnnotationToDarwinJson(state_, item, a, false);
  EXPECT_EQ(out.at("frames"),
            J(R"({"1": {"tag": {}, "keyframe": true}, "2": {"tag": {}, "keyframe": false}})"));
  EXPECT_FALSE(out.contains("interpolated"));
  EXPECT_FALSE(out.contains("interpolate_algorithm"));
  EXPECT_FALSE(out.contains("global_sub_types"));
}

TEST_F(ExportBuilderTest, VideoPolygonBoundsFollowTheInterpolatedPoints) {
  Item& item = AddItem("i1", "v.mp4", "/", "complete");
  Annotation a = NewAnnotation("p1", 10, R"({"frames": {
      "0": {"polygon": {"path": [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 0, "y": 4}]}},
      "2": {"polygon": {"path": [{"x": 4, "y": 4}, {"x": 12, "y": 4}, {"x": 4, "y": 12}]}}},
      "segments": [[0, 3]], "interpolated": true})");
  json::object out = AnnotationToDarwinJson(state_, item, a, false);
  const json::value& middle = out.at("frames").at("1");
  EXPECT_EQ(
      middle.at("polygon"),
      J(R"({"paths": [[{"x": 2.0, "y": 2.0}, {"x": 8.0, "y": 2.0}, {"x": 2.0, "y": 8.0}]]})"));
  EXPECT_EQ(middle.at("bounding_box"), J(R"({"h": 6.0, "w": 6.0, "x": 2.0, "y": 2.0})"));
}

TEST_F(ExportBuilderTest, FiltersDefaultToCompleteAndHonourStatusesAndIds) {
  Item& done = AddItem("i1", "a.png", "/", "complete");
  Item& fresh = AddItem("i2", "b.png", "/", "new");
  Item& gone = AddItem("i3", "c.png", "/", "complete");
  gone.archived = true;
  const json::value none;
  EXPECT_TRUE(ItemMatchesExportFilters(state_, done, none));
  EXPECT_FALSE(ItemMatchesExportFilters(state_, fresh, none));
  EXPECT_FALSE(ItemMatchesExportFilters(state_, gone, none));
  const json::value dfo = J(R"({"not_statuses": ["archived", "error"]})");
  EXPECT_TRUE(ItemMatchesExportFilters(state_, fresh, dfo));
  EXPECT_FALSE(ItemMatchesExportFilters(state_, gone, dfo));
  EXPECT_TRUE(ItemMatchesExportFilters(state_, gone, J(R"({"statuses": ["archived"]})")));
  EXPECT_FALSE(ItemMatchesExportFilters(state_, done, J(R"({"statuses": ["new"]})")));
  EXPECT_TRUE(ItemMatchesExportFilters(state_, fresh, J(R"({"item_ids": ["i2"]})")));
  EXPECT_FALSE(ItemMatchesExportFilters(state_, done, J(R"({"item_ids": ["i2"]})")));
}

TEST_F(ExportBuilderTest, ZipIsFlatWithUniqueNamesAndMetadata) {
  Item& a = AddItem("i1", "same.png", "/a", "complete");
  AddItem("i2", "same.png", "/b", "complete");
  AddItem("i3", "other.tar.png", "/", "new");
  a.item_properties["p-note"] = J(R"([{"text": "hello"}])").as_array();
  Annotation ann;
  ann.id = "a1";
  ann.class_id = 11;
  ann.data = J(R"({"bounding_box": {"x": 1, "y": 2, "w": 3, "h": 4}})").as_object();
  a.annotations.push_back(ann);

  Export exp;
  exp.dataset_id = 1;
  exp.format = "darwin_json_2";
  exp.filters = J(R"({"not_statuses": ["error"]})");
  exp.base_url = "http://sim:1";
  absl::StatusOr<BuiltExport> built = BuildExport(state_, exp);
  ASSERT_TRUE(built.ok()) << built.status();
  std::map<std::string, std::string> files = Unzip(built->zip);
  std::vector<std::string> names;
  for (const auto& [name, content] : files) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{".v7/metadata.json", "other.tar.json", "same.json",
                                             "same_1.json"}));
  json::object doc = ParseJson(files["same.json"])->as_object();
  EXPECT_EQ(doc.at("version"), "2.0");
  EXPECT_EQ(doc.at("item").at("path"), "/a");
  EXPECT_EQ(doc.at("item").at("source_info").at("item_id"), "i1");
  EXPECT_EQ(doc.at("item").at("slots").at(0).at("source_files").at(0).at("url"),
            "http://sim:1/api/v2/teams/team/uploads/up-i1");
  EXPECT_EQ(doc.at("properties"), J(R"([{"name": "note", "value": "hello"}])"));
  EXPECT_EQ(ParseJson(files["same_1.json"])->at("annotations"), J("[]"));
  EXPECT_EQ(built->metadata.at("num_images"), 3);
  EXPECT_EQ(built->metadata.at("annotation_classes"), J(R"([{"id": 11, "name": "car"}])"));
  json::object manifest = ParseJson(files[".v7/metadata.json"])->as_object();
  EXPECT_EQ(manifest.at("classes").at(0).at("name"), "car");
  EXPECT_EQ(manifest.at("properties").at(0).at("name"), "note");

  exp.format = "json";
  EXPECT_EQ(BuildExport(state_, exp).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ExportBuilderTest, NothingToExportGivesAnEmptyValidZip) {
  state_.properties.clear();
  state_.property_order.clear();
  AddItem("i1", "a.png", "/", "new");  // Not complete: left out by the default filters.
  Export exp;
  exp.dataset_id = 1;
  absl::StatusOr<BuiltExport> built = BuildExport(state_, exp);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(Unzip(built->zip).empty());
  EXPECT_EQ(built->metadata.at("num_images"), 0);
}

}  // namespace
}  // namespace labelport::darwin_sim
