"""darwin-sim's wire-level conformance (darwin-api.md §10.7) and its /_sim control API."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
import zlib

import requests
from darwin.future.data_objects.properties import FullProperty

from server.waiting import wait_until

from .conftest import FIXTURES_DIR, Sim, new_api_key
from .media import make_image

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class Api:
    """Minimal authenticated V7 client for wire-level assertions."""

    def __init__(self, sim):
        self.sim = sim
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"ApiKey {sim.api_key}"
        self.team = sim.team

    def get(self, path, **kw):
        return self.s.get(self.sim.url + path, **kw)

    def post(self, path, body=None, **kw):
        return self.s.post(self.sim.url + path, json=body, **kw)

    def v2(self, rest):
        return f"/api/v2/teams/{self.team}/{rest}"


def upload(api, dataset_slug, name, data, path="/"):
    """register_upload -> sign -> PUT (no auth) -> confirm; returns the item id."""
    reg = api.post(api.v2("items/register_upload"), {
        "dataset_slug": dataset_slug, "options": {"handle_as_slices": False},
        "items": [{"name": name, "path": path, "slots": [
            {"file_name": name, "slot_name": "0", "fps": 0, "as_frames": False}]}]}).json()
    item = reg["items"][0]
    upload_id = item["slots"][0]["upload_id"]
    url = api.get(api.v2(f"items/uploads/{upload_id}/sign")).json()["upload_url"]
    assert url.startswith(api.sim.url + "/")
    put = requests.put(url, data=data)
    assert put.status_code == 200 and put.text == "" and "Content-Type" not in put.headers
    assert api.post(api.v2(f"items/uploads/{upload_id}/confirm"), {}).json() == {}
    return item["id"]


def new_dataset(api, name="api"):
    r = api.post("/api/datasets", {"name": name})
    assert r.status_code == 200, r.text
    return r.json()


def exports_done(api, dataset_slug):
    """The dataset's exports once none is pending any more, else None."""
    exports = api.get(api.v2(f"datasets/{dataset_slug}/exports")).json()
    return exports if all(e["status"] == "complete" for e in exports) else None


def png_bytes(tmp_path, w, h, name="x.png"):
    return make_image(tmp_path / name, w, h).read_bytes()


def test_auth_paths_and_query_encodings(sim, tmp_path):
    api = Api(sim)
    assert requests.get(sim.url + "/api/datasets").status_code == 401
    assert requests.get(sim.url + "/api/datasets",
                        headers={"Authorization": "ApiKey nope"}).status_code == 401
    assert api.get("/api/v2/teams/someone-else/items").status_code == 403
    ds = new_dataset(api, "Query Test")
    assert TIMESTAMP.match(ds["inserted_at"])
    # `//` collapses; GET with a JSON content type is fine.
    r = api.get("//api//datasets", headers={"Content-Type": "application/json"})
    assert [d["slug"] for d in r.json()] == ["query-test"]
    for name in ["a b,c.png", "plain.jpg"]:
        upload(api, "query-test", name, png_bytes(tmp_path, 4, 3))
    did = ds["id"]
    forms = [f"dataset_ids={did}", f"dataset_ids[]={did}", f"dataset_ids%5B%5D={did}",
             f"dataset_ids%5b%5d={did}&dataset_ids[]=999"]
    for q in forms:
        items = api.get(api.v2("items") + "?" + q).json()["items"]
        assert sorted(i["name"] for i in items) == ["a b,c.png", "plain.jpg"], q
    q = f"item_names%5B%5D=a+b%2Cc.png&page%5Bsize%5D=500&include_workflow_data=true&" \
        f"dataset_ids%5B%5D={did}"
    body = api.get(api.v2("items") + "?" + q).json()
    assert [i["name"] for i in body["items"]] == ["a b,c.png"]
    item = body["items"][0]
    assert item["workflow_data"]["workflow_id"] and item["slots"][0]["metadata"] == {
        "width": 4, "height": 3}
    assert body["page"] == {"count": 1, "next": None, "previous": None}
    # Long URLs (>8 KB of item names) are accepted.
    long_q = "&".join(f"item_names[]=name-{i:05d}.png" for i in range(600))
    assert len(long_q) > 8192
    assert api.get(api.v2("items") + f"?{long_q}&dataset_ids={did}").json()["items"] == []
    # Cursor pagination is stable.
    page1 = api.get(api.v2("items") + f"?dataset_ids={did}&page[size]=1").json()
    page2 = api.get(api.v2("items") + f"?dataset_ids={did}&page[size]=1&page[from]="
                    + page1["page"]["next"]).json()
    assert page1["items"][0]["name"] == "a b,c.png" and page2["items"][0]["name"] == "plain.jpg"
    assert page2["page"]["next"] is None
    # Authorization values never reach the request log.
    log = sim.requests_log()
    assert all(e["headers"].get("authorization") in (None, "ApiKey <redacted>") for e in log)
    assert sim.api_key not in json.dumps(log)


