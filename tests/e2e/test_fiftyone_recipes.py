"""The recipes of FiftyOne's V7 integration guide, run unchanged with the real FiftyOne against
labelport-server and darwin-sim (backend `labelport.fiftyone.DarwinBackendConfig`).

FiftyOne gets its own MongoDB (the bundled mongod) in a temporary FIFTYONE_DATABASE_DIR.
darwin-sim's /_sim annotator endpoints play the annotator in V7.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest
from PIL import Image, ImageDraw
from upload.support import items_by_sample

_DB_DIR = tempfile.mkdtemp(prefix="labelport-fiftyone-db-")
atexit.register(shutil.rmtree, _DB_DIR, ignore_errors=True)  # after FiftyOne stops mongod
os.environ.update({
    "FIFTYONE_DATABASE_DIR": _DB_DIR,
    "FIFTYONE_DATABASE_VALIDATION": "false",
    "FIFTYONE_DO_NOT_TRACK": "true",
    "FIFTYONE_ANNOTATION_BACKENDS": "*,darwin",
    "FIFTYONE_DARWIN_CONFIG_CLS": "labelport.fiftyone.DarwinBackendConfig",
})

import fiftyone as fo  # noqa: E402

from labelport import Client  # noqa: E402

W, H = 100, 80


@pytest.fixture
def darwin(server, monkeypatch):
    """Points FiftyOne's darwin backend at the test server, as FIFTYONE_DARWIN_URL does."""
    monkeypatch.setenv("FIFTYONE_DARWIN_URL", server.target)
    fo.annotation_config.backends["darwin"].pop("url", None)
    return server


@pytest.fixture
def dataset(tmp_path):
    """Three images (two named the same) with ground_truth and predictions Detections."""
    ds = fo.Dataset()
    specs = [
        ("a/img.png", [("car", [0.1, 0.1, 0.3, 0.3]), ("person", [0.6, 0.2, 0.2, 0.5])],
         [("car", [0.1, 0.1, 0.3, 0.3], 0.95), ("dog", [0.5, 0.6, 0.2, 0.2], 0.9),
          ("dog", [0.7, 0.7, 0.1, 0.1], 0.85)]),
        ("b/img.png", [("car", [0.2, 0.3, 0.4, 0.4])], [("car", [0.2, 0.3, 0.4, 0.4], 0.99)]),
        ("c/other.png", [("person", [0.4, 0.1, 0.2, 0.6])], []),
    ]
    for rel, gt, preds in specs:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.new("RGB", (W, H), (120, 160, 200))
        draw = ImageDraw.Draw(image)
        for _, (x, y, w, h) in gt:
            draw.rectangle([x * W, y * H, (x + w) * W, (y + h) * H], fill=(200, 60, 60))
        image.save(path)
        ds.add_sample(fo.Sample(
            filepath=str(path),
            ground_truth=fo.Detections(detections=[
                fo.Detection(label=lb, bounding_box=box, occluded=False) for lb, box in gt]),
            predictions=fo.Detections(detections=[
                fo.Detection(label=lb, bounding_box=box, confidence=c) for lb, box, c in preds]),
        ))
    ds.compute_metadata()
    yield ds
    ds.delete()


def item_of(sim, slug: str, sample_id: str) -> str:
    return items_by_sample(sim, slug)[sample_id]["id"]


def add_box(sim, item_id, label, x, y, w, h):
    sim.control("POST", f"/_sim/items/{item_id}/annotations",
                {"class_name": label, "type": "bounding_box",
                 "data": {"x": x, "y": y, "w": w, "h": h}})


def box_annotation(sim, item_id, x, y):
    """The item's box annotation whose top-left corner is at pixel (x, y)."""
    for a in sim.annotations(item_id):
        if a["type"] == "bounding_box" and abs(a["data"]["x"] - x) < 1 and abs(
                a["data"]["y"] - y) < 1:
            return a
    raise AssertionError(f"no box at {(x, y)} on {item_id}: {sim.annotations(item_id)}")


