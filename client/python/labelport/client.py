"""A thin, idiomatic client of labelport's AnnotationService.

    from labelport import Client

    with Client("localhost:50051") as client:
        run = client.create_run("quickstart", "my_run", samples, label_schema={...})
        run = client.wait_until_settled(run.name)
        for response in client.load_annotations(run.name):
            ...

Every method raises `labelport.LabelportError` on failure.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, TypeVar, Union

import grpc

from labelport.errors import LabelportError
from labelport.schema import label_schema_message
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import annotation_service_pb2_grpc as svc_grpc
from labelport.v1 import label_schema_pb2 as schema_pb
from labelport.v1 import sample_pb2 as sample_pb

__all__ = ["Client", "SETTLED_STATES", "run_name", "file_digest"]

DEFAULT_TARGET = "localhost:50051"
MAX_BATCH = 1000
# A CreateRun batch closes at this many bytes of samples (the server takes messages of up
# to 16 MiB); a single sample larger than this goes alone.
MAX_BATCH_BYTES = 4 << 20
CHUNK_BYTES = 1 << 20
SETTLED_STATES = (
    run_pb.RUN_STATE_ANNOTATING,
    run_pb.RUN_STATE_FAILED,
    run_pb.RUN_STATE_CLEANED_UP,
)

_SERVICE = "labelport.v1.AnnotationService"
# Reads are idempotent: retried by gRPC itself on UNAVAILABLE (a restarting or draining server).
_RETRIED_READS = ("GetRun", "ListRuns", "GetRunStatus", "ListRunSamples", "FindMissingMedia")
_SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": [{"service": _SERVICE, "method": m} for m in _RETRIED_READS],
            "retryPolicy": {
                "maxAttempts": 5,
                "initialBackoff": "0.2s",
                "maxBackoff": "5s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ]
}

T = TypeVar("T")


def run_name(dataset: str, anno_key: str) -> str:
    """The resource name "datasets/{dataset}/runs/{anno_key}"."""
    return f"datasets/{dataset}/runs/{anno_key}"


def _parent(dataset: str) -> str:
    return dataset if dataset.startswith("datasets/") else f"datasets/{dataset}"


def file_digest(path: Union[str, os.PathLike]) -> str:
    """"sha256:<hex>" of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"


