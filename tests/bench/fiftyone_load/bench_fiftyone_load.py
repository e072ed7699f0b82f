#!/usr/bin/env python3
"""`dataset.load_annotations(anno_key)` end to end in FiftyOne: labelport's FiftyOne backend
(through labelport-server) and V7's own darwin-fiftyone, side by side on one darwin-sim.

Setup (not timed): a FiftyOne dataset of N distinct PNG images with K detections each in
`ground_truth`, and a clone of it; one annotation run per backend, each on its own copy
(`annotate(label_field="ground_truth")`, each into its own V7 dataset on the same sim); then the annotator edits a fraction of the items of
both V7 datasets alike (one box moved, one box added). Each load then runs in a fresh Python
process (so its peak RSS is the load's, plus FiftyOne's import), labelport-server is restarted
before its load (its VmHWM is the load's), and the same sim latency applies to both. Then both
load again with nothing edited since (the second load of a run).

Prints each load's seconds, the speed-up, the client's peak RSS (ru_maxrss of the loading
process) and labelport-server's peak RSS (darwin-fiftyone has no server).

darwin-fiftyone is not a dependency of the repository: install it beside the venv, unmodified
and without touching the venv's packages, and name the directory:

  source .ci/env
  pip install --no-deps --target /tmp/darwin-fiftyone darwin-fiftyone==2.2.1
  python tests/bench/fiftyone_load/bench_fiftyone_load.py --images 1000 --labels 20 \\
      --darwin-fiftyone /tmp/darwin-fiftyone
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
for _p in (REPO / "client/python", REPO / "tests/integration"):
    sys.path.insert(0, str(_p))

W, H = 64, 48
FIELD = "ground_truth"
CLASSES = ["car", "truck", "person"]


# ---- child processes (one per phase; they share FiftyOne's database) -------------------------


def _fiftyone(args):
    os.environ.update({
        "FIFTYONE_DATABASE_URI": args.db_uri,
        "FIFTYONE_DATABASE_DIR": args.db_dir,
        "FIFTYONE_DO_NOT_TRACK": "true",
        "FIFTYONE_DATABASE_VALIDATION": "false",
        "DARWIN_BASE_URL": args.sim_url,
        "DISABLE_DARWIN_FIFTYONE_LOGGING": "true",
    })
    import fiftyone as fo

    fo.config.show_progress_bars = False
    fo.annotation_config.backends["labelport"] = {
        "config_cls": "labelport.fiftyone.DarwinBackendConfig", "url": args.server}
    fo.annotation_config.backends["v7"] = {
        "config_cls": "darwin_fiftyone.DarwinBackendConfig", "api_key": args.api_key,
        "base_url": f"{args.sim_url}/api/v2/teams"}
    return fo


def phase_setup(args) -> dict:
    fo = _fiftyone(args)
    from PIL import Image

    rng = random.Random(17)
    media = Path(args.work) / "media"
    media.mkdir(parents=True, exist_ok=True)
    samples = []
    for i in range(args.images):
        path = media / f"img{i:06d}.png"
        Image.new("RGB", (W, H), (i % 256, (i // 256) % 256, 7)).save(path)
        dets = [fo.Detection(label=CLASSES[j % 3],
                             bounding_box=[rng.randrange(0, W - 8) / W,
                                           rng.randrange(0, H - 8) / H, 8 / W, 8 / H])
                for j in range(args.labels)]
        samples.append(fo.Sample(filepath=str(path),
                                 **{FIELD: fo.Detections(detections=dets)}))
    ds = fo.Dataset("bench-lp", persistent=True, overwrite=True)
    ds.add_samples(samples)
    ds.compute_metadata()
    copies = {"lp": ds, "v7": ds.clone("bench-v7", persistent=True)}
    out = {}
    for backend, key in (("labelport", "lp"), ("v7", "v7")):
        t0 = time.monotonic()
        copies[key].annotate(key, backend=backend, label_field=FIELD,
                             dataset_slug=f"bench-{key}", launch_editor=False)
        out[f"annotate_{key}_s"] = time.monotonic() - t0
    return out


def phase_load(args) -> dict:
    fo = _fiftyone(args)
    ds = fo.load_dataset(f"bench-{args.key}")
    ds.load_annotation_results(args.key)  # connects; not part of the load
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    t0 = time.monotonic()
    ds.load_annotations(args.key, unexpected="ignore")
    seconds = time.monotonic() - t0
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    return {"seconds": seconds, "client_peak_mb": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024, "labels": ds.count(f"{FIELD}.detections")}


# ---- the orchestrating process ---------------------------------------------------------------


def _child(args, phase: str, **extra) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--db-dir", args.db_dir, "--db-uri",
           args.db_uri, "--work",
           args.work, "--sim-url", args.sim_url, "--api-key", args.api_key, "--server",
           args.server, "--images", str(args.images), "--labels", str(args.labels)]
    for k, v in extra.items():
        cmd += [f"--{k}", str(v)]
    if args.profile:
        cmd.append("--profile")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "client/python")] + ([args.darwin_fiftyone] if args.darwin_fiftyone else [])
        + [env.get("PYTHONPATH", "")])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"phase {phase} failed")
    if args.profile:
        sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _start_mongod(db_dir: Path):
    """A MongoDB of the bench's own (FiftyOne's bundled mongod on a free loopback port), for
    FIFTYONE_DATABASE_URI: without it, FiftyOne attaches each process to whichever FiftyOne
    database service already runs on the machine (it looks the service up by its command line,
    not by FIFTYONE_DATABASE_DIR), so another program's FiftyOne could own, and end, the
    bench's database. Returns (the process, the URI)."""
    spec = importlib.util.find_spec("fiftyone")
    mongod = Path(spec.origin).parent / "db" / "bin" / "mongod"
    db_dir.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(mongod), "--dbpath", str(db_dir), "--bind_ip", "127.0.0.1", "--port", str(port),
         "--logpath", str(db_dir / "mongod.log")], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"mongodb://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"mongod did not start (see {db_dir / 'mongod.log'})")
            time.sleep(0.1)


