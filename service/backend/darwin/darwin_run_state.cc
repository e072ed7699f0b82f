#include "service/backend/darwin/darwin_run_state.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace labelport::backend::darwin {

using labelport::internal::v1::DarwinRunState;

google::protobuf::Any PackDarwinRunState(const DarwinRunState& state) {
  google::protobuf::Any packed;
  packed.PackFrom(state);
  return packed;
}

absl::StatusOr<DarwinRunState> UnpackDarwinRunState(const google::protobuf::Any& state,
                                                    absl::string_view run) {
  DarwinRunState unpacked;
  if (state.type_url().empty() && state.value().empty()) return unpacked;
  if (!state.Is<DarwinRunState>()) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", run, " has a backend state of type '", state.type_url(),
                     "'; the darwin backend keeps '", DarwinRunState::descriptor()->full_name(),
                     "' (was the run made by another backend?)"));
  }
  if (!state.UnpackTo(&unpacked)) {
    return absl::DataLossError(absl::StrCat("run ", run, ": its stored ",
                                            DarwinRunState::descriptor()->full_name(),
                                            " does not parse"));
  }
  return unpacked;
}

boost::asio::awaitable<absl::StatusOr<DarwinRunState>> LoadDarwinRunState(UploadJournal& journal) {
  absl::StatusOr<google::protobuf::Any> state = co_await journal.LoadBackendState();
  if (!state.ok()) co_return state.status();
  const labelport::v1::AnnotationRun& run = journal.run();
  co_return UnpackDarwinRunState(*state, absl::StrCat("'", run.name(), "' (uid ", run.uid(), ")"));
}

boost::asio::awaitable<absl::Status> SaveDarwinRunState(UploadJournal& journal,
                                                        const DarwinRunState& state) {
  return journal.SaveBackendState(PackDarwinRunState(state));
}

}  // namespace labelport::backend::darwin
