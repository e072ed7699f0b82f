"""labelport.fiftyone's fast load (`_FastMerge`: bulk writes of the merged samples, FiftyOne's
merge only for the samples it cannot reproduce) against FiftyOne's own merge
(`fiftyone.utils.annotations._merge_labels` given every sample), on random downloads: labels
deleted, added, moved, relabelled, re-indexed, attributes set, cleared and emptied, fields that
are None or empty, single-label and list fields of every kind the fast load handles. The stored
sample documents must be equal byte for byte (key order and BSON types included; only
`last_modified_at` differs), and so must the run's id maps and the dataset schemas.

No server: the downloaded labels are built here as the server sends them (label messages with
stable ids), from the dataset's own labels and random edits. FiftyOne runs on its bundled
MongoDB in a temporary database directory.
"""

from __future__ import annotations

import atexit
import copy
import os
import random
import shutil
import tempfile

import pytest

_DB_DIR = tempfile.mkdtemp(prefix="labelport-fastmerge-db-")
atexit.register(shutil.rmtree, _DB_DIR, ignore_errors=True)
os.environ.setdefault("FIFTYONE_DATABASE_DIR", _DB_DIR)
os.environ.update({"FIFTYONE_DATABASE_VALIDATION": "false", "FIFTYONE_DO_NOT_TRACK": "true"})

fo = pytest.importorskip("fiftyone")
fo.config.show_progress_bars = False
import bson  # noqa: E402
import fiftyone.utils.annotations as foua  # noqa: E402
import numpy as np  # noqa: E402
from bson import ObjectId  # noqa: E402

import labelport.fiftyone.backend as lpf  # noqa: E402
from labelport.schema import attribute_value  # noqa: E402
from labelport.v1 import labels_pb2 as labels_pb  # noqa: E402

CLASSES = ["car", "truck", "person"]
COLORS = ["red", "blue"]
ATTRS = {"color": {"type": "single_select", "values": COLORS}, "note": {"type": "text"}}
SCHEMA = {
    "gt": {"type": "detections", "attributes": ATTRS, "classes": [
        "car", "truck", {"classes": ["person"], "attributes": {"pose": {"type": "text"}}}]},
    "lines": {"type": "polylines", "classes": CLASSES, "attributes": ATTRS},
    "points": {"type": "keypoints", "classes": CLASSES},
    "tags_": {"type": "classifications", "classes": CLASSES, "attributes": ATTRS},
    "box": {"type": "detection", "classes": CLASSES, "attributes": ATTRS},
    "scene": {"type": "classification", "classes": ["day", "night"]},
    "strict": {"type": "detections", "classes": CLASSES, "attributes": ATTRS,
               "allow_additions": False, "allow_deletions": False,
               "allow_label_edits": False, "allow_spatial_edits": False},
}
LIST_FIELDS = {"gt": fo.Detections, "lines": fo.Polylines, "points": fo.Keypoints,
               "tags_": fo.Classifications, "strict": fo.Detections}
SINGLE_FIELDS = {"box": fo.Detection, "scene": fo.Classification}


def _attrs(rng: random.Random, label: str) -> dict:
    out = {}
    for name, choices in (("color", COLORS + [None]), ("note", ["", "ok", None]),
                          ("pose", ["up", ""])):
        if (name != "pose" or label == "person") and rng.random() < 0.6:
            out[name] = rng.choice(choices)
    return out


def _label(rng: random.Random, cls):
    label = rng.choice(CLASSES + [None]) if cls is not fo.Classification else rng.choice(
        ["day", "night"])
    kw = dict(label=label, **_attrs(rng, label))
    if rng.random() < 0.3:
        kw["tags"] = ["reviewed"]
    if cls is fo.Detection:
        kw["bounding_box"] = [rng.random() / 2, rng.random() / 2, 0.1, 0.2]
        if rng.random() < 0.3:
            kw["confidence"] = rng.choice([0.5, 0.9])
        if rng.random() < 0.3:
            kw["index"] = rng.randrange(3)
    elif cls is fo.Polyline:
        kw["points"] = [[(rng.random(), rng.random()) for _ in range(3)]]
        kw["closed"] = rng.random() < 0.5
        kw["filled"] = rng.random() < 0.5
    elif cls is fo.Keypoint:
        kw["points"] = [(rng.random(), rng.random()) for _ in range(2)]
    return cls(**kw)


