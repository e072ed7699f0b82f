"""darwin-py's unmodified SDK driven through a whole cycle against darwin-sim.

push (PNG and JPEG, a blocked re-push, same-named files in two folders) ->
classes, attributes and properties -> import_annotations -> export -> pull,
then the pulled Darwin JSON is compared with what was imported. Runs over
HTTP and over HTTPS with a CA generated at test time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from darwin.exceptions import NameTaken
from darwin.importer import get_importer
from darwin.importer.importer import import_annotations
from server.waiting import wait_until

from .darwin_json import normalise_file, write_json
from .media import make_image

IMAGES = {  # relative path -> (width, height)
    "scene.png": (64, 48),
    "photo.jpg": (80, 60),
    "a/same.png": (32, 16),
    "b/same.png": (20, 10),
}


def metadata_property(name: str, kind: str, granularity: str, *values: tuple) -> dict:
    """A property of the export's metadata.json (optional, no description); `values` are
    (value, colour) pairs."""
    return {"name": name, "type": kind, "description": "", "required": False,
            "granularity": granularity,
            "property_values": [{"value": v, "color": c} for v, c in values]}


METADATA = {
    "version": "1.0",
    "schema_ref": "https://darwin-public.s3.eu-west-1.amazonaws.com/darwin_json/metadata/1.0/schema.json",
    "classes": [
        {"name": "car", "type": "bounding_box", "description": None,
         "color": "rgba(255,0,0,1.0)", "sub_types": ["text", "instance_id", "attributes"],
         "properties": [
             metadata_property("colour", "single_select", "section",
                               ("red", "rgba(255,0,0,1.0)"), ("blue", "rgba(0,0,255,1.0)")),
             metadata_property("flags", "multi_select", "section",
                               ("parked", "rgba(0,255,0,1.0)"), ("damaged", "rgba(0,0,0,1.0)")),
         ]},
    ],
    "properties": [
        metadata_property("quality", "single_select", "item",
                          ("good", "rgba(0,255,0,1.0)"), ("bad", "rgba(255,0,0,1.0)")),
        metadata_property("notes", "text", "item"),
    ],
}


def scene_file() -> dict:
    return {
        "version": "2.0",
        "item": {"name": "scene.png", "path": "/", "slots": [{"slot_name": "0", "type": "image",
                                                               "width": 64, "height": 48}]},
        "annotations": [
            {"id": "11111111-1111-4111-8111-111111111111", "name": "car", "slot_names": ["0"],
             "bounding_box": {"x": 1.5, "y": 2.25, "w": 30.125, "h": 20.0},
             "text": {"text": "a red car"}, "instance_id": {"value": 7},
             "attributes": ["occluded"],
             "properties": [{"frame_index": 0, "name": "colour", "value": "red"},
                            {"frame_index": 0, "name": "flags", "value": "parked"},
                            {"frame_index": 0, "name": "flags", "value": "damaged"}]},
            {"id": "22222222-2222-4222-8222-222222222222", "name": "lake", "slot_names": ["0"],
             "polygon": {"paths": [
                 [{"x": 2, "y": 2}, {"x": 40, "y": 2}, {"x": 40, "y": 30}, {"x": 2, "y": 30}],
                 [{"x": 10, "y": 10}, {"x": 20, "y": 10}, {"x": 20, "y": 20}, {"x": 10, "y": 20}],
             ]}},
            {"id": "33333333-3333-4333-8333-333333333333", "name": "nose", "slot_names": ["0"],
             "keypoint": {"x": 12.5, "y": 8.0}},
            {"id": "44444444-4444-4444-8444-444444444444", "name": "lane", "slot_names": ["0"],
             "line": {"path": [{"x": 0, "y": 0}, {"x": 10, "y": 5}, {"x": 63, "y": 47}]}},
            {"id": "55555555-5555-4555-8555-555555555555", "name": "daytime",
             "slot_names": ["0"], "tag": {}},
        ],
        "properties": [{"name": "quality", "value": "good"},
                       {"name": "notes", "value": "checked twice"}],
    }


def same_file(folder: str, x: float) -> dict:
    return {
        "version": "2.0",
        "item": {"name": "same.png", "path": f"/{folder}"},
        "annotations": [{"name": "car", "bounding_box": {"x": x, "y": 1, "w": 5, "h": 4},
                         "instance_id": {"value": 1}}],
    }


def wait_for_status(dataset, names, status="new", timeout=10.0):
    seen = []

    def settled():
        seen[:] = list(dataset.fetch_remote_files())
        return sorted(i.filename for i in seen) == sorted(names) and all(
            i.status == status for i in seen
        )

    wait_until(settled, timeout, f"items {sorted(names)} {status}",
               details=lambda: [(i.filename, i.status) for i in seen], interval=0.05)
    return seen


def test_full_cycle(any_sim, sdk_env, tmp_path):
    sim = any_sim
    client = sdk_env(sim)
    assert client.default_team == sim.team

    dataset = client.create_dataset("SDK Cycle")
    assert dataset.slug == "sdk-cycle"
    assert [d.slug for d in client.list_remote_datasets()] == ["sdk-cycle"]
    with pytest.raises(NameTaken):
        client.create_dataset("SDK Cycle")

    media = tmp_path / "media"
    originals = {}
    for rel, (w, h) in IMAGES.items():
        originals[rel] = make_image(media / rel, w, h).read_bytes()
    handler = dataset.push([media], preserve_folders=True)
    assert handler.errors == []
    assert handler.blocked_count == 0
    assert handler.pending_count == 4

    items = wait_for_status(dataset, ["scene.png", "photo.jpg", "same.png", "same.png"])
    by_path = {f"{i.path.rstrip('/')}/{i.filename}": i for i in items}
    assert sorted(by_path) == ["/a/same.png", "/b/same.png", "/photo.jpg", "/scene.png"]

    # Real sizes were read from the PNG and JPEG headers.
    state = sim.control("GET", "/_sim/state")
    slots = {f"{i['path'].rstrip('/')}/{i['name']}": i["slots"][0]
             for i in state["teams"][0]["datasets"][0]["items"]}
    for rel, (w, h) in IMAGES.items():
        assert (slots["/" + rel]["width"], slots["/" + rel]["height"]) == (w, h)

    # Re-pushing an existing file is blocked with the existing item's id.
    again = dataset.push([media / "scene.png"])
    assert again.pending_count == 0
    assert again.blocked_count == 1
    blocked = again.blocked_items[0]
    assert [slot.reason.upper() for slot in blocked.slots] == ["ALREADY_EXISTS"]
    assert blocked.dataset_item_id == by_path["/scene.png"].id

    # A class with the attributes sub-type, and one legacy attribute (E9).
    dataset.create_annotation_class("car", "bounding_box", ["text", "instance_id", "attributes"])
    sim.control("POST", "/_sim/attributes",
                {"class_name": "car", "type": "bounding_box", "name": "occluded"})

    imports = tmp_path / "imports"
    files = [
        write_json(imports / "scene.json", scene_file()),
        write_json(imports / "same_a.json", same_file("a", 1.0)),
        write_json(imports / "same_b.json", same_file("b", 2.0)),
    ]
    write_json(imports / ".v7" / "metadata.json", METADATA)
    import_annotations(dataset, get_importer("darwin"), files, append=False, class_prompt=False)

    scene_id = by_path["/scene.png"].id
    view = sim.control("GET", f"/_sim/items/{scene_id}/annotations")["annotations"]
    assert sorted(a["class_name"] for a in view) == ["car", "daytime", "lake", "lane", "nose"]

    # Export everything (items must be complete for the SDK's default filters).
    ds_id = dataset.dataset_id
    sim.control("POST", f"/_sim/datasets/{ds_id}/status", {"status": "complete"})
    dataset.export("release-1", include_authorship=True)
    release = dataset.get_release("release-1")
    assert release.available
    assert release.image_count == 4
    dataset.pull(release=release, only_annotations=False, use_folders=True)

    release_dir = Path(dataset.local_path) / "releases" / "release-1" / "annotations"
    pulled = {}
    for f in release_dir.glob("*.json"):
        doc = json.loads(f.read_text())
        pulled[(doc["item"]["path"], doc["item"]["name"])] = doc
    assert sorted(pulled) == [("/", "photo.jpg"), ("/", "scene.png"), ("/a", "same.png"),
                              ("/b", "same.png")]

    # Each imported file comes back with the same annotations, ids included.
    for f in files:
        imported = normalise_file(json.loads(f.read_text()))
        exported = normalise_file(pulled[(imported["path"], imported["name"])])
        if imported["annotations"] and imported["annotations"][0]["id"] is None:
            for a in imported["annotations"] + exported["annotations"]:
                a["id"] = None
        assert exported == imported
    scene = pulled[("/", "scene.png")]
    assert scene["item"]["source_info"]["item_id"] == scene_id
    assert scene["item"]["slots"][0]["width"] == 64
    assert scene["item"]["slots"][0]["height"] == 48
    assert scene["item"]["slots"][0]["source_files"][0]["url"].startswith(sim.url + "/")
    car = next(a for a in scene["annotations"] if a["name"] == "car")
    assert car["annotators"] == [] and car["reviewers"] == []
    lake = next(a for a in scene["annotations"] if a["name"] == "lake")
    assert lake["bounding_box"] == {"h": 28.0, "w": 38.0, "x": 2.0, "y": 2.0}
    assert release_dir.joinpath(".v7", "metadata.json").exists()

    # pull also downloaded the media, byte for byte.
    images_dir = Path(dataset.local_path) / "images"
    for rel, data in originals.items():
        assert (images_dir / rel).read_bytes() == data
