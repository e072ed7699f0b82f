#include "service/core/field_values.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "service/common/errors.h"
#include "service/core/limits.h"

namespace labelport::core {
namespace {

using labelport::v1::FieldValue;

template <typename L>
LabelView ViewOf(const L& l) {
  LabelView view;
  view.id = l.id();
  view.label = l.label();
  view.attributes = &l.attributes();
  return view;
}

LabelView ViewOfDetection(const labelport::v1::Detection& d) {
  LabelView view = ViewOf(d);
  view.has_mask = d.has_mask();
  if (d.has_keyframe()) view.keyframe = d.keyframe();
  return view;
}

LabelView ViewOfPolyline(const labelport::v1::Polyline& p) {
  LabelView view = ViewOf(p);
  view.filled = p.filled();
  if (p.has_keyframe()) view.keyframe = p.keyframe();
  return view;
}

LabelView ViewOfKeypoint(const labelport::v1::Keypoint& k) {
  LabelView view = ViewOf(k);
  if (k.has_keyframe()) view.keyframe = k.keyframe();
  return view;
}

// Which labels a multi-candidate type keeps; nullopt keeps all.
std::optional<bool> WantMask(absl::string_view t) {
  if (t == "detection" || t == "detections") return false;
  if (t == "instance" || t == "instances") return true;
  return std::nullopt;
}
std::optional<bool> WantFilled(absl::string_view t) {
  if (t == "polygon" || t == "polygons") return true;
  if (t == "polyline" || t == "polylines") return false;
  return std::nullopt;
}

template <typename R, typename Pred>
void RemoveIf(R* repeated, Pred pred) {
  int kept = 0;
  for (int i = 0; i < repeated->size(); ++i) {
    if (pred(repeated->Get(i))) continue;
    if (kept != i) repeated->SwapElements(kept, i);
    ++kept;
  }
  while (repeated->size() > kept) repeated->RemoveLast();
}

}  // namespace

std::vector<LabelView> LabelsOf(const FieldValue& value) {
  std::vector<LabelView> out;
  switch (value.value_case()) {
    case FieldValue::kClassification:
      out.push_back(ViewOf(value.classification()));
      break;
    case FieldValue::kClassifications:
      for (const auto& c : value.classifications().classifications()) out.push_back(ViewOf(c));
      break;
    case FieldValue::kDetection:
      out.push_back(ViewOfDetection(value.detection()));
      break;
    case FieldValue::kDetections:
      for (const auto& d : value.detections().detections()) out.push_back(ViewOfDetection(d));
      break;
    case FieldValue::kPolyline:
      out.push_back(ViewOfPolyline(value.polyline()));
      break;
    case FieldValue::kPolylines:
      for (const auto& p : value.polylines().polylines()) out.push_back(ViewOfPolyline(p));
      break;
    case FieldValue::kKeypoint:
      out.push_back(ViewOfKeypoint(value.keypoint()));
      break;
    case FieldValue::kKeypoints:
      for (const auto& k : value.keypoints().keypoints()) out.push_back(ViewOfKeypoint(k));
      break;
    case FieldValue::kSegmentation: {
      LabelView view;  // A mask has no class and no attributes of the schema.
      view.id = value.segmentation().id();
      view.attributes = &value.segmentation().attributes();
      out.push_back(view);
      break;
    }
    case FieldValue::VALUE_NOT_SET:
      break;
  }
  return out;
}

void FilterForSchemaType(absl::string_view schema_type, FieldValue* value) {
  if (auto mask = WantMask(schema_type)) {
    const bool want = *mask;
    if (value->has_detection() && value->detection().has_mask() != want) {
      value->clear_value();
    } else if (value->has_detections()) {
      RemoveIf(value->mutable_detections()->mutable_detections(),
               [&](const auto& d) { return d.has_mask() != want; });
    }
  }
  if (auto filled = WantFilled(schema_type)) {
    const bool want = *filled;
    if (value->has_polyline() && value->polyline().filled() != want) {
      value->clear_value();
    } else if (value->has_polylines()) {
      RemoveIf(value->mutable_polylines()->mutable_polylines(),
               [&](const auto& p) { return p.filled() != want; });
    }
  }
}

std::string PyRepr(const labelport::v1::AttributeValue& value) {
  using V = labelport::v1::AttributeValue;
  switch (value.kind_case()) {
    case V::kNullValue:
      return "None";
    case V::kBoolValue:
      return value.bool_value() ? "True" : "False";
    case V::kIntValue:
      return absl::StrCat(value.int_value());
    case V::kDoubleValue: {
      // Python prints whole floats with ".0" (2.0), and inf/nan as inf/nan.
      const double d = value.double_value();
      if (std::isnan(d)) return "nan";
      if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
      std::string out = absl::StrCat(d);
      if (out.find_first_of(".e") == std::string::npos) out += ".0";
      return out;
    }
    case V::kStringValue:
      return absl::StrCat("'", common::Excerpt(value.string_value()), "'");
    case V::kListValue: {
      constexpr int kShown = 32;
      const auto& values = value.list_value().values();
      std::string out = "[";
      for (int i = 0; i < values.size() && i < kShown; ++i)
        absl::StrAppend(&out, i == 0 ? "" : ", ", PyRepr(values[i]));
      if (values.size() > kShown) absl::StrAppend(&out, ", ...(", values.size(), " values)");
      return absl::StrCat(out, "]");
    }
    case V::KIND_NOT_SET:
      break;
  }
  return "None";
}

namespace {

// AttributeValueProblem below `depth` levels of lists; `count` counts the
// list values seen so far.
std::string ValueProblem(const labelport::v1::AttributeValue& value, int depth, size_t& count) {
  if (value.has_string_value() && value.string_value().size() > kMaxTextLength)
    return absl::StrFormat("a string value longer than %d bytes (%d bytes)", kMaxTextLength,
                           value.string_value().size());
  if (!value.has_list_value()) return "";
  if (depth >= kMaxAttributeValueDepth)
    return absl::StrFormat("lists nested more than %d deep", kMaxAttributeValueDepth);
  count += static_cast<size_t>(value.list_value().values_size());
  if (count > kMaxValuesPerAttribute)
    return absl::StrFormat("more than %d list values", kMaxValuesPerAttribute);
  for (const auto& v : value.list_value().values()) {
    std::string problem = ValueProblem(v, depth + 1, count);
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace

std::string AttributeValueProblem(const labelport::v1::AttributeValue& value) {
  size_t count = 0;
  return ValueProblem(value, 0, count);
}

bool SameValue(const labelport::v1::AttributeValue& a, const labelport::v1::AttributeValue& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace labelport::core
