"""Helpers of the load tests: a standard run (detections with a class group, polygons,
multi-point keypoints, classifications, with attributes, tags and confidences), the annotator
side through the sim's /_sim endpoints, and LoadAnnotations collected into a `Load`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import grpc
from labelport.schema import attribute_value
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import label_schema_pb2 as schema
from labelport.v1 import labels_pb2 as labels
from upload.support import (
    HEIGHT, WIDTH, DeterministicIds, Sim, create_run, detection, detections, field_schema,
    header, image_sample, items_by_sample, make_image, media, oid, spec, specs, wait_run,
)

W, H = WIDTH, HEIGHT  # 32 x 24: every coordinate below is exact in pixels
_keys = itertools.count(1)


def group(names, *attribute_specs) -> schema.ClassEntry:
    return schema.ClassEntry(group=schema.ClassGroup(
        classes=schema.ClassNames(names=list(names)), attributes=specs(*attribute_specs)))


def gt_schema(**flags) -> schema.FieldSchema:
    quality = spec("quality", "single_select", ["good", "bad"])
    quality.read_only = True
    return schema.FieldSchema(field="gt", type="detections", classes=schema.ClassList(entries=[
        group(["car", "truck"], spec("color", "single_select", ["red", "blue"]),
              spec("note", "text"), quality),
        schema.ClassEntry(name="person"), schema.ClassEntry(name="sign")]), **flags)


def standard_fields(**gt_flags) -> list:
    return [gt_schema(**gt_flags),
            field_schema("polys", "polygons", ["road"]),
            field_schema("kps", "keypoints", ["eye"]),
            field_schema("tags", "classifications", ["day", "night"])]


STANDARD_EXISTING = [("gt", "Detections"), ("polys", "Polylines"), ("kps", "Keypoints"),
                     ("tags", "Classifications")]


def standard_labels() -> dict:
    """The labels of one sample; returns field → FieldValue (ids are fresh)."""
    car = detection("car", [0.125, 0.25, 0.25, 0.5], index=0, confidence=0.0,
                    attributes={"color": "blue", "note": "old note", "quality": "good",
                                "extra": 42})
    car.tags.append("reviewed")
    person = detection("person", [0.5, 0.5, 0.25, 0.25], index=3, confidence=0.875,
                       attributes={"extra": "kept"})
    road = labels.Polyline(id=oid(), label="road", closed=True, filled=True, points=[
        labels.Shape(points=[labels.Point(x=0.125, y=0.125), labels.Point(x=0.875, y=0.125),
                             labels.Point(x=0.5, y=0.875)])])
    road.attributes["surface"].CopyFrom(attribute_value("asphalt"))
    eye = labels.Keypoint(id=oid(), label="eye", points=[
        labels.Point(x=0.25, y=0.5), labels.Point(x=0.75, y=0.5), labels.Point(x=0.5, y=0.25)])
    return {
        "gt": labels.FieldValue(detections=labels.Detections(detections=[car, person])),
        "polys": labels.FieldValue(polylines=labels.Polylines(polylines=[road])),
        "kps": labels.FieldValue(keypoints=labels.Keypoints(keypoints=[eye])),
        "tags": labels.FieldValue(classifications=labels.Classifications(classifications=[
            labels.Classification(id=oid(), label="day", confidence=0.5)])),
    }


@dataclass
class Run:
    """An uploaded run: its record, what was sent, and the V7 side."""

    sim: Sim
    stub: object
    run: run_pb.AnnotationRun
    sent: dict  # sample id → field → FieldValue
    slug: str
    items: dict = field(default_factory=dict)  # sample id → sim item

    @property
    def name(self) -> str:
        return self.run.name

    def item_id(self, sample_id: str = "s0") -> str:
        return self.items[sample_id]["id"]

    def annotation_id(self, label_id: str, part: int = 0) -> str:
        return DeterministicIds(self.run.uid).of(label_id, part)

    def label(self, sample_id: str, field_name: str, label_name: str):
        v = self.sent[sample_id][field_name]
        for kind in ("detections", "polylines", "keypoints", "classifications"):
            if v.HasField(kind):
                for lab in getattr(getattr(v, kind), kind):
                    if lab.label == label_name:
                        return lab
        for kind in ("detection", "polyline", "keypoint", "classification"):
            if v.HasField(kind) and getattr(v, kind).label == label_name:
                return getattr(v, kind)
        raise KeyError((sample_id, field_name, label_name))

    # ---- the annotator ----
    def add(self, sample_id: str, class_name: str, type_: str, data: Optional[dict] = None,
            **extra) -> dict:
        body = {"class_name": class_name, "type": type_,
                "author": {"email": "ann@example.com", "full_name": "Ann Notator"}, **extra}
        if data is not None:
            body["data"] = data
        return self.sim.control("POST", f"/_sim/items/{self.item_id(sample_id)}/annotations",
                                body)

    def edit(self, sample_id: str, label_id: str, part: int = 0, **changes) -> dict:
        changes.setdefault("author", {"email": "ann@example.com", "full_name": "Ann Notator"})
        return self.sim.control(
            "PATCH",
            f"/_sim/items/{self.item_id(sample_id)}/annotations/"
            f"{self.annotation_id(label_id, part)}", changes)

    def delete(self, sample_id: str, label_id: str, part: int = 0) -> None:
        self.sim.control("DELETE", f"/_sim/items/{self.item_id(sample_id)}/annotations/"
                                   f"{self.annotation_id(label_id, part)}")


def make_run(sim: Sim, stub, tmp_path: Path, fields: Sequence[schema.FieldSchema],
             samples: dict, existing: Sequence[tuple] = (), file_names: Optional[dict] = None,
             slug: Optional[str] = None) -> Run:
    """Uploads `samples` (sample id → field → FieldValue) and waits until ANNOTATING."""
    n = next(_keys)
    slug = slug or f"load-{n}-{tmp_path.name[-12:].lower().replace('_', '-')}"
    pb_samples = []
    for k, (sid, fvs) in enumerate(samples.items()):
        name = (file_names or {}).get(sid, f"img{k}.png")
        path = make_image(tmp_path / sid / name, color=(10 * k % 250, 20, 30))
        pb_samples.append(image_sample(sid, media(path=path), **fvs))
    hdr = header(f"load{n}", fields, slug=slug, existing=existing)
    run = create_run(stub, hdr, pb_samples)
    run = wait_run(stub, run.name)
    assert run_pb.RunState.Name(run.state) == "RUN_STATE_ANNOTATING", run
    r = Run(sim, stub, run, dict(samples), slug)
    r.items = items_by_sample(sim, slug)
    return r


def standard_run(sim, stub, tmp_path, samples: int = 1, **gt_flags) -> Run:
    return make_run(sim, stub, tmp_path, standard_fields(**gt_flags),
                    {f"s{k}": standard_labels() for k in range(samples)}, STANDARD_EXISTING)


def crowded_run(sim, stub, tmp_path, samples: int, boxes: int, slug: Optional[str] = None) -> Run:
    """A run of `samples` images with `boxes` detections each; a load of it streams about
    150 bytes per detection. With 300 x 200 (about 9 MB) that is more than gRPC's buffers and
    the server's message queue hold together, so a client that never reads stalls the load's
    producer."""
    def boxes_of() -> labels.FieldValue:
        return detections(*[detection("car", [0.02 * (b % 40), 0.02 * (b // 40), 0.1, 0.1],
                                      confidence=0.5) for b in range(boxes)])

    return make_run(sim, stub, tmp_path, [field_schema("gt", "detections", ["car"])],
                    {f"s{k}": {"gt": boxes_of()} for k in range(samples)},
                    [("gt", "Detections")], slug=slug)


@dataclass
class Load:
    """A finished LoadAnnotations stream."""

    progress: list
    changes: dict  # (sample id, field) → SampleFieldChanges
    summary: svc.LoadSummary

    def of(self, sample_id: str, field_name: str) -> svc.SampleFieldChanges:
        return self.changes[(sample_id, field_name)]

    def field_summary(self, field_name: str) -> svc.FieldLoadSummary:
        for f in self.summary.fields:
            if f.field == field_name:
                return f
        raise KeyError(field_name)


def load(stub, name: str, timeout: float = 60, **request) -> Load:
    progress, changes, summary = [], {}, None
    for msg in stub.LoadAnnotations(svc.LoadAnnotationsRequest(name=name, **request),
                                    timeout=timeout):
        kind = msg.WhichOneof("event")
        assert summary is None, f"message after the summary: {msg}"
        if kind == "progress":
            progress.append(msg.progress)
        elif kind == "changes":
            key = (msg.changes.sample_id, msg.changes.field)
            assert key not in changes, f"two messages for {key}"
            changes[key] = msg.changes
        else:
            summary = msg.summary
    assert summary is not None, "stream ended without a summary"
    return Load(progress, changes, summary)


def load_error(stub, name: str, **request) -> grpc.RpcError:
    try:
        load(stub, name, **request)
    except grpc.RpcError as e:
        return e
    raise AssertionError("the load succeeded")


def label_list(value: labels.FieldValue) -> list:
    for kind in ("detections", "polylines", "keypoints", "classifications"):
        if value.HasField(kind):
            return list(getattr(getattr(value, kind), kind))
    for kind in ("detection", "polyline", "keypoint", "classification"):
        if value.HasField(kind):
            return [getattr(value, kind)]
    return []


def by_id(value: labels.FieldValue) -> dict:
    return {lab.id: lab for lab in label_list(value)}


def py(value: labels.AttributeValue):
    kind = value.WhichOneof("kind")
    if kind == "list_value":
        return [py(v) for v in value.list_value.values]
    if kind in (None, "null_value"):
        return None
    return getattr(value, kind)


def attrs(label) -> dict:
    return {k: py(v) for k, v in label.attributes.items()}


def px_box(box: Sequence[float]) -> dict:
    return {"x": box[0] * W, "y": box[1] * H, "w": box[2] * W, "h": box[3] * H}
