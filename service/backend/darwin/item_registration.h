// The registration step of the upload job, its pure part: what V7 is asked
// to register for a sample (name, folder, kind), how a window's samples are
// grouped into registration calls, and what V7's answers — to a
// registration, or to a re-read of an item a crashed job registered — mean
// for the sample's progress record.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_ITEM_REGISTRATION_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_ITEM_REGISTRATION_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/darwin/darwin_types.h"

namespace labelport::backend::darwin {

// A folder segment made only of safe characters (others hex-escaped as
// "~XX").
std::string SafeSegment(absl::string_view s);

// The item of `sample` in run `run_uid`: named after its media file, in the
// folder "/<first 12 characters of the run uid>/<SafeSegment(sample id)>"
// (two samples with one file name never collide, runs never share items);
// with its storage key when the media are in external storage.
ItemRegistration RegistrationOf(const labelport::v1::Sample& sample, absl::string_view run_uid);

// The external storage connection of `sample`: its own, else the run's
// (`run_storage`).
std::string StorageSlugOf(const labelport::v1::Sample& sample, const std::string& run_storage);

// One registration call: the `members` (indices into the window's samples)
// are uploads (E23) or, with `storage`, items in `storage_slug` (E28).
struct RegistrationBatch {
  bool storage = false;
  std::string storage_slug;
  std::vector<size_t> members;
};

// Groups the samples `todo` (indices into `samples`, ascending) by kind —
// uploads first, then each storage connection in name order — and cuts each
// group into batches of at most `batch_size` (> 0), keeping their order.
std::vector<RegistrationBatch> RegistrationBatches(
    const std::vector<labelport::v1::Sample>& samples, const std::vector<size_t>& todo,
    const std::string& run_storage, int batch_size);

// Records V7's answer `item` for a registered sample in its record `p`:
// REGISTERED with its upload id (UPLOADED for external storage, which needs
// no upload); ALREADY_EXISTS with an id (registered before a crash: the item
// is ours, its folder is the run's) REGISTERED, and returns true — its state
// must be re-read from V7; any other refusal FAILED at "register".
bool ApplyRegistered(const RegisteredItem& item, bool storage,
                     labelport::internal::v1::SampleProgress* p);

// Records what V7 says of the item of a resumed, REGISTERED sample (`item`:
// null when V7 no longer has it) in its record `p`:
//   * gone (deleted in V7): reset to be registered again;
//   * still uploading: its pending upload id is taken; without one and
//     without a recorded upload id (V7's answer to the registration was lost,
//     so the item can never receive its bytes) the record is reset to be
//     registered again and the item's id is returned: the caller deletes it;
//   * anything else: UPLOADED (the wait for processing takes it from there).
std::optional<std::string> ApplyResumedItem(const DarwinItem* item,
                                            labelport::internal::v1::SampleProgress* p);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_ITEM_REGISTRATION_H_
