#include "service/core/run_registry.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/backend/darwin/darwin_capabilities.h"
#include "service/common/errors.h"
#include "service/core/page_tokens.h"
#include "service/store/database.h"
#include "service/store/sqlite_run_store.h"
#include "tests/unit/common/cat_detections_header.h"
#include "tests/unit/common/scratch_dir.h"
#include "tests/unit/core/capabilities_provider.h"
#include "tests/unit/core/fake_backends.h"
#include "tests/unit/core/test_util.h"

namespace labelport::core {
namespace {

using ::labelport::core::testing::Image;
using ::labelport::core::testing::InMemoryStore;
using ::labelport::core::testing::Parse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

constexpr char kTenant[] = "tenant-a";

// CreateRun as the server checks it: against the V7 backend's capabilities.
const backend::BackendProvider* Darwin() {
  static const auto* const kProvider =
      new testing::CapabilitiesProvider(backend::darwin::DarwinCapabilities());
  return kProvider;
}

std::vector<v1::Sample> Images(int n) {
  std::vector<v1::Sample> out;
  for (int i = 0; i < n; ++i) out.push_back(Image("s" + std::to_string(i)));
  return out;
}

// A valid header for a new detections field on dataset "ds".
v1::CreateRunHeader Header(const std::string& anno_key, const std::string& extra = "") {
  v1::CreateRunHeader header = ::labelport::testing::CatDetectionsHeader(anno_key);
  header.MergeFrom(Parse<v1::CreateRunHeader>(extra));
  return header;
}

class RunRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = InMemoryStore();
    ASSERT_NE(store_, nullptr);
    registry_ = std::make_unique<RunRegistry>(store_.get(), Darwin(), [this](int digits) {
      requested_digits_.push_back(digits);
      return std::string(digits, 'a');
    });
  }

  absl::StatusOr<v1::CreateRunResponse> Create(const v1::CreateRunHeader& header,
                                               std::vector<v1::Sample> samples = Images(2)) {
    return registry_->CreateRun(kTenant, header, std::move(samples));
  }

  void CreateOk(const v1::CreateRunHeader& header, std::vector<v1::Sample> samples = Images(2)) {
    auto created = Create(header, std::move(samples));
    ASSERT_TRUE(created.ok()) << created.status();
    ASSERT_TRUE(created->created());
  }

  absl::StatusOr<v1::ListRunsResponse> List(const std::string& extra = "") {
    return registry_->ListRuns(kTenant,
                               Parse<v1::ListRunsRequest>("parent: \"datasets/ds\" " + extra));
  }

  // Renames run `anno_key` of dataset "ds" to `new_anno_key`.
  absl::StatusOr<v1::RenameRunResponse> Rename(const std::string& anno_key,
                                               const std::string& new_anno_key) {
    v1::RenameRunRequest request;
    request.set_name("datasets/ds/runs/" + anno_key);
    request.set_new_anno_key(new_anno_key);
    return registry_->RenameRun(kTenant, request);
  }

  std::vector<std::string> Keys(const v1::ListRunsResponse& response) {
    std::vector<std::string> out;
    for (const auto& run : response.runs()) out.push_back(run.anno_key());
    return out;
  }

  std::unique_ptr<store::SqliteRunStore> store_;
  std::unique_ptr<RunRegistry> registry_;
  std::vector<int> requested_digits_;
};

// --- create ---

TEST_F(RunRegistryTest, CreateStoresPendingRunWithNormalisedSchema) {
  auto created = Create(Header("gt_run", R"pb(darwin { dataset_slug: "My Data Set" }
                                              client_metadata { key: "k" value: "v" })pb"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created());
  const v1::AnnotationRun& run = created->run();
  EXPECT_EQ(run.name(), "datasets/ds/runs/gt_run");
  EXPECT_EQ(run.dataset(), "ds");
  EXPECT_EQ(run.anno_key(), "gt_run");
  EXPECT_EQ(run.backend(), "darwin");
  EXPECT_EQ(run.state(), v1::RUN_STATE_PENDING);
  EXPECT_EQ(run.darwin().dataset_slug(), "my-data-set");
  EXPECT_EQ(run.media_field(), "filepath");
  EXPECT_EQ(run.progress().samples_total(), 2);
  EXPECT_EQ(run.progress().labels_total(), 0);
  EXPECT_EQ(run.client_metadata().at("k"), "v");
  ASSERT_EQ(run.label_schema().fields_size(), 1);
  EXPECT_EQ(run.label_schema().fields(0).type(), "detections");
  EXPECT_TRUE(run.label_schema().fields(0).has_existing_field());
  EXPECT_THAT(created->warnings(), IsEmpty());
  EXPECT_THAT(requested_digits_, IsEmpty());
}

TEST_F(RunRegistryTest, CreateCountsExistingLabels) {
  auto header = Header("gt_run");
  *header.add_existing_fields() =
      Parse<v1::ExistingField>(R"pb(field: "cls" document_type: "Classification")pb");
  *header.mutable_label_schema()->add_fields() = Parse<v1::FieldSchema>(R"pb(field: "cls")pb");
  auto samples = Images(2);
  testing::AddField(samples[0], "cls",
                    Parse<v1::FieldValue>(R"pb(classification { id: "c1" label: "dog" })pb"));
  auto created = Create(header, samples);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->run().progress().labels_total(), 1);
  EXPECT_EQ(created->run().label_schema().fields(1).classes().entries(0).name(), "dog");
}

