#include "service/backend/darwin/annotation_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "service/backend/darwin/field_labels.h"
#include "service/backend/darwin/instance_mask.h"
#include "service/backend/darwin/raster_layer.h"
#include "service/backend/darwin/skeleton.h"
#include "service/common/sha256.h"

namespace labelport::backend::darwin {
namespace {

namespace v1 = labelport::v1;
using labelport::internal::v1::AnnotationLink;
using AttributeMap = google::protobuf::Map<std::string, v1::AttributeValue>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One label being rebuilt from one or more V7 annotations.
struct Pending {
  std::string label_id;
  bool linked = false;
  int part_count = 1;
  // (part index, annotation), in the order found.
  std::vector<std::pair<int, const ExportedAnnotation*>> parts;
  // Video labels: the track index (set on the label, or cleared when none)
  // and the keyframe flag of the frame.
  bool video = false;
  std::optional<int64_t> track_index;
  bool keyframe = false;
};

struct FieldWork {
  const v1::FieldSchema* field = nullptr;
  std::string darwin_type;
  std::vector<std::string> order;  // label ids in output order
  std::map<std::string, Pending> labels;
  // Unexpected annotations by return type.
  std::map<std::string, std::vector<const ExportedAnnotation*>> unexpected;
};

bool FieldHasClass(const v1::FieldSchema& field, absl::string_view name) {
  for (const auto& entry : field.classes().entries()) {
    if (entry.has_name() && entry.name() == name) return true;
    if (entry.has_group())
      for (const auto& n : entry.group().classes().names())
        if (n == name) return true;
  }
  return false;
}

// Snapshot labels of a field value, by id.
template <typename L>
const L* FindById(const google::protobuf::RepeatedPtrField<L>& labels, absl::string_view id) {
  for (const auto& l : labels)
    if (l.id() == id) return &l;
  return nullptr;
}

// The snapshot label a linked pending label was decoded from: the field
// value's single label (`has_one`, `one`) or one of its list (`many`), by id;
// null for a label new in V7 or not in the snapshot.
template <typename L>
const L* SnapshotLabel(const Pending& p, bool has_one, const L& one,
                       const google::protobuf::RepeatedPtrField<L>& many) {
  if (!p.linked) return nullptr;
  if (has_one) return one.id() == p.label_id ? &one : nullptr;
  return FindById(many, p.label_id);
}

const v1::FieldValue* SnapshotValue(const v1::Sample& sample, absl::string_view field) {
  for (const auto& f : sample.fields())
    if (f.field() == field) return &f.value();
  return nullptr;
}

// The label ids of a field value, in order.
std::vector<std::string> LabelIds(const v1::FieldValue& v) {
  std::vector<std::string> ids;
  ForEachLabel(v, [&](const auto& l) { ids.push_back(l.id()); });
  if (v.has_segmentation()) ids.push_back(v.segmentation().id());
  return ids;
}

std::optional<v1::AttributeValue> TypedValue(const v1::AttributeSpec& spec,
                                             const std::string& text) {
  for (const auto& v : spec.values())
    if (PropertyValueString(v) == text) return v;
  v1::AttributeValue value;
  value.set_string_value(text);
  return value;
}

// Geometry V7 did not change keeps the snapshot's relative values: the
// encoder sent x·W pixels and x·W/W is not always x in floating point, so an
// unedited label would otherwise come back 1 ulp off and count as edited.
// Values within a millionth of a pixel are the same.
bool SameCoordinate(double snapshot, double decoded, double scale) {
  if (std::isnan(snapshot) || std::isnan(decoded))
    return std::isnan(snapshot) && std::isnan(decoded);
  return std::abs(snapshot - decoded) * scale <= 1e-6;
}

bool SamePoints(const google::protobuf::RepeatedPtrField<v1::Point>& snapshot,
                const google::protobuf::RepeatedPtrField<v1::Point>& decoded, double w, double h) {
  if (snapshot.size() != decoded.size()) return false;
  for (int i = 0; i < snapshot.size(); ++i)
    if (!SameCoordinate(snapshot[i].x(), decoded[i].x(), w) ||
        !SameCoordinate(snapshot[i].y(), decoded[i].y(), h))
      return false;
  return true;
}

bool SameShapes(const google::protobuf::RepeatedPtrField<v1::Shape>& snapshot,
                const google::protobuf::RepeatedPtrField<v1::Shape>& decoded, double w, double h) {
  if (snapshot.size() != decoded.size()) return false;
  for (int i = 0; i < snapshot.size(); ++i)
    if (!SamePoints(snapshot[i].points(), decoded[i].points(), w, h)) return false;
  return true;
}

// `previous_class` is the label's class in the snapshot (the class the
// encoder saw); `class_name` its class in V7.
void ApplyAttributes(const v1::FieldSchema& field, const std::string& class_name,
                     const std::string& previous_class, const ExportedAnnotation& a,
                     AttributeMap* attributes) {
  const std::vector<v1::AttributeSpec> specs = AttributesFor(field, class_name);
  // V7 carries one text sub-annotation: the encoder sends the first text
  // attribute the label has (an existing field's observed attributes are all
  // `text`), so only that one is read back; the others were never sent and
  // keep their snapshot values. It is chosen among the attributes of the
  // snapshot's class: a class changed in V7 must not move the text into
  // another attribute (car → person: group "note" vs field-level "color").
  auto present = [&](const std::string& name) {
    auto it = attributes->find(name);
    return it != attributes->end() && !it->second.has_null_value() &&
           it->second.kind_case() != v1::AttributeValue::KIND_NOT_SET;
  };
  std::vector<v1::AttributeSpec> other_specs;  // only when the class changed
  if (previous_class != class_name) other_specs = AttributesFor(field, previous_class);
  const std::vector<v1::AttributeSpec>& previous_specs =
      previous_class != class_name ? other_specs : specs;
  bool text_unchanged = false;  // V7's text equals a snapshot text attribute
  if (a.text)
    for (const auto* list : {&previous_specs, &specs})
      for (const auto& spec : *list)
        if (spec.type() == "text" && present(spec.name()) &&
            PropertyValueString(attributes->at(spec.name())) == *a.text)
          text_unchanged = true;
  std::string text_name;
  for (const auto& spec : previous_specs) {
    if (spec.type() != "text") continue;
    if (text_name.empty() || present(spec.name())) text_name = spec.name();
    if (present(spec.name())) break;
  }
  for (const auto& spec : specs) {
    if (spec.type() == "instance_id") continue;  // restored from the snapshot
    if (spec.type() == "text") {
      if (text_unchanged || spec.name() != text_name) continue;
      auto it = attributes->find(spec.name());
      if (!a.text) {
        attributes->erase(spec.name());
      } else if (it == attributes->end() || PropertyValueString(it->second) != *a.text) {
        (*attributes)[spec.name()].set_string_value(*a.text);
      }  // else unchanged in V7: the typed snapshot value stays (an int stays an int)
      continue;
    }
    std::vector<v1::AttributeValue> values;
    for (const auto& p : a.properties) {
      if (p.name != spec.name() || !p.value) continue;
      if (auto v = TypedValue(spec, *p.value)) values.push_back(*v);
    }
    if (values.empty()) {
      attributes->erase(spec.name());
    } else if (spec.type() == "multi_select") {
      v1::AttributeValue list;
      for (auto& v : values) *list.mutable_list_value()->add_values() = std::move(v);
      (*attributes)[spec.name()] = std::move(list);
    } else {
      (*attributes)[spec.name()] = std::move(values.front());
    }
  }
  auto names = [](const std::vector<std::string>& people) {
    v1::AttributeValue list;
    for (const auto& p : people) list.mutable_list_value()->add_values()->set_string_value(p);
    return list;
  };
  if (!a.annotators.empty()) (*attributes)["darwin_annotators"] = names(a.annotators);
  if (!a.reviewers.empty()) (*attributes)["darwin_reviewers"] = names(a.reviewers);
}

class ItemDecoder {
 public:
  ItemDecoder(const ExportedItem& item, const v1::Sample& snapshot, const v1::LabelSchema& schema,
              std::vector<v1::SkippedEntry>* skipped)
      : item_(item), snapshot_(snapshot), schema_(schema), skipped_(skipped) {}

