"""Fault tolerance of the upload (DESIGN §6; checklist 76): 429 storms with Retry-After, 503s,
dropped connections, truncated answers and slow responses; the run still completes with exactly
one item and the expected annotations per sample."""

from __future__ import annotations

from .support import (
    DeterministicIds, create_run, detection, detections, field_schema, header, image_sample,
    items_by_sample, make_image, media, state_name, wait_run,
)


def run_and_check(server, sim, tmp_path, key: str, count: int, timeout: float = 90):
    path = make_image(tmp_path / key / "img.jpg")
    samples = [image_sample(f"{key}{k}", media(path=path),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5],
                                                    id=f"{k:024x}")))
               for k in range(count)]
    run = create_run(server.stub, header(key, [field_schema("gt", "detections", ["car"])],
                                         slug=key, existing=[("gt", "Detections")]), samples)
    final = wait_run(server.stub, run.name, timeout=timeout)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert list(final.sample_errors) == []
    p = final.progress
    assert (p.samples_completed, p.samples_failed, p.labels_imported) == (count, 0, count)
    items = items_by_sample(sim, key)
    assert len(items) == count
    ids = DeterministicIds(run.uid)
    for k in range(count):
        item = items[f"{key}{k}"]
        assert item["status"] == "new"
        (anno,) = sim.annotations(item["id"])
        assert anno["id"] == ids.of(f"{k:024x}")
        assert anno["data"] == {"x": 8, "y": 6, "w": 16, "h": 12}
    return final


def faulted(sim, kind: str) -> list:
    return [r for r in sim.requests() if r["fault"] == kind]


def test_429_storm_with_retry_after_and_503s(sim, upload_server, tmp_path):
    # A storm over the concurrent phase (sign, confirm: many calls in flight at once) and a
    # short one over the serial set-up calls (each call gets at most 5 attempts).
    sim.fault(method="*", path="/api/v2/teams/*/items/uploads/*", count=25, action="status",
              status=429, retry_after=1)
    sim.fault(method="*", path="/api/*", count=3, action="status", status=429, retry_after=1)
    sim.fault(method="POST", path="/api/v2/teams/*/items/uploads/*/confirm", count=5,
              action="status", status=503)
    sim.fault(method="POST", path="/api/v2/teams/*/items/*/import", count=5, action="status",
              status=503)
    sim.fault(method="PUT", path="/_upload/*", count=3, action="status", status=503)
    server = upload_server(sim)
    run_and_check(server, sim, tmp_path, "storm", 20)
    assert len(faulted(sim, "status")) == 41


def test_dropped_and_truncated_connections(sim, upload_server, tmp_path):
    for method, path in [("POST", "/api/v2/teams/*/items/register_upload"),
                         ("GET", "/api/v2/teams/*/items/uploads/*/sign"),
                         ("PUT", "/_upload/*"),
                         ("POST", "/api/v2/teams/*/items/uploads/*/confirm"),
                         ("POST", "/api/v2/teams/*/items/*/import"),
                         ("GET", "/api/v2/teams/*/items")]:
        sim.fault(method=method, path=path, count=2, action="drop")
    # Truncated answers: the work was done, but the client never saw the answer.
    # (register_upload has its own test below.)
    for method, path in [("POST", "/api/v2/teams/*/items/uploads/*/confirm"),
                         ("POST", "/api/v2/teams/*/items/*/import"),
                         ("POST", "/api/annotation_classes")]:
        sim.fault(method=method, path=path, count=1, action="truncate")
    server = upload_server(sim)
    run_and_check(server, sim, tmp_path, "dropped", 12)
    assert len(faulted(sim, "drop")) == 12
    assert len(faulted(sim, "truncate")) == 3
    # The class was created once, even though its create answer was lost.
    cars = [c for c in sim.classes() if c["name"] == "car"]
    assert len(cars) == 1


def test_lost_registration_answer_is_recovered(sim, upload_server, tmp_path):
    # V7 registered the items but the answer (with the upload ids) was lost: the repeated
    # registration answers ALREADY_EXISTS without upload ids, so the server deletes those
    # items and registers them again. The run ends with exactly one item per sample.
    sim.fault(method="POST", path="/api/v2/teams/*/items/register_upload", count=1,
              action="truncate")
    server = upload_server(sim)
    run_and_check(server, sim, tmp_path, "lostreg", 6)
    assert len(faulted(sim, "truncate")) == 1
    deletes = [r for r in sim.requests() if r["method"] == "DELETE" and
               r["path"].endswith("/items")]
    assert deletes, "the orphaned items were not deleted"


def test_slow_responses(sim, upload_server, tmp_path):
    sim.configure(latency_ms=100, processing_delay_ms=500)
    sim.fault(method="GET", path="/api/v2/teams/*/items/uploads/*/sign", count=2,
              latency_ms=2500)
    server = upload_server(sim)
    run_and_check(server, sim, tmp_path, "slow", 16)
