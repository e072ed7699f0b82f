// load_decode_bench: the CPU cost of turning exported Darwin JSON 2.0 into
// FiftyOne labels, without V7, the network, the store or gRPC in the way:
// DecodeDarwinJson (parse) + DecodeItem (conversion against the snapshot and
// the annotation links), one item at a time, as LoadJob::HandleEntry does.
//
// The items look like darwin-sim's exports of the load benchmark's run (see
// README.md): one `detections` field, K boxes per item with an annotator, a
// reviewer, a select property and an instance id; half of the boxes are
// linked to uploaded labels (edited-in-place path), half are new.
//
//   build/tests/bench/load/load_decode_bench --items 10000 --annotations 20
#include <time.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/text_format.h"
#include "service/backend/darwin/annotation_decoder.h"
#include "service/backend/darwin/darwin_backend.h"
#include "service/backend/darwin/darwin_json.h"
#include "service/common/cpu_pool.h"
#include "service/common/ordered_parallel_map.h"

ABSL_FLAG(int, items, 10000, "items to decode");
ABSL_FLAG(int, annotations, 20, "annotations per item");
ABSL_FLAG(int, rounds, 3, "timed rounds (the best is reported)");
ABSL_FLAG(int, threads, labelport::common::DefaultCpuThreads(),
          "threads of the CPU pool the load decodes on, as the server's --cpu_threads");

namespace {

namespace v1 = labelport::v1;
namespace darwin = labelport::backend::darwin;
using labelport::internal::v1::AnnotationLink;

constexpr char kSchema[] = R"pb(
  fields {
    field: "detections"
    type: "detections"
    classes {
      entries {
        group {
          classes { names: "car" names: "truck" }
          attributes {
            specs {
              specs {
                name: "color"
                type: "single_select"
                values { string_value: "red" }
                values { string_value: "blue" }
              }
            }
          }
        }
      }
      entries { name: "person" }
    }
  }
)pb";