  absl::StatusOr<LoadedSample> Run(const std::map<std::string, AnnotationLink>& links) {
    for (const auto& f : schema_.fields()) {
      FieldWork w;
      w.field = &f;
      w.darwin_type = DarwinTypeOfField(f);
      work_.push_back(std::move(w));
    }
    if (IsVideo()) return RunVideo(links);
    bool has_segmentation = false;
    for (const auto& w : work_) has_segmentation = has_segmentation || w.darwin_type == "mask";
    for (const auto& a : item_.annotations) {
      if (a.type == "mask" || a.type == "raster_layer") {
        if (has_segmentation) {
          raster_annotations_.push_back(&a);
        } else {
          Skip(a, "masks need a segmentation field in the run's schema");
        }
        continue;
      }
      Route(a, links);
    }
    LoadedSample out;
    out.sample_id = snapshot_.id();
    for (auto& w : work_) {
      LoadedField field;
      field.field = w.field->field();
      field.downloaded = w.darwin_type == "mask" ? BuildSegmentation(w) : Build(w);
      for (auto& [return_type, annotations] : w.unexpected) {
        v1::UnexpectedLabels u;
        u.set_return_type(return_type);
        *u.mutable_labels() = BuildUnexpected(return_type, annotations);
        field.unexpected.push_back(std::move(u));
      }
      out.fields.push_back(std::move(field));
    }
    return out;
  }

