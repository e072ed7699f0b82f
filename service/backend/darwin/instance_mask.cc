#include "service/backend/darwin/instance_mask.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <utility>

namespace labelport::backend::darwin {
namespace {

namespace v1 = labelport::v1;

// Directions of pixel edges, clockwise on screen (y downward).
enum Dir : int { kRight = 0, kDown = 1, kLeft = 2, kUp = 3 };

struct Edge {
  int64_t to = 0;
  Dir dir = kRight;
  bool used = false;
};

}  // namespace

PixelPaths TraceInstanceMask(const v1::Detection& d, int width, int height) {
  PixelPaths out;
  const v1::InstanceMask& m = d.instance_mask();
  const int64_t mw = m.width(), mh = m.height();
  if (mw <= 0 || mh <= 0 || d.bounding_box_size() != 4 ||
      static_cast<int64_t>(m.mask().size()) != mw * mh)
    return out;
  auto set = [&](int64_t r, int64_t c) {
    return r >= 0 && c >= 0 && r < mh && c < mw && m.mask()[r * mw + c] != 0;
  };
  auto vertex = [&](int64_t i, int64_t j) { return i * (mw + 1) + j; };
  // Outgoing boundary edges by start vertex: each set pixel contributes the
  // sides it shares with an unset (or outside) pixel, clockwise.
  std::unordered_map<int64_t, std::vector<Edge>> edges;
  for (int64_t r = 0; r < mh; ++r) {
    for (int64_t c = 0; c < mw; ++c) {
      if (!set(r, c)) continue;
      if (!set(r - 1, c)) edges[vertex(r, c)].push_back({vertex(r, c + 1), kRight});
      if (!set(r, c + 1)) edges[vertex(r, c + 1)].push_back({vertex(r + 1, c + 1), kDown});
      if (!set(r + 1, c)) edges[vertex(r + 1, c + 1)].push_back({vertex(r + 1, c), kLeft});
      if (!set(r, c - 1)) edges[vertex(r + 1, c)].push_back({vertex(r, c), kUp});
    }
  }
  const double bx = d.bounding_box(0), by = d.bounding_box(1);
  const double bw = d.bounding_box(2), bh = d.bounding_box(3);
  auto point = [&](int64_t v) {
    const int64_t i = v / (mw + 1), j = v % (mw + 1);
    const double x =
        std::clamp(bx + bw * static_cast<double>(j) / static_cast<double>(mw), 0.0, 1.0);
    const double y =
        std::clamp(by + bh * static_cast<double>(i) / static_cast<double>(mh), 0.0, 1.0);
    return PixelPoint{x * width, y * height};
  };
  // Follow unused edges into closed loops. At a vertex with two ways out
  // (pixels touching only at a corner) turn right, so loops stay simple;
  // every edge is used once, which is all the even-odd fill needs.
  std::vector<int64_t> starts;
  starts.reserve(edges.size());
  for (const auto& [v, list] : edges) starts.push_back(v);
  std::sort(starts.begin(), starts.end());
  for (int64_t start : starts) {
    for (size_t k = 0; k < edges[start].size(); ++k) {
      if (edges[start][k].used) continue;
      std::vector<std::pair<int64_t, Dir>> loop;  // (vertex, direction leaving it)
      int64_t at = start;
      Edge* e = &edges[start][k];
      while (true) {
        e->used = true;
        loop.emplace_back(at, e->dir);
        at = e->to;
        if (at == start) break;
        Edge* next = nullptr;
        const Dir right = static_cast<Dir>((e->dir + 1) % 4);
        for (Edge& x : edges[at]) {
          if (x.used) continue;
          if (next == nullptr || x.dir == right) next = &x;
        }
        if (next == nullptr) break;
        e = next;
      }
      std::vector<PixelPoint> path;
      for (size_t i = 0; i < loop.size(); ++i) {
        const Dir in = loop[(i + loop.size() - 1) % loop.size()].second;
        if (loop[i].second != in) path.push_back(point(loop[i].first));
      }
      if (path.size() >= 3) out.push_back(std::move(path));
    }
  }
  return out;
}

PixelPaths InstancePolygon(const v1::Detection& d, int width, int height) {
  PixelPaths paths = TraceInstanceMask(d, width, height);
  if (!paths.empty() || d.bounding_box_size() != 4) return paths;
  const double x0 = std::clamp(d.bounding_box(0), 0.0, 1.0) * width;
  const double y0 = std::clamp(d.bounding_box(1), 0.0, 1.0) * height;
  const double x1 = std::clamp(d.bounding_box(0) + d.bounding_box(2), 0.0, 1.0) * width;
  const double y1 = std::clamp(d.bounding_box(1) + d.bounding_box(3), 0.0, 1.0) * height;
  paths.push_back({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}});
  return paths;
}

void RasterizeInstance(const PixelPaths& paths, int width, int height, v1::Detection* d) {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool any = false;
  for (const auto& path : paths) {
    for (const PixelPoint& p : path) {
      if (!any) {
        x0 = x1 = p.x;
        y0 = y1 = p.y;
        any = true;
      }
      x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
      y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    }
  }
  // V7's coordinates are untrusted: the mask covers the polygon's part of the image only.
  x0 = std::clamp(x0, 0.0, static_cast<double>(width));
  x1 = std::clamp(x1, x0, static_cast<double>(width));
  y0 = std::clamp(y0, 0.0, static_cast<double>(height));
  y1 = std::clamp(y1, y0, static_cast<double>(height));
  const double w = std::max(1, width), h = std::max(1, height);
  d->clear_bounding_box();
  for (double v : {x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h}) d->add_bounding_box(v);
  const int64_t mw = std::max<int64_t>(1, std::llround(x1 - x0));
  const int64_t mh = std::max<int64_t>(1, std::llround(y1 - y0));
  std::string mask(static_cast<size_t>(mw * mh), '\0');
  std::vector<double> crossings;
  for (int64_t r = 0; r < mh; ++r) {
    const double y = y0 + (static_cast<double>(r) + 0.5) * (y1 - y0) / static_cast<double>(mh);
    crossings.clear();
    for (const auto& path : paths) {
      for (size_t i = 0; i < path.size(); ++i) {
        const PixelPoint& p = path[i];
        const PixelPoint& q = path[(i + 1) % path.size()];
        if ((p.y <= y) == (q.y <= y)) continue;
        crossings.push_back(p.x + (y - p.y) * (q.x - p.x) / (q.y - p.y));
      }
    }
    std::sort(crossings.begin(), crossings.end());
    for (size_t k = 0; k + 1 < crossings.size(); k += 2) {
      for (int64_t c = 0; c < mw; ++c) {
        const double x = x0 + (static_cast<double>(c) + 0.5) * (x1 - x0) / static_cast<double>(mw);
        if (x >= crossings[k] && x < crossings[k + 1]) mask[r * mw + c] = 1;
      }
    }
  }
  v1::InstanceMask* m = d->mutable_instance_mask();
  m->set_width(static_cast<uint32_t>(mw));
  m->set_height(static_cast<uint32_t>(mh));
  m->set_mask(std::move(mask));
  m->set_boolean(false);
  d->set_has_mask(true);
}

bool SamePaths(const PixelPaths& a, const PixelPaths& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (size_t k = 0; k < a[i].size(); ++k) {
      if (std::abs(a[i][k].x - b[i][k].x) > 1e-3 || std::abs(a[i][k].y - b[i][k].y) > 1e-3)
        return false;
    }
  }
  return true;
}

}  // namespace labelport::backend::darwin
