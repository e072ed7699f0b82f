// The read path below gRPC: SqliteRunStore::GetRun and ListRuns (a page of
// --page_size of --runs runs) timed on one thread, with and without the
// read connections and the record cache, and the cost of serialising a
// ListRuns page as the server's response. Prints microseconds per call.
// A benchmark, not a test (see tests/bench/read_path/README.md).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "labelport/v1/annotation_service.pb.h"
#include "service/store/sqlite_run_store.h"

ABSL_FLAG(int, runs, 100, "Runs in the store (one dataset)");
ABSL_FLAG(int, page_size, 50, "ListRuns page size");
ABSL_FLAG(int, iterations, 20000, "Calls per measurement");

namespace {

namespace v1 = labelport::v1;
using labelport::store::RunKey;
using labelport::store::SqliteRunStore;

// Like the runs of tests/bench/read_path/main.go: one sample, a one-class
// detections field.
labelport::store::NewRun MakeRun(int i) {
  labelport::store::NewRun run;
  run.key = RunKey{"default", "bench", absl::StrFormat("run_%06d", i)};
  v1::AnnotationRun& record = run.record;
  record.set_backend("darwin");
  record.set_state(v1::RUN_STATE_PENDING);
  record.mutable_darwin()->set_dataset_slug(absl::StrFormat("voxel51-%032x", i));
  record.mutable_darwin()->set_external_storage("bench-bucket");
  v1::FieldSchema* field = record.mutable_label_schema()->add_fields();
  field->set_field("ground_truth");
  field->set_type("detections");
  field->mutable_classes()->add_entries()->set_name("car");
  record.mutable_progress()->set_samples_total(1);
  record.set_media_field("filepath");
  v1::Sample sample;
  sample.set_id(absl::StrFormat("sample-%06d", i));
  sample.mutable_media()->mutable_storage()->set_storage_slug("bench-bucket");
  sample.mutable_media()->mutable_storage()->set_storage_key(absl::StrFormat("images/%06d.jpg", i));
  sample.set_media_type(v1::MEDIA_TYPE_IMAGE);
  run.samples.push_back(sample);
  return run;
}

template <typename Call>
double MicrosPerCall(int iterations, Call call) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) call(i);
  const std::chrono::duration<double, std::micro> elapsed =
      std::chrono::steady_clock::now() - start;
  return elapsed.count() / iterations;
}

void Measure(const std::string& path, const char* label, int read_connections,
             size_t record_cache_capacity) {
  const int runs = absl::GetFlag(FLAGS_runs);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  SqliteRunStore::Options options;
  options.path = path;
  options.read_connections = read_connections;
  options.record_cache_capacity = record_cache_capacity;
  auto store = SqliteRunStore::Create(options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", std::string(store.status().message()).c_str());
    std::exit(1);
  }
  const double get = MicrosPerCall(iterations, [&](int i) {
    auto run = (*store)->GetRun(RunKey{"default", "bench", absl::StrFormat("run_%06d", i % runs)});
    if (!run.ok()) std::exit(1);
  });
  labelport::store::ListRunsQuery query;
  query.tenant = "default";
  query.dataset = "bench";
  query.page_size = absl::GetFlag(FLAGS_page_size);
  const double list = MicrosPerCall(iterations / 10, [&](int) {
    auto page = (*store)->ListRuns(query);
    if (!page.ok()) std::exit(1);
  });
  std::printf("%-34s GetRun %7.1f µs   ListRuns %7.1f µs\n", label, get, list);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("store_read_bench_", getpid());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "runs.db").string();
  {
    auto store = SqliteRunStore::Create({.path = path});
    if (!store.ok()) return 1;
    for (int i = 0; i < absl::GetFlag(FLAGS_runs); ++i) {
      if (!(*store)->CreateRun(MakeRun(i)).ok()) return 1;
    }
  }
  std::printf("store_read_bench: %d runs, ListRuns page %d, one thread\n",
              absl::GetFlag(FLAGS_runs), absl::GetFlag(FLAGS_page_size));
  Measure(path, "write connection, no record cache", 0, 0);
  Measure(path, "read connections, no record cache", 4, 0);
  Measure(path, "read connections and record cache", 4, 4096);

  // What the server does with a page after the store: build the response
  // and serialise it (gRPC's part).
  auto store = SqliteRunStore::Create({.path = path});
  labelport::store::ListRunsQuery query;
  query.tenant = "default";
  query.dataset = "bench";
  query.page_size = absl::GetFlag(FLAGS_page_size);
  auto page = (*store)->ListRuns(query);
  if (!page.ok()) return 1;
  v1::ListRunsResponse response;
  for (const auto& run : page->runs) *response.add_runs() = run;
  std::string bytes;
  const double serialize = MicrosPerCall(absl::GetFlag(FLAGS_iterations) / 10, [&](int) {
    bytes.clear();
    response.SerializeToString(&bytes);
  });
  const double copy = MicrosPerCall(absl::GetFlag(FLAGS_iterations) / 10,
                                    [&](int) { v1::ListRunsResponse copied = response; });
  std::printf("ListRuns response of %zu bytes: serialise %.1f µs, copy and free %.1f µs\n",
              bytes.size(), serialize, copy);
  std::filesystem::remove_all(dir);
  return 0;
}
