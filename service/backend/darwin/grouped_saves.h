// GroupedSaves: concurrent saves of single progress records (an upload's
// UPLOADED record, an import's LABELS_IMPORTED one) share store calls. The
// first caller writes: one `save` call a round, with every record queued
// until none is left; the others wait for the round that carried theirs and
// get its status. So concurrent uploads and imports share store
// transactions.
//
// Thread-safety: Save may be called concurrently from coroutines on any
// thread. `save` is called by one caller at a time. The object must outlive
// every Save coroutine.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_GROUPED_SAVES_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_GROUPED_SAVES_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "labelport/internal/v1/job_state.pb.h"

namespace labelport::backend::darwin {

class GroupedSaves {
 public:
  // Saves a round of records (in the order their Save calls queued them).
  using SaveRound = std::function<boost::asio::awaitable<absl::Status>(
      std::vector<labelport::internal::v1::SampleProgress>)>;

  explicit GroupedSaves(SaveRound save) : save_(std::move(save)) {}
  GroupedSaves(const GroupedSaves&) = delete;
  GroupedSaves& operator=(const GroupedSaves&) = delete;

  // Saves `record` with the records queued beside it; the status of the
  // round's save.
  boost::asio::awaitable<absl::Status> Save(labelport::internal::v1::SampleProgress record);

 private:
  using SaveDone =
      boost::asio::experimental::concurrent_channel<void(boost::system::error_code, absl::Status)>;
  struct Queued {
    labelport::internal::v1::SampleProgress record;
    std::shared_ptr<SaveDone> done;
  };

  // Saves rounds until the queue is empty.
  boost::asio::awaitable<void> WriteRounds();

  const SaveRound save_;
  absl::Mutex mu_;
  std::vector<Queued> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_GROUPED_SAVES_H_