 private:
  void Skip(const ExportedAnnotation& a, std::string reason) {
    v1::SkippedEntry e;
    e.set_item_id(item_.item_id);
    e.set_annotation_id(a.id);
    e.set_reason(std::move(reason));
    skipped_->push_back(std::move(e));
  }

  FieldWork* FieldByName(absl::string_view name) {
    for (auto& w : work_)
      if (w.field->field() == name) return &w;
    return nullptr;
  }

  // The field a new annotation (one the upload did not make) goes to: the
  // field of its type that lists its class, else the first field of its
  // type; null when no field has its type.
  FieldWork* FieldForNew(const ExportedAnnotation& a) {
    FieldWork* target = nullptr;
    for (auto& w : work_) {
      if (w.darwin_type != a.type) continue;
      if (FieldHasClass(*w.field, a.name)) return &w;
      if (target == nullptr) target = &w;
    }
    return target;
  }

  // Files an annotation no field takes as unexpected in the first field,
  // under its FiftyOne return type; skips it when its type has none.
  void AddUnexpected(const ExportedAnnotation& a) {
    const std::string return_type = ReturnTypeOfDarwinType(a.type);
    if (return_type.empty() || work_.empty()) {
      Skip(a, absl::StrCat("annotation type '", a.type, "' has no FiftyOne label type"));
      return;
    }
    work_.front().unexpected[return_type].push_back(&a);
  }

  bool IsVideo() const {
    for (const auto& slot : item_.slots)
      if (slot.type == "video") return true;
    for (const auto& a : item_.annotations)
      if (a.frame >= 0) return true;
    return false;
  }

  // A video item: per frame, the labels of each frame field.
  // (work_ holds one FieldWork per schema field.)
  absl::StatusOr<LoadedSample> RunVideo(const std::map<std::string, AnnotationLink>& links) {
    // Each V7 annotation is one track. An uploaded one keeps its index: the
    // instance id of its first frame (V7 shows an annotation's sub-annotations
    // from there), else the index it was uploaded with. Any other annotation
    // (drawn in V7, or split off a track) is a new track: it gets an index
    // above every index in sight, which the merge renumbers after the
    // sample's existing tracks (FiftyOne's rule).
    int64_t next_index = 0;
    for (const auto& a : item_.annotations)
      if (a.instance_id) next_index = std::max(next_index, *a.instance_id);
    for (const auto& [id, link] : links)
      if (link.has_track_index()) next_index = std::max(next_index, link.track_index());
    for (const auto& sf : snapshot_.fields())
      for (const auto& fr : sf.frames())
        ForEachLabel(fr.value(), [&](const auto& label) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(label)>, v1::Classification>) {
            if (label.has_index()) next_index = std::max(next_index, label.index());
          }
        });
    std::map<std::string, int64_t> track_index;  // annotation id → index
    std::map<std::string, int64_t> first_frame;  // annotation id → its first frame
    std::map<int64_t, std::vector<const ExportedAnnotation*>> by_frame;
    std::set<std::string> reported;
    for (const auto& a : item_.annotations) {
      if (a.frame < 0) {
        if (reported.insert(a.id).second)
          Skip(a, "an image annotation on a video item has no frame");
        continue;
      }
      by_frame[a.frame].push_back(&a);
      auto link = links.find(a.id);
      if (link == links.end()) {
        if (!track_index.contains(a.id)) track_index[a.id] = ++next_index;
        continue;
      }
      auto [first, inserted] = first_frame.emplace(a.id, a.frame);
      if (!inserted && first->second < a.frame) continue;
      first->second = a.frame;
      if (a.instance_id) {
        track_index[a.id] = *a.instance_id;
      } else if (link->second.has_track_index()) {
        track_index[a.id] = link->second.track_index();
      } else {
        track_index.erase(a.id);
      }
    }
    LoadedSample out;
    out.sample_id = snapshot_.id();
    for (const auto& w : work_) {
      LoadedField field;
      field.field = w.field->field();
      out.fields.push_back(std::move(field));
    }
    for (const auto& [frame, annotations] : by_frame) {
      for (auto& w : work_) {
        w.order.clear();
        w.labels.clear();
        w.unexpected.clear();
      }
      for (const ExportedAnnotation* a : annotations) RouteVideo(*a, links, track_index);
      const auto frame_number = static_cast<int32_t>(frame + 1);
      for (size_t k = 0; k < work_.size(); ++k) {
        FieldWork& w = work_[k];
        const v1::FrameFieldValue* snap = SnapshotFrame(w.field->field(), frame_number);
        for (const auto& [return_type, list] : w.unexpected) {
          LoadedFrameUnexpected u;
          u.frame_number = frame_number;
          if (snap != nullptr) u.frame_id = snap->frame_id();
          u.labels.set_return_type(return_type);
          *u.labels.mutable_labels() = BuildUnexpected(return_type, list, &track_index);
          out.fields[k].frame_unexpected.push_back(std::move(u));
        }
        if (w.order.empty()) continue;
        v1::FrameFieldValue fv;
        fv.set_frame_number(frame_number);
        if (snap != nullptr) fv.set_frame_id(snap->frame_id());
        *fv.mutable_value() =
            Build(w, snap != nullptr ? snap->value() : v1::FieldValue::default_instance());
        out.fields[k].frames.push_back(std::move(fv));
      }
    }
    return out;
  }

