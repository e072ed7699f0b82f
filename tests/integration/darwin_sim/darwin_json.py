"""Helpers to write Darwin JSON 2.0 import files and compare them with exports."""

from __future__ import annotations

import json
from pathlib import Path

SHAPES = ("bounding_box", "polygon", "keypoint", "line", "tag", "ellipse", "skeleton", "cuboid",
          "mask", "raster_layer", "table", "simple_table")


def write_json(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return path


def _round(value):
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def main_type(annotation: dict) -> str:
    if "polygon" in annotation:
        return "polygon"
    for key in SHAPES:
        if key in annotation:
            return key
    return "frames" if "frames" in annotation else ""


def shape_of(annotation: dict):
    """The annotation's main shape, normalised (legacy polygon `path` -> `paths`)."""
    kind = main_type(annotation)
    if kind == "polygon":
        poly = annotation["polygon"]
        return _round({"paths": poly.get("paths") or [poly["path"]]})
    if kind == "frames":
        return None
    return _round(annotation.get(kind))


def normalise_annotation(a: dict, slot_default: str = "0") -> dict:
    """What must survive import -> export, in a comparable form."""
    props = sorted(
        (str(p["frame_index"]), p["name"], p["value"])
        for p in a.get("properties", [])
        if p.get("value") is not None
    )
    out = {
        "id": a.get("id"),
        "name": a["name"].strip(),
        "type": main_type(a),
        "shape": shape_of(a),
        "slot_names": a.get("slot_names") or [slot_default],
        "text": (a.get("text") or {}).get("text"),
        "instance_id": (a.get("instance_id") or {}).get("value"),
        "attributes": sorted(a.get("attributes") or []),
        "properties": props,
        "directional_vector": _round(a.get("directional_vector")),
    }
    if "frames" in a:
        keyframes = {
            k: {key: _round(v) for key, v in f.items() if key in SHAPES}
            for k, f in a["frames"].items()
            if f.get("keyframe", True)
        }
        out["keyframes"] = keyframes
        out["frame_keys"] = sorted(a["frames"], key=int)
        out["ranges"] = a.get("ranges") or a.get("segments")
    return out


def normalise_file(doc: dict) -> dict:
    item = doc["item"]
    slot_default = item["slots"][0]["slot_name"] if item.get("slots") else "0"
    anns = sorted(
        (normalise_annotation(a, slot_default) for a in doc["annotations"]),
        key=lambda a: (a["name"], a["type"], json.dumps(a["shape"], sort_keys=True)),
    )
    item_props = sorted((p["name"], p["value"]) for p in doc.get("properties") or []
                        if p.get("value") is not None)
    path = item.get("path") or "/"
    return {"name": item["name"], "path": path, "annotations": anns, "properties": item_props}
