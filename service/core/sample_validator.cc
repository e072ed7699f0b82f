#include "service/core/sample_validator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "service/common/errors.h"
#include "service/common/media_roots.h"
#include "service/common/status_macros.h"
#include "service/core/field_values.h"
#include "service/core/label_types.h"
#include "service/core/limits.h"

namespace labelport::core {
namespace {

using common::Excerpt;
using common::InvalidArgument;
using labelport::v1::FieldValue;
using labelport::v1::MediaReference;
using labelport::v1::Sample;

bool IsSha256Digest(absl::string_view digest) {
  if (!absl::ConsumePrefix(&digest, "sha256:") || digest.size() != 64) return false;
  for (char c : digest) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

std::string SamplePath(size_t i) { return absl::StrCat("samples[", i, "]"); }

absl::Status ValidateMedia(const Sample& s, size_t i, const labelport::v1::DarwinOptions& darwin,
                           const std::vector<std::string>* media_roots) {
  const std::string path = absl::StrCat(SamplePath(i), ".media");
  const MediaReference& m = s.media();
  auto bad = [&](absl::string_view sub, absl::string_view reason, absl::string_view rule) {
    return InvalidArgument(absl::StrCat(path, sub), reason,
                           absl::StrFormat("Sample '%s': %s", s.id(), rule));
  };
  switch (m.source_case()) {
    case MediaReference::kPath:
      if (!absl::StartsWith(m.path(), "/"))
        return bad(".path", "MEDIA_PATH_INVALID", "media path must be absolute");
      if (m.path().size() > kMaxPathLength)
        return bad(".path", "MEDIA_PATH_INVALID", "media path is longer than 4096 characters");
      if (media_roots != nullptr) {
        if (auto root = common::MatchMediaRoot(m.path(), *media_roots); !root.ok())
          return common::WithDetails(
              absl::Status(root.status().code(),
                           absl::StrFormat("Sample '%s': %s", s.id(), root.status().message())),
              absl::StrCat(path, ".path"), common::kMediaPathNotAllowedReason);
      }
      break;
    case MediaReference::kUrl:
      if (!absl::StartsWith(m.url(), "http://") && !absl::StartsWith(m.url(), "https://"))
        return bad(".url", "MEDIA_URL_INVALID", "media URL must start with http:// or https://");
      if (m.url().size() > kMaxPathLength)
        return bad(".url", "MEDIA_URL_INVALID", "media URL is longer than 4096 characters");
      break;
    case MediaReference::kStorage:
      if (m.storage().storage_slug().size() > kMaxNameLength)
        return bad(".storage.storage_slug", "MEDIA_STORAGE_INVALID",
                   absl::StrFormat("storage_slug is longer than %d bytes (%d bytes)",
                                   kMaxNameLength, m.storage().storage_slug().size()));
      if (m.storage().storage_key().size() > kMaxPathLength)
        return bad(".storage.storage_key", "MEDIA_STORAGE_INVALID",
                   absl::StrFormat("storage_key is longer than %d bytes (%d bytes)", kMaxPathLength,
                                   m.storage().storage_key().size()));
      if (m.storage().storage_key().empty())
        return bad(".storage.storage_key", "MEDIA_STORAGE_INVALID",
                   "external storage reference needs a storage_key");
      if (m.storage().storage_slug().empty() && darwin.external_storage().empty())
        return bad(".storage.storage_slug", "MEDIA_STORAGE_INVALID",
                   "external storage reference needs a storage_slug (or the run's "
                   "darwin.external_storage)");
      if (absl::StrContains(m.storage().storage_key(), "://"))
        return bad(".storage.storage_key", "MEDIA_STORAGE_INVALID",
                   "storage_key is the object key inside the storage, without scheme or "
                   "bucket");
      break;
    case MediaReference::kContentDigest:
      if (!IsSha256Digest(m.content_digest()))
        return bad(".content_digest", "MEDIA_DIGEST_INVALID",
                   "content_digest must be 'sha256:' followed by 64 lowercase hex digits");
      if (m.file_name().empty())
        return bad(".file_name", "MEDIA_FILE_NAME_REQUIRED",
                   "media given by content_digest needs a file_name");
      break;
    case MediaReference::SOURCE_NOT_SET:
      return bad("", "MEDIA_REQUIRED",
                 "a media reference (path, url, storage or content_digest) is required");
  }
  if (absl::StrContains(m.file_name(), "/"))
    return bad(".file_name", "MEDIA_FILE_NAME_INVALID", "file_name must not contain '/'");
  if (m.file_name().size() > kMaxNameLength)
    return bad(".file_name", "MEDIA_FILE_NAME_INVALID",
               absl::StrFormat("file_name is longer than %d bytes (%d bytes)", kMaxNameLength,
                               m.file_name().size()));
  return absl::OkStatus();
}

bool Finite(double v) { return std::isfinite(v); }

// Whether every coordinate lies within kCoordinateSlack of the image.
bool InRange(double v) { return v >= -kCoordinateSlack && v <= 1 + kCoordinateSlack; }

// The extent of a label's points, to tell whether it touches the image.
struct Extent {
  static constexpr double kInf = std::numeric_limits<double>::infinity();
  double min_x = kInf, min_y = kInf, max_x = -kInf, max_y = -kInf;
  void Add(double x, double y) {
    min_x = std::min(min_x, x);
    min_y = std::min(min_y, y);
    max_x = std::max(max_x, x);
    max_y = std::max(max_y, y);
  }
  // The closed unit square and the extent share a point. False when empty.
  bool TouchesImage() const { return min_x <= 1 && min_y <= 1 && max_x >= 0 && max_y >= 0; }
};

std::string PointText(double x, double y) { return absl::StrCat("(", x, ", ", y, ")"); }

constexpr absl::string_view kRangeRule =
    "coordinates are relative to the image ([0, 1] inside it) and must lie within [-1, 2]";

class LabelChecker {
 public:
  explicit LabelChecker(absl::flat_hash_set<std::string>* ids, std::vector<std::string>* out_ids)
      : ids_(ids), out_ids_(out_ids) {}

  absl::Status Check(const FieldValue& value, const std::string& path, const Sample& s,
                     const std::string& field) {
    path_ = path;
    sample_ = &s;
    field_ = &field;
    count_ = 0;
    switch (value.value_case()) {
      case FieldValue::kClassification:
        return Common(value.classification());
      case FieldValue::kClassifications:
        for (const auto& c : value.classifications().classifications())
          LP_RETURN_IF_ERROR(Common(c));
        return absl::OkStatus();
      case FieldValue::kDetection:
        return CheckDetection(value.detection());
      case FieldValue::kDetections:
        for (const auto& d : value.detections().detections()) LP_RETURN_IF_ERROR(CheckDetection(d));
        return absl::OkStatus();
      case FieldValue::kPolyline:
        return CheckPolyline(value.polyline());
      case FieldValue::kPolylines:
        for (const auto& p : value.polylines().polylines()) LP_RETURN_IF_ERROR(CheckPolyline(p));
        return absl::OkStatus();
      case FieldValue::kKeypoint:
        return CheckKeypoint(value.keypoint());
      case FieldValue::kKeypoints:
        for (const auto& k : value.keypoints().keypoints()) LP_RETURN_IF_ERROR(CheckKeypoint(k));
        return absl::OkStatus();
      case FieldValue::kSegmentation:
        return CheckSegmentation(value.segmentation());
      case FieldValue::VALUE_NOT_SET:
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Bad(absl::string_view reason, absl::string_view rule) {
    return InvalidArgument(
        path_, reason, absl::StrFormat("Sample '%s' field '%s': %s", sample_->id(), *field_, rule));
  }

  template <typename L>
  absl::Status Common(const L& l) {
    if (++count_ > kMaxLabelsPerSample)
      return Bad(
          "TOO_MANY_LABELS",
          absl::StrFormat("more than %d labels in one field of one sample", kMaxLabelsPerSample));
    if (l.id().empty()) return Bad("LABEL_ID_REQUIRED", "every label needs an id");
    if (l.id().size() > kMaxIdLength)
      return Bad("LABEL_ID_INVALID", absl::StrFormat("label id '%s' is longer than %d bytes",
                                                     Excerpt(l.id()), kMaxIdLength));
    if (!ids_->insert(l.id()).second)
      return Bad("LABEL_ID_DUPLICATE",
                 absl::StrCat("label id '", l.id(), "' appears more than once in the run"));
    if (out_ids_ != nullptr) out_ids_->push_back(l.id());
    if (l.label().empty())
      return Bad("LABEL_CLASS_REQUIRED", absl::StrCat("label '", l.id(), "' has no class"));
    if (l.label().size() > kMaxNameLength)
      return Bad("LABEL_CLASS_INVALID",
                 absl::StrFormat("label '%s' has class '%s', longer than %d bytes", l.id(),
                                 Excerpt(l.label()), kMaxNameLength));
    if constexpr (!std::is_same_v<L, labelport::v1::Keypoint>) {
      if (l.has_confidence() && !Finite(l.confidence()))
        return Bad("LABEL_CONFIDENCE_INVALID",
                   absl::StrCat("label '", l.id(), "' has a non-finite confidence"));
    }
    if (static_cast<size_t>(l.tags_size()) > kMaxTagsPerLabel)
      return Bad("LABEL_TAGS_INVALID",
                 absl::StrFormat("label '%s' has %d tags; at most %d are allowed", l.id(),
                                 l.tags_size(), kMaxTagsPerLabel));
    for (const auto& tag : l.tags()) {
      if (tag.size() > kMaxNameLength)
        return Bad("LABEL_TAGS_INVALID",
                   absl::StrFormat("label '%s' has tag '%s', longer than %d bytes", l.id(),
                                   Excerpt(tag), kMaxNameLength));
    }
    if (l.attributes_size() > static_cast<int>(kMaxAttributesPerField))
      return Bad("LABEL_ATTRIBUTE_INVALID",
                 absl::StrFormat("label '%s' has %d attributes; at most %d are allowed", l.id(),
                                 l.attributes_size(), kMaxAttributesPerField));
    for (const auto& [name, value] : l.attributes()) {
      if (name.size() > kMaxNameLength)
        return Bad("LABEL_ATTRIBUTE_INVALID",
                   absl::StrFormat("label '%s' has attribute name '%s', longer than %d bytes",
                                   l.id(), Excerpt(name), kMaxNameLength));
      const std::string problem = AttributeValueProblem(value);
      if (!problem.empty())
        return Bad("LABEL_ATTRIBUTE_INVALID",
                   absl::StrFormat("label '%s' attribute '%s' has %s", l.id(), name, problem));
    }
    return absl::OkStatus();
  }

  absl::Status CheckSegmentation(const labelport::v1::Segmentation& m) {
    if (m.id().empty()) return Bad("LABEL_ID_REQUIRED", "every label needs an id");
    if (m.id().size() > kMaxIdLength)
      return Bad("LABEL_ID_INVALID", absl::StrFormat("label id '%s' is longer than %d bytes",
                                                     Excerpt(m.id()), kMaxIdLength));
    if (!ids_->insert(m.id()).second)
      return Bad("LABEL_ID_DUPLICATE",
                 absl::StrCat("label id '", m.id(), "' appears more than once in the run"));
    if (out_ids_ != nullptr) out_ids_->push_back(m.id());
    if (m.bytes_per_pixel() != 1 && m.bytes_per_pixel() != 2)
      return Bad("SEGMENTATION_MASK_INVALID",
                 absl::StrFormat("segmentation '%s' has bytes_per_pixel %d; masks are 2-D uint8 "
                                 "(1) or uint16 (2)",
                                 m.id(), m.bytes_per_pixel()));
    if (m.width() == 0 || m.height() == 0 || m.width() > kMaxMaskSide || m.height() > kMaxMaskSide)
      return Bad("SEGMENTATION_MASK_INVALID",
                 absl::StrFormat("segmentation '%s' is %dx%d; each side must be 1 to %d pixels",
                                 m.id(), m.width(), m.height(), kMaxMaskSide));
    const uint64_t want = uint64_t{m.width()} * m.height() * m.bytes_per_pixel();
    if (m.mask().size() != want)
      return Bad("SEGMENTATION_MASK_INVALID",
                 absl::StrFormat("segmentation '%s' has %d mask bytes; %dx%d pixels of %d bytes "
                                 "need %d",
                                 m.id(), m.mask().size(), m.width(), m.height(),
                                 m.bytes_per_pixel(), want));
    return absl::OkStatus();
  }

  absl::Status CheckDetection(const labelport::v1::Detection& d) {
    LP_RETURN_IF_ERROR(Common(d));
    if (d.bounding_box_size() != 4)
      return Bad("BOUNDING_BOX_INVALID",
                 absl::StrCat("detection '", d.id(), "' needs a bounding_box of 4 numbers"));
    for (double v : d.bounding_box())
      if (!Finite(v))
        return Bad("BOUNDING_BOX_INVALID",
                   absl::StrCat("detection '", d.id(), "' has a non-finite bounding_box"));
    if (d.has_instance_mask()) {
      const labelport::v1::InstanceMask& m = d.instance_mask();
      if (m.width() == 0 || m.height() == 0 || m.width() > kMaxMaskSide ||
          m.height() > kMaxMaskSide || m.mask().size() != uint64_t{m.width()} * m.height())
        return Bad("SEGMENTATION_MASK_INVALID",
                   absl::StrFormat("detection '%s' has a %dx%d instance mask of %d bytes; each "
                                   "side must be 1 to %d pixels, one byte per pixel",
                                   d.id(), m.width(), m.height(), m.mask().size(), kMaxMaskSide));
    }
    const double x = d.bounding_box(0), y = d.bounding_box(1);
    const double w = d.bounding_box(2), h = d.bounding_box(3);
    if (w < 0 || h < 0)
      return Bad("BOUNDING_BOX_INVALID",
                 absl::StrCat("detection '", d.id(), "' has a negative width or height"));
    const std::string box = absl::StrCat("[", x, ", ", y, ", ", w, ", ", h, "]");
    if (!InRange(x) || !InRange(y) || !InRange(x + w) || !InRange(y + h))
      return Bad("BOUNDING_BOX_OUT_OF_RANGE",
                 absl::StrCat("detection '", d.id(), "' has bounding_box ", box, ": ", kRangeRule));
    Extent extent;
    extent.Add(x, y);
    extent.Add(x + w, y + h);
    if (!extent.TouchesImage())
      return Bad("BOUNDING_BOX_OUTSIDE_IMAGE",
                 absl::StrCat("detection '", d.id(), "' has bounding_box ", box,
                              ", which lies wholly outside the image"));
    return absl::OkStatus();
  }

  absl::Status CheckPolyline(const labelport::v1::Polyline& p) {
    LP_RETURN_IF_ERROR(Common(p));
    if (p.points_size() == 0)
      return Bad("POLYLINE_POINTS_INVALID", absl::StrCat("polyline '", p.id(), "' has no shape"));
    if (static_cast<size_t>(p.points_size()) > kMaxShapesPerPolyline)
      return Bad("POLYLINE_POINTS_INVALID",
                 absl::StrFormat("polyline '%s' has %d shapes; at most %d are allowed", p.id(),
                                 p.points_size(), kMaxShapesPerPolyline));
    Extent extent;
    for (const auto& shape : p.points()) {
      if (shape.points_size() < 2)
        return Bad("POLYLINE_POINTS_INVALID",
                   absl::StrCat("polyline '", p.id(), "' has a shape with fewer than 2 points"));
      if (static_cast<size_t>(shape.points_size()) > kMaxPointsPerShape)
        return Bad("POLYLINE_POINTS_INVALID",
                   absl::StrFormat("polyline '%s' has a shape of %d points; at most %d are "
                                   "allowed",
                                   p.id(), shape.points_size(), kMaxPointsPerShape));
      for (const auto& pt : shape.points()) {
        if (!Finite(pt.x()) || !Finite(pt.y()))
          return Bad("POLYLINE_POINTS_INVALID",
                     absl::StrCat("polyline '", p.id(), "' has a non-finite point"));
        if (!InRange(pt.x()) || !InRange(pt.y()))
          return Bad("POLYLINE_POINTS_OUT_OF_RANGE",
                     absl::StrCat("polyline '", p.id(), "' has point ", PointText(pt.x(), pt.y()),
                                  ": ", kRangeRule));
        extent.Add(pt.x(), pt.y());
      }
    }
    if (!extent.TouchesImage())
      return Bad("POLYLINE_OUTSIDE_IMAGE",
                 absl::StrCat("polyline '", p.id(), "' lies wholly outside the image"));
    return absl::OkStatus();
  }

  absl::Status CheckKeypoint(const labelport::v1::Keypoint& k) {
    LP_RETURN_IF_ERROR(Common(k));
    if (k.points_size() == 0)
      return Bad("KEYPOINT_POINTS_INVALID", absl::StrCat("keypoint '", k.id(), "' has no points"));
    if (static_cast<size_t>(k.points_size()) > kMaxPointsPerShape)
      return Bad("KEYPOINT_POINTS_INVALID",
                 absl::StrFormat("keypoint '%s' has %d points; at most %d are allowed", k.id(),
                                 k.points_size(), kMaxPointsPerShape));
    Extent extent;
    for (const auto& pt : k.points()) {
      // NaN marks a missing point; infinities are errors.
      if (std::isinf(pt.x()) || std::isinf(pt.y()))
        return Bad("KEYPOINT_POINTS_INVALID",
                   absl::StrCat("keypoint '", k.id(), "' has an infinite coordinate"));
      if (std::isnan(pt.x()) || std::isnan(pt.y())) continue;
      if (!InRange(pt.x()) || !InRange(pt.y()))
        return Bad("KEYPOINT_POINTS_OUT_OF_RANGE",
                   absl::StrCat("keypoint '", k.id(), "' has point ", PointText(pt.x(), pt.y()),
                                ": ", kRangeRule));
      extent.Add(pt.x(), pt.y());
    }
    // A keypoint whose points are all missing has no extent and is kept.
    if (extent.min_x <= extent.max_x && !extent.TouchesImage())
      return Bad("KEYPOINT_OUTSIDE_IMAGE",
                 absl::StrCat("keypoint '", k.id(), "' lies wholly outside the image"));
    if (k.confidence_size() != 0 && k.confidence_size() != k.points_size())
      return Bad("KEYPOINT_CONFIDENCE_INVALID",
                 absl::StrCat("keypoint '", k.id(), "' has ", k.confidence_size(),
                              " confidences for ", k.points_size(), " points"));
    for (double c : k.confidence()) {
      // NaN: no confidence (as for a missing point).
      if (std::isinf(c))
        return Bad("KEYPOINT_CONFIDENCE_INVALID",
                   absl::StrCat("keypoint '", k.id(), "' has an infinite confidence"));
    }
    return absl::OkStatus();
  }

  absl::flat_hash_set<std::string>* ids_;
  std::vector<std::string>* out_ids_;
  std::string path_;
  const Sample* sample_ = nullptr;
  const std::string* field_ = nullptr;
  size_t count_ = 0;
};

}  // namespace

absl::Status ValidateSampleMediaBatch(const std::vector<Sample>& batch, size_t first_index,
                                      const labelport::v1::DarwinOptions& darwin,
                                      labelport::v1::MediaType& media_type,
                                      const std::vector<std::string>* media_roots) {
  absl::flat_hash_set<absl::string_view> ids;
  for (size_t b = 0; b < batch.size(); ++b) {
    const Sample& s = batch[b];
    const size_t i = first_index + b;
    if (s.id().empty())
      return InvalidArgument(absl::StrCat(SamplePath(i), ".id"), "SAMPLE_ID_REQUIRED",
                             absl::StrFormat("Sample %d has no id", i));
    if (s.id().size() > kMaxIdLength)
      return InvalidArgument(absl::StrCat(SamplePath(i), ".id"), "SAMPLE_ID_INVALID",
                             absl::StrFormat("Sample %d has an id longer than 128 characters", i));
    if (!ids.insert(s.id()).second) return DuplicateSampleIdError(batch, first_index, s.id());
    if (s.media_type() != labelport::v1::MEDIA_TYPE_IMAGE &&
        s.media_type() != labelport::v1::MEDIA_TYPE_VIDEO)
      return InvalidArgument(
          absl::StrCat(SamplePath(i), ".media_type"), "MEDIA_TYPE_REQUIRED",
          absl::StrFormat("Sample '%s': media_type must be IMAGE or VIDEO", s.id()));
    if (media_type == labelport::v1::MEDIA_TYPE_UNSPECIFIED) {
      media_type = s.media_type();
    } else if (media_type != s.media_type()) {
      return InvalidArgument(
          absl::StrCat(SamplePath(i), ".media_type"), "MEDIA_TYPE_MIXED",
          absl::StrFormat("Sample '%s': all samples of a run must have the same media type "
                          "(mixed image and video collections are not supported)",
                          s.id()));
    }
    if (s.width() < 0 || s.height() < 0 || s.frame_count() < 0 || !Finite(s.frame_rate()) ||
        s.frame_rate() < 0)
      return InvalidArgument(SamplePath(i), "MEDIA_SIZE_INVALID",
                             absl::StrFormat("Sample '%s': width, height, frame_count and "
                                             "frame_rate must not be negative",
                                             s.id()));
    LP_RETURN_IF_ERROR(ValidateMedia(s, i, darwin, media_roots));
  }
  return absl::OkStatus();
}

absl::StatusOr<labelport::v1::MediaType> ValidateSampleMedia(
    const std::vector<Sample>& samples, const labelport::v1::DarwinOptions& darwin,
    const std::vector<std::string>* media_roots) {
  labelport::v1::MediaType media_type = labelport::v1::MEDIA_TYPE_UNSPECIFIED;
  LP_RETURN_IF_ERROR(ValidateSampleMediaBatch(samples, 0, darwin, media_type, media_roots));
  return media_type;
}

absl::Status DuplicateSampleIdError(const std::vector<Sample>& batch, size_t first_index,
                                    absl::string_view sample_id) {
  // The second occurrence when the batch holds the id twice, else the first.
  size_t at = batch.size();
  int seen = 0;
  for (size_t b = 0; b < batch.size(); ++b) {
    if (batch[b].id() != sample_id) continue;
    at = b;
    if (++seen == 2) break;
  }
  const std::string path = at < batch.size() ? absl::StrCat(SamplePath(first_index + at), ".id")
                                             : std::string("samples");
  // The id passed validation (it is at most kMaxIdLength bytes).
  return InvalidArgument(
      path, "SAMPLE_ID_DUPLICATE",
      absl::StrCat("Sample id '", sample_id, "' appears more than once in the run"));
}

absl::Status ValidateSampleLabelsBatch(const std::vector<Sample>& batch, size_t first_index,
                                       const labelport::v1::LabelSchema& schema,
                                       std::vector<std::string>* label_ids) {
  absl::flat_hash_map<std::string, const labelport::v1::FieldSchema*> fields;
  for (const auto& f : schema.fields()) fields.emplace(f.field(), &f);
  absl::flat_hash_set<std::string> batch_label_ids;
  LabelChecker checker(&batch_label_ids, label_ids);
  for (size_t b = 0; b < batch.size(); ++b) {
    const Sample& s = batch[b];
    const size_t i = first_index + b;
    absl::flat_hash_set<std::string> seen;
    for (int j = 0; j < s.fields_size(); ++j) {
      const auto& sf = s.fields(j);
      const std::string path = absl::StrCat(SamplePath(i), ".fields[", j, "]");
      auto it = fields.find(sf.field());
      if (it == fields.end())
        return InvalidArgument(absl::StrCat(path, ".field"), "SAMPLE_FIELD_NOT_IN_SCHEMA",
                               absl::StrFormat("Sample '%s' carries labels for field '%s', "
                                               "which is not in the label schema",
                                               s.id(), Excerpt(sf.field())));
      if (!seen.insert(sf.field()).second)
        return InvalidArgument(
            absl::StrCat(path, ".field"), "SAMPLE_FIELD_DUPLICATE",
            absl::StrFormat("Sample '%s' lists field '%s' twice", s.id(), sf.field()));
      const auto& fs = *it->second;
      const bool frame_field = IsFrameField(fs.field());
      const bool has_labels = sf.has_value() || sf.frames_size() > 0;
      if (!fs.existing_field() && has_labels)
        return InvalidArgument(absl::StrCat(path, ".field"), "NEW_FIELD_HAS_LABELS",
                               absl::StrFormat("Sample '%s' carries labels for field '%s', but "
                                               "the field is not listed in existing_fields",
                                               s.id(), sf.field()));
      const auto want = FieldValueCaseOf(fs.type());
      auto check_case = [&](const FieldValue& v, const std::string& vpath) -> absl::Status {
        if (v.value_case() == FieldValue::VALUE_NOT_SET || v.value_case() == want)
          return absl::OkStatus();
        return InvalidArgument(
            vpath, "FIELD_VALUE_TYPE_MISMATCH",
            absl::StrFormat("Sample '%s' field '%s' holds %s, but the field's type '%s' "
                            "needs %s",
                            s.id(), sf.field(), DocumentTypeName(v.value_case()), fs.type(),
                            DocumentTypeName(want)));
      };
      if (frame_field) {
        if (sf.has_value())
          return InvalidArgument(absl::StrCat(path, ".value"), "FRAME_FIELD_VALUE",
                                 absl::StrFormat("Sample '%s': frame-level field '%s' takes "
                                                 "labels per frame, not a sample-level value",
                                                 s.id(), sf.field()));
        if (static_cast<size_t>(sf.frames_size()) > kMaxFramesPerSample)
          return InvalidArgument(
              absl::StrCat(path, ".frames"), "TOO_MANY_FRAMES",
              absl::StrFormat("Sample '%s' field '%s' has labels on %d frames; at most %d are "
                              "allowed",
                              s.id(), sf.field(), sf.frames_size(), kMaxFramesPerSample));
        absl::flat_hash_set<int> frames;
        for (int k = 0; k < sf.frames_size(); ++k) {
          const auto& fr = sf.frames(k);
          const std::string fpath = absl::StrCat(path, ".frames[", k, "]");
          if (fr.frame_number() < 1 || (s.frame_count() > 0 && fr.frame_number() > s.frame_count()))
            return InvalidArgument(
                absl::StrCat(fpath, ".frame_number"), "FRAME_NUMBER_INVALID",
                absl::StrFormat("Sample '%s' field '%s': frame number %d is outside 1..%s", s.id(),
                                sf.field(), fr.frame_number(),
                                s.frame_count() > 0 ? absl::StrCat(s.frame_count()) : "N"));
          if (!frames.insert(fr.frame_number()).second)
            return InvalidArgument(absl::StrCat(fpath, ".frame_number"), "FRAME_DUPLICATE",
                                   absl::StrFormat("Sample '%s' field '%s': frame %d appears "
                                                   "twice",
                                                   s.id(), sf.field(), fr.frame_number()));
          if (fr.frame_id().size() > kMaxIdLength)
            return InvalidArgument(
                absl::StrCat(fpath, ".frame_id"), "FRAME_ID_INVALID",
                absl::StrFormat("Sample '%s' field '%s': frame id '%s' is "
                                "longer than %d bytes",
                                s.id(), sf.field(), Excerpt(fr.frame_id()), kMaxIdLength));
          LP_RETURN_IF_ERROR(check_case(fr.value(), absl::StrCat(fpath, ".value")));
          LP_RETURN_IF_ERROR(
              checker.Check(fr.value(), absl::StrCat(fpath, ".value"), s, sf.field()));
        }
      } else {
        if (sf.frames_size() > 0)
          return InvalidArgument(absl::StrCat(path, ".frames"), "SAMPLE_FIELD_FRAMES",
                                 absl::StrFormat("Sample '%s': sample-level field '%s' cannot "
                                                 "carry per-frame labels",
                                                 s.id(), sf.field()));
        LP_RETURN_IF_ERROR(check_case(sf.value(), absl::StrCat(path, ".value")));
        LP_RETURN_IF_ERROR(checker.Check(sf.value(), absl::StrCat(path, ".value"), s, sf.field()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSampleLabels(const std::vector<Sample>& samples,
                                  const labelport::v1::LabelSchema& schema) {
  return ValidateSampleLabelsBatch(samples, 0, schema);
}

absl::Status DuplicateLabelIdError(const std::vector<Sample>& batch, size_t first_index,
                                   absl::string_view label_id) {
  // The id passed validation (it is at most kMaxIdLength bytes).
  const std::string rule =
      absl::StrCat("label id '", label_id, "' appears more than once in the run");
  for (size_t b = 0; b < batch.size(); ++b) {
    const Sample& s = batch[b];
    for (int j = 0; j < s.fields_size(); ++j) {
      const auto& sf = s.fields(j);
      const std::string path = absl::StrCat(SamplePath(first_index + b), ".fields[", j, "]");
      auto error = [&](const std::string& value_path) {
        return InvalidArgument(
            value_path, "LABEL_ID_DUPLICATE",
            absl::StrFormat("Sample '%s' field '%s': %s", s.id(), sf.field(), rule));
      };
      auto holds = [&](const FieldValue& v) {
        for (const auto& label : LabelsOf(v))
          if (label.id == label_id) return true;
        return false;
      };
      if (sf.has_value() && holds(sf.value())) return error(absl::StrCat(path, ".value"));
      for (int k = 0; k < sf.frames_size(); ++k)
        if (holds(sf.frames(k).value())) return error(absl::StrCat(path, ".frames[", k, "].value"));
    }
  }
  return InvalidArgument("samples", "LABEL_ID_DUPLICATE", rule);
}

}  // namespace labelport::core