def relabel_car_delete_person_add_dog(sim, item_id, truck_at):
    """What an annotator does in V7 on the first test image: relabels the car (the 30x24 box at
    (10, 8)) "truck" and moves it to `truck_at`, deletes the person (the box at (60, 16)) and
    adds a dog box."""
    car = box_annotation(sim, item_id, 10, 8)
    x, y = truck_at
    sim.control("PATCH", f"/_sim/items/{item_id}/annotations/{car['id']}",
                {"class_name": "truck", "data": {"x": x, "y": y, "w": 30, "h": 24}})
    person = box_annotation(sim, item_id, 60, 16)
    sim.control("DELETE", f"/_sim/items/{item_id}/annotations/{person['id']}")
    add_box(sim, item_id, "dog", 50, 48, 20, 16)


def snapshot(ds, field):
    return {s.id: s[field].to_dict() if s[field] is not None else None for s in ds}


def test_basic_recipe(darwin, sim, dataset, capsys):
    from fiftyone import ViewField as F

    # Step 2: the sample with the most high-confidence predictions without a match.
    most_fp_view = (
        dataset.filter_labels("predictions", (F("confidence") > 0.8) & (F("label") == "dog"))
        .sort_by(F("predictions.detections").length(), reverse=True))
    sample_id = most_fp_view.first().id
    view = dataset.select(sample_id)

    # Step 3
    anno_key = "v7_basic_recipe"
    label_schema = {
        "new_ground_truth": {
            "type": "detections",
            "classes": dataset.distinct("ground_truth.detections.label"),
        },
    }
    view.annotate(anno_key, backend="darwin", label_schema=label_schema, launch_editor=True,
                  dataset_slug=anno_key, api_key="ABCDEFG.not-a-real-key")
    out = capsys.readouterr().out
    assert "V7 editor: http://127.0.0.1:" in out
    info = dataset.get_annotation_info(anno_key)
    assert info.config.dataset_slug == anno_key
    assert info.config.method == "darwin"
    assert "not-a-real-key" not in str(info.serialize())  # the key is never persisted
    assert "not-a-real-key" not in str(dataset._doc.to_dict())

    # Step 4: the annotator draws two boxes in V7.
    item = item_of(sim, anno_key, sample_id)
    add_box(sim, item, "car", 10, 8, 30, 24)
    add_box(sim, item, "person", 60, 16, 20, 40)

    # Step 5
    dataset.load_annotations(anno_key)
    sample = dataset[sample_id]
    boxes = sorted((d.label, [round(v, 3) for v in d.bounding_box])
                   for d in sample.new_ground_truth.detections)
    assert boxes == [("car", [0.1, 0.1, 0.3, 0.3]), ("person", [0.6, 0.2, 0.2, 0.5])]
    assert dataset.exists("new_ground_truth").count() == 1
    assert dataset.load_annotation_view(anno_key).values("id") == [sample_id]

    # Step 6
    results = dataset.load_annotation_results(anno_key)
    results.cleanup()
    assert items_by_sample(sim, anno_key) == {} or all(
        d["archived"] for t in sim.state()["teams"] for d in t["datasets"]
        if d["slug"] == anno_key)
    dataset.delete_annotation_run(anno_key)
    assert dataset.list_annotation_runs() == []
    assert sample.reload() is None and len(dataset[sample_id].new_ground_truth.detections) == 2


@pytest.mark.parametrize("form", ["label_field", "label_schema"])
def test_adding_new_label_fields(darwin, sim, dataset, form):
    view = dataset.select(dataset.first().id)
    anno_key = "v7_new_field"
    if form == "label_field":
        view.annotate(anno_key, backend="darwin", label_field="new_classifications",
                      label_type="classifications", classes=["dog", "cat", "person"],
                      dataset_slug=anno_key, launch_editor=False)
    else:
        view.annotate(anno_key, backend="darwin", dataset_slug=anno_key,
                      label_schema={"new_classifications": {
                          "type": "classifications", "classes": ["dog", "cat", "person"]}})
    info = dataset.get_annotation_info(anno_key)
    assert info.config.label_schema["new_classifications"]["type"] == "classifications"
    assert info.config.label_schema["new_classifications"]["classes"] == ["dog", "cat", "person"]

    item = item_of(sim, anno_key, view.first().id)
    for name in ("dog", "person"):
        sim.control("POST", f"/_sim/items/{item}/annotations",
                    {"class_name": name, "type": "tag"})

    dataset.load_annotations(anno_key, cleanup=True)
    labels = view.first().new_classifications.classifications
    assert sorted(c.label for c in labels) == ["dog", "person"]
    assert len({c.id for c in labels}) == 2
    # cleanup=True removed the run's V7 data.
    assert items_by_sample(sim, anno_key) == {} or all(
        d["archived"] for t in sim.state()["teams"] for d in t["datasets"]
        if d["slug"] == anno_key)
    dataset.delete_annotation_run(anno_key)
    assert dataset.count("new_classifications.classifications") == 2


