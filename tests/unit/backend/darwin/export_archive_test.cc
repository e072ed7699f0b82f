#include "service/backend/darwin/export_archive.h"

#include <zip.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/common/scratch_dir.h"

namespace labelport::backend::darwin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

struct Entry {
  std::string name;
  std::string contents;  // ignored for directories (names ending in "/")
};

class ExportArchiveTest : public ::testing::Test {
 protected:
  // Writes a zip with `entries` (deflated) and returns its path.
  std::string WriteZip(const std::vector<Entry>& entries, const std::string& name = "e.zip") {
    std::string path = (dir_ / name).string();
    int error = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    EXPECT_NE(archive, nullptr) << error;
    if (archive == nullptr) return path;
    for (const Entry& e : entries) {
      if (!e.name.empty() && e.name.back() == '/') {
        EXPECT_GE(zip_dir_add(archive, e.name.c_str(), ZIP_FL_ENC_UTF_8), 0);
        continue;
      }
      zip_source_t* src = zip_source_buffer(archive, e.contents.data(), e.contents.size(), 0);
      EXPECT_NE(src, nullptr);
      EXPECT_GE(zip_file_add(archive, e.name.c_str(), src, ZIP_FL_ENC_UTF_8), 0);
    }
    EXPECT_EQ(zip_close(archive), 0);
    return path;
  }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteAll(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }

  // Collects (name, contents) of every entry visited.
  static absl::Status Collect(const std::string& path,
                              std::vector<std::pair<std::string, std::string>>& out,
                              int64_t max_entry_bytes = kMaxExportEntryBytes) {
    return ForEachExportEntry(
        path,
        [&out](absl::string_view name, absl::string_view contents) {
          out.emplace_back(std::string(name), std::string(contents));
          return absl::OkStatus();
        },
        max_entry_bytes);
  }

  const labelport::testing::ScratchDir scratch_{absl::StrCat(
      "export_archive_test_", ::testing::UnitTest::GetInstance()->current_test_info()->name())};
  const std::filesystem::path dir_ = scratch_.path();
};

TEST_F(ExportArchiveTest, VisitsRootJsonFilesOnly) {
  std::string big(100000, 'x');
  std::string path = WriteZip({{"a.json", R"({"a": 1})"},
                               {".v7/", ""},
                               {".v7/metadata.json", "{}"},
                               {"nested/", ""},
                               {"nested/b.json", "{}"},
                               {"readme.txt", "hi"},
                               {"c.json", big},
                               {".hidden.json", "{}"},
                               {"empty.json", ""}});
  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_TRUE(Collect(path, seen).ok());
  EXPECT_THAT(seen, ElementsAre(Pair("a.json", R"({"a": 1})"), Pair("c.json", big),
                                Pair("empty.json", "")));
}

TEST_F(ExportArchiveTest, ReaderReturnsTheRootJsonEntriesOneAtATimeThenFalse) {
  std::string path =
      WriteZip({{"a.json", "1"}, {".v7/", ""}, {"readme.txt", "hi"}, {"b.json", "22"}});
  auto reader = ExportEntryReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::string name, contents;
  std::vector<std::pair<std::string, std::string>> seen;
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->Next(&name, &contents);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    seen.emplace_back(name, contents);
  }
  EXPECT_THAT(seen, ElementsAre(Pair("a.json", "1"), Pair("b.json", "22")));
  // Past the end it stays at the end.
  absl::StatusOr<bool> again = (*reader)->Next(&name, &contents);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(ExportEntryReader::Open((dir_ / "missing.zip").string()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ExportArchiveTest, EmptyArchiveVisitsNothing) {
  std::string path = WriteZip({{".v7/metadata.json", "{}"}});
  std::vector<std::pair<std::string, std::string>> seen;
  EXPECT_TRUE(Collect(path, seen).ok());
  EXPECT_THAT(seen, IsEmpty());
}

TEST_F(ExportArchiveTest, CallbackErrorStopsAndIsReturned) {
  std::string path = WriteZip({{"a.json", "1"}, {"b.json", "2"}, {"c.json", "3"}});
  std::vector<std::string> seen;
  absl::Status status =
      ForEachExportEntry(path, [&seen](absl::string_view name, absl::string_view) {
        seen.emplace_back(name);
        return name == "b.json" ? absl::FailedPreconditionError("stop at b") : absl::OkStatus();
      });
  EXPECT_EQ(status, absl::FailedPreconditionError("stop at b"));
  EXPECT_THAT(seen, ElementsAre("a.json", "b.json"));
}

TEST_F(ExportArchiveTest, OversizedEntryIsResourceExhaustedNamingIt) {
  std::string path = WriteZip({{"small.json", "{}"}, {"large.json", std::string(2048, 'y')}});
  std::vector<std::pair<std::string, std::string>> seen;
  absl::Status status = Collect(path, seen, /*max_entry_bytes=*/1024);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("large.json"));
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_THAT(seen, ElementsAre(Pair("small.json", "{}")));
}

TEST_F(ExportArchiveTest, MissingFileIsNotFound) {
  std::vector<std::pair<std::string, std::string>> seen;
  absl::Status status = Collect((dir_ / "nope.zip").string(), seen);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("nope.zip"));
}

TEST_F(ExportArchiveTest, NotAZipIsInvalidArgument) {
  std::string path = (dir_ / "page.zip").string();
  WriteAll(path, "<html><body>403 Forbidden</body></html>");
  std::vector<std::pair<std::string, std::string>> seen;
  absl::Status status = Collect(path, seen);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("page.zip"));
}

TEST_F(ExportArchiveTest, TruncatedZipIsAnErrorNamingTheFile) {
  std::string path = WriteZip({{"a.json", std::string(5000, 'a')}, {"b.json", "{}"}});
  std::string data = ReadAll(path);
  WriteAll(path, data.substr(0, data.size() / 2));
  std::vector<std::pair<std::string, std::string>> seen;
  absl::Status status = Collect(path, seen);
  EXPECT_TRUE(status.code() == absl::StatusCode::kInvalidArgument ||
              status.code() == absl::StatusCode::kDataLoss)
      << status;
  EXPECT_THAT(status.message(), HasSubstr(path));
}

TEST_F(ExportArchiveTest, CorruptEntryDataIsDataLossNamingTheEntry) {
  // Stored (uncompressed) data, so flipping a byte breaks only the CRC.
  std::string path = (dir_ / "crc.zip").string();
  {
    int error = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    ASSERT_NE(archive, nullptr);
    static const std::string kContents = "{\"marker\": \"MMMMMMMMMMMMMMMM\"}";
    zip_source_t* src = zip_source_buffer(archive, kContents.data(), kContents.size(), 0);
    zip_int64_t index = zip_file_add(archive, "item.json", src, 0);
    ASSERT_GE(index, 0);
    ASSERT_EQ(zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0),
              0);
    ASSERT_EQ(zip_close(archive), 0);
  }
  std::string data = ReadAll(path);
  size_t at = data.find("MMMM");
  ASSERT_NE(at, std::string::npos);
  data[at] = 'N';
  WriteAll(path, data);
  std::vector<std::pair<std::string, std::string>> seen;
  absl::Status status = Collect(path, seen);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("item.json"));
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_THAT(seen, IsEmpty());
}

}  // namespace
}  // namespace labelport::backend::darwin
