"""Every Darwin JSON fixture of tests/fixtures/darwin-json that darwin-py's
importer supports is imported through the SDK into darwin-sim, exported, pulled
and compared with the original.

Not imported, and why:
* base_annotation.json: its item has no name, so no item can match it;
* metadata_with_item_level_properties.json: a `.v7/metadata.json` manifest, not
  an item file (it is used as the manifest of a generated file instead);
* workflow.json: the E41 shape (checked in test_sim_api.py);
* multi_slotted_dicom_item.json, sample_nifti.nii.json: medical volumes; their
  import depends on slot metadata (affine, plane maps, MONAI handler) that only
  V7's medical processing pipeline produces, which darwin-sim does not emulate.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from darwin.importer import get_importer
from darwin.importer.importer import import_annotations

from .conftest import FIXTURES_DIR
from .darwin_json import normalise_file, write_json
from .media import make_image

IMAGE_FIXTURES = [
    "0.json",
    "annotation_with_properties.json",
    "ferrari-laferrari.json",
    "image_1.json",
    "image_2.json",
]
MULTI_SLOT_FIXTURES = ["multi_slotted_item.json", "multi_channel_item.json"]
VIDEO_FIXTURES = ["mini_uct.json", "single_slotted_video_flat.json"]


def _prop_type(name: str, multi: bool) -> str:
    if "text" in name.lower():
        return "text"
    return "multi_select" if multi else "single_select"


def infer_metadata(doc: dict) -> dict | None:
    """A `.v7/metadata.json` declaring every property the file uses."""
    values: dict[tuple[str, str], set] = defaultdict(set)
    multi: dict[tuple[str, str], bool] = defaultdict(bool)
    granularity: dict[tuple[str, str], str] = {}
    types: dict[str, str] = {}
    for a in doc["annotations"]:
        kind = next((k for k in ("polygon", "bounding_box", "ellipse", "keypoint", "line",
                                 "skeleton", "tag", "mask", "raster_layer") if k in a), None)
        if kind is None and "frames" in a:
            first = next(iter(a["frames"].values()))
            kind = next(k for k in ("polygon", "bounding_box", "ellipse", "keypoint", "line",
                                    "skeleton", "tag", "mask", "raster_layer") if k in first)
        types[a["name"]] = kind
        seen: dict[tuple, int] = defaultdict(int)
        for p in a.get("properties", []):
            key = (a["name"], p["name"])
            values[key]  # noqa: B018 - a property with only null values still exists.
            if p.get("value") is not None:
                values[key].add(p["value"])
            seen[(p["frame_index"], p["name"])] += 1
            multi[key] |= seen[(p["frame_index"], p["name"])] > 1
            granularity[key] = "annotation" if p["frame_index"] == "global" else "section"
    item_values: dict[str, set] = defaultdict(set)
    item_multi: dict[str, bool] = defaultdict(bool)
    for p in doc.get("properties") or []:
        item_multi[p["name"]] |= p["value"] in item_values[p["name"]] or bool(
            item_values[p["name"]])
        item_values[p["name"]].add(p["value"])
    if not values and not item_values:
        return None

    def prop(name, vals, is_multi, gran):
        kind = _prop_type(name, is_multi)
        return {"name": name, "type": kind, "description": "", "required": False,
                "granularity": gran,
                "property_values": [] if kind == "text" else [
                    {"value": v, "color": "rgba(10,20,30,1.0)"} for v in sorted(vals)]}

    classes = defaultdict(list)
    for (cls, name), vals in values.items():
        classes[cls].append(prop(name, vals, multi[(cls, name)], granularity[(cls, name)]))
    return {
        "version": "1.0",
        "classes": [{"name": cls, "type": types[cls], "description": None,
                     "color": "rgba(1,2,3,1.0)", "sub_types": [], "properties": props}
                    for cls, props in classes.items()],
        "properties": [prop(n, v, item_multi[n], "item") for n, v in item_values.items()],
    }


def create_skeleton_classes(client, team: str, dataset_id: int, doc: dict) -> None:
    """Skeleton classes need node definitions, which the importer cannot create."""
    for a in doc["annotations"]:
        shapes = [a] + list(a.get("frames", {}).values())
        skeleton = next((s["skeleton"] for s in shapes if "skeleton" in s), None)
        if skeleton is None:
            continue
        nodes = [{"name": n["name"], "x": 0.5, "y": 0.5} for n in skeleton["nodes"]]
        client._post_raw(f"/teams/{team}/annotation_classes", {
            "name": a["name"], "annotation_types": ["skeleton", "text", "instance_id"],
            "metadata": {"_color": "auto", "skeleton": {"edges": [], "nodes": nodes}},
            "datasets": [{"id": dataset_id}],
        })


def register_readonly_video(client, team: str, dataset, doc: dict) -> None:
    """Items without a file extension cannot be pushed; register them read-only (E29)."""
    item = doc["item"]
    slot = item["slots"][0]
    client._post_raw(f"v2/teams/{team}/items/register_existing_readonly", {
        "dataset_slug": dataset.slug, "storage_slug": "sim-storage",
        "items": [{"name": item["name"], "path": item["path"], "slots": [{
            "type": "video", "slot_name": slot["slot_name"],
            "file_name": slot["source_files"][0]["file_name"],
            "storage_key": "videos/" + slot["source_files"][0]["file_name"],
            "width": slot["width"], "height": slot["height"],
            "total_frames": slot["frame_count"], "native_fps": slot["fps"]}]}],
    })


def stage_media(sim, root: Path, fixture: str, doc: dict) -> tuple[Path, dict]:
    """Writes the media an item of `doc` needs; returns (push path, push kwargs)."""
    item = doc["item"]
    slots = item["slots"]
    folder = root / fixture.removesuffix(".json")
    if fixture in MULTI_SLOT_FIXTURES:
        target = folder / item["name"]
        for slot in slots:
            name = slot["source_files"][0]["file_name"]
            if fixture == "multi_slotted_item.json":
                name = f"{slot['slot_name']}_{name}"
            make_image(target / name, slot["width"], slot["height"])
        mode = "channels" if fixture == "multi_channel_item.json" else "slots"
        return target, {"item_merge_mode": mode}
    rel = item["path"].strip("/")
    target = folder / rel / item["name"] if rel else folder / item["name"]
    if fixture in VIDEO_FIXTURES:
        slot = slots[0]
        sim.control("POST", "/_sim/config", {"declared_media": {item["name"]: {
            "width": slot["width"], "height": slot["height"],
            "frame_count": slot["frame_count"], "fps": float(slot.get("fps") or 1.0)}}})
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"not really a video")
    else:
        make_image(target, slots[0]["width"], slots[0]["height"])
    return folder, {"preserve_folders": True}


@pytest.mark.parametrize("fixture", IMAGE_FIXTURES + MULTI_SLOT_FIXTURES + VIDEO_FIXTURES)
def test_fixture_round_trip(fixture, sim, sdk_env, tmp_path):
    client = sdk_env(sim)
    doc = json.loads((FIXTURES_DIR / fixture).read_text())
    dataset = client.create_dataset("fixtures")
    if fixture in VIDEO_FIXTURES and "." not in doc["item"]["name"]:
        register_readonly_video(client, sim.team, dataset, doc)
    else:
        push_path, kwargs = stage_media(sim, tmp_path / "media", fixture, doc)
        handler = dataset.push([push_path], **kwargs)
        assert handler.errors == [] and handler.pending_count == 1
    items = list(dataset.fetch_remote_files())
    assert [(i.filename, i.status) for i in items] == [(doc["item"]["name"], "new")]

    create_skeleton_classes(client, sim.team, dataset.dataset_id, doc)
    import_dir = tmp_path / "import"
    src = write_json(import_dir / fixture, doc)
    metadata = infer_metadata(doc)
    if metadata is not None:
        write_json(import_dir / ".v7" / "metadata.json", metadata)
    import_annotations(dataset, get_importer("darwin"), [src], append=False, class_prompt=False)
    log = sim.requests_log()
    imports = [r for r in log if r["path"].endswith("/import")]
    assert [r["status"] for r in imports] == [200]

    sim.control("POST", f"/_sim/datasets/{dataset.dataset_id}/status", {"status": "complete"})
    dataset.export("fixture-release", include_authorship=True)
    release = dataset.get_release("fixture-release")
    dataset.pull(release=release, only_annotations=True)
    pulled = list((Path(dataset.local_path) / "releases" / "fixture-release" / "annotations")
                  .glob("*.json"))
    assert len(pulled) == 1
    exported = json.loads(pulled[0].read_text())

    want = normalise_file(doc)
    got = normalise_file(exported)
    for w, g in zip(want["annotations"], got["annotations"]):
        if w["id"] is None:  # The importer gives id-less annotations a fresh uuid4.
            assert g["id"]
            g["id"] = None
    assert got["name"] == want["name"] and got["path"] == want["path"]
    assert got["properties"] == want["properties"]
    assert len(got["annotations"]) == len(want["annotations"])
    for g, w in zip(got["annotations"], want["annotations"]):
        assert g == w
    slots = exported["item"]["slots"]
    assert [(s["slot_name"], s["width"], s["height"]) for s in slots] == [
        (s["slot_name"], s["width"], s["height"]) for s in doc["item"]["slots"]]
