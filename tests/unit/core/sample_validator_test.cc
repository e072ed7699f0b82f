#include "service/core/sample_validator.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/core/test_util.h"

namespace labelport::core {
namespace {

using ::labelport::core::testing::Image;
using ::labelport::core::testing::ImageWith;
using ::labelport::core::testing::Parse;

v1::Sample Video(const std::string& id, int frame_count) {
  v1::Sample s;
  s.set_id(id);
  s.set_media_type(v1::MEDIA_TYPE_VIDEO);
  s.mutable_media()->set_path("/data/" + id + ".mp4");
  s.set_frame_count(frame_count);
  return s;
}

absl::StatusOr<v1::MediaType> Media(const std::vector<v1::Sample>& samples,
                                    const std::string& external_storage = "") {
  v1::DarwinOptions darwin;
  darwin.set_external_storage(external_storage);
  return ValidateSampleMedia(samples, darwin);
}

v1::Sample WithMedia(const std::string& media_text) {
  v1::Sample s = Image("s1");
  *s.mutable_media() = Parse<v1::MediaReference>(media_text);
  return s;
}

const std::string kDigest = "sha256:" + std::string(64, 'a');

// --- media ---

TEST(SampleValidatorTest, ImagesAndVideosReturnTheirMediaType) {
  EXPECT_EQ(*Media({Image("a"), Image("b")}), v1::MEDIA_TYPE_IMAGE);
  EXPECT_EQ(*Media({Video("a", 10)}), v1::MEDIA_TYPE_VIDEO);
}

TEST(SampleValidatorTest, EmptySampleIdIsRejected) {
  EXPECT_INVALID(Media({Image("a"), Image("")}), "samples[1].id", "SAMPLE_ID_REQUIRED",
                 "Sample 1 has no id");
}

TEST(SampleValidatorTest, TooLongSampleIdIsRejected) {
  EXPECT_INVALID(Media({Image(std::string(129, 'x'))}), "samples[0].id", "SAMPLE_ID_INVALID",
                 "Sample 0 has an id longer than 128 characters");
}

TEST(SampleValidatorTest, DuplicateSampleIdIsRejected) {
  EXPECT_INVALID(Media({Image("a"), Image("b"), Image("a")}), "samples[2].id",
                 "SAMPLE_ID_DUPLICATE", "Sample id 'a' appears more than once in the run");
}

TEST(SampleValidatorTest, MissingMediaTypeIsRejected) {
  v1::Sample s = Image("a");
  s.set_media_type(v1::MEDIA_TYPE_UNSPECIFIED);
  EXPECT_INVALID(Media({s}), "samples[0].media_type", "MEDIA_TYPE_REQUIRED",
                 "Sample 'a': media_type must be IMAGE or VIDEO");
}

TEST(SampleValidatorTest, MixedMediaTypesAreRejected) {
  EXPECT_INVALID(Media({Image("a"), Video("b", 5)}), "samples[1].media_type", "MEDIA_TYPE_MIXED",
                 "Sample 'b': all samples of a run must have the same media type (mixed image "
                 "and video collections are not supported)");
}

TEST(SampleValidatorTest, NegativeSizeIsRejected) {
  v1::Sample s = Image("a");
  s.set_width(-1);
  EXPECT_INVALID(Media({s}), "samples[0]", "MEDIA_SIZE_INVALID",
                 "Sample 'a': width, height, frame_count and frame_rate must not be negative");
  v1::Sample v = Video("v", 3);
  v.set_frame_rate(std::numeric_limits<double>::quiet_NaN());
  EXPECT_INVALID(Media({v}), "samples[0]", "MEDIA_SIZE_INVALID",
                 "Sample 'v': width, height, frame_count and frame_rate must not be negative");
}

TEST(SampleValidatorTest, MissingMediaIsRejected) {
  v1::Sample s = Image("s1");
  s.clear_media();
  EXPECT_INVALID(Media({s}), "samples[0].media", "MEDIA_REQUIRED",
                 "Sample 's1': a media reference (path, url, storage or content_digest) is "
                 "required");
}

TEST(SampleValidatorTest, RelativePathIsRejected) {
  EXPECT_INVALID(Media({WithMedia(R"pb(path: "data/a.jpg")pb")}), "samples[0].media.path",
                 "MEDIA_PATH_INVALID", "Sample 's1': media path must be absolute");
}

TEST(SampleValidatorTest, TooLongPathIsRejected) {
  v1::Sample s = Image("s1");
  s.mutable_media()->set_path("/" + std::string(4096, 'a'));
  EXPECT_INVALID(Media({s}), "samples[0].media.path", "MEDIA_PATH_INVALID",
                 "Sample 's1': media path is longer than 4096 characters");
}

absl::StatusOr<v1::MediaType> MediaWithRoots(const std::vector<v1::Sample>& samples,
                                             const std::vector<std::string>& roots) {
  return ValidateSampleMedia(samples, v1::DarwinOptions(), &roots);
}

std::string NotAllowed(const std::string& id, const std::string& path) {
  return "Sample '" + id + "': media path '" + path +
         "' is not readable under the media roots allowed for this tenant (a path must be "
         "absolute, without '..', beneath a media root that symlinks do not leave, and never "
         "names a file of the server)";
}

TEST(SampleValidatorTest, PathsBeneathTheTenantsMediaRootsAreAccepted) {
  EXPECT_TRUE(MediaWithRoots({Image("a"), Image("b")}, {"/srv", "/data"}).ok());
  EXPECT_TRUE(MediaWithRoots({Image("a")}, {"/"}).ok());
  // Other references are not server paths.
  EXPECT_TRUE(MediaWithRoots({WithMedia(R"pb(url: "https://host/a.jpg")pb")}, {}).ok());
}

TEST(SampleValidatorTest, PathsOutsideTheMediaRootsAreRefusedBeforeAnythingIsRead) {
  v1::Sample outside = Image("s1");
  outside.mutable_media()->set_path("/etc/passwd");
  EXPECT_ERROR(MediaWithRoots({Image("a"), outside}, {"/data"}),
               absl::StatusCode::kPermissionDenied, "samples[1].media.path",
               "MEDIA_PATH_NOT_ALLOWED", NotAllowed("s1", "/etc/passwd"));
  v1::Sample dots = Image("s2");
  dots.mutable_media()->set_path("/data/../etc/passwd");
  EXPECT_ERROR(MediaWithRoots({dots}, {"/data"}), absl::StatusCode::kPermissionDenied,
               "samples[0].media.path", "MEDIA_PATH_NOT_ALLOWED",
               NotAllowed("s2", "/data/../etc/passwd"));
  dots.mutable_media()->set_path("/data/x/../a.jpg");
  EXPECT_ERROR(MediaWithRoots({dots}, {"/data"}), absl::StatusCode::kPermissionDenied,
               "samples[0].media.path", "MEDIA_PATH_NOT_ALLOWED",
               NotAllowed("s2", "/data/x/../a.jpg"));
}

TEST(SampleValidatorTest, PathsOfATenantWithoutMediaRootsAreRefused) {
  auto refused = MediaWithRoots({Image("a")}, {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(common::ErrorField(refused.status()), "samples[0].media.path");
  EXPECT_EQ(common::ErrorReason(refused.status()), "MEDIA_PATH_NOT_ALLOWED");
  EXPECT_NE(std::string(refused.status().message()).find("no media roots"), std::string::npos);
}

TEST(SampleValidatorTest, NonHttpUrlIsRejected) {
  EXPECT_INVALID(Media({WithMedia(R"pb(url: "ftp://host/a.jpg")pb")}), "samples[0].media.url",
                 "MEDIA_URL_INVALID", "Sample 's1': media URL must start with http:// or https://");
}

TEST(SampleValidatorTest, HttpAndHttpsUrlsAreAccepted) {
  EXPECT_TRUE(Media({WithMedia(R"pb(url: "https://host/a.jpg")pb")}).ok());
  EXPECT_TRUE(Media({WithMedia(R"pb(url: "http://host/a.jpg")pb")}).ok());
}

TEST(SampleValidatorTest, StorageWithoutKeyIsRejected) {
  EXPECT_INVALID(Media({WithMedia(R"pb(storage { storage_slug: "s3" })pb")}),
                 "samples[0].media.storage.storage_key", "MEDIA_STORAGE_INVALID",
                 "Sample 's1': external storage reference needs a storage_key");
}

TEST(SampleValidatorTest, StorageWithoutSlugOrRunStorageIsRejected) {
  EXPECT_INVALID(Media({WithMedia(R"pb(storage { storage_key: "a/b.jpg" })pb")}),
                 "samples[0].media.storage.storage_slug", "MEDIA_STORAGE_INVALID",
                 "Sample 's1': external storage reference needs a storage_slug (or the run's "
                 "darwin.external_storage)");
}

TEST(SampleValidatorTest, StorageSlugFallsBackToRunExternalStorage) {
  EXPECT_TRUE(Media({WithMedia(R"pb(storage { storage_key: "a/b.jpg" })pb")}, "my-s3").ok());
}

TEST(SampleValidatorTest, StorageKeyWithSchemeIsRejected) {
  EXPECT_INVALID(
      Media({WithMedia(R"pb(storage { storage_slug: "s3" storage_key: "s3://bucket/a.jpg" })pb")}),
      "samples[0].media.storage.storage_key", "MEDIA_STORAGE_INVALID",
      "Sample 's1': storage_key is the object key inside the storage, without scheme or bucket");
}

TEST(SampleValidatorTest, MalformedDigestIsRejected) {
  const std::string message =
      "Sample 's1': content_digest must be 'sha256:' followed by 64 lowercase hex digits";
  for (const std::string& digest :
       {std::string("md5:abc"), "sha256:" + std::string(63, 'a'), "sha256:" + std::string(64, 'A'),
        "sha256:" + std::string(63, 'a') + "g"}) {
    SCOPED_TRACE(digest);
    v1::Sample s = Image("s1");
    s.mutable_media()->set_content_digest(digest);
    s.mutable_media()->set_file_name("a.jpg");
    EXPECT_INVALID(Media({s}), "samples[0].media.content_digest", "MEDIA_DIGEST_INVALID", message);
  }
}

TEST(SampleValidatorTest, DigestWithoutFileNameIsRejected) {
  v1::Sample s = Image("s1");
  s.mutable_media()->set_content_digest(kDigest);
  EXPECT_INVALID(Media({s}), "samples[0].media.file_name", "MEDIA_FILE_NAME_REQUIRED",
                 "Sample 's1': media given by content_digest needs a file_name");
  s.mutable_media()->set_file_name("a.jpg");
  EXPECT_TRUE(Media({s}).ok());
}

TEST(SampleValidatorTest, FileNameWithSlashIsRejected) {
  v1::Sample s = Image("s1");
  s.mutable_media()->set_file_name("dir/a.jpg");
  EXPECT_INVALID(Media({s}), "samples[0].media.file_name", "MEDIA_FILE_NAME_INVALID",
                 "Sample 's1': file_name must not contain '/'");
}

// --- labels ---

v1::LabelSchema Schema(const std::string& text) { return Parse<v1::LabelSchema>(text); }

const v1::LabelSchema kImageSchema = Schema(R"pb(
  fields { field: "gt" type: "detections" existing_field: true }
  fields { field: "cls" type: "classification" existing_field: true }
  fields { field: "lines" type: "polylines" existing_field: true }
  fields { field: "kps" type: "keypoints" existing_field: true }
  fields { field: "new" type: "detections" existing_field: false }
)pb");

absl::Status Labels(const std::vector<v1::Sample>& samples,
                    const v1::LabelSchema& schema = kImageSchema) {
  return ValidateSampleLabels(samples, schema);
}

TEST(SampleValidatorTest, WellFormedLabelsAreAccepted) {
  EXPECT_TRUE(Labels({ImageWith("a", "gt", R"pb(detections {
                                                  detections {
                                                    id: "d1"
                                                    label: "cat"
                                                    bounding_box: [ 0.1, 0.1, 0.5, 0.5 ]
                                                  }
                                                })pb"),
                      ImageWith("b", "cls", R"pb(classification { id: "c1" label: "dog" })pb")})
                  .ok());
}

TEST(SampleValidatorTest, FieldNotInSchemaIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "other", R"pb(classification { id: "c" label: "x" })pb")}),
                 "samples[0].fields[0].field", "SAMPLE_FIELD_NOT_IN_SCHEMA",
                 "Sample 'a' carries labels for field 'other', which is not in the label schema");
}

TEST(SampleValidatorTest, FieldListedTwiceIsRejected) {
  v1::Sample s = ImageWith("a", "cls", R"pb(classification { id: "c1" label: "x" })pb");
  *s.add_fields() = s.fields(0);
  EXPECT_INVALID(Labels({s}), "samples[0].fields[1].field", "SAMPLE_FIELD_DUPLICATE",
                 "Sample 'a' lists field 'cls' twice");
}

TEST(SampleValidatorTest, LabelsForNewFieldAreRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "new", R"pb(detections {
                                                      detections {
                                                        id: "d1"
                                                        label: "cat"
                                                        bounding_box: [ 0, 0, 1, 1 ]
                                                      }
                                                    })pb")}),
                 "samples[0].fields[0].field", "NEW_FIELD_HAS_LABELS",
                 "Sample 'a' carries labels for field 'new', but the field is not listed in "
                 "existing_fields");
}

TEST(SampleValidatorTest, FieldValueTypeMismatchIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "gt", R"pb(classification { id: "c1" label: "x" })pb")}),
                 "samples[0].fields[0].value", "FIELD_VALUE_TYPE_MISMATCH",
                 "Sample 'a' field 'gt' holds Classification, but the field's type 'detections' "
                 "needs Detections");
}

TEST(SampleValidatorTest, DuplicateLabelIdAcrossSamplesIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "cls", R"pb(classification { id: "l1" label: "x" })pb"),
                         ImageWith("b", "gt", R"pb(detections {
                                                     detections {
                                                       id: "l1"
                                                       label: "cat"
                                                       bounding_box: [ 0, 0, 1, 1 ]
                                                     }
                                                   })pb")}),
                 "samples[1].fields[0].value", "LABEL_ID_DUPLICATE",
                 "Sample 'b' field 'gt': label id 'l1' appears more than once in the run");
}

TEST(SampleValidatorTest, EmptyLabelIdIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "cls", R"pb(classification { label: "x" })pb")}),
                 "samples[0].fields[0].value", "LABEL_ID_REQUIRED",
                 "Sample 'a' field 'cls': every label needs an id");
}

TEST(SampleValidatorTest, EmptyClassIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "cls", R"pb(classification { id: "c1" })pb")}),
                 "samples[0].fields[0].value", "LABEL_CLASS_REQUIRED",
                 "Sample 'a' field 'cls': label 'c1' has no class");
}

