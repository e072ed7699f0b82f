// Plain data types of the V7 Darwin API, as labelport uses them
// (spec: darwin-api.md §2). Field names follow the wire format.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_TYPES_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace labelport::backend::darwin {

struct DarwinDataset {
  int64_t id = 0;
  std::string slug;
  std::string name;
};

// One item to register for upload (E23) or from external storage (E28):
// single slot "0".
struct ItemRegistration {
  // Item name (the media file name) and folder path ("/a/b", leading "/").
  std::string name;
  std::string path;
  // The slot's file name (usually == name).
  std::string file_name;
  // "image" or "video".
  std::string type = "image";
  // E28 only: the object key in the storage connection.
  std::string storage_key;
};

// What V7 answered for one registered item.
struct RegisteredItem {
  std::string name;
  std::string path;
  // The item id; also set for blocked items that already existed.
  std::string item_id;
  // Set for items that expect an upload (E23, not blocked).
  std::string upload_id;
  // Set when V7 refused the item, e.g. "ALREADY_EXISTS".
  std::string blocked_reason;
};

struct DarwinSlot {
  std::string slot_name;
  std::string type;
  std::string file_name;
  int64_t width = 0;
  int64_t height = 0;
  double fps = 0;
  int64_t frame_count = 0;
};

// An item as listed by E21.
struct DarwinItem {
  std::string id;
  std::string name;
  std::string path;
  std::string status;             // uploading, processing, new, annotate, review, complete, error
  std::string processing_status;  // processing, complete, error (may be empty)
  std::vector<DarwinSlot> slots;
  // Upload ids still pending (items not yet processed).
  std::vector<std::string> pending_upload_ids;
};

struct DarwinClass {
  int64_t id = 0;
  std::string name;
  // Main type first, then sub-types (e.g. {"bounding_box", "text"}).
  std::vector<std::string> annotation_types;
  std::vector<int64_t> dataset_ids;
};

struct DarwinPropertyValue {
  std::string id;
  std::string value;
};

struct DarwinProperty {
  std::string id;
  std::string name;
  std::string type;         // single_select, multi_select, text, ...
  std::string granularity;  // section, annotation, item
  bool required = false;
  std::optional<int64_t> annotation_class_id;  // unset for item-level properties
  std::vector<int64_t> dataset_ids;
  std::vector<DarwinPropertyValue> values;
};

// A new property (E17).
struct PropertyDefinition {
  std::string name;
  std::string type;
  std::string granularity = "section";
  bool required = false;
  std::optional<int64_t> annotation_class_id;
  std::vector<int64_t> dataset_ids;  // item-level properties
  std::vector<std::string> values;
};

// An export ("release") of a dataset as listed by E39.
struct DarwinExport {
  std::string name;
  std::string status;  // pending, complete, failed
  int64_t version = 0;
  // Set once the export can be downloaded (the readiness signal, §11.9).
  std::optional<std::string> download_url;
};

// A workflow as listed by E41.
struct DarwinWorkflow {
  std::string id;  // UUID
  std::string name;
  // The linked dataset, when there is one.
  std::optional<int64_t> dataset_id;
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_TYPES_H_
