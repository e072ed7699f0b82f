"""Pixel masks in darwin-sim as V7 keeps them (darwin-api.md §7.4): darwin-py imports a raster
layer with its mask annotations, exports and pulls them back unchanged; E35 refuses malformed
raster layers and masks; the annotator paints classes into a slot's raster layer."""

from __future__ import annotations

import json
from pathlib import Path

from darwin.importer import get_importer
from darwin.importer.importer import import_annotations
from server import waiting

from .darwin_json import normalise_file, write_json
from .media import make_image
from .test_sim_api import Api, new_dataset, png_bytes, upload

W, H = 8, 4


def rle(pixels: list[int]) -> list[int]:
    out: list[int] = []
    for p in pixels:
        if out and out[-2] == p:
            out[-1] += 1
        else:
            out += [p, 1]
    return out


def unrle(dense: list[int]) -> list[int]:
    out: list[int] = []
    for label, run in zip(dense[::2], dense[1::2]):
        out += [label] * run
    return out


ROAD = "4f58cca2-e174-4564-b242-1d17042f1b01"
SKY = "5a0ceba1-2e26-425e-8579-e6013ca415c5"
RASTER = "8596d3bd-d9f1-4663-8cc7-d444e97abb74"
PIXELS = [2] * W + [2, 2, 0, 0, 0, 0, 2, 2] + [1] * W + [1, 1, 1, 0, 0, 1, 1, 1]


def masks_file() -> dict:
    return {
        "version": "2.0",
        "item": {"name": "street.png", "path": "/",
                 "slots": [{"slot_name": "0", "type": "image", "width": W, "height": H}]},
        "annotations": [
            {"id": ROAD, "name": "road", "slot_names": ["0"], "mask": {"sparse_rle": None}},
            {"id": SKY, "name": "sky", "slot_names": ["0"], "mask": {"sparse_rle": None}},
            {"id": RASTER, "name": "__raster_layer__", "slot_names": ["0"],
             "raster_layer": {"dense_rle": rle(PIXELS),
                              "mask_annotation_ids_mapping": {ROAD: 1, SKY: 2},
                              "total_pixels": W * H}},
        ],
    }


def wait_until(predicate, timeout=10.0):
    return waiting.wait_until(predicate, timeout, "the sim's state")


def test_sdk_imports_exports_and_pulls_masks(sim, sdk_env, tmp_path):
    client = sdk_env(sim)
    dataset = client.create_dataset("Masks")
    media = tmp_path / "media"
    make_image(media / "street.png", W, H)
    assert dataset.push([media]).errors == []
    wait_until(lambda: [i.status for i in dataset.fetch_remote_files()] == ["new"])

    # The built-in class is there for every team; mask classes are made as for other types.
    classes = {(c["name"], c["annotation_types"][0]) for c in dataset.fetch_remote_classes()}
    assert ("__raster_layer__", "raster_layer") in classes
    dataset.create_annotation_class("road", "mask", ["text", "attributes"])
    dataset.create_annotation_class("sky", "mask", ["text", "attributes"])

    imported = write_json(tmp_path / "imports" / "street.json", masks_file())
    import_annotations(dataset, get_importer("darwin"), [imported], append=False,
                       class_prompt=False)
    (item,) = dataset.fetch_remote_files()
    view = sim.control("GET", f"/_sim/items/{item.id}/annotations")["annotations"]
    assert sorted((a["class_name"], a["type"]) for a in view) == [
        ("__raster_layer__", "raster_layer"), ("road", "mask"), ("sky", "mask")]

    sim.control("POST", f"/_sim/datasets/{dataset.dataset_id}/status", {"status": "complete"})
    dataset.export("masks-1")
    release = dataset.get_release("masks-1")
    dataset.pull(release=release, only_annotations=True)
    pulled = json.loads((Path(dataset.local_path) / "releases" / "masks-1" / "annotations" /
                         "street.json").read_text())
    assert normalise_file(pulled) == normalise_file(json.loads(imported.read_text()))
    raster = next(a for a in pulled["annotations"] if "raster_layer" in a)
    assert raster["name"] == "__raster_layer__"
    assert unrle(raster["raster_layer"]["dense_rle"]) == PIXELS
    assert raster["raster_layer"]["mask_annotation_ids_mapping"] == {ROAD: 1, SKY: 2}