TEST(SampleValidatorTest, NonFiniteConfidenceIsRejected) {
  EXPECT_INVALID(Labels({ImageWith(
                     "a", "cls", R"pb(classification { id: "c1" label: "x" confidence: inf })pb")}),
                 "samples[0].fields[0].value", "LABEL_CONFIDENCE_INVALID",
                 "Sample 'a' field 'cls': label 'c1' has a non-finite confidence");
}

TEST(SampleValidatorTest, BoxWithThreeValuesIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "gt", R"pb(detections {
                                                     detections {
                                                       id: "d1"
                                                       label: "cat"
                                                       bounding_box: [ 0, 0, 1 ]
                                                     }
                                                   })pb")}),
                 "samples[0].fields[0].value", "BOUNDING_BOX_INVALID",
                 "Sample 'a' field 'gt': detection 'd1' needs a bounding_box of 4 numbers");
}

TEST(SampleValidatorTest, BoxWithNaNIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "gt", R"pb(detections {
                                                     detections {
                                                       id: "d1"
                                                       label: "cat"
                                                       bounding_box: [ 0, nan, 1, 1 ]
                                                     }
                                                   })pb")}),
                 "samples[0].fields[0].value", "BOUNDING_BOX_INVALID",
                 "Sample 'a' field 'gt': detection 'd1' has a non-finite bounding_box");
}

