"""labelport V7 recipe demo.

Follows the basic recipe of FiftyOne's V7 integration guide with the plain labelport client,
against a running labelport-server pointed at darwin-sim:

  1. a small generated image dataset (PNG files drawn with Pillow; two files named the same in
     different folders) with `ground_truth` and `predictions` boxes;
  2. the samples whose high-confidence predictions are false positives are selected;
  3. they are sent to V7: the existing `ground_truth` field (type and classes inferred by the
     server) and a new `scene` classification field; the run is followed until ANNOTATING;
  4. a simulated annotator (darwin-sim's /_sim annotator endpoints) fixes boxes, relabels one,
     deletes a false positive, adds a missed object and tags the scenes;
  5. the annotations are loaded back: per field, what was added / edited / deleted, with
     examples, and a before/after picture of the changed images (boxes, and the `regions`
     segmentation mask, whose pixels edited in V7 are shown in yellow);
  6. the run is cleaned up in V7 and its record deleted.

    python client/python/examples/v7_recipe_demo.py --target 127.0.0.1:50051 \
        --sim_url http://127.0.0.1:8080 [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from PIL import Image, ImageDraw

from labelport import Client, LabelportError
from labelport.samples import field_value_dicts, image_sample, media_from_file
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import labels_pb2 as labels_pb

DATASET = "v7-annotation-example"
ANNO_KEY = "v7_basic_recipe"
W, H = 160, 120
COLORS = {"car": (220, 60, 60), "person": (60, 90, 220), "tree": (40, 150, 60)}
# The `regions` segmentation: pixel value → class (0 background).
MASK_TARGETS = {0: "background", 1: "car", 2: "person", 3: "tree"}
MASK_VALUES = {name: value for value, name in MASK_TARGETS.items()}
PROGRESS_STAGES = {1: "export requested", 2: "export ready", 3: "parsing"}


# ---- the dataset ----------------------------------------------------------------------------


@dataclass
class Box:
    label: str
    x: float  # pixels, top-left origin
    y: float
    w: float
    h: float
    confidence: Optional[float] = None
    id: str = ""

    def relative(self) -> list:
        return [self.x / W, self.y / H, self.w / W, self.h / H]


@dataclass
class ImageSpec:
    rel_path: str
    background: tuple
    shapes: list  # (kind, label, x, y, w, h) drawn on the image
    ground_truth: list  # Box
    predictions: list  # Box
    sample_id: str = ""
    path: Path = field(default_factory=Path)


def dataset_specs() -> list:
    b = Box
    return [
        ImageSpec("city/0001.png", (200, 200, 190),
                  [("rect", "car", 20, 60, 50, 30), ("person", "person", 100, 30, 20, 50)],
                  [b("car", 20, 60, 50, 30), b("person", 100, 30, 20, 50),
                   b("car", 118, 88, 30, 20)],  # nothing there: a false positive
                  [b("car", 22, 58, 48, 32, 0.97), b("person", 99, 31, 22, 48, 0.91),
                   b("tree", 10, 5, 30, 30, 0.88)]),
        ImageSpec("park/0001.png", (190, 220, 180),  # same file name, another folder
                  [("tree", "tree", 30, 20, 40, 60), ("person", "person", 100, 40, 20, 50)],
                  [b("tree", 30, 20, 40, 60), b("tree", 100, 40, 20, 50)],  # wrong class
                  [b("tree", 31, 22, 38, 58, 0.95), b("car", 120, 5, 30, 20, 0.85)]),
        ImageSpec("street/0002.png", (180, 180, 200),
                  [("rect", "car", 60, 50, 60, 30), ("rect", "car", 10, 10, 30, 20)],
                  [b("car", 50, 40, 80, 45)],  # sloppy box; the small car is missing
                  [b("car", 60, 50, 60, 30, 0.93), b("person", 130, 80, 15, 30, 0.9)]),
        ImageSpec("beach/0003.png", (230, 215, 160),
                  [("person", "person", 70, 40, 20, 50)],
                  [b("person", 64, 44, 28, 52)],  # a bit off
                  [b("person", 70, 40, 20, 50, 0.99), b("car", 5, 90, 30, 20, 0.86)]),
        ImageSpec("forest/0004.png", (170, 200, 170),
                  [("tree", "tree", 60, 30, 40, 70)],
                  [b("tree", 60, 30, 40, 70)],
                  [b("tree", 61, 31, 39, 68, 0.96)]),
    ]


def draw_shape(draw: ImageDraw.ImageDraw, kind: str, label: str, x, y, w, h) -> None:
    color = COLORS[label]
    if kind == "rect":
        draw.rectangle([x, y, x + w, y + h], fill=color)
        draw.ellipse([x + 4, y + h - 8, x + 14, y + h + 2], fill=(30, 30, 30))
        draw.ellipse([x + w - 14, y + h - 8, x + w - 4, y + h + 2], fill=(30, 30, 30))
    elif kind == "person":
        draw.ellipse([x + w / 4, y, x + 3 * w / 4, y + h / 4], fill=color)
        draw.rectangle([x, y + h / 4, x + w, y + h], fill=color)
    elif kind == "tree":
        draw.polygon([(x + w / 2, y), (x, y + h * 0.8), (x + w, y + h * 0.8)], fill=color)
        draw.rectangle([x + w * 0.4, y + h * 0.8, x + w * 0.6, y + h], fill=(110, 70, 30))


def make_dataset(directory: Path) -> list:
    specs = dataset_specs()
    ids = iter(range(1, 10_000))
    for n, spec in enumerate(specs):
        spec.sample_id = f"{0x65F000 + n:024x}"  # FiftyOne-style ObjectIds
        spec.path = directory / spec.rel_path
        spec.path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.new("RGB", (W, H), spec.background)
        draw = ImageDraw.Draw(image)
        for shape in spec.shapes:
            draw_shape(draw, *shape)
        image.save(spec.path)
        for box in spec.ground_truth + spec.predictions:
            box.id = f"{0x66A000 + next(ids):024x}"
    return specs


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    return inter / (a.w * a.h + b.w * b.h - inter)


def false_positives(spec: ImageSpec) -> list:
    """Predictions above 0.8 confidence that match no ground-truth box of their class."""
    return [p for p in spec.predictions if p.confidence > 0.8 and not any(
        g.label == p.label and iou(g, p) >= 0.5 for g in spec.ground_truth)]


# ---- darwin-sim's annotator endpoints -------------------------------------------------------


class Annotator:
    """Acts as a human annotator in V7 through darwin-sim's /_sim control API."""

    def __init__(self, sim_url: str):
        self.url = sim_url.rstrip("/")

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.loads(response.read())

    def items(self, slug: str) -> dict:
        """Item ids of a V7 dataset by sample id (labelport files item /<sample id>/<name>)."""
        for team in self._call("GET", "/_sim/state")["teams"]:
            for dataset in team["datasets"]:
                if dataset["slug"] == slug:
                    return {i["path"].rstrip("/").rsplit("/", 1)[-1]: i["id"]
                            for i in dataset["items"]}
        raise RuntimeError(f"V7 dataset {slug!r} not found")

    def annotations(self, item_id: str) -> list:
        return self._call("GET", f"/_sim/items/{item_id}/annotations")["annotations"]

    def find_box(self, item_id: str, box: Box) -> dict:
        """The item's bounding-box annotation closest to `box`."""
        def distance(a):
            d = a["data"]
            return abs(d["x"] - box.x) + abs(d["y"] - box.y) + abs(d["w"] - box.w) + abs(
                d["h"] - box.h)

        boxes = [a for a in self.annotations(item_id) if a["type"] == "bounding_box"]
        return min(boxes, key=distance)

    def move(self, item_id: str, ann: dict, x, y, w, h) -> None:
        self._call("PATCH", f"/_sim/items/{item_id}/annotations/{ann['id']}",
                   {"data": {"x": x, "y": y, "w": w, "h": h}, "author": AUTHOR})

    def relabel(self, item_id: str, ann: dict, class_name: str) -> None:
        self._call("PATCH", f"/_sim/items/{item_id}/annotations/{ann['id']}",
                   {"class_name": class_name, "author": AUTHOR})

    def delete(self, item_id: str, ann: dict) -> None:
        self._call("DELETE", f"/_sim/items/{item_id}/annotations/{ann['id']}")

    def add_box(self, item_id: str, class_name: str, x, y, w, h) -> None:
        self._call("POST", f"/_sim/items/{item_id}/annotations",
                   {"class_name": class_name, "type": "bounding_box",
                    "data": {"x": x, "y": y, "w": w, "h": h}, "author": AUTHOR})

    def tag(self, item_id: str, class_name: str) -> None:
        self._call("POST", f"/_sim/items/{item_id}/annotations",
                   {"class_name": class_name, "type": "tag", "author": AUTHOR})

    def paint(self, item_id: str, class_name: Optional[str], x, y, w, h) -> None:
        """Paints a rectangle of the item's raster layer with a mask class (None: erase)."""
        self._call("POST", f"/_sim/items/{item_id}/masks/paint",
                   {"class_name": class_name, "rect": {"x": x, "y": y, "w": w, "h": h}})

    def complete(self, item_id: str) -> None:
        self._call("POST", f"/_sim/items/{item_id}/status", {"status": "complete"})


