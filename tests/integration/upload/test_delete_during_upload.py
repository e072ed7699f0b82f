"""DeleteRun while a run uploads (issue #15 item 6): refused with FAILED_PRECONDITION and a
hint (field "name", reason RUN_UPLOADING), so that no job goes on creating V7 items for a run
that no longer exists. The refused call changes nothing: the upload completes; CleanupRun then
removes what the run created in V7 and DeleteRun succeeds, after which V7 sees nothing more of
the run."""

from __future__ import annotations

import time

import grpc
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from server.helpers import assert_error, call_error

from .support import (
    create_run, detection, detections, field_schema, header, image_sample, items_by_sample,
    make_image, media, state_name, wait_run,
)

SAMPLES = 40
V7_WRITES = ("/_upload/", "/confirm", "/import", "/register")


def v7_writes_after(sim, seq: int) -> list:
    return [r for r in sim.requests() if r["seq"] > seq and r["method"] in ("PUT", "POST")
            and any(w in r["path"] for w in V7_WRITES)]


def test_delete_run_during_its_upload_is_refused_and_the_documented_way_leaves_v7_clean(
        sim, upload_server, tmp_path):
    sim.configure(latency_ms=30)  # the upload lasts a few seconds
    server = upload_server(sim, args=["--upload_concurrency", "2"])
    image = make_image(tmp_path / "img.png")
    samples = [image_sample(f"s{k:02d}", media(path=image),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5],
                                                    id=f"{k:024x}")))
               for k in range(SAMPLES)]
    run = create_run(server.stub, header("doomed", [field_schema("gt", "detections", ["car"])],
                                         slug="doomed", existing=[("gt", "Detections")]),
                     samples)
    uploading = wait_run(server.stub, run.name, timeout=60, states=[run_pb.RUN_STATE_UPLOADING])

    err = call_error(server.stub.DeleteRun, svc.DeleteRunRequest(name=run.name), timeout=10)
    assert_error(
        err,
        grpc.StatusCode.FAILED_PRECONDITION,
        f"Run '{run.name}' is UPLOADING: its upload is still creating items in V7, which a "
        "deleted run could no longer clean up. Wait until it is ANNOTATING or FAILED "
        "(WatchRun), call CleanupRun if its V7 items should go, then DeleteRun",
        field="name",
        reason="RUN_UPLOADING",
    )
    # The refusal changed nothing: the run is there and its upload goes on to the end.
    assert server.stub.GetRun(svc.GetRunRequest(name=run.name), timeout=10).run.uid == \
        uploading.uid
    final = wait_run(server.stub, run.name, timeout=120)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert final.progress.samples_completed == SAMPLES
    assert len(items_by_sample(sim, "doomed")) == SAMPLES

    # The documented way: CleanupRun removes what the run created (here the dataset it
    # created), then DeleteRun succeeds.
    cleaned = server.stub.CleanupRun(svc.CleanupRunRequest(name=run.name), timeout=60)
    assert cleaned.run.state == run_pb.RUN_STATE_CLEANED_UP
    assert cleaned.dataset_deleted
    assert sim.dataset("doomed")["archived"]
    mark = max(r["seq"] for r in sim.requests())
    server.stub.DeleteRun(svc.DeleteRunRequest(name=run.name), timeout=10)
    err = call_error(server.stub.GetRun, svc.GetRunRequest(name=run.name), timeout=10)
    assert err.code() == grpc.StatusCode.NOT_FOUND
    # Nothing of the run reaches V7 afterwards (observed for a while: a late job would show).
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert v7_writes_after(sim, mark) == []
        time.sleep(0.1)