  // The snapshot's frame of `field` (indexed on first use: long videos have
  // many frames).
  const v1::FrameFieldValue* SnapshotFrame(const std::string& field, int32_t frame_number) {
    auto [index, created] = snapshot_frames_.try_emplace(field);
    if (created)
      for (const auto& sf : snapshot_.fields())
        if (sf.field() == field)
          for (const auto& fr : sf.frames()) index->second.emplace(fr.frame_number(), &fr);
    auto it = index->second.find(frame_number);
    return it == index->second.end() ? nullptr : it->second;
  }

  // Routes one frame of a video annotation. The label id of a frame the
  // upload made is the client's; any other frame (interpolated, or of a new
  // annotation) gets an id derived from its track and frame, the same for
  // every part of the label.
  void RouteVideo(const ExportedAnnotation& a, const std::map<std::string, AnnotationLink>& links,
                  const std::map<std::string, int64_t>& track_index) {
    const auto frame_number = static_cast<int32_t>(a.frame + 1);
    std::optional<int64_t> index;
    if (auto it = track_index.find(a.id); it != track_index.end()) index = it->second;
    if (auto it = links.find(a.id); it != links.end()) {
      const AnnotationLink& link = it->second;
      FieldWork* w = FieldByName(link.field());
      if (w != nullptr && w->darwin_type == a.type) {
        auto [frames, created] = link_frames_.try_emplace(a.id);
        if (created)
          for (const auto& fl : link.frames()) frames->second[fl.frame_number()] = fl.label_id();
        auto fl = frames->second.find(frame_number);
        std::string label_id = fl == frames->second.end() ? "" : fl->second;
        const bool linked = !label_id.empty();
        if (!linked) label_id = DerivedLabelId(absl::StrCat(link.label_id(), "@", frame_number));
        Pending& p = w->labels[label_id];
        if (p.parts.empty()) w->order.push_back(label_id);
        p.label_id = label_id;
        p.linked = linked;
        p.part_count = std::max(1, link.part_count());
        p.parts.emplace_back(link.part(), &a);
        p.video = true;
        p.track_index = index;
        if (p.parts.size() == 1) p.keyframe = a.keyframe;
        return;
      }
    }
    FieldWork* target = FieldForNew(a);
    if (target == nullptr) {
      // Unexpected in the first field, per frame (as images are per sample).
      AddUnexpected(a);
      return;
    }
    const std::string id = DerivedLabelId(absl::StrCat(a.id, "@", frame_number));
    Pending& p = target->labels[id];
    if (p.parts.empty()) target->order.push_back(id);
    p.label_id = id;
    p.parts.emplace_back(0, &a);
    p.video = true;
    p.track_index = index;
    p.keyframe = a.keyframe;
  }

