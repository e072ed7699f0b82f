"""The fault soak (DESIGN §6, issue: crash-free under load): with a share of the responses of
every V7 endpoint failing (500, 429 with Retry-After, dropped connections, truncated and
malformed bodies), an upload and its load must still finish with every sample uploaded once,
every label loaded, and no duplicate item or annotation in darwin-sim.

Used by test_fault_soak.py (a small run in `make test`) and by
tests/bench/fault_soak/bench_fault_soak.py (500 samples, prints its numbers)."""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass
from pathlib import Path

from upload.support import (
    DeterministicIds, Sim, create_run, detection, detections, field_schema, header, image_sample,
    items_by_sample, make_image, media, state_name, wait_run,
)

from .support import load

# (action, extra fault settings, probability): about 30% of the responses fail in all.
FAULT_MIX = [
    ("status", {"status": 500}, 0.10),
    ("status", {"status": 429, "retry_after": 1}, 0.08),
    ("drop", {}, 0.06),
    ("truncate", {}, 0.04),
    ("malformed", {}, 0.04),
]
# Every V7 endpoint, and the signed upload and download URLs.
FAULT_PATHS = ["/api/*", "/_upload/*", "/_download/*"]


def inject_faults(sim: Sim) -> None:
    for path in FAULT_PATHS:
        for action, extra, probability in FAULT_MIX:
            sim.fault(method="*", path=path, count=1_000_000_000, action=action,
                      probability=probability, **extra)


@dataclass
class SoakResult:
    samples: int
    upload_seconds: float
    load_seconds: float
    faulted: collections.Counter  # fault action -> requests affected
    requests: int


def run_soak(sim: Sim, server, tmp_path: Path, count: int, timeout: float = 600) -> SoakResult:
    """Uploads `count` samples with one box each under faults, loads them back, and checks the
    outcome (raises AssertionError on any loss or duplicate)."""
    path = make_image(tmp_path / "soak" / "img.png")
    samples = [image_sample(f"s{k}", media(path=path),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5], id=f"{k:024x}")))
               for k in range(count)]
    inject_faults(sim)
    started = time.monotonic()
    run = create_run(server.stub, header("soak", [field_schema("gt", "detections", ["car"])],
                                         slug="soak", existing=[("gt", "Detections")]), samples)
    final = wait_run(server.stub, run.name, timeout=timeout)
    upload_seconds = time.monotonic() - started
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert list(final.sample_errors) == [], final.sample_errors
    p = final.progress
    assert (p.samples_completed, p.samples_failed, p.labels_imported) == (count, 0, count), p

    # Exactly one item per sample (items_by_sample asserts no sample has two), each with
    # exactly its one annotation under the deterministic id.
    items = items_by_sample(sim, "soak")
    assert sorted(items) == sorted(f"s{k}" for k in range(count))
    ids = DeterministicIds(run.uid)
    for k in range(count):
        annotations = sim.annotations(items[f"s{k}"]["id"])
        assert [a["id"] for a in annotations] == [ids.of(f"{k:024x}")], annotations

    started = time.monotonic()
    loaded = load(server.stub, run.name, timeout=timeout)
    load_seconds = time.monotonic() - started
    summary = loaded.field_summary("gt")
    assert summary.unchanged == count, summary
    assert (summary.added, summary.edited, summary.deleted) == (0, 0, 0), summary

    requests = sim.requests()
    faulted = collections.Counter(r["fault"] for r in requests if r["fault"])
    return SoakResult(count, upload_seconds, load_seconds, faulted, len(requests))
