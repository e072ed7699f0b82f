"""Talking to V7 (DESIGN §6): HTTPS with certificate and host-name verification, the client-side
rate limiter, retries honouring Retry-After, and no Authorization on signed upload URLs."""

from __future__ import annotations

import collections
import time

from .support import (
    Sim, create_run, detection, detections, field_schema, header, image_sample, items_by_sample,
    make_image, media, state_name, wait_run,
)

BURST = 20  # --darwin_rate_burst of the rate-limit test (the default is a minute's worth)


def simple_run(stub, tmp_path, key: str, count: int = 3, slug: str = ""):
    samples = []
    for k in range(count):
        path = make_image(tmp_path / key / f"{k}.png")
        samples.append(image_sample(f"s{k}", media(path=path),
                                    gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5]))))
    hdr = header(key, [field_schema("gt", "detections", ["car"])], slug=slug or key,
                 existing=[("gt", "Detections")])
    return create_run(stub, hdr, samples)


def test_https_with_the_test_ca_completes(https_sim, upload_server, tmp_path):
    server = upload_server(https_sim)
    run = simple_run(server.stub, tmp_path, "tls")
    final = wait_run(server.stub, run.name)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert len(items_by_sample(https_sim, "tls")) == 3
    assert final.editor_url.startswith("https://127.0.0.1:")
    # Every request went through TLS to the sim (none were refused).
    assert all(r["status"] == 200 for r in https_sim.requests())


def test_https_refuses_a_certificate_of_an_untrusted_ca(https_sim, upload_server, tmp_path,
                                                         test_ca):
    server = upload_server(https_sim, args=["--darwin_ca_file", str(test_ca["other_ca"])])
    run = simple_run(server.stub, tmp_path, "untrusted")
    final = wait_run(server.stub, run.name)
    assert state_name(final) == "RUN_STATE_FAILED"
    assert "certificate" in final.failure_reason.lower(), final.failure_reason
    assert https_sim.requests() == []  # nothing reached the API
    assert https_sim.api_key not in final.failure_reason


def test_https_checks_the_host_name(sim_factory, upload_server, tmp_path, test_ca):
    # The certificate names 127.0.0.1 and localhost; 127.0.0.2 is the same machine but
    # not a name in the certificate.
    sim = sim_factory(["--tls_cert", str(test_ca["cert"]), "--tls_key", str(test_ca["key"]),
                       "--listen", "0.0.0.0:0"], ca_file=test_ca["ca"])
    sim.url = f"https://127.0.0.1:{sim.port}"  # control API
    wrong = Sim.__new__(Sim)
    wrong.__dict__.update(sim.__dict__)
    wrong.url = f"https://127.0.0.2:{sim.port}"
    server = upload_server(wrong)
    run = simple_run(server.stub, tmp_path, "hostname")
    final = wait_run(server.stub, run.name)
    assert state_name(final) == "RUN_STATE_FAILED"
    reason = final.failure_reason.lower()
    assert "host" in reason or "name" in reason or "certificate" in reason, final.failure_reason
    assert sim.requests() == []


def test_signed_upload_puts_carry_no_authorization(sim, upload_server, tmp_path):
    server = upload_server(sim)
    run = simple_run(server.stub, tmp_path, "noauth", count=4)
    assert state_name(wait_run(server.stub, run.name)) == "RUN_STATE_ANNOTATING"
    log = sim.requests()
    puts = [r for r in log if r["path"].startswith("/_upload/")]
    assert len(puts) == 4
    for r in puts:
        assert r["method"] == "PUT" and r["status"] == 200
        assert "authorization" not in r["headers"], r
        assert "content-type" not in r["headers"], r  # part of a presigned URL's signature
        assert r["body_size"] > 0
    api = [r for r in log if r["path"].startswith("/api/")]
    assert api and all(r["headers"].get("authorization") == "ApiKey <redacted>" for r in api)


def seconds(entry) -> int:
    return int(time.mktime(time.strptime(entry["time"], "%Y-%m-%dT%H:%M:%SZ")))


def test_rate_limiter_keeps_calls_under_the_configured_rate(sim, upload_server, tmp_path):
    rate = 600  # per minute: 10 per second
    server = upload_server(sim, rate=rate, args=["--darwin_rate_burst", str(BURST)])
    run = simple_run(server.stub, tmp_path, "limited", count=30)
    start = time.monotonic()
    final = wait_run(server.stub, run.name, timeout=90)
    elapsed = time.monotonic() - start
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    api = sim.api_requests()
    assert len(api) >= 90  # 30 × (sign, confirm, import) and set-up
    # The sim logs whole seconds: any n consecutive seconds hold at most
    # burst + rate × n calls (the token bucket's bound), and never a 429.
    per_second = collections.Counter(seconds(r) for r in api)
    first, last = min(per_second), max(per_second)
    for a in range(first, last + 1):
        total = 0
        for b in range(a, last + 1):
            total += per_second.get(b, 0)
            assert total <= BURST + rate / 60 * (b - a + 1), (a, b, total, per_second)
    # Sustained: after the burst, the calls took at least (calls - burst) / rate.
    assert elapsed >= (len(api) - BURST) / (rate / 60) - 1.5
    assert all(r["status"] != 429 for r in api)


def test_retries_honour_retry_after(sim, upload_server, tmp_path):
    sim.fault(method="POST", path="/api/v2/teams/*/items/register_upload", count=2,
              action="status", status=429, retry_after=2)
    sim.fault(method="GET", path="/api/v2/teams/*/items/uploads/*/sign", count=3,
              action="status", status=503)
    server = upload_server(sim)
    run = simple_run(server.stub, tmp_path, "retry_after")
    final = wait_run(server.stub, run.name, timeout=60)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert final.progress.samples_completed == 3 and not final.sample_errors
    registers = [r for r in sim.requests() if r["path"].endswith("/register_upload")]
    assert [r["status"] for r in registers] == [429, 429, 200]
    # Retry-After: 2 s between attempts (the log has whole seconds: >= 1 apart).
    gaps = [seconds(b) - seconds(a) for a, b in zip(registers, registers[1:])]
    assert all(g >= 1 for g in gaps), gaps
    assert seconds(registers[-1]) - seconds(registers[0]) >= 3
    signs = [r["status"] for r in sim.requests() if r["path"].endswith("/sign")]
    assert signs.count(503) == 3 and signs.count(200) == 3
    assert len(items_by_sample(sim, "retry_after")) == 3
