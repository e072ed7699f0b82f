"""Helpers of the upload tests: darwin-sim process and control API, media files, samples with
labels of every type, run waiting, and readers of what the sim stored."""

from __future__ import annotations

import json
import os
import secrets
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from labelport import Client
from labelport.schema import attribute_value
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import label_schema_pb2 as schema
from labelport.v1 import labels_pb2 as labels
from labelport.v1 import sample_pb2 as sample
from PIL import Image
from server.processes import stop_process
from server.waiting import wait_until

REPO = Path(__file__).resolve().parents[3]
SIM_BINARY = Path(os.environ.get("LP_BUILD", str(REPO / "build"))) / "tests/darwin_sim/darwin-sim"
WIDTH, HEIGHT = 32, 24
PARENT = "datasets/uploads"

# Paths of V7 API calls in the sim's request log (everything but signed-URL traffic).
SIGNED_PREFIXES = ("/_upload/", "/_download/")


def new_api_key() -> str:
    """A key shaped like V7's: 7 characters, '.', 32 characters."""
    return f"{secrets.token_hex(4)[:7]}.{secrets.token_hex(16)}"


def connected_client(server) -> Iterator[Client]:
    """Yields a `labelport.Client` connected to a running labelport-server and closes it after:
    the client and end-to-end tests' `client` fixture is `yield from connected_client(server)`."""
    with Client(server.target, timeout=30) as c:
        c.wait_for_ready()
        yield c