TEST_F(RunRegistryTest, LabelsFilteredByTypeAreNeitherStoredNorCounted) {
  auto header = Header("gt_run");
  header.clear_label_schema();
  header.set_label_field("dets");
  *header.add_existing_fields() = Parse<v1::ExistingField>(R"pb(field: "dets"
                                                                document_type: "Detections")pb");
  auto samples = Images(1);
  testing::AddField(samples[0], "dets", testing::CatAndMaskedDog());
  auto created = Create(header, samples);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->run().progress().labels_total(), 1);
  EXPECT_EQ(created->run().label_schema().fields(0).type(), "detections");
  ASSERT_EQ(created->run().label_schema().fields(0).classes().entries_size(), 1);
  EXPECT_EQ(created->run().label_schema().fields(0).classes().entries(0).name(), "cat");
}

TEST_F(RunRegistryTest, MissingSlugIsGeneratedFromInjectedHex) {
  auto created = Create(Header("gt_run"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->run().darwin().dataset_slug(), "voxel51-" + std::string(32, 'a'));
  EXPECT_THAT(requested_digits_, ElementsAre(32));
}

TEST(RunRegistryDefaultHexTest, GeneratedSlugIsVoxel51AndThirtyTwoHexDigits) {
  auto store = InMemoryStore();
  ASSERT_NE(store, nullptr);
  RunRegistry registry(store.get(), Darwin());
  auto header = Header("a");
  auto first = registry.CreateRun(kTenant, header, Images(1));
  header.set_anno_key("b");
  auto second = registry.CreateRun(kTenant, header, Images(1));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(first->run().darwin().dataset_slug(), MatchesRegex("voxel51-[0-9a-f]{32}"));
  EXPECT_THAT(second->run().darwin().dataset_slug(), MatchesRegex("voxel51-[0-9a-f]{32}"));
  EXPECT_NE(first->run().darwin().dataset_slug(), second->run().darwin().dataset_slug());
}

TEST(RunRegistryMediaRootsTest, PathsOutsideTheTenantsRootsStoreNothing) {
  auto store = InMemoryStore();
  ASSERT_NE(store, nullptr);
  std::vector<std::string> asked;
  RunRegistry registry(
      store.get(), Darwin(), nullptr, nullptr, {}, [&asked](const std::string& tenant) {
        asked.push_back(tenant);
        return tenant == kTenant ? std::vector<std::string>{"/data"} : std::vector<std::string>{};
      });
  std::vector<v1::Sample> samples = Images(2);
  samples[1].mutable_media()->set_path("/etc/passwd");
  auto refused = registry.CreateRun(kTenant, Header("a"), samples);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(common::ErrorField(refused.status()), "samples[1].media.path");
  EXPECT_EQ(common::ErrorReason(refused.status()), "MEDIA_PATH_NOT_ALLOWED");
  // Another tenant has no roots: even /data is refused for it.
  auto other = registry.CreateRun("tenant-b", Header("a"), Images(1));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(asked, ElementsAre(kTenant, "tenant-b"));
  auto listed =
      registry.ListRuns(kTenant, Parse<v1::ListRunsRequest>(R"pb(parent: "datasets/ds")pb"));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(listed->runs(), IsEmpty());
  // Within the roots the run is created.
  auto created = registry.CreateRun(kTenant, Header("a"), Images(2));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created());
}

TEST(NormalizeDatasetSlugTest, LowerCasesAndReplacesSpaces) {
  auto slug = NormalizeDatasetSlug("My Data Set", "f");
  ASSERT_TRUE(slug.ok()) << slug.status();
  EXPECT_EQ(*slug, "my-data-set");
  EXPECT_EQ(*NormalizeDatasetSlug("a_b.c-D9", "f"), "a_b.c-d9");
}

TEST(NormalizeDatasetSlugTest, InvalidCharactersAreRejected) {
  for (const std::string slug : {"bad/slug", "a:b", "ünï", "a\tb"}) {
    SCOPED_TRACE(slug);
    EXPECT_INVALID(
        NormalizeDatasetSlug(slug, "header.darwin.dataset_slug"), "header.darwin.dataset_slug",
        "DATASET_SLUG_INVALID",
        "dataset_slug '" + slug + "' may only contain letters, digits, spaces, '-', '_' and '.'");
  }
}

TEST(NormalizeDatasetSlugTest, TooLongSlugIsRejected) {
  const std::string slug(257, 's');
  EXPECT_INVALID(
      NormalizeDatasetSlug(slug, "f"), "f", "DATASET_SLUG_INVALID",
      "dataset_slug '" + std::string(64, 's') + "\u2026(257 bytes)' must have 1 to 256 characters");
}

TEST_F(RunRegistryTest, InvalidSlugRejectsCreate) {
  EXPECT_INVALID(Create(Header("gt_run", R"pb(darwin { dataset_slug: "a/b" })pb")),
                 "header.darwin.dataset_slug", "DATASET_SLUG_INVALID",
                 "dataset_slug 'a/b' may only contain letters, digits, spaces, '-', '_' and '.'");
}

