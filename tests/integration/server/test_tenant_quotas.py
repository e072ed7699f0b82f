"""Per-tenant quotas through the wire: runs in flight (--max_runs_in_flight_per_tenant) and
stored media bytes (--max_media_bytes_per_tenant) answer RESOURCE_EXHAUSTED naming the limit,
store nothing, and leave room again once a run settles or is deleted.

The server has no V7 key, so its runs stay PENDING (in flight) for the whole test."""

from __future__ import annotations

import hashlib

import grpc
from labelport.v1 import annotation_service_pb2 as svc

from .helpers import PARENT, call_error, create_run, error_details, header, run_name

EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED


def test_runs_in_flight_are_bounded_per_tenant(server_factory):
    stub = server_factory(args=["--max_runs_in_flight_per_tenant=2"]).stub
    create_run(stub, header("first", request_id="req-first"))
    create_run(stub, header("second"))

    error = call_error(create_run, stub, header("third"))
    details = error_details(error)
    assert details.code == EXHAUSTED, details
    assert "the limit is 2 (--max_runs_in_flight_per_tenant)" in details.message
    assert details.reason == "TENANT_RUNS_IN_FLIGHT_LIMIT"
    names = [r.anno_key for r in stub.ListRuns(svc.ListRunsRequest(parent=PARENT),
                                               timeout=10).runs]
    assert "third" not in names

    # A retry of a request whose run was created is answered with that run.
    again = create_run(stub, header("first", request_id="req-first"))
    assert not again.created

    # Deleting a run in flight makes room.
    stub.DeleteRun(svc.DeleteRunRequest(name=run_name("second")), timeout=10)
    assert create_run(stub, header("third")).created


def upload(stub, data: bytes):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    requests = [
        svc.UploadMediaRequest(header=svc.UploadMediaHeader(content_digest=digest,
                                                            size_bytes=len(data))),
        svc.UploadMediaRequest(chunk=data),
    ]
    return stub.UploadMedia(iter(requests), timeout=10)


def test_stored_media_bytes_are_bounded_per_tenant(server_factory):
    server = server_factory(args=["--max_media_bytes_per_tenant=1000"])
    stub = server.stub
    first = bytes(range(256)) * 2 + b"a" * 88  # 600 bytes
    upload(stub, first)

    error = call_error(upload, stub, b"b" * 600)
    details = error_details(error)
    assert details.code == EXHAUSTED, details
    assert "media quota of 1000 bytes (--max_media_bytes_per_tenant" in details.message
    assert details.reason == "TENANT_MEDIA_QUOTA"
    stored = [p for p in (server.data_dir / "media" / "sha256").rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert not any((server.data_dir / "media" / "tmp").iterdir())

    # Media the tenant holds already cost nothing more; small ones still fit.
    assert upload(stub, first).already_present
    upload(stub, b"c" * 400)
