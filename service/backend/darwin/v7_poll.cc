#include "service/backend/darwin/v7_poll.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace labelport::backend::darwin {

boost::asio::awaitable<void> PauseFor(absl::Duration d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(absl::ToChronoMilliseconds(d));
  co_await timer.async_wait(boost::asio::use_awaitable);
}

bool PollMayGoOn(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace labelport::backend::darwin
