// Test support: the CreateRun header most run tests start from: run
// `anno_key` of dataset "ds", annotating field "gt" with detections of class
// "cat".
#ifndef LABELPORT_TESTS_UNIT_COMMON_CAT_DETECTIONS_HEADER_H_
#define LABELPORT_TESTS_UNIT_COMMON_CAT_DETECTIONS_HEADER_H_

#include <string>

#include "labelport/v1/annotation_service.pb.h"
#include "tests/unit/common/text_proto.h"

namespace labelport::testing {

inline labelport::v1::CreateRunHeader CatDetectionsHeader(const std::string& anno_key) {
  auto header = Parse<labelport::v1::CreateRunHeader>(R"pb(
    parent: "datasets/ds"
    label_schema {
      fields {
        field: "gt"
        type: "detections"
        classes { entries { name: "cat" } }
      }
    }
  )pb");
  header.set_anno_key(anno_key);
  return header;
}

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_CAT_DETECTIONS_HEADER_H_