def test_editing_existing_labels(darwin, sim, dataset):
    view = dataset.match(F_filepath_endswith("img.png"))  # the two same-named files
    assert len(view) == 2
    anno_key = "v7_existing_field"
    view.annotate(anno_key, backend="darwin", label_field="ground_truth",
                  dataset_slug=anno_key, launch_editor=True)
    results = dataset.load_annotation_results(anno_key)
    assert results.dataset_slug == anno_key
    first, second = view.values("id")
    before = {s.id: {d.label: d for d in s.ground_truth.detections} for s in view}
    items = items_by_sample(sim, anno_key)
    assert len({items[first]["id"], items[second]["id"]}) == 2

    # In V7: on the first image move and relabel the car, delete the person, add a dog;
    # the second image is left alone.
    relabel_car_delete_person_add_dog(sim, items[first]["id"], truck_at=(12, 10))

    dataset.load_annotations(anno_key)
    s1 = dataset[first]
    dets = {d.label: d for d in s1.ground_truth.detections}
    assert sorted(dets) == ["dog", "truck"]
    truck = dets["truck"]
    assert truck.id == before[first]["car"].id  # edited in place: same id
    assert truck.bounding_box == pytest.approx([0.12, 0.125, 0.3, 0.3])
    assert truck.occluded is False  # attributes V7 does not carry are kept
    assert dets["dog"].id not in {d.id for d in before[first].values()}
    s2 = dataset[second]
    assert [(d.id, d.label) for d in s2.ground_truth.detections] == [
        (d.id, d.label) for d in before[second].values()]
    assert dataset.count("ground_truth.detections") == 2 + 1 + 1  # nothing duplicated

    # A second load with V7 unchanged changes nothing.
    snap = snapshot(dataset, "ground_truth")
    dataset.load_annotations(anno_key)
    assert snapshot(dataset, "ground_truth") == snap
    dataset.delete_annotation_run(anno_key)


def test_allow_flags_are_respected(darwin, sim, dataset):
    view = dataset.select(dataset.first().id)
    anno_key = "v7_restricted"
    view.annotate(anno_key, backend="darwin", label_field="ground_truth", dataset_slug=anno_key,
                  allow_additions=False, allow_deletions=False, allow_label_edits=False,
                  allow_spatial_edits=True)
    sample_id = view.first().id
    before = {d.label: d for d in dataset[sample_id].ground_truth.detections}
    item = item_of(sim, anno_key, sample_id)
    relabel_car_delete_person_add_dog(sim, item, truck_at=(20, 8))

    dataset.load_annotations(anno_key)
    dets = {d.id: d for d in dataset[sample_id].ground_truth.detections}
    assert set(dets) == {before["car"].id, before["person"].id}  # no addition, no deletion
    car_after = dets[before["car"].id]
    assert car_after.label == "car"  # label edits refused
    assert car_after.bounding_box == pytest.approx([0.2, 0.1, 0.3, 0.3])  # spatial allowed
    dataset.delete_annotation_run(anno_key)


def test_managing_annotation_runs(darwin, sim, dataset, capsys):
    view = dataset.limit(2)
    view.annotate("run_a", backend="darwin", label_field="ground_truth", dataset_slug="run-a")
    dataset.select(dataset.last().id).annotate(
        "run_b", backend="darwin", label_schema={"scene": {"type": "classification",
                                                           "classes": ["in", "out"]}})
    assert dataset.list_annotation_runs() == ["run_a", "run_b"]
    assert dataset.list_annotation_runs(method="darwin", dataset_slug="run-a") == ["run_a"]
    info = dataset.get_annotation_info("run_a")
    assert info.key == "run_a"
    assert info.config.label_schema["ground_truth"]["type"] == "detections"
    assert info.config.label_schema["ground_truth"]["existing_field"] is True

    results = dataset.load_annotation_results("run_a")
    capsys.readouterr()  # annotate()'s progress bars
    statuses = results.check_status()
    out = capsys.readouterr().out
    assert out.startswith("Annotation Run Status Counts for run_a:\n")
    assert statuses == ["new"] and "new: 2" in out
    assert results.get_status() == {"new": 2}

    dataset.rename_annotation_run("run_a", "run_c")
    assert dataset.list_annotation_runs() == ["run_b", "run_c"]
    with Client(darwin.target) as client:
        keys = [r.anno_key for r in client.list_runs(dataset.name)]
    assert keys == ["run_b", "run_c"]  # the service's run follows the rename
    # The renamed run still loads (nothing changed in V7: nothing changes in FiftyOne).
    snap = snapshot(dataset, "ground_truth")
    dataset.load_annotations("run_c")
    assert snapshot(dataset, "ground_truth") == snap

    b = dataset.load_annotation_results("run_b")
    assert b.dataset_slug.startswith("voxel51-")  # generated by the server
    dataset.delete_annotation_run("run_b")
    dataset.delete_annotation_run("run_c")
    assert dataset.list_annotation_runs() == []