def _edit(sim, slug: str, fraction: float) -> int:
    """Moves one box and adds one on the first `fraction` of the items (by name)."""
    items = sorted(sim.dataset(slug)["items"], key=lambda i: i["name"])
    edited = items[: int(len(items) * fraction)]
    for item in edited:
        annotations = sorted(sim.annotations(item["id"]), key=lambda a: str(a["data"]))
        box = annotations[0]
        sim.control("PATCH", f"/_sim/items/{item['id']}/annotations/{box['id']}",
                    {"data": {"x": 1, "y": 1, "w": 8, "h": 8}})
        sim.control("POST", f"/_sim/items/{item['id']}/annotations",
                    {"class_name": "car", "type": "bounding_box",
                     "data": {"x": 2, "y": 2, "w": 8, "h": 8}})
    return len(edited)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--labels", type=int, default=20)
    ap.add_argument("--edit-fraction", type=float, default=0.1)
    ap.add_argument("--latency-ms", type=int, default=0,
                    help="darwin-sim latency on every V7 API call (both backends)")
    ap.add_argument("--darwin-fiftyone", default=None,
                    help="directory holding the darwin_fiftyone package (pip --target)")
    ap.add_argument("--profile", action="store_true",
                    help="print a cProfile of each load (client side) to stderr")
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    for hidden in ("db-dir", "db-uri", "work", "sim-url", "api-key", "server", "key"):
        ap.add_argument(f"--{hidden}", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        result = phase_setup(args) if args.phase == "setup" else phase_load(args)
        print(json.dumps(result))
        return 0

    sys.path.insert(0, str(REPO / "tests/bench/load"))
    from bench_load import peak_rss_mb, start_server
    from upload.support import Sim

    cmd = (f"python tests/bench/fiftyone_load/bench_fiftyone_load.py --images {args.images} "
           f"--labels {args.labels} --edit-fraction {args.edit_fraction} --latency-ms "
           f"{args.latency_ms} --darwin-fiftyone {args.darwin_fiftyone}")
    work = Path(tempfile.mkdtemp(prefix="bench-fiftyone-load-"))
    sim = Sim(work / "sim", ["--threads", "4"])
    data_dir = work / "data"
    data_dir.mkdir()
    server = start_server(sim, data_dir)
    args.db_dir, args.work = str(work / "fiftyone-db"), str(work)
    args.sim_url, args.api_key, args.server = sim.url, sim.api_key, server.target
    mongod, args.db_uri = _start_mongod(work / "fiftyone-db")
    try:
        setup = _child(args, "setup")
        print(f"setup: {args.images} images x {args.labels} labels; annotate() took "
              f"{setup['annotate_lp_s']:.1f}s (labelport), {setup['annotate_v7_s']:.1f}s "
              f"(darwin-fiftyone)", flush=True)
        edited = [_edit(sim, f"bench-{k}", args.edit_fraction) for k in ("lp", "v7")]
        print(f"annotator: {edited[0]} items edited in each V7 dataset (a box moved, one "
              f"added)", flush=True)
        if args.latency_ms:
            sim.control("POST", "/_sim/config", {"latency_ms": args.latency_ms})

        titles = [f"load 1: {args.edit_fraction:.0%} of the items edited in V7",
                  "load 2: nothing edited since load 1"]
        speedups = []
        for title in titles:
            assert server.stop() == 0
            server = start_server(sim, data_dir)
            args.server = server.target
            lp = _child(args, "load", key="lp")
            lp["server_peak_mb"] = peak_rss_mb(server.proc.pid)
            v7 = _child(args, "load", key="v7")
            speedups.append(v7["seconds"] / lp["seconds"])
            print(f"\n{title}")
            print(f"{'':24}{'labelport':>14}{'darwin-fiftyone':>18}")
            print(f"{'load_annotations() s':24}{lp['seconds']:>14.2f}{v7['seconds']:>18.2f}")
            print(f"{'client peak RSS MB':24}{lp['client_peak_mb']:>14.1f}"
                  f"{v7['client_peak_mb']:>18.1f}")
            print(f"{'server peak RSS MB':24}{lp['server_peak_mb']:>14.1f}{'(no server)':>18}")
            print(f"{'labels after the load':24}{lp['labels']:>14}{v7['labels']:>18}")
            print(f"speed-up: {speedups[-1]:.1f}x", flush=True)
        print(f"reproduce: source .ci/env && {cmd}")
    finally:
        if server.running():
            server.stop()
        sim.stop()
        mongod.terminate()
        mongod.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
