// The V7 state of a run (labelport.internal.v1.DarwinRunState: team, dataset,
// class ids), which DarwinBackend keeps in the journal's backend state: core
// and the store hold it as an opaque google.protobuf.Any.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_RUN_STATE_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_RUN_STATE_H_

#include <boost/asio/awaitable.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "service/backend/annotation_backend.h"

namespace labelport::backend::darwin {

// `state` packed (type_url "type.googleapis.com/labelport.internal.v1.
// DarwinRunState").
google::protobuf::Any PackDarwinRunState(const labelport::internal::v1::DarwinRunState& state);

// The DarwinRunState in `state`; an empty one when `state` is empty (nothing
// saved yet). FAILED_PRECONDITION naming `run` and both types when `state`
// holds another message; DATA_LOSS naming `run` when its bytes do not parse.
absl::StatusOr<labelport::internal::v1::DarwinRunState> UnpackDarwinRunState(
    const google::protobuf::Any& state, absl::string_view run);

// The journal's backend state, unpacked (errors of the journal or of
// UnpackDarwinRunState, naming the journal's run).
boost::asio::awaitable<absl::StatusOr<labelport::internal::v1::DarwinRunState>> LoadDarwinRunState(
    UploadJournal& journal);

// Saves `state` as the journal's backend state (UploadJournal::
// SaveBackendState; `state` is packed before this returns).
boost::asio::awaitable<absl::Status> SaveDarwinRunState(
    UploadJournal& journal, const labelport::internal::v1::DarwinRunState& state);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_RUN_STATE_H_