def F_filepath_endswith(suffix):  # noqa: N802 - reads like FiftyOne's F expressions
    from fiftyone import ViewField as F

    return F("filepath").ends_with(suffix)


def test_media_from_urls_and_external_storage(darwin, sim, tmp_path):
    """media_field values that are http(s) URLs are fetched by the server; with
    external_storage, "s3://bucket/key" values are registered in place as storage key "key".
    (FiftyOne OSS turns `filepath` values into local paths, so these live in other fields.)"""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    (www / "imgs").mkdir(parents=True)
    for name, color in (("u1.png", (255, 0, 0)), ("u2.png", (0, 255, 0))):
        Image.new("RGB", (W, H), color).save(www / "imgs" / name)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    ds = fo.Dataset()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}/imgs"
        ds.add_samples([fo.Sample(filepath=str(www / "imgs" / n), url=f"{base}/{n}")
                        for n in ("u1.png", "u2.png")])
        ds.annotate("by_url", backend="darwin", dataset_slug="by-url", media_field="url",
                    label_field="boxes", label_type="detections", classes=["car"])
        items = items_by_sample(sim, "by-url")
        assert sorted(i["slots"][0]["file_name"] for i in items.values()) == ["u1.png", "u2.png"]
        add_box(sim, items[ds.first().id]["id"], "car", 10, 20, 30, 40)
        ds.load_annotations("by_url")
        assert ds.count("boxes.detections") == 1
        assert ds.first().boxes.detections[0].bounding_box == pytest.approx(
            [0.1, 0.25, 0.3, 0.5])
    finally:
        httpd.shutdown()
        ds.delete()

    sim.add_storage("bucket-store", www)
    ds = fo.Dataset()
    try:
        ds.add_samples([fo.Sample(filepath=str(www / "imgs" / n),
                                  storage_path=f"s3://my-bucket/imgs/{n}")
                        for n in ("u1.png", "u2.png")])
        ds.annotate("external", backend="darwin", dataset_slug="external",
                    media_field="storage_path",
                    external_storage="bucket-store", label_field="boxes",
                    label_type="detections", classes=["car"])
        assert ds.get_annotation_info("external").config.external_storage == "bucket-store"
        items = items_by_sample(sim, "external")
        assert len(items) == 2
        add_box(sim, items[ds.last().id]["id"], "car", 0, 0, 50, 40)
        ds.load_annotations("external")
        assert ds.last().boxes.detections[0].bounding_box == pytest.approx([0, 0, 0.5, 0.5])
        assert ds.first().boxes is None or not ds.first().boxes.detections
    finally:
        ds.delete()


def test_unexpected_labels_are_returned(darwin, sim, dataset):
    """A polygon drawn in a detections field comes back as unexpected (FiftyOne's
    unexpected="return"), not merged."""
    view = dataset.select(dataset.last().id)
    view.annotate("unexpected", backend="darwin", label_field="ground_truth",
                  dataset_slug="unexpected")
    item = item_of(sim, "unexpected", view.first().id)
    sim.control("POST", f"/_sim/items/{item}/annotations",
                {"class_name": "person", "type": "polygon",
                 "data": {"paths": [[{"x": 1, "y": 1}, {"x": 20, "y": 1}, {"x": 20, "y": 20}]]}})
    before = snapshot(dataset, "ground_truth")
    unexpected = dataset.load_annotations("unexpected", unexpected="return")
    assert snapshot(dataset, "ground_truth") == before
    assert list(unexpected) == ["ground_truth"]
    (polylines,) = unexpected["ground_truth"]["polylines"].values()
    (poly,) = polylines.values()
    assert poly.label == "person" and len(poly.points[0]) == 3


