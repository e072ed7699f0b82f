# ruff: noqa: F811 - pytest fixtures imported from the recipes module
"""Loading into FiftyOne through labelport's backend: empty fields stay empty, a field whose
labels were all deleted in V7 holds what FiftyOne's own merge leaves, and the fast load (bulk
writes of the merged labels) gives exactly what FiftyOne's per-sample merge gives
(`fast_load=False`), ids included, on random edits made in darwin-sim.
"""

from __future__ import annotations

import random
import re

import bson
import pytest
from PIL import Image
from test_fiftyone_recipes import W, H, darwin, dataset, fo, item_of, snapshot  # noqa: F401
from upload.support import items_by_sample


def _exists(ds, field):
    return sorted(ds.exists(field).values("id"))


@pytest.mark.parametrize("fast_load", [True, False])
def test_unchanged_load_keeps_empty_fields_empty(darwin, sim, dataset, fast_load):
    """A None field stays None after an unchanged load (the server sends nothing for it and
    the backend hands FiftyOne nothing), in an existing field and in a new one."""
    last = dataset.last()
    last.ground_truth = None
    last.save()
    anno_key = f"empty_{int(fast_load)}"
    dataset.annotate(anno_key, backend="darwin", dataset_slug=anno_key.replace("_", "-"),
                     label_schema={"ground_truth": {},
                                   "new_boxes": {"type": "detections", "classes": ["car"]}})
    before = (_exists(dataset, "ground_truth"), snapshot(dataset, "ground_truth"))
    assert len(before[0]) == 2 and last.id not in before[0]

    dataset.load_annotations(anno_key, fast_load=fast_load)
    assert (_exists(dataset, "ground_truth"), snapshot(dataset, "ground_truth")) == before
    assert dataset[last.id].ground_truth is None
    # The new field is declared by the load, and holds nothing anywhere.
    assert _exists(dataset, "new_boxes") == []
    assert set(dataset.values("new_boxes")) == {None}
    dataset.delete_annotation_run(anno_key)


@pytest.mark.parametrize("fast_load", [True, False])
def test_load_that_deletes_every_label_of_a_sample(darwin, sim, dataset, fast_load):
    """Every label of a sample deleted in V7. FiftyOne's merge (fiftyone/utils/annotations.py
    `_merge_labels`) deletes them with `dataset.delete_labels()`, which leaves a list field's
    container empty (`Detections(detections=[])`, not None) and sets a single-label field to
    None; the merge loop then has nothing to add. Both load paths leave exactly that."""
    sample = dataset.first()
    sample["weather"] = fo.Classification(label="sunny")
    sample.save()
    anno_key = f"delete_all_{int(fast_load)}"
    slug = anno_key.replace("_", "-")
    dataset.annotate(anno_key, backend="darwin", dataset_slug=slug,
                     label_schema={"ground_truth": {},
                                   "weather": {"type": "classification",
                                               "classes": ["sunny", "rainy"]}})
    item = item_of(sim, slug, sample.id)
    annotations = sim.annotations(item)
    assert len(annotations) == len(sample.ground_truth.detections) + 1
    for a in annotations:
        sim.control("DELETE", f"/_sim/items/{item}/annotations/{a['id']}")
    others = {s.id: s.ground_truth.to_dict() for s in dataset if s.id != sample.id}

    dataset.load_annotations(anno_key, fast_load=fast_load)
    after = dataset[sample.id]
    assert after.ground_truth is not None
    assert after.ground_truth.detections == []
    assert after.weather is None
    assert {s.id: s.ground_truth.to_dict() for s in dataset if s.id != sample.id} == others
    dataset.delete_annotation_run(anno_key)


# ---- the fast load against FiftyOne's merge, on random edits ---------------------------------

CLASSES = ["car", "truck", "person"]
COLORS = ["red", "blue"]


