// darwin-sim's in-memory data model (darwin-api.md §10.2). Plain structs; all
// access goes through Store, which owns the lock.
#ifndef LABELPORT_TESTS_DARWIN_SIM_STATE_H_
#define LABELPORT_TESTS_DARWIN_SIM_STATE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "boost/json.hpp"

namespace labelport::darwin_sim {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Team {
  int64_t id = 0;
  std::string slug;
  std::string name;
};

struct Dataset {
  int64_t id = 0;
  int64_t team_id = 0;
  std::string name;
  std::string slug;
  bool archived = false;
  std::string inserted_at;
  std::string workflow_id;          // Default workflow ("" when deleted).
  std::vector<uint64_t> item_seqs;  // Items in insertion order.
};

struct Slot {
  std::string id;  // File id, used in thumbnail URLs.
  std::string slot_name;
  std::string type;  // image, video, pdf, dicom.
  std::string file_name;
  std::string upload_id;
  int64_t size_bytes = 0;
  std::optional<int64_t> width;
  std::optional<int64_t> height;
  std::optional<double> fps;
  std::optional<int64_t> frame_count;
  boost::json::object metadata;
  std::shared_ptr<const std::string> bytes;  // Uploaded content, if any.
  bool as_frames = false;
  bool extract_views = false;
};

struct Annotation {
  std::string id;
  int64_t class_id = 0;
  boost::json::object data;  // Import format (darwin-api.md §7.10).
  std::vector<std::string> slot_names;
  boost::json::object annotation_properties;
  boost::json::array actors;  // [{email, role, full_name?}]
};

struct Item {
  uint64_t seq = 0;  // Insertion order; also the listing order.
  std::string id;
  int64_t team_id = 0;
  int64_t dataset_id = 0;
  std::string name;
  std::string path;  // Normalised, starts with '/'.
  std::string status = "uploading";
  std::string processing_status = "processing";
  bool archived = false;
  boost::json::value layout;  // null: omitted from responses.
  std::string inserted_at;
  std::string updated_at;
  int64_t priority = 0;
  boost::json::array tags;
  std::vector<Slot> slots;
  std::vector<Annotation> annotations;
  // Item-level property values: property id -> values ({id} or {text}).
  std::map<std::string, boost::json::array> item_properties;
  boost::json::array item_property_actors;
  std::string workflow_stage_id;
  // Pending transition applied once `ready_at` passes (processing delay).
  std::optional<SteadyTime> ready_at;
  std::string pending_status;
};

struct Upload {
  std::string upload_id;
  std::string item_id;
  size_t slot_index = 0;
  std::string token;
  std::string state = "pending";  // pending, uploaded, confirmed.
  std::shared_ptr<const std::string> bytes;
};

struct AnnotationClass {
  int64_t id = 0;
  int64_t team_id = 0;
  std::string name;
  std::vector<std::string> annotation_types;  // Main type first.
  std::vector<int64_t> datasets;
  boost::json::object metadata;
  std::string description;
  std::string inserted_at;
  std::string updated_at;
};

struct Attribute {
  int64_t id = 0;
  int64_t class_id = 0;
  std::string name;
};

struct PropertyValue {
  std::string id;
  std::string value;
  std::string color;
};

struct Property {
  std::string id;
  int64_t team_id = 0;
  std::string name;
  std::string type;
  std::string granularity;
  bool required = false;
  std::string description;
  std::optional<int64_t> annotation_class_id;
  std::vector<int64_t> dataset_ids;
  std::vector<PropertyValue> values;
  std::string parent_property_id;
  boost::json::value trigger_condition;  // null when absent.
};

struct Export {
  int64_t dataset_id = 0;
  std::string name;
  int64_t version = 0;
  std::string status = "pending";
  std::string format;
  boost::json::value filters;  // null when the request had none.
  boost::json::object annotation_filters;
  bool include_authorship = false;
  bool include_export_token = false;
  std::string inserted_at;
  std::string download_token;
  boost::json::object metadata;
  std::shared_ptr<const std::string> zip;
  // The zip is built when the export is requested (a snapshot); `status`
  // becomes `pending_status` once `ready_at` passes (export delay).
  std::optional<SteadyTime> ready_at;
  std::string pending_status;
  std::string base_url;  // Base URL the export was requested through.
};

struct WorkflowStage {
  std::string id;
  std::string name;
  std::string type;  // dataset, annotate, review, complete.
};

struct Workflow {
  std::string id;
  int64_t team_id = 0;
  std::string name;
  std::optional<int64_t> dataset_id;
  std::vector<WorkflowStage> stages;
  std::string inserted_at;
};

// Everything the sim knows. Guarded by Store's mutex.
struct State {
  std::map<int64_t, Team> teams;
  std::unordered_map<std::string, int64_t> api_keys;  // key -> team id.
  std::map<int64_t, Dataset> datasets;
  std::map<uint64_t, Item> items;  // By seq.
  std::unordered_map<std::string, uint64_t> item_by_id;
  // (dataset id, path, name) -> seq: the identity of an item (§3.2).
  std::map<std::tuple<int64_t, std::string, std::string>, uint64_t> item_by_key;
  // Items with a pending processing transition (Item::ready_at set).
  std::vector<uint64_t> processing_seqs;
  std::unordered_map<std::string, Upload> uploads;
  std::unordered_map<std::string, std::string> upload_by_token;
  std::map<int64_t, AnnotationClass> classes;
  std::map<int64_t, Attribute> attributes;
  std::map<std::string, Property> properties;
  std::vector<std::string> property_order;
  std::vector<Export> exports;
  std::map<std::string, Workflow> workflows;
  std::vector<std::string> workflow_order;
  // Directory per storage slug for register_existing (team id, slug).
  std::map<std::pair<int64_t, std::string>, std::string> storage;
  // Media facts declared by tests for files the sim cannot decode, keyed by
  // file name: {width, height, fps, frame_count}.
  std::map<std::string, boost::json::object> declared_media;

  int64_t next_team_id = 1;
  int64_t next_dataset_id = 1;
  uint64_t next_item_seq = 1;
  int64_t next_class_id = 1;
  int64_t next_attribute_id = 1;
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_STATE_H_