def test_every_label_type_round_trips_with_stable_ids(darwin, sim, tmp_path):
    """Existing Classification, Polylines and Keypoints fields in one run: an untouched load
    changes nothing; a keypoint moved in V7 is edited in place."""
    path = tmp_path / "shapes.png"
    Image.new("RGB", (W, H), (90, 90, 90)).save(path)
    ds = fo.Dataset()
    try:
        ds.add_sample(fo.Sample(
            filepath=str(path),
            weather=fo.Classification(label="sunny", confidence=0.7),
            shapes=fo.Polylines(polylines=[
                fo.Polyline(label="road", points=[[(0.1, 0.1), (0.5, 0.1), (0.5, 0.5)]],
                            closed=True, filled=True),
                fo.Polyline(label="lane", points=[[(0.2, 0.8), (0.8, 0.8)]], closed=False,
                            filled=False)]),
            points=fo.Keypoints(keypoints=[
                fo.Keypoint(label="eye", points=[(0.3, 0.3), (0.4, 0.3)])]),
        ))
        ds.compute_metadata()
        ds.annotate("all_types", backend="darwin", dataset_slug="all-types",
                    label_schema={"weather": {"classes": ["sunny", "rainy"]}, "shapes": {},
                                  "points": {}})
        schema = ds.get_annotation_info("all_types").config.label_schema
        assert {k: v["type"] for k, v in schema.items()} == {
            "weather": "classification", "shapes": "polygons", "points": "keypoints"}
        before = {f: snapshot(ds, f) for f in ("weather", "shapes", "points")}
        ds.load_annotations("all_types")
        assert {f: snapshot(ds, f) for f in ("weather", "shapes", "points")} == before

        item = item_of(sim, "all-types", ds.first().id)
        (kp,) = [a for a in sim.annotations(item) if a["type"] == "keypoint"][:1]
        sim.control("PATCH", f"/_sim/items/{item}/annotations/{kp['id']}",
                    {"data": {"x": 50, "y": 40}})
        ds.load_annotations("all_types")
        s = ds.first()
        assert s.weather.id == str(before["weather"][s.id]["_id"])
        assert s.weather.label == "sunny" and s.weather.confidence == 0.7
        ids = [p.id for p in s.points.keypoints]
        assert len(ids) == len(before["points"][s.id]["keypoints"])  # nothing duplicated
        assert [p.id for p in s.shapes.polylines] == [
            str(p["_id"]) for p in before["shapes"][s.id]["polylines"]]
        moved = [p for p in s.points.keypoints if (0.5, 0.5) in [tuple(x) for x in p.points]]
        assert moved and moved[0].id in {str(p["_id"])
                                        for p in before["points"][s.id]["keypoints"]}
    finally:
        ds.delete()


def test_deleted_run_key_can_be_used_again(darwin, sim, dataset):
    """delete_annotation_run() removes the service's run record too (V7 data stays)."""
    view = dataset.select(dataset.first().id)
    kw = dict(backend="darwin", label_field="ground_truth")
    view.annotate("again", dataset_slug="again-1", **kw)
    dataset.delete_annotation_run("again")
    with Client(darwin.target) as client:
        assert list(client.list_runs(dataset.name)) == []
    assert items_by_sample(sim, "again-1")  # V7 untouched
    view.annotate("again", dataset_slug="again-2", **kw)
    assert dataset.load_annotation_results("again").dataset_slug == "again-2"
    snap = snapshot(dataset, "ground_truth")
    dataset.load_annotations("again")
    assert snapshot(dataset, "ground_truth") == snap
    dataset.delete_annotation_run("again")


