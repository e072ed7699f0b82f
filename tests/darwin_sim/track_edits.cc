#include "track_edits.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

std::optional<int64_t> SectionFrame(const json::string& key) {
  int64_t index = 0;
  if (!absl::SimpleAtoi(absl::string_view(key.data(), key.size()), &index)) return std::nullopt;
  return index;
}

void KeyframeAt(VideoTrack& track, int64_t frame, const VideoTrack& shown_by) {
  if (track.frames.count(frame) != 0) return;
  json::object shown = FrameAt(shown_by, frame);
  if (shown.empty()) return;
  shown["keyframe"] = true;
  track.frames[frame] = std::move(shown);
}

// Extends the nearest range so that it covers `frame`.
void CoverFrame(VideoTrack& track, int64_t frame) {
  if (RangeOf(track, frame).has_value()) return;
  if (track.ranges.empty()) {
    track.ranges.emplace_back(frame, frame + 1);
    return;
  }
  size_t nearest = 0;
  int64_t best = -1;
  for (size_t i = 0; i < track.ranges.size(); ++i) {
    const auto& [start, end] = track.ranges[i];
    const int64_t distance = frame < start ? start - frame : frame - (end - 1);
    if (best < 0 || distance < best) {
      best = distance;
      nearest = i;
    }
  }
  FrameSpan& r = track.ranges[nearest];
  r.first = std::min(r.first, frame);
  r.second = std::max(r.second, frame + 1);
  track.ranges = JoinRanges(track.ranges);
}

}  // namespace

void KeyframeRangeStarts(VideoTrack& track, const VideoTrack& shown_by) {
  for (const auto& [start, end] : track.ranges) KeyframeAt(track, start, shown_by);
}

absl::Status ReplaceRanges(VideoTrack& track, std::vector<FrameSpan> ranges) {
  if (ranges.empty()) {
    return absl::InvalidArgumentError("ranges must not be empty (delete the track instead)");
  }
  const VideoTrack before = track;
  track.ranges = JoinRanges(std::move(ranges));
  KeyframeRangeStarts(track, before);
  for (const auto& [start, end] : track.ranges) {
    const std::optional<FrameSpan> old = RangeOf(before, end - 1);
    if (old.has_value() && old->second != end) KeyframeAt(track, end - 1, before);
  }
  std::erase_if(track.frames, [&](const auto& kv) { return !RangeOf(track, kv.first); });
  return absl::OkStatus();
}

void SetKeyframe(VideoTrack& track, int64_t frame, const std::string& type, json::value shape) {
  auto existing = track.frames.find(frame);
  json::object f = existing != track.frames.end() ? existing->second : FrameAt(track, frame);
  f[type] = std::move(shape);
  f["keyframe"] = true;
  track.frames[frame] = std::move(f);
  CoverFrame(track, frame);
}

absl::StatusOr<SplitTracks> SplitTrack(const VideoTrack& track, int64_t frame) {
  bool has_before = false, has_after = false;
  for (const auto& [start, end] : track.ranges) {
    has_before = has_before || start < frame;
    has_after = has_after || end > frame;
  }
  if (!has_before || !has_after) {
    return absl::InvalidArgumentError(absl::StrCat(
        "split frame ", frame, " must have track frames both before it and at or after it"));
  }
  SplitTracks out;
  for (VideoTrack* side : {&out.before, &out.after}) {
    side->interpolated = track.interpolated;
    side->extra = track.extra;
  }
  for (const auto& [index, f] : track.frames) {
    (index < frame ? out.before : out.after).frames[index] = f;
  }
  for (const auto& [start, end] : track.ranges) {
    if (start < frame) out.before.ranges.emplace_back(start, std::min(end, frame));
    if (end > frame) out.after.ranges.emplace_back(std::max(start, frame), end);
  }
  for (const auto& [start, end] : track.hidden_areas) {
    if (start < frame) out.before.hidden_areas.emplace_back(start, std::min(end, frame - 1));
    if (end >= frame) out.after.hidden_areas.emplace_back(std::max(start, frame), end);
  }
  if (RangeOf(track, frame - 1).has_value()) KeyframeAt(out.before, frame - 1, track);
  KeyframeRangeStarts(out.before, track);
  KeyframeRangeStarts(out.after, track);
  return out;
}

VideoTrack MergeTracks(const VideoTrack& keep, const VideoTrack& other) {
  VideoTrack merged = keep;
  for (const auto& [index, frame] : other.frames) merged.frames.emplace(index, frame);
  std::vector<FrameSpan> ranges = keep.ranges;
  ranges.insert(ranges.end(), other.ranges.begin(), other.ranges.end());
  merged.ranges = JoinRanges(std::move(ranges));
  merged.hidden_areas.insert(merged.hidden_areas.end(), other.hidden_areas.begin(),
                             other.hidden_areas.end());
  std::sort(merged.hidden_areas.begin(), merged.hidden_areas.end());
  for (const auto& [start, end] : merged.ranges) {
    KeyframeAt(merged, start, RangeOf(keep, start).has_value() ? keep : other);
  }
  return merged;
}

void RealignSectionProperties(json::object& properties, const VideoTrack& track) {
  std::vector<std::pair<int64_t, json::string>> outside;
  for (const auto& kv : properties) {
    const std::optional<int64_t> index = SectionFrame(kv.key());
    if (index.has_value() && !RangeOf(track, *index).has_value()) {
      outside.emplace_back(*index, kv.key());
    }
  }
  std::sort(outside.rbegin(), outside.rend());  // Latest first: its values win.
  for (const auto& [index, key] : outside) {
    std::optional<int64_t> next;
    for (const auto& [start, end] : track.ranges) {
      if (start >= index && (!next.has_value() || start < *next)) next = start;
    }
    if (next.has_value() && properties.at(key).is_object()) {
      const json::object values = properties.at(key).as_object();
      json::value& target = properties[std::to_string(*next)];
      if (!target.is_object()) target.emplace_object();
      for (const auto& kv : values) {
        if (!target.as_object().contains(kv.key())) target.as_object()[kv.key()] = kv.value();
      }
    }
    properties.erase(key);
  }
}

std::pair<json::object, json::object> SplitSectionProperties(const json::object& properties,
                                                             int64_t frame, int64_t after_start) {
  json::object before, after;
  std::map<int64_t, const json::object*> sections;
  for (const auto& kv : properties) {
    const std::optional<int64_t> index = SectionFrame(kv.key());
    if (!index.has_value()) {
      before[kv.key()] = kv.value();
      after[kv.key()] = kv.value();
    } else if (kv.value().is_object()) {
      sections[*index] = &kv.value().as_object();
    }
  }
  json::object in_effect;
  for (const auto& [index, values] : sections) {
    const std::string key = std::to_string(index);
    if (index < frame) {
      before[key] = *values;
      for (const auto& kv : *values) in_effect[kv.key()] = kv.value();
    } else {
      after[key] = *values;
    }
  }
  if (!in_effect.empty()) {
    json::value& at_start = after[std::to_string(after_start)];
    if (!at_start.is_object()) at_start.emplace_object();
    for (const auto& kv : in_effect) {
      if (!at_start.as_object().contains(kv.key())) at_start.as_object()[kv.key()] = kv.value();
    }
  }
  return {std::move(before), std::move(after)};
}

}  // namespace labelport::darwin_sim
