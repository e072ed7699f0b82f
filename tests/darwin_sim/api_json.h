// Wire shapes of darwin-sim's V7 API objects (darwin-api.md §2). Pure
// functions of the state; callers hold Store's lock.
#ifndef LABELPORT_TESTS_DARWIN_SIM_API_JSON_H_
#define LABELPORT_TESTS_DARWIN_SIM_API_JSON_H_

#include <string>

#include "boost/json.hpp"
#include "state.h"

namespace labelport::darwin_sim {

boost::json::object DatasetJson(const State& state, const Dataset& ds);
boost::json::object ClassJson(const AnnotationClass& cls);
boost::json::object PropertyJson(const Property& p, bool include_values);
// E21 item; `workflow_data` only when requested and a workflow exists.
boost::json::object ItemJson(const State& state, const Item& item, bool include_workflow_data);
// E36 element (import format).
boost::json::object StoredAnnotationJson(const Annotation& a);
boost::json::object ExportJson(const State& state, const Export& exp, const std::string& base_url);
boost::json::object WorkflowJson(const State& state, const Workflow& wf);
// The fixed annotation type table of §8.2 (ids are non-zero).
const boost::json::array& AnnotationTypesJson();
// Id of the annotation type `name`, or 0 when unknown.
int64_t AnnotationTypeId(std::string_view name);
std::string AnnotationTypeName(int64_t id);
bool IsMainAnnotationType(std::string_view name);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_API_JSON_H_
