"""labelport.Client against a real labelport-server and darwin-sim: the run life cycle,
media upload, paging, errors and streams."""

from __future__ import annotations

import grpc
import pytest
from upload.support import items_by_sample, make_image

from labelport import Client, LabelportError, file_digest
from labelport.samples import (
    field_value,
    field_value_dicts,
    image_sample,
    media_from_file,
    media_from_url,
    new_label_id,
)
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc

DATASET = "client_tests"
W, H = 40, 30


def make_samples(client: Client, tmp_path, n=2, labels=True):
    """n samples; two files named the same in different folders; one box each."""
    samples, box_ids = [], []
    for i in range(n):
        path = make_image(tmp_path / f"dir{i}" / "same.png", W, H, (20 * i, 100, 50))
        box_id = new_label_id()
        box_ids.append(box_id)
        samples.append(image_sample(
            f"{i + 1:024x}", media_from_file(client, path), width=W, height=H,
            fields={"ground_truth": {"detections": [
                {"id": box_id, "label": "car", "bounding_box": [0.1, 0.1, 0.5, 0.5],
                 "confidence": 0.9}]}} if labels else None))
    return samples, box_ids


SCHEMA = {
    "ground_truth": {},
    "scene": {"type": "classification", "classes": ["day", "night"]},
}


def test_run_life_cycle(client, sim, tmp_path):
    samples, box_ids = make_samples(client, tmp_path)
    response = client.create_run(
        DATASET, "cycle", samples, label_schema=SCHEMA,
        existing_fields=[("ground_truth", "Detections")], dataset_slug="client-cycle",
        return_response=True)
    assert response.created
    run = response.run
    assert run.name == f"datasets/{DATASET}/runs/cycle"
    assert run.darwin.dataset_slug == "client-cycle"

    states = []
    settled = client.wait_until_settled(run.name, timeout=60,
                                        on_event=lambda r: states.append(r.state))
    assert settled.state == run_pb.RUN_STATE_ANNOTATING, settled
    assert states[-1] == run_pb.RUN_STATE_ANNOTATING
    assert settled.progress.samples_completed == 2
    assert settled.editor_url

    assert list(client.list_run_samples(run.name, page_size=1)) == [s.id for s in samples]
    status = client.get_run_status(run.name)
    assert status.total_items == 2
    assert sum(c.item_count for c in status.counts) == 2

    # The annotator moves the first box in V7 and adds a new one on the second image.
    items = items_by_sample(sim, "client-cycle")
    first = items[samples[0].id]["id"]
    (ann,) = sim.annotations(first)
    sim.control("PATCH", f"/_sim/items/{first}/annotations/{ann['id']}",
                {"data": {"x": 0, "y": 0, "w": 10, "h": 10}})
    second = items[samples[1].id]["id"]
    sim.control("POST", f"/_sim/items/{second}/annotations",
                {"class_name": "car", "type": "bounding_box",
                 "data": {"x": 20, "y": 10, "w": 8, "h": 8}})

    events = list(client.load_annotations(run.name))
    assert events[-1].WhichOneof("event") == "summary"
    changes = {(e.changes.sample_id, e.changes.field): e.changes
               for e in events if e.WhichOneof("event") == "changes"}
    c1 = changes[(samples[0].id, "ground_truth")]
    assert list(c1.edited_ids) == [box_ids[0]]
    (box,) = field_value_dicts(c1.downloaded)
    assert box["id"] == box_ids[0]
    assert box["bounding_box"] == pytest.approx([0, 0, 0.25, 1 / 3])
    c2 = changes[(samples[1].id, "ground_truth")]
    assert len(c2.added_ids) == 1
    assert {b["id"] for b in field_value_dicts(c2.downloaded)} == {box_ids[1], c2.added_ids[0]}
    gt = next(f for f in events[-1].summary.fields if f.field == "ground_truth")
    assert (gt.added, gt.edited, gt.deleted) == (1, 1, 0)

    cleaned = client.cleanup_run(run.name)
    assert cleaned.run.state == run_pb.RUN_STATE_CLEANED_UP
    client.cleanup_run(run.name)  # a second call is harmless
    assert client.get_run(run.name).state == run_pb.RUN_STATE_CLEANED_UP


def test_upload_file_only_when_missing(client, sim, tmp_path):
    path = make_image(tmp_path / "a.png", W, H)
    digest = file_digest(path)
    assert client.find_missing_media([digest]) == [digest]
    assert client.upload_file(path) == digest
    assert client.find_missing_media([digest]) == []
    assert client.upload_file(path) == digest  # nothing sent again
    again = client.upload_media(path.read_bytes(), digest, path.stat().st_size)
    assert again.already_present


def test_list_rename_delete_and_paging(client, sim, tmp_path):
    samples, _ = make_samples(client, tmp_path, n=1, labels=False)
    for key in ("k1", "k2", "k3"):
        client.create_run(DATASET, key, samples, label_field="labels", label_type="detections",
                          classes=["car"])
    assert [r.anno_key for r in client.list_runs(DATASET, page_size=1)] == ["k1", "k2", "k3"]
    renamed = client.rename_run(f"datasets/{DATASET}/runs/k2", "k9")
    assert renamed.anno_key == "k9"
    # DeleteRun refuses a run that is UPLOADING (RUN_UPLOADING): let its upload settle first.
    client.wait_until_settled(f"datasets/{DATASET}/runs/k1", timeout=60)
    client.delete_run(f"datasets/{DATASET}/runs/k1")
    assert [r.anno_key for r in client.list_runs(DATASET)] == ["k3", "k9"]
    with pytest.raises(LabelportError) as e:
        client.get_run(f"datasets/{DATASET}/runs/k1")
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_request_id_makes_create_idempotent(client, sim, tmp_path):
    samples, _ = make_samples(client, tmp_path, n=1, labels=False)
    kw = dict(label_field="labels", label_type="detections", classes=["car"],
              request_id="req-1", return_response=True)
    first = client.create_run(DATASET, "idem", samples, **kw)
    second = client.create_run(DATASET, "idem", samples, **kw)
    assert first.created and not second.created
    assert first.run.uid == second.run.uid