def test_register_upload_blocking_and_processing(sim, tmp_path):
    api = Api(sim)
    new_dataset(api, "reg")
    body = {"dataset_slug": "reg", "items": [
        {"name": "dup.png", "path": "dir", "slots": [{"file_name": "dup.png", "slot_name": "0"}]},
        {"name": "dup.png", "path": "/dir/", "slots": [{"file_name": "dup.png", "slot_name": "0"}]},
        {"name": "doc.pdf", "path": "/", "slots": [{"file_name": "doc.pdf", "slot_name": "0"}]},
    ]}
    reg = api.post(api.v2("items/register_upload"), body).json()
    assert [(i["name"], i["path"], i["slots"][0]["type"]) for i in reg["items"]] == [
        ("dup.png", "/dir", "image"), ("doc.pdf", "/", "pdf")]
    blocked = reg["blocked_items"]
    assert blocked == [{"id": reg["items"][0]["id"], "name": "dup.png", "path": "/dir", "slots": [
        {"type": "image", "file_name": "dup.png", "slot_name": "0", "reason": "ALREADY_EXISTS"}]}]
    assert api.post(api.v2("items/register_upload"),
                    {"dataset_slug": "nope", "items": []}).status_code == 404
    assert api.get(api.v2("items/uploads/not-an-upload/sign")).status_code == 404

    # Undecodable bytes put the item in error; a processing delay is observable.
    bad = upload(api, "reg", "broken.png", b"definitely not a png")
    sim.control("POST", "/_sim/config", {"processing_delay_ms": 300})
    good = upload(api, "reg", "late.jpg", make_image(tmp_path / "late.jpg", 33, 22).read_bytes())
    items = {i["id"]: i for i in api.get(api.v2("items") + "?dataset_ids[]=1").json()["items"]}
    assert (items[bad]["status"], items[bad]["processing_status"]) == ("error", "error")
    assert items[good]["status"] == "processing"

    def processed():
        items = {i["id"]: i for i in api.get(api.v2("items") + "?dataset_ids[]=1").json()["items"]}
        return items if items[good]["status"] != "processing" else None

    items = wait_until(processed, 10, "the delayed processing")
    assert (items[good]["status"], items[good]["processing_status"]) == ("new", "complete")
    counts = api.get(api.v2("items/status_counts") + "?dataset_ids[]=1").json()["simple_counts"]
    assert {c["status"]: c["item_count"] for c in counts} == {
        "error": 1, "new": 1, "uploading": 2}

    sim.control("POST", "/_sim/config", {"processing_delay_ms": 0})
    # direct_upload decodes base64 and processes like an upload (GIF, BMP, WebP too).
    files = []
    for ext in ["gif", "bmp", "webp"]:
        data = make_image(tmp_path / f"d.{ext}", 17, 9).read_bytes()
        files.append({"name": f"d.{ext}", "path": "/", "file_content":
                      base64.b64encode(data).decode(), "type": "image"})
    assert len(api.post(api.v2("items/direct_upload"),
                        {"dataset_slug": "reg", "items": files}).json()["items"]) == 3
    state = sim.control("GET", "/_sim/state")
    sizes = {i["name"]: (i["status"], i["slots"][0]["width"], i["slots"][0]["height"])
             for i in state["teams"][0]["datasets"][0]["items"]}
    assert sizes["d.gif"] == sizes["d.bmp"] == sizes["d.webp"] == ("new", 17, 9)