// CPU time of the calling thread: unlike wall time, it does not depend on
// what else the machine is running.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Ids shaped like V7's (random UUIDs) and FiftyOne's (24 hex digits), from a
// fixed pseudo-random sequence so that runs are comparable.
uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
std::string Uuid(uint64_t seed) {
  const uint64_t a = Mix(seed), b = Mix(seed ^ 0xabcdef);
  return absl::StrFormat("%08x-%04x-4%03x-8%03x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                         b >> 52, b & 0xffffffffffffULL);
}
std::string ItemId(int i) { return Uuid(static_cast<uint64_t>(i) << 20); }
std::string AnnotationId(int i, int k) { return Uuid((static_cast<uint64_t>(i) << 20) + 1 + k); }
std::string LabelId(int i, int k) {
  return absl::StrFormat("%024x", Mix((static_cast<uint64_t>(i) << 20) + 0x80000 + k) >> 32);
}

struct Item {
  std::string json;
  v1::Sample snapshot;
  std::map<std::string, AnnotationLink> links;
};

Item MakeItem(int i, int k) {
  Item item;
  const char* classes[] = {"car", "truck", "person"};
  std::string annotations;
  item.snapshot.set_id(absl::StrFormat("%024x", i));
  v1::FieldValue* value = nullptr;
  {
    auto* f = item.snapshot.add_fields();
    f->set_field("detections");
    value = f->mutable_value();
  }
  for (int a = 0; a < k; ++a) {
    const std::string cls = classes[a % 3];
    const double x = 10 + a * 7.25, y = 20 + a * 3.5, w = 40.5, h = 30.25;
    if (!annotations.empty()) annotations += ",";
    absl::StrAppend(
        &annotations,
        R"({"annotators":[{"email":"annotator@example.com","full_name":"Ann Otator"}],)",
        R"("bounding_box":{"h":)", h, R"(,"w":)", w, R"(,"x":)", x, R"(,"y":)", y, "},",
        R"("id":")", AnnotationId(i, a), R"(","instance_id":{"value":)", a + 1, "},", R"("name":")",
        cls, R"(",)",
        cls == "person"
            ? ""
            : R"("properties":[{"frame_index":"global","name":"color","value":"red"}],)",
        R"("reviewers":[{"email":"reviewer@example.com","full_name":"Rev Iewer"}],)",
        R"("slot_names":["0"]})");
    if (a % 2 == 0) {  // uploaded: a snapshot label and its link
      v1::Detection* d = value->mutable_detections()->add_detections();
      d->set_id(LabelId(i, a));
      d->set_label(cls);
      for (double v : {x / 640, y / 480, w / 640, h / 480}) d->add_bounding_box(v);
      d->set_confidence(0.9);
      d->set_index(a + 1);
      AnnotationLink link;
      link.set_annotation_id(AnnotationId(i, a));
      link.set_label_id(LabelId(i, a));
      link.set_part_count(1);
      link.set_sample_id(item.snapshot.id());
      link.set_field("detections");
      link.set_item_id(ItemId(i));
      item.links.emplace(link.annotation_id(), link);
    }
  }
  item.json = absl::StrCat(
      R"({"version":"2.0","schema_ref":"https://darwin-public.s3.eu-west-1.amazonaws.com/darwin_json/2.0/schema.json",)",
      R"("item":{"name":"sample-)", i, R"(.png","path":"/","source_info":{"item_id":")", ItemId(i),
      R"(","dataset":{"name":"bench","slug":"bench","dataset_management_url":"http://127.0.0.1/datasets/1"},)",
      R"("team":{"name":"Team","slug":"team"},"workview_url":"http://127.0.0.1/workview?item=)",
      ItemId(i), R"("},"slots":[{"type":"image","slot_name":"0","width":640,"height":480,)",
      R"("thumbnail_url":"http://127.0.0.1/files/1/thumbnail","source_files":[{"file_name":"sample.png",)",
      R"("url":"http://127.0.0.1/files/1"}]}]},"annotations":[)", annotations,
      "],\"properties\":[]}");
  return item;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int n = absl::GetFlag(FLAGS_items), k = absl::GetFlag(FLAGS_annotations);
  v1::LabelSchema schema;
  if (!google::protobuf::TextFormat::ParseFromString(kSchema, &schema)) return 1;
  std::vector<Item> items;
  items.reserve(n);
  int64_t bytes = 0;
  for (int i = 0; i < n; ++i) {
    items.push_back(MakeItem(i, k));
    bytes += static_cast<int64_t>(items.back().json.size());
  }
  double best_parse = 1e30, best_total = 1e30, best_cpu = 1e30;
  int64_t labels = 0;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    double parse_s = 0;
    labels = 0;
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = ThreadCpuSeconds();
    for (const Item& item : items) {
      const auto t0 = std::chrono::steady_clock::now();
      auto decoded = darwin::DecodeDarwinJson(item.json, "bench.json");
      parse_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!decoded.ok()) {
        std::fprintf(stderr, "decode failed: %s\n",
                     std::string(decoded.status().message()).c_str());
        return 1;
      }
      std::vector<v1::SkippedEntry> skipped;
      auto loaded = darwin::DecodeItem(*decoded, item.snapshot, schema, item.links, &skipped);
      if (!loaded.ok() || !skipped.empty()) {
        std::fprintf(stderr, "conversion failed: %s\n",
                     std::string(loaded.status().message()).c_str());
        return 1;
      }
      for (const auto& f : loaded->fields) labels += f.downloaded.detections().detections_size();
    }
    const double total_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best_parse = std::min(best_parse, parse_s);
    best_total = std::min(best_total, total_s);
    best_cpu = std::min(best_cpu, ThreadCpuSeconds() - cpu_start);
  }
  // The same work through the load's pipeline: entries decoded on a CPU
  // pool of `threads` threads, delivered in order on one I/O thread (as
  // LoadJob does).
  const int threads = absl::GetFlag(FLAGS_threads);
  labelport::common::CpuPool pool(threads);
  double best_pipeline = 1e30;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    int64_t pipeline_labels = 0;
    absl::Status finished;
    const auto start = std::chrono::steady_clock::now();
    boost::asio::io_context io;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          labelport::common::OrderedParallelMap<const Item*,
                                                absl::StatusOr<labelport::backend::LoadedSample>>
              pipeline(
                  &pool, 4 * std::max(1, threads),
                  [&](const Item* item) -> absl::StatusOr<labelport::backend::LoadedSample> {
                    auto decoded = darwin::DecodeDarwinJson(item->json, "bench.json");
                    if (!decoded.ok()) return decoded.status();
                    std::vector<v1::SkippedEntry> skipped;
                    return darwin::DecodeItem(*decoded, item->snapshot, schema, item->links,
                                              &skipped);
                  },
                  [&](absl::StatusOr<labelport::backend::LoadedSample> loaded)
                      -> boost::asio::awaitable<absl::Status> {
                    if (!loaded.ok()) co_return loaded.status();
                    for (const auto& f : loaded->fields)
                      pipeline_labels += f.downloaded.detections().detections_size();
                    co_return absl::OkStatus();
                  });
          for (const Item& item : items) (void)co_await pipeline.Push(&item);
          finished = co_await pipeline.Finish();
        },
        boost::asio::detached);
    io.run();
    if (!finished.ok() || pipeline_labels != labels) {
      std::fprintf(stderr, "pipeline failed: %s\n", std::string(finished.message()).c_str());
      return 1;
    }
    best_pipeline =
        std::min(best_pipeline,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (labels != static_cast<int64_t>(n) * k) {
    std::fprintf(stderr, "expected %lld labels, got %lld\n", static_cast<long long>(n) * k,
                 static_cast<long long>(labels));
    return 1;
  }
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("items=%d annotations/item=%d json=%.1f MB (%.0f bytes/item)\n", n, k, mb,
              static_cast<double>(bytes) / n);
  std::printf("parse only (DecodeDarwinJson):      %.3f s  %.1f MB/s\n", best_parse,
              mb / best_parse);
  std::printf(
      "parse + conversion, one thread:      %.3f s  %.1f MB/s  %.0f items/s  %.0f labels/s\n",
      best_total, mb / best_total, n / best_total, static_cast<double>(labels) / best_total);
  std::printf("parse + conversion, one thread, per CPU-second of that thread: %.1f MB/s\n",
              mb / best_cpu);
  std::printf(
      "parse + conversion, %d decode threads: %.3f s  %.1f MB/s  %.0f items/s  %.0f labels/s\n",
      threads, best_pipeline, mb / best_pipeline, n / best_pipeline,
      static_cast<double>(labels) / best_pipeline);
  return 0;
}