def _value(rng: random.Random, field: str):
    if field in SINGLE_FIELDS:
        return None if rng.random() < 0.3 else _label(rng, SINGLE_FIELDS[field])
    container = LIST_FIELDS[field]
    if rng.random() < 0.15:
        return None
    label_cls = container._fields[container._LABEL_LIST_FIELD].field.document_type
    return container(**{container._LABEL_LIST_FIELD: [
        _label(rng, label_cls) for _ in range(rng.randrange(0, 4))]})


def _dataset(rng: random.Random, n: int):
    ds = fo.Dataset()
    ds.add_samples([fo.Sample(filepath=f"/data/{i}.png", **{
        f: _value(rng, f) for f in SCHEMA if f != "box" or rng.random() < 0.8})
        for i in range(n)])
    docs = list(ds._sample_collection.find({}, {"gt": 1}))
    # Documents FiftyOne does not write itself: a label whose `label` was set after the
    # others (a key out of FiftyOne's order), a label with a mask.
    for doc in docs[:3]:
        dets = (doc.get("gt") or {}).get("detections") or []
        if dets:
            ds._sample_collection.update_one(
                {"_id": doc["_id"]}, [{"$set": {"gt.detections": {"$map": {
                    "input": "$gt.detections", "in": {"$mergeObjects": [
                        {"$unsetField": {"field": "label", "input": "$$this"}},
                        {"label": "car"}]}}}}}])
    sample = ds[str(docs[3]["_id"])]
    sample["gt"] = fo.Detections(detections=[fo.Detection(
        label="car", bounding_box=[0.1, 0.1, 0.2, 0.2], mask=np.eye(4, dtype=bool))])
    sample.save()
    return ds


def _id_map(ds) -> dict:
    """The run's id map as labelport's upload records it."""
    out = {}
    for field in SCHEMA:
        out[field] = {}
        for sample_id, value in zip(ds.values("id"), ds.values(field)):
            if value is None:
                continue
            if field in LIST_FIELDS:
                out[field][sample_id] = [label.id for label in value[value._LABEL_LIST_FIELD]]
            else:
                out[field][sample_id] = value.id
    return out


def _edit(rng: random.Random, msg):
    """The annotator's random change of a downloaded label message (or None: deleted)."""
    r = rng.random()
    if r < 0.12:
        return None
    msg = copy.deepcopy(msg)
    if r < 0.3 and isinstance(msg, labels_pb.Detection):
        del msg.bounding_box[:]
        msg.bounding_box.extend([rng.random() / 2, rng.random() / 2, 0.1, 0.1])
    elif r < 0.3 and isinstance(msg, (labels_pb.Polyline, labels_pb.Keypoint)) and msg.points:
        points = msg.points[0].points if isinstance(msg, labels_pb.Polyline) else msg.points
        points[0].x = rng.random()
    elif r < 0.4:
        msg.label = rng.choice(CLASSES + ["", "day", "night"])
    elif r < 0.55:
        for name in ("color", "note", "pose"):
            value = rng.choice(COLORS + ["", None, "keep"])
            if value is None:
                msg.attributes.pop(name, None)
            elif value != "keep":
                msg.attributes[name].CopyFrom(attribute_value(value))
    elif r < 0.62 and not isinstance(msg, labels_pb.Classification):
        if msg.HasField("index"):
            msg.ClearField("index")
        else:
            msg.index = rng.randrange(3)
    return msg


def _new_message(rng: random.Random, field: str):
    cls = (SINGLE_FIELDS.get(field) or LIST_FIELDS[field]._fields[
        LIST_FIELDS[field]._LABEL_LIST_FIELD].field.document_type)
    label = _label(rng, cls)
    label.id = str(ObjectId())
    return lpf._label_message(label)