def _random_dataset(tmp_path, rng: random.Random, n: int):
    ds = fo.Dataset()
    samples = []
    for i in range(n):
        path = tmp_path / f"r{i}.png"
        Image.new("RGB", (W, H), (rng.randrange(256), 90, 90)).save(path)
        dets = []
        for _ in range(rng.randrange(0, 4)):
            x, y = rng.randrange(0, W // 2), rng.randrange(0, H // 2)
            d = fo.Detection(label=rng.choice(CLASSES),
                             bounding_box=[x / W, y / H, 10 / W, 8 / H],
                             color=rng.choice(COLORS + [None]),
                             confidence=rng.choice([None, 0.5]))
            if rng.random() < 0.3:
                d.tags = ["reviewed"]
            dets.append(d)
        fields = {}
        if dets or rng.random() < 0.5:
            fields["gt"] = fo.Detections(detections=dets)
        if rng.random() < 0.6:
            fields["scene"] = fo.Classification(label=rng.choice(["day", "night"]))
        samples.append(fo.Sample(filepath=str(path), **fields))
    ds.add_samples(samples)
    ds.compute_metadata()
    return ds


def _edits(rng: random.Random, items: dict, sim) -> list:
    """A random list of annotator actions: (sample id, index of the annotation in the item's
    sorted annotations or None, action, body)."""
    actions = []
    for sample_id in sorted(items):
        annotations = _sorted_annotations(sim, items[sample_id]["id"])
        for k, a in enumerate(annotations):
            r = rng.random()
            if r < 0.15:
                actions.append((sample_id, k, "DELETE", None))
            elif r < 0.3 and a["type"] == "bounding_box":
                actions.append((sample_id, k, "PATCH", {"data": {
                    "x": rng.randrange(0, W - 10), "y": rng.randrange(0, H - 8), "w": 10,
                    "h": 8}}))
            elif r < 0.4 and a["type"] == "bounding_box":
                actions.append((sample_id, k, "PATCH", {"class_name": rng.choice(CLASSES)}))
            elif r < 0.5 and a["type"] == "bounding_box":
                actions.append((sample_id, k, "PATCH",
                                {"properties": {"color": rng.choice(COLORS + [None])}}))
            elif r < 0.55 and a["type"] == "tag":
                actions.append((sample_id, k, "PATCH", {"class_name": "night"}))
        for _ in range(rng.choice([0, 0, 1, 2])):
            actions.append((sample_id, None, "POST", {
                "class_name": rng.choice(CLASSES), "type": "bounding_box",
                "properties": {"color": rng.choice(COLORS)},
                "data": {"x": rng.randrange(0, W - 10), "y": rng.randrange(0, H - 8), "w": 10,
                         "h": 8}}))
        if rng.random() < 0.1:
            actions.append((sample_id, None, "POST", {"class_name": "day", "type": "tag"}))
    return actions


def _sorted_annotations(sim, item_id):
    return sorted(sim.annotations(item_id), key=lambda a: (
        a["type"], a["class_name"], str(sorted((a.get("data") or {}).items())),
        str(sorted((a.get("properties") or {}).items()))))


def _apply(sim, items, actions):
    targets = {sid: _sorted_annotations(sim, item["id"]) for sid, item in items.items()}
    for sample_id, k, method, body in actions:
        item_id = items[sample_id]["id"]
        if method == "POST":
            sim.control("POST", f"/_sim/items/{item_id}/annotations", body)
        else:
            path = f"/_sim/items/{item_id}/annotations/{targets[sample_id][k]['id']}"
            sim.control(method, path, body)


def _state(ds, fields):
    return {s.id: {f: None if s[f] is None else s[f].to_dict() for f in fields}
            for s in ds.iter_samples()}


def _labels(value):
    """A field value's labels, one dict each (so that a failure shows which label differs)."""
    if value is None:
        return None
    return [dict(d) for d in value.get("detections", [value])]


def _raw_docs(ds) -> dict:
    """The stored sample documents, but for what differs between a dataset and its clone
    anyway (the dataset id, the creation time) and the time of the last change."""
    return {doc["_id"]: bson.encode(doc) for doc in ds._sample_collection.find(
        {}, {"last_modified_at": 0, "_dataset_id": 0, "created_at": 0})}


def test_fast_load_equals_fiftyone_merge_on_random_edits(darwin, sim, tmp_path, monkeypatch):
    """One run; a clone of the dataset after annotate() holds the same run (same sample and
    label ids, same id map, same server run). Random annotator edits in V7 (labels added,
    moved, relabelled, deleted, attributes changed and cleared, classifications added and
    changed, fields that are None or empty); the dataset loads through the fast path (the
    changed samples merged on their raw values and written with bulk writes: FiftyOne's merge
    gets none of them), its clone through FiftyOne's merge (`fast_load=False`); every sample's
    field values (ids included), the stored documents byte for byte, the id maps and the
    schemas are equal, after a first and after a second round of edits (which sees the labels
    the first added)."""
    import fiftyone.utils.annotations as foua

    merged = []  # (field, samples FiftyOne's merge was given), per call
    real_merge = foua._merge_labels

    def counting_merge(dataset, anno_dict, results, label_field, *args, **kwargs):
        merged.append((label_field, len(anno_dict)))
        return real_merge(dataset, anno_dict, results, label_field, *args, **kwargs)

    monkeypatch.setattr(foua, "_merge_labels", counting_merge)
    rng = random.Random(20261207)
    fast = _random_dataset(tmp_path, rng, 24)
    schema = {
        "gt": {"type": "detections", "classes": CLASSES,
               "attributes": {"color": {"type": "single_select", "values": COLORS}}},
        "scene": {"type": "classification", "classes": ["day", "night"]},
    }
    fields = list(schema)
    fast.annotate("eq", backend="darwin", dataset_slug="eq", label_schema=schema)
    slow = fast.clone()
    try:
        assert slow.values("id") == fast.values("id")
        assert slow.list_annotation_runs() == ["eq"]
        assert (slow.load_annotation_results("eq").labelport_dataset
                == fast.load_annotation_results("eq").labelport_dataset)
        assert _state(fast, fields) == _state(slow, fields)
        counts = []
        for round_ in range(2):
            items = items_by_sample(sim, "eq")
            actions = _edits(rng, items, sim)
            assert {a[2] for a in actions} == {"POST", "PATCH", "DELETE"}, actions
            _apply(sim, items, actions)
            before = _raw_docs(slow)
            merged.clear()
            fast.load_annotations("eq", fast_load=True)
            fast_merged = sum(n for _, n in merged)
            merged.clear()
            slow.load_annotations("eq", fast_load=False)
            slow_merged = sum(n for _, n in merged)
            after = _raw_docs(slow)
            changed = sum(before[k] != after[k] for k in after)
            counts.append((fast_merged, slow_merged, changed))
            fast_state, slow_state = _state(fast, fields), _state(slow, fields)
            assert fast_state != _state(slow.select([]), fields)  # not vacuous
            for sample_id in slow_state:
                for f in fields:
                    assert _labels(fast_state[sample_id][f]) == _labels(
                        slow_state[sample_id][f]), (round_, sample_id, f)
            assert fast_state == slow_state
            assert _raw_docs(fast) == after, round_
            assert fast.get_field_schema(flat=True).keys() == slow.get_field_schema(
                flat=True).keys()
            assert (fast.load_annotation_results("eq").id_map
                    == slow.load_annotation_results("eq").id_map)
            assert (fast.load_annotation_results("eq", cache=False).id_map
                    == slow.load_annotation_results("eq", cache=False).id_map)
        # FiftyOne's merge changed samples on the slow path; on the fast path it got none.
        assert all(fast_n == 0 and slow_n > 0 and changed > 0
                   for fast_n, slow_n, changed in counts), counts
    finally:
        fast.delete_annotation_run("eq")
        slow.delete()
        fast.delete()


# ---- progress a FiftyOne user sees -----------------------------------------------------------

BAR = re.compile(r"\d+%\s*\|")


@pytest.mark.parametrize("show", [False, True])
def test_progress_bars_follow_fiftyone_setting(darwin, sim, dataset, capfd, caplog, monkeypatch,
                                               show):
    """annotate() shows FiftyOne progress bars for the media sent to labelport, the items
    uploaded to V7 and the existing labels imported there; load_annotations() one for the
    items read from V7's export. With `fo.config.show_progress_bars = False` none is drawn.
    (A bar is drawn on stdout; its final line is logged by FiftyOne's ProgressBar.)"""
    monkeypatch.setattr(fo.config, "show_progress_bars", show)
    anno_key = f"progress_{int(show)}"

    def output():
        text = "".join(capfd.readouterr()) + caplog.text
        caplog.clear()
        return text

    output()
    dataset.annotate(anno_key, backend="darwin", label_field="ground_truth",
                     dataset_slug=anno_key.replace("_", "-"))
    annotate_out = output()
    dataset.load_annotations(anno_key)
    load_out = output()
    dataset.delete_annotation_run(anno_key)
    if not show:
        assert not BAR.search(annotate_out) and not BAR.search(load_out), (
            annotate_out, load_out)
        return
    # 3 files, 3 items, 4 existing labels; the load reads 3 items.
    assert re.search(r"100%\s*\|[^\n\r]*\| 3/3 [^\n\r]*files/s", annotate_out), annotate_out
    assert re.search(r"100%\s*\|[^\n\r]*\| 3/3 [^\n\r]*items/s", annotate_out), annotate_out
    assert re.search(r"100%\s*\|[^\n\r]*\| 4/4 [^\n\r]*labels/s", annotate_out), annotate_out
    assert re.search(r"100%\s*\|[^\n\r]*\| 3/3 [^\n\r]*items/s", load_out), load_out


def test_load_after_a_failed_fast_load_duplicates_nothing(darwin, sim, dataset, monkeypatch):
    """A load that fails inside FiftyOne's merge (after the fast path restricted the run's id
    map to the samples it hands FiftyOne) leaves the cached results whole: the next load adds
    the new box once and duplicates nothing."""
    import fiftyone.utils.annotations as foua

    anno_key = "after_failure"
    dataset.annotate(anno_key, backend="darwin", label_field="ground_truth",
                     dataset_slug="after-failure")
    ids_before = {s.id: [d.id for d in s.ground_truth.detections] for s in dataset}
    first = dataset.first().id
    item = item_of(sim, "after-failure", first)
    sim.control("POST", f"/_sim/items/{item}/annotations",
                {"class_name": "car", "type": "bounding_box",
                 "data": {"x": 5, "y": 5, "w": 10, "h": 8}})

    real_merge = foua._merge_labels

    def failing_merge(*args, **kwargs):
        raise RuntimeError("merge interrupted")

    monkeypatch.setattr(foua, "_merge_labels", failing_merge)
    with pytest.raises(RuntimeError, match="merge interrupted"):
        dataset.load_annotations(anno_key)
    monkeypatch.setattr(foua, "_merge_labels", real_merge)

    dataset.load_annotations(anno_key)
    after = {s.id: [d.id for d in s.ground_truth.detections] for s in dataset}
    assert after[first][:-1] == ids_before[first] and len(after[first]) == len(
        ids_before[first]) + 1
    assert {k: v for k, v in after.items() if k != first} == {
        k: v for k, v in ids_before.items() if k != first}
    id_map = dataset.load_annotation_results(anno_key).id_map["ground_truth"]
    assert id_map == after
    dataset.delete_annotation_run(anno_key)
