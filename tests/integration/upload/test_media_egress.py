"""The egress policy of media URLs against real processes (issue #13): loopback in every notation
refused (metrics port, darwin-sim's control API, a canary), redirects re-checked hop by hop,
--max_media_bytes, the stall timeout and the fetch deadline, temporary files cleaned, and metric
labels that stay few whatever the URLs. Everything listens on loopback; the address classes
that are not loopback are covered by tests/unit/http/egress_policy_test.cc."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
from server.metrics_scrape import metrics_url, scrape

from .support import (
    create_run, field_schema, header, image_sample, make_image, media, state_name, wait_run,
)

# The notations of 127.0.0.1 (and ::1) an attacker may try; the resolver turns each into an
# address, and the address is what the policy judges.
LOOPBACK_HOSTS = ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::1]",
                  "[::ffff:127.0.0.1]", "localhost"]
REFUSED = "refused by the egress policy"


class MediaServer:
    """A threaded HTTP server on `host` with scripted paths; records every path asked."""

    def __init__(self, host: str, root: Path):
        self.asked: list = []
        self.routes: dict = {}
        self.release = threading.Event()  # ends the slow and endless answers at teardown
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's naming)
                outer.asked.append(self.path)
                route = outer.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://{host}:{self.httpd.server_address[1]}"
        self.root = root
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def media_server_factory(tmp_path):
    started = []

    def factory(host: str = "127.0.0.1") -> MediaServer:
        s = MediaServer(host, tmp_path)
        started.append(s)
        return s

    yield factory
    for s in started:
        s.stop()


def serve_bytes(data: bytes):
    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return route


def redirect(location: str, status: int = 302):
    def route(handler):
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


def samples_for(urls: dict) -> list:
    return [image_sample(sample_id, media(url=url)) for sample_id, url in urls.items()]


def run_all(server, urls: dict, key: str, timeout: float = 90):
    hdr = header(key, [field_schema("gt", "detections", ["car"])], slug=f"{key}-ds")
    run = create_run(server.stub, hdr, samples_for(urls))
    return wait_run(server.stub, run.name, timeout=timeout)


def errors_of(run) -> dict:
    return {e.sample_id: e for e in run.sample_errors}


def upload_traffic(sim) -> list:
    """The sim's log entries that carry or ask for media bytes (sign, PUT to the signed URL)."""
    return [(r["method"], r["path"]) for r in sim.requests()
            if r["path"].endswith("/sign") or r["path"].startswith("/_upload/")]


def temp_files(data_dir: Path) -> list:
    return sorted(str(p.relative_to(data_dir)) for p in (data_dir / "tmp").rglob("*")
                  if p.is_file())


def test_loopback_in_every_notation_is_refused_and_no_byte_reaches_v7(
        sim, upload_server, media_server_factory, tmp_path):
    canary = media_server_factory()
    canary.routes["/canary.png"] = serve_bytes(b"canary bytes")
    server = upload_server(sim, args=["--metrics_listen", "127.0.0.1:0"])
    metrics_port = int(metrics_url(server).rsplit(":", 1)[1].split("/", 1)[0])
    canary_port = int(canary.base.rsplit(":", 1)[1])
    targets = {"metrics": (metrics_port, "/metrics"),
               "sim": (sim.port, "/_sim/state?token=secret"),
               "canary": (canary_port, "/canary.png?sig=secret")}
    urls = {}
    for n, host in enumerate(LOOPBACK_HOSTS):
        for name, (port, path) in targets.items():
            urls[f"{name}{n}"] = f"http://{host}:{port}{path}"
    final = run_all(server, urls, "loopback")
    assert state_name(final) == "RUN_STATE_FAILED", final
    errors = errors_of(final)
    assert sorted(errors) == sorted(urls)
    for sample_id, error in errors.items():
        assert error.stage == "upload", error
        assert REFUSED in error.message, (urls[sample_id], error.message)
        assert ("loopback address" in error.message
                or "IPv4-mapped IPv6 address" in error.message), error.message
        assert "secret" not in error.message, error.message
    # Nothing was fetched, so nothing was signed or uploaded; the canary was never asked.
    assert upload_traffic(sim) == []
    assert canary.asked == []


def test_redirects_are_checked_hop_by_hop(sim, upload_server, media_server_factory, tmp_path):
    canary = media_server_factory("127.0.0.1")
    canary.routes["/x.png"] = serve_bytes(b"canary bytes")
    store = media_server_factory("127.0.0.2")  # the allowlisted on-premise store
    store.routes["/ok.png"] = serve_bytes(make_image(tmp_path / "ok.png").read_bytes())
    store.routes["/moved.png"] = redirect("/ok.png", 301)
    store.routes["/to-canary.png"] = redirect(f"{canary.base}/x.png?token=secret2")
    store.routes["/to-canary-by-name.png"] = redirect(
        f"http://localhost:{canary.base.rsplit(':', 1)[1]}/x.png")
    store.routes["/loop.png"] = redirect("/loop.png?again=1", 307)
    server = upload_server(sim, args=["--media_url_allow", "127.0.0.2/32"])
    urls = {"direct": f"{store.base}/ok.png", "moved": f"{store.base}/moved.png?sig=secret",
            "to_canary": f"{store.base}/to-canary.png?sig=secret",
            "by_name": f"{store.base}/to-canary-by-name.png",
            "loop": f"{store.base}/loop.png?sig=secret"}
    final = run_all(server, urls, "redirects")
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    errors = errors_of(final)
    assert sorted(errors) == ["by_name", "loop", "to_canary"]
    assert REFUSED in errors["to_canary"].message
    assert "redirected to 'http://127.0.0.1:" in errors["to_canary"].message
    assert REFUSED in errors["by_name"].message
    assert errors["loop"].message == (
        f"media URL '{store.base}/loop.png' redirected more than 5 times")
    for error in errors.values():
        assert "sig=secret" not in error.message and "secret" not in error.message, error
    assert canary.asked == []
    assert store.asked.count("/loop.png?sig=secret") == 1
    assert store.asked.count("/loop.png?again=1") == 5
    assert final.progress.samples_completed == 2  # direct and moved


