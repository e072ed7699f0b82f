#include "service/backend/darwin/annotation_encoder.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/backend/darwin/instance_mask.h"
#include "service/backend/darwin/raster_layer.h"
#include "service/backend/darwin/skeleton.h"
#include "service/common/sha256.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
namespace v1 = labelport::v1;
using labelport::internal::v1::AnnotationLink;

// V7 gets geometry inside the image: a coordinate a little outside [0, 1]
// (validation refuses far-out ones and labels wholly outside) is clamped
// to the image edge, as exports to CVAT and COCO clip boxes. The stored
// sample keeps the client's coordinates.
double Clamped(double relative) { return std::clamp(relative, 0.0, 1.0); }

json::object Point(double x, double y, const EncodeContext& c) {
  return json::object{{"x", Clamped(x) * c.width}, {"y", Clamped(y) * c.height}};
}

json::array Path(const v1::Shape& shape, const EncodeContext& c) {
  json::array path;
  for (const auto& p : shape.points()) path.emplace_back(Point(p.x(), p.y(), c));
  return path;
}

absl::Status Invalid(const EncodeContext& c, absl::string_view label_id, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat("Sample '%s' field '%s' label '%s': %s",
                                                    c.sample_id, c.field->field(), label_id, why));
}

// A confidence to send, if any (a plain struct: GCC 12 misreports
// std::optional<double> as maybe-uninitialized here).
struct Confidence {
  bool present = false;
  double value = 0;
};

template <typename L>
Confidence ConfidenceOf(const L& l) {
  return l.has_confidence() ? Confidence{true, l.confidence()} : Confidence{};
}

// Builds one annotation and its link; `data` holds the shape.
class Builder {
 public:
  explicit Builder(const EncodeContext& c) : c_(c) {}

  template <typename L>
  absl::Status Add(const L& label, json::object data, int part, int part_count,
                   Confidence confidence) {
    const std::string type = DarwinTypeOfField(*c_.field);
    auto class_id = c_.class_id(label.label(), type);
    if (!class_id.ok()) return class_id.status();
    if constexpr (!std::is_same_v<L, v1::Classification>) {
      if (label.has_index()) data["instance_id"] = json::object{{"value", label.index()}};
    }
    if (confidence.present) {
      data["inference"] =
          json::object{{"confidence", confidence.value},
                       {"model", json::object{{"id", "00000000-0000-4000-8000-000000000001"},
                                              {"name", "labelport"},
                                              {"type", "external"}}}};
    }
    json::object properties_by_frame;
    for (const auto& spec : AttributesFor(*c_.field, label.label())) {
      auto it = label.attributes().find(spec.name());
      if (it == label.attributes().end() || it->second.has_null_value() ||
          it->second.kind_case() == v1::AttributeValue::KIND_NOT_SET)
        continue;
      const v1::AttributeValue& value = it->second;
      if (spec.type() == "text") {
        if (!data.contains("text"))
          data["text"] =
              json::object{{"text", value.has_string_value() ? value.string_value()
                                                             : PropertyValueString(value)}};
        continue;
      }
      if (spec.type() != "single_select" && spec.type() != "multi_select") continue;
      auto property = c_.property(*class_id, spec.name());
      if (!property) continue;
      json::array value_ids;
      auto add_value = [&](const v1::AttributeValue& v) {
        auto vid = property->value_ids.find(PropertyValueString(v));
        if (vid != property->value_ids.end()) value_ids.emplace_back(vid->second);
      };
      if (value.has_list_value()) {
        for (const auto& v : value.list_value().values()) add_value(v);
      } else {
        add_value(value);
      }
      if (value_ids.empty()) continue;
      const std::string frame = property->granularity == "annotation" ? "global" : "0";
      if (!properties_by_frame.contains(frame)) properties_by_frame[frame] = json::object{};
      properties_by_frame[frame].as_object()[property->id] = std::move(value_ids);
    }

    const std::string id = DeterministicAnnotationId(c_.run_uid, label.id(), part);
    json::object annotation{
        {"id", id},
        {"annotation_class_id", *class_id},
        {"data", std::move(data)},
        {"context_keys", json::object{{"slot_names", json::array{c_.slot_name}}}}};
    if (!properties_by_frame.empty())
      annotation["annotation_properties"] = std::move(properties_by_frame);
    out_.annotations.emplace_back(std::move(annotation));

    AnnotationLink link;
    link.set_annotation_id(id);
    link.set_label_id(label.id());
    link.set_part(part);
    link.set_part_count(part_count);
    link.set_sample_id(c_.sample_id);
    link.set_field(c_.field->field());
    link.set_item_id(c_.item_id);
    out_.links.push_back(std::move(link));
    return absl::OkStatus();
  }