def test_classes_properties_and_workflows(sim):
    api = Api(sim)
    ds = new_dataset(api, "meta")
    classes = api.get(f"/api/teams/{sim.team}/annotation_classes?include_tags=true").json()
    assert [c["name"] for c in classes["annotation_classes"]] == ["__raster_layer__"]
    types = {t["name"]: t["id"] for t in api.get("/api/annotation_types").json()}
    assert 0 not in types.values() and types["bounding_box"]
    body = {"dataset_id": ds["id"], "name": "car", "metadata": {"_color": "auto"},
            "annotation_type_ids": [types["bounding_box"], types["text"]],
            "datasets": [{"id": ds["id"]}]}
    car = api.post("/api/annotation_classes", body).json()
    assert car["annotation_types"] == ["bounding_box", "text"]
    assert api.post("/api/annotation_classes", body).status_code == 422
    r = api.s.put(f"{sim.url}/api/annotation_classes/{car['id']}",
                  json={"datasets": [{"id": ds["id"]}, {"id": 99}], "id": car["id"]})
    assert [d["id"] for d in r.json()["datasets"]] == [ds["id"], 99]

    prop = {"required": False, "type": "single_select", "granularity": "section",
            "name": "colour", "description": "", "annotation_class_id": car["id"],
            "property_values": [{"type": "string", "color": "rgba(1,2,3,1.0)", "value": "red"}]}
    created = api.post(api.v2("properties"), prop).json()
    assert "already exists" in api.post(api.v2("properties"), prop).text
    r = api.s.put(sim.url + api.v2(f"properties/{created['id']}"), json={
        "property_values": [{"value": "blue", "color": "auto", "type": "string"}],
        "description": "new"})
    assert [v["value"] for v in r.json()["property_values"]] == ["red", "blue"]
    item_prop = api.post(api.v2("properties"), {"name": "q", "type": "text",
                                                "granularity": "item",
                                                "dataset_ids": [ds["id"]]}).json()
    assert item_prop["annotation_class_id"] is None and item_prop["dataset_ids"] == [ds["id"]]
    listed = api.get(api.v2("properties") + "?include_values=true").json()["properties"]
    for p in listed:
        FullProperty.model_validate(p)
    only_car = api.get(api.v2(f"properties?annotation_class_ids[]={car['id']}")).json()
    assert [p["name"] for p in only_car["properties"]] == ["colour"]

    workflows = api.get(api.v2("workflows")).json()
    want_keys = set(json.loads((FIXTURES_DIR / "workflow.json").read_text())) - {"progress"}
    assert want_keys <= set(workflows[0])
    assert [s["type"] for s in workflows[0]["stages"]] == ["dataset", "annotate", "review",
                                                          "complete"]
    wf_id = workflows[0]["id"]
    r = api.s.patch(sim.url + api.v2(f"workflows/{wf_id}/unlink_dataset"),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["dataset"] is None
    assert api.s.delete(sim.url + api.v2(f"workflows/{wf_id}")).json() == {"id": wf_id}
    archived = api.s.put(sim.url + f"/api/datasets/{ds['id']}/archive", json={}).json()
    assert archived["archived"] is True
    assert api.get("/api/datasets").json() == []


def test_annotator_control_api_and_export(sim, tmp_path):
    api = Api(sim)
    ds = new_dataset(api, "human")
    item_id = upload(api, "human", "street.png", png_bytes(tmp_path, 100, 50))
    ann = f"/_sim/items/{item_id}/annotations"
    jane = {"email": "jane@example.com", "full_name": "Jane Doe"}
    box = sim.control("POST", ann, {
        "class_name": "car", "type": "bounding_box", "data": {"x": 1, "y": 2, "w": 3, "h": 4},
        "instance_id": 5, "text": "first", "properties": {"colour": "red"}, "author": jane})
    assert box["class_name"] == "car" and box["type"] == "bounding_box"
    assert box["data"] == {"x": 1, "y": 2, "w": 3, "h": 4}
    assert box["instance_id"] == 5 and box["text"] == "first"
    assert box["properties"] == {"colour": "red"}
    assert box["authors"] == [{"email": "jane@example.com", "full_name": "Jane Doe",
                               "role": "annotator"}]
    poly = sim.control("POST", ann, {"class_name": "area", "type": "polygon", "data": {"paths": [
        [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}],
        [{"x": 2, "y": 2}, {"x": 3, "y": 2}, {"x": 3, "y": 3}]]}, "author": jane})
    assert poly["stored"]["data"]["polygon"]["additional_paths"]
    sim.control("POST", ann, {"class_name": "edge", "type": "line",
                              "data": {"path": [{"x": 0, "y": 0}, {"x": 5, "y": 5}]}})
    kp = sim.control("POST", ann, {"class_name": "eye", "type": "keypoint",
                                   "data": {"x": 7, "y": 8}})
    sim.control("POST", ann, {"class_name": "sunny", "type": "tag"})

    # Edit keeps the id: new shape, renamed class (created), changed property, reviewer.
    rob = {"email": "rob@example.com", "full_name": "Rob Smith"}
    edited = sim.control("PATCH", f"{ann}/{box['id']}", {
        "data": {"x": 10, "y": 20, "w": 30, "h": 40}, "class_name": "truck",
        "properties": {"colour": "blue"}, "author": rob, "role": "reviewer"})
    assert edited["id"] == box["id"] and edited["class_name"] == "truck"
    assert edited["data"] == {"x": 10, "y": 20, "w": 30, "h": 40}
    assert sim.control("DELETE", f"{ann}/{kp['id']}") == {"deleted": kp["id"]}
    listed = sim.control("GET", ann)["annotations"]
    assert sorted(a["class_name"] for a in listed) == ["area", "edge", "sunny", "truck"]
    e36 = api.get(api.v2(f"items/{item_id}/annotations")).json()
    assert {a["id"] for a in e36} == {a["id"] for a in listed}
    assert all(set(a) >= {"id", "annotation_class_id", "data", "context_keys"} for a in e36)

    # Export as DFO does, with authorship, after a delay; the zip is flat and uncompressed
    # on the wire (no Content-Encoding).
    sim.control("POST", "/_sim/config", {"export_delay_ms": 200})
    body = {"name": "r1", "format": "darwin_json_2", "include_authorship": True,
            "include_export_token": False, "annotation_filters": {},
            "filters": {"not_statuses": ["archived", "error"]}}
    created = api.post(api.v2("datasets/human/exports"), body).json()
    assert (created["status"], created["download_url"], created["version"]) == (
        "pending", None, 1)
    assert api.post(api.v2("datasets/human/exports"), body).status_code == 422
    exports = wait_until(lambda: exports_done(api, "human"), 10, "the delayed export")
    assert len(exports) == 1 and exports[0]["status"] == "complete" and exports[0]["latest"]
    assert TIMESTAMP.match(exports[0]["inserted_at"])
    assert exports[0]["metadata"]["num_images"] == 1
    assert sorted(c["name"] for c in exports[0]["metadata"]["annotation_classes"]) == [
        "area", "edge", "sunny", "truck"]
    r = requests.get(exports[0]["download_url"], stream=True)
    assert r.headers["Content-Type"] == "application/zip"
    assert "Content-Encoding" not in r.headers
    raw = r.raw.read()
    assert int(r.headers["Content-Length"]) == len(raw)
    names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
    assert "street.json" in names and all("/" not in n for n in names if n != ".v7/metadata.json")
    doc = json.loads(zipfile.ZipFile(io.BytesIO(raw)).read("street.json"))
    assert doc["version"] == "2.0" and doc["item"]["source_info"]["item_id"] == item_id
    assert doc["item"]["source_info"]["dataset"]["slug"] == "human"
    by_name = {a["name"]: a for a in doc["annotations"]}
    truck = by_name["truck"]
    assert truck["id"] == box["id"]
    assert truck["bounding_box"] == {"x": 10, "y": 20, "w": 30, "h": 40}
    assert truck["instance_id"] == {"value": 5} and truck["text"] == {"text": "first"}
    assert truck["properties"] == [{"frame_index": 0, "name": "colour", "value": "blue"}]
    assert truck["annotators"] == [jane] and truck["reviewers"] == [rob]
    assert by_name["area"]["polygon"]["paths"][1] == [
        {"x": 2, "y": 2}, {"x": 3, "y": 2}, {"x": 3, "y": 3}]
    assert by_name["area"]["bounding_box"] == {"h": 10.0, "w": 10.0, "x": 0.0, "y": 0.0}
    assert by_name["sunny"]["tag"] == {} and by_name["edge"]["slot_names"] == ["0"]

    # Default filters export only complete items; moving the item makes it appear.
    api.post(api.v2("datasets/human/exports"), {"name": "r2"})
    sim.control("POST", f"/_sim/items/{item_id}/status", {"status": "complete"})
    api.post(api.v2("datasets/human/exports"), {"name": "r3"})
    exports = {e["name"]: e
               for e in wait_until(lambda: exports_done(api, "human"), 10, "exports r2 and r3")}
    assert exports["r2"]["metadata"]["num_images"] == 0
    assert exports["r3"]["metadata"]["num_images"] == 1
    assert [e["latest"] for e in exports.values()] == [False, False, True]
    state = sim.control("GET", "/_sim/state")
    assert state["exports_count"] == 3
    dataset = state["teams"][0]["datasets"][0]
    assert dataset["id"] == ds["id"] and dataset["items"][0]["status"] == "complete"
    assert dataset["items"][0]["annotation_count"] == 4