  void Route(const ExportedAnnotation& a, const std::map<std::string, AnnotationLink>& links) {
    if (auto it = links.find(a.id); it != links.end()) {
      const AnnotationLink& link = it->second;
      FieldWork* w = FieldByName(link.field());
      if (w != nullptr && w->darwin_type == a.type) {
        Pending& p = w->labels[link.label_id()];
        if (p.parts.empty()) w->order.push_back(link.label_id());
        p.label_id = link.label_id();
        p.linked = true;
        p.part_count = std::max(1, link.part_count());
        p.parts.emplace_back(link.part(), &a);
        return;
      }
    }
    FieldWork* target = FieldForNew(a);
    if (target == nullptr) {
      AddUnexpected(a);
      return;
    }
    const std::string id = DerivedLabelId(a.id);
    Pending& p = target->labels[id];
    if (p.parts.empty()) target->order.push_back(id);
    p.label_id = id;
    p.parts.emplace_back(0, &a);
  }

  // The pixel size an annotation's coordinates are in: per dimension, its
  // slot's, else the item's first slot's, else 1.
  struct PixelScale {
    double w = 1;
    double h = 1;
  };
  PixelScale ScaleOf(const ExportedAnnotation& a) const {
    PixelScale scale;
    for (const ExportedSlot* slot : {item_.Slot(""), item_.Slot(a.slot_name)}) {
      if (slot == nullptr) continue;
      if (slot->width > 0) scale.w = slot->width;
      if (slot->height > 0) scale.h = slot->height;
    }
    return scale;
  }

  template <typename L>
  void Common(const Pending& p, const ExportedAnnotation& a, const v1::FieldSchema& field,
              L* label) {
    const std::string previous_class = label->label().empty() ? a.name : label->label();
    label->set_id(p.label_id);
    label->set_label(a.name);
    if constexpr (!std::is_same_v<L, v1::Classification>) {
      if (a.instance_id) label->set_index(*a.instance_id);
    }
    if constexpr (!std::is_same_v<L, v1::Keypoint>) {
      if (a.confidence) label->set_confidence(*a.confidence);
    }
    ApplyAttributes(field, a.name, previous_class, a, label->mutable_attributes());
  }

  v1::Classification MakeClassification(const Pending& p, const v1::Classification* base,
                                        const v1::FieldSchema& field) {
    v1::Classification c = base != nullptr ? *base : v1::Classification();
    Common(p, *p.parts.front().second, field, &c);
    return c;
  }

  std::optional<v1::Detection> MakeDetection(const Pending& p, const v1::Detection* base,
                                             const v1::FieldSchema& field) {
    const ExportedAnnotation& a = *p.parts.front().second;
    if (!a.bounding_box || a.bounding_box->size() != 4) {
      Skip(a, "bounding box without x, y, w, h");
      return std::nullopt;
    }
    v1::Detection d = base != nullptr ? *base : v1::Detection();
    Common(p, a, field, &d);
    const auto& b = *a.bounding_box;
    const PixelScale scale = ScaleOf(a);
    d.clear_bounding_box();
    d.add_bounding_box(b[0] / scale.w);
    d.add_bounding_box(b[1] / scale.h);
    d.add_bounding_box(b[2] / scale.w);
    d.add_bounding_box(b[3] / scale.h);
    if (base != nullptr && base->bounding_box_size() == 4) {
      bool same = true;
      for (int i = 0; i < 4; ++i)
        same = same && SameCoordinate(base->bounding_box(i), d.bounding_box(i),
                                      i % 2 == 0 ? scale.w : scale.h);
      if (same) *d.mutable_bounding_box() = base->bounding_box();
    }
    return d;
  }

  // An instance (instance_mask.h): the snapshot's box and mask while V7's
  // polygon is the one uploaded, else the polygon's box and rasterisation.
  std::optional<v1::Detection> MakeInstance(const Pending& p, const v1::Detection* base,
                                            const v1::FieldSchema& field) {
    const ExportedAnnotation& a = *p.parts.front().second;
    if (a.type != "polygon" || a.paths.empty()) {
      Skip(a, "instance without polygon paths");
      return std::nullopt;
    }
    v1::Detection d = base != nullptr ? *base : v1::Detection();
    Common(p, a, field, &d);
    const PixelScale scale = ScaleOf(a);
    if (!(scale.w >= 1 && scale.h >= 1 && scale.w * scale.h <= kMaxRasterPixels)) {
      Skip(a, "instance on an image too large to rasterise");
      return std::nullopt;
    }
    const int width = static_cast<int>(std::lround(scale.w));
    const int height = static_cast<int>(std::lround(scale.h));
    if (base != nullptr && SamePaths(InstancePolygon(*base, width, height), a.paths)) return d;
    const bool boolean = base != nullptr && base->instance_mask().boolean();
    RasterizeInstance(a.paths, width, height, &d);
    d.mutable_instance_mask()->set_boolean(boolean);
    return d;
  }

