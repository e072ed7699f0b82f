"""Existing labels of every type reach V7 with the right pixel coordinates, classes and
properties (annotation-semantics §5.6, §5.9; checklist 56-63, 71-75).

One run over the HTTP sim with five fields (detections ×2, classifications, polygons,
polylines, keypoints), class groups with single/multi-select (→ V7 properties), text (→ text
sub-annotation) and instance_id attributes; then what the sim stored is compared with the
labels sent.
"""

from __future__ import annotations

import math

import pytest
from labelport.schema import attribute_value
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import label_schema_pb2 as schema
from labelport.v1 import labels_pb2 as labels

from .support import (
    HEIGHT, WIDTH, create_run, detection, detections, field_schema, header, image_sample,
    items_by_sample, make_image, media, oid, spec, specs, state_name, wait_run,
)

W, H = WIDTH, HEIGHT


def group(names, *attribute_specs) -> schema.ClassEntry:
    return schema.ClassEntry(group=schema.ClassGroup(
        classes=schema.ClassNames(names=list(names)), attributes=specs(*attribute_specs)))


def schema_fields():
    gt = schema.FieldSchema(field="gt", type="detections", classes=schema.ClassList(entries=[
        group(["car", "truck"], spec("color", "single_select", ["red", "blue"]),
              spec("flags", "multi_select", ["parked", "damaged", "new"]),
              spec("note", "text"), spec("track", "instance_id")),
        schema.ClassEntry(name="person")]))
    return [
        gt,
        field_schema("dets2", "detections", ["car", "sign"]),
        field_schema("tags", "classifications", ["day", "night"]),
        field_schema("polys", "polygons", ["road"]),
        field_schema("lines", "polylines", ["lane"]),
        field_schema("kps", "keypoints", ["eye"]),
    ]


EXISTING = [("gt", "Detections"), ("dets2", "Detections"), ("tags", "Classifications"),
            ("polys", "Polylines"), ("lines", "Polylines"), ("kps", "Keypoints")]


def sample_labels(k: int) -> dict:
    """The labels of sample k (k varies the coordinates)."""
    d = 0.01 * k
    car = detection("car", [0.1 + d, 0.2, 0.3, 0.4], index=0, confidence=0.0, attributes={
        "color": "blue", "flags": ["parked", "new"], "note": f"note {k}"})
    person = detection("person", [0.5, 0.5 + d, 0.25, 0.125], index=7)
    sign = detection("sign", [0.0, 0.0, 1.0, 1.0])
    car2 = detection("car", [0.25, 0.25, 0.5, 0.5])
    tags = labels.FieldValue(classifications=labels.Classifications(classifications=[
        labels.Classification(id=oid(), label="day", confidence=0.75),
        labels.Classification(id=oid(), label="night")]))
    road = labels.Polyline(id=oid(), label="road", closed=True, filled=True, index=3, points=[
        labels.Shape(points=[labels.Point(x=0.1, y=0.1), labels.Point(x=0.9, y=0.1 + d),
                             labels.Point(x=0.5, y=0.9)]),
        labels.Shape(points=[labels.Point(x=0.4, y=0.3), labels.Point(x=0.6, y=0.3),
                             labels.Point(x=0.5, y=0.5)])])
    lane = labels.Polyline(id=oid(), label="lane", closed=False, filled=False, points=[
        labels.Shape(points=[labels.Point(x=0.0, y=1.0), labels.Point(x=0.5 + d, y=0.5)])])
    kp = labels.Keypoint(id=oid(), label="eye", points=[
        labels.Point(x=0.25, y=0.5), labels.Point(x=0.75, y=0.5 + d),
        labels.Point(x=0.5, y=0.25)])
    return {
        "gt": detections(car, person),
        "dets2": detections(sign, car2),
        "tags": tags,
        "polys": labels.FieldValue(polylines=labels.Polylines(polylines=[road])),
        "lines": labels.FieldValue(polylines=labels.Polylines(polylines=[lane])),
        "kps": labels.FieldValue(keypoints=labels.Keypoints(keypoints=[kp])),
    }