AUTHOR = {"email": "annotator@example.com", "full_name": "Demo Annotator"}


# ---- output ---------------------------------------------------------------------------------


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def fmt_box(d: dict) -> str:
    x, y, w, h = d["bounding_box"]
    return f"{d['label']} [{x * W:.0f},{y * H:.0f} {w * W:.0f}x{h * H:.0f}px]"


def regions_mask(spec: ImageSpec, mask_id: str) -> labels_pb.FieldValue:
    """The `regions` segmentation of an image: its ground-truth boxes filled with their class."""
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    for b in spec.ground_truth:
        draw.rectangle([b.x, b.y, b.x + b.w - 1, b.y + b.h - 1], fill=MASK_VALUES[b.label])
    return labels_pb.FieldValue(segmentation=labels_pb.Segmentation(
        id=mask_id, width=W, height=H, bytes_per_pixel=1, mask=mask.tobytes()))


def overlay_mask(image: Image.Image, mask: Optional[bytes],
                 changed: Optional[bytes]) -> Image.Image:
    """Tints each class's pixels with its colour; pixels that changed in V7 are yellow."""
    if mask is None:
        return image
    tint = Image.new("RGB", (W, H))
    alpha = Image.new("L", (W, H), 0)
    for value, name in MASK_TARGETS.items():
        if value == 0:
            continue
        where = Image.frombytes("L", (W, H), bytes(255 if p == value else 0 for p in mask))
        tint.paste(COLORS[name], mask=where)
        alpha.paste(110, mask=where)
    if changed is not None:
        where = Image.frombytes("L", (W, H), changed)
        tint.paste((255, 220, 0), mask=where)
        alpha.paste(200, mask=where)
    return Image.composite(tint, image, alpha)


