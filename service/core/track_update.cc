#include "service/core/track_update.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace labelport::core {
namespace {

namespace v1 = labelport::v1;

// Calls `f` on every label of `v` that can carry a track index.
template <typename V, typename F>
void ForEachIndexed(V& v, F&& f) {
  if (v.has_detection()) f(*v.mutable_detection());
  if (v.has_polyline()) f(*v.mutable_polyline());
  if (v.has_keypoint()) f(*v.mutable_keypoint());
  if (v.has_detections())
    for (auto& l : *v.mutable_detections()->mutable_detections()) f(l);
  if (v.has_polylines())
    for (auto& l : *v.mutable_polylines()->mutable_polylines()) f(l);
  if (v.has_keypoints())
    for (auto& l : *v.mutable_keypoints()->mutable_keypoints()) f(l);
}

}  // namespace

void UpdateTracks(const v1::FieldSchema& field, const std::vector<v1::FrameFieldValue>& baseline,
                  std::vector<v1::FrameFieldValue>* downloaded, bool as_new) {
  std::map<std::string, int64_t> existing_index;                   // label id → index
  std::map<std::pair<int32_t, int64_t>, std::string> existing_at;  // (frame, index) → id
  int64_t max_index = 0;
  for (const auto& frame : baseline) {
    v1::FieldValue value = frame.value();
    ForEachIndexed(value, [&](auto& l) {
      if (!l.has_index()) return;
      existing_index[l.id()] = l.index();
      existing_at.emplace(std::make_pair(frame.frame_number(), l.index()), l.id());
      max_index = std::max(max_index, l.index());
    });
  }

  // Downloaded index → existing index.
  std::map<int64_t, int64_t> mapping;
  std::set<int64_t> unmatched;
  for (auto& frame : *downloaded) {
    ForEachIndexed(*frame.mutable_value(), [&](auto& l) {
      if (!l.has_index()) return;
      auto it = existing_index.find(l.id());
      if (it == existing_index.end()) {
        unmatched.insert(l.index());
        return;
      }
      auto [m, inserted] = mapping.emplace(l.index(), it->second);
      if (!inserted) m->second = std::min(m->second, it->second);
    });
  }
  for (int64_t index : unmatched)
    if (!mapping.contains(index)) mapping[index] = ++max_index;

  const bool strip_keyframes =
      !as_new && field.existing_field() && !(field.has_only_keyframes() && field.only_keyframes());
  for (auto& frame : *downloaded) {
    std::set<std::string> used;
    ForEachIndexed(*frame.mutable_value(), [&](auto& l) { used.insert(l.id()); });
    ForEachIndexed(*frame.mutable_value(), [&](auto& l) {
      if (strip_keyframes) l.clear_keyframe();
      if (!l.has_index()) return;
      const int64_t index = mapping.at(l.index());
      l.set_index(index);
      auto it = existing_at.find({frame.frame_number(), index});
      if (it == existing_at.end() || it->second == l.id() || used.contains(it->second)) return;
      used.erase(l.id());
      l.set_id(it->second);
      used.insert(it->second);
    });
  }
}

}  // namespace labelport::core
