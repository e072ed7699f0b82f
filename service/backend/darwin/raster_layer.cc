#include "service/backend/darwin/raster_layer.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/backend/darwin/annotation_decoder.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
namespace v1 = labelport::v1;
using labelport::internal::v1::AnnotationLink;

constexpr char kRasterClass[] = "__raster_layer__";

// The pixels V7 is sent for `mask`: at the slot's size, values that are not
// mask targets as background.
std::vector<uint16_t> SentPixels(const v1::Segmentation& mask, const v1::FieldSchema& field,
                                 int width, int height) {
  std::vector<uint16_t> pixels = ResizeNearest(MaskPixels(mask), static_cast<int>(mask.width()),
                                               static_cast<int>(mask.height()), width, height);
  for (uint16_t& p : pixels)
    if (p != 0 && !field.mask_targets().contains(p)) p = 0;
  return pixels;
}

// The pixel value of a class, by the field's mask targets; a class named by
// a number that is no target's name stands for that value.
std::optional<uint16_t> ValueOfClass(const v1::FieldSchema& field, const std::string& name) {
  for (const auto& [value, class_name] : field.mask_targets())
    if (class_name == name && value != 0 && value <= 0xffff) return static_cast<uint16_t>(value);
  uint32_t value = 0;
  if (absl::SimpleAtoi(name, &value) && value > 0 && value <= 0xffff)
    return static_cast<uint16_t>(value);
  return std::nullopt;
}

}  // namespace

std::vector<uint16_t> MaskPixels(const v1::Segmentation& mask) {
  const size_t n = size_t{mask.width()} * mask.height();
  std::vector<uint16_t> out(n, 0);
  const std::string& bytes = mask.mask();
  if (mask.bytes_per_pixel() == 2) {
    for (size_t i = 0; i < n && 2 * i + 1 < bytes.size(); ++i)
      out[i] = static_cast<uint16_t>(static_cast<unsigned char>(bytes[2 * i]) |
                                     (static_cast<unsigned char>(bytes[2 * i + 1]) << 8));
  } else {
    for (size_t i = 0; i < n && i < bytes.size(); ++i)
      out[i] = static_cast<unsigned char>(bytes[i]);
  }
  return out;
}

v1::Segmentation MaskFromPixels(const std::vector<uint16_t>& pixels, int width, int height,
                                int bytes_per_pixel) {
  v1::Segmentation out;
  out.set_width(width);
  out.set_height(height);
  out.set_bytes_per_pixel(bytes_per_pixel);
  std::string bytes;
  bytes.reserve(pixels.size() * bytes_per_pixel);
  for (uint16_t p : pixels) {
    bytes.push_back(static_cast<char>(p & 0xff));
    if (bytes_per_pixel == 2) bytes.push_back(static_cast<char>(p >> 8));
  }
  out.set_mask(std::move(bytes));
  return out;
}

std::vector<uint16_t> ResizeNearest(const std::vector<uint16_t>& pixels, int width, int height,
                                    int new_width, int new_height) {
  if (width == new_width && height == new_height) return pixels;
  std::vector<uint16_t> out(size_t(new_width) * new_height, 0);
  if (width <= 0 || height <= 0) return out;
  for (int y = 0; y < new_height; ++y) {
    const size_t sy = std::min<size_t>(size_t(y) * height / new_height, height - 1);
    for (int x = 0; x < new_width; ++x) {
      const size_t sx = std::min<size_t>(size_t(x) * width / new_width, width - 1);
      out[size_t(y) * new_width + x] = pixels[sy * width + sx];
    }
  }
  return out;
}

std::vector<int64_t> DenseRle(const std::vector<uint16_t>& pixels) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < pixels.size();) {
    size_t j = i;
    while (j < pixels.size() && pixels[j] == pixels[i]) ++j;
    out.push_back(pixels[i]);
    out.push_back(static_cast<int64_t>(j - i));
    i = j;
  }
  return out;
}

absl::StatusOr<std::vector<uint16_t>> DecodeDenseRle(const std::vector<int64_t>& dense_rle,
                                                     int64_t total_pixels) {
  if (total_pixels < 0 || total_pixels > kMaxRasterPixels)
    return absl::InvalidArgumentError(absl::StrFormat(
        "raster layer of %d pixels: at most %d are supported", total_pixels, kMaxRasterPixels));
  std::vector<uint16_t> out;
  out.reserve(static_cast<size_t>(total_pixels));
  for (size_t i = 0; i + 1 < dense_rle.size(); i += 2) {
    const int64_t label = dense_rle[i];
    const int64_t run = dense_rle[i + 1];
    if (label < 0 || label > 0xffff)
      return absl::InvalidArgumentError(absl::StrCat("raster label ", label, " out of range"));
    if (run <= 0 || run > total_pixels - static_cast<int64_t>(out.size()))
      return absl::InvalidArgumentError(absl::StrFormat(
          "dense_rle run %d at pair %d does not fit in total_pixels %d", run, i / 2, total_pixels));
    out.insert(out.end(), static_cast<size_t>(run), static_cast<uint16_t>(label));
  }
  if (static_cast<int64_t>(out.size()) != total_pixels)
    return absl::InvalidArgumentError(absl::StrFormat(
        "dense_rle covers %d pixels, total_pixels is %d", out.size(), total_pixels));
  return out;
}

