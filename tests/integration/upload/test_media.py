"""Media from every reference kind: server path, http(s) URL (a local http.server), external
storage (register_existing, batched); per-sample errors for an unreadable file, a 404 URL and
undecodable bytes, which fail only their own sample. The file server is on loopback, which the
egress policy refuses unless the operator allows it: these servers pass --media_url_allow."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from .support import (
    create_run, detection, detections, field_schema, header, image_sample, items_by_sample,
    make_image, media, state_name, wait_run,
)


# The local file server is loopback: the operator's allowlist admits it.
ALLOW_LOOPBACK = ["--media_url_allow", "127.0.0.1/32"]


@pytest.fixture
def file_server(tmp_path):
    """Serves tmp_path/www on 127.0.0.1; yields (base URL, directory, list of paths asked)."""
    root = tmp_path / "www"
    root.mkdir()
    asked = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            asked.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, asked
    httpd.shutdown()
    httpd.server_close()


def box():
    return detections(detection("car", [0.25, 0.25, 0.5, 0.5]))


def test_every_media_kind_and_per_sample_errors(sim, upload_server, tmp_path, file_server):
    base, www, asked = file_server
    storage_dir = tmp_path / "bucket"
    sim.add_storage("bucket", storage_dir)
    samples = [
        image_sample("path_png", media(path=make_image(tmp_path / "a" / "img.png")), gt=box()),
        image_sample("path_jpg", media(path=make_image(tmp_path / "b" / "img.jpg")), gt=box()),
        image_sample("url_png", media(url=f"{base}/u/pic.png?sig=secret"), gt=box()),
        image_sample("url_404", media(url=f"{base}/missing/gone.png?sig=secret"), gt=box()),
        image_sample("missing_file", media(path=str(tmp_path / "nowhere" / "x.png")), gt=box()),
        image_sample("garbage", media(path=tmp_path / "junk" / "bad.png"), gt=box()),
    ]
    make_image(www / "u" / "pic.png")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "bad.png").write_bytes(b"this is not an image at all" * 10)
    for k in range(12):
        make_image(storage_dir / "folder" / f"st{k}.jpg")
        samples.append(image_sample(f"storage{k}", media(storage=("bucket", f"folder/st{k}.jpg")),
                                    gt=box()))
    server = upload_server(sim, args=ALLOW_LOOPBACK)
    hdr = header("media", [field_schema("gt", "detections", ["car"])], slug="media-ds",
                 existing=[("gt", "Detections")])
    run = create_run(server.stub, hdr, samples)
    final = wait_run(server.stub, run.name, timeout=60)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    errors = {e.sample_id: e for e in final.sample_errors}
    assert sorted(errors) == ["garbage", "missing_file", "url_404"]
    assert errors["url_404"].stage == "upload"
    assert "404" in errors["url_404"].message and "gone.png" in errors["url_404"].message
    assert "secret" not in errors["url_404"].message  # no query string (signatures) in errors
    assert errors["missing_file"].stage == "upload"
    assert "does not exist" in errors["missing_file"].message
    assert str(tmp_path / "nowhere" / "x.png") in errors["missing_file"].message
    assert errors["garbage"].stage == "process"
    p = final.progress
    assert (p.samples_total, p.samples_failed, p.samples_completed) == (18, 3, 15)
    assert p.labels_imported == 15

    items = items_by_sample(sim, "media-ds")
    # Each sample has its own item (the 404 and missing files never got bytes).
    assert len(items) == 18
    good = [s.id for s in samples if s.id not in errors]
    for sample_id in good:
        item = items[sample_id]
        assert item["status"] == "new", item
        assert (item["slots"][0]["width"], item["slots"][0]["height"]) == (32, 24)
        (anno,) = sim.annotations(item["id"])
        assert anno["data"] == {"x": 8, "y": 6, "w": 16, "h": 12}
    assert items["garbage"]["status"] == "error"
    assert items["url_png"]["name"] == "pic.png"
    assert items["storage3"]["name"] == "st3.jpg"
    assert "/u/pic.png?sig=secret" in asked

    # External storage: one register_existing call for the 12 items, no upload traffic.
    log = sim.requests()
    existing = [r for r in log if r["path"].endswith("/register_existing")]
    assert len(existing) == 1
    signs = [r for r in log if r["path"].endswith("/sign")]
    assert len(signs) == 4  # the 2 paths, 1 URL and the garbage file; none for storage


def test_external_storage_costs_well_under_a_tenth_of_a_call_per_sample(
        sim, upload_server, tmp_path):
    storage_dir = tmp_path / "bucket"
    sim.add_storage("bucket", storage_dir)
    samples = []
    for k in range(300):
        make_image(storage_dir / f"k{k}.png")
        samples.append(image_sample(f"e{k}", media(storage=("", f"k{k}.png"))))
    server = upload_server(sim)
    hdr = header("ext", [field_schema("gt", "detections", ["car"])], slug="ext-ds",
                 external_storage="bucket")
    run = create_run(server.stub, hdr, samples)
    final = wait_run(server.stub, run.name, timeout=60)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert final.progress.samples_completed == 300
    assert len(items_by_sample(sim, "ext-ds")) == 300
    calls = sim.api_requests()
    assert len(calls) / 300 < 0.05, [(r["method"], r["path"]) for r in calls]


def test_run_whose_samples_all_failed_is_resumed_after_the_files_appear(
        sim, upload_server, tmp_path, file_server):
    from labelport.v1 import annotation_service_pb2 as svc

    base, www, _ = file_server
    samples = [image_sample(f"late{k}", media(url=f"{base}/late/{k}.png"), gt=box())
               for k in range(3)]
    server = upload_server(sim, args=ALLOW_LOOPBACK)
    hdr = header("late", [field_schema("gt", "detections", ["car"])], slug="late-ds",
                 existing=[("gt", "Detections")])
    run = create_run(server.stub, hdr, samples)
    failed = wait_run(server.stub, run.name)
    assert state_name(failed) == "RUN_STATE_FAILED"
    assert "all 3 samples failed" in failed.failure_reason
    assert sorted(e.sample_id for e in failed.sample_errors) == ["late0", "late1", "late2"]
    for k in range(3):
        make_image(www / "late" / f"{k}.png")
    server.stub.ResumeRun(svc.ResumeRunRequest(name=run.name), timeout=10)
    final = wait_run(server.stub, run.name)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert list(final.sample_errors) == []
    assert (final.progress.samples_completed, final.progress.samples_failed) == (3, 0)
    items = items_by_sample(sim, "late-ds")
    assert len(items) == 3  # the items registered by the first attempt were reused
    for item in items.values():
        assert item["status"] == "new"
        assert len(sim.annotations(item["id"])) == 1
