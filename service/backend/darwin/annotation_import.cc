#include "service/backend/darwin/annotation_import.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/backend/darwin/class_sync.h"

namespace labelport::backend::darwin {

namespace v1 = labelport::v1;
using labelport::internal::v1::SampleProgress;

bool HasLabels(const v1::Sample& sample) {
  for (const auto& f : sample.fields()) {
    if (f.value().value_case() != v1::FieldValue::VALUE_NOT_SET) return true;
    for (const auto& fr : f.frames())
      if (fr.value().value_case() != v1::FieldValue::VALUE_NOT_SET) return true;
  }
  return false;
}

absl::StatusOr<EncodedLabels> EncodeSampleLabels(
    const v1::Sample& sample, const SampleProgress& p, const v1::AnnotationRun& run,
    const google::protobuf::Map<std::string, int64_t>& class_ids,
    const ResolvedProperties& properties) {
  EncodedLabels out;
  for (const auto& sf : sample.fields()) {
    const v1::FieldSchema* field = FieldOf(run.label_schema(), sf.field());
    if (field == nullptr) continue;
    for (const auto& frame : sf.frames()) {
      if (p.frame_count() > 0 && frame.frame_number() > p.frame_count())
        return absl::InvalidArgumentError(
            absl::StrFormat("Sample '%s' field '%s': frame %d is beyond the %d frames V7 "
                            "found in the video",
                            sample.id(), sf.field(), frame.frame_number(), p.frame_count()));
    }
    EncodeContext context;
    context.field = field;
    context.width = p.width();
    context.height = p.height();
    context.run_uid = run.uid();
    context.sample_id = sample.id();
    context.item_id = p.item_id();
    context.class_id = [&class_ids](const std::string& name,
                                    const std::string& type) -> absl::StatusOr<int64_t> {
      auto it = class_ids.find(ClassKeyString(name, type));
      if (it == class_ids.end())
        return absl::NotFoundError(absl::StrCat("no V7 class for '", name, "' (", type, ")"));
      return it->second;
    };
    context.property = [&properties](int64_t class_id,
                                     const std::string& name) -> std::optional<ResolvedProperty> {
      auto it = properties.find({class_id, name});
      if (it == properties.end()) return std::nullopt;
      return it->second;
    };
    absl::StatusOr<EncodedLabels> encoded =
        sf.frames_size() > 0
            ? EncodeFrameFieldValues(sf.frames(), context,
                                     field->has_only_keyframes() && field->only_keyframes())
            : EncodeFieldValue(sf.value(), context);
    if (!encoded.ok()) return encoded.status();
    for (auto& a : encoded->annotations) out.annotations.push_back(std::move(a));
    for (auto& l : encoded->links) out.links.push_back(std::move(l));
  }
  return out;
}

}  // namespace labelport::backend::darwin
