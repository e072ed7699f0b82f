"""Helpers of the authentication tests: tenants files with hashed tokens, call metadata, and a
caller for every RPC of labelport.v1.AnnotationService."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

import grpc
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import annotation_service_pb2_grpc


def new_token() -> str:
    return "lpt_" + secrets.token_urlsafe(24)


def sha256_hex(text: str) -> str:
    """What `printf %s "$TOKEN" | sha256sum` prints (first column)."""
    return hashlib.sha256(text.encode()).hexdigest()


def bearer(token: str) -> tuple:
    return (("authorization", f"Bearer {token}"),)


class TenantsFile:
    """A tenants file being edited by a test. `secrets` collects every token and V7 key written,
    so teardown can check that none reached the server's log."""

    def __init__(self, path: Path):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tenants: Dict[str, dict] = {}
        self.secrets: list = []

    def add(self, name: str, tokens: Sequence[str] = (), identities: Sequence[str] = (),
            api_key: Optional[str] = None, url: Optional[str] = None) -> "TenantsFile":
        """Adds (or replaces) tenant `name`; its V7 key goes to a key file beside the file."""
        entry: dict = {"name": name, "token_sha256": [sha256_hex(t) for t in tokens]}
        if identities:
            entry["client_identities"] = list(identities)
        if api_key is not None:
            key_file = self.path.parent / f"{name}.v7key"
            key_file.write_text(api_key + "\n")
            entry["darwin"] = {"api_key_file": key_file.name}
            self.secrets.append(api_key)
            if url is not None:
                entry["darwin"]["url"] = url
        self.tenants[name] = entry
        self.secrets.extend(tokens)
        return self.write()

    def set_tokens(self, name: str, tokens: Sequence[str]) -> "TenantsFile":
        self.tenants[name]["token_sha256"] = [sha256_hex(t) for t in tokens]
        self.secrets.extend(tokens)
        return self.write()

    def write(self) -> "TenantsFile":
        # Written to a temporary file and renamed, as a Secret update is atomic.
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"tenants": list(self.tenants.values())}, indent=2))
        tmp.replace(self.path)
        return self


def _unary(method: str, request_type) -> Callable:
    def call(stub, name: str, metadata) -> object:
        fields = {"name": name}
        if request_type is svc.RenameRunRequest:
            fields["new_anno_key"] = "taken_over"
        return getattr(stub, method)(request_type(**fields), metadata=metadata, timeout=10)

    return call


def _streaming(method: str, request_type) -> Callable:
    def call(stub, name: str, metadata) -> list:
        return list(getattr(stub, method)(request_type(name=name), metadata=metadata, timeout=10))

    return call


# Every RPC that addresses one run by name, as (stub, run name, metadata) → response.
RUN_RPCS: Dict[str, Callable] = {
    "WatchRun": _streaming("WatchRun", svc.WatchRunRequest),
    "GetRun": _unary("GetRun", svc.GetRunRequest),
    "RenameRun": _unary("RenameRun", svc.RenameRunRequest),
    "DeleteRun": _unary("DeleteRun", svc.DeleteRunRequest),
    "GetRunStatus": _unary("GetRunStatus", svc.GetRunStatusRequest),
    "LoadAnnotations": _streaming("LoadAnnotations", svc.LoadAnnotationsRequest),
    "CleanupRun": _unary("CleanupRun", svc.CleanupRunRequest),
    "ListRunSamples": _unary("ListRunSamples", svc.ListRunSamplesRequest),
    "ResumeRun": _unary("ResumeRun", svc.ResumeRunRequest),
}

# The RPCs that do not address a run (tenancy is checked differently for them).
OTHER_RPCS = ("FindMissingMedia", "UploadMedia", "CreateRun", "ListRuns")


def upload_media_requests(data: bytes) -> list:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return [svc.UploadMediaRequest(header=svc.UploadMediaHeader(content_digest=digest,
                                                                size_bytes=len(data))),
            svc.UploadMediaRequest(chunk=data)]


def every_rpc(stub, metadata) -> Dict[str, Callable[[], object]]:
    """A call of every RPC with `metadata` (requests valid for a server with runs)."""
    name = "datasets/quickstart/runs/any"
    calls = {rpc: (lambda rpc=rpc: RUN_RPCS[rpc](stub, name, metadata)) for rpc in RUN_RPCS}
    calls["FindMissingMedia"] = lambda: stub.FindMissingMedia(
        svc.FindMissingMediaRequest(content_digests=["sha256:" + "0" * 64]), metadata=metadata,
        timeout=10)
    calls["UploadMedia"] = lambda: stub.UploadMedia(iter(upload_media_requests(b"abc")),
                                                    metadata=metadata, timeout=10)
    calls["CreateRun"] = lambda: stub.CreateRun(
        iter([svc.CreateRunRequest(header=svc.CreateRunHeader(parent="datasets/quickstart",
                                                              anno_key="x"))]),
        metadata=metadata, timeout=10)
    calls["ListRuns"] = lambda: stub.ListRuns(
        svc.ListRunsRequest(parent="datasets/quickstart"), metadata=metadata, timeout=10)
    return calls


class _AddMetadata(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                   grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    def __init__(self, metadata: tuple):
        self._metadata = metadata

    def _details(self, details):
        return details._replace(metadata=tuple(details.metadata or ()) + self._metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


def tenant_stub(channel: grpc.Channel, token: str) -> annotation_service_pb2_grpc.AnnotationServiceStub:
    """A stub whose every call carries `authorization: Bearer <token>`."""
    return annotation_service_pb2_grpc.AnnotationServiceStub(
        grpc.intercept_channel(channel, _AddMetadata(bearer(token))))