TEST_F(RunRegistryTest, WarningsAreReturned) {
  auto header = Header("gt_run");
  header.clear_label_schema();
  header.set_label_field("gt");
  *header.add_existing_fields() = Parse<v1::ExistingField>(R"pb(field: "gt"
                                                                document_type: "Polylines")pb");
  auto created = Create(header);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_THAT(created->warnings(),
              ElementsAre("Found existing field 'gt' with multiple types ['polygons', "
                          "'polylines']. Only the 'polygons' will be annotated"));
  EXPECT_EQ(created->run().label_schema().fields(0).type(), "polygons");
}

// --- items 1-6 ---

TEST_F(RunRegistryTest, DuplicateKeyIsRejected) {
  CreateOk(Header("gt_run"));
  EXPECT_ERROR(Create(Header("gt_run")), absl::StatusCode::kAlreadyExists, "header.anno_key",
               "RUN_ALREADY_EXISTS", "Annotation run with key 'gt_run' already exists");
  auto list = List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Keys(*list), ElementsAre("gt_run"));
}

TEST_F(RunRegistryTest, HyphenatedKeyIsRejected) {
  EXPECT_INVALID(Create(Header("my-key")), "header.anno_key", "INVALID_RUN_KEY",
                 "Invalid annotation run key 'my-key'. Keys must be valid variable names");
}

TEST_F(RunRegistryTest, KeyStartingWithDigitIsRejected) {
  EXPECT_INVALID(Create(Header("1run")), "header.anno_key", "INVALID_RUN_KEY",
                 "Invalid annotation run key '1run'. Keys must be valid variable names");
}

TEST_F(RunRegistryTest, UnicodeLetterKeyIsAccepted) {
  auto created = Create(Header("données_ключ"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->run().anno_key(), "données_ключ");
}

TEST_F(RunRegistryTest, EmptyRunIsRejectedAsDataset) {
  EXPECT_INVALID(Create(Header("gt_run"), {}), "samples", "EMPTY_COLLECTION",
                 "Dataset is empty; there is nothing to annotate");
}

TEST_F(RunRegistryTest, EmptyRunIsRejectedWithCollectionName) {
  EXPECT_INVALID(Create(Header("gt_run", R"pb(collection_name: "DatasetView")pb"), {}), "samples",
                 "EMPTY_COLLECTION", "DatasetView is empty; there is nothing to annotate");
}

TEST_F(RunRegistryTest, UnsupportedBackendIsRejected) {
  EXPECT_INVALID(Create(Header("gt_run", R"pb(backend: "cvat")pb")), "header.backend",
                 "UNSUPPORTED_BACKEND",
                 "Unsupported backend 'cvat'. The available backends are ['darwin']");
}

TEST_F(RunRegistryTest, ExplicitDarwinBackendIsAccepted) {
  EXPECT_TRUE(Create(Header("gt_run", R"pb(backend: "darwin")pb")).ok());
}

// CreateRun asks the backend provider what its backend supports: another
// backend's capabilities name it, accept its types and refuse others.
TEST(RunRegistryBackendTest, CreateRunChecksTheProvidersCapabilities) {
  auto store = InMemoryStore();
  ASSERT_NE(store, nullptr);
  const testing::CapabilitiesProvider other({.name = "other",
                                             .label_types = {"polylines"},
                                             .attribute_types = {"checkbox"},
                                             .attribute_types_with_values = {}});
  RunRegistry registry(store.get(), &other);

  EXPECT_INVALID(registry.CreateRun(kTenant, Header("detections"), Images(1)),
                 "header.label_schema.fields[0].type", "FIELD_TYPE_UNSUPPORTED",
                 "Field 'gt' has unsupported label type 'detections'. The 'other' backend "
                 "supports ['polylines']");
  EXPECT_INVALID(
      registry.CreateRun(kTenant, Header("named", R"pb(backend: "darwin")pb"), Images(1)),
      "header.backend", "UNSUPPORTED_BACKEND",
      "Unsupported backend 'darwin'. The available backends are ['other']");

  v1::CreateRunHeader polylines = Header("polylines", R"pb(backend: "other")pb");
  polylines.mutable_label_schema()->mutable_fields(0)->set_type("polylines");
  *polylines.mutable_label_schema()->mutable_fields(0)->mutable_attributes() =
      Parse<v1::AttributeSelection>(R"pb(specs { specs { name: "ok" type: "checkbox" } })pb");
  auto created = registry.CreateRun(kTenant, polylines, Images(1));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->run().backend(), "other");
  EXPECT_EQ(created->run().label_schema().fields(0).type(), "polylines");
  EXPECT_EQ(created->run().label_schema().fields(0).attributes().specs().specs(0).type(),
            "checkbox");

  // The same request against V7's capabilities: a checkbox is no V7 type.
  RunRegistry darwin(store.get(), Darwin());
  polylines.set_backend("");
  polylines.set_anno_key("on-darwin");
  EXPECT_INVALID(darwin.CreateRun(kTenant, polylines, Images(1)),
                 "header.label_schema.fields[0].attributes.specs[0].type",
                 "ATTRIBUTE_TYPE_UNSUPPORTED",
                 "Attribute 'ok' has unsupported type 'checkbox'. The 'darwin' backend supports "
                 "types ['text', 'instance_id', 'single_select', 'multi_select']");
}

