#!/usr/bin/env python3
"""LoadAnnotations benchmark: a run of N items with K annotations each, loaded back from
darwin-sim through labelport-server.

Setup (not timed): the run is created with K existing detections per sample (one detections
field, a class group with a single-select attribute), so the server's upload imports them into
the sim. The server is then restarted on the same data directory, so its peak RSS covers the
load only. The load is timed end to end and from "export ready" to the summary (download,
unzip, Darwin JSON parsing, conversion, merge and streaming).

Prints items/s, MB/s of Darwin JSON parsed (the export zip's uncompressed JSON size, the sum of
its entries' sizes, measured on a separate export of the same items), labels/s streamed and the
server's peak RSS (VmHWM from /proc/<pid>/status).

  source .ci/env && python tests/bench/load/bench_load.py [--items 10000] [--annotations 20]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests/integration"))

from labelport.schema import attribute_value  # noqa: E402
from labelport.v1 import annotation_service_pb2 as svc  # noqa: E402
from labelport.v1 import labels_pb2 as labels  # noqa: E402
from server.conftest import ServerProcess  # noqa: E402
from server.processes import proc_status_kib  # noqa: E402
from upload.support import (  # noqa: E402
    Sim, create_run, header, image_sample, make_image, media, spec, specs, wait_run,
)
from labelport.v1 import label_schema_pb2 as schema  # noqa: E402


def peak_rss_mb(pid: int) -> float:
    try:
        return proc_status_kib(pid, "VmHWM") / 1024
    except KeyError:
        return float("nan")


def start_server(sim: Sim, data_dir: Path) -> ServerProcess:
    return ServerProcess(data_dir, [
        *sim.server_flags(data_dir), "--worker_id", "bench",
        "--darwin_rate_limit_per_minute", "1000000", "--log_level", "warning",
        "--upload_concurrency", "32"])


def schema_fields() -> list:
    group = schema.ClassEntry(group=schema.ClassGroup(
        classes=schema.ClassNames(names=["car", "truck"]),
        attributes=specs(spec("color", "single_select", ["red", "blue"]))))
    return [schema.FieldSchema(field="gt", type="detections", classes=schema.ClassList(
        entries=[group, schema.ClassEntry(name="person")]))]


def sample_labels(k: int, n: int) -> labels.FieldValue:
    dets = []
    for j in range(n):
        d = labels.Detection(id=f"{k:012x}{j:012x}", label=("car", "truck", "person")[j % 3],
                             bounding_box=[(j % 10) / 16, (j // 10) / 16, 0.0625, 0.125],
                             confidence=0.5 + j / 100)
        if j % 3 != 2:
            d.attributes["color"].CopyFrom(attribute_value(("red", "blue")[j % 2]))
        dets.append(d)
    return labels.FieldValue(detections=labels.Detections(detections=dets))


def export_json_bytes(sim: Sim, slug: str) -> int:
    """Uncompressed size of a darwin_json_2 export of the dataset (sum of zip entries)."""
    base = f"/api/v2/teams/{sim.team}/datasets/{slug}/exports"

    def call(method: str, path: str, body=None):
        req = urllib.request.Request(sim.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"ApiKey {sim.api_key}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.read()

    call("POST", base, {"name": "bench-size", "format": "darwin_json_2",
                        "include_authorship": True, "filters": {"not_statuses": ["archived"]}})
    url = None
    while url is None:
        for e in json.loads(call("GET", base)):
            if e["name"] == "bench-size":
                url = e.get("download_url")
        time.sleep(0.05)
    with urllib.request.urlopen(url, timeout=600) as r:
        data = r.read()
    call("DELETE", f"{base}/bench-size")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return sum(i.file_size for i in z.infolist() if i.filename.endswith(".json"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--annotations", type=int, default=20)
    args = ap.parse_args()
    cmd = f"python tests/bench/load/bench_load.py --items {args.items} " \
          f"--annotations {args.annotations}"

    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    sim = Sim(tmp / "sim", ["--threads", "4"])
    data_dir = tmp / "data"
    data_dir.mkdir()
    server = start_server(sim, data_dir)
    try:
        image = make_image(tmp / "img.png", 64, 48)
        samples = []
        for k in range(args.items):
            s = image_sample(f"{k:024x}", media(path=image), gt=sample_labels(k, args.annotations))
            s.width, s.height = 64, 48
            samples.append(s)
        t0 = time.monotonic()
        hdr = header("bench", schema_fields(), slug="bench-load", existing=[("gt", "Detections")])
        run = create_run(server.stub, hdr, samples, batch=200)
        run = wait_run(server.stub, run.name, timeout=3600)
        print(f"setup: uploaded {args.items} items x {args.annotations} labels in "
              f"{time.monotonic() - t0:.1f}s (state {run.state})", flush=True)
        json_bytes = export_json_bytes(sim, "bench-load")

        # Restart on the same data so VmHWM covers the load only.
        assert server.stop() == 0
        server = start_server(sim, data_dir)
        pid = server.proc.pid
        # The stream is read as raw bytes: only progress and summary messages are parsed
        # (the first byte is the oneof tag: 0x0a progress, 0x12 changes, 0x1a summary), so
        # the Python client does not bound what is measured on the server.
        load_raw = server.channel.unary_stream(
            "/labelport.v1.AnnotationService/LoadAnnotations",
            request_serializer=svc.LoadAnnotationsRequest.SerializeToString,
            response_deserializer=None)
        items = stream_bytes = 0
        t_ready = summary = None
        t_start = time.monotonic()
        for raw in load_raw(svc.LoadAnnotationsRequest(name=run.name), timeout=3600):
            stream_bytes += len(raw)
            if raw[:1] == b"\x12":
                items += 1
                continue
            msg = svc.LoadAnnotationsResponse.FromString(raw)
            kind = msg.WhichOneof("event")
            if kind == "progress" and msg.progress.stage == svc.LOAD_STAGE_EXPORT_READY:
                t_ready = time.monotonic()
            elif kind == "summary":
                summary = msg.summary
        t_end = time.monotonic()
        rss = peak_rss_mb(pid)
        total = t_end - t_start
        parse = t_end - (t_ready or t_start)
        f = summary.fields[0]
        labels_streamed = f.unchanged + f.edited + f.added
        print(f"items: {items}, labels streamed: {labels_streamed} (unchanged {f.unchanged}, "
              f"edited {f.edited}, added {f.added}, deleted {f.deleted}); "
              f"stream {stream_bytes / 1e6:.1f} MB")
        print(f"Darwin JSON (uncompressed export): {json_bytes / 1e6:.1f} MB")
        print(f"load total: {total:.2f}s  (export request+wait: {total - parse:.2f}s, "
              f"download+parse+convert+merge+stream: {parse:.2f}s)")
        print(f"items/s: {items / total:.0f} end to end, {items / parse:.0f} after export ready")
        print(f"MB/s of Darwin JSON: {json_bytes / 1e6 / parse:.1f} (after export ready)")
        print(f"labels/s streamed: {labels_streamed / parse:.0f}")
        print(f"server peak RSS (VmHWM, load only): {rss:.1f} MB")
        print(f"reproduce: source .ci/env && {cmd}")
    finally:
        if server.running():
            server.stop()
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
