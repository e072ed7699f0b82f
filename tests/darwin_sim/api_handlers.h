// Handlers of the V7 API endpoints darwin-sim serves (darwin-api.md §2, §10.3).
// Each handler takes Store's lock itself and never throws.
#ifndef LABELPORT_TESTS_DARWIN_SIM_API_HANDLERS_H_
#define LABELPORT_TESTS_DARWIN_SIM_API_HANDLERS_H_

#include <string>
#include <vector>

#include "http_types.h"
#include "store.h"

namespace labelport::darwin_sim {

struct ApiContext {
  Store& store;
  const SimRequest& req;
  std::vector<std::string> params;  // Path captures, in order.
  int64_t team_id = 0;              // Authenticated team (0 on public routes).
};

using ApiHandler = SimResponse (*)(ApiContext&);

// Teams, datasets, types, workflows (api_datasets.cc).
SimResponse HandleTokenInfo(ApiContext& ctx);        // E1
SimResponse HandleFeatures(ApiContext& ctx);         // E2
SimResponse HandleStorage(ApiContext& ctx);          // E3
SimResponse HandleListDatasets(ApiContext& ctx);     // E4
SimResponse HandleCreateDataset(ApiContext& ctx);    // E5
SimResponse HandleGetDataset(ApiContext& ctx);       // E6
SimResponse HandleArchiveDataset(ApiContext& ctx);   // E7
SimResponse HandleDatasetBySlug(ApiContext& ctx);    // E8
SimResponse HandleAttributes(ApiContext& ctx);       // E9
SimResponse HandleAnnotationTypes(ApiContext& ctx);  // E10
SimResponse HandleListWorkflows(ApiContext& ctx);    // E41
SimResponse HandleGetWorkflow(ApiContext& ctx);      // E42
SimResponse HandleUnlinkWorkflow(ApiContext& ctx);   // E43
SimResponse HandleDeleteWorkflow(ApiContext& ctx);   // E44
SimResponse HandlePutWorkflow(ApiContext& ctx);      // E45

// Classes and properties (api_classes.cc).
SimResponse HandleListClasses(ApiContext& ctx);      // E11
SimResponse HandleCreateClass(ApiContext& ctx);      // E12
SimResponse HandleUpdateClass(ApiContext& ctx);      // E13
SimResponse HandleCreateTeamClass(ApiContext& ctx);  // E14
SimResponse HandleDeleteClass(ApiContext& ctx);      // E15
SimResponse HandleListProperties(ApiContext& ctx);   // E16
SimResponse HandleCreateProperty(ApiContext& ctx);   // E17
SimResponse HandleUpdateProperty(ApiContext& ctx);   // E18
SimResponse HandleGetProperty(ApiContext& ctx);      // E19
SimResponse HandleDeleteProperty(ApiContext& ctx);   // E20

// Items (api_items.cc).
SimResponse HandleListItems(ApiContext& ctx);       // E21
SimResponse HandleStatusCounts(ApiContext& ctx);    // E22
SimResponse HandleArchiveItems(ApiContext& ctx);    // E30
SimResponse HandleRestoreItems(ApiContext& ctx);    // E31
SimResponse HandleDeleteItems(ApiContext& ctx);     // E32
SimResponse HandleMoveToStage(ApiContext& ctx);     // E33
SimResponse HandleCommentThreads(ApiContext& ctx);  // E34

// Uploads and file serving (api_uploads.cc).
SimResponse HandleRegisterUpload(ApiContext& ctx);    // E23
SimResponse HandleSignUpload(ApiContext& ctx);        // E24
SimResponse HandlePutUpload(ApiContext& ctx);         // E25 (no auth)
SimResponse HandleConfirmUpload(ApiContext& ctx);     // E26
SimResponse HandleDirectUpload(ApiContext& ctx);      // E27
SimResponse HandleRegisterExisting(ApiContext& ctx);  // E28
SimResponse HandleRegisterReadonly(ApiContext& ctx);  // E29
SimResponse HandleGetSourceFile(ApiContext& ctx);     // E48 (no auth)
SimResponse HandleGetSlotFile(ApiContext& ctx);       // E48 (no auth)

// Annotations (api_annotations.cc).
SimResponse HandleImport(ApiContext& ctx);           // E35
SimResponse HandleItemAnnotations(ApiContext& ctx);  // E36
SimResponse HandleItemProperties(ApiContext& ctx);   // E37

// Exports (api_exports.cc).
SimResponse HandleCreateExport(ApiContext& ctx);    // E38
SimResponse HandleListExports(ApiContext& ctx);     // E39
SimResponse HandleDeleteExport(ApiContext& ctx);    // DELETE …/exports/{name}
SimResponse HandleDownloadExport(ApiContext& ctx);  // E40 (no auth)

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_API_HANDLERS_H_
