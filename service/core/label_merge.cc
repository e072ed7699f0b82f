#include "service/core/label_merge.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "google/protobuf/util/message_differencer.h"
#include "service/core/label_types.h"
#include "service/core/track_update.h"

namespace labelport::core {
namespace {

namespace v1 = labelport::v1;
using ValueCase = v1::FieldValue::ValueCase;

struct Flags {
  bool additions = true;
  bool deletions = true;
  bool label_edits = true;
  bool index_edits = true;
  bool spatial_edits = true;
  bool keyframes = false;
};

Flags FlagsOf(const v1::FieldSchema& f, bool as_new) {
  Flags flags;
  if (as_new) return flags;
  if (f.has_allow_additions()) flags.additions = f.allow_additions();
  if (f.has_allow_deletions()) flags.deletions = f.allow_deletions();
  if (f.has_allow_label_edits()) flags.label_edits = f.allow_label_edits();
  if (f.has_allow_index_edits()) flags.index_edits = f.allow_index_edits();
  if (f.has_allow_spatial_edits()) flags.spatial_edits = f.allow_spatial_edits();
  flags.keyframes = f.has_only_keyframes() && f.only_keyframes();
  return flags;
}

// The schema attributes (name → read_only) of labels of `class_name`.
std::map<std::string, bool> SchemaAttributes(const v1::FieldSchema& f,
                                             const std::string& class_name) {
  std::map<std::string, bool> out;
  for (const auto& s : f.attributes().specs().specs()) out[s.name()] = s.read_only();
  for (const auto& e : f.classes().entries()) {
    if (!e.has_group()) continue;
    bool member = false;
    for (const auto& n : e.group().classes().names()) member = member || n == class_name;
    if (!member) continue;
    for (const auto& s : e.group().attributes().specs().specs()) out[s.name()] = s.read_only();
  }
  return out;
}

template <typename L>
L MergeClassLabel(const L& existing, const L& down, const Flags& flags, const v1::FieldSchema& f);

template <typename L>
L MergeLabel(const L& existing, const L& down, const Flags& flags, const v1::FieldSchema& f) {
  if constexpr (std::is_same_v<L, v1::Segmentation>) {
    L out = existing;
    // A mask is replaced as a whole; its id, tags and attributes stay.
    if (flags.spatial_edits) {
      out.set_width(down.width());
      out.set_height(down.height());
      out.set_bytes_per_pixel(down.bytes_per_pixel());
      out.set_mask(down.mask());
    }
    return out;
  } else {
    return MergeClassLabel(existing, down, flags, f);
  }
}

template <typename L>
L MergeClassLabel(const L& existing, const L& down, const Flags& flags, const v1::FieldSchema& f) {
  L out = existing;
  if (flags.label_edits) out.set_label(down.label());
  if constexpr (!std::is_same_v<L, v1::Classification>) {
    if (flags.index_edits) {
      if (down.has_index()) {
        out.set_index(down.index());
      } else {
        out.clear_index();
      }
    }
    if (flags.keyframes && down.has_keyframe()) out.set_keyframe(down.keyframe());
  }
  if (flags.spatial_edits) {
    if constexpr (std::is_same_v<L, v1::Detection>) {
      *out.mutable_bounding_box() = down.bounding_box();
      // FiftyOne's spatial fields of a Detection: bounding_box and mask.
      if (down.has_instance_mask()) {
        *out.mutable_instance_mask() = down.instance_mask();
      } else {
        out.clear_instance_mask();
      }
    } else if constexpr (std::is_same_v<L, v1::Polyline>) {
      *out.mutable_points() = down.points();
      out.set_closed(down.closed());
      out.set_filled(down.filled());
    } else if constexpr (std::is_same_v<L, v1::Keypoint>) {
      *out.mutable_points() = down.points();
    }
  }
  for (const auto& [name, read_only] : SchemaAttributes(f, out.label())) {
    if (read_only) continue;
    auto it = down.attributes().find(name);
    if (it == down.attributes().end()) {
      out.mutable_attributes()->erase(name);
    } else {
      (*out.mutable_attributes())[name] = it->second;
    }
  }
  return out;
}

template <typename L>
std::vector<L> ListOf(const v1::FieldValue& v);

template <>
std::vector<v1::Classification> ListOf(const v1::FieldValue& v) {
  if (v.has_classification()) return {v.classification()};
  return {v.classifications().classifications().begin(),
          v.classifications().classifications().end()};
}
template <>
std::vector<v1::Detection> ListOf(const v1::FieldValue& v) {
  if (v.has_detection()) return {v.detection()};
  return {v.detections().detections().begin(), v.detections().detections().end()};
}
template <>
std::vector<v1::Polyline> ListOf(const v1::FieldValue& v) {
  if (v.has_polyline()) return {v.polyline()};
  return {v.polylines().polylines().begin(), v.polylines().polylines().end()};
}
template <>
std::vector<v1::Segmentation> ListOf(const v1::FieldValue& v) {
  if (v.has_segmentation()) return {v.segmentation()};
  return {};
}
template <>
std::vector<v1::Keypoint> ListOf(const v1::FieldValue& v) {
  if (v.has_keypoint()) return {v.keypoint()};
  return {v.keypoints().keypoints().begin(), v.keypoints().keypoints().end()};
}

template <typename L>
void SetValue(ValueCase c, std::vector<L> labels, v1::FieldValue* out) {
  out->Clear();
  if constexpr (std::is_same_v<L, v1::Classification>) {
    if (c == ValueCase::kClassification) {
      if (!labels.empty()) *out->mutable_classification() = std::move(labels.front());
    } else {
      auto* list = out->mutable_classifications();
      for (auto& l : labels) *list->add_classifications() = std::move(l);
    }
  } else if constexpr (std::is_same_v<L, v1::Detection>) {
    if (c == ValueCase::kDetection) {
      if (!labels.empty()) *out->mutable_detection() = std::move(labels.front());
    } else {
      auto* list = out->mutable_detections();
      for (auto& l : labels) *list->add_detections() = std::move(l);
    }
  } else if constexpr (std::is_same_v<L, v1::Polyline>) {
    if (c == ValueCase::kPolyline) {
      if (!labels.empty()) *out->mutable_polyline() = std::move(labels.front());
    } else {
      auto* list = out->mutable_polylines();
      for (auto& l : labels) *list->add_polylines() = std::move(l);
    }
  } else if constexpr (std::is_same_v<L, v1::Segmentation>) {
    if (!labels.empty()) *out->mutable_segmentation() = std::move(labels.front());
  } else {
    if (c == ValueCase::kKeypoint) {
      if (!labels.empty()) *out->mutable_keypoint() = std::move(labels.front());
    } else {
      auto* list = out->mutable_keypoints();
      for (auto& l : labels) *list->add_keypoints() = std::move(l);
    }
  }
}

template <typename L>
FieldMerge Merge(const v1::FieldSchema& f, ValueCase c, const v1::FieldValue& baseline,
                 const v1::FieldValue& downloaded, const Flags& flags) {
  FieldMerge result;
  const std::vector<L> base = ListOf<L>(baseline);
  const std::vector<L> down = ListOf<L>(downloaded);
  std::map<std::string, const L*> down_by_id;
  for (const auto& l : down) down_by_id.emplace(l.id(), &l);
  std::set<std::string> base_ids;
  for (const auto& l : base) base_ids.insert(l.id());
  const bool single = c == ValueCase::kClassification || c == ValueCase::kDetection ||
                      c == ValueCase::kPolyline || c == ValueCase::kKeypoint ||
                      c == ValueCase::kSegmentation;

  std::vector<L> merged;
  bool deleted_any = false;
  for (const auto& b : base) {
    auto it = down_by_id.find(b.id());
    if (it == down_by_id.end()) {
      if (flags.deletions) {
        result.deleted.push_back(b.id());
        deleted_any = true;
      } else {
        ++result.ignored_deleted;
        merged.push_back(b);
      }
      continue;
    }
    L m = MergeLabel(b, *it->second, flags, f);
    if (google::protobuf::util::MessageDifferencer::Equals(m, b)) {
      ++result.unchanged;
    } else {
      result.edited.push_back(b.id());
    }
    merged.push_back(std::move(m));
  }
  for (const auto& d : down) {
    if (base_ids.count(d.id()) > 0) continue;
    const bool room = !single || merged.empty();
    if (flags.additions && room && (!single || base.empty() || deleted_any)) {
      result.added.push_back(d.id());
      merged.push_back(d);
    } else {
      ++result.ignored_added;
    }
  }
  const bool empty = merged.empty();
  SetValue<L>(c, std::move(merged), &result.merged);
  // A field that was None and receives nothing stays None.
  if (empty && baseline.value_case() == v1::FieldValue::VALUE_NOT_SET) result.merged.Clear();
  return result;
}

}  // namespace

FieldMerge MergeFieldValue(const v1::FieldSchema& field, const v1::FieldValue& baseline,
                           const v1::FieldValue& downloaded, bool as_new) {
  const Flags flags = FlagsOf(field, as_new);
  const ValueCase c = FieldValueCaseOf(field.type());
  switch (c) {
    case ValueCase::kClassification:
    case ValueCase::kClassifications:
      return Merge<v1::Classification>(field, c, baseline, downloaded, flags);
    case ValueCase::kDetection:
    case ValueCase::kDetections:
      return Merge<v1::Detection>(field, c, baseline, downloaded, flags);
    case ValueCase::kPolyline:
    case ValueCase::kPolylines:
      return Merge<v1::Polyline>(field, c, baseline, downloaded, flags);
    case ValueCase::kKeypoint:
    case ValueCase::kKeypoints:
      return Merge<v1::Keypoint>(field, c, baseline, downloaded, flags);
    case ValueCase::kSegmentation:
      return Merge<v1::Segmentation>(field, c, baseline, downloaded, flags);
    case ValueCase::VALUE_NOT_SET:
      break;
  }
  return FieldMerge{};
}

std::vector<FrameMerge> MergeFrameFieldValues(const v1::FieldSchema& field,
                                              const std::vector<v1::FrameFieldValue>& baseline,
                                              std::vector<v1::FrameFieldValue> downloaded,
                                              bool as_new) {
  const std::optional<std::string> return_type = ReturnTypeOf(field.type());
  if (return_type && IsTrackable(field.field(), *return_type))
    UpdateTracks(field, baseline, &downloaded, as_new);
  std::map<int32_t, std::pair<const v1::FrameFieldValue*, const v1::FrameFieldValue*>> frames;
  for (const auto& f : baseline) frames[f.frame_number()].first = &f;
  for (const auto& f : downloaded) frames[f.frame_number()].second = &f;
  std::vector<FrameMerge> out;
  for (const auto& [number, pair] : frames) {
    const auto& [base, down] = pair;
    FrameMerge m;
    m.frame_number = number;
    if (base != nullptr) m.frame_id = base->frame_id();
    if (m.frame_id.empty() && down != nullptr) m.frame_id = down->frame_id();
    if (down != nullptr) m.downloaded = down->value();
    m.merge = MergeFieldValue(field, base != nullptr ? base->value() : v1::FieldValue(),
                              m.downloaded, as_new);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace labelport::core
