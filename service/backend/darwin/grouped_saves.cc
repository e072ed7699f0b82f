#include "service/backend/darwin/grouped_saves.h"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace labelport::backend::darwin {

using labelport::internal::v1::SampleProgress;

boost::asio::awaitable<absl::Status> GroupedSaves::Save(SampleProgress record) {
  auto done = std::make_shared<SaveDone>(co_await boost::asio::this_coro::executor, 1);
  bool lead = false;
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back({std::move(record), done});
    lead = !writing_;
    writing_ = true;
  }
  if (lead) co_await WriteRounds();
  absl::Status status = co_await done->async_receive(boost::asio::use_awaitable);
  co_return status;
}

boost::asio::awaitable<void> GroupedSaves::WriteRounds() {
  while (true) {
    std::vector<Queued> round;
    {
      absl::MutexLock lock(&mu_);
      if (queue_.empty()) {
        writing_ = false;
        co_return;
      }
      round.swap(queue_);
    }
    std::vector<SampleProgress> records;
    records.reserve(round.size());
    for (const Queued& q : round) records.push_back(q.record);
    absl::Status s = co_await save_(std::move(records));
    for (const Queued& q : round) (void)q.done->try_send(boost::system::error_code{}, s);
  }
}

}  // namespace labelport::backend::darwin
