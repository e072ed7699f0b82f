"""Video annotations in darwin-sim: import -> export of tracks (darwin-api.md §7.9, §10.5) and
every video annotator edit of the /_sim control API, checked through the exported frames.

The item is a real 2-second, 10 fps video generated with ffmpeg (20 frames).
"""

from __future__ import annotations

import itertools

import pytest
import requests

from .media import make_video
from .test_sim_api import Api, new_dataset, upload
from .test_video_media import export_docs, wait_items

_export_names = itertools.count()


@pytest.fixture
def video(sim, tmp_path):
    """(api, item id, dataset slug) for one processed 320x240 video of 20 frames."""
    api = Api(sim)
    ds = new_dataset(api, "tracks")
    item_id = upload(api, "tracks", "clip.mp4",
                     make_video(tmp_path / "clip.mp4", 320, 240, 10, 2).read_bytes())
    assert wait_items(api, ds["id"])["clip.mp4"]["slots"][0]["total_sections"] == 20
    return api, item_id, "tracks"


def exported(api, slug):
    """The exported annotations of clip.mp4, by annotation id."""
    doc = export_docs(api, slug, f"e{next(_export_names)}")["clip.json"]
    return {a["id"]: a for a in doc["annotations"]}


def boxes(annotation):
    """{frame index: (x, y, w, h, keyframe)} of an exported bounding-box track (6 decimals)."""
    return {int(k): (*(round(f["bounding_box"][c], 6) for c in "xywh"), f["keyframe"])
            for k, f in annotation["frames"].items()}


def class_id(api, name, type_name):
    types = {t["name"]: t["id"] for t in api.get("/api/annotation_types").json()}
    r = api.post("/api/annotation_classes", {"name": name, "annotation_type_ids": [types[type_name]],
                                             "datasets": [{"id": 1}], "metadata": {}})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def box(x, y, w=10, h=10):
    return {"x": x, "y": y, "w": w, "h": h}


def import_(api, item_id, annotations, overwrite=True):
    return api.post(api.v2(f"items/{item_id}/import"),
                    {"annotations": annotations, "overwrite": "true" if overwrite else "false"})


def test_import_export_fills_every_frame_of_each_range(video):
    api, item_id, slug = video
    car, lake, nose, day = (class_id(api, "car", "bounding_box"), class_id(api, "lake", "polygon"),
                            class_id(api, "nose", "keypoint"), class_id(api, "day", "tag"))
    square = [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}, {"x": 0, "y": 10}]
    moved = [{"x": p["x"] * 2 + 4, "y": p["y"] * 2} for p in square]
    r = import_(api, item_id, [
        {"id": "a0000000-0000-4000-8000-000000000001", "annotation_class_id": car,
         "context_keys": {"slot_names": ["0"]},
         "data": {"frames": {"2": {"bounding_box": box(0, 0), "keyframe": True,
                                   "instance_id": {"value": 4}},
                             "6": {"bounding_box": box(8, 4, 20, 10), "keyframe": True,
                                   "instance_id": {"value": 4}}},
                  "segments": [[2, 10]], "interpolated": True, "hidden_areas": [[8, 8]]}},
        {"id": "a0000000-0000-4000-8000-000000000002", "annotation_class_id": lake,
         "data": {"frames": {"0": {"polygon": {"path": square}, "keyframe": True},
                             "2": {"polygon": {"path": moved}, "keyframe": True}},
                  "segments": [[0, 3]], "interpolated": True, "hidden_areas": []}},
        {"id": "a0000000-0000-4000-8000-000000000003", "annotation_class_id": nose,
         "data": {"frames": {"0": {"keypoint": {"x": 0, "y": 0}, "keyframe": True},
                             "2": {"keypoint": {"x": 4, "y": 2}, "keyframe": True},
                             "6": {"keypoint": {"x": 40, "y": 40}, "keyframe": True}},
                  "segments": [[0, 3], [6, 8]], "interpolated": False, "hidden_areas": []}},
        {"id": "a0000000-0000-4000-8000-000000000004", "annotation_class_id": day,
         "data": {"frames": {"1": {"tag": {}, "keyframe": True}}, "segments": [[1, 4]],
                  "hidden_areas": []}},
    ])
    assert r.status_code == 200, r.text
    got = exported(api, slug)

    car_track = got["a0000000-0000-4000-8000-000000000001"]
    assert car_track["ranges"] == [[2, 10]] and car_track["hidden_areas"] == [[8, 8]]
    assert car_track["interpolated"] is True
    assert car_track["interpolate_algorithm"] == "linear-1.1"
    # Interpolated between the keyframes 2 and 6, held after 6, frame 8 hidden.
    assert boxes(car_track) == {
        2: (0, 0, 10, 10, True), 3: (2, 1, 12.5, 10, False), 4: (4, 2, 15, 10, False),
        5: (6, 3, 17.5, 10, False), 6: (8, 4, 20, 10, True), 7: (8, 4, 20, 10, False),
        9: (8, 4, 20, 10, False)}
    assert {f["instance_id"]["value"] for f in car_track["frames"].values()} == {4}

    lake_track = got["a0000000-0000-4000-8000-000000000002"]
    middle = lake_track["frames"]["1"]
    assert middle["keyframe"] is False
    assert middle["polygon"]["paths"] == [[{"x": 2, "y": 0}, {"x": 17, "y": 0},
                                           {"x": 17, "y": 15}, {"x": 2, "y": 15}]]
    assert middle["bounding_box"] == {"h": 15, "w": 15, "x": 2, "y": 0}
    assert lake_track["frames"]["2"]["bounding_box"] == {"h": 20, "w": 20, "x": 4, "y": 0}

    # Two ranges; interpolation never crosses the gap, and `interpolated: false` holds.
    nose_track = got["a0000000-0000-4000-8000-000000000003"]
    assert sorted(map(int, nose_track["frames"])) == [0, 1, 2, 6, 7]
    assert nose_track["frames"]["1"]["keypoint"] == {"x": 0, "y": 0}
    assert nose_track["frames"]["7"] == {"keypoint": {"x": 40, "y": 40}, "keyframe": False}

    tag = got["a0000000-0000-4000-8000-000000000004"]
    assert tag["frames"] == {"1": {"tag": {}, "keyframe": True}, "2": {"tag": {}, "keyframe": False},
                             "3": {"tag": {}, "keyframe": False}}
    assert "interpolated" not in tag and "interpolate_algorithm" not in tag

    # E36 keeps the stored keyframes only.
    stored = api.get(api.v2(f"items/{item_id}/annotations")).json()
    assert sorted(stored[0]["data"]["frames"]) == ["2", "6"]


