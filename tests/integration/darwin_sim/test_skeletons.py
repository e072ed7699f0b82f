"""Keypoint skeletons in darwin-sim as V7 keeps them: skeleton classes need their node
definitions, and imported skeleton annotations must name their class's nodes; darwin-py
imports, exports and pulls a skeleton unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from darwin.importer import get_importer
from darwin.importer.importer import import_annotations

from .darwin_json import normalise_file, write_json
from .media import make_image
from .test_masks import wait_until
from .test_sim_api import Api

SKELETON = {"nodes": [{"name": "head", "x": 0.5, "y": 0.1}, {"name": "hip", "x": 0.5, "y": 0.6}],
            "edges": [{"from": "head", "to": "hip"}]}


def test_skeleton_classes_need_nodes_and_annotations_name_them(sim, sdk_env, tmp_path):
    api = Api(sim)
    client = sdk_env(sim)
    dataset = client.create_dataset("Poses")
    make_image(tmp_path / "media" / "pose.png", 40, 30)
    assert dataset.push([tmp_path / "media"]).errors == []
    wait_until(lambda: [i.status for i in dataset.fetch_remote_files()] == ["new"])

    teams = f"/api/teams/{sim.team}/annotation_classes"
    bare = api.post(teams, {"name": "person", "annotation_types": ["skeleton"],
                            "metadata": {"_color": "auto"}})
    assert bare.status_code == 422 and "metadata.skeleton" in bare.text
    dangling = api.post(teams, {"name": "person", "annotation_types": ["skeleton"], "metadata": {
        "skeleton": {"nodes": [{"name": "a"}], "edges": [{"from": "a", "to": "b"}]}}})
    assert dangling.status_code == 422 and "'b' is not a node" in dangling.text
    made = api.post(teams, {"name": "person", "annotation_types": ["skeleton", "text"],
                            "metadata": {"_color": "auto", "skeleton": SKELETON},
                            "datasets": [{"id": dataset.dataset_id}]})
    assert made.status_code == 200, made.text
    class_id = made.json()["id"]

    (item,) = dataset.fetch_remote_files()

    def post(nodes):
        return api.post(api.v2(f"items/{item.id}/import"), {"overwrite": "true", "annotations": [
            {"annotation_class_id": class_id, "context_keys": {"slot_names": ["0"]},
             "data": {"skeleton": {"nodes": nodes}}}]})

    unknown = post([{"name": "knee", "occluded": False, "x": 1, "y": 2}])
    assert unknown.status_code == 422 and "'knee' is not in the skeleton" in unknown.text
    twice = post([{"name": "head", "x": 1, "y": 2}, {"name": "head", "x": 1, "y": 2}])
    assert twice.status_code == 422 and "appears twice" in twice.text
    no_xy = post([{"name": "head", "occluded": True}])
    assert no_xy.status_code == 422 and "numeric x and y" in no_xy.text

    doc = {"version": "2.0",
           "item": {"name": "pose.png", "path": "/",
                    "slots": [{"slot_name": "0", "type": "image", "width": 40, "height": 30}]},
           "annotations": [{"id": "11111111-1111-4111-8111-111111111111", "name": "person",
                            "slot_names": ["0"], "text": {"text": "walking"},
                            "skeleton": {"nodes": [
                                {"name": "head", "occluded": False, "x": 20.5, "y": 3.25},
                                {"name": "hip", "occluded": True, "x": 19.0, "y": 18.0}]}}]}
    imported = write_json(tmp_path / "imports" / "pose.json", doc)
    import_annotations(dataset, get_importer("darwin"), [imported], append=False,
                       class_prompt=False)
    sim.control("POST", f"/_sim/datasets/{dataset.dataset_id}/status", {"status": "complete"})
    dataset.export("poses-1")
    dataset.pull(release=dataset.get_release("poses-1"), only_annotations=True)
    pulled = json.loads((Path(dataset.local_path) / "releases" / "poses-1" / "annotations" /
                         "pose.json").read_text())
    assert normalise_file(pulled) == normalise_file(doc)
    classes = {c["name"]: c for c in dataset.fetch_remote_classes()}
    assert classes["person"]["metadata"]["skeleton"] == SKELETON
