"""Content-addressed media upload through the wire: FindMissingMedia, then UploadMedia in
chunks; the bytes land at <data_dir>/media/sha256/<xx>/<hex>, a second upload is acknowledged
as already present, and malformed streams or wrong digests are rejected with nothing stored."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterator, Optional

import grpc
import pytest
from labelport.v1 import annotation_service_pb2 as svc

from .helpers import assert_error, call_error, named_cases
from .waiting import wait_until

INVALID = grpc.StatusCode.INVALID_ARGUMENT
CHUNK = 256 * 1024
MIB = 1024 * 1024
TIMEOUT_S = 30


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def header(digest: str, size: int) -> svc.UploadMediaRequest:
    return svc.UploadMediaRequest(
        header=svc.UploadMediaHeader(content_digest=digest, size_bytes=size)
    )


def file_requests(path: Path, digest: str) -> Iterator[svc.UploadMediaRequest]:
    """The header, then the file in CHUNK-sized pieces, read lazily."""
    yield header(digest, path.stat().st_size)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            yield svc.UploadMediaRequest(chunk=block)


def bytes_requests(data: bytes, digest: Optional[str] = None, size: Optional[int] = None) -> list:
    requests = [header(digest or digest_of(data), len(data) if size is None else size)]
    requests += [
        svc.UploadMediaRequest(chunk=data[i : i + CHUNK]) for i in range(0, len(data), CHUNK)
    ]
    return requests


def stored_path(data_dir: Path, digest: str) -> Path:
    hex_digest = digest.split(":", 1)[1]
    return data_dir / "media" / "sha256" / hex_digest[:2] / hex_digest


def stored_files(data_dir: Path) -> list:
    root = data_dir / "media" / "sha256"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def temp_files(data_dir: Path) -> list:
    root = data_dir / "media" / "tmp"
    return sorted(p for p in root.iterdir() if p.is_file()) if root.exists() else []


def find_missing(stub, *digests: str) -> list:
    response = stub.FindMissingMedia(
        svc.FindMissingMediaRequest(content_digests=list(digests)), timeout=TIMEOUT_S
    )
    return list(response.missing_digests)


def test_upload_round_trip_then_already_present(server, tmp_path):
    stub = server.stub
    media = tmp_path / "video.bin"
    media.write_bytes(os.urandom(3 * 1000 * 1000))
    digest = file_digest(media)
    other = digest_of(b"never uploaded")

    assert find_missing(stub, digest, other) == [digest, other]

    response = stub.UploadMedia(file_requests(media, digest), timeout=TIMEOUT_S)
    assert response.content_digest == digest
    assert response.size_bytes == media.stat().st_size
    assert not response.already_present

    assert find_missing(stub, digest) == []
    assert find_missing(stub, other, digest, other) == [other, other]
    path = stored_path(server.data_dir, digest)
    assert path.read_bytes() == media.read_bytes()
    assert stored_files(server.data_dir) == [path]
    assert temp_files(server.data_dir) == []

    again = stub.UploadMedia(file_requests(media, digest), timeout=TIMEOUT_S)
    assert again.content_digest == digest
    assert again.size_bytes == media.stat().st_size
    assert again.already_present
    assert path.read_bytes() == media.read_bytes()
    assert stored_files(server.data_dir) == [path]


def test_empty_content_uploads(stub):
    digest = digest_of(b"")
    response = stub.UploadMedia(iter([header(digest, 0)]), timeout=TIMEOUT_S)
    assert (response.content_digest, response.size_bytes) == (digest, 0)
    assert find_missing(stub, digest) == []


def test_wrong_digest_is_rejected_and_nothing_is_stored(server):
    stub = server.stub
    data = os.urandom(700 * 1000)
    claimed = digest_of(b"something else")
    actual = digest_of(data)

    err = call_error(stub.UploadMedia, iter(bytes_requests(data, digest=claimed)), timeout=30)
    assert_error(
        err,
        INVALID,
        f"Content digest mismatch: expected {claimed}, the {len(data)} bytes received hash to "
        f"{actual}",
        field="header.content_digest",
        reason="CONTENT_DIGEST_MISMATCH",
    )
    assert find_missing(stub, claimed, actual) == [claimed, actual]
    assert stored_files(server.data_dir) == []
    assert temp_files(server.data_dir) == []


DIGEST = digest_of(b"abc")
BIG = os.urandom(MIB + 1)

# (id, requests, message, field, reason)
STREAM_ERRORS = [
    (
        "chunk_before_header",
        [svc.UploadMediaRequest(chunk=b"abc"), header(DIGEST, 3)],
        "The first UploadMedia message must be the header",
        "header",
        "HEADER_REQUIRED",
    ),
    (
        "no_header",
        [],
        "UploadMedia ended before its header was sent",
        "header",
        "HEADER_REQUIRED",
    ),
    (
        "second_header",
        [header(DIGEST, 3), svc.UploadMediaRequest(chunk=b"ab"), header(DIGEST, 3)],
        "UploadMedia takes exactly one header, as the first message",
        "header",
        "HEADER_REPEATED",
    ),
    (
        "empty_message",
        [header(DIGEST, 3), svc.UploadMediaRequest()],
        "An UploadMedia message must hold a header or a chunk",
        "chunk",
        "MESSAGE_EMPTY",
    ),
    (
        "more_bytes_than_announced",
        [
            header(DIGEST, 3),
            svc.UploadMediaRequest(chunk=b"ab"),
            svc.UploadMediaRequest(chunk=b"cd"),
        ],
        "UploadMedia received more bytes than the announced header.size_bytes 3: 4 so far",
        "header.size_bytes",
        "CONTENT_SIZE_EXCEEDED",
    ),
    (
        "fewer_bytes_than_announced",
        [header(DIGEST, 3), svc.UploadMediaRequest(chunk=b"ab")],
        "UploadMedia ended after 2 of the announced header.size_bytes 3 bytes",
        "header.size_bytes",
        "CONTENT_SIZE_MISMATCH",
    ),
    (
        "chunk_over_1_mib",
        [header(digest_of(BIG), len(BIG)), svc.UploadMediaRequest(chunk=BIG)],
        f"An UploadMedia chunk may hold at most {MIB} bytes (1 MiB); got {MIB + 1}",
        "chunk",
        "CHUNK_TOO_LARGE",
    ),
    (
        "negative_size",
        [header(DIGEST, -1)],
        "Invalid header.size_bytes -1: must be between 0 and 4294967296 (4 GiB)",
        "header.size_bytes",
        "INVALID_CONTENT_SIZE",
    ),
    (
        "size_over_4_gib",
        [header(DIGEST, 4 * 1024 * MIB + 1)],
        "Invalid header.size_bytes 4294967297: must be between 0 and 4294967296 (4 GiB)",
        "header.size_bytes",
        "INVALID_CONTENT_SIZE",
    ),
    (
        "upper_case_digest",
        [header(DIGEST.upper(), 3)],
        f"Invalid header.content_digest '{DIGEST.upper()}': expected \"sha256:\" followed by 64 "
        "lowercase hex digits",
        "header.content_digest",
        "INVALID_CONTENT_DIGEST",
    ),
]


@pytest.mark.parametrize("requests, message, field, reason", named_cases(STREAM_ERRORS))
def test_malformed_upload_streams_are_rejected_and_leave_nothing(
    server, requests, message, field, reason
):
    err = call_error(server.stub.UploadMedia, iter(requests), timeout=TIMEOUT_S)
    assert_error(err, INVALID, message, field=field, reason=reason)
    assert stored_files(server.data_dir) == []
    assert temp_files(server.data_dir) == []


def test_find_missing_rejects_a_malformed_digest_naming_its_index(stub):
    bad = "sha256:" + "0" * 63
    err = call_error(
        stub.FindMissingMedia,
        svc.FindMissingMediaRequest(content_digests=[DIGEST, DIGEST, bad]),
        timeout=TIMEOUT_S,
    )
    assert_error(
        err,
        INVALID,
        f"Invalid content_digests[2] '{bad}': expected \"sha256:\" followed by 64 lowercase "
        "hex digits",
        field="content_digests[2]",
        reason="INVALID_CONTENT_DIGEST",
    )


def test_find_missing_takes_at_most_10000_digests(stub):
    digests = [digest_of(str(i).encode()) for i in range(10_001)]
    err = call_error(
        stub.FindMissingMedia,
        svc.FindMissingMediaRequest(content_digests=digests),
        timeout=TIMEOUT_S,
    )
    assert_error(
        err,
        INVALID,
        "FindMissingMedia takes at most 10000 content digests; got 10001",
        field="content_digests",
        reason="TOO_MANY_DIGESTS",
    )
    assert find_missing(stub, *digests[:10_000]) == digests[:10_000]


def test_abandoned_upload_leaves_no_temporary_file(server):
    data = os.urandom(2 * CHUNK)

    def requests():
        yield header(digest_of(data), len(data))
        yield svc.UploadMediaRequest(chunk=data[:CHUNK])
        raise RuntimeError("client gave up")

    with pytest.raises(grpc.RpcError):
        server.stub.UploadMedia(requests(), timeout=TIMEOUT_S)
    wait_until(lambda: temp_files(server.data_dir) == [], 5,
               "the abandoned upload's temporary file removed",
               details=lambda: temp_files(server.data_dir))
    assert stored_files(server.data_dir) == []