def test_import_refuses_malformed_raster_layers_and_masks(sim, tmp_path):
    api = Api(sim)
    new_dataset(api, "bad")
    item_id = upload(api, "bad", "s.png", png_bytes(tmp_path, W, H))
    wait_until(lambda: sim.control("GET", "/_sim/state")["teams"][0]["datasets"][0]["items"][0]
               ["status"] == "new")
    classes = {c["name"]: c["id"] for c in
               api.get(f"/api/teams/{api.team}/annotation_classes").json()["annotation_classes"]}
    road = api.post("/api/annotation_classes", {
        "name": "road", "annotation_type_ids": [9], "metadata": {"_color": "auto"},
        "datasets": [{"id": 1}]}).json()["id"]
    raster_class = classes["__raster_layer__"]

    def post(annotations):
        return api.post(api.v2(f"items/{item_id}/import"),
                        {"annotations": annotations, "overwrite": "true"})

    def raster(dense, total=W * H, mapping=None, class_id=raster_class):
        return {"annotation_class_id": class_id, "id": RASTER,
                "context_keys": {"slot_names": ["0"]},
                "data": {"raster_layer": {"dense_rle": dense, "total_pixels": total,
                                          "mask_annotation_ids_mapping": mapping or {ROAD: 1}}}}

    mask = {"annotation_class_id": road, "id": ROAD, "context_keys": {"slot_names": ["0"]},
            "data": {"mask": {"sparse_rle": None}}}
    ok = post([mask, raster(rle(PIXELS))])
    assert ok.status_code == 200, ok.text
    cases = {
        "covers 31 pixels": raster([0, W * H - 1]),
        "pairs": raster([0, 16, 1]),
        "positive integer": raster([0, 0, 1, W * H]),
        "not the slot's width x height": raster([0, 10], total=10),
        "must be an integer in [1, 65535]": raster([0, W * H], mapping={ROAD: 0}),
        "needs the class __raster_layer__": raster([0, W * H], class_id=road),
    }
    for reason, annotation in cases.items():
        r = post([annotation])
        assert r.status_code == 422 and reason in r.text, (reason, r.status_code, r.text)
    sparse = dict(mask, data={"mask": {"sparse_rle": [1, 2]}})
    r = post([sparse])
    assert r.status_code == 422 and "sparse_rle" in r.text
    on_raster = dict(mask, annotation_class_id=raster_class)
    assert post([on_raster]).status_code == 422
    # Nothing of the refused payloads was stored.
    stored = api.get(api.v2(f"items/{item_id}/annotations")).json()
    assert sorted(a["id"] for a in stored) == sorted([ROAD, RASTER])


def test_annotator_paints_masks(sim, sdk_env, tmp_path):
    api = Api(sim)
    new_dataset(api, "paint")
    item_id = upload(api, "paint", "p.png", png_bytes(tmp_path, W, H))
    wait_until(lambda: sim.control("GET", "/_sim/state")["teams"][0]["datasets"][0]["items"][0]
               ["status"] == "new")
    paint = f"/_sim/items/{item_id}/masks/paint"
    jane = {"email": "jane@example.com", "full_name": "Jane Doe"}
    first = sim.control("POST", paint, {"class_name": "road", "rect": {"x": 0, "y": 2, "w": W,
                                                                       "h": 2}, "author": jane})
    assert first["mask"]["class_name"] == "road" and first["mask"]["type"] == "mask"
    assert first["raster_layer"]["class_name"] == "__raster_layer__"
    # A second class, a repaint clipped to the slot, and an erase.
    sim.control("POST", paint, {"class_name": "sky", "rect": {"x": -3, "y": -3, "w": 100, "h": 4}})
    sim.control("POST", paint, {"class_name": "road", "rect": {"x": 6, "y": 0, "w": 5, "h": 1}})
    last = sim.control("POST", paint, {"class_name": None, "rect": {"x": 3, "y": 3, "w": 2,
                                                                    "h": 1}})
    assert last["mask"] is None
    layer = last["raster_layer"]["data"]
    mapping = layer["mask_annotation_ids_mapping"]
    view = sim.control("GET", f"/_sim/items/{item_id}/annotations")["annotations"]
    label = {a["class_name"]: mapping[a["id"]] for a in view if a["type"] == "mask"}
    road, sky = label["road"], label["sky"]
    expected = ([sky] * 6 + [road] * 2 + [0] * W + [road] * W + [road] * 3 + [0, 0] +
                [road] * 3)
    assert unrle(layer["dense_rle"]) == expected
    assert layer["total_pixels"] == W * H
    bad = api.s.post(sim.url + paint, json={"class_name": "road"})
    assert bad.status_code in (400, 422)

    # darwin-py reads the painted masks back through an export.
    client = sdk_env(sim)
    dataset = client.get_remote_dataset("paint")
    sim.control("POST", f"/_sim/items/{item_id}/status", {"status": "complete"})
    dataset.export("painted")
    dataset.pull(release=dataset.get_release("painted"), only_annotations=True)
    pulled = json.loads((Path(dataset.local_path) / "releases" / "painted" / "annotations" /
                         "p.json").read_text())
    raster = next(a for a in pulled["annotations"] if "raster_layer" in a)
    assert unrle(raster["raster_layer"]["dense_rle"]) == expected
    masks = {a["name"]: a for a in pulled["annotations"] if "mask" in a}
    assert sorted(masks) == ["road", "sky"]
    assert {mapping[masks["road"]["id"]], mapping[masks["sky"]["id"]]} == {road, sky}