def test_control_and_create_requests_are_refused_with_the_reason(sim, tmp_path):
    api = Api(sim)
    new_dataset(api, "refusals")
    item_id = upload(api, "refusals", "a.png", png_bytes(tmp_path, 8, 8))

    def call(method, path, body):
        """(HTTP status, the error message or, on success, the JSON body)."""
        r = requests.request(method, sim.url + path, data=body, timeout=10,
                             headers={"Content-Type": "application/json"})
        return r.status_code, r.json()["errors"]["message"] if r.status_code != 200 else r.json()

    item = f"/_sim/items/{item_id}"
    assert call("POST", f"{item}/status", "[1]")[0] == 400  # not a JSON object
    assert call("POST", f"{item}/annotations", "{")[0] == 400
    assert call("POST", "/_sim/items/nope/status", '{"status": "complete"}') == (
        404, "item nope not found")
    assert call("GET", "/_sim/items/nope/annotations", None) == (404, "item nope not found")
    assert call("POST", "/_sim/items/nope/masks/paint", "{}") == (404, "item nope not found")
    assert call("POST", "/_sim/items/nope/annotations/a/split", '{"frame": 1}') == (
        404, "item nope not found")
    assert call("POST", f"{item}/annotations/a/split", "{}") == (
        422, 'split needs an integer "frame"')
    assert call("POST", f"{item}/status", '{"status": "done"}') == (422, "invalid status done")
    code, body = call("POST", f"{item}/status", '{"stage": "dataset"}')  # the stage is "new"
    assert code == 200 and body["status"] == "new"
    assert call("PUT", f"{item}/annotations", "{}") == (405, "method not allowed")
    # Create requests must name what they create.
    assert call("POST", "/_sim/teams", '{"name": "T"}') == (422, "slug is required")
    assert call("POST", "/_sim/teams", '"team"')[0] == 400
    r = api.post("/api/datasets", {"name": ""})
    assert r.status_code == 422 and r.json()["errors"]["message"] == "name is required"
    r = api.post(api.v2("datasets/refusals/exports"), {"format": "darwin_json_2"})
    assert r.status_code == 422 and r.json()["errors"]["message"] == "name is required"
    # An export is deleted by name, once.
    assert api.post(api.v2("datasets/refusals/exports"), {"name": "r1"}).status_code == 200
    r = api.s.delete(sim.url + api.v2("datasets/refusals/exports/r1"))
    assert (r.status_code, r.json()) == (200, {})
    r = api.s.delete(sim.url + api.v2("datasets/refusals/exports/r1"))
    assert (r.status_code, r.json()["errors"]["message"]) == (404, "export not found")
    assert api.get(api.v2("datasets/refusals/exports")).json() == []


