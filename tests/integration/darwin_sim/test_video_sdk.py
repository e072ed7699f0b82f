"""darwin-py's unmodified SDK through a video cycle against darwin-sim: push a real video made
with ffmpeg, import Darwin JSON video tracks (keyframes, interpolation, hidden frames, a
per-frame tag, a DFO-style single-frame annotation), export, pull, parse with the SDK."""

from __future__ import annotations

import json
from pathlib import Path

from darwin.importer import get_importer
from darwin.importer.importer import import_annotations
from darwin.utils import parse_darwin_json
from PIL import Image

from .darwin_json import write_json
from .media import make_video
from .test_sdk_cycle import wait_for_status

CAR = "c0000000-0000-4000-8000-000000000001"
NIGHT = "c0000000-0000-4000-8000-000000000002"


def box(x, y, w=10.0, h=8.0):
    return {"x": x, "y": y, "w": w, "h": h}


def video_file() -> dict:
    return {
        "version": "2.0",
        "item": {"name": "clip.mp4", "path": "/"},
        "annotations": [
            {"id": CAR, "name": "car", "slot_names": ["0"],
             "frames": {
                 "2": {"bounding_box": box(0, 0), "instance_id": {"value": 3}, "keyframe": True},
                 # An in-between frame as V7 exports it: the importer sends keyframes only.
                 "3": {"bounding_box": box(2, 1), "instance_id": {"value": 3}, "keyframe": False},
                 "6": {"bounding_box": box(8, 4), "instance_id": {"value": 3}, "keyframe": True}},
             "ranges": [[2, 9]], "interpolated": True, "hidden_areas": [[7, 7]]},
            {"id": NIGHT, "name": "night", "slot_names": ["0"],
             "frames": {"0": {"tag": {}, "keyframe": True}}, "ranges": [[0, 4]]},
            # DFO's form: one single-frame annotation per FiftyOne frame label (§7.9).
            {"name": "car", "slot_names": ["0"],
             "frames": {"11": {"bounding_box": box(40, 30), "keyframe": True}},
             "ranges": [[11, 12]]},
        ],
    }


def test_sdk_video_cycle(sim, sdk_env, tmp_path):
    client = sdk_env(sim)
    dataset = client.create_dataset("Video Cycle")
    clip = make_video(tmp_path / "media" / "clip.mp4", 160, 120, 10, 2)
    handler = dataset.push([clip])
    assert handler.errors == [] and handler.pending_count == 1
    [item] = wait_for_status(dataset, ["clip.mp4"])
    state = sim.control("GET", "/_sim/state")
    slot = state["teams"][0]["datasets"][0]["items"][0]["slots"][0]
    assert (slot["type"], slot["width"], slot["height"]) == ("video", 160, 120)

    dataset.create_annotation_class("car", "bounding_box", ["instance_id"])
    dataset.create_annotation_class("night", "tag")
    src = write_json(tmp_path / "imports" / "clip.json", video_file())
    import_annotations(dataset, get_importer("darwin"), [src], append=False, class_prompt=False)

    stored = {a["id"]: a for a in sim.control("GET", f"/_sim/items/{item.id}/annotations")
              ["annotations"]}
    assert len(stored) == 3
    assert sorted(stored[CAR]["frames"]) == ["2", "6"]  # Keyframes only reach V7.
    assert stored[CAR]["ranges"] == [[2, 9]] and stored[CAR]["hidden_areas"] == [[7, 7]]
    single = next(a for i, a in stored.items() if i not in (CAR, NIGHT))
    assert single["frames"] == {"11": box(40, 30)} and single["ranges"] == [[11, 12]]

    sim.control("POST", f"/_sim/datasets/{dataset.dataset_id}/status", {"status": "complete"})
    dataset.export("video-release", include_authorship=True)
    release = dataset.get_release("video-release")
    dataset.pull(release=release, only_annotations=False)
    pulled_dir = Path(dataset.local_path) / "releases" / "video-release" / "annotations"
    [pulled] = list(pulled_dir.glob("*.json"))
    doc = json.loads(pulled.read_text())
    exported_slot = doc["item"]["slots"][0]
    assert (exported_slot["type"], exported_slot["fps"], exported_slot["frame_count"]) == (
        "video", 10, 20)
    assert len(exported_slot["frame_urls"]) == 20
    anns = {a["id"]: a for a in doc["annotations"]}

    car = anns[CAR]
    assert sorted(map(int, car["frames"])) == [2, 3, 4, 5, 6, 8]  # 7 is hidden.
    # The importer sends `attributes: []` with every keyframe (include_empty_attributes).
    assert car["frames"]["3"] == {"bounding_box": box(2, 1), "instance_id": {"value": 3},
                                  "attributes": [], "keyframe": False}
    assert car["frames"]["8"]["bounding_box"] == box(8, 4)
    assert [car["frames"][k]["keyframe"] for k in ("2", "6", "8")] == [True, True, False]
    assert car["ranges"] == [[2, 9]] and car["hidden_areas"] == [[7, 7]]
    assert car["annotators"] == [] and car["reviewers"] == []
    assert sorted(map(int, anns[NIGHT]["frames"])) == [0, 1, 2, 3]
    dfo = next(a for i, a in anns.items() if i not in (CAR, NIGHT))
    assert dfo["frames"] == {"11": {"bounding_box": box(40, 30), "attributes": [],
                                    "keyframe": True}}

    # The SDK reads the export back as video annotations with the same keyframes.
    parsed = parse_darwin_json(pulled)
    by_id = {a.id: a for a in parsed.annotations}
    assert parsed.is_video
    assert {f: k for f, k in by_id[CAR].keyframes.items() if k} == {2: True, 6: True}
    assert by_id[CAR].frames[4].data["x"] == 4
    # The video itself came down byte for byte.
    assert (Path(dataset.local_path) / "images" / "clip.mp4").read_bytes() == clip.read_bytes()

    # With video_frames=True the SDK fetches every frame URL as a PNG image instead.
    (Path(dataset.local_path) / "images" / "clip.mp4").unlink()  # Else pull skips the item.
    dataset.pull(release=release, video_frames=True)
    frames = sorted((Path(dataset.local_path) / "images" / "clip").glob("*.png"))
    assert [f.name for f in frames] == [f"{i:07d}.png" for i in range(20)]
    assert {Image.open(f).size for f in frames} == {(160, 120)}
