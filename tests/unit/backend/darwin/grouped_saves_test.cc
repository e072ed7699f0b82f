// Concurrent single-record saves share store calls: one writer, one call a
// round with every record queued meanwhile, each caller gets its round's
// status.
#include "service/backend/darwin/grouped_saves.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

using labelport::internal::v1::SampleProgress;
using ::testing::ElementsAre;

SampleProgress At(int64_t position) {
  SampleProgress p;
  p.set_position(position);
  return p;
}

// Saves four records on one thread: the first round (record 0) is held at a
// gate until the other three have queued, so they share the second round.
class GroupedSavesTest : public ::testing::Test {
 protected:
  using Gate = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;

  std::vector<absl::Status> SaveFour(absl::Status second_round_status) {
    Gate gate(io_, 1);
    GroupedSaves saves(
        [&](std::vector<SampleProgress> records) -> boost::asio::awaitable<absl::Status> {
          std::vector<int64_t> positions;
          for (const auto& r : records) positions.push_back(r.position());
          rounds_.push_back(positions);
          if (rounds_.size() == 1) {
            co_await gate.async_receive(boost::asio::use_awaitable);
            co_return absl::OkStatus();
          }
          co_return second_round_status;
        });
    std::vector<absl::Status> results(4, absl::UnknownError("not finished"));
    for (int i = 0; i < 4; ++i) {
      boost::asio::co_spawn(
          io_,
          [&saves, &results, i]() -> boost::asio::awaitable<void> {
            results[i] = co_await saves.Save(At(i));
          },
          boost::asio::detached);
    }
    // Runs after the four have queued (handlers run in the order posted).
    boost::asio::post(io_, [&gate] { (void)gate.try_send(boost::system::error_code{}); });
    io_.run();
    return results;
  }

  boost::asio::io_context io_;
  std::vector<std::vector<int64_t>> rounds_;
};

TEST_F(GroupedSavesTest, RecordsQueuedDuringARoundShareTheNext) {
  const std::vector<absl::Status> results = SaveFour(absl::OkStatus());
  EXPECT_THAT(rounds_, ElementsAre(ElementsAre(0), ElementsAre(1, 2, 3)));
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
}

TEST_F(GroupedSavesTest, EveryRecordOfAFailedRoundGetsItsError) {
  const std::vector<absl::Status> results = SaveFour(absl::UnavailableError("store down"));
  EXPECT_TRUE(results[0].ok()) << results[0];
  for (int i = 1; i < 4; ++i) EXPECT_EQ(results[i], absl::UnavailableError("store down"));
}

TEST_F(GroupedSavesTest, ALoneSaveIsARoundOfItsOwn) {
  GroupedSaves saves(
      [this](std::vector<SampleProgress> records) -> boost::asio::awaitable<absl::Status> {
        rounds_.push_back({records.front().position()});
        co_return absl::OkStatus();
      });
  std::optional<absl::Status> result;
  boost::asio::co_spawn(
      io_, [&]() -> boost::asio::awaitable<void> { result = co_await saves.Save(At(7)); },
      boost::asio::detached);
  io_.run();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok());
  EXPECT_THAT(rounds_, ElementsAre(ElementsAre(7)));
}

}  // namespace
}  // namespace labelport::backend::darwin
