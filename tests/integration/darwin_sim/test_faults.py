"""Injected faults and rate limiting, seen through darwin-py with fast retries.

conftest.py sets DARWIN_RETRY_INITIAL_WAIT=0 and DARWIN_RETRY_MAX_WAIT=1
before darwin is imported, so the SDK's tenacity retries take at most ~1 s.
"""

from __future__ import annotations

import time

import pytest
import requests
from darwin.importer import get_importer
from darwin.importer.importer import import_annotations

from .darwin_json import write_json
from .media import make_image


def api_statuses(sim, path_suffix: str) -> list[int]:
    return [r["status"] for r in sim.requests_log() if r["path"].endswith(path_suffix)]


def test_sdk_retries_429_with_retry_after(any_sim, sdk_env):
    sim = any_sim
    client = sdk_env(sim)
    sim.control("POST", "/_sim/faults", {"method": "GET", "path": "/api/datasets", "count": 2,
                                          "status": 429, "retry_after": 7})
    assert list(client.list_remote_datasets()) == []
    assert api_statuses(sim, "/api/datasets") == [429, 429, 200]

    # The 429 carries Retry-After and a JSON body.
    sim.control("POST", "/_sim/faults", {"path": "/api/datasets", "status": 429,
                                          "retry_after": 7})
    r = requests.get(sim.url + "/api/datasets", headers={"Authorization": f"ApiKey {sim.api_key}"})
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert "errors" in r.json()


def test_sdk_retries_503_on_import(sim, sdk_env, tmp_path):
    client = sdk_env(sim)
    dataset = client.create_dataset("faulty")
    make_image(tmp_path / "m" / "x.png", 10, 10)
    assert dataset.push([tmp_path / "m"]).errors == []
    sim.control("POST", "/_sim/faults",
                {"method": "POST", "path": "*/items/*/import", "count": 2, "status": 503})
    src = write_json(tmp_path / "i" / "x.json", {
        "version": "2.0", "item": {"name": "x.png", "path": "/"},
        "annotations": [{"name": "dot", "keypoint": {"x": 1, "y": 2}}]})
    import_annotations(dataset, get_importer("darwin"), [src], append=False, class_prompt=False)
    assert api_statuses(sim, "/import") == [503, 503, 200]
    item_id = next(iter(dataset.fetch_remote_files())).id
    view = sim.control("GET", f"/_sim/items/{item_id}/annotations")["annotations"]
    assert [(a["class_name"], a["data"]) for a in view] == [("dot", {"x": 1, "y": 2})]


def test_dropped_connections(any_sim, sdk_env, tmp_path):
    sim = any_sim
    client = sdk_env(sim)
    dataset = client.create_dataset("drops")
    # The SDK does not retry a connection dropped mid-response: the call raises ...
    sim.control("POST", "/_sim/faults", {"method": "GET", "path": "/api/datasets",
                                          "action": "drop"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        list(client.list_remote_datasets())
    # ... and the next one works.
    assert [d.slug for d in client.list_remote_datasets()] == ["drops"]

    # push() swallows per-file failures: a dropped sign request leaves the item uploading.
    make_image(tmp_path / "m" / "a.png", 8, 8)
    make_image(tmp_path / "m" / "b.jpg", 8, 8)
    sim.control("POST", "/_sim/faults", {"method": "GET", "path": "*/uploads/*/sign",
                                          "action": "drop"})
    handler = dataset.push([tmp_path / "m"], multi_threaded=False)
    assert len(handler.errors) == 1
    statuses = sorted(i.status for i in dataset.fetch_remote_files())
    assert statuses == ["new", "uploading"]


def test_truncated_and_malformed_bodies(sim):
    headers = {"Authorization": f"ApiKey {sim.api_key}"}
    sim.control("POST", "/_sim/faults", {"path": "/api/annotation_types", "action": "truncate"})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(sim.url + "/api/annotation_types", headers=headers)
    sim.control("POST", "/_sim/faults", {"path": "/api/annotation_types", "action": "malformed"})
    r = requests.get(sim.url + "/api/annotation_types", headers=headers)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        r.json()
    assert len(requests.get(sim.url + "/api/annotation_types", headers=headers).json()) >= 21
    faults = [r["fault"] for r in sim.requests_log()]
    assert faults == ["truncate", "malformed", ""]


def test_latency_fault(sim):
    headers = {"Authorization": f"ApiKey {sim.api_key}"}
    sim.control("POST", "/_sim/faults", {"path": "/api/users/token_info", "latency_ms": 300})
    start = time.monotonic()
    assert requests.get(sim.url + "/api/users/token_info", headers=headers).status_code == 200
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    requests.get(sim.url + "/api/users/token_info", headers=headers)
    assert time.monotonic() - start < 0.3


def test_rate_limit_per_key(sim, sdk_env):
    client = sdk_env(sim)
    sim.control("POST", "/_sim/config", {"rate_limit_per_minute": 120})
    headers = {"Authorization": f"ApiKey {sim.api_key}"}
    # The bucket holds 120 tokens and refills at 2/s: of 200 calls, 80 are refused,
    # minus those the refill let through while the calls ran (a slow machine).
    with requests.Session() as s:
        start = time.monotonic()
        codes = [s.get(sim.url + "/api/datasets", headers=headers) for _ in range(200)]
        elapsed = time.monotonic() - start
    limited = [r for r in codes if r.status_code == 429]
    assert 80 - 2 * elapsed - 1 <= len(limited) <= 80, (len(limited), elapsed)
    assert limited, f"no call refused in {elapsed:.1f} s"
    assert all(int(r.headers["Retry-After"]) >= 1 for r in limited)
    # Another key has its own bucket.
    other = sim.control("POST", "/_sim/teams", {"slug": "other-team"})
    r = requests.get(sim.url + "/api/datasets", headers={"Authorization": f"ApiKey {other['api_key']}"})
    assert r.status_code == 200
    # The SDK retries 429 and gets through once the bucket refills (2 tokens/s).
    assert list(client.list_remote_datasets()) == []
    tail = api_statuses(sim, "/api/datasets")[-3:]
    assert 429 in api_statuses(sim, "/api/datasets") and tail[-1] == 200