  std::optional<v1::Polyline> MakePolyline(const Pending& p, const v1::Polyline* base,
                                           const v1::FieldSchema& field, bool polygon) {
    const ExportedAnnotation& a = *p.parts.front().second;
    v1::Polyline l = base != nullptr ? *base : v1::Polyline();
    Common(p, a, field, &l);
    l.clear_points();
    auto add_path = [&](const ExportedAnnotation& ann, const std::vector<PixelPoint>& path) {
      const PixelScale scale = ScaleOf(ann);
      v1::Shape* shape = l.add_points();
      for (const auto& pt : path) {
        v1::Point* q = shape->add_points();
        q->set_x(pt.x / scale.w);
        q->set_y(pt.y / scale.h);
      }
    };
    if (polygon) {
      for (const auto& path : a.paths) add_path(a, path);
      l.set_closed(true);
      l.set_filled(true);
    } else {
      auto parts = p.parts;
      std::sort(parts.begin(), parts.end(),
                [](const auto& x, const auto& y) { return x.first < y.first; });
      for (const auto& [part, ann] : parts)
        if (!ann->paths.empty()) add_path(*ann, ann->paths.front());
      if (base == nullptr) l.set_closed(false);
      l.set_filled(false);
    }
    if (base != nullptr) {
      const PixelScale scale = ScaleOf(a);
      if (SameShapes(base->points(), l.points(), scale.w, scale.h))
        *l.mutable_points() = base->points();
    }
    if (l.points_size() == 0) {
      Skip(a, "polygon or line without points");
      return std::nullopt;
    }
    return l;
  }

  std::optional<v1::Keypoint> MakeKeypoint(const Pending& p, const v1::Keypoint* base,
                                           const v1::FieldSchema& field) {
    const ExportedAnnotation& first = *p.parts.front().second;
    v1::Keypoint k = base != nullptr ? *base : v1::Keypoint();
    Common(p, first, field, &k);
    if (first.type == "skeleton") {
      const PixelScale scale = ScaleOf(first);
      k.clear_points();
      for (auto& pt : SkeletonPoints(
               first.nodes, field.has_skeleton() ? &field.skeleton() : nullptr, scale.w, scale.h))
        *k.add_points() = std::move(pt);
      if (base != nullptr && SamePoints(base->points(), k.points(), scale.w, scale.h))
        *k.mutable_points() = base->points();
      if (k.confidence_size() != k.points_size()) k.clear_confidence();
      return k;
    }
    const int count = std::max(p.part_count, 1);
    std::vector<v1::Point> points(count);
    for (auto& pt : points) {
      pt.set_x(kNaN);
      pt.set_y(kNaN);
    }
    std::vector<double> confidences;
    if (k.confidence_size() == count)
      confidences.assign(k.confidence().begin(), k.confidence().end());
    bool any_confidence = !confidences.empty();
    for (const auto& [part, ann] : p.parts) {
      if (part < 0 || part >= count || !ann->point) continue;
      const PixelScale scale = ScaleOf(*ann);
      points[part].set_x(ann->point->x / scale.w);
      points[part].set_y(ann->point->y / scale.h);
      if (ann->confidence) {
        if (confidences.empty()) confidences.assign(count, kNaN);
        confidences[part] = *ann->confidence;
        any_confidence = true;
      }
    }
    k.clear_points();
    for (auto& pt : points) *k.add_points() = pt;
    if (base != nullptr) {
      const PixelScale scale = ScaleOf(first);
      if (SamePoints(base->points(), k.points(), scale.w, scale.h))
        *k.mutable_points() = base->points();
    }
    k.clear_confidence();
    if (any_confidence)
      for (double c : confidences) k.add_confidence(c);
    return k;
  }