def test_video_recipe_tracks_round_trip_and_edits(darwin, sim, tmp_path):
    """The guide's recipe on a video dataset: a frame-level Detections field with tracks
    (`index`) goes to V7 as one annotation per track; an unchanged load keeps every label; the
    annotator moves a keyframe and draws a new track; FiftyOne merges per frame with ids kept
    (annotation-semantics §2.7, §4.4, §5.8)."""
    from darwin_sim.media import make_video

    path = make_video(tmp_path / "clip.mp4", width=64, height=48, rate=10, seconds=1.2)
    ds = fo.Dataset()
    sample = fo.Sample(filepath=str(path))
    for n in range(1, 6):
        dets = [fo.Detection(label="car", bounding_box=[n / 16, 0.25, 0.25, 0.5], index=1)]
        if n in (3, 4):
            dets.append(fo.Detection(label="person", bounding_box=[0.5, 0.25, 0.25, 0.5],
                                     index=2))
        sample.frames[n] = fo.Frame(detections=fo.Detections(detections=dets))
    ds.add_sample(sample)
    ds.compute_metadata()
    try:
        anno_key = "v7_video"
        ds.annotate(anno_key, backend="darwin", label_field="frames.detections",
                    dataset_slug="v7-video")
        info = ds.get_annotation_info(anno_key)
        assert info.config.label_schema["frames.detections"]["type"] == "detections"
        sample = ds.first()
        before = {n: {d.id: d.to_dict() for d in f.detections.detections}
                  for n, f in sample.frames.items() if f.detections}
        item = item_of(sim, "v7-video", sample.id)
        annotations = sim.annotations(item)
        assert sorted(a["class_name"] for a in annotations) == ["car", "person"]  # one per track

        ds.load_annotations(anno_key)
        sample = ds.first()
        after = {n: {d.id: d.to_dict() for d in f.detections.detections}
                 for n, f in sample.frames.items() if f.detections}
        assert after == before

        # In V7: the car's last keyframe (frame 5) moves to frame 8, 40 px right; a new person
        # track is drawn on frames 10-12.
        car = next(a for a in annotations if a["class_name"] == "car")
        sim.control("PATCH", f"/_sim/items/{item}/annotations/{car['id']}",
                    {"frames": {"4": None, "7": {"x": 40, "y": 12, "w": 16, "h": 24}}})
        sim.control("POST", f"/_sim/items/{item}/annotations",
                    {"class_name": "person", "type": "bounding_box",
                     "frames": {"9": {"x": 8, "y": 0, "w": 8, "h": 8},
                                "11": {"x": 16, "y": 0, "w": 8, "h": 8}}})
        ds.load_annotations(anno_key)
        sample = ds.first()
        frames = {n: f.detections.detections for n, f in sample.frames.items()
                  if f.detections and f.detections.detections}
        assert sorted(frames) == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]
        for n in (1, 2, 3, 4):
            assert {d.id for d in frames[n]} == set(before[n])
        (five,) = frames[5]
        assert five.id in before[5]  # the same label, now interpolated
        assert five.bounding_box[0] == pytest.approx(22 / 64)
        for n, x in ((6, 28), (7, 34), (8, 40)):
            (d,) = frames[n]
            assert (d.label, d.index) == ("car", 1)
            assert d.bounding_box[0] == pytest.approx(x / 64)
        for n, x in ((10, 8), (11, 12), (12, 16)):
            (d,) = frames[n]
            assert (d.label, d.index) == ("person", 3)  # a new track: above the existing 1, 2
            assert d.bounding_box[0] == pytest.approx(x / 64)

        # Loading again with V7 unchanged changes nothing.
        snap = {n: [d.to_dict() for d in f.detections.detections]
                for n, f in ds.first().frames.items() if f.detections}
        ds.load_annotations(anno_key)
        assert {n: [d.to_dict() for d in f.detections.detections]
                for n, f in ds.first().frames.items() if f.detections} == snap

        # A polygon track is of no type of the run: FiftyOne gets it back per frame.
        tri = {"paths": [[{"x": 0, "y": 0}, {"x": 32, "y": 0}, {"x": 0, "y": 24}]]}
        sim.control("POST", f"/_sim/items/{item}/annotations",
                    {"class_name": "lake", "type": "polygon", "frames": {"0": tri}})
        returned = ds.load_annotations(anno_key, unexpected="return")
        frame_one = ds.first().frames[1].id
        (lake,) = returned["frames.detections"]["polylines"][sample.id][frame_one].values()
        assert (lake.label, lake.closed) == ("lake", True)
        ds.delete_annotation_run(anno_key)
    finally:
        ds.delete()