// Regression test (found by this suite, fixed in service/core).
TEST_F(RunRegistryTest, EmptyCollectionIsReportedBeforeUnsupportedBackend) {
  EXPECT_INVALID(Create(Header("gt_run", R"pb(backend: "cvat")pb"), {}), "samples",
                 "EMPTY_COLLECTION", "Dataset is empty; there is nothing to annotate");
}

TEST_F(RunRegistryTest, SchemaOrLabelFieldIsRequired) {
  auto header = Header("gt_run");
  header.clear_label_schema();
  EXPECT_INVALID(Create(header), "header.label_schema", "LABEL_SCHEMA_REQUIRED",
                 "Either `label_schema` or `label_field` is required");
}

TEST_F(RunRegistryTest, SchemaErrorTakesPrecedenceOverInvalidKey) {
  auto header = Header("my-key");
  header.mutable_label_schema()->mutable_fields(0)->clear_type();
  EXPECT_INVALID(Create(header), "header.label_schema.fields[0].type", "FIELD_TYPE_REQUIRED",
                 "You must specify a type for new label field 'gt'");
}

TEST_F(RunRegistryTest, SchemaErrorTakesPrecedenceOverDuplicateKey) {
  CreateOk(Header("gt_run"));
  auto header = Header("gt_run");
  header.mutable_label_schema()->mutable_fields(0)->clear_classes();
  EXPECT_INVALID(Create(header), "header.label_schema.fields[0].classes", "FIELD_CLASSES_REQUIRED",
                 "You must provide a class list for new label field 'gt'");
}

TEST_F(RunRegistryTest, SampleErrorsAreReportedBeforeKeyErrors) {
  auto samples = Images(2);
  samples[1].set_id("s0");
  EXPECT_INVALID(Create(Header("my-key"), samples), "samples[1].id", "SAMPLE_ID_DUPLICATE",
                 "Sample id 's0' appears more than once in the run");
}

TEST_F(RunRegistryTest, LabelErrorsAreReported) {
  auto samples = Images(1);
  testing::AddField(samples[0], "gt", testing::Detections({testing::BoxLabel("d", "cat")}));
  EXPECT_INVALID(Create(Header("gt_run"), samples), "samples[0].fields[0].field",
                 "NEW_FIELD_HAS_LABELS",
                 "Sample 's0' carries labels for field 'gt', but the field is not listed in "
                 "existing_fields");
}

TEST_F(RunRegistryTest, MalformedParentIsRejected) {
  auto header = Header("gt_run");
  header.set_parent("ds");
  EXPECT_INVALID(Create(header), "header.parent", "INVALID_RESOURCE_NAME",
                 "'ds' is not a dataset name of the form 'datasets/{dataset}'");
}

TEST_F(RunRegistryTest, OverlongRequestIdIsRejected) {
  auto header = Header("gt_run");
  header.set_request_id(std::string(129, 'r'));
  EXPECT_INVALID(Create(header), "header.request_id", "REQUEST_ID_INVALID",
                 "request_id is longer than 128 characters (129 bytes)");
}

// --- request-id replay ---

TEST_F(RunRegistryTest, RequestIdReplayReturnsTheExistingRun) {
  auto header = Header("gt_run", R"pb(request_id: "req-1")pb");
  auto first = Create(header, Images(3));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created());
  auto second = Create(header, Images(3));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->created());
  EXPECT_EQ(second->run().name(), first->run().name());
  EXPECT_EQ(second->run().request_id(), "req-1");
  EXPECT_EQ(second->run().progress().samples_total(), 3);
  auto list = List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->runs_size(), 1);
}

TEST_F(RunRegistryTest, SameKeyWithNewRequestIdIsStillADuplicate) {
  CreateOk(Header("gt_run", R"pb(request_id: "req-1")pb"));
  EXPECT_ERROR(Create(Header("gt_run", R"pb(request_id: "req-2")pb")),
               absl::StatusCode::kAlreadyExists, "header.anno_key", "RUN_ALREADY_EXISTS",
               "Annotation run with key 'gt_run' already exists");
}

// --- get / list ---