def _downloads(rng: random.Random, ds, id_map) -> dict:
    """field → {sample id: downloaded label messages}, as the server's changes carry them,
    with random annotator edits; samples without labels in V7 or in the run are left out (as
    download_annotations leaves them out)."""
    out = {}
    for field in SCHEMA:
        out[field] = {}
        for sample_id, value in zip(ds.values("id"), ds.values(field)):
            if rng.random() < 0.05:
                continue  # no change message for the sample
            run_ids = set(foua._to_list(id_map[field].get(sample_id)))
            current = [] if value is None else lpf._labels_of(value)
            msgs = [lpf._label_message(label) for label in current if label.id in run_ids]
            msgs = [m for m in (_edit(rng, m) for m in msgs) if m is not None]
            for _ in range(rng.choice([0, 0, 0, 1, 2])):
                msgs.append(_new_message(rng, field))
            if field in SINGLE_FIELDS:
                msgs = msgs[-1:]
            if msgs or run_ids:
                out[field][sample_id] = msgs
    return out


def _results(ds, id_map):
    config = lpf.DarwinBackendConfig("darwin", copy.deepcopy(SCHEMA))
    return lpf.DarwinResults(ds, config, "run", copy.deepcopy(id_map))


def _merge(ds, results, field, anno_dict):
    info = SCHEMA[field]
    global_attrs, class_attrs = foua._parse_attributes(info)
    foua._merge_labels(ds, anno_dict, results, field, info["type"], label_info=info,
                       global_attrs=global_attrs, class_attrs=class_attrs, progress=False)


def _docs(ds) -> dict:
    """The stored sample documents, but for what differs between a dataset and its clone
    anyway (the dataset id, the creation time) and the time of the last change."""
    return {doc["_id"]: doc for doc in ds._sample_collection.find(
        {}, {"last_modified_at": 0, "_dataset_id": 0, "created_at": 0})}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_merge_writes_what_fiftyones_merge_writes(seed):
    rng = random.Random(seed)
    fast = _dataset(rng, 40)
    slow = fast.clone()
    id_map = _id_map(fast)
    fast_results, slow_results = _results(fast, id_map), _results(slow, id_map)
    try:
        assert _docs(fast) == _docs(slow)
        written, left = 0, 0  # samples changed by the load; of them, left to FiftyOne
        for round_ in range(3):
            downloads = _downloads(rng, fast, fast_results.id_map)
            before = _docs(slow)
            selected = lpf._FastMerge(fast_results).select(copy.deepcopy(downloads))
            for field in SCHEMA:
                _merge(fast, fast_results, field, selected[field])
                _merge(slow, slow_results, field, {
                    s: {m.id: lpf._fo_label(m) for m in msgs}
                    for s, msgs in downloads[field].items()})
                left += len(selected[field])
            lpf._restore_id_maps(fast_results)

            fast_docs, slow_docs = _docs(fast), _docs(slow)
            written += sum(before[k] != slow_docs[k] for k in slow_docs)
            assert fast_docs.keys() == slow_docs.keys()
            for sample_id, doc in slow_docs.items():
                for field in SCHEMA:
                    assert fast_docs[sample_id].get(field) == doc.get(field), (
                        round_, str(sample_id), field)
                assert bson.encode(fast_docs[sample_id]) == bson.encode(doc), (
                    round_, str(sample_id), "key order or BSON types")
            assert fast_results.id_map == slow_results.id_map, round_
            assert fast.get_field_schema(flat=True).keys() == slow.get_field_schema(
                flat=True).keys()
            assert fast.count_values("gt.detections.label") == slow.count_values(
                "gt.detections.label")
        # Most changed samples were written by the bulk path; the planted documents (a key out
        # of FiftyOne's order, a mask) went to FiftyOne's merge.
        assert written > 5 * left > 0, (written, left)
    finally:
        fast.delete()
        slow.delete()