def test_interpolation_is_linear_for_lines_and_held_for_mismatched_polygons(video):
    api, item_id, slug = video
    lane, blob = class_id(api, "lane", "line"), class_id(api, "blob", "polygon")
    tri = [{"x": 0, "y": 0}, {"x": 8, "y": 0}, {"x": 0, "y": 8}]
    quad = [{"x": 0, "y": 0}, {"x": 8, "y": 0}, {"x": 8, "y": 8}, {"x": 0, "y": 8}]
    assert import_(api, item_id, [
        {"id": "b0000000-0000-4000-8000-000000000001", "annotation_class_id": lane,
         "data": {"frames": {"0": {"line": {"path": [{"x": 0, "y": 0}, {"x": 10, "y": 0}]},
                                   "keyframe": True},
                             "4": {"line": {"path": [{"x": 4, "y": 8}, {"x": 14, "y": 8}]},
                                   "keyframe": True}},
                  "segments": [[0, 5]], "interpolated": True}},
        {"id": "b0000000-0000-4000-8000-000000000002", "annotation_class_id": blob,
         "data": {"frames": {"0": {"polygon": {"path": tri}, "keyframe": True},
                             "2": {"polygon": {"path": quad}, "keyframe": True}},
                  "segments": [[0, 3]], "interpolated": True}},
    ]).status_code == 200
    got = exported(api, slug)
    assert got["b0000000-0000-4000-8000-000000000001"]["frames"]["1"]["line"] == {
        "path": [{"x": 1, "y": 2}, {"x": 11, "y": 2}]}
    assert got["b0000000-0000-4000-8000-000000000002"]["frames"]["1"]["polygon"] == {
        "paths": [tri]}


@pytest.mark.parametrize("data, rule", [
    ({"frames": {"one": {"bounding_box": box(0, 0)}}, "segments": [[0, 1]]}, "0-based frame"),
    ({"frames": {"-1": {"bounding_box": box(0, 0)}}}, "0-based frame"),
    ({"frames": {"0": 5}}, "must be an object"),
    ({"frames": {"0": {"bounding_box": box(0, 0)}}, "segments": [[4, 2]]}, "start < end"),
    ({"frames": {"0": {"bounding_box": box(0, 0)}}, "ranges": [[0]]}, "ranges must be a list"),
    ({"frames": {"0": {"bounding_box": box(0, 0)}}, "hidden_areas": [[3, 1]]}, "start <= end"),
    ({"frames": [], "segments": [[0, 1]]}, "frames must be an object"),
])
def test_malformed_video_imports_are_refused(video, data, rule):
    api, item_id, _ = video
    car = class_id(api, "car", "bounding_box")
    r = import_(api, item_id, [{"annotation_class_id": car, "data": data}])
    assert r.status_code == 422 and rule in r.text, r.text
    assert api.get(api.v2(f"items/{item_id}/annotations")).json() == []


