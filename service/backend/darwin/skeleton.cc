#include "service/backend/darwin/skeleton.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
namespace v1 = labelport::v1;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

int NodeCount(const v1::KeypointSkeleton& s) {
  int n = s.labels_size();
  for (const auto& e : s.edges())
    for (uint32_t i : e.nodes()) n = std::max(n, static_cast<int>(i) + 1);
  return n;
}

}  // namespace

std::string SkeletonNodeName(const v1::KeypointSkeleton& skeleton, int index) {
  if (index < skeleton.labels_size() && !skeleton.labels(index).empty())
    return skeleton.labels(index);
  return absl::StrCat(index);
}

json::object SkeletonClassMetadata(const v1::KeypointSkeleton& skeleton) {
  const int n = NodeCount(skeleton);
  json::array nodes;
  for (int i = 0; i < n; ++i) {
    const double angle = 2 * kPi * i / std::max(n, 1);
    nodes.emplace_back(json::object{{"name", SkeletonNodeName(skeleton, i)},
                                    {"x", 0.5 + 0.4 * std::cos(angle)},
                                    {"y", 0.5 + 0.4 * std::sin(angle)}});
  }
  json::array edges;
  for (const auto& e : skeleton.edges()) {
    for (int k = 0; k + 1 < e.nodes_size(); ++k) {
      edges.emplace_back(
          json::object{{"from", SkeletonNodeName(skeleton, static_cast<int>(e.nodes(k)))},
                       {"to", SkeletonNodeName(skeleton, static_cast<int>(e.nodes(k + 1)))}});
    }
  }
  return json::object{
      {"_color", "auto"},
      {"skeleton", json::object{{"nodes", std::move(nodes)}, {"edges", std::move(edges)}}}};
}

json::object SkeletonBody(const v1::Keypoint& keypoint, const v1::KeypointSkeleton& skeleton,
                          int width, int height) {
  const int n = std::max(NodeCount(skeleton), keypoint.points_size());
  json::array nodes;
  for (int i = 0; i < n; ++i) {
    const bool present = i < keypoint.points_size() && !std::isnan(keypoint.points(i).x()) &&
                         !std::isnan(keypoint.points(i).y());
    const double x = present ? std::clamp(keypoint.points(i).x(), 0.0, 1.0) * width : 0.0;
    const double y = present ? std::clamp(keypoint.points(i).y(), 0.0, 1.0) * height : 0.0;
    nodes.emplace_back(json::object{
        {"name", SkeletonNodeName(skeleton, i)}, {"occluded", !present}, {"x", x}, {"y", y}});
  }
  return json::object{{"nodes", std::move(nodes)}};
}

std::vector<v1::Point> SkeletonPoints(const std::vector<SkeletonNode>& nodes,
                                      const v1::KeypointSkeleton* skeleton, double width,
                                      double height) {
  std::map<std::string, int> index;
  int n = 0;
  if (skeleton != nullptr) {
    n = NodeCount(*skeleton);
    for (int i = 0; i < n; ++i) index.emplace(SkeletonNodeName(*skeleton, i), i);
  }
  std::vector<v1::Point> points(n);
  for (auto& p : points) {
    p.set_x(kNaN);
    p.set_y(kNaN);
  }
  for (const SkeletonNode& node : nodes) {
    auto it = index.find(node.name);
    v1::Point* p = nullptr;
    if (it != index.end()) {
      p = &points[it->second];
    } else {
      p = &points.emplace_back();
      p->set_x(kNaN);
      p->set_y(kNaN);
    }
    if (node.occluded) continue;
    p->set_x(node.x / std::max(width, 1.0));
    p->set_y(node.y / std::max(height, 1.0));
  }
  return points;
}

}  // namespace labelport::backend::darwin
