"""Load transport and run operations: retries, export timeout, export scope and deletion,
broken downloads, cleanup after load, GetRunStatus and CleanupRun (annotation-semantics §5.10,
§5.12; checklist 52, 67, 68, 76, 77; defects D9, D12, D21, D26)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import grpc
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc

from .conftest import EXPORT_TIMEOUT_S, start_server
from .support import (
    STANDARD_EXISTING, by_id, label_list, load, load_error, make_run, standard_fields,
    standard_labels, standard_run,
)


def archive_items(sim, run, item_ids, archived: bool) -> None:
    """Archives (or restores) items through the V7 API, as a V7 user would."""
    req = urllib.request.Request(
        f"{sim.url}/api/v2/teams/{sim.team}/items/{'archive' if archived else 'restore'}",
        method="POST", headers={"Authorization": f"ApiKey {sim.api_key}",
                                "Content-Type": "application/json"},
        data=json.dumps({"filters": {"item_ids": item_ids,
                                     "dataset_ids": [sim.dataset(run.slug)["id"]]}}).encode())
    with urllib.request.urlopen(req, timeout=20) as resp:
        assert resp.status == 200


def exports_count(sim) -> int:
    return sim.state()["exports_count"]


def export_requests(sim, method: str) -> list:
    return [r for r in sim.api_requests() if r["method"] == method and "/exports" in r["path"]]


# ---- 77: scope and clean-up of exports ----------------------------------------------------------


def test_only_runs_items_exported_and_export_deleted(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path, samples=2)
    # Another run's item in the same V7 dataset, with annotations.
    other = make_run(sim, server.stub, tmp_path, standard_fields(), {"t0": standard_labels()},
                     STANDARD_EXISTING, slug=r.slug)
    assert other.item_id("t0") not in {r.item_id("s0"), r.item_id("s1")}
    sim.control("DELETE", "/_sim/requests")
    for _ in range(3):
        ld = load(server.stub, r.name)
        assert {k[0] for k in ld.changes} == {"s0", "s1"}
        assert not ld.summary.skipped
    assert exports_count(sim) == 0
    assert sim.dataset(r.slug)["export_count"] == 0
    creates = export_requests(sim, "POST")
    deletes = export_requests(sim, "DELETE")
    assert len(creates) == 3 and len(deletes) == 3


def test_concurrent_loads_of_one_run_each_get_their_own_export(server, sim, tmp_path):
    """Loads of one run that start together (one replica or several, same millisecond) never
    ask V7 for an export name another load already took: each name carries a random part."""
    r = standard_run(sim, server.stub, tmp_path, samples=2)
    sim.control("DELETE", "/_sim/requests")
    with ThreadPoolExecutor(4) as pool:
        loads = list(pool.map(lambda _: load(server.stub, r.name), range(4)))
    for ld in loads:
        assert {k[0] for k in ld.changes} == {"s0", "s1"}
    assert len(export_requests(sim, "POST")) == 4
    # Each load deleted the export it made, by name.
    names = [q["path"].rsplit("/", 1)[-1] for q in export_requests(sim, "DELETE")]
    assert len(names) == 4 and len(set(names)) == 4, names
    for name in names:
        assert re.fullmatch(r"labelport-[0-9a-f]{12}-\d+-[0-9a-f]{8}", name), name
    assert exports_count(sim) == 0


def test_export_never_ready_is_a_clear_deadline_error(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    sim.configure(export_delay_ms=60_000)
    started = time.monotonic()
    e = load_error(server.stub, r.name)
    assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "export" in e.details() and "not ready" in e.details(), e.details()
    assert time.monotonic() - started < EXPORT_TIMEOUT_S + 10
    assert exports_count(sim) == 0  # the pending export was deleted
    sim.configure(export_delay_ms=0)
    assert load(server.stub, r.name).field_summary("gt").unchanged == 2


def test_5xx_and_429_during_export_and_download_are_retried(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    sim.fault(method="POST", path="*/exports", count=1, action="status", status=503)
    sim.fault(method="GET", path="*/exports", count=2, action="status", status=429,
              retry_after=0)
    sim.fault(method="GET", path="/_download/*", count=1, action="status", status=502)
    sim.fault(method="GET", path="/_download/*", count=1, action="drop")
    ld = load(server.stub, r.name)
    assert ld.field_summary("gt").unchanged == 2
    assert all(f["count"] == 0 for f in sim.control("GET", "/_sim/faults")["faults"])
    assert exports_count(sim) == 0


def test_malformed_or_truncated_download_fails_clearly_and_run_unchanged(upload_server, sim,
                                                                          tmp_path):
    # Its own server with 3 attempts per V7 call: the download must fail every attempt, and
    # with the default 10 the waits between them take most of a minute.
    server = upload_server(sim, args=["--darwin_retry_attempts", "3"])
    r = standard_run(sim, server.stub, tmp_path)
    car = r.label("s0", "gt", "car")
    r.edit("s0", car.id, class_name="truck")
    for action in ("malformed", "truncate"):
        sim.fault(method="GET", path="/_download/*", count=20, action=action)
        e = load_error(server.stub, r.name)
        assert e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS), \
            (action, e.details())
        assert "export" in e.details(), e.details()
        sim.control("DELETE", "/_sim/faults")
        assert exports_count(sim) == 0
    # Nothing was committed: the retried load still reports the edit, once.
    ld = load(server.stub, r.name)
    assert list(ld.of("s0", "gt").edited_ids) == [car.id]
    assert not load(server.stub, r.name).of("s0", "gt").edited_ids


# ---- 67: status of the run's items only ------------------------------------------------------


def test_get_run_status_counts_only_runs_items(server, sim, tmp_path):
    a = standard_run(sim, server.stub, tmp_path, samples=3)
    # Run b shares run a's V7 dataset.
    b = make_run(sim, server.stub, tmp_path, standard_fields(),
                 {"t0": standard_labels(), "t1": standard_labels()}, STANDARD_EXISTING,
                 slug=a.slug)
    sim.control("POST", f"/_sim/items/{a.item_id('s0')}/status", {"status": "complete"})
    sim.control("POST", f"/_sim/items/{a.item_id('s1')}/status", {"status": "review"})
    sim.control("POST", f"/_sim/items/{b.item_id('t0')}/status", {"status": "complete"})
    st = server.stub.GetRunStatus(svc.GetRunStatusRequest(name=a.name), timeout=30)
    assert st.total_items == 3
    assert [(c.status, c.item_count) for c in st.counts] == [("complete", 1), ("new", 1),
                                                             ("review", 1)]
    st = server.stub.GetRunStatus(svc.GetRunStatusRequest(name=b.name), timeout=30)
    assert st.total_items == 2
    assert [(c.status, c.item_count) for c in st.counts] == [("complete", 1), ("new", 1)]
    # Loading run b considers only its items.
    assert {k[0] for k in load(server.stub, b.name).changes} == {"t0", "t1"}


# ---- 68, 52: cleanup ---------------------------------------------------------------------------


def test_cleanup_of_created_dataset_archives_it_and_deletes_workflow(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    ds = sim.dataset(r.slug)
    workflow = ds["workflow_id"]
    assert workflow
    resp = server.stub.CleanupRun(svc.CleanupRunRequest(name=r.name), timeout=30)
    assert resp.run.state == run_pb.RUN_STATE_CLEANED_UP
    assert resp.dataset_deleted
    ds = sim.dataset(r.slug)
    assert ds["archived"]
    listed = [r2 for r2 in sim.api_requests() if r2["method"] == "DELETE"
              and "/workflows/" in r2["path"]]
    assert listed and listed[-1]["status"] == 200
    again = server.stub.CleanupRun(svc.CleanupRunRequest(name=r.name), timeout=30)
    assert again.run.state == run_pb.RUN_STATE_CLEANED_UP
    e = load_error(server.stub, r.name)
    assert e.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_cleanup_of_existing_dataset_deletes_only_runs_items(server, sim, tmp_path):
    first = standard_run(sim, server.stub, tmp_path, samples=2)
    second = make_run(sim, server.stub, tmp_path, standard_fields(),
                      {"t0": standard_labels()}, STANDARD_EXISTING, slug=first.slug)
    resp = server.stub.CleanupRun(svc.CleanupRunRequest(name=second.name), timeout=30)
    assert resp.items_deleted == 1 and not resp.dataset_deleted
    assert resp.run.state == run_pb.RUN_STATE_CLEANED_UP
    ds = sim.dataset(first.slug)
    assert not ds["archived"]
    assert {i["id"] for i in ds["items"]} == {first.item_id("s0"), first.item_id("s1")}
    again = server.stub.CleanupRun(svc.CleanupRunRequest(name=second.name), timeout=30)
    assert again.run.state == run_pb.RUN_STATE_CLEANED_UP and again.items_deleted == 0
    assert len(sim.dataset(first.slug)["items"]) == 2
    # The first run still loads.
    assert load(server.stub, first.name).field_summary("gt").unchanged == 4


def test_load_with_cleanup_true(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    person = r.label("s0", "gt", "person")
    r.delete("s0", person.id)
    ld = load(server.stub, r.name, cleanup=True)
    assert ld.summary.cleaned_up
    assert list(ld.of("s0", "gt").deleted_ids) == [person.id]
    assert person.id not in by_id(ld.of("s0", "gt").merged)
    assert len(label_list(ld.of("s0", "gt").merged)) == 1
    run = server.stub.GetRun(svc.GetRunRequest(name=r.name), timeout=10).run
    assert run.state == run_pb.RUN_STATE_CLEANED_UP
    assert sim.dataset(r.slug)["archived"]
    assert exports_count(sim) == 0


# ---- D9: an item missing from the export ---------------------------------------------------------


def test_item_missing_from_export_deletes_nothing(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path, samples=2)
    archive_items(sim, r, [r.item_id("s1")], archived=True)
    ld = load(server.stub, r.name)
    assert {k[0] for k in ld.changes} == {"s0"}
    for f in ("gt", "polys", "kps", "tags"):
        s = ld.field_summary(f)
        assert (s.deleted, s.added, s.edited) == (0, 0, 0), s
    # Back in V7, the item's labels are all still there.
    archive_items(sim, r, [r.item_id("s1")], archived=False)
    ld = load(server.stub, r.name)
    assert [lab.id for lab in label_list(ld.of("s1", "gt").merged)] == [
        lab.id for lab in label_list(r.sent["s1"]["gt"])]
    assert not ld.of("s1", "gt").deleted_ids


# ---- HTTPS -----------------------------------------------------------------------------------


def test_load_over_https(sim_factory, test_ca, tmp_path_factory, tmp_path):
    https = sim_factory(["--tls_cert", str(test_ca["cert"]), "--tls_key", str(test_ca["key"])],
                        ca_file=test_ca["ca"])
    server = start_server(https, tmp_path_factory.mktemp("data"))
    try:
        r = standard_run(https, server.stub, tmp_path)
        car = r.label("s0", "gt", "car")
        r.edit("s0", car.id, class_name="truck")
        ld = load(server.stub, r.name)
        assert list(ld.of("s0", "gt").edited_ids) == [car.id]
        assert exports_count(https) == 0
    finally:
        assert server.stop() == 0, server.stderr()
