#include "skeletons.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("skeleton: ", what));
}

std::set<std::string> NodeNames(const json::object& metadata) {
  std::set<std::string> out;
  const json::object skeleton = GetObject(metadata, "skeleton");
  for (const json::value& n : GetArray(skeleton, "nodes")) {
    if (n.is_object()) out.insert(GetString(n.as_object(), "name"));
  }
  return out;
}

}  // namespace

absl::Status ValidateSkeletonMetadata(const json::object& metadata) {
  const json::value* skeleton = Find(metadata, "skeleton");
  if (skeleton == nullptr || !skeleton->is_object())
    return Bad("a skeleton class needs metadata.skeleton {nodes, edges}");
  const json::value* nodes = Find(skeleton->as_object(), "nodes");
  if (nodes == nullptr || !nodes->is_array() || nodes->as_array().empty())
    return Bad("metadata.skeleton.nodes must be a non-empty list");
  std::set<std::string> names;
  for (const json::value& n : nodes->as_array()) {
    if (!n.is_object()) return Bad("a node must be an object {name, x, y}");
    const std::string name = GetString(n.as_object(), "name");
    if (name.empty()) return Bad("a node needs a name");
    if (!names.insert(name).second) return Bad(absl::StrCat("node '", name, "' appears twice"));
  }
  for (const json::value& e : GetArray(skeleton->as_object(), "edges")) {
    if (!e.is_object()) return Bad("an edge must be an object {from, to}");
    for (const char* end : {"from", "to"}) {
      const std::string name = GetString(e.as_object(), end);
      if (names.count(name) == 0)
        return Bad(absl::StrCat("edge ", end, " '", name, "' is not a node"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSkeletonData(const AnnotationClass& cls, const json::value& body) {
  if (!body.is_object()) return Bad("must be an object {nodes}");
  const json::value* nodes = Find(body.as_object(), "nodes");
  if (nodes == nullptr || !nodes->is_array()) return Bad("nodes must be a list");
  const std::set<std::string> known = NodeNames(cls.metadata);
  std::set<std::string> seen;
  for (const json::value& n : nodes->as_array()) {
    if (!n.is_object()) return Bad("a node must be an object {name, occluded, x, y}");
    const json::object& node = n.as_object();
    const std::string name = GetString(node, "name");
    if (known.count(name) == 0)
      return Bad(
          absl::StrCat("node '", name, "' is not in the skeleton of class '", cls.name, "'"));
    if (!seen.insert(name).second) return Bad(absl::StrCat("node '", name, "' appears twice"));
    const json::value* x = Find(node, "x");
    const json::value* y = Find(node, "y");
    if (x == nullptr || y == nullptr || !GetNumber(*x) || !GetNumber(*y))
      return Bad(absl::StrCat("node '", name, "' needs numeric x and y"));
  }
  return absl::OkStatus();
}

}  // namespace labelport::darwin_sim
