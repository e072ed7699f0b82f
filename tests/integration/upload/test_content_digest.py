"""Media given by content digest: FindMissingMedia, UploadMedia (content-addressed, idempotent),
then a run whose samples name the digests reaches V7 like local files."""

from __future__ import annotations

import hashlib

from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import sample_pb2 as sample

from .support import (
    create_run, detection, detections, field_schema, header, image_sample, items_by_sample,
    make_image, state_name, wait_run,
)


def upload(stub, data: bytes, chunk: int = 100) -> svc.UploadMediaResponse:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()

    def stream():
        yield svc.UploadMediaRequest(header=svc.UploadMediaHeader(content_digest=digest,
                                                                  size_bytes=len(data)))
        for i in range(0, len(data), chunk):
            yield svc.UploadMediaRequest(chunk=data[i:i + chunk])

    return stub.UploadMedia(stream(), timeout=10)


def test_uploaded_media_by_digest_reach_v7(sim, upload_server, tmp_path):
    server = upload_server(sim)
    blobs = [make_image(tmp_path / f"c{k}.png", color=(k, 2 * k, 3 * k)).read_bytes()
             for k in range(3)]
    digests = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    missing = server.stub.FindMissingMedia(
        svc.FindMissingMediaRequest(content_digests=digests), timeout=10).missing_digests
    assert list(missing) == digests
    for b, d in zip(blobs, digests):
        r = upload(server.stub, b)
        assert (r.content_digest, r.size_bytes, r.already_present) == (d, len(b), False)
    assert upload(server.stub, blobs[0]).already_present  # idempotent
    assert list(server.stub.FindMissingMedia(
        svc.FindMissingMediaRequest(content_digests=digests), timeout=10).missing_digests) == []

    samples = [image_sample(f"c{k}", sample.MediaReference(content_digest=d, file_name="pic.png"),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5])))
               for k, d in enumerate(digests)]
    run = create_run(server.stub, header("digest", [field_schema("gt", "detections", ["car"])],
                                         slug="digest", existing=[("gt", "Detections")]), samples)
    final = wait_run(server.stub, run.name)
    assert state_name(final) == "RUN_STATE_ANNOTATING", (final.failure_reason,
                                                        list(final.sample_errors))
    assert final.progress.samples_completed == 3
    items = items_by_sample(sim, "digest")
    assert sorted(items) == ["c0", "c1", "c2"]
    for k in range(3):
        item = items[f"c{k}"]
        assert item["name"] == "pic.png" and item["status"] == "new"
        assert item["slots"][0]["size_bytes"] == len(blobs[k])
        (anno,) = sim.annotations(item["id"])
        assert anno["data"] == {"x": 8, "y": 6, "w": 16, "h": 12}