class Sim:
    """A darwin-sim process (stderr to a file) and its /_sim control API."""

    def __init__(self, log_dir: Path, args: Sequence[str] = (), ca_file: Optional[Path] = None,
                 team: str = "upload-team", api_key: Optional[str] = None, port: int = 0):
        self.team = team
        self.api_key = api_key or new_api_key()
        self.ca_file = ca_file
        self.args = list(args)
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._start(port)

    def _start(self, port: int) -> None:
        self._stderr = open(self.log_dir / f"sim-{id(self)}-{time.monotonic_ns()}.stderr", "wb")
        self.proc = subprocess.Popen(
            [str(SIM_BINARY), "--listen", f"127.0.0.1:{port}", "--team", self.team,
             "--api_key", self.api_key, "--threads", "2", *self.args],
            stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"darwin-sim did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        self.port = int(self.url.rsplit(":", 1)[1])

    def restart(self) -> None:
        """Stops the sim and starts a fresh one (empty state) on the same port."""
        self.stop()

        def started() -> bool:
            try:
                self._start(self.port)
                return True
            except RuntimeError:  # the port is not free yet
                return False

        wait_until(started, 5, "darwin-sim restarting on its port", interval=0.05)

    def control(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        ctx = ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=20) as resp:
                return json.loads(resp.read())
        except OSError as e:
            if self.proc.poll() is not None:
                raise RuntimeError(f"darwin-sim exited with {self.proc.returncode}") from e
            raise

    def configure(self, **settings) -> None:
        self.control("POST", "/_sim/config", settings)

    def fault(self, **spec) -> None:
        self.control("POST", "/_sim/faults", spec)

    def requests(self) -> list:
        out, after = [], 0
        while True:
            page = self.control("GET", f"/_sim/requests?after={after}&limit=5000")["requests"]
            out.extend(page)
            if len(page) < 5000:
                return out
            after = page[-1]["seq"]

    def api_requests(self) -> list:
        """Logged V7 API calls (signed upload/download URLs excluded)."""
        return [r for r in self.requests() if not r["path"].startswith(SIGNED_PREFIXES)]

    def state(self) -> dict:
        return self.control("GET", "/_sim/state")

    def dataset(self, slug: str) -> dict:
        for team in self.state()["teams"]:
            for d in team["datasets"]:
                if d["slug"] == slug:
                    return d
        raise AssertionError(f"no dataset {slug!r} in the sim")

    def classes(self) -> list:
        return [c for t in self.state()["teams"] for c in t["classes"]]

    def properties(self) -> list:
        return [p for t in self.state()["teams"] for p in t["properties"]]

    def annotations(self, item_id: str) -> list:
        return self.control("GET", f"/_sim/items/{item_id}/annotations")["annotations"]

    def add_storage(self, slug: str, directory: Path) -> None:
        self.control("POST", "/_sim/storage", {"slug": slug, "directory": str(directory)})

    def server_flags(self, data_dir: Path, api_key: Optional[str] = None) -> list[str]:
        """The labelport-server flags that point a server with data dir `data_dir` at this sim:
        --darwin_url, --darwin_api_key_file (a file beside data_dir holding `api_key`, by default
        the sim's) and, over HTTPS, --darwin_ca_file."""
        data_dir = Path(data_dir)
        key_file = data_dir.parent / f"{data_dir.name}.v7key"
        key_file.write_text((api_key or self.api_key) + "\n")
        flags = ["--darwin_url", self.url, "--darwin_api_key_file", str(key_file)]
        if self.ca_file is not None:
            flags += ["--darwin_ca_file", str(self.ca_file)]
        return flags

    def stop(self) -> int:
        stop_process(self.proc, timeout=10)
        self.proc.stdout.close()
        self._stderr.close()
        return self.proc.returncode


# ---- media ----------------------------------------------------------------------------------


def make_image(path: Path, width: int = WIDTH, height: int = HEIGHT,
               color=(200, 40, 90)) -> Path:
    """A small solid image; PNG or JPEG after the extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), color).save(path)
    return path


# ---- samples and labels ---------------------------------------------------------------------

_ids = iter(range(1, 10**9))


def oid() -> str:
    return f"{next(_ids):024x}"


def spec(name: str, type_: str, values: Iterable = ()) -> schema.AttributeSpec:
    return schema.AttributeSpec(name=name, type=type_, values=[attribute_value(v) for v in values])


def specs(*items: schema.AttributeSpec) -> schema.AttributeSelection:
    return schema.AttributeSelection(specs=schema.AttributeSpecs(specs=list(items)))


def classes(*names: str) -> schema.ClassList:
    return schema.ClassList(entries=[schema.ClassEntry(name=n) for n in names])


def field_schema(field: str, type_: str, names: Sequence[str],
                 attributes: Optional[schema.AttributeSelection] = None) -> schema.FieldSchema:
    f = schema.FieldSchema(field=field, type=type_, classes=classes(*names))
    if attributes is not None:
        f.attributes.CopyFrom(attributes)
    return f


def header(anno_key: str, fields: Sequence[schema.FieldSchema], slug: str = "",
           existing: Sequence[tuple] = (), external_storage: str = "",
           request_id: str = "") -> svc.CreateRunHeader:
    """A CreateRun header; `existing` lists (field, FiftyOne document type) pairs."""
    return svc.CreateRunHeader(
        parent=PARENT, anno_key=anno_key, request_id=request_id,
        label_schema=schema.LabelSchema(fields=list(fields)),
        darwin=run_pb.DarwinOptions(dataset_slug=slug, external_storage=external_storage),
        existing_fields=[sample.ExistingField(field=f, document_type=t) for f, t in existing])


def media(path: Optional[str] = None, url: Optional[str] = None,
          storage: Optional[tuple] = None) -> sample.MediaReference:
    if path is not None:
        return sample.MediaReference(path=str(path))
    if url is not None:
        return sample.MediaReference(url=url)
    slug, key = storage
    return sample.MediaReference(storage=sample.StorageReference(storage_slug=slug,
                                                                 storage_key=key))


def image_sample(sample_id: str, ref: sample.MediaReference, **fields) -> sample.Sample:
    """A sample whose keyword arguments are field name → FieldValue."""
    s = sample.Sample(id=sample_id, media=ref, media_type=sample.MEDIA_TYPE_IMAGE,
                      width=WIDTH, height=HEIGHT)
    for name, value in fields.items():
        s.fields.add(field=name, value=value)
    return s


def detections(*dets: labels.Detection) -> labels.FieldValue:
    return labels.FieldValue(detections=labels.Detections(detections=list(dets)))


def detection(label: str, box: Sequence[float], **kw) -> labels.Detection:
    attrs = kw.pop("attributes", {})
    d = labels.Detection(id=kw.pop("id", None) or oid(), label=label, bounding_box=list(box), **kw)
    for k, v in attrs.items():
        d.attributes[k].CopyFrom(attribute_value(v))
    return d


def create_run(stub, hdr: svc.CreateRunHeader, samples: Sequence[sample.Sample],
               batch: int = 500) -> run_pb.AnnotationRun:
    def stream():
        yield svc.CreateRunRequest(header=hdr)
        for i in range(0, len(samples), batch):
            yield svc.CreateRunRequest(samples=svc.SampleBatch(samples=samples[i:i + batch]))

    return stub.CreateRun(stream(), timeout=60).run


SETTLED = (run_pb.RUN_STATE_ANNOTATING, run_pb.RUN_STATE_FAILED, run_pb.RUN_STATE_CLEANED_UP)


def wait_run(stub, name: str, timeout: float = 60,
             states: Sequence[int] = SETTLED) -> run_pb.AnnotationRun:
    """Polls GetRun until the run is in one of `states`."""
    seen = []

    def settled() -> Optional[run_pb.AnnotationRun]:
        seen[:] = [stub.GetRun(svc.GetRunRequest(name=name), timeout=10).run]
        return seen[0] if seen[0].state in states else None

    return wait_until(settled, timeout, f"run {name} settling", interval=0.05,
                      details=lambda: f"still {run_pb.RunState.Name(seen[0].state)}: "
                                      f"{seen[0].progress}")


def state_name(run: run_pb.AnnotationRun) -> str:
    return run_pb.RunState.Name(run.state)


def items_by_sample(sim: Sim, slug: str) -> dict:
    """The sim's items of a dataset, keyed by the sample id encoded in their folder."""
    out = {}
    for item in sim.dataset(slug)["items"]:
        sample_id = item["path"].rstrip("/").rsplit("/", 1)[-1]
        assert sample_id not in out, f"two items for sample {sample_id}: {item}"
        out[sample_id] = item
    return out


class DeterministicIds:
    """The V7 annotation ids labelport derives from (run uid, label id, part)
    (annotation_encoder.cc: SHA-256, RFC 4122 version-4 layout)."""

    def __init__(self, run_uid: str):
        self.run_uid = run_uid

    def of(self, label_id: str, part: int = 0) -> str:
        import hashlib

        digest = bytearray(hashlib.sha256(f"{self.run_uid}/{label_id}/{part}".encode()).digest())
        digest[6] = (digest[6] & 0x0F) | 0x40
        digest[8] = (digest[8] & 0x3F) | 0x80
        h = digest[:16].hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
