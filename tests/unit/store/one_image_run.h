// Test support: a pending darwin run of tenant "tenant", dataset "dataset",
// with one image sample "s1" (/data/s1.jpg), for the tests of run changes.
#ifndef LABELPORT_TESTS_UNIT_STORE_ONE_IMAGE_RUN_H_
#define LABELPORT_TESTS_UNIT_STORE_ONE_IMAGE_RUN_H_

#include <string>

#include "labelport/v1/sample.pb.h"
#include "service/store/run_store.h"

namespace labelport::store::testing {

inline NewRun OneImageRun(const std::string& anno_key) {
  NewRun run;
  run.key = RunKey{"tenant", "dataset", anno_key};
  run.record.set_backend("darwin");
  run.record.set_state(labelport::v1::RUN_STATE_PENDING);
  labelport::v1::Sample& sample = run.samples.emplace_back();
  sample.set_id("s1");
  sample.mutable_media()->set_path("/data/s1.jpg");
  sample.set_media_type(labelport::v1::MEDIA_TYPE_IMAGE);
  return run;
}

}  // namespace labelport::store::testing

#endif  // LABELPORT_TESTS_UNIT_STORE_ONE_IMAGE_RUN_H_