absl::StatusOr<EncodedLabels> EncodeSegmentation(const v1::Segmentation& mask,
                                                 const EncodeContext& c) {
  const v1::FieldSchema& field = *c.field;
  std::vector<uint16_t> pixels = SentPixels(mask, field, c.width, c.height);
  std::set<uint16_t> values(pixels.begin(), pixels.end());
  values.erase(0);
  EncodedLabels out;
  if (values.empty()) return out;

  auto link = [&](const std::string& id, int part) {
    AnnotationLink l;
    l.set_annotation_id(id);
    l.set_label_id(mask.id());
    l.set_part(part);
    l.set_part_count(1);
    l.set_sample_id(c.sample_id);
    l.set_field(field.field());
    l.set_item_id(c.item_id);
    out.links.push_back(std::move(l));
  };
  auto context_keys = [&] { return json::object{{"slot_names", json::array{c.slot_name}}}; };
  std::map<uint16_t, uint16_t> raster_label;  // pixel value → raster label
  json::object mapping;
  for (uint16_t value : values) {
    const std::string& class_name = field.mask_targets().at(value);
    auto class_id = c.class_id(class_name, "mask");
    if (!class_id.ok()) return class_id.status();
    const std::string id = DeterministicAnnotationId(c.run_uid, mask.id(), value);
    const auto label = static_cast<uint16_t>(raster_label.size() + 1);
    raster_label[value] = label;
    mapping[id] = label;
    out.annotations.emplace_back(
        json::object{{"id", id},
                     {"annotation_class_id", *class_id},
                     {"data", json::object{{"mask", json::object{{"sparse_rle", nullptr}}}}},
                     {"context_keys", context_keys()}});
    link(id, value);
  }
  for (uint16_t& p : pixels)
    if (p != 0) p = raster_label[p];
  json::array rle;
  for (int64_t n : DenseRle(pixels)) rle.emplace_back(n);
  auto raster_class = c.class_id(kRasterClass, "raster_layer");
  if (!raster_class.ok()) return raster_class.status();
  const std::string raster_id = DeterministicAnnotationId(c.run_uid, mask.id(), 0);
  out.annotations.emplace_back(json::object{
      {"id", raster_id},
      {"annotation_class_id", *raster_class},
      {"data", json::object{{"raster_layer",
                             json::object{{"dense_rle", std::move(rle)},
                                          {"mask_annotation_ids_mapping", std::move(mapping)},
                                          {"total_pixels", int64_t{c.width} * c.height}}}}},
      {"context_keys", context_keys()}});
  link(raster_id, 0);
  return out;
}

std::optional<v1::Segmentation> DecodeSegmentation(const RasterInputs& in) {
  const v1::FieldSchema& field = *in.field;
  const int64_t total = int64_t{in.slot_width} * in.slot_height;
  std::optional<std::vector<uint16_t>> sent;
  if (in.snapshot != nullptr && total > 0 && total <= kMaxRasterPixels)
    sent = SentPixels(*in.snapshot, field, in.slot_width, in.slot_height);

  std::vector<uint16_t> decoded;
  if (in.raster == nullptr || !in.raster->raster_layer.has_value()) {
    if (in.snapshot == nullptr) return std::nullopt;
    // No raster layer: unchanged when nothing but background was sent.
    if (sent && std::all_of(sent->begin(), sent->end(), [](uint16_t p) { return p == 0; }))
      return *in.snapshot;
    return std::nullopt;
  }
  const RasterLayer& layer = *in.raster->raster_layer;
  if (layer.total_pixels != total) {
    in.skip(in.raster->id, absl::StrFormat("raster layer has total_pixels %d; its slot is %dx%d",
                                           layer.total_pixels, in.slot_width, in.slot_height));
    if (in.snapshot != nullptr) return *in.snapshot;
    return std::nullopt;
  }
  absl::StatusOr<std::vector<uint16_t>> labels = DecodeDenseRle(layer.dense_rle, total);
  if (!labels.ok()) {
    in.skip(in.raster->id, std::string(labels.status().message()));
    if (in.snapshot != nullptr) return *in.snapshot;
    return std::nullopt;
  }
  std::map<int64_t, uint16_t> value_of_label;
  for (const auto& [annotation_id, label] : layer.mask_annotation_ids) {
    const ExportedAnnotation* mask = nullptr;
    for (const ExportedAnnotation* m : in.masks)
      if (m->id == annotation_id) mask = m;
    if (mask == nullptr) {
      in.skip(annotation_id, "raster layer maps a mask annotation the item does not have");
      continue;
    }
    std::optional<uint16_t> value = ValueOfClass(field, mask->name);
    if (!value.has_value()) {
      in.skip(annotation_id, absl::StrCat("mask class '", mask->name,
                                          "' is not a mask target of field '", field.field(), "'"));
      continue;
    }
    value_of_label[label] = *value;
  }
  decoded = std::move(*labels);
  for (uint16_t& p : decoded) {
    if (p == 0) continue;
    auto it = value_of_label.find(p);
    p = it == value_of_label.end() ? 0 : it->second;
  }
  if (sent && *sent == decoded) return *in.snapshot;

  const uint16_t max_value =
      decoded.empty() ? 0 : *std::max_element(decoded.begin(), decoded.end());
  if (in.snapshot == nullptr) {
    v1::Segmentation out =
        MaskFromPixels(decoded, in.slot_width, in.slot_height, max_value > 0xff ? 2 : 1);
    out.set_id(DerivedLabelId(in.raster->id));
    return out;
  }
  const v1::Segmentation& snap = *in.snapshot;
  const int width = static_cast<int>(snap.width());
  const int height = static_cast<int>(snap.height());
  int bytes_per_pixel = static_cast<int>(snap.bytes_per_pixel());
  if (max_value > 0xff) bytes_per_pixel = 2;
  v1::Segmentation out =
      MaskFromPixels(ResizeNearest(decoded, in.slot_width, in.slot_height, width, height), width,
                     height, bytes_per_pixel);
  out.set_id(snap.id());
  *out.mutable_tags() = snap.tags();
  *out.mutable_attributes() = snap.attributes();
  return out;
}

}  // namespace labelport::backend::darwin