  absl::Status Classification(const v1::Classification& l) {
    return Add(l, json::object{{"tag", json::object{}}}, 0, 1, ConfidenceOf(l));
  }

  absl::Status Detection(const v1::Detection& l) {
    if (l.bounding_box_size() != 4) return Invalid(c_, l.id(), "bounding_box needs 4 numbers");
    if (DarwinTypeOf(c_.field->type()) == "polygon") {  // An instance: its traced mask.
      const PixelPaths paths = InstancePolygon(l, c_.width, c_.height);
      auto path = [](const std::vector<PixelPoint>& points) {
        json::array out;
        for (const auto& p : points) out.emplace_back(json::object{{"x", p.x}, {"y", p.y}});
        return out;
      };
      json::object polygon{{"path", path(paths.front())}};
      if (paths.size() > 1) {
        json::array more;
        for (size_t i = 1; i < paths.size(); ++i) more.emplace_back(path(paths[i]));
        polygon["additional_paths"] = std::move(more);
      }
      return Add(l, json::object{{"polygon", std::move(polygon)}}, 0, 1, ConfidenceOf(l));
    }
    // The box clipped to the image: its intersection with [0, 1] x [0, 1].
    const double x0 = Clamped(l.bounding_box(0));
    const double y0 = Clamped(l.bounding_box(1));
    const double x1 = Clamped(l.bounding_box(0) + l.bounding_box(2));
    const double y1 = Clamped(l.bounding_box(1) + l.bounding_box(3));
    json::object box{{"x", x0 * c_.width},
                     {"y", y0 * c_.height},
                     {"w", std::max(0.0, x1 - x0) * c_.width},
                     {"h", std::max(0.0, y1 - y0) * c_.height}};
    return Add(l, json::object{{"bounding_box", std::move(box)}}, 0, 1, ConfidenceOf(l));
  }