TEST(SampleValidatorTest, BoxWithNegativeSizeIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "gt", R"pb(detections {
                                                     detections {
                                                       id: "d1"
                                                       label: "cat"
                                                       bounding_box: [ 0, 0, 1, -0.5 ]
                                                     }
                                                   })pb")}),
                 "samples[0].fields[0].value", "BOUNDING_BOX_INVALID",
                 "Sample 'a' field 'gt': detection 'd1' has a negative width or height");
}

TEST(SampleValidatorTest, PolylineWithoutShapeIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "lines", R"pb(polylines {
                                                        polylines { id: "p1" label: "lane" }
                                                      })pb")}),
                 "samples[0].fields[0].value", "POLYLINE_POINTS_INVALID",
                 "Sample 'a' field 'lines': polyline 'p1' has no shape");
}

TEST(SampleValidatorTest, PolylineShapeWithOnePointIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "lines", R"pb(polylines {
                                                        polylines {
                                                          id: "p1"
                                                          label: "lane"
                                                          points { points { x: 0 y: 0 } }
                                                        }
                                                      })pb")}),
                 "samples[0].fields[0].value", "POLYLINE_POINTS_INVALID",
                 "Sample 'a' field 'lines': polyline 'p1' has a shape with fewer than 2 points");
}

TEST(SampleValidatorTest, PolylineWithNonFinitePointIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "lines", R"pb(polylines {
                                                        polylines {
                                                          id: "p1"
                                                          label: "lane"
                                                          points {
                                                            points { x: 0 y: 0 }
                                                            points { x: nan y: 1 }
                                                          }
                                                        }
                                                      })pb")}),
                 "samples[0].fields[0].value", "POLYLINE_POINTS_INVALID",
                 "Sample 'a' field 'lines': polyline 'p1' has a non-finite point");
}

