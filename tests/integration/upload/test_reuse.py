"""Dataset and class reuse across runs (checklist 56, 62, 63): the slug is normalised or
generated, a second run into the same V7 dataset reuses its classes and properties (adding
only missing values) and gets its own items."""

from __future__ import annotations

import re

from labelport.v1 import label_schema_pb2 as schema

from .support import (
    create_run, detection, detections, header, image_sample, items_by_sample, make_image, media,
    spec, specs, state_name, wait_run,
)


def colour_field(values) -> schema.FieldSchema:
    return schema.FieldSchema(field="gt", type="detections", classes=schema.ClassList(entries=[
        schema.ClassEntry(group=schema.ClassGroup(classes=schema.ClassNames(names=["car"]),
                                                  attributes=specs(spec("colour", "single_select",
                                                                        values))))]))


def one_run(server, tmp_path, key, slug, values, colour):
    path = make_image(tmp_path / key / "a.png")
    s = image_sample("same-id", media(path=path), gt=detections(
        detection("car", [0.25, 0.25, 0.5, 0.5], attributes={"colour": colour})))
    run = create_run(server.stub, header(key, [colour_field(values)], slug=slug,
                                         existing=[("gt", "Detections")]), [s])
    final = wait_run(server.stub, run.name)
    assert state_name(final) == "RUN_STATE_ANNOTATING", (final.failure_reason,
                                                        list(final.sample_errors))
    return final


def test_second_run_reuses_dataset_classes_and_properties(sim, upload_server, tmp_path):
    server = upload_server(sim)
    first = one_run(server, tmp_path, "first", "My Shared Set", ["red", "blue"], "red")
    assert first.darwin.dataset_slug == "my-shared-set"
    second = one_run(server, tmp_path, "second", "my-shared-set", ["red", "blue", "green"],
                     "green")
    assert second.darwin.dataset_slug == "my-shared-set"
    ds = sim.dataset("my-shared-set")
    # Both runs used sample id "same-id" and file "a.png", yet each has its own item.
    assert len(ds["items"]) == 2
    assert len({i["path"] for i in ds["items"]}) == 2
    cars = [c for c in sim.classes() if c["name"] == "car"]
    assert len(cars) == 1
    (prop,) = [p for p in sim.properties() if p["name"] == "colour"]
    assert sorted(v["value"] for v in prop["property_values"]) == ["blue", "green", "red"]
    log = sim.requests()
    assert sum(r["method"] == "POST" and r["path"] == "/api/annotation_classes"
               for r in log) == 1
    assert sum(r["method"] == "POST" and r["path"].endswith("/properties") for r in log) == 1
    assert sum(r["method"] == "PUT" and "/properties/" in r["path"] for r in log) == 1
    assert sum(r["method"] == "POST" and r["path"] == "/api/datasets" for r in log) == 1
    for item in ds["items"]:
        (anno,) = sim.annotations(item["id"])
        assert anno["properties"]["colour"] in ("red", "green")
    assert sorted(sim.annotations(i["id"])[0]["properties"]["colour"]
                  for i in ds["items"]) == ["green", "red"]


def test_missing_slug_is_generated(sim, upload_server, tmp_path):
    server = upload_server(sim)
    final = one_run(server, tmp_path, "noslug", "", ["red"], "red")
    assert re.fullmatch(r"voxel51-[0-9a-f]{32}", final.darwin.dataset_slug)
    assert len(items_by_sample(sim, final.darwin.dataset_slug)) == 1
