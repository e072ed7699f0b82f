// Export generation (darwin-api.md §7 and §10.5): converts stored annotations
// (import format) back to Darwin JSON 2.0 and packs one file per item, plus
// `.v7/metadata.json` when properties apply, into a flat zip.
//
// All functions are pure over a State snapshot; the caller holds Store's lock.
#ifndef LABELPORT_TESTS_DARWIN_SIM_EXPORT_BUILDER_H_
#define LABELPORT_TESTS_DARWIN_SIM_EXPORT_BUILDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json.hpp"
#include "state.h"

namespace labelport::darwin_sim {

struct BuiltExport {
  std::string zip;
  // E39 `metadata`: {num_images, annotation_classes: [{id, name}]}.
  boost::json::object metadata;
};

// True when `item` passes the export's `filters` (absent filters: only
// `complete` items; archived items only when `statuses` names "archived").
bool ItemMatchesExportFilters(const State& state, const Item& item,
                              const boost::json::value& filters);

// The Darwin JSON 2.0 document of one item, with URLs under `base_url`.
boost::json::object ItemToDarwinJson(const State& state, const Item& item, const Export& options,
                                     const std::string& base_url);

// Converts one stored annotation to its Darwin JSON 2.0 form.
boost::json::object AnnotationToDarwinJson(const State& state, const Item& item,
                                           const Annotation& annotation, bool include_authorship);

// Builds the whole export of `exp.dataset_id`.
// Errors: InvalidArgument for an unsupported format; Internal from the zip.
absl::StatusOr<BuiltExport> BuildExport(const State& state, const Export& exp);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_EXPORT_BUILDER_H_