TEST_F(RunRegistryTest, GetReturnsTheCreatedRun) {
  CreateOk(Header("gt_run"));
  auto got = registry_->GetRun(kTenant,
                               Parse<v1::GetRunRequest>(R"pb(name: "datasets/ds/runs/gt_run")pb"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->run().anno_key(), "gt_run");
  EXPECT_EQ(got->run().state(), v1::RUN_STATE_PENDING);
}

TEST_F(RunRegistryTest, GetUnknownRunIsNotFound) {
  EXPECT_ERROR(
      registry_->GetRun(kTenant, Parse<v1::GetRunRequest>(R"pb(name: "datasets/ds/runs/nope")pb")),
      absl::StatusCode::kNotFound, "name", "RUN_NOT_FOUND",
      "Dataset has no annotation run key 'nope'");
}

TEST_F(RunRegistryTest, RunsAreIsolatedPerTenant) {
  CreateOk(Header("gt_run"));
  EXPECT_ERROR(registry_->GetRun(
                   "tenant-b", Parse<v1::GetRunRequest>(R"pb(name: "datasets/ds/runs/gt_run")pb")),
               absl::StatusCode::kNotFound, "name", "RUN_NOT_FOUND",
               "Dataset has no annotation run key 'gt_run'");
}

TEST_F(RunRegistryTest, GetWithMalformedNameIsRejected) {
  EXPECT_INVALID(registry_->GetRun(kTenant, Parse<v1::GetRunRequest>(R"pb(name: "runs/x")pb")),
                 "name", "INVALID_RESOURCE_NAME",
                 "'runs/x' is not a run name of the form 'datasets/{dataset}/runs/{anno_key}'");
}

TEST_F(RunRegistryTest, ListIsSortedAndPaginated) {
  for (const char* key : {"c", "a", "e", "b", "d"}) CreateOk(Header(key));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = List("page_size: 2 page_token: \"" + token + "\"");
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->runs_size(), 2);
    for (const auto& run : page->runs()) seen.push_back(run.anno_key());
    token = page->next_page_token();
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_THAT(seen, ElementsAre("a", "b", "c", "d", "e"));
}

TEST_F(RunRegistryTest, ListDefaultsToOnePageAndOtherDatasetsAreSeparate) {
  CreateOk(Header("a"));
  auto other = Header("b");
  other.set_parent("datasets/other");
  CreateOk(other);
  auto list = List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Keys(*list), ElementsAre("a"));
  EXPECT_TRUE(list->next_page_token().empty());
}

TEST_F(RunRegistryTest, ListFiltersByBackendStateAndSlug) {
  CreateOk(Header("a", R"pb(darwin { dataset_slug: "Set One" })pb"));
  CreateOk(Header("b", R"pb(darwin { dataset_slug: "set-two" })pb"));
  auto by_slug = List(R"pb(dataset_slug: "set-one")pb");
  ASSERT_TRUE(by_slug.ok()) << by_slug.status();
  EXPECT_THAT(Keys(*by_slug), ElementsAre("a"));
  auto darwin = List(R"pb(backend: "darwin")pb");
  ASSERT_TRUE(darwin.ok()) << darwin.status();
  EXPECT_THAT(Keys(*darwin), ElementsAre("a", "b"));
  auto cvat = List(R"pb(backend: "cvat")pb");
  ASSERT_TRUE(cvat.ok()) << cvat.status();
  EXPECT_THAT(Keys(*cvat), IsEmpty());
  auto pending = List(R"pb(state: RUN_STATE_PENDING)pb");
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_THAT(Keys(*pending), ElementsAre("a", "b"));
  auto failed = List(R"pb(state: RUN_STATE_FAILED)pb");
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_THAT(Keys(*failed), IsEmpty());
}

TEST_F(RunRegistryTest, ListRejectsNegativePageSize) {
  EXPECT_INVALID(List("page_size: -1"), "page_size", "PAGE_SIZE_INVALID",
                 "page_size must not be negative");
}

TEST_F(RunRegistryTest, ListRejectsForeignPageToken) {
  EXPECT_INVALID(List("page_token: \"" + EncodeSamplePageToken(3) + "\""), "page_token",
                 "INVALID_PAGE_TOKEN", "page_token is not a token returned by this list call");
}

TEST_F(RunRegistryTest, ListRejectsMalformedParent) {
  EXPECT_INVALID(
      registry_->ListRuns(kTenant, Parse<v1::ListRunsRequest>(R"pb(parent: "datasets")pb")),
      "parent", "INVALID_RESOURCE_NAME",
      "'datasets' is not a dataset name of the form 'datasets/{dataset}'");
}

// --- rename / delete ---

TEST_F(RunRegistryTest, RenameMovesTheRun) {
  CreateOk(Header("a"));
  auto renamed = Rename("a", "b");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->run().anno_key(), "b");
  EXPECT_EQ(renamed->run().name(), "datasets/ds/runs/b");
  EXPECT_EQ(renamed->run().label_schema().fields(0).field(), "gt");
  EXPECT_ERROR(
      registry_->GetRun(kTenant, Parse<v1::GetRunRequest>(R"pb(name: "datasets/ds/runs/a")pb")),
      absl::StatusCode::kNotFound, "name", "RUN_NOT_FOUND",
      "Dataset has no annotation run key 'a'");
  auto list = List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Keys(*list), ElementsAre("b"));
}

TEST_F(RunRegistryTest, RenameOntoExistingKeyIsRejected) {
  CreateOk(Header("a"));
  CreateOk(Header("b"));
  EXPECT_ERROR(Rename("a", "b"), absl::StatusCode::kAlreadyExists, "new_anno_key",
               "RUN_ALREADY_EXISTS", "A annotation run with key 'b' already exists");
}

TEST_F(RunRegistryTest, RenameToInvalidKeyIsRejected) {
  CreateOk(Header("a"));
  EXPECT_INVALID(Rename("a", "my-key"), "new_anno_key", "INVALID_RUN_KEY",
                 "Invalid annotation run key 'my-key'. Keys must be valid variable names");
}