  // A segmentation field: the first slot's raster layer and masks, decoded
  // against the snapshot's mask (raster_layer.h).
  v1::FieldValue BuildSegmentation(const FieldWork& w) {
    const ExportedSlot* slot = item_.Slot("");
    RasterInputs in;
    in.field = w.field;
    // Sizes come from V7: only ones a raster layer can have are used.
    if (slot != nullptr && slot->width >= 1 && slot->height >= 1 &&
        slot->width * slot->height <= kMaxRasterPixels) {
      in.slot_width = static_cast<int>(slot->width);
      in.slot_height = static_cast<int>(slot->height);
    }
    const v1::FieldValue* snap = SnapshotValue(snapshot_, w.field->field());
    if (snap != nullptr && snap->has_segmentation()) in.snapshot = &snap->segmentation();
    for (const ExportedAnnotation* a : raster_annotations_) {
      if (slot != nullptr && !a->slot_name.empty() && a->slot_name != slot->slot_name) {
        Skip(*a, "masks are read from the item's first slot only");
        continue;
      }
      if (a->type == "mask") {
        in.masks.push_back(a);
      } else if (in.raster == nullptr) {
        in.raster = a;
      } else {
        Skip(*a, "a second raster layer on the slot");
      }
    }
    in.skip = [this](const std::string& id, const std::string& reason) {
      v1::SkippedEntry e;
      e.set_item_id(item_.item_id);
      e.set_annotation_id(id);
      e.set_reason(reason);
      skipped_->push_back(std::move(e));
    };
    v1::FieldValue out;
    if (std::optional<v1::Segmentation> mask = DecodeSegmentation(in))
      *out.mutable_segmentation() = *std::move(mask);
    return out;
  }

  // Builds the field's value; labels follow snapshot order, then new ones.
  v1::FieldValue Build(const FieldWork& w) {
    const v1::FieldValue* snap = SnapshotValue(snapshot_, w.field->field());
    const v1::FieldValue empty;
    return Build(w, snap != nullptr ? *snap : empty);
  }

  // Sets the track index and keyframe flag of a video label.
  template <typename L>
  static void ApplyVideo(const Pending& p, L* label) {
    if (!p.video) return;
    if (p.track_index) {
      label->set_index(*p.track_index);
    } else {
      label->clear_index();
    }
    label->set_keyframe(p.keyframe);
  }

  v1::FieldValue Build(const FieldWork& w, const v1::FieldValue& base) {
    const v1::FieldSchema& field = *w.field;
    const std::string& t = field.type();
    v1::FieldValue out;
    // Export order is arbitrary: a single-label field must get its own label
    // back, not a new one listed first (the merge would delete + add).
    auto ordered = [&]() {
      std::map<std::string, size_t> position;
      for (const auto& id : LabelIds(base)) position.emplace(id, position.size());
      auto rank = [&](const Pending* p) {
        auto it = position.find(p->label_id);
        return p->linked && it != position.end() ? it->second : position.size();
      };
      std::vector<std::pair<size_t, const Pending*>> ranked;
      ranked.reserve(w.order.size());
      for (const auto& id : w.order) {
        const Pending* p = &w.labels.at(id);
        ranked.emplace_back(rank(p), p);
      }
      std::stable_sort(ranked.begin(), ranked.end(),
                       [](const auto& x, const auto& y) { return x.first < y.first; });
      std::vector<const Pending*> result;
      result.reserve(ranked.size());
      for (const auto& [r, p] : ranked) result.push_back(p);
      return result;
    };
    if (t == "classification" || t == "classifications") {
      v1::Classifications all;
      for (const Pending* p : ordered()) {
        const v1::Classification* b =
            SnapshotLabel(*p, base.has_classification(), base.classification(),
                          base.classifications().classifications());
        *all.add_classifications() = MakeClassification(*p, b, field);
      }
      if (t == "classifications") {
        *out.mutable_classifications() = std::move(all);
      } else if (all.classifications_size() > 0) {
        *out.mutable_classification() = all.classifications(0);
      }
    } else if (t == "detection" || t == "detections" || t == "instance" || t == "instances") {
      const bool instances = t == "instance" || t == "instances";
      v1::Detections all;
      for (const Pending* p : ordered()) {
        const v1::Detection* b = SnapshotLabel(*p, base.has_detection(), base.detection(),
                                               base.detections().detections());
        if (auto d = instances ? MakeInstance(*p, b, field) : MakeDetection(*p, b, field)) {
          ApplyVideo(*p, &*d);
          *all.add_detections() = *std::move(d);
        }
      }
      if (t == "detections" || t == "instances") {
        *out.mutable_detections() = std::move(all);
      } else if (all.detections_size() > 0) {
        *out.mutable_detection() = all.detections(0);
      }
    } else if (t == "polygon" || t == "polygons" || t == "polyline" || t == "polylines") {
      const bool polygon = t == "polygon" || t == "polygons";
      v1::Polylines all;
      for (const Pending* p : ordered()) {
        const v1::Polyline* b =
            SnapshotLabel(*p, base.has_polyline(), base.polyline(), base.polylines().polylines());
        if (auto l = MakePolyline(*p, b, field, polygon)) {
          ApplyVideo(*p, &*l);
          *all.add_polylines() = *std::move(l);
        }
      }
      if (t == "polygons" || t == "polylines") {
        *out.mutable_polylines() = std::move(all);
      } else if (all.polylines_size() > 0) {
        *out.mutable_polyline() = all.polylines(0);
      }
    } else if (t == "keypoint" || t == "keypoints") {
      v1::Keypoints all;
      for (const Pending* p : ordered()) {
        const v1::Keypoint* b =
            SnapshotLabel(*p, base.has_keypoint(), base.keypoint(), base.keypoints().keypoints());
        if (auto k = MakeKeypoint(*p, b, field)) {
          ApplyVideo(*p, &*k);
          *all.add_keypoints() = *std::move(k);
        }
      }
      if (t == "keypoints") {
        *out.mutable_keypoints() = std::move(all);
      } else if (all.keypoints_size() > 0) {
        *out.mutable_keypoint() = all.keypoints(0);
      }
    }
    return out;
  }

