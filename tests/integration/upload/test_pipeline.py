"""The upload pipeline overlaps its phases: a sample's labels are imported (E35) as soon as V7
has processed its item, while other items are still processing."""

from __future__ import annotations


from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from server.waiting import wait_until

from .support import (
    create_run, detection, detections, field_schema, header, image_sample, items_by_sample,
    make_image, media, state_name, wait_run,
)

SLOW = "s0"


def wait_for(predicate, what: str, timeout: float = 30):
    return wait_until(predicate, timeout, what)


def imported_item_ids(sim) -> list:
    return [r["path"].split("/items/")[1].split("/")[0] for r in sim.requests()
            if r["path"].endswith("/import") and r["status"] == 200]


def test_processed_items_are_imported_while_another_item_still_processes(
        sim, upload_server, tmp_path):
    # Items stay 'processing' until the test moves them to 'new'.
    sim.configure(processing_delay_ms=600_000)
    samples = []
    for k in range(6):
        make_image(tmp_path / f"p{k}.png")
        samples.append(image_sample(f"s{k}", media(path=tmp_path / f"p{k}.png"),
                                    gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5]))))
    server = upload_server(sim, args=["--import_concurrency", "2"])
    hdr = header("pipe", [field_schema("gt", "detections", ["car"])], slug="pipe-ds",
                 existing=[("gt", "Detections")])
    run = create_run(server.stub, hdr, samples)

    def confirmed():
        try:
            found = items_by_sample(sim, "pipe-ds")
        except AssertionError:  # no dataset yet
            return None
        if len(found) == 6 and all(i["status"] == "processing" for i in found.values()):
            return found
        return None

    # Every item uploaded (confirmed: V7 is processing it).
    items = wait_for(confirmed, "six confirmed uploads")
    for sample_id, item in items.items():
        if sample_id != SLOW:
            sim.control("POST", f"/_sim/items/{item['id']}/status", {"status": "new"})

    fast_ids = {item["id"] for sample_id, item in items.items() if sample_id != SLOW}
    wait_for(lambda: set(imported_item_ids(sim)) >= fast_ids,
             "the imports of the five processed items")
    # The slow item is still processing: nothing was imported for it and the run is uploading.
    assert items[SLOW]["id"] not in imported_item_ids(sim)
    assert items_by_sample(sim, "pipe-ds")[SLOW]["status"] == "processing"
    in_flight = server.stub.GetRun(svc.GetRunRequest(name=run.name), timeout=10).run
    assert in_flight.state == run_pb.RUN_STATE_UPLOADING, in_flight
    assert in_flight.progress.samples_completed == 5, in_flight.progress

    sim.control("POST", f"/_sim/items/{items[SLOW]['id']}/status", {"status": "new"})
    final = wait_run(server.stub, run.name, timeout=60)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert final.progress.samples_completed == 6
    # One import per item, the slow one last.
    imported = imported_item_ids(sim)
    assert sorted(imported) == sorted(item["id"] for item in items.values())
    assert imported[-1] == items[SLOW]["id"]
    for item in items.values():
        (anno,) = sim.annotations(item["id"])
        assert anno["data"] == {"x": 8, "y": 6, "w": 16, "h": 12}