class Annotator:
    def __init__(self, sim, item_id):
        self.sim, self.item = sim, item_id

    def call(self, method, suffix="", body=None):
        return self.sim.control(method, f"/_sim/items/{self.item}/annotations{suffix}", body)

    def fails(self, method, suffix, body):
        r = requests.request(method, f"{self.sim.url}/_sim/items/{self.item}/annotations{suffix}",
                             json=body)
        assert r.status_code == 422, r.text
        return r.json()


def test_annotator_edits_show_in_the_export(sim, video):
    api, item_id, slug = video
    ann = Annotator(sim, item_id)
    car = ann.call("POST", "", {"class_name": "car", "type": "bounding_box", "instance_id": 7,
                                "frames": {"0": box(0, 0), "10": box(10, 20)},
                                "properties": {"colour": "red"},
                                "author": {"email": "ann@example.com", "full_name": "Ann"}})
    cid = car["id"]
    assert car["frames"] == {"0": box(0, 0), "10": box(10, 20)}
    assert car["ranges"] == [[0, 11]] and car["interpolated"] is True
    assert car["instance_id"] == 7 and car["frame_properties"] == {"0": {"colour": "red"}}
    got = boxes(exported(api, slug)[cid])
    assert sorted(got) == list(range(11))
    assert got[5] == (5, 10, 10, 10, False) and got[10] == (10, 20, 10, 10, True)

    # Move a keyframe: frame 10's box; in-betweens follow.
    ann.call("PATCH", f"/{cid}", {"frames": {"10": box(20, 0)}})
    got = boxes(exported(api, slug)[cid])
    assert got[10] == (20, 0, 10, 10, True) and got[5] == (10, 0, 10, 10, False)

    # Add a keyframe inside the range, then one past its end (which extends it).
    ann.call("PATCH", f"/{cid}", {"frames": {"4": box(100, 100)}})
    view = ann.call("PATCH", f"/{cid}", {"frames": {"13": box(30, 0)}})
    assert view["ranges"] == [[0, 14]] and sorted(map(int, view["frames"])) == [0, 4, 10, 13]
    assert view["instance_id"] == 7
    a = exported(api, slug)[cid]
    got = boxes(a)
    assert got[4] == (100, 100, 10, 10, True) and got[2] == (50, 50, 10, 10, False)
    assert got[12] == (26.666667, 0, 10, 10, False)
    assert a["frames"]["4"]["instance_id"] == {"value": 7}

    # Extend the range: held after the last keyframe.
    ann.call("PATCH", f"/{cid}", {"ranges": [[0, 18]]})
    got = boxes(exported(api, slug)[cid])
    assert sorted(got) == list(range(18)) and got[17] == (30, 0, 10, 10, False)

    # Shorten both ends: frames that stay keep their shapes.
    before = got
    view = ann.call("PATCH", f"/{cid}", {"ranges": [[2, 12]]})
    assert sorted(map(int, view["frames"])) == [2, 4, 10, 11]
    got = boxes(exported(api, slug)[cid])
    assert sorted(got) == list(range(2, 12))
    assert all(got[f][:4] == before[f][:4] for f in got)
    assert got[2][4] and got[11][4] and not got[3][4]

    # Hidden frames leave the export; interpolation off holds.
    ann.call("PATCH", f"/{cid}", {"hidden_areas": [[6, 7]], "interpolated": False})
    a = exported(api, slug)[cid]
    got = boxes(a)
    assert 6 not in got and 7 not in got and a["hidden_areas"] == [[6, 7]]
    assert got[5] == (100, 100, 10, 10, False) and a["interpolated"] is False
    ann.call("PATCH", f"/{cid}", {"hidden_areas": [], "interpolated": True})

    # Split at 8, then merge back: the exported shapes never change.
    whole = boxes(exported(api, slug)[cid])
    halves = ann.call("POST", f"/{cid}/split", {"frame": 8})
    first, second = halves["before"], halves["after"]
    assert first["id"] == cid and second["id"] != cid
    assert first["ranges"] == [[2, 8]] and second["ranges"] == [[8, 12]]
    assert second["class_name"] == "car" and second["instance_id"] == 7
    assert second["frame_properties"] == {"8": {"colour": "red"}}
    assert first["frame_properties"] == {"2": {"colour": "red"}}  # Moved from 0 by the cut.
    assert second["authors"] == [{"email": "ann@example.com", "full_name": "Ann",
                                  "role": "annotator"}]
    got = exported(api, slug)
    a1, a2 = boxes(got[cid]), boxes(got[second["id"]])
    assert sorted(a1) == list(range(2, 8)) and sorted(a2) == list(range(8, 12))
    assert {**a1, **a2}.keys() == whole.keys()
    assert {f: v[:4] for f, v in {**a1, **a2}.items()} == {f: v[:4] for f, v in whole.items()}
    assert a1[7][4] and a2[8][4]  # Keyframed on both sides of the cut.

    merged = ann.call("POST", f"/{cid}/merge", {"other": second["id"]})
    assert merged["id"] == cid and merged["ranges"] == [[2, 12]]
    got = exported(api, slug)
    assert list(got) == [cid]
    assert {f: v[:4] for f, v in boxes(got[cid]).items()} == {f: v[:4] for f, v in whole.items()}

    # Relabel the whole track, then delete it.
    view = ann.call("PATCH", f"/{cid}", {"class_name": "truck"})
    assert view["class_name"] == "truck"
    assert view["frame_properties"] == {"2": {"colour": "red"}, "8": {"colour": "red"}}
    a = exported(api, slug)[cid]
    assert a["name"] == "truck" and sorted(map(int, a["frames"])) == list(range(2, 12))
    assert ann.call("DELETE", f"/{cid}") == {"deleted": cid}
    assert exported(api, slug) == {}