TEST_F(RunRegistryTest, RenameUnknownRunIsNotFound) {
  EXPECT_ERROR(Rename("x", "y"), absl::StatusCode::kNotFound, "name", "RUN_NOT_FOUND",
               "Dataset has no annotation run key 'x'");
}

TEST_F(RunRegistryTest, DeleteRemovesTheRunAndFreesTheKey) {
  CreateOk(Header("a", R"pb(request_id: "req-1")pb"));
  auto deleted = registry_->DeleteRun(
      kTenant, Parse<v1::DeleteRunRequest>(R"pb(name: "datasets/ds/runs/a")pb"));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  auto list = List();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Keys(*list), IsEmpty());
  EXPECT_ERROR(registry_->ListRunSamples(
                   kTenant, Parse<v1::ListRunSamplesRequest>(R"pb(name: "datasets/ds/runs/a")pb")),
               absl::StatusCode::kNotFound, "name", "RUN_NOT_FOUND",
               "Dataset has no annotation run key 'a'");
  // The key (and request id) can be used again.
  CreateOk(Header("a", R"pb(request_id: "req-1")pb"));
}

TEST_F(RunRegistryTest, DeleteOfAnUploadingRunIsRefusedUntilItSettles) {
  CreateOk(Header("a"));
  auto a = store_->GetRun({kTenant, "ds", "a"});
  ASSERT_TRUE(a.ok()) << a.status();
  auto set_state = [&](v1::RunState state) {
    ASSERT_TRUE(store_
                    ->UpdateRun(a->uid(),
                                [state](v1::AnnotationRun& r) {
                                  r.set_state(state);
                                  return absl::OkStatus();
                                })
                    .ok());
  };
  set_state(v1::RUN_STATE_UPLOADING);
  const auto request = Parse<v1::DeleteRunRequest>(R"pb(name: "datasets/ds/runs/a")pb");
  EXPECT_ERROR(registry_->DeleteRun(kTenant, request), absl::StatusCode::kFailedPrecondition,
               "name", "RUN_UPLOADING",
               "Run 'datasets/ds/runs/a' is UPLOADING: its upload is still creating items in V7, "
               "which a deleted run could no longer clean up. Wait until it is ANNOTATING or "
               "FAILED (WatchRun), call CleanupRun if its V7 items should go, then DeleteRun");
  EXPECT_TRUE(store_->GetRun({kTenant, "ds", "a"}).ok());
  set_state(v1::RUN_STATE_ANNOTATING);
  EXPECT_TRUE(registry_->DeleteRun(kTenant, request).ok());
  EXPECT_EQ(store_->GetRun({kTenant, "ds", "a"}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RunRegistryTest, DeleteUnknownRunIsNotFound) {
  EXPECT_ERROR(registry_->DeleteRun(
                   kTenant, Parse<v1::DeleteRunRequest>(R"pb(name: "datasets/ds/runs/x")pb")),
               absl::StatusCode::kNotFound, "name", "RUN_NOT_FOUND",
               "Dataset has no annotation run key 'x'");
}

// --- samples ---

TEST_F(RunRegistryTest, ListSamplesPagesInUploadOrder) {
  std::vector<v1::Sample> samples;
  for (const char* id : {"z", "m", "a", "q", "b"}) samples.push_back(Image(id));
  CreateOk(Header("a"), samples);
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListRunSamplesRequest request;
    request.set_name("datasets/ds/runs/a");
    request.set_page_size(2);
    request.set_page_token(token);
    auto page = registry_->ListRunSamples(kTenant, request);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->sample_ids_size(), 2);
    for (const auto& id : page->sample_ids()) seen.push_back(id);
    token = page->next_page_token();
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_THAT(seen, ElementsAre("z", "m", "a", "q", "b"));
}

TEST_F(RunRegistryTest, ListSamplesDefaultPageHoldsAll) {
  CreateOk(Header("a"), Images(3));
  auto page = registry_->ListRunSamples(
      kTenant, Parse<v1::ListRunSamplesRequest>(R"pb(name: "datasets/ds/runs/a")pb"));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->sample_ids(), ElementsAre("s0", "s1", "s2"));
  EXPECT_TRUE(page->next_page_token().empty());
}

