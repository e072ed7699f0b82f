#include "service/common/small_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::common {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SmallFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("small_file_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << contents;
    return path;
  }
  fs::path dir_;
};

TEST_F(SmallFileTest, ReadsARegularFileWhole) {
  EXPECT_EQ(*ReadSmallFile(Write("key", "abc.def\n"), 100, "key file"), "abc.def\n");
  EXPECT_EQ(*ReadSmallFile(Write("empty", ""), 100, "key file"), "");
}

TEST_F(SmallFileTest, RefusesLargerFilesWithoutQuotingThem) {
  auto read = ReadSmallFile(Write("big", std::string(101, 's')), 100, "key file");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr("is larger than 100 bytes"));
  EXPECT_THAT(read.status().message(), ::testing::Not(HasSubstr("sss")));
}

TEST_F(SmallFileTest, RefusesDevicesFifosAndDirectoriesWithoutWaiting) {
  // /dev/zero would never end; a FIFO without a writer would block an open.
  EXPECT_EQ(ReadSmallFile("/dev/zero", 100, "key file").status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto read = ReadSmallFile(fifo, 100, "tenants file");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr("tenants file '" + fifo + "' is not a regular"));
  EXPECT_EQ(ReadSmallFile(dir_.string(), 100, "key file").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SmallFileTest, AMissingFileIsNotFoundNamingIt) {
  auto read = ReadSmallFile((dir_ / "none").string(), 100, "key file");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(read.status().message(), HasSubstr("key file '"));
}

}  // namespace
}  // namespace labelport::common
