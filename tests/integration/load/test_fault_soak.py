"""A small fault soak in every test run: 40 samples uploaded and loaded back while about 30% of
every V7 endpoint's responses fail (fault_soak.py has the mix and the checks; the 500-sample
version is tests/bench/fault_soak/bench_fault_soak.py)."""

from __future__ import annotations

from .fault_soak import run_soak


def test_upload_and_load_survive_thirty_percent_faults(sim, upload_server, tmp_path):
    server = upload_server(sim)
    result = run_soak(sim, server, tmp_path, count=40, timeout=300)
    # The faults really happened, of every kind.
    assert set(result.faulted) == {"status", "drop", "truncate", "malformed"}, result.faulted
    assert sum(result.faulted.values()) >= 0.15 * result.requests, result