def test_annotator_adds_tracks_tags_and_merges_separate_tracks(sim, video):
    api, item_id, slug = video
    ann = Annotator(sim, item_id)
    a = ann.call("POST", "", {"class_name": "car", "type": "bounding_box",
                              "frames": {"0": box(0, 0), "2": box(2, 0)}})
    b = ann.call("POST", "", {"class_name": "car", "type": "bounding_box",
                              "frames": {"6": box(6, 6)}, "ranges": [[5, 9]],
                              "hidden_areas": [[8, 8]]})
    assert b["frames"] == {"5": box(6, 6), "6": box(6, 6)}  # The range start is keyframed.
    tag = ann.call("POST", "", {"class_name": "night", "type": "tag",
                                "frames": {"3": {}}, "ranges": [[3, 6]]})
    assert tag["interpolated"] is None
    got = exported(api, slug)
    assert sorted(map(int, got[tag["id"]]["frames"])) == [3, 4, 5]
    assert sorted(boxes(got[b["id"]])) == [5, 6, 7]

    merged = ann.call("POST", f"/{a['id']}/merge", {"other": b["id"]})
    assert merged["ranges"] == [[0, 3], [5, 9]] and merged["hidden_areas"] == [[8, 8]]
    got = exported(api, slug)
    assert b["id"] not in got
    assert boxes(got[a["id"]]) == {0: (0, 0, 10, 10, True), 1: (1, 0, 10, 10, False),
                                   2: (2, 0, 10, 10, True), 5: (6, 6, 10, 10, True),
                                   6: (6, 6, 10, 10, True), 7: (6, 6, 10, 10, False)}

    # Refusals name the rule.
    assert "not a main type" in ann.fails("POST", "", {"class_name": "x", "type": "text",
                                                        "frames": {"0": {}}})["errors"]["message"]
    assert "outside every range" in str(ann.fails("POST", "", {
        "class_name": "car", "type": "bounding_box", "frames": {"9": box(0, 0)},
        "ranges": [[0, 5]]}))
    assert "bounding_box needs" in str(ann.fails("PATCH", f"/{a['id']}",
                                                 {"frames": {"1": {"x": 1}}}))
    assert "not data" in str(ann.fails("PATCH", f"/{a['id']}", {"data": box(0, 0)}))
    assert "at least one keyframe" in str(ann.fails("PATCH", f"/{a['id']}", {
        "frames": {"0": None, "2": None, "5": None, "6": None}}))
    assert "before it and at or after it" in str(ann.fails("POST", f"/{a['id']}/split",
                                                            {"frame": 0}))
    assert "cannot merge a tag track" in str(ann.fails("POST", f"/{a['id']}/merge",
                                                        {"other": tag["id"]}))
    image_like = ann.call("POST", "", {"class_name": "car", "type": "bounding_box",
                                       "data": box(1, 1)})
    assert "video annotations only" in str(ann.fails("PATCH", f"/{image_like['id']}",
                                                     {"frames": {"0": box(0, 0)}}))
