// BoxLabel: a FiftyOne detection for test inputs and expectations.
#ifndef LABELPORT_TESTS_UNIT_COMMON_BOX_LABEL_H_
#define LABELPORT_TESTS_UNIT_COMMON_BOX_LABEL_H_

#include <string>
#include <vector>

#include "labelport/v1/labels.pb.h"

namespace labelport::testing {

// A detection `id` labelled `label` over the relative box `bounding_box`
// (x, y, width, height; any other length for a malformed box).
inline labelport::v1::Detection BoxLabel(const std::string& id, const std::string& label,
                                         const std::vector<double>& bounding_box = {0, 0, 1, 1}) {
  labelport::v1::Detection box;
  box.set_id(id);
  box.set_label(label);
  for (double v : bounding_box) box.add_bounding_box(v);
  return box;
}

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_BOX_LABEL_H_