  // Video pieces (a->frame >= 0) get per-frame ids and their track's index
  // from `track_index`.
  v1::FieldValue BuildUnexpected(const std::string& return_type,
                                 const std::vector<const ExportedAnnotation*>& annotations,
                                 const std::map<std::string, int64_t>* track_index = nullptr) {
    v1::FieldSchema any;  // no schema attributes for unexpected labels
    v1::FieldValue out;
    for (const ExportedAnnotation* a : annotations) {
      Pending p;
      p.label_id = a->frame >= 0 ? DerivedLabelId(absl::StrCat(a->id, "@", a->frame + 1))
                                 : DerivedLabelId(a->id);
      p.parts.emplace_back(0, a);
      if (a->frame >= 0 && track_index != nullptr) {
        p.video = true;
        p.keyframe = a->keyframe;
        if (auto it = track_index->find(a->id); it != track_index->end())
          p.track_index = it->second;
      }
      if (return_type == "detections") {
        if (auto d = MakeDetection(p, nullptr, any)) {
          ApplyVideo(p, &*d);
          *out.mutable_detections()->add_detections() = *std::move(d);
        }
      } else if (return_type == "polylines") {
        if (auto l = MakePolyline(p, nullptr, any, a->type == "polygon")) {
          ApplyVideo(p, &*l);
          *out.mutable_polylines()->add_polylines() = *std::move(l);
        }
      } else if (return_type == "keypoints") {
        if (auto k = MakeKeypoint(p, nullptr, any)) {
          ApplyVideo(p, &*k);
          *out.mutable_keypoints()->add_keypoints() = *std::move(k);
        }
      } else if (return_type == "classifications") {
        *out.mutable_classifications()->add_classifications() = MakeClassification(p, nullptr, any);
      }
    }
    return out;
  }

  const ExportedItem& item_;
  const v1::Sample& snapshot_;
  const v1::LabelSchema& schema_;
  std::vector<v1::SkippedEntry>* skipped_;
  std::vector<FieldWork> work_;
  // The item's mask and raster layer annotations (image items).
  std::vector<const ExportedAnnotation*> raster_annotations_;
  std::map<std::string, std::map<int32_t, const v1::FrameFieldValue*>> snapshot_frames_;
  // Uploaded video annotations: annotation id → frame number → label id.
  std::map<std::string, std::map<int32_t, std::string>> link_frames_;
};

}  // namespace

std::string DerivedLabelId(absl::string_view annotation_id) {
  // 12 bytes = 24 hex digits, the shape of a FiftyOne ObjectId.
  return common::Sha256Hex(absl::StrCat("darwin:", annotation_id)).substr(0, 24);
}

std::string ReturnTypeOfDarwinType(absl::string_view t) {
  if (t == "bounding_box") return "detections";
  if (t == "polygon" || t == "line") return "polylines";
  if (t == "keypoint" || t == "skeleton") return "keypoints";
  if (t == "tag") return "classifications";
  return "";
}

absl::StatusOr<LoadedSample> DecodeItem(const ExportedItem& item, const v1::Sample& snapshot,
                                        const v1::LabelSchema& schema,
                                        const std::map<std::string, AnnotationLink>& links,
                                        std::vector<v1::SkippedEntry>* skipped) {
  ItemDecoder decoder(item, snapshot, schema, skipped);
  return decoder.Run(links);
}

}  // namespace labelport::backend::darwin
