"""labelport's API over HTTP/JSON through labelport-gateway, end to end on 127.0.0.1: media
uploaded first (a client stream sent as newline-delimited JSON), a run created from JSON (header,
then sample batches), watched and its annotations loaded (newline-delimited JSON streams), and
refused requests whose JSON errors carry the server's google.rpc details."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from typing import Iterator, Optional

import pytest
from upload.support import make_image

DATASET = "gw"
PARENT = f"datasets/{DATASET}"
# The client's label id of each sample's one detection.
LABEL_IDS = {"s1": "6581d3c2a1b2c3d4e5f60718", "s2": "6581d3c2a1b2c3d4e5f60719"}


def call(gateway, method: str, path: str, body: Optional[object] = None,
         lines: Optional[list] = None, headers: Optional[dict] = None):
    """(HTTP status, response headers, body bytes). `lines`: a client stream, one JSON object
    per line."""
    data = None
    if lines is not None:
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    elif body is not None:
        data = json.dumps(body).encode()
    req = urllib.request.Request(gateway.url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def ndjson(body: bytes) -> Iterator[dict]:
    for line in body.decode().splitlines():
        if line.strip():
            yield json.loads(line)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = make_image(tmp_path_factory.mktemp("media") / "a.png")
    data = path.read_bytes()
    return {"bytes": data, "digest": "sha256:" + hashlib.sha256(data).hexdigest()}


def header(anno_key: str, request_id: str) -> dict:
    return {"header": {
        "parent": PARENT, "annoKey": anno_key, "requestId": request_id,
        "labelSchema": {"fields": [{"field": "ground_truth", "type": "detections",
                                    "classes": {"entries": [{"name": "car"}]}}]},
        "existingFields": [{"field": "ground_truth", "documentType": "Detections"}]}}


def sample(image, sample_id: str = "s1") -> dict:
    return {"id": sample_id, "mediaType": "MEDIA_TYPE_IMAGE",
            "media": {"contentDigest": image["digest"], "fileName": "a.png"},
            "fields": [{"field": "ground_truth", "value": {"detections": {"detections": [
                {"id": LABEL_IDS[sample_id], "label": "car", "boundingBox": [0.1, 0.2, 0.3, 0.4]}]}}}]}


def test_upload_create_watch_and_load_over_http(gateway, image):
    # Media first: which digests are missing, then the bytes as a stream of JSON messages.
    status, _, body = call(gateway, "POST", "/v1/media:findMissing",
                           {"contentDigests": [image["digest"]]})
    assert status == 200, body
    assert json.loads(body) == {"missingDigests": [image["digest"]]}
    status, _, body = call(gateway, "POST", "/v1/media:upload", lines=[
        {"header": {"contentDigest": image["digest"], "sizeBytes": str(len(image["bytes"]))}},
        {"chunk": base64.b64encode(image["bytes"]).decode()},
    ])
    assert status == 200, body
    assert json.loads(body) == {"contentDigest": image["digest"],
                                "sizeBytes": str(len(image["bytes"]))}
    status, _, body = call(gateway, "POST", "/v1/media:findMissing",
                           {"contentDigests": [image["digest"]]})
    assert json.loads(body) == {}

    # The run: a header, then two sample batches, as newline-delimited JSON.
    status, headers, body = call(gateway, "POST", "/v1/runs:create", lines=[
        header("http_run", "gw-req-1"),
        {"samples": {"samples": [sample(image, "s1")]}},
        {"samples": {"samples": [sample(image, "s2")]}},
    ], headers={"X-Request-Id": "gw-test-create"})
    assert status == 200, body
    created = json.loads(body)
    assert created["created"] is True
    run = created["run"]
    assert run["name"] == f"{PARENT}/runs/http_run"
    assert run["progress"]["samplesTotal"] == "2"
    assert headers["X-Request-Id"] == "gw-test-create"

    # WatchRun: one JSON object per line until the run settles.
    status, _, body = call(gateway, "GET", f"/v1/{run['name']}:watch")
    assert status == 200, body
    events = list(ndjson(body))
    assert events and all("result" in e for e in events), events
    assert events[-1]["result"]["run"]["state"] == "RUN_STATE_ANNOTATING", events[-1]
    sequences = [int(e["result"]["sequence"]) for e in events]
    assert sequences == sorted(sequences)

    status, _, body = call(gateway, "GET", f"/v1/{run['name']}")
    assert json.loads(body)["run"]["progress"]["samplesCompleted"] == "2"
    status, _, body = call(gateway, "GET", f"/v1/{PARENT}/runs?pageSize=10")
    assert [r["annoKey"] for r in json.loads(body)["runs"]] == ["http_run"]
    status, _, body = call(gateway, "GET", f"/v1/{run['name']}/samples")
    assert json.loads(body)["sampleIds"] == ["s1", "s2"]

    # LoadAnnotations: progress, one line per (sample, field), then the summary.
    status, _, body = call(gateway, "POST", f"/v1/{run['name']}:loadAnnotations", {})
    assert status == 200, body
    messages = [m["result"] for m in ndjson(body)]
    assert "progress" in messages[0]
    changes = [m["changes"] for m in messages if "changes" in m]
    assert sorted(c["sampleId"] for c in changes) == ["s1", "s2"]
    for c in changes:
        (det,) = c["downloaded"]["detections"]["detections"]
        assert det["id"] == LABEL_IDS[c["sampleId"]] and det["label"] == "car"
    (summary,) = [m["summary"] for m in messages if "summary" in m]
    assert summary["fields"][0]["field"] == "ground_truth"
    assert "summary" in messages[-1]

    # Replaying the request id returns the same run.
    status, _, body = call(gateway, "POST", "/v1/runs:create", lines=[
        header("http_run", "gw-req-1"), {"samples": {"samples": [sample(image, "s1")]}},
        {"samples": {"samples": [sample(image, "s2")]}}])
    assert status == 200 and json.loads(body).get("created", False) is False, body


def error_of(body: bytes) -> dict:
    """The google.rpc.Status of an error body, details by type."""
    status = json.loads(body)
    details = {d["@type"].rsplit(".", 1)[-1]: d for d in status.get("details", [])}
    return {"code": status["code"], "message": status["message"], **details}


def test_a_refused_create_carries_error_info_and_bad_request(gateway, image):
    status, _, body = call(gateway, "POST", "/v1/runs:create", lines=[
        header("not a key!", "gw-req-bad"), {"samples": {"samples": [sample(image)]}}])
    assert status == 400, body
    err = error_of(body)
    assert err["code"] == 3  # INVALID_ARGUMENT
    assert "not a key!" in err["message"]
    assert err["ErrorInfo"]["reason"] == "INVALID_RUN_KEY"
    assert err["ErrorInfo"]["domain"] == "labelport.dev"
    assert err["BadRequest"]["fieldViolations"][0]["field"] == "header.anno_key"


def test_missing_run_is_404_with_its_reason(gateway):
    status, _, body = call(gateway, "GET", f"/v1/{PARENT}/runs/no_such_run")
    assert status == 404, body
    err = error_of(body)
    assert err["code"] == 5 and err["ErrorInfo"]["reason"] == "RUN_NOT_FOUND"


def test_a_server_stream_that_fails_at_once_is_a_json_error_line(gateway):
    # The HTTP status is the error's; the body is the stream's one line {"error": Status}.
    status, _, body = call(gateway, "GET", f"/v1/{PARENT}/runs/no_such_run:watch")
    assert status == 404, body
    (line,) = list(ndjson(body))
    err = error_of(json.dumps(line["error"]).encode())
    assert err["code"] == 5 and err["ErrorInfo"]["reason"] == "RUN_NOT_FOUND"


def test_unknown_json_fields_are_refused(gateway):
    status, _, body = call(gateway, "POST", "/v1/media:findMissing", {"contentDigestz": []})
    assert status == 400, body
    assert "contentDigestz" in json.loads(body)["message"]


def test_health_and_openapi(gateway):
    status, _, body = call(gateway, "GET", "/readyz")
    assert status == 200 and json.loads(body)["status"] == "SERVING", body
    status, _, body = call(gateway, "GET", "/openapi.json")
    doc = json.loads(body)
    assert doc["swagger"] == "2.0"
    assert "/v1/runs:create" in doc["paths"]