  absl::Status Polyline(const v1::Polyline& l) {
    if (l.points_size() == 0) return Invalid(c_, l.id(), "polyline has no shapes");
    const Confidence conf = ConfidenceOf(l);
    if (DarwinTypeOf(c_.field->type()) == "polygon") {
      json::object polygon{{"path", Path(l.points(0), c_)}};
      if (l.points_size() > 1) {
        json::array more;
        for (int i = 1; i < l.points_size(); ++i) more.emplace_back(Path(l.points(i), c_));
        polygon["additional_paths"] = std::move(more);
      }
      return Add(l, json::object{{"polygon", std::move(polygon)}}, 0, 1, conf);
    }
    for (int i = 0; i < l.points_size(); ++i) {
      absl::Status s = Add(l, json::object{{"line", json::object{{"path", Path(l.points(i), c_)}}}},
                           i, l.points_size(), conf);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Keypoint(const v1::Keypoint& l) {
    if (DarwinTypeOfField(*c_.field) == "skeleton") {  // One skeleton per keypoint.
      return Add(
          l, json::object{{"skeleton", SkeletonBody(l, c_.field->skeleton(), c_.width, c_.height)}},
          0, 1, Confidence{});
    }
    for (int i = 0; i < l.points_size(); ++i) {
      const auto& p = l.points(i);
      if (std::isnan(p.x()) || std::isnan(p.y())) continue;
      Confidence conf;
      if (i < l.confidence_size() && !std::isnan(l.confidence(i))) conf = {true, l.confidence(i)};
      absl::Status s =
          Add(l, json::object{{"keypoint", Point(p.x(), p.y(), c_)}}, i, l.points_size(), conf);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  EncodedLabels Take() { return std::move(out_); }

 private:
  const EncodeContext& c_;
  EncodedLabels out_;
};

}  // namespace

std::string DarwinTypeOf(absl::string_view t) {
  if (t == "classification" || t == "classifications") return "tag";
  if (t == "detection" || t == "detections") return "bounding_box";
  if (t == "polygon" || t == "polygons" || t == "instance" || t == "instances") return "polygon";
  if (t == "polyline" || t == "polylines") return "line";
  if (t == "keypoint" || t == "keypoints") return "keypoint";
  if (t == "segmentation") return "mask";
  return "";
}

std::string DarwinTypeOfField(const labelport::v1::FieldSchema& field) {
  std::string type = DarwinTypeOf(field.type());
  if (type == "keypoint" && field.has_skeleton() && !absl::StartsWith(field.field(), "frames."))
    return "skeleton";
  return type;
}

std::vector<labelport::v1::AttributeSpec> AttributesFor(const labelport::v1::FieldSchema& field,
                                                        absl::string_view class_name) {
  // The class groups' attributes come first and win over field-level ones of
  // the same name (an existing field's inferred `text` attributes must not
  // shadow the group's typed ones, e.g. a single_select "color").
  std::vector<labelport::v1::AttributeSpec> out;
  std::set<std::string> names;
  for (const auto& entry : field.classes().entries()) {
    if (!entry.has_group()) continue;
    bool member = false;
    for (const auto& n : entry.group().classes().names()) member = member || n == class_name;
    if (!member) continue;
    for (const auto& s : entry.group().attributes().specs().specs())
      if (names.insert(s.name()).second) out.push_back(s);
  }
  for (const auto& s : field.attributes().specs().specs())
    if (names.insert(s.name()).second) out.push_back(s);
  return out;
}

std::vector<std::string> DarwinSubTypesFor(const labelport::v1::FieldSchema& field,
                                           absl::string_view class_name) {
  std::vector<std::string> subtypes;
  const std::string type = DarwinTypeOfField(field);
  if (type != "tag" && type != "mask") subtypes.emplace_back("instance_id");
  for (const auto& spec : AttributesFor(field, class_name)) {
    if (spec.type() == "text") {
      subtypes.emplace_back("text");
      break;
    }
  }
  return subtypes;
}

std::string PropertyValueString(const labelport::v1::AttributeValue& value) {
  switch (value.kind_case()) {
    case v1::AttributeValue::kBoolValue:
      return value.bool_value() ? "true" : "false";
    case v1::AttributeValue::kIntValue:
      return absl::StrCat(value.int_value());
    case v1::AttributeValue::kDoubleValue:
      return absl::StrCat(value.double_value());
    case v1::AttributeValue::kStringValue:
      return value.string_value();
    default:
      return "";
  }
}

std::string DeterministicAnnotationId(absl::string_view run_uid, absl::string_view label_id,
                                      int part) {
  auto digest = common::Sha256(absl::StrCat(run_uid, "/", label_id, "/", part));
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x40);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
    absl::StrAppend(&hex, absl::Hex(digest[i], absl::kZeroPad2));
  }
  return hex;
}

absl::StatusOr<EncodedLabels> EncodeFieldValue(const labelport::v1::FieldValue& value,
                                               const EncodeContext& c) {
  if (c.width <= 0 || c.height <= 0)
    return absl::FailedPreconditionError(absl::StrFormat(
        "Sample '%s': V7 reported no image size for item '%s'", c.sample_id, c.item_id));
  Builder b(c);
  absl::Status status;
  switch (value.value_case()) {
    case v1::FieldValue::kClassification:
      status = b.Classification(value.classification());
      break;
    case v1::FieldValue::kClassifications:
      for (const auto& l : value.classifications().classifications())
        if (status.ok()) status = b.Classification(l);
      break;
    case v1::FieldValue::kDetection:
      status = b.Detection(value.detection());
      break;
    case v1::FieldValue::kDetections:
      for (const auto& l : value.detections().detections())
        if (status.ok()) status = b.Detection(l);
      break;
    case v1::FieldValue::kPolyline:
      status = b.Polyline(value.polyline());
      break;
    case v1::FieldValue::kPolylines:
      for (const auto& l : value.polylines().polylines())
        if (status.ok()) status = b.Polyline(l);
      break;
    case v1::FieldValue::kKeypoint:
      status = b.Keypoint(value.keypoint());
      break;
    case v1::FieldValue::kKeypoints:
      for (const auto& l : value.keypoints().keypoints())
        if (status.ok()) status = b.Keypoint(l);
      break;
    case v1::FieldValue::kSegmentation:
      return EncodeSegmentation(value.segmentation(), c);
    case v1::FieldValue::VALUE_NOT_SET:
      break;
  }
  if (!status.ok()) return status;
  return b.Take();
}

namespace {

// One label of a frame, as a single-label FieldValue, with what groups it
// into a track.
struct FrameLabel {
  int32_t frame_number = 0;
  std::string label_id;
  std::string class_name;
  std::optional<int64_t> index;
  bool keyframe = false;
  v1::FieldValue value;
};

template <typename L>
FrameLabel MakeFrameLabel(int32_t frame_number, const L& l,
                          void (*set)(v1::FieldValue*, const L&)) {
  FrameLabel f;
  f.frame_number = frame_number;
  f.label_id = l.id();
  f.class_name = l.label();
  if constexpr (!std::is_same_v<L, v1::Classification>) {
    if (l.has_index()) f.index = l.index();
    f.keyframe = l.has_keyframe() && l.keyframe();
  }
  set(&f.value, l);
  return f;
}

std::vector<FrameLabel> LabelsOfFrame(const v1::FrameFieldValue& frame) {
  std::vector<FrameLabel> out;
  const v1::FieldValue& v = frame.value();
  const int32_t n = frame.frame_number();
  auto cls =
      +[](v1::FieldValue* o, const v1::Classification& l) { *o->mutable_classification() = l; };
  auto det = +[](v1::FieldValue* o, const v1::Detection& l) { *o->mutable_detection() = l; };
  auto pol = +[](v1::FieldValue* o, const v1::Polyline& l) { *o->mutable_polyline() = l; };
  auto kpt = +[](v1::FieldValue* o, const v1::Keypoint& l) { *o->mutable_keypoint() = l; };
  switch (v.value_case()) {
    case v1::FieldValue::kClassification:
      out.push_back(MakeFrameLabel(n, v.classification(), cls));
      break;
    case v1::FieldValue::kClassifications:
      for (const auto& l : v.classifications().classifications())
        out.push_back(MakeFrameLabel(n, l, cls));
      break;
    case v1::FieldValue::kDetection:
      out.push_back(MakeFrameLabel(n, v.detection(), det));
      break;
    case v1::FieldValue::kDetections:
      for (const auto& l : v.detections().detections()) out.push_back(MakeFrameLabel(n, l, det));
      break;
    case v1::FieldValue::kPolyline:
      out.push_back(MakeFrameLabel(n, v.polyline(), pol));
      break;
    case v1::FieldValue::kPolylines:
      for (const auto& l : v.polylines().polylines()) out.push_back(MakeFrameLabel(n, l, pol));
      break;
    case v1::FieldValue::kKeypoint:
      out.push_back(MakeFrameLabel(n, v.keypoint(), kpt));
      break;
    case v1::FieldValue::kKeypoints:
      for (const auto& l : v.keypoints().keypoints()) out.push_back(MakeFrameLabel(n, l, kpt));
      break;
    case v1::FieldValue::kSegmentation:  // Refused for frame fields by the schema.
    case v1::FieldValue::VALUE_NOT_SET:
      break;
  }
  return out;
}

// One encoded part of one frame's label.
struct FramePart {
  int32_t frame_number = 0;
  std::string label_id;
  bool keyframe = false;
  json::object data;
  json::object properties;  // annotation_properties of the image encoding
};

// The parts of one future V7 video annotation.
struct Track {
  std::string id;
  int64_t class_id = 0;
  int part = 0;
  int part_count = 1;
  std::optional<int64_t> index;
  bool is_track = false;  // labels sharing an index (else one label)
  json::value slot_names;
  std::vector<FramePart> frames;  // in frame order
};

}  // namespace

absl::StatusOr<EncodedLabels> EncodeFrameFieldValues(
    const google::protobuf::RepeatedPtrField<v1::FrameFieldValue>& frames, const EncodeContext& c,
    bool only_keyframes) {
  std::vector<const v1::FrameFieldValue*> ordered;
  for (const auto& f : frames) ordered.push_back(&f);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return a->frame_number() < b->frame_number();
  });
  std::vector<Track> tracks;
  std::map<std::string, size_t> track_by_key;
  for (const v1::FrameFieldValue* frame : ordered) {
    if (frame->frame_number() < 1)
      return absl::InvalidArgumentError(
          absl::StrFormat("Sample '%s' field '%s': frame number %d is not 1-based", c.sample_id,
                          c.field->field(), frame->frame_number()));
    for (FrameLabel& label : LabelsOfFrame(*frame)) {
      auto encoded = EncodeFieldValue(label.value, c);
      if (!encoded.ok()) return encoded.status();
      for (size_t k = 0; k < encoded->annotations.size(); ++k) {
        json::object& a = encoded->annotations[k].as_object();
        const AnnotationLink& link = encoded->links[k];
        // Track ids are unique per (sample, field, index, class): V7
        // annotation ids (and the run's links) are unique across items.
        std::string key = label.index ? absl::StrCat("track/", c.sample_id, "/", c.field->field(),
                                                     "/", *label.index, "/", label.class_name)
                                      : absl::StrCat("label/", label.label_id);
        std::string part_key = absl::StrCat(key, "#", link.part());
        auto it = track_by_key.find(part_key);
        // A second label of the same track on the same frame cannot share the
        // annotation: it becomes its own.
        if (it != track_by_key.end() &&
            tracks[it->second].frames.back().frame_number == label.frame_number) {
          key = absl::StrCat("label/", label.label_id);
          part_key = absl::StrCat(key, "#", link.part());
          it = track_by_key.find(part_key);
        }
        if (it == track_by_key.end()) {
          Track t;
          t.is_track = absl::StartsWith(key, "track/");
          t.id = t.is_track ? DeterministicAnnotationId(c.run_uid, key, link.part())
                            : a.at("id").as_string().c_str();
          t.class_id = a.at("annotation_class_id").to_number<int64_t>();
          t.part = link.part();
          t.part_count = link.part_count();
          t.index = label.index;
          t.slot_names = a.at("context_keys").as_object().at("slot_names");
          it = track_by_key.emplace(part_key, tracks.size()).first;
          tracks.push_back(std::move(t));
        }
        FramePart part;
        part.frame_number = label.frame_number;
        part.label_id = label.label_id;
        part.keyframe = label.keyframe;
        part.data = a.at("data").as_object();
        if (const json::value* props = a.if_contains("annotation_properties"))
          part.properties = props->as_object();
        tracks[it->second].frames.push_back(std::move(part));
      }
    }
  }

  EncodedLabels out;
  for (Track& t : tracks) {
    const int32_t first = t.frames.front().frame_number;
    const int32_t last = t.frames.back().frame_number;
    json::object frames_json;
    json::object properties;
    json::array hidden;
    AnnotationLink link;
    int32_t previous = first - 1;
    for (size_t k = 0; k < t.frames.size(); ++k) {
      FramePart& f = t.frames[k];
      if (f.frame_number > previous + 1)
        hidden.emplace_back(json::array{previous, f.frame_number - 2});  // 0-based, inclusive
      previous = f.frame_number;
      auto* fl = link.add_frames();
      fl->set_frame_number(f.frame_number);
      fl->set_label_id(f.label_id);
      const bool send = !only_keyframes || !t.is_track || k == 0 || f.keyframe;
      if (!send) continue;
      const std::string key = absl::StrCat(f.frame_number - 1);
      f.data["keyframe"] = true;
      frames_json[key] = std::move(f.data);
      for (auto& [frame_key, values] : f.properties) {
        const std::string target = frame_key == "global" ? "global" : key;
        if (!properties.contains(target)) properties[target] = json::object{};
        for (auto& [pid, v] : values.as_object()) properties[target].as_object()[pid] = v;
      }
    }
    // One [start, end) pair. Not `json::array{json::array{...}}`: compilers
    // differ on whether a braced list holding one array copies it (clang-14
    // gave [a, b] instead of [[a, b]]).
    json::array segments;
    segments.emplace_back(json::array{first - 1, last});
    json::object data{{"frames", std::move(frames_json)},
                      {"segments", std::move(segments)},
                      {"interpolated", true},
                      {"hidden_areas", std::move(hidden)}};
    json::object annotation{{"id", t.id},
                            {"annotation_class_id", t.class_id},
                            {"data", std::move(data)},
                            {"context_keys", json::object{{"slot_names", t.slot_names}}}};
    if (!properties.empty()) annotation["annotation_properties"] = std::move(properties);
    out.annotations.emplace_back(std::move(annotation));

    link.set_annotation_id(t.id);
    link.set_label_id(t.frames.front().label_id);
    link.set_part(t.part);
    link.set_part_count(t.part_count);
    link.set_sample_id(c.sample_id);
    link.set_field(c.field->field());
    link.set_frame_number(first);
    link.set_item_id(c.item_id);
    if (t.index) link.set_track_index(*t.index);
    out.links.push_back(std::move(link));
  }
  return out;
}

}  // namespace labelport::backend::darwin
