#!/usr/bin/env python3
"""Journal scale benchmark: the upload of runs of N external-storage samples (issue #15 item 5).

For each size (default 10,000 and 100,000; add 1,000,000 with --sizes) starts a fresh
darwin-sim (no latency, one storage connection whose files are hard links of one small image)
and a fresh labelport-server (SQLite store in a temporary data dir, V7 rate limit out of the
way), creates one run of N samples that reference the storage (registration only: no bytes are
uploaded, no labels imported), waits for ANNOTATING, and prints:
  * the upload's wall time (CreateRun returned → ANNOTATING) and the time per sample, with the
    CPU time the server and darwin-sim spent on it per sample,
  * the server's peak RSS (VmHWM of /proc/<pid>/status after the upload, start-up and
    CreateRun included), its RSS before the upload, and its peak RSS during the upload alone
    (VmHWM reset when CreateRun returned, by writing 5 to /proc/<pid>/clear_refs),
  * the store size (the SQLite file plus its WAL) and bytes per sample,
  * the command to reproduce.

With the journal O(1) per saved record, the time per sample and the RSS must stay flat as N
grows and the store grow linearly. Not a test; run it by hand:

  bash .ci/build labelport_server darwin_sim
  source .ci/env && python tests/bench/journal_scale/bench_journal_scale.py
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from labelport.v1 import annotation_run_pb2 as run_pb  # noqa: E402
from labelport.v1 import annotation_service_pb2 as svc  # noqa: E402
from server.conftest import ServerProcess  # noqa: E402
from server.processes import proc_status_kib  # noqa: E402
from upload.support import (  # noqa: E402
    Sim, field_schema, header, image_sample, make_image, media, state_name,
)

BATCH = 1000
LINKS_PER_FILE = 50_000


def reset_peak_rss(pid: int) -> bool:
    """Resets the process's VmHWM to its current RSS (Linux); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def store_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("labelport.db*") if p.is_file())


def requests(hdr, count: int):
    """The CreateRun stream: the header, then batches generated one at a time."""
    yield svc.CreateRunRequest(header=hdr)
    for start in range(0, count, BATCH):
        batch = svc.SampleBatch(samples=[
            image_sample(f"s{k:07d}", media(storage=("bench", f"k{k:07d}.png")))
            for k in range(start, min(count, start + BATCH))])
        yield svc.CreateRunRequest(samples=batch)


def measure(count: int, work: Path, timeout: float) -> dict:
    bucket = work / f"bucket-{count}"
    bucket.mkdir(parents=True)
    for k in range(count):
        if k % LINKS_PER_FILE == 0:  # a file has at most 65,000 links (ext4)
            image = make_image(work / f"img-{count}-{k}.png")
        os.link(image, bucket / f"k{k:07d}.png")
    sim = Sim(work / f"sim-{count}")
    sim.add_storage("bench", bucket)
    data_dir = work / f"data-{count}"
    server = ServerProcess(data_dir, [*sim.server_flags(data_dir), "--darwin_rate_limit_per_minute",
                                      "1000000", "--log_level", "warning"])
    try:
        pid = server.proc.pid
        hdr = header("scale", [field_schema("gt", "detections", ["car"])], slug="scale",
                     external_storage="bench")
        response = server.stub.CreateRun(requests(hdr, count), timeout=3600)
        start = time.monotonic()
        rss_before = proc_status_kib(pid, "VmRSS")
        peak_before = proc_status_kib(pid, "VmHWM")
        upload_peak_known = reset_peak_rss(pid)
        cpu_before = cpu_seconds(pid), cpu_seconds(sim.proc.pid)
        deadline = start + timeout
        while True:
            run = server.stub.GetRun(svc.GetRunRequest(name=response.run.name), timeout=60).run
            if run.state in (run_pb.RUN_STATE_ANNOTATING, run_pb.RUN_STATE_FAILED):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"not done after {timeout}s: {run.progress}")
            time.sleep(0.2)
        wall = time.monotonic() - start
        upload_peak = proc_status_kib(pid, "VmHWM")
        peak = max(peak_before, upload_peak)
        if not upload_peak_known:
            upload_peak = float("nan")
        server_cpu = cpu_seconds(pid) - cpu_before[0]
        sim_cpu = cpu_seconds(sim.proc.pid) - cpu_before[1]
        if state_name(run) != "RUN_STATE_ANNOTATING" or run.progress.samples_completed != count:
            raise RuntimeError(f"run ended {state_name(run)}: {run.failure_reason} "
                               f"{run.progress}")
        size = store_bytes(data_dir)
    finally:
        server.stop()
        sim.stop()
        shutil.rmtree(bucket, ignore_errors=True)
    return {"count": count, "wall": wall, "rss_before": rss_before, "peak": peak,
            "upload_peak": upload_peak, "store": size,
            "server_cpu": server_cpu, "sim_cpu": sim_cpu}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000",
                    help="comma-separated sample counts, one fresh server and sim each "
                         "(e.g. 10000,100000,1000000)")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds per upload")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-journal-scale-"))
    print("Upload of N external-storage samples (registration, no labels) against darwin-sim "
          "without latency, fresh server (SQLite) per size")
    print(f"{'samples':>10} {'upload s':>9} {'us/sample':>10} {'server CPU us/sample':>21} "
          f"{'sim CPU us/sample':>18} {'RSS before MiB':>15} {'peak RSS MiB':>13} "
          f"{'upload peak MiB':>16} "
          f"{'store MiB':>10} {'store B/sample':>15}")
    for count in sizes:
        r = measure(count, work, args.timeout)
        print(f"{r['count']:>10,} {r['wall']:>9.1f} {r['wall'] / r['count'] * 1e6:>10.0f} "
              f"{r['server_cpu'] / r['count'] * 1e6:>21.0f} "
              f"{r['sim_cpu'] / r['count'] * 1e6:>18.0f} "
              f"{r['rss_before'] / 1024:>15.1f} {r['peak'] / 1024:>13.1f} "
              f"{r['upload_peak'] / 1024:>16.1f} "
              f"{r['store'] / 2**20:>10.1f} {r['store'] / r['count']:>15.0f}", flush=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("reproduce: source .ci/env && " + shlex.join(
        ["python", "tests/bench/journal_scale/bench_journal_scale.py", "--sizes", args.sizes]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