TEST(SampleValidatorTest, KeypointConfidenceLengthMismatchIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "kps", R"pb(keypoints {
                                                      keypoints {
                                                        id: "k1"
                                                        label: "person"
                                                        points { x: 0 y: 0 }
                                                        points { x: 1 y: 1 }
                                                        confidence: [ 0.5 ]
                                                      }
                                                    })pb")}),
                 "samples[0].fields[0].value", "KEYPOINT_CONFIDENCE_INVALID",
                 "Sample 'a' field 'kps': keypoint 'k1' has 1 confidences for 2 points");
}

TEST(SampleValidatorTest, NaNKeypointsAreAllowed) {
  EXPECT_TRUE(Labels({ImageWith("a", "kps", R"pb(keypoints {
                                                   keypoints {
                                                     id: "k1"
                                                     label: "person"
                                                     points { x: nan y: nan }
                                                     points { x: 1 y: 1 }
                                                     confidence: [ nan, 0.9 ]
                                                   }
                                                 })pb")})
                  .ok());
}

TEST(SampleValidatorTest, InfiniteKeypointIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "kps", R"pb(keypoints {
                                                      keypoints {
                                                        id: "k1"
                                                        label: "person"
                                                        points { x: inf y: 0 }
                                                      }
                                                    })pb")}),
                 "samples[0].fields[0].value", "KEYPOINT_POINTS_INVALID",
                 "Sample 'a' field 'kps': keypoint 'k1' has an infinite coordinate");
}