def test_endless_and_oversized_bodies_stop_at_max_media_bytes_and_leave_no_file(
        sim, upload_server, media_server_factory, tmp_path_factory):
    www = media_server_factory()

    def endless(handler):
        handler.send_response(200)
        handler.end_headers()  # no Content-Length: the body ends when the connection does
        chunk = b"\0" * 65536
        while not www.release.is_set():
            handler.wfile.write(chunk)

    def oversized(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(50 << 20))
        handler.end_headers()
        www.release.wait(30)  # the server must refuse on the header alone

    www.routes["/endless.bin"] = endless
    www.routes["/oversized.bin"] = oversized
    data_dir = tmp_path_factory.mktemp("data")
    leftover = data_dir / "tmp" / "w1" / "labelport-media-leftover"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"from a process killed mid-fetch")
    server = upload_server(sim, data_dir=data_dir,
                           args=["--media_url_allow", "127.0.0.1/32",
                                 "--max_media_bytes", str(1 << 20)])
    assert not leftover.exists(), "leftovers are removed at start-up"
    final = run_all(server, {"endless": f"{www.base}/endless.bin",
                             "oversized": f"{www.base}/oversized.bin"}, "big", timeout=60)
    assert state_name(final) == "RUN_STATE_FAILED", final
    errors = errors_of(final)
    for sample_id, path in (("endless", "endless.bin"), ("oversized", "oversized.bin")):
        assert errors[sample_id].message == (
            f"media URL '{www.base}/{path}' is larger than the server's limit of 1048576 bytes "
            "per media file (--max_media_bytes)")
    assert temp_files(data_dir) == []
    assert (data_dir / "tmp" / "w1").is_dir()
    assert upload_traffic(sim) == []


def test_stalled_and_dripping_bodies_hit_the_stall_timeout_and_the_deadline(
        sim, upload_server, media_server_factory, tmp_path_factory):
    www = media_server_factory()

    def stalls(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b"x" * 10)
        handler.wfile.flush()
        www.release.wait(60)

    def drips(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        while not www.release.wait(0.3):  # a byte well within the stall timeout, forever
            handler.wfile.write(b"x")
            handler.wfile.flush()

    www.routes["/stalls.png"] = stalls
    www.routes["/drips.png"] = drips
    data_dir = tmp_path_factory.mktemp("data")
    server = upload_server(sim, data_dir=data_dir,
                           args=["--media_url_allow", "127.0.0.1/32",
                                 "--media_fetch_stall_seconds", "1",
                                 "--media_fetch_timeout_seconds", "3"])
    final = run_all(server, {"stalls": f"{www.base}/stalls.png?sig=secret",
                             "drips": f"{www.base}/drips.png"}, "slow", timeout=60)
    assert state_name(final) == "RUN_STATE_FAILED", final
    errors = errors_of(final)
    assert "no data for 1s (stall timeout)" in errors["stalls"].message, errors["stalls"]
    assert "(--media_fetch_stall_seconds)" in errors["stalls"].message
    assert "secret" not in errors["stalls"].message
    assert "deadline exceeded" in errors["drips"].message, errors["drips"]
    assert "(--media_fetch_timeout_seconds)" in errors["drips"].message
    assert temp_files(data_dir) == []


def test_six_hundred_media_urls_leave_the_metrics_small(
        sim, upload_server, media_server_factory):
    www = media_server_factory()  # answers 404 to everything
    server = upload_server(sim, args=["--media_url_allow", "127.0.0.1/32",
                                      "--metrics_listen", "127.0.0.1:0"])
    url = metrics_url(server)
    urls = {f"s{k}": f"{www.base}/api/v2/teams/t{k}/items/i{k}/bucket-{k}.png?sig={k}"
            for k in range(600)}
    final = run_all(server, urls, "many", timeout=120)
    assert state_name(final) == "RUN_STATE_FAILED", final
    assert final.progress.samples_failed == 600
    assert len(www.asked) == 600
    samples = scrape(url)
    endpoints = {lbl["endpoint"] for n, lbl, _ in samples if "endpoint" in lbl}
    assert "media_fetch" in endpoints
    assert all(e == "media_fetch" or "{" in e or e.startswith(("GET /api/", "POST /api/",
                                                               "PUT /api/", "DELETE /api/",
                                                               "PATCH /api/"))
               for e in endpoints), endpoints
    assert not [e for e in endpoints if "bucket" in e or "/t1" in e], endpoints
    media_series = [(n, lbl) for n, lbl, _ in samples if lbl.get("endpoint") == "media_fetch"]
    # One status (404) for the counter; the histogram's buckets, sum and count.
    assert len(media_series) <= 30, media_series
    assert len(endpoints) <= 25, endpoints  # V7 templates, "media_fetch" and the placeholders