def _translating(fn: Callable[..., T]) -> Callable[..., T]:
    """Turns grpc.RpcError raised by `fn` into LabelportError."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except grpc.RpcError as e:
            raise LabelportError.from_rpc_error(e) from None

    return wrapper


class Client:
    """A connection to labelport-server.

    Args:
        target: "HOST:PORT" of the server.
        token: a bearer token sent with every call (`authorization: Bearer <token>`);
            default: the LABELPORT_TOKEN environment variable, if set.
        tls: connect with TLS (system roots unless `root_certificates` is given).
        root_certificates: PEM bytes of the CA certificates to trust (implies TLS).
        certificate_chain, private_key: PEM bytes of a client certificate and its key, for
            servers running --auth=mtls (implies TLS).
        timeout: the default deadline in seconds of unary calls (streams of unbounded
            length, WatchRun and LoadAnnotations, have no default deadline).
        options: extra gRPC channel options.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        token: Optional[str] = None,
        tls: bool = False,
        root_certificates: Optional[bytes] = None,
        timeout: float = 60,
        options: Sequence[tuple] = (),
        certificate_chain: Optional[bytes] = None,
        private_key: Optional[bytes] = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        if token is None:
            token = os.environ.get("LABELPORT_TOKEN") or None
        if (certificate_chain is None) != (private_key is None):
            raise ValueError("certificate_chain and private_key go together")
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        channel_options = [
            ("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
            ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", 64 << 20),
            ("grpc.max_send_message_length", 64 << 20),
            *options,
        ]
        if tls or root_certificates is not None or certificate_chain is not None:
            creds = grpc.ssl_channel_credentials(
                root_certificates=root_certificates,
                private_key=private_key,
                certificate_chain=certificate_chain,
            )
            self._channel = grpc.secure_channel(target, creds, options=channel_options)
        else:
            self._channel = grpc.insecure_channel(target, options=channel_options)
        self._stub = svc_grpc.AnnotationServiceStub(self._channel)

    # ---- connection -------------------------------------------------------------------------

    @property
    def stub(self) -> svc_grpc.AnnotationServiceStub:
        """The generated stub, for calls this wrapper does not cover."""
        return self._stub

    def wait_for_ready(self, timeout: float = 15) -> None:
        """Blocks until the channel is connected; LabelportError(UNAVAILABLE) otherwise."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise LabelportError(
                grpc.StatusCode.UNAVAILABLE,
                f"cannot reach labelport-server at {self.target} within {timeout}s",
            ) from None

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _t(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is None else timeout

    @_translating
    def _call(self, rpc: Callable[..., T], request: Any, timeout: Optional[float]) -> T:
        """One unary call of the stub method `rpc` with the client's deadline (unless `timeout`
        is given) and metadata; a failed call raises LabelportError."""
        return rpc(request, timeout=self._t(timeout), metadata=self._metadata)

    def _server_stream(
        self, rpc: Callable[..., Any], request: Any, timeout: Optional[float]
    ) -> Iterator:
        """The messages of the server-streaming call `rpc` (no deadline unless `timeout` is
        given; a failure raises LabelportError). The call is cancelled when the consumer stops
        iterating early."""
        call = rpc(request, timeout=timeout, metadata=self._metadata)
        try:
            yield from call
        except grpc.RpcError as e:
            raise LabelportError.from_rpc_error(e) from None
        finally:
            call.cancel()

    @staticmethod
    def _pages(fetch: Callable[[str], Any], items: Callable[[Any], Iterable[T]]) -> Iterator[T]:
        """The items of every page `fetch(page_token)` returns, from the first page ("") on,
        following next_page_token until a page has none."""
        token = ""
        while True:
            page = fetch(token)
            yield from items(page)
            token = page.next_page_token
            if not token:
                return

    # ---- media ------------------------------------------------------------------------------

    @_translating
    def find_missing_media(
        self, digests: Iterable[str], timeout: Optional[float] = None
    ) -> list:
        """The given digests the server does not hold yet (in request order)."""
        digests = list(digests)
        missing: list = []
        for start in range(0, len(digests), 10_000):
            response = self._stub.FindMissingMedia(
                svc.FindMissingMediaRequest(content_digests=digests[start : start + 10_000]),
                timeout=self._t(timeout),
                metadata=self._metadata,
            )
            missing.extend(response.missing_digests)
        return missing

    @_translating
    def upload_media(
        self,
        data: Union[bytes, Iterable[bytes]],
        digest: str,
        size: int,
        timeout: Optional[float] = None,
    ) -> svc.UploadMediaResponse:
        """Sends bytes (or chunks) stored under `digest` ("sha256:<hex>") of `size` bytes."""

        def requests() -> Iterator[svc.UploadMediaRequest]:
            yield svc.UploadMediaRequest(
                header=svc.UploadMediaHeader(content_digest=digest, size_bytes=size)
            )
            chunks = [data] if isinstance(data, (bytes, bytearray)) else data
            for chunk in chunks:
                for start in range(0, len(chunk), CHUNK_BYTES):
                    yield svc.UploadMediaRequest(chunk=bytes(chunk[start : start + CHUNK_BYTES]))

        return self._stub.UploadMedia(
            requests(), timeout=self._t(timeout), metadata=self._metadata
        )

    def upload_file(self, path: Union[str, os.PathLike], timeout: Optional[float] = None) -> str:
        """Uploads a file content-addressed when the server lacks it; returns its digest."""
        path = Path(path)
        digest = file_digest(path)
        if self.find_missing_media([digest], timeout=timeout):
            size = path.stat().st_size

            def chunks() -> Iterator[bytes]:
                with open(path, "rb") as f:
                    yield from iter(lambda: f.read(CHUNK_BYTES), b"")

            self.upload_media(chunks(), digest, size, timeout=timeout)
        return digest

    def upload_files(
        self,
        paths: Iterable[Union[str, os.PathLike]],
        timeout: Optional[float] = None,
        on_file: Optional[Callable[[str], None]] = None,
    ) -> dict:
        """Uploads the files the server lacks (one FindMissingMedia call); path → digest.

        `on_file(path)` is called once per path when it is done (uploaded, or found present).
        """
        digests = {str(p): file_digest(p) for p in paths}
        missing = set(self.find_missing_media(list(dict.fromkeys(digests.values())),
                                              timeout=timeout))
        for path, digest in digests.items():
            if digest in missing:
                with open(path, "rb") as f:
                    self.upload_media(iter(lambda f=f: f.read(CHUNK_BYTES), b""), digest,
                                      os.path.getsize(path), timeout=timeout)
                missing.discard(digest)
            if on_file is not None:
                on_file(path)
        return digests

    # ---- runs -------------------------------------------------------------------------------

    @_translating
    def create_run(
        self,
        dataset: str,
        anno_key: str,
        samples: Iterable[sample_pb.Sample],
        *,
        label_schema: Union[None, schema_pb.LabelSchema, Mapping[str, Any]] = None,
        label_field: Optional[str] = None,
        label_type: Optional[str] = None,
        classes: Optional[Sequence[Any]] = None,
        attributes: Any = None,
        allow_additions: Optional[bool] = None,
        allow_deletions: Optional[bool] = None,
        allow_label_edits: Optional[bool] = None,
        allow_index_edits: Optional[bool] = None,
        allow_spatial_edits: Optional[bool] = None,
        dataset_slug: Optional[str] = None,
        external_storage: Optional[str] = None,
        existing_fields: Iterable[Union[sample_pb.ExistingField, tuple]] = (),
        collection_name: Optional[str] = None,
        media_field: Optional[str] = None,
        client_metadata: Optional[Mapping[str, str]] = None,
        request_id: Optional[str] = None,
        backend: str = "darwin",
        batch_size: int = MAX_BATCH,
        timeout: Optional[float] = None,
        return_response: bool = False,
    ) -> Union[run_pb.AnnotationRun, svc.CreateRunResponse]:
        """Creates a run from `samples` (streamed in batches of at most 1,000 samples and
        4 MiB).

        `label_schema` is a LabelSchema message or FiftyOne's dict form; `existing_fields`
        are ExistingField messages or (field, document_type[, dataset_classes]) tuples.
        Returns the run (or the whole CreateRunResponse with `return_response=True`).
        `request_id` defaults to a fresh UUID, so a retry with the same id is idempotent.
        """
        from labelport.schema import attribute_selection, class_list

        header = svc.CreateRunHeader(
            parent=_parent(dataset),
            anno_key=anno_key,
            request_id=request_id or str(uuid.uuid4()),
            backend=backend,
            collection_name=collection_name or "",
            media_field=media_field or "",
        )
        if label_schema is not None:
            header.label_schema.CopyFrom(label_schema_message(label_schema))
        if label_field:
            header.label_field = label_field
        if label_type is not None:
            header.label_type = label_type
        if classes is not None:
            header.classes.CopyFrom(class_list(classes))
        if attributes is not None:
            header.attributes.CopyFrom(attribute_selection(attributes))
        for flag, value in (
            ("allow_additions", allow_additions),
            ("allow_deletions", allow_deletions),
            ("allow_label_edits", allow_label_edits),
            ("allow_index_edits", allow_index_edits),
            ("allow_spatial_edits", allow_spatial_edits),
        ):
            if value is not None:
                setattr(header, flag, value)
        if dataset_slug:
            header.darwin.dataset_slug = dataset_slug
        if external_storage:
            header.darwin.external_storage = external_storage
        for existing in existing_fields:
            if isinstance(existing, sample_pb.ExistingField):
                header.existing_fields.append(existing)
            else:
                field, document_type, *rest = existing
                header.existing_fields.add(
                    field=field, document_type=document_type,
                    dataset_classes=list(rest[0]) if rest else [],
                )
        if client_metadata:
            header.client_metadata.update(client_metadata)
        batch_size = max(1, min(batch_size, MAX_BATCH))

        def requests() -> Iterator[svc.CreateRunRequest]:
            yield svc.CreateRunRequest(header=header)
            batch: list = []
            batch_bytes = 0
            for s in samples:
                size = s.ByteSize()
                if batch and batch_bytes + size > MAX_BATCH_BYTES:
                    yield svc.CreateRunRequest(samples=svc.SampleBatch(samples=batch))
                    batch, batch_bytes = [], 0
                batch.append(s)
                batch_bytes += size
                if len(batch) == batch_size:
                    yield svc.CreateRunRequest(samples=svc.SampleBatch(samples=batch))
                    batch, batch_bytes = [], 0
            if batch:
                yield svc.CreateRunRequest(samples=svc.SampleBatch(samples=batch))

        # CreateRun is idempotent on request_id: when the samples can be streamed again (a
        # sequence, not a one-shot iterator), an UNAVAILABLE call is retried with the same id.
        attempts = 3 if isinstance(samples, Sequence) else 1
        for attempt in range(attempts):
            try:
                response = self._stub.CreateRun(
                    requests(), timeout=self._t(timeout), metadata=self._metadata
                )
                break
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAVAILABLE or attempt + 1 == attempts:
                    raise
                time.sleep(0.5 * 2**attempt)
        return response if return_response else response.run

    def get_run(self, name: str, timeout: Optional[float] = None) -> run_pb.AnnotationRun:
        return self._call(self._stub.GetRun, svc.GetRunRequest(name=name), timeout).run

    def list_runs(
        self,
        dataset: str,
        *,
        backend: str = "",
        state: int = run_pb.RUN_STATE_UNSPECIFIED,
        dataset_slug: str = "",
        page_size: int = 100,
        timeout: Optional[float] = None,
    ) -> Iterator[run_pb.AnnotationRun]:
        """Every run of a dataset (sorted by key), following pages lazily."""
        yield from self._pages(
            lambda token: self._call(
                self._stub.ListRuns,
                svc.ListRunsRequest(
                    parent=_parent(dataset), page_size=page_size, page_token=token,
                    backend=backend, state=state, dataset_slug=dataset_slug,
                ),
                timeout,
            ),
            lambda page: page.runs,
        )

    def rename_run(
        self, name: str, new_anno_key: str, timeout: Optional[float] = None
    ) -> run_pb.AnnotationRun:
        return self._call(
            self._stub.RenameRun,
            svc.RenameRunRequest(name=name, new_anno_key=new_anno_key),
            timeout,
        ).run

    def delete_run(self, name: str, timeout: Optional[float] = None) -> None:
        self._call(self._stub.DeleteRun, svc.DeleteRunRequest(name=name), timeout)

    def resume_run(self, name: str, timeout: Optional[float] = None) -> run_pb.AnnotationRun:
        return self._call(self._stub.ResumeRun, svc.ResumeRunRequest(name=name), timeout).run

    def watch_run(
        self, name: str, after_sequence: int = 0, timeout: Optional[float] = None
    ) -> Iterator[svc.WatchRunResponse]:
        """Events of a run until it settles (no deadline unless `timeout` is given)."""
        yield from self._server_stream(
            self._stub.WatchRun,
            svc.WatchRunRequest(name=name, after_sequence=after_sequence),
            timeout,
        )

    def wait_until_settled(
        self,
        name: str,
        timeout: Optional[float] = 600,
        on_event: Optional[Callable[[run_pb.AnnotationRun], None]] = None,
    ) -> run_pb.AnnotationRun:
        """Follows WatchRun until the run is ANNOTATING, FAILED or CLEANED_UP; returns it.

        A dropped stream is resumed from the last sequence seen. Raises
        LabelportError(DEADLINE_EXCEEDED) when the run has not settled within `timeout`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        sequence = 0
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                for event in self.watch_run(name, after_sequence=sequence, timeout=remaining):
                    sequence = max(sequence, event.sequence)
                    if on_event is not None:
                        on_event(event.run)
                    if event.run.state in SETTLED_STATES:
                        return event.run
            except LabelportError as e:
                if e.code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise LabelportError(
                        e.code, f"run {name} did not settle within {timeout}s"
                    ) from None
                if e.code != grpc.StatusCode.UNAVAILABLE:
                    raise
                time.sleep(0.5)
            run = self.get_run(name)
            if run.state in SETTLED_STATES:
                return run
            if deadline is not None and time.monotonic() >= deadline:
                raise LabelportError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"run {name} did not settle within {timeout}s "
                    f"(state {run_pb.RunState.Name(run.state)})",
                )

    def load_annotations(
        self,
        name: str,
        *,
        dest_field: str = "",
        dest_fields: Optional[Mapping[str, str]] = None,
        cleanup: bool = False,
        timeout: Optional[float] = None,
    ) -> Iterator[svc.LoadAnnotationsResponse]:
        """The LoadAnnotations stream: progress, per (sample, field) changes, the summary."""
        yield from self._server_stream(
            self._stub.LoadAnnotations,
            svc.LoadAnnotationsRequest(
                name=name, dest_field=dest_field, dest_fields=dict(dest_fields or {}),
                cleanup=cleanup,
            ),
            timeout,
        )

    def get_run_status(
        self, name: str, timeout: Optional[float] = None
    ) -> svc.GetRunStatusResponse:
        return self._call(self._stub.GetRunStatus, svc.GetRunStatusRequest(name=name), timeout)

    def cleanup_run(self, name: str, timeout: Optional[float] = None) -> svc.CleanupRunResponse:
        return self._call(self._stub.CleanupRun, svc.CleanupRunRequest(name=name), timeout)

    def list_run_samples(
        self, name: str, page_size: int = 1000, timeout: Optional[float] = None
    ) -> Iterator[str]:
        """The run's sample ids in upload order, following pages lazily."""
        yield from self._pages(
            lambda token: self._call(
                self._stub.ListRunSamples,
                svc.ListRunSamplesRequest(name=name, page_size=page_size, page_token=token),
                timeout,
            ),
            lambda page: page.sample_ids,
        )