TEST(SampleValidatorTest, KeypointWithoutPointsIsRejected) {
  EXPECT_INVALID(Labels({ImageWith("a", "kps", R"pb(keypoints {
                                                      keypoints { id: "k1" label: "person" }
                                                    })pb")}),
                 "samples[0].fields[0].value", "KEYPOINT_POINTS_INVALID",
                 "Sample 'a' field 'kps': keypoint 'k1' has no points");
}

// --- bounds ---

v1::Sample WithDetection(const std::string& text) {
  return ImageWith("a", "gt", "detections { detections { " + text + " } }");
}

v1::Detection& DetectionOf(v1::Sample& s) {
  return *s.mutable_fields(0)->mutable_value()->mutable_detections()->mutable_detections(0);
}

TEST(SampleValidatorTest, OversizedTagIsRejectedWithAShortMessage) {
  v1::Sample s = WithDetection(R"pb(id: "d1"
                                    label: "cat"
                                    bounding_box: [ 0, 0, 1, 1 ])pb");
  DetectionOf(s).add_tags(std::string(40 << 20, 't'));
  EXPECT_INVALID(Labels({s}), "samples[0].fields[0].value", "LABEL_TAGS_INVALID",
                 "Sample 'a' field 'gt': label 'd1' has tag '" + std::string(64, 't') +
                     "\u2026(41943040 bytes)', longer than 256 bytes");
}

TEST(SampleValidatorTest, TooManyTagsAreRejected) {
  v1::Sample s = WithDetection(R"pb(id: "d1"
                                    label: "cat"
                                    bounding_box: [ 0, 0, 1, 1 ])pb");
  for (int i = 0; i < 257; ++i) DetectionOf(s).add_tags("t");
  EXPECT_INVALID(Labels({s}), "samples[0].fields[0].value", "LABEL_TAGS_INVALID",
                 "Sample 'a' field 'gt': label 'd1' has 257 tags; at most 256 are allowed");
}

TEST(SampleValidatorTest, OversizedClassIsRejectedWithAShortMessage) {
  v1::Sample s = WithDetection(R"pb(id: "d1"
                                    bounding_box: [ 0, 0, 1, 1 ])pb");
  DetectionOf(s).set_label(std::string(1 << 20, 'c'));
  EXPECT_INVALID(Labels({s}), "samples[0].fields[0].value", "LABEL_CLASS_INVALID",
                 "Sample 'a' field 'gt': label 'd1' has class '" + std::string(64, 'c') +
                     "\u2026(1048576 bytes)', longer than 256 bytes");
}

TEST(SampleValidatorTest, OversizedLabelIdIsQuotedShort) {
  v1::Sample s = WithDetection(R"pb(label: "cat"
                                    bounding_box: [ 0, 0, 1, 1 ])pb");
  DetectionOf(s).set_id(std::string(1000, 'i'));
  EXPECT_INVALID(Labels({s}), "samples[0].fields[0].value", "LABEL_ID_INVALID",
                 "Sample 'a' field 'gt': label id '" + std::string(64, 'i') +
                     "\u2026(1000 bytes)' is longer than 128 bytes");
}

TEST(SampleValidatorTest, AttributeLimitsAreEnforced) {
  v1::Sample s = WithDetection(R"pb(id: "d1"
                                    label: "cat"
                                    bounding_box: [ 0, 0, 1, 1 ])pb");
  (*DetectionOf(s).mutable_attributes())["note"].set_string_value(std::string(4097, 'n'));
  EXPECT_INVALID(Labels({s}), "samples[0].fields[0].value", "LABEL_ATTRIBUTE_INVALID",
                 "Sample 'a' field 'gt': label 'd1' attribute 'note' has a string value longer "
                 "than 4096 bytes (4097 bytes)");

  v1::Sample nested = WithDetection(R"pb(id: "d1"
                                         label: "cat"
                                         bounding_box: [ 0, 0, 1, 1 ])pb");
  v1::AttributeValue* v = &(*DetectionOf(nested).mutable_attributes())["deep"];
  for (int depth = 0; depth < 5; ++depth) v = v->mutable_list_value()->add_values();
  EXPECT_INVALID(Labels({nested}), "samples[0].fields[0].value", "LABEL_ATTRIBUTE_INVALID",
                 "Sample 'a' field 'gt': label 'd1' attribute 'deep' has lists nested more than "
                 "4 deep");

  v1::Sample named = WithDetection(R"pb(id: "d1"
                                        label: "cat"
                                        bounding_box: [ 0, 0, 1, 1 ])pb");
  (*DetectionOf(named).mutable_attributes())[std::string(300, 'a')].set_bool_value(true);
  EXPECT_INVALID(Labels({named}), "samples[0].fields[0].value", "LABEL_ATTRIBUTE_INVALID",
                 "Sample 'a' field 'gt': label 'd1' has attribute name '" + std::string(64, 'a') +
                     "\u2026(300 bytes)', longer than 256 bytes");
}

// --- coordinates ---

TEST(SampleValidatorTest, HugeBoxValueIsRejected) {
  EXPECT_INVALID(
      Labels({WithDetection(R"pb(id: "d1"
                                 label: "cat"
                                 bounding_box: [ 1e308, 0, 0.1, 0.1 ])pb")}),
      "samples[0].fields[0].value", "BOUNDING_BOX_OUT_OF_RANGE",
      "Sample 'a' field 'gt': detection 'd1' has bounding_box [1e+308, 0, 0.1, 0.1]: coordinates "
      "are relative to the image ([0, 1] inside it) and must lie within [-1, 2]");
  // A finite width that overflows x + w.
  EXPECT_INVALID(
      Labels({WithDetection(R"pb(id: "d1"
                                 label: "cat"
                                 bounding_box: [ 0.5, 0, 1e308, 0.1 ])pb")}),
      "samples[0].fields[0].value", "BOUNDING_BOX_OUT_OF_RANGE",
      "Sample 'a' field 'gt': detection 'd1' has bounding_box [0.5, 0, 1e+308, 0.1]: coordinates "
      "are relative to the image ([0, 1] inside it) and must lie within [-1, 2]");
}

TEST(SampleValidatorTest, PixelCoordinatesAreRejected) {
  EXPECT_INVALID(
      Labels({WithDetection(R"pb(id: "d1"
                                 label: "cat"
                                 bounding_box: [ 10, 20, 100, 50 ])pb")}),
      "samples[0].fields[0].value", "BOUNDING_BOX_OUT_OF_RANGE",
      "Sample 'a' field 'gt': detection 'd1' has bounding_box [10, 20, 100, 50]: coordinates are "
      "relative to the image ([0, 1] inside it) and must lie within [-1, 2]");
}

TEST(SampleValidatorTest, BoxWhollyOutsideTheImageIsRejected) {
  EXPECT_INVALID(
      Labels({WithDetection(R"pb(id: "d1"
                                 label: "cat"
                                 bounding_box: [ 1.2, 0.5, 0.3, 0.2 ])pb")}),
      "samples[0].fields[0].value", "BOUNDING_BOX_OUTSIDE_IMAGE",
      "Sample 'a' field 'gt': detection 'd1' has bounding_box [1.2, 0.5, 0.3, 0.2], which lies "
      "wholly outside the image");
  EXPECT_INVALID(
      Labels({WithDetection(R"pb(id: "d1"
                                 label: "cat"
                                 bounding_box: [ -0.5, -0.5, 0.4, 2 ])pb")}),
      "samples[0].fields[0].value", "BOUNDING_BOX_OUTSIDE_IMAGE",
      "Sample 'a' field 'gt': detection 'd1' has bounding_box [-0.5, -0.5, 0.4, 2], which lies "
      "wholly outside the image");
}

TEST(SampleValidatorTest, BoxPartlyOutsideOrOnTheEdgeIsAccepted) {
  for (const std::string box : {"[ -0.1, -0.1, 0.5, 0.5 ]", "[ 0.8, 0.8, 0.5, 0.5 ]",
                                "[ 1, 1, 0, 0 ]", "[ -1, -1, 3, 3 ]", "[ 0.5, 0.5, 0, 0 ]"}) {
    SCOPED_TRACE(box);
    EXPECT_TRUE(Labels({WithDetection(R"pb(id: "d1" label: "cat" bounding_box:)pb" + box)}).ok());
  }
}

TEST(SampleValidatorTest, PolylineCoordinatesAreChecked) {
  auto polyline = [](const std::string& points) {
    return ImageWith(
        "a", "lines",
        R"pb(polylines { polylines { id: "p1" label: "lane" points {)pb" + points + " } } }");
  };
  EXPECT_INVALID(Labels({polyline("points { x: 0 y: 0 } points { x: 3 y: 0.5 }")}),
                 "samples[0].fields[0].value", "POLYLINE_POINTS_OUT_OF_RANGE",
                 "Sample 'a' field 'lines': polyline 'p1' has point (3, 0.5): coordinates are "
                 "relative to the image ([0, 1] inside it) and must lie within [-1, 2]");
  EXPECT_INVALID(Labels({polyline("points { x: 1.1 y: 0 } points { x: 1.5 y: 0.5 }")}),
                 "samples[0].fields[0].value", "POLYLINE_OUTSIDE_IMAGE",
                 "Sample 'a' field 'lines': polyline 'p1' lies wholly outside the image");
  // A shape around the image touches it although no vertex is inside.
  EXPECT_TRUE(Labels({polyline("points { x: -0.1 y: -0.1 } points { x: 1.1 y: 1.1 }")}).ok());
}

TEST(SampleValidatorTest, KeypointCoordinatesAreChecked) {
  auto keypoint = [](const std::string& points) {
    return ImageWith("a", "kps",
                     R"pb(keypoints { keypoints { id: "k1" label: "person")pb" + points + " } }");
  };
  EXPECT_INVALID(Labels({keypoint("points { x: 0.5 y: -7 }")}), "samples[0].fields[0].value",
                 "KEYPOINT_POINTS_OUT_OF_RANGE",
                 "Sample 'a' field 'kps': keypoint 'k1' has point (0.5, -7): coordinates are "
                 "relative to the image ([0, 1] inside it) and must lie within [-1, 2]");
  EXPECT_INVALID(Labels({keypoint("points { x: 1.5 y: 0.5 } points { x: nan y: nan }")}),
                 "samples[0].fields[0].value", "KEYPOINT_OUTSIDE_IMAGE",
                 "Sample 'a' field 'kps': keypoint 'k1' lies wholly outside the image");
  EXPECT_INVALID(Labels({keypoint("points { x: 0.5 y: 0.5 } confidence: inf")}),
                 "samples[0].fields[0].value", "KEYPOINT_CONFIDENCE_INVALID",
                 "Sample 'a' field 'kps': keypoint 'k1' has an infinite confidence");
  EXPECT_TRUE(Labels({keypoint("points { x: 1.5 y: 0.5 } points { x: 0.5 y: 0.5 }")}).ok());
  EXPECT_TRUE(Labels({keypoint("points { x: nan y: nan }")}).ok());
}

TEST(SampleValidatorTest, PolylineShapeAndPointCountsAreBounded) {
  v1::Sample s =
      ImageWith("a", "lines", R"pb(polylines { polylines { id: "p1" label: "lane" } })pb");
  auto* line = s.mutable_fields(0)->mutable_value()->mutable_polylines()->mutable_polylines(0);
  auto* shape = line->add_points();
  for (int i = 0; i < 65'537; ++i) {
    auto* p = shape->add_points();
    p->set_x(0.5);
    p->set_y(0.5);
  }
  EXPECT_INVALID(Labels({s}), "samples[0].fields[0].value", "POLYLINE_POINTS_INVALID",
                 "Sample 'a' field 'lines': polyline 'p1' has a shape of 65537 points; at most "
                 "65536 are allowed");
  shape->mutable_points()->DeleteSubrange(2, 65'535);
  for (int i = 0; i < 1'024; ++i) *line->add_points() = *shape;
  EXPECT_INVALID(Labels({s}), "samples[0].fields[0].value", "POLYLINE_POINTS_INVALID",
                 "Sample 'a' field 'lines': polyline 'p1' has 1025 shapes; at most 1024 are "
                 "allowed");
}

// --- batches ---

TEST(SampleValidatorTest, BatchErrorsNameRunPositions) {
  v1::MediaType media_type = v1::MEDIA_TYPE_IMAGE;
  v1::Sample bad = Image("x");
  bad.mutable_media()->set_path("relative.png");
  EXPECT_INVALID(ValidateSampleMediaBatch({Image("a"), bad}, 1000, v1::DarwinOptions(), media_type),
                 "samples[1001].media.path", "MEDIA_PATH_INVALID",
                 "Sample 'x': media path must be absolute");
  EXPECT_INVALID(ValidateSampleMediaBatch({Video("v", 3)}, 5, v1::DarwinOptions(), media_type),
                 "samples[5].media_type", "MEDIA_TYPE_MIXED",
                 "Sample 'v': all samples of a run must have the same media type (mixed image "
                 "and video collections are not supported)");
}

TEST(SampleValidatorTest, BatchLabelIdsAreReturnedInOrder) {
  std::vector<std::string> ids;
  ASSERT_TRUE(ValidateSampleLabelsBatch(
                  {ImageWith("a", "cls", R"pb(classification { id: "l1" label: "x" })pb"),
                   ImageWith("b", "gt", R"pb(detections {
                                               detections {
                                                 id: "l2"
                                                 label: "cat"
                                                 bounding_box: [ 0, 0, 1, 1 ]
                                               }
                                             })pb")},
                  0, kImageSchema, &ids)
                  .ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"l1", "l2"}));
}

TEST(SampleValidatorTest, DuplicateErrorsOfLaterBatchesMatchTheInBatchOnes) {
  const std::vector<v1::Sample> batch = {Image("a"),
                                         ImageWith("b", "gt", R"pb(detections {
                                                                     detections {
                                                                       id: "l1"
                                                                       label: "cat"
                                                                       bounding_box: [ 0, 0, 1, 1 ]
                                                                     }
                                                                   })pb")};
  EXPECT_INVALID(DuplicateSampleIdError(batch, 2000, "b"), "samples[2001].id",
                 "SAMPLE_ID_DUPLICATE", "Sample id 'b' appears more than once in the run");
  EXPECT_INVALID(DuplicateLabelIdError(batch, 2000, "l1"), "samples[2001].fields[0].value",
                 "LABEL_ID_DUPLICATE",
                 "Sample 'b' field 'gt': label id 'l1' appears more than once in the run");
}

// --- frames ---

const v1::LabelSchema kVideoSchema = Schema(R"pb(
  fields { field: "frames.dets" type: "detections" existing_field: true }
)pb");

v1::Sample VideoWithFrames(const std::string& id, int frame_count,
                           const std::vector<int>& frame_numbers) {
  v1::Sample s = Video(id, frame_count);
  auto* sf = s.add_fields();
  sf->set_field("frames.dets");
  int n = 0;
  for (int number : frame_numbers) {
    auto* fr = sf->add_frames();
    fr->set_frame_number(number);
    auto* d = fr->mutable_value()->mutable_detections()->add_detections();
    d->set_id(id + "-d" + std::to_string(n++));
    d->set_label("car");
    for (double v : {0.0, 0.0, 1.0, 1.0}) d->add_bounding_box(v);
  }
  return s;
}

TEST(SampleValidatorTest, FrameLabelsAreAccepted) {
  EXPECT_TRUE(Labels({VideoWithFrames("v", 10, {1, 5, 10})}, kVideoSchema).ok());
  EXPECT_TRUE(Labels({VideoWithFrames("v", 0, {1, 500})}, kVideoSchema).ok());
}

TEST(SampleValidatorTest, FrameNumberBelowOneIsRejected) {
  EXPECT_INVALID(Labels({VideoWithFrames("v", 10, {1, 0})}, kVideoSchema),
                 "samples[0].fields[0].frames[1].frame_number", "FRAME_NUMBER_INVALID",
                 "Sample 'v' field 'frames.dets': frame number 0 is outside 1..10");
  EXPECT_INVALID(Labels({VideoWithFrames("v", 0, {-3})}, kVideoSchema),
                 "samples[0].fields[0].frames[0].frame_number", "FRAME_NUMBER_INVALID",
                 "Sample 'v' field 'frames.dets': frame number -3 is outside 1..N");
}

TEST(SampleValidatorTest, FrameNumberAboveFrameCountIsRejected) {
  EXPECT_INVALID(Labels({VideoWithFrames("v", 10, {11})}, kVideoSchema),
                 "samples[0].fields[0].frames[0].frame_number", "FRAME_NUMBER_INVALID",
                 "Sample 'v' field 'frames.dets': frame number 11 is outside 1..10");
}

TEST(SampleValidatorTest, DuplicateFrameIsRejected) {
  EXPECT_INVALID(Labels({VideoWithFrames("v", 10, {3, 4, 3})}, kVideoSchema),
                 "samples[0].fields[0].frames[2].frame_number", "FRAME_DUPLICATE",
                 "Sample 'v' field 'frames.dets': frame 3 appears twice");
}

TEST(SampleValidatorTest, FrameValueTypeMismatchIsRejected) {
  v1::Sample s = VideoWithFrames("v", 10, {2});
  *s.mutable_fields(0)->mutable_frames(0)->mutable_value() =
      Parse<v1::FieldValue>(R"pb(classification { id: "c1" label: "x" })pb");
  EXPECT_INVALID(Labels({s}, kVideoSchema), "samples[0].fields[0].frames[0].value",
                 "FIELD_VALUE_TYPE_MISMATCH",
                 "Sample 'v' field 'frames.dets' holds Classification, but the field's type "
                 "'detections' needs Detections");
}

v1::Sample VideoWithIdlessFrameLabel() {
  v1::Sample s = VideoWithFrames("v", 10, {2});
  s.mutable_fields(0)
      ->mutable_frames(0)
      ->mutable_value()
      ->mutable_detections()
      ->mutable_detections(0)
      ->clear_id();
  return s;
}

TEST(SampleValidatorTest, MalformedFrameLabelIsRejected) {
  const absl::Status status = Labels({VideoWithIdlessFrameLabel()}, kVideoSchema);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "Sample 'v' field 'frames.dets': every label needs an id");
  EXPECT_EQ(common::ErrorReason(status), "LABEL_ID_REQUIRED");
}

// Regression test (found by this suite, fixed in service/core).
TEST(SampleValidatorTest, MalformedFrameLabelNamesFrameValuePath) {
  EXPECT_INVALID(Labels({VideoWithIdlessFrameLabel()}, kVideoSchema),
                 "samples[0].fields[0].frames[0].value", "LABEL_ID_REQUIRED",
                 "Sample 'v' field 'frames.dets': every label needs an id");
}

TEST(SampleValidatorTest, SampleLevelValueOnFrameFieldIsRejected) {
  v1::Sample s = VideoWithFrames("v", 10, {});
  *s.mutable_fields(0)->mutable_value() = Parse<v1::FieldValue>(R"pb(detections {})pb");
  EXPECT_INVALID(Labels({s}, kVideoSchema), "samples[0].fields[0].value", "FRAME_FIELD_VALUE",
                 "Sample 'v': frame-level field 'frames.dets' takes labels per frame, not a "
                 "sample-level value");
}

TEST(SampleValidatorTest, FramesOnSampleLevelFieldAreRejected) {
  v1::Sample s = Image("a");
  auto* sf = s.add_fields();
  sf->set_field("gt");
  sf->add_frames()->set_frame_number(1);
  EXPECT_INVALID(Labels({s}), "samples[0].fields[0].frames", "SAMPLE_FIELD_FRAMES",
                 "Sample 'a': sample-level field 'gt' cannot carry per-frame labels");
}

TEST(SampleValidatorTest, FrameCountAndFrameIdsAreBounded) {
  std::vector<int> numbers;
  for (int i = 1; i <= 100'001; ++i) numbers.push_back(i);
  EXPECT_INVALID(Labels({VideoWithFrames("v", 0, numbers)}, kVideoSchema),
                 "samples[0].fields[0].frames", "TOO_MANY_FRAMES",
                 "Sample 'v' field 'frames.dets' has labels on 100001 frames; at most 100000 are "
                 "allowed");
  v1::Sample s = VideoWithFrames("v", 10, {1});
  s.mutable_fields(0)->mutable_frames(0)->set_frame_id(std::string(129, 'f'));
  EXPECT_INVALID(Labels({s}, kVideoSchema), "samples[0].fields[0].frames[0].frame_id",
                 "FRAME_ID_INVALID",
                 "Sample 'v' field 'frames.dets': frame id '" + std::string(64, 'f') +
                     "\u2026(129 bytes)' is longer than 128 bytes");
}

}  // namespace
}  // namespace labelport::core

namespace labelport::core {
namespace {

const v1::LabelSchema kMaskSchema = Schema(R"pb(
  fields { field: "seg" type: "segmentation" existing_field: true }
  fields { field: "gt" type: "instances" existing_field: true }
)pb");

TEST(SampleValidatorMaskTest, SegmentationMaskMustHoldItsPixels) {
  EXPECT_TRUE(Labels({ImageWith("a", "seg", R"pb(segmentation {
                                                   id: "s1"
                                                   width: 2
                                                   height: 1
                                                   bytes_per_pixel: 2
                                                   mask: "\001\000\002\000"
                                                 })pb")},
                     kMaskSchema)
                  .ok());
  EXPECT_INVALID(Labels({ImageWith("a", "seg", R"pb(segmentation {
                                                      id: "s1"
                                                      width: 2
                                                      height: 2
                                                      bytes_per_pixel: 1
                                                      mask: "\001\000\002"
                                                    })pb")},
                        kMaskSchema),
                 "samples[0].fields[0].value", "SEGMENTATION_MASK_INVALID",
                 "Sample 'a' field 'seg': segmentation 's1' has 3 mask bytes; 2x2 pixels of 1 "
                 "bytes need 4");
  EXPECT_INVALID(Labels({ImageWith("a", "seg", R"pb(segmentation {
                                                      id: "s1"
                                                      width: 1
                                                      height: 1
                                                      bytes_per_pixel: 3
                                                      mask: "\001\000\002"
                                                    })pb")},
                        kMaskSchema),
                 "samples[0].fields[0].value", "SEGMENTATION_MASK_INVALID",
                 "Sample 'a' field 'seg': segmentation 's1' has bytes_per_pixel 3; masks are 2-D "
                 "uint8 (1) or uint16 (2)");
}

TEST(SampleValidatorMaskTest, InstanceMaskMustHoldItsPixels) {
  EXPECT_INVALID(
      Labels({ImageWith("a", "gt",
                        testing::Detections({testing::MaskedBox("d1", "cat", 2, 2, "\001")}))},
             kMaskSchema),
      "samples[0].fields[0].value", "SEGMENTATION_MASK_INVALID",
      "Sample 'a' field 'gt': detection 'd1' has a 2x2 instance mask of 1 bytes; each "
      "side must be 1 to 16384 pixels, one byte per pixel");
}

}  // namespace
}  // namespace labelport::core