def test_errors_carry_code_reason_and_field(client, sim, tmp_path):
    samples, _ = make_samples(client, tmp_path, n=1, labels=False)
    with pytest.raises(LabelportError) as e:
        client.create_run(DATASET, "not-an-identifier", samples, label_field="labels",
                          label_type="detections", classes=["car"])
    err = e.value
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert err.message == ("Invalid annotation run key 'not-an-identifier'. Keys must be valid "
                           "variable names")
    assert err.reason == "INVALID_RUN_KEY"
    assert err.domain == "labelport.dev"
    assert err.field == "header.anno_key" or err.field_violations
    with pytest.raises(LabelportError) as e:
        list(client.watch_run(f"datasets/{DATASET}/runs/missing"))
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(LabelportError) as e:
        client.resume_run(f"datasets/{DATASET}/runs/missing")
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_unreachable_server_is_a_labelport_error():
    with Client("127.0.0.1:1", timeout=2) as c:
        with pytest.raises(LabelportError) as e:
            c.get_run("datasets/x/runs/y")
        # Reads are retried on UNAVAILABLE until the deadline.
        assert e.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        with pytest.raises(LabelportError) as e:
            c.wait_for_ready(timeout=0.5)
        assert e.value.code == grpc.StatusCode.UNAVAILABLE


def recording_client() -> tuple[Client, list]:
    """A Client whose CreateRun appends the requests it streams to the list it returns with it
    (and answers with run "x"), instead of sending them to a server."""
    client = Client("127.0.0.1:1")
    seen = []

    class Stub:
        def CreateRun(self, requests, timeout=None, metadata=None):  # noqa: N802 - gRPC name
            seen.extend(requests)
            return svc.CreateRunResponse(run=run_pb.AnnotationRun(name="x"), created=True)

    client._stub = Stub()
    return client, seen


def test_create_run_streams_batches_of_at_most_1000():
    client, seen = recording_client()
    samples = [image_sample(f"{i:024x}", media_from_url(f"http://x/{i}.png"))
               for i in range(2345)]
    run = client.create_run(DATASET, "big", samples, label_field="f", label_type="detections")
    assert run.name == "x"
    header = seen[0].header
    assert header.parent == f"datasets/{DATASET}" and header.request_id
    assert [len(r.samples.samples) for r in seen[1:]] == [1000, 1000, 345]
    client.close()


def test_create_run_closes_batches_at_4_mib():
    client, seen = recording_client()
    # ~1 MiB per sample (a long file name stands in for many labels).
    samples = [image_sample(f"{i:024x}", media_from_url(f"http://x/{i}.png"))
               for i in range(10)]
    for s in samples:
        s.media.file_name = "f" * (1 << 20)
    client.create_run(DATASET, "big", samples, label_field="f", label_type="detections")
    batches = [r.samples for r in seen[1:]]
    assert [len(b.samples) for b in batches] == [3, 3, 3, 1]
    assert all(b.ByteSize() <= 4 << 20 for b in batches)
    client.close()


def test_field_value_from_dicts_round_trips():
    labels = [{"id": "a" * 24, "label": "car", "bounding_box": [0.1, 0.2, 0.3, 0.4],
               "confidence": 0.5, "index": 3, "tags": ["t"],
               "attributes": {"occluded": True, "n": 2, "c": "red", "x": 1.5}}]
    assert field_value_dicts(field_value("detections", labels)) == labels
    poly = [{"id": "b" * 24, "label": "road", "points": [[[0.0, 0.0], [1.0, 1.0]]],
             "closed": True, "filled": False}]
    assert field_value_dicts(field_value("polylines", poly)) == poly


def test_create_run_retries_unavailable_with_the_same_request_id():
    client = Client("127.0.0.1:1")
    calls = []

    class Unavailable(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.UNAVAILABLE

        def details(self):
            return "connection reset"

    class Stub:
        def CreateRun(self, requests, timeout=None, metadata=None):  # noqa: N802 - gRPC name
            calls.append(list(requests))
            if len(calls) == 1:
                raise Unavailable()
            return svc.CreateRunResponse(run=run_pb.AnnotationRun(name="x"), created=True)

    client._stub = Stub()
    samples = [image_sample("a" * 24, media_from_url("http://x/a.png"))]
    client.create_run(DATASET, "k", samples, label_field="f", label_type="detections")
    assert len(calls) == 2
    assert calls[0][0].header.request_id == calls[1][0].header.request_id
    assert calls[0][1] == calls[1][1]
    client.close()


def test_two_runs_sharing_a_v7_dataset_see_only_their_own_items(client, sim, tmp_path):
    samples, _ = make_samples(client, tmp_path, n=2)
    kw = dict(label_schema=SCHEMA, existing_fields=[("ground_truth", "Detections")],
              dataset_slug="shared-slug")
    first = client.create_run(DATASET, "one", samples[:1], **kw)
    second = client.create_run(DATASET, "two", samples[1:], **kw)
    for run in (first, second):
        assert client.wait_until_settled(run.name, timeout=60).state == \
            run_pb.RUN_STATE_ANNOTATING
    assert len(items_by_sample(sim, "shared-slug")) == 2
    assert client.get_run_status(first.name).total_items == 1
    loaded = {e.changes.sample_id for e in client.load_annotations(second.name)
              if e.WhichOneof("event") == "changes"}
    assert loaded == {samples[1].id}
