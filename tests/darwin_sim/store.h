// Store: darwin-sim's state (state.h) behind one mutex, plus the operations
// shared by the V7 API handlers and the /_sim control endpoints.
//
// Thread-safety: every method ending in `Locked` requires `mu()` to be held;
// the others take it themselves. Pending transitions (processing delay,
// export delay) are applied lazily by AdvanceLocked, which every handler calls
// after taking the lock, so no timers are needed.
#ifndef LABELPORT_TESTS_DARWIN_SIM_STORE_H_
#define LABELPORT_TESTS_DARWIN_SIM_STORE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "runtime_config.h"
#include "state.h"
#include "video_probe.h"

namespace labelport::darwin_sim {

class Store {
 public:
  explicit Store(RuntimeConfig* config) : config_(config) {}
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  absl::Mutex& mu() { return mu_; }
  State& state() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return state_; }
  RuntimeConfig& config() { return *config_; }

  // Clears everything (teams and keys included).
  void ResetLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies pending processing/export transitions whose time has come.
  void AdvanceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Creates the team if `slug` is new (seeding `__raster_layer__`) and maps
  // `api_key` to it. Errors: AlreadyExists if the key belongs to another team.
  absl::StatusOr<Team*> AddTeamKeyLocked(std::string_view slug, std::string_view name,
                                         std::string_view api_key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The team of `api_key`, or nullptr.
  Team* TeamForKeyLocked(std::string_view api_key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Team* TeamBySlugLocked(std::string_view slug) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Creates a dataset and its default workflow. Errors: AlreadyExists when a
  // non-archived dataset of the team has the same name or slug.
  absl::StatusOr<Dataset*> CreateDatasetLocked(const Team& team, std::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Dataset* DatasetLocked(int64_t team_id, int64_t dataset_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Dataset* DatasetBySlugLocked(int64_t team_id, std::string_view slug)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Item* ItemLocked(std::string_view item_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The item of the dataset with this (path, name), or nullptr.
  Item* FindItemLocked(const Dataset& ds, std::string_view path, std::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends a new item (status "uploading") to `ds`.
  Item& NewItemLocked(Dataset& ds, std::string_view name, std::string_view path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Runs "processing" for one slot of `item` over `bytes`: image slots get
  // their size from the header; video slots their size, frame rate and frame
  // count from `video` (the result of ProbeVideo over `bytes`, which callers
  // compute outside the lock; probed here when null); undecodable bytes put
  // the item in `error`. When all slots are processed the item becomes `new`
  // after the configured processing delay.
  void ProcessSlotLocked(Item& item, size_t slot_index, std::shared_ptr<const std::string> bytes,
                         const absl::StatusOr<VideoInfo>* video = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  AnnotationClass* ClassLocked(int64_t team_id, int64_t class_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Class by name (and main type unless `main_type` is empty), or nullptr.
  AnnotationClass* FindClassLocked(int64_t team_id, std::string_view name,
                                   std::string_view main_type) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  AnnotationClass& NewClassLocked(int64_t team_id, std::string_view name,
                                  std::vector<std::string> types)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Property* PropertyLocked(int64_t team_id, std::string_view property_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Workflow* WorkflowLocked(int64_t team_id, std::string_view workflow_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Builds the zip of `exp` from the current state (export_builder.h) and
  // sets its `pending_status` to "complete" (or "failed").
  void BuildExportLocked(Export& exp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

 private:
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  RuntimeConfig* config_;  // Not owned.
};

// Lower-case, spaces -> '-', characters outside [a-z0-9_.-] dropped.
std::string Slugify(std::string_view name);
// Slot type from a file name's extension: image, pdf, dicom or video.
std::string SlotTypeForFileName(std::string_view file_name);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_STORE_H_