TEST_F(RunRegistryTest, ListSamplesRejectsBadPageSizeAndToken) {
  CreateOk(Header("a"));
  EXPECT_INVALID(registry_->ListRunSamples(kTenant, Parse<v1::ListRunSamplesRequest>(
                                                        R"pb(name: "datasets/ds/runs/a"
                                                             page_size: -5)pb")),
                 "page_size", "PAGE_SIZE_INVALID", "page_size must not be negative");
  v1::ListRunSamplesRequest request;
  request.set_name("datasets/ds/runs/a");
  request.set_page_token(EncodeRunPageToken("a"));
  EXPECT_INVALID(registry_->ListRunSamples(kTenant, request), "page_token", "INVALID_PAGE_TOKEN",
                 "page_token is not a token returned by this list call");
}

TEST(RunRegistryQuotaTest, ATenantAtItsRunsInFlightLimitIsRefusedUntilOneSettles) {
  const ::labelport::testing::ScratchDir dir("run_registry_quota");
  auto database = store::OpenDatabase({.sqlite_path = (dir.path() / "runs.db").string()});
  ASSERT_TRUE(database.ok()) << database.status();
  RunQuota quota(&(*database)->run_state_counter(), 2);
  RunRegistry registry(&(*database)->run_store(), Darwin(), nullptr, nullptr, {}, nullptr, &quota);

  auto header = [](const std::string& key) {
    v1::CreateRunHeader h = Header(key);
    h.set_request_id("req-" + key);
    return h;
  };
  ASSERT_TRUE(registry.CreateRun(kTenant, header("a"), Images(1)).ok());
  ASSERT_TRUE(registry.CreateRun(kTenant, header("b"), Images(1)).ok());
  auto refused = registry.CreateRun(kTenant, header("c"), Images(1));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("--max_runs_in_flight_per_tenant"));
  EXPECT_EQ(common::ErrorReason(refused.status()), "TENANT_RUNS_IN_FLIGHT_LIMIT");
  // Nothing was stored for the refused run.
  EXPECT_EQ((*database)->run_store().GetRun({kTenant, "ds", "c"}).status().code(),
            absl::StatusCode::kNotFound);
  // Another tenant has its own budget.
  EXPECT_TRUE(registry.CreateRun("other", header("c"), Images(1)).ok());
  // A retry of a request whose run exists gets that run, not a refusal.
  auto retried = registry.CreateRun(kTenant, header("b"), Images(1));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_FALSE(retried->created());

  // Once a run settles there is room again; resuming it needs room too.
  auto a = (*database)->run_store().GetRun({kTenant, "ds", "a"});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE((*database)
                  ->run_store()
                  .UpdateRun(a->uid(),
                             [](v1::AnnotationRun& r) {
                               r.set_state(v1::RUN_STATE_FAILED);
                               return absl::OkStatus();
                             })
                  .ok());
  ASSERT_TRUE(registry.CreateRun(kTenant, header("c"), Images(1)).ok());
  v1::ResumeRunRequest resume;
  resume.set_name("datasets/ds/runs/a");
  EXPECT_EQ(registry.ResumeRun(kTenant, resume).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// --- streamed creation (RunCreation) ---

std::vector<v1::Sample> ImagesFrom(int first, int count) {
  std::vector<v1::Sample> out;
  for (int i = first; i < first + count; ++i) out.push_back(Image("s" + std::to_string(i)));
  return out;
}

// A header with an existing Detections field "gt" (classes inferred) and
// samples carrying one "gt" box each.
v1::CreateRunHeader ExistingGtHeader(const std::string& anno_key) {
  v1::CreateRunHeader header =
      Header(anno_key, R"pb(existing_fields { field: "gt" document_type: "Detections" })pb");
  v1::FieldSchema& gt = *header.mutable_label_schema()->mutable_fields(0);
  gt.clear_type();
  gt.clear_classes();
  return header;
}

v1::Sample ImageWithBox(const std::string& id, const std::string& label_id,
                        const std::string& label) {
  v1::Sample s = Image(id);
  testing::AddField(
      s, "gt", testing::Detections({testing::BoxLabel(label_id, label, {0.1, 0.1, 0.5, 0.5})}));
  return s;
}

// Nothing is left of a failed or aborted creation: no spool of this
// registry's owner, the key free.
void ExpectNothingSpooled(store::RunStore& store) {
  absl::StatusOr<int64_t> left = store.DiscardRunSpoolsOf(RunSpoolOptions().owner);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(*left, 0) << "a spool was left behind";
}

TEST_F(RunRegistryTest, StreamedRunAppearsOnlyWhenFinished) {
  auto creation = registry_->BeginCreateRun(kTenant, Header("streamed"));
  ASSERT_TRUE(creation->AddBatch(ImagesFrom(0, 3)).ok());
  ASSERT_TRUE(creation->AddBatch(ImagesFrom(3, 2)).ok());
  EXPECT_ERROR(registry_->GetRun(
                   kTenant, Parse<v1::GetRunRequest>(R"pb(name: "datasets/ds/runs/streamed")pb")),
               absl::StatusCode::kNotFound, "name", "RUN_NOT_FOUND",
               "Dataset has no annotation run key 'streamed'");
  EXPECT_THAT(Keys(*List()), IsEmpty());
  auto created = creation->Finish();
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created());
  EXPECT_EQ(created->run().progress().samples_total(), 5);
  auto page = registry_->ListRunSamples(
      kTenant, Parse<v1::ListRunSamplesRequest>(R"pb(name: "datasets/ds/runs/streamed")pb"));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->sample_ids(), ElementsAre("s0", "s1", "s2", "s3", "s4"));
}

TEST_F(RunRegistryTest, DuplicateSampleIdInALaterBatchStoresNothing) {
  auto creation = registry_->BeginCreateRun(kTenant, Header("dup"));
  ASSERT_TRUE(creation->AddBatch(ImagesFrom(0, 2)).ok());
  std::vector<v1::Sample> later = ImagesFrom(2, 1);
  later.push_back(Image("s0"));
  EXPECT_INVALID(creation->AddBatch(later), "samples[3].id", "SAMPLE_ID_DUPLICATE",
                 "Sample id 's0' appears more than once in the run");
  EXPECT_EQ(creation->Finish().status().code(), absl::StatusCode::kFailedPrecondition);
  ExpectNothingSpooled(*store_);
  EXPECT_THAT(Keys(*List()), IsEmpty());
  CreateOk(Header("dup"), ImagesFrom(0, 3));
}

