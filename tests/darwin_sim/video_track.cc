#include "video_track.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

constexpr const char* kShapeKeys[] = {"bounding_box", "polygon",  "keypoint", "line",
                                      "ellipse",      "skeleton", "cuboid",   "directional_vector"};

// Linear interpolation of the numeric leaves of two values with the same
// layout; anything else (and arrays of different lengths) is held from `a`.
json::value Lerp(const json::value& a, const json::value& b, double t) {
  const std::optional<double> na = GetNumber(a);
  const std::optional<double> nb = GetNumber(b);
  if (na.has_value() && nb.has_value()) return *na + (*nb - *na) * t;
  if (a.is_object() && b.is_object()) {
    json::object out;
    for (const auto& kv : a.as_object()) {
      const json::value* other = b.as_object().if_contains(kv.key());
      out[kv.key()] = other == nullptr ? kv.value() : Lerp(kv.value(), *other, t);
    }
    return out;
  }
  if (a.is_array() && b.is_array() && a.as_array().size() == b.as_array().size()) {
    json::array out;
    for (size_t i = 0; i < a.as_array().size(); ++i) {
      out.push_back(Lerp(a.as_array()[i], b.as_array()[i], t));
    }
    return out;
  }
  return a;
}

absl::StatusOr<std::vector<FrameSpan>> ParseSpans(const json::value& v, const char* key,
                                                  bool inclusive) {
  const std::string rule =
      absl::StrCat(key, " must be a list of [start, end] integer pairs with 0 <= start ",
                   inclusive ? "<=" : "<", " end");
  if (v.is_null()) return std::vector<FrameSpan>();
  if (!v.is_array()) return absl::InvalidArgumentError(rule);
  std::vector<FrameSpan> out;
  for (const json::value& span : v.as_array()) {
    if (!span.is_array() || span.as_array().size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(rule, "; got ", json::serialize(span)));
    }
    const std::optional<int64_t> start = AsInt(span.as_array()[0]);
    const std::optional<int64_t> end = AsInt(span.as_array()[1]);
    if (!start.has_value() || !end.has_value() || *start < 0 ||
        (inclusive ? *start > *end : *start >= *end)) {
      return absl::InvalidArgumentError(absl::StrCat(rule, "; got ", json::serialize(span)));
    }
    out.emplace_back(*start, *end);
  }
  return out;
}

json::array SpansJson(const std::vector<FrameSpan>& spans) {
  json::array out;
  for (const auto& [start, end] : spans) out.push_back(json::array{start, end});
  return out;
}

}  // namespace

bool IsVideoData(const json::object& data) { return data.contains("frames"); }

absl::StatusOr<VideoTrack> ParseVideoTrack(const json::object& data) {
  VideoTrack track;
  const json::value* frames = data.if_contains("frames");
  if (frames == nullptr || !frames->is_object()) {
    return absl::InvalidArgumentError("frames must be an object keyed by frame index");
  }
  for (const auto& kv : frames->as_object()) {
    int64_t index = -1;
    if (!absl::SimpleAtoi(absl::string_view(kv.key().data(), kv.key().size()), &index) ||
        index < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "frames keys must be 0-based frame indices; got \"", std::string(kv.key()), "\""));
    }
    if (!kv.value().is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("frame ", index, " must be an object with the shape of that frame"));
    }
    track.frames[index] = kv.value().as_object();
  }
  const json::value* ranges = data.if_contains("segments");
  const char* ranges_key = "segments";
  if (ranges == nullptr) {
    ranges = data.if_contains("ranges");
    ranges_key = "ranges";
  }
  if (ranges != nullptr) {
    absl::StatusOr<std::vector<FrameSpan>> spans = ParseSpans(*ranges, ranges_key, false);
    if (!spans.ok()) return spans.status();
    track.ranges = std::move(*spans);
  }
  if (const json::value* hidden = data.if_contains("hidden_areas")) {
    absl::StatusOr<std::vector<FrameSpan>> spans = ParseSpans(*hidden, "hidden_areas", true);
    if (!spans.ok()) return spans.status();
    track.hidden_areas = std::move(*spans);
  }
  if (const json::value* interpolated = data.if_contains("interpolated");
      interpolated != nullptr && !interpolated->is_null()) {
    if (!interpolated->is_bool()) return absl::InvalidArgumentError("interpolated must be a bool");
    track.interpolated = interpolated->as_bool();
  }
  for (const auto& kv : data) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (key != "frames" && key != "segments" && key != "ranges" && key != "hidden_areas" &&
        key != "interpolated") {
      track.extra[kv.key()] = kv.value();
    }
  }
  return track;
}

json::object VideoTrackToData(const VideoTrack& track) {
  json::object out = track.extra;
  json::object frames;
  for (const auto& [index, frame] : track.frames) frames[std::to_string(index)] = frame;
  out["frames"] = std::move(frames);
  out["segments"] = SpansJson(track.ranges);
  out["hidden_areas"] = SpansJson(track.hidden_areas);
  if (track.interpolated.has_value()) out["interpolated"] = *track.interpolated;
  return out;
}

std::optional<FrameSpan> RangeOf(const VideoTrack& track, int64_t frame) {
  for (const FrameSpan& r : track.ranges) {
    if (r.first <= frame && frame < r.second) return r;
  }
  return std::nullopt;
}

bool IsHidden(const VideoTrack& track, int64_t frame) {
  for (const FrameSpan& h : track.hidden_areas) {
    if (h.first <= frame && frame <= h.second) return true;
  }
  return false;
}

json::object FrameAt(const VideoTrack& track, int64_t frame) {
  json::object out;
  if (auto it = track.frames.find(frame); it != track.frames.end()) {
    out = it->second;
    out.erase("keyframe");
    return out;
  }
  if (track.frames.empty()) return out;
  const auto next = track.frames.upper_bound(frame);
  const auto prev = next == track.frames.begin() ? track.frames.end() : std::prev(next);
  const std::optional<FrameSpan> range = RangeOf(track, frame);
  auto in_range = [&](auto it) {
    return it != track.frames.end() && range.has_value() && range->first <= it->first &&
           it->first < range->second;
  };
  auto base = prev;
  if (in_range(prev)) {
    base = prev;
  } else if (in_range(next)) {
    base = next;
  } else if (prev == track.frames.end()) {
    base = next;
  }
  out = base->second;
  if (track.interpolated.value_or(false) && in_range(prev) && in_range(next)) {
    const double t =
        static_cast<double>(frame - prev->first) / static_cast<double>(next->first - prev->first);
    for (const char* key : kShapeKeys) {
      const json::value* a = prev->second.if_contains(key);
      const json::value* b = next->second.if_contains(key);
      if (a != nullptr && b != nullptr) out[key] = Lerp(*a, *b, t);
    }
  }
  out.erase("keyframe");
  return out;
}

std::vector<FrameSpan> JoinRanges(std::vector<FrameSpan> spans) {
  std::sort(spans.begin(), spans.end());
  std::vector<FrameSpan> out;
  for (const FrameSpan& s : spans) {
    if (!out.empty() && s.first <= out.back().second) {
      out.back().second = std::max(out.back().second, s.second);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace labelport::darwin_sim