def test_segmentation_masks_round_trip_pixel_for_pixel(darwin, sim, tmp_path):
    """A Segmentation field (in-memory `mask`, and a half-size `mask_path` PNG) goes to V7 as
    a raster layer with one mask per class; an untouched load gives back identical masks and
    ids; an annotator's brush stroke in V7 comes back as exactly that edit."""
    import numpy as np

    ds = fo.Dataset()
    try:
        ds.mask_targets = {"segs": {0: "background", 1: "road", 2: "sky", 3: "car"}}
        full = np.zeros((H, W), dtype=np.uint8)
        full[: H // 4] = 2
        full[H // 2:] = 1
        full[50:60, 10:30] = 3
        half = np.zeros((H // 2, W // 2), dtype=np.uint8)
        half[:, : W // 4] = 1
        half[5:9, 30:40] = 2
        half_path = tmp_path / "half_mask.png"
        Image.fromarray(half).save(half_path)
        for name, seg in (("a.png", fo.Segmentation(mask=full)),
                          ("b.png", fo.Segmentation(mask_path=str(half_path)))):
            path = tmp_path / name
            Image.new("RGB", (W, H), (90, 90, 90)).save(path)
            ds.add_sample(fo.Sample(filepath=str(path), segs=seg))
        ds.compute_metadata()
        a, b = ds.values("id")

        ds.annotate("seg_run", backend="darwin", dataset_slug="seg-run", label_field="segs")
        schema = ds.get_annotation_info("seg_run").config.label_schema["segs"]
        assert schema["type"] == "segmentation"
        assert {int(k): v for k, v in schema["mask_targets"].items()} == ds.mask_targets["segs"]
        ids = dict(zip(ds.values("id"), ds.values("segs.id")))

        # V7 holds one raster layer per image and one mask per class present.
        item_a = item_of(sim, "seg-run", a)
        kinds = sorted((x["type"], x["class_name"]) for x in sim.annotations(item_a))
        assert kinds == [("mask", "car"), ("mask", "road"), ("mask", "sky"),
                         ("raster_layer", "__raster_layer__")]

        ds.load_annotations("seg_run")
        assert dict(zip(ds.values("id"), ds.values("segs.id"))) == ids
        assert np.array_equal(ds[a].segs.get_mask(), full)
        assert np.array_equal(ds[b].segs.get_mask(), half)

        # The annotator paints sky over a rectangle of image A and erases a car pixel block.
        paint = f"/_sim/items/{item_a}/masks/paint"
        sim.control("POST", paint, {"class_name": "sky", "rect": {"x": 60, "y": 40, "w": 30,
                                                                  "h": 20}})
        sim.control("POST", paint, {"class_name": None, "rect": {"x": 10, "y": 50, "w": 5,
                                                                 "h": 10}})
        ds.load_annotations("seg_run")
        edited = full.copy()
        edited[40:60, 60:90] = 2
        edited[50:60, 10:15] = 0
        assert ds[a].segs.id == ids[a]
        assert np.array_equal(ds[a].segs.get_mask(), edited)
        assert np.array_equal(ds[b].segs.get_mask(), half)
        assert dict(zip(ds.values("id"), ds.values("segs.id"))) == ids
    finally:
        ds.delete()


def test_instance_masks_round_trip_as_polygons(darwin, sim, tmp_path):
    """Detections with masks annotated as `instances`: V7 gets one polygon traced from each
    mask (a hole included); an untouched load keeps every mask pixel for pixel; a polygon
    redrawn in V7 comes back as its box and rasterised mask."""
    import numpy as np

    path = tmp_path / "people.png"
    Image.new("RGB", (W, H), (90, 90, 90)).save(path)
    ring = np.ones((10, 10), dtype=bool)
    ring[3:7, 3:7] = False
    blob = np.zeros((7, 13), dtype=bool)
    blob[1:6, 2:11] = True
    ds = fo.Dataset()
    try:
        ds.add_sample(fo.Sample(filepath=str(path), people=fo.Detections(detections=[
            fo.Detection(label="person", bounding_box=[0.1, 0.125, 0.1, 0.125], mask=ring),
            fo.Detection(label="person", bounding_box=[0.5, 0.5, 0.2, 0.1], mask=blob)])))
        ds.compute_metadata()
        ds.annotate("inst", backend="darwin", dataset_slug="inst",
                    label_schema={"people": {"type": "instances"}})
        before = [(d.id, d.bounding_box, d.mask.copy()) for d in ds.first().people.detections]

        item = item_of(sim, "inst", ds.first().id)
        polygons = [a for a in sim.annotations(item) if a["type"] == "polygon"]
        assert len(polygons) == 2
        ring_polygon = next(a for a in polygons if len(a["data"]["paths"]) == 2)
        # The ring's outer boundary and its hole, in image pixels.
        xs = sorted({round(p["x"], 6) for path in ring_polygon["data"]["paths"] for p in path})
        assert xs == [10, 13, 17, 20]

        ds.load_annotations("inst")
        after = ds.first().people.detections
        assert [d.id for d in after] == [b[0] for b in before]
        for d, (_, box, mask) in zip(after, before):
            assert d.bounding_box == box
            assert d.mask.dtype == bool and np.array_equal(d.mask, mask)

        # The annotator redraws the ring as a plain 4 x 2 pixel rectangle.
        sim.control("PATCH", f"/_sim/items/{item}/annotations/{ring_polygon['id']}",
                    {"data": {"paths": [[{"x": 40, "y": 20}, {"x": 44, "y": 20},
                                         {"x": 44, "y": 22}, {"x": 40, "y": 22}]]}})
        ds.load_annotations("inst")
        edited = ds.first().people.detections[0]
        assert edited.id == before[0][0]
        assert edited.bounding_box == pytest.approx([0.4, 0.25, 0.04, 0.025])
        assert np.array_equal(edited.mask, np.ones((2, 4), dtype=bool))
        assert np.array_equal(ds.first().people.detections[1].mask, before[1][2])
    finally:
        ds.delete()


def test_keypoint_skeletons_become_v7_skeletons(darwin, sim, tmp_path):
    """A keypoints field with `dataset.skeletons[field]`: V7 gets a skeleton class with the
    skeleton's labels as nodes and its edges, one skeleton annotation per Keypoint; an untouched
    load changes nothing; a node dragged in V7 moves that point."""
    import math

    path = tmp_path / "pose.png"
    Image.new("RGB", (W, H), (90, 90, 90)).save(path)
    ds = fo.Dataset()
    try:
        ds.skeletons = {"pose": fo.KeypointSkeleton(labels=["head", "hip", "foot"],
                                                    edges=[[0, 1, 2]])}
        ds.add_sample(fo.Sample(filepath=str(path), pose=fo.Keypoints(keypoints=[
            fo.Keypoint(label="person", points=[(0.5, 0.1), (0.5, 0.5), (0.25, 0.875)])])))
        ds.compute_metadata()
        ds.annotate("poses", backend="darwin", dataset_slug="poses",
                    label_schema={"pose": {"type": "keypoints", "classes": ["person"]}})
        before = snapshot(ds, "pose")

        import requests

        listed = requests.get(f"{sim.url}/api/teams/{sim.team}/annotation_classes",
                              headers={"Authorization": f"ApiKey {sim.api_key}"}, timeout=10)
        (person,) = [c for c in listed.json()["annotation_classes"] if c["name"] == "person"]
        assert person["annotation_types"][0] == "skeleton"
        v7_skeleton = person["metadata"]["skeleton"]
        assert [n["name"] for n in v7_skeleton["nodes"]] == ["head", "hip", "foot"]
        assert v7_skeleton["edges"] == [{"from": "head", "to": "hip"},
                                        {"from": "hip", "to": "foot"}]
        item = item_of(sim, "poses", ds.first().id)
        (skeleton,) = [a for a in sim.annotations(item) if a["type"] == "skeleton"]
        assert [n["name"] for n in skeleton["data"]["nodes"]] == ["head", "hip", "foot"]
        assert [(n["x"], n["y"]) for n in skeleton["data"]["nodes"]] == [(50, 8), (50, 40),
                                                                         (25, 70)]

        ds.load_annotations("poses")
        assert snapshot(ds, "pose") == before

        nodes = skeleton["data"]["nodes"]
        nodes[2] = {"name": "foot", "occluded": False, "x": 60, "y": 72}
        sim.control("PATCH", f"/_sim/items/{item}/annotations/{skeleton['id']}",
                    {"data": {"nodes": nodes}})
        ds.load_annotations("poses")
        (k,) = ds.first().pose.keypoints
        assert k.id == str(before[ds.first().id]["keypoints"][0]["_id"])
        assert [tuple(p) for p in k.points[:2]] == [(0.5, 0.1), (0.5, 0.5)]
        assert math.isclose(k.points[2][0], 0.6) and math.isclose(k.points[2][1], 0.9)
    finally:
        ds.delete()