def test_reset_and_teams(sim):
    team = sim.control("POST", "/_sim/teams", {"slug": "second", "name": "Second Team"})
    assert re.match(r"^[0-9a-f]{7}\.[0-9a-f]{32}$", team["api_key"])
    r = requests.get(sim.url + "/api/users/token_info",
                     headers={"Authorization": f"ApiKey {team['api_key']}"})
    assert r.json()["selected_team"]["slug"] == "second"
    Api(sim).post("/api/datasets", {"name": "x"})
    assert sim.control("POST", "/_sim/reset") == {"reset": True}
    state = sim.control("GET", "/_sim/state")
    assert [t["slug"] for t in state["teams"]] == [sim.team]
    assert state["teams"][0]["datasets"] == []
    assert requests.get(sim.url + "/api/users/token_info",
                        headers={"Authorization": f"ApiKey {team['api_key']}"}).status_code == 401


def test_compressed_payloads_and_delete_with_body(sim, tmp_path):
    api = Api(sim)
    headers = {"Content-Type": "application/json", "X-Darwin-Payload-Compression-Version": "1"}
    body = zlib.compress(json.dumps({"name": "zipped"}).encode(), 6)
    r = api.s.post(sim.url + "/api/datasets", data=body, headers=headers)
    assert r.status_code == 200 and r.json()["slug"] == "zipped"
    assert api.s.post(sim.url + "/api/datasets", data=b"not zlib",
                      headers=headers).status_code == 400
    item_id = upload(api, "zipped", "gone.png", png_bytes(tmp_path, 3, 3))
    r = api.s.delete(sim.url + api.v2("items"), json={
        "filters": {"dataset_ids": [r.json()["id"]], "item_ids": [item_id]}})
    assert r.json() == {"affected_item_ids": [item_id]}
    assert api.get(api.v2("items") + "?dataset_ids=1").json()["items"] == []


def test_teams_file_seeds_several_teams(tmp_path):
    key = new_api_key()
    seed = tmp_path / "teams.txt"
    seed.write_text(f"# slug key name\nsecond {key} Second Team\n")
    s = Sim(["--teams_file", str(seed), "--latency_ms", "1", "--rate_limit_per_minute", "1000",
             "--processing_delay_ms", "5", "--export_delay_ms", "6"])
    try:
        for team, k in [(s.team, s.api_key), ("second", key)]:
            r = requests.get(s.url + "/api/users/token_info",
                             headers={"Authorization": f"ApiKey {k}"})
            assert r.json()["selected_team"]["slug"] == team
        config = s.control("GET", "/_sim/config")
        assert (config["latency_ms"], config["rate_limit_per_minute"],
                config["processing_delay_ms"], config["export_delay_ms"]) == (1, 1000, 5, 6)
    finally:
        assert s.stop() == 0