def px(x, y):
    return {"x": pytest.approx(x * W), "y": pytest.approx(y * H)}


@pytest.fixture
def uploaded(sim, upload_server, tmp_path):
    """Runs the upload of 3 samples (two share a file name) and returns what is needed."""
    server = upload_server(sim)
    samples, sent = [], {}
    for k in range(3):
        # Samples 0 and 1 both use a file named "same.png" in different folders.
        path = make_image(tmp_path / f"dir{k}" / ("same.png" if k < 2 else "other.jpg"),
                          color=(10 * k, 20, 30))
        fields = sample_labels(k)
        sent[f"s{k}"] = fields
        samples.append(image_sample(f"s{k}", media(path=path), **fields))
    hdr = header("labels", schema_fields(), slug="labels-ds", existing=EXISTING)
    run = create_run(server.stub, hdr, samples)
    events = list(server.stub.WatchRun(svc.WatchRunRequest(name=run.name), timeout=60))
    final = wait_run(server.stub, run.name)
    return server, run, final, events, sent


def test_run_reaches_annotating_with_progress_and_editor_url(uploaded, sim):
    _, run, final, events, _ = uploaded
    assert state_name(final) == "RUN_STATE_ANNOTATING", (final.failure_reason, final.sample_errors)
    states = [e.run.state for e in events]
    assert states[-1] == run_pb.RUN_STATE_ANNOTATING
    assert run_pb.RUN_STATE_UPLOADING in states
    seqs = [e.sequence for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    p = final.progress
    assert (p.samples_total, p.samples_registered, p.samples_uploaded, p.samples_processed,
            p.samples_completed, p.samples_failed) == (3, 3, 3, 3, 3, 0)
    # 2 + 2 detections, 2 tags, 1 polygon, 1 line, 1 keypoint per sample.
    assert p.labels_total == p.labels_imported == 27
    assert not final.sample_errors
    ds = sim.dataset("labels-ds")
    assert final.editor_url.startswith(sim.url) and str(ds["id"]) in final.editor_url


def test_same_file_name_gives_distinct_items(uploaded, sim):
    items = items_by_sample(sim, "labels-ds")
    assert sorted(items) == ["s0", "s1", "s2"]
    assert items["s0"]["name"] == items["s1"]["name"] == "same.png"
    assert items["s0"]["path"] != items["s1"]["path"]
    assert items["s0"]["id"] != items["s1"]["id"]
    for item in items.values():
        assert item["status"] == "new"
        assert (item["slots"][0]["width"], item["slots"][0]["height"]) == (W, H)


def test_classes_created_once_per_name_and_type(uploaded, sim):
    classes = [c for c in sim.classes() if c["name"] != "__raster_layer__"]
    keys = sorted((c["name"], c["annotation_types"][0]) for c in classes)
    assert keys == sorted([
        ("car", "bounding_box"), ("truck", "bounding_box"), ("person", "bounding_box"),
        ("sign", "bounding_box"), ("day", "tag"), ("night", "tag"), ("road", "polygon"),
        ("lane", "line"), ("eye", "keypoint")])
    ds_id = sim.dataset("labels-ds")["id"]
    for c in classes:
        assert ds_id in [d["id"] for d in c["datasets"]], c
    by_name = {c["name"]: c for c in classes}
    # The group's text attribute enables the text sub-type; spatial types get instance_id.
    assert "text" in by_name["car"]["annotation_types"]
    assert "instance_id" in by_name["car"]["annotation_types"]
    # Select attributes became class properties with their values, once per class.
    props = [(p["name"], p["annotation_class_id"]) for p in sim.properties()]
    assert sorted(props) == sorted([("color", by_name["car"]["id"]),
                                    ("flags", by_name["car"]["id"]),
                                    ("color", by_name["truck"]["id"]),
                                    ("flags", by_name["truck"]["id"])])
    for p in sim.properties():
        values = sorted(v["value"] for v in p["property_values"])
        assert values == (["blue", "red"] if p["name"] == "color"
                          else ["damaged", "new", "parked"])
        assert p["type"] == ("single_select" if p["name"] == "color" else "multi_select")
    # Each class was created by exactly one POST.
    creates = [r for r in sim.requests()
               if r["method"] == "POST" and r["path"] == "/api/annotation_classes"]
    assert len(creates) == 9


def annotation_key(a):
    return (a["class_name"], a["type"], str(a["data"]))


def test_annotations_have_pixel_coordinates(uploaded, sim):
    _, _, _, _, sent = uploaded
    items = items_by_sample(sim, "labels-ds")
    for k in range(3):
        d = 0.01 * k
        annos = sim.annotations(items[f"s{k}"]["id"])
        by_class = {}
        for a in annos:
            by_class.setdefault((a["class_name"], a["type"]), []).append(a)
        # 2+2 detections, 2 tags, 1 polygon, 1 line, 3 keypoint parts (one per point)
        assert len(annos) == 11, [annotation_key(a) for a in annos]
        cars = sorted(by_class[("car", "bounding_box")], key=lambda a: a["data"]["x"])
        assert len(cars) == 2  # one in gt, one in dets2
        gt_car = next(a for a in cars if a.get("text"))
        assert gt_car["data"]["x"] == pytest.approx((0.1 + d) * W)
        assert gt_car["data"]["y"] == pytest.approx(0.2 * H)
        assert gt_car["data"]["w"] == pytest.approx(0.3 * W)
        assert gt_car["data"]["h"] == pytest.approx(0.4 * H)
        assert gt_car["instance_id"] == 0  # index 0 survives
        assert gt_car["text"] == f"note {k}"
        assert gt_car["properties"]["color"] == "blue"
        assert sorted(gt_car["properties"]["flags"]) == ["new", "parked"]
        assert gt_car["stored"]["data"]["inference"]["confidence"] == 0.0  # 0.0 survives
        (person,) = by_class[("person", "bounding_box")]
        assert person["data"] == {"x": pytest.approx(0.5 * W), "y": pytest.approx((0.5 + d) * H),
                                  "w": pytest.approx(0.25 * W), "h": pytest.approx(0.125 * H)}
        assert person["instance_id"] == 7
        (sign,) = by_class[("sign", "bounding_box")]
        assert sign["data"] == {"x": 0, "y": 0, "w": W, "h": H}
        assert sorted(a["class_name"] for a in annos if a["type"] == "tag") == ["day", "night"]
        day = next(a for a in annos if a["class_name"] == "day")
        assert day["stored"]["data"]["inference"]["confidence"] == 0.75
        (road,) = by_class[("road", "polygon")]
        assert road["data"]["paths"] == [
            [px(0.1, 0.1), px(0.9, 0.1 + d), px(0.5, 0.9)],
            [px(0.4, 0.3), px(0.6, 0.3), px(0.5, 0.5)]]
        assert road["instance_id"] == 3
        (lane,) = by_class[("lane", "line")]
        assert lane["data"]["path"] == [px(0.0, 1.0), px(0.5 + d, 0.5)]
        eyes = by_class[("eye", "keypoint")]
        points = sorted((a["data"]["x"], a["data"]["y"]) for a in eyes)
        want = sorted([(0.25 * W, 0.5 * H), (0.75 * W, (0.5 + d) * H), (0.5 * W, 0.25 * H)])
        assert all(math.isclose(a, b) for p, q in zip(points, want) for a, b in zip(p, q))
        assert len({a["id"] for a in annos}) == len(annos)


def test_each_sample_gets_its_own_labels(uploaded, sim):
    items = items_by_sample(sim, "labels-ds")
    xs = {}
    for k in range(3):
        annos = sim.annotations(items[f"s{k}"]["id"])
        person = next(a for a in annos if a["class_name"] == "person")
        xs[k] = person["data"]["y"]
    assert xs == {k: pytest.approx((0.5 + 0.01 * k) * H) for k in range(3)}


def test_import_calls_one_per_sample_with_labels(uploaded, sim):
    imports = [r for r in sim.requests() if r["path"].endswith("/import")]
    assert len(imports) == 3
    assert all(r["status"] == 200 for r in imports)
    assert attribute_value(1).int_value == 1  # (helper sanity)
