"""Replicas on one PostgreSQL database share the V7 rate limit (each uses limit / live
replicas, the burst too) as they join, leave cleanly and die, and every replica reports the same
runs-by-state gauge from the shared database."""

from __future__ import annotations


from server.helpers import image_samples
from server.metrics_scrape import metrics_url, scrape, value
from server.waiting import wait_until
from upload.support import create_run, field_schema, header

LIMIT = 1200
ARGS = ["--metrics_listen", "127.0.0.1:0", "--readiness_interval_seconds", "1",
        "--darwin_rate_limit_per_minute", str(LIMIT)]


def wait_rate(server, expected: float, timeout: float = 15) -> None:
    url = metrics_url(server)
    seen = []

    def rate_is_expected() -> bool:
        seen.append(value(scrape(url), "labelport_rate_limit_per_minute"))
        return seen[-1] == expected

    wait_until(rate_is_expected, timeout, f"the rate {expected}",
               details=lambda: f"rate stayed {seen[-1]}; {server.stderr()}", interval=0.05)


def test_replicas_share_the_rate_limit_as_they_come_and_go(replica, sim, db_url):
    a = replica(sim, db_url, "replica-a", ARGS)
    wait_rate(a, LIMIT)
    b = replica(sim, db_url, "replica-b", ARGS)
    wait_rate(a, LIMIT / 2)
    wait_rate(b, LIMIT / 2)
    c = replica(sim, db_url, "replica-c", ARGS)
    for server in (a, b, c):
        wait_rate(server, LIMIT / 3)
    # The burst (by default 95% of a minute's worth of the limit) is shared the same way.
    assert "this one uses 400.0, burst 380" in c.log()

    assert c.stop() == 0, c.stderr()  # a clean stop leaves the directory at once
    wait_rate(a, LIMIT / 2, timeout=5)
    wait_rate(b, LIMIT / 2, timeout=5)

    b.kill()  # kill -9: counted until its entry expires (3 x the 1 s interval)
    wait_rate(a, LIMIT, timeout=15)
    a.wait_for_stderr("this one uses 1200.0, burst 1140")


def test_every_replica_reports_the_runs_of_the_shared_database(replica, sim, db_url):
    a = replica(sim, db_url, "replica-a", ARGS)
    b = replica(sim, db_url, "replica-b", ARGS)
    create_run(a.stub, header("gauge", [field_schema("gt", "detections", ["cat"])]),
               image_samples(2))
    for server in (a, b):
        samples = scrape(metrics_url(server))
        assert value(samples, "labelport_runs") == 1, samples