def draw_boxes(image: Image.Image, boxes: list, highlight: set, mask: Optional[bytes] = None,
               changed: Optional[bytes] = None) -> Image.Image:
    image = overlay_mask(image, mask, changed).resize((W * 2, H * 2), Image.NEAREST)
    draw = ImageDraw.Draw(image)
    for d in boxes:
        x, y, w, h = (v * 2 for v in (d["bounding_box"][0] * W, d["bounding_box"][1] * H,
                                      d["bounding_box"][2] * W, d["bounding_box"][3] * H))
        changed = d["id"] in highlight
        color = (255, 200, 0) if changed else (0, 0, 0)
        draw.rectangle([x, y, x + w, y + h], outline=color, width=3 if changed else 1)
        left, top, right, bottom = draw.textbbox((x + 3, y + 3), d["label"])
        draw.rectangle([left - 1, top - 1, right + 1, bottom + 1], fill=(0, 0, 0))
        draw.text((x + 3, y + 3), d["label"], fill=(255, 200, 0) if changed else (255, 255, 255))
    return image


def before_after(rows: list, out_path: Path) -> Path:
    """One row per changed image: before (uploaded) | after (loaded); changes highlighted."""
    pad, title = 8, 16
    sheet = Image.new("RGB", (2 * (2 * W) + 3 * pad, len(rows) * (2 * H + title + pad) + pad),
                      (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for r, (name, path, before, after, highlight, masks) in enumerate(rows):
        top = pad + r * (2 * H + title + pad)
        image = Image.open(path).convert("RGB")
        mask_before, mask_after = masks
        changed = None
        if mask_before is not None and mask_after is not None and mask_before != mask_after:
            changed = bytes(255 if a != b else 0 for a, b in zip(mask_before, mask_after))
        draw.text((pad, top), f"{name}: before", fill=(0, 0, 0))
        draw.text((2 * pad + 2 * W, top), f"{name}: after", fill=(0, 0, 0))
        sheet.paste(draw_boxes(image, before, highlight, mask_before), (pad, top + title))
        sheet.paste(draw_boxes(image, after, highlight, mask_after, changed),
                    (2 * pad + 2 * W, top + title))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path)
    return out_path


# ---- the recipe -----------------------------------------------------------------------------


def run_demo(client: Client, annotator: Annotator, image_dir: Path, out_dir: Path) -> None:
    section("Step 1: a small dataset with ground_truth and predictions")
    specs = make_dataset(image_dir)
    for spec in specs:
        print(f"  {spec.sample_id}  {spec.rel_path:<16} ground_truth: "
              f"{len(spec.ground_truth)} boxes, predictions: {len(spec.predictions)} boxes")

    section("Step 2: samples with high-confidence false-positive predictions")
    view = sorted((s for s in specs if false_positives(s)), key=lambda s: -len(false_positives(s)))
    for spec in view:
        fps = ", ".join(f"{p.label} ({p.confidence:.2f})" for p in false_positives(spec))
        print(f"  {spec.rel_path:<16} {fps}")

    section(f"Step 3: send {len(view)} samples to V7 (anno_key '{ANNO_KEY}')")
    samples, masks = [], {}
    for n, spec in enumerate(view):
        boxes = [{"id": b.id, "label": b.label, "bounding_box": b.relative()}
                 for b in spec.ground_truth]
        masks[spec.sample_id] = regions_mask(spec, f"{0x77B000 + n:024x}")
        samples.append(image_sample(
            spec.sample_id, media_from_file(client, spec.path), width=W, height=H,
            fields={"ground_truth": {"detections": boxes}, "regions": masks[spec.sample_id]}))
    print(f"  media uploaded content-addressed: {len(samples)} files")
    label_schema = {
        "ground_truth": {},  # existing field: type and classes are inferred by the server
        "scene": {"type": "classification", "classes": ["urban", "nature", "coast"]},
        "regions": {"mask_targets": MASK_TARGETS},  # existing Segmentation field
    }
    classes = sorted({b.label for s in specs for b in s.ground_truth})
    run = client.create_run(
        DATASET, ANNO_KEY, samples, label_schema=label_schema,
        existing_fields=[("ground_truth", "Detections", classes), ("regions", "Segmentation", [])],
        dataset_slug=ANNO_KEY, collection_name="DatasetView", media_field="filepath",
        client_metadata={"example": "v7_recipe_demo"})
    print(f"  created {run.name} (V7 dataset '{run.darwin.dataset_slug}')")
    seen = set()

    def on_event(r: run_pb.AnnotationRun) -> None:
        state = run_pb.RunState.Name(r.state).removeprefix("RUN_STATE_")
        p = r.progress
        line = (f"  {state:<11} uploaded {p.samples_uploaded}/{p.samples_total}, labels "
                f"imported {p.labels_imported}/{p.labels_total}")
        if line not in seen:
            seen.add(line)
            print(line, flush=True)

    run = client.wait_until_settled(run.name, timeout=300, on_event=on_event)
    if run.state != run_pb.RUN_STATE_ANNOTATING:
        raise RuntimeError(f"run ended {run_pb.RunState.Name(run.state)}: {run.failure_reason}")
    for f in run.label_schema.fields:
        kind = "existing" if f.existing_field else "new"
        names = ", ".join(e.name for e in f.classes.entries if e.HasField("name"))
        print(f"  field {f.field}: {f.type} ({kind}), classes: {names}")
    print(f"  open in V7: {run.editor_url}")

    section("Step 4: the annotator works in V7 (darwin-sim /_sim annotator endpoints)")
    items = annotator.items(run.darwin.dataset_slug)
    by_path = {s.rel_path: s for s in view}

    def item(rel: str) -> str:
        return items[by_path[rel].sample_id]

    city, park, street, beach = "city/0001.png", "park/0001.png", "street/0002.png", \
        "beach/0003.png"
    fp = by_path[city].ground_truth[2]
    annotator.delete(item(city), annotator.find_box(item(city), fp))
    print(f"  {city}: deleted the false positive '{fp.label}' box")
    wrong = by_path[park].ground_truth[1]
    annotator.relabel(item(park), annotator.find_box(item(park), wrong), "person")
    print(f"  {park}: relabeled '{wrong.label}' -> 'person'")
    sloppy = by_path[street].ground_truth[0]
    annotator.move(item(street), annotator.find_box(item(street), sloppy), 60, 50, 60, 30)
    print(f"  {street}: tightened the '{sloppy.label}' box")
    annotator.add_box(item(street), "car", 10, 10, 30, 20)
    annotator.paint(item(street), "car", 10, 10, 30, 20)
    annotator.paint(item(street), None, 50, 40, 80, 10)
    print(f"  {street}: added the missed small 'car' (box, and its pixels in the regions mask)")
    off = by_path[beach].ground_truth[0]
    annotator.move(item(beach), annotator.find_box(item(beach), off), 70, 40, 20, 50)
    print(f"  {beach}: fixed the '{off.label}' box")
    for rel, scene in ((city, "urban"), (park, "nature"), (street, "urban"), (beach, "coast")):
        annotator.tag(item(rel), scene)
        annotator.complete(item(rel))
    print("  tagged each image's scene and marked the items complete")
    status = client.get_run_status(run.name)
    print("  V7 status: " + ", ".join(f"{c.status}={c.item_count}" for c in status.counts))

    section("Step 5: load the annotations back")
    changes, summary = [], None
    for event in client.load_annotations(run.name):
        kind = event.WhichOneof("event")
        if kind == "progress":
            p = event.progress
            print(f"  {PROGRESS_STAGES.get(p.stage, p.stage)}: {p.items_parsed}/{p.items_total}"
                  " items", flush=True)
        elif kind == "changes":
            changes.append(event.changes)
        else:
            summary = event.summary
    uploaded = {b.id: {"id": b.id, "label": b.label, "bounding_box": b.relative()}
                for s in view for b in s.ground_truth}
    names = {s.sample_id: s.rel_path for s in view}
    print("\nsummary per field:")
    for f in summary.fields:
        print(f"  {f.field}: {f.added} added, {f.edited} edited, {f.deleted} deleted, "
              f"{f.unchanged} unchanged, {f.ignored} ignored")
        for c in (c for c in changes if c.field == f.field):
            if f.field == "regions":
                for label_id in c.edited_ids:
                    before = masks[c.sample_id].segmentation.mask
                    after = c.downloaded.segmentation.mask
                    n = sum(a != b for a, b in zip(before, after))
                    print(f"    ~ {names[c.sample_id]}: mask edited, {n} pixels changed "
                          f"(id kept: {label_id})")
                continue
            labels = {d["id"]: d for d in field_value_dicts(c.downloaded)}
            for label_id in c.added_ids:
                d = labels[label_id]
                shown = fmt_box(d) if "bounding_box" in d else f"'{d['label']}'"
                print(f"    + {names[c.sample_id]}: added {shown} (id {label_id})")
            for label_id in c.edited_ids:
                before, after = uploaded[label_id], labels[label_id]
                what = (f"'{before['label']}' -> '{after['label']}'"
                        if before["label"] != after["label"]
                        else f"{fmt_box(before)} -> {fmt_box(after)}")
                print(f"    ~ {names[c.sample_id]}: edited {what} (id kept: {label_id})")
            for label_id in c.deleted_ids:
                print(f"    - {names[c.sample_id]}: deleted {fmt_box(uploaded[label_id])} "
                      f"(id {label_id})")
    for skipped in summary.skipped:
        print(f"  skipped: {skipped.reason}")

    rows = []
    regions = {c.sample_id: c.merged.segmentation.mask for c in changes if c.field == "regions"}
    for c in changes:
        if c.field != "ground_truth" or not (c.added_ids or c.edited_ids or c.deleted_ids):
            continue
        spec = next(s for s in view if s.sample_id == c.sample_id)
        before = [uploaded[b.id] for b in spec.ground_truth]
        after = field_value_dicts(c.merged)
        highlight = set(c.added_ids) | set(c.edited_ids) | set(c.deleted_ids)
        masks_of = (masks[spec.sample_id].segmentation.mask, regions.get(spec.sample_id))
        rows.append((spec.rel_path, spec.path, before, after, highlight, masks_of))
    picture = before_after(rows, out_dir / "before_after.png")
    print(f"\nbefore/after picture of the {len(rows)} changed images: {picture}")

    section("Step 6: clean up")
    cleaned = client.cleanup_run(run.name)
    print(f"  V7: {cleaned.items_deleted} items deleted, dataset deleted: "
          f"{'yes' if cleaned.dataset_deleted else 'no'}")
    client.delete_run(run.name)
    print(f"  run record {run.name} deleted")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="labelport-server address HOST:PORT")
    parser.add_argument("--sim_url", required=True, help="darwin-sim base URL (control API)")
    parser.add_argument("--out", help="directory for before_after.png (default: a new temp dir)")
    args = parser.parse_args(argv)
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="labelport-demo-"))

    with Client(args.target, timeout=30) as client:
        try:
            client.wait_for_ready(timeout=15)
            with tempfile.TemporaryDirectory(prefix="labelport-demo-images-") as image_dir:
                run_demo(client, Annotator(args.sim_url), Path(image_dir), out_dir)
        except LabelportError as e:
            print(f"\ndemo failed: {e.code.name}: {e.message}", file=sys.stderr)
            return 1
    print("\ndemo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