TEST_F(RunRegistryTest, DuplicateLabelIdInALaterBatchStoresNothing) {
  auto creation = registry_->BeginCreateRun(kTenant, ExistingGtHeader("dup"));
  ASSERT_TRUE(creation->AddBatch({ImageWithBox("a", "l1", "cat")}).ok());
  EXPECT_INVALID(
      creation->AddBatch({ImageWithBox("b", "l2", "cat"), ImageWithBox("c", "l1", "dog")}),
      "samples[2].fields[0].value", "LABEL_ID_DUPLICATE",
      "Sample 'c' field 'gt': label id 'l1' appears more than once in the run");
  ExpectNothingSpooled(*store_);
  EXPECT_THAT(Keys(*List()), IsEmpty());
}

TEST_F(RunRegistryTest, MixedMediaTypesAcrossBatchesAreRejected) {
  auto creation = registry_->BeginCreateRun(kTenant, Header("mixed"));
  ASSERT_TRUE(creation->AddBatch(ImagesFrom(0, 2)).ok());
  v1::Sample video = Image("v");
  video.set_media_type(v1::MEDIA_TYPE_VIDEO);
  EXPECT_INVALID(creation->AddBatch({video}), "samples[2].media_type", "MEDIA_TYPE_MIXED",
                 "Sample 'v': all samples of a run must have the same media type (mixed image "
                 "and video collections are not supported)");
  ExpectNothingSpooled(*store_);
}

TEST_F(RunRegistryTest, AbortedOrAbandonedCreationLeavesNothing) {
  auto aborted = registry_->BeginCreateRun(kTenant, Header("k"));
  ASSERT_TRUE(aborted->AddBatch(ImagesFrom(0, 2)).ok());
  aborted->Abort();
  ExpectNothingSpooled(*store_);
  auto abandoned = registry_->BeginCreateRun(kTenant, Header("k"));
  ASSERT_TRUE(abandoned->AddBatch(ImagesFrom(0, 2)).ok());
  abandoned.reset();
  ExpectNothingSpooled(*store_);
  CreateOk(Header("k"), ImagesFrom(0, 2));
}

TEST_F(RunRegistryTest, ClassesAreInferredAcrossBatches) {
  auto creation = registry_->BeginCreateRun(kTenant, ExistingGtHeader("inferred"));
  ASSERT_TRUE(creation->AddBatch({ImageWithBox("a", "l1", "dog")}).ok());
  ASSERT_TRUE(creation->AddBatch({ImageWithBox("b", "l2", "cat"), Image("c")}).ok());
  auto created = creation->Finish();
  ASSERT_TRUE(created.ok()) << created.status();
  std::vector<std::string> classes;
  for (const auto& e : created->run().label_schema().fields(0).classes().entries())
    classes.push_back(e.name());
  EXPECT_THAT(classes, ElementsAre("cat", "dog"));
  EXPECT_EQ(created->run().progress().labels_total(), 2);
}

TEST_F(RunRegistryTest, StreamedReplaySpoolsNothingAndReturnsTheRun) {
  auto header = Header("gt_run", R"pb(request_id: "req-1")pb");
  auto first = Create(header, Images(3));
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = registry_->BeginCreateRun(kTenant, header);
  ASSERT_TRUE(again->AddBatch(ImagesFrom(0, 3)).ok());
  ExpectNothingSpooled(*store_);
  auto replay = again->Finish();
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->created());
  EXPECT_EQ(replay->run().uid(), first->run().uid());
}

TEST_F(RunRegistryTest, SpoolsOfAPreviousProcessAreDiscardedAtStart) {
  // A process that died while streaming: its spool is still in the store.
  auto spool =
      store_->BeginRunSpool({kTenant, "ds", "k"}, "", RunSpoolOptions().owner, absl::Hours(1));
  ASSERT_TRUE(spool.ok()) << spool.status();
  ASSERT_TRUE(store_->AppendToRunSpool(spool->spool_id, 0, Images(2), {}, absl::Hours(1)).ok());
  registry_->DiscardStaleSpools(/*at_start=*/true);
  EXPECT_EQ(store_->CommitRunSpool(spool->spool_id, {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RunRegistryTest, ExpiredSpoolAbortsTheCall) {
  RunRegistry registry(store_.get(), Darwin(), nullptr, nullptr,
                       RunSpoolOptions{.owner = "w", .ttl = -absl::Hours(1)});
  auto creation = registry.BeginCreateRun(kTenant, Header("stalled"));
  ASSERT_TRUE(creation->AddBatch(ImagesFrom(0, 2)).ok());
  registry.DiscardStaleSpools(/*at_start=*/false);  // the sweep finds it expired
  EXPECT_ERROR(creation->AddBatch(ImagesFrom(2, 2)), absl::StatusCode::kAborted, "samples",
               "SPOOL_EXPIRED",
               "CreateRun sent no samples for longer than -1h and its spooled samples were "
               "discarded; send the run again");
  EXPECT_THAT(Keys(*List()), IsEmpty());
}

}  // namespace
}  // namespace labelport::core
