"""Bounded requests through the wire: oversized strings and lists, absurd coordinates and
over-long CreateRun streams are refused with INVALID_ARGUMENT naming the field, the limit and
the value; error messages stay short (never RESOURCE_EXHAUSTED on the client); nothing is
stored."""

from __future__ import annotations

import grpc
import pytest
from labelport.v1 import annotation_service_pb2 as svc

from .helpers import (
    PARENT, assert_error, call_error, class_list, create_run, create_run_requests, detection,
    header, image_sample, image_samples,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT
MIB = 1 << 20


def assert_nothing_stored(stub) -> None:
    assert not stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs


def sample_with_box(box, **detection_fields) -> list:
    d = detection("cat", box, label_id="d" * 24)
    for name, value in detection_fields.items():
        getattr(d, name).extend(value) if isinstance(value, list) else setattr(d, name, value)
    return [image_sample("a", detections=[d])]


def test_forty_megabyte_tag_is_refused_by_the_message_cap(stub):
    err = call_error(create_run, stub, header("k"), sample_with_box([0, 0, 1, 1], tags=["t" * (40 * MIB)]),
                     timeout=60)
    details = assert_error(err, INVALID, err.details(), field="samples", reason="MESSAGE_TOO_LARGE")
    assert details.message.startswith(
        "A CreateRun message may hold at most 16777216 bytes (16 MiB); message 1 holds 419")
    assert_nothing_stored(stub)


def test_megabyte_tag_is_refused_with_a_short_message(stub):
    err = call_error(create_run, stub, header("k"), sample_with_box([0, 0, 1, 1], tags=["t" * MIB]))
    assert_error(
        err,
        INVALID,
        f"Sample 'a' field 'ground_truth': label '{'d' * 24}' has tag '{'t' * 64}\u2026(1048576 "
        "bytes)', longer than 256 bytes",
        field="samples[0].fields[0].value",
        reason="LABEL_TAGS_INVALID",
    )
    assert_nothing_stored(stub)


def test_megabyte_class_name_gives_a_short_invalid_argument(stub):
    hdr = header("k")
    hdr.label_schema.fields[1].classes.entries.add(name="c" * MIB)
    err = call_error(create_run, stub, hdr)
    # A message echoing the whole name would exceed the client's metadata limit and arrive
    # as RESOURCE_EXHAUSTED.
    assert_error(
        err,
        INVALID,
        f"Class name '{'c' * 64}\u2026(1048576 bytes)' is longer than 256 bytes",
        field="header.label_schema.fields[1].classes.entries[2].name",
        reason="CLASS_NAME_INVALID",
    )
    assert_nothing_stored(stub)


@pytest.mark.parametrize(
    "overrides, field, reason",
    [
        ({"parent": "datasets/" + "d" * MIB}, "header.parent", "INVALID_RESOURCE_NAME"),
        ({"anno_key": "k" * MIB}, "header.anno_key", "INVALID_RUN_KEY"),
        ({"backend": "b" * MIB}, "header.backend", "UNSUPPORTED_BACKEND"),
        ({"collection_name": "c" * MIB}, "header.collection_name", "COLLECTION_NAME_INVALID"),
        ({"client_metadata": {"k" * MIB: "v"}}, "header.client_metadata",
         "CLIENT_METADATA_TOO_LARGE"),
    ],
    ids=["parent", "anno_key", "backend", "collection_name", "client_metadata_key"],
)
def test_megabyte_header_strings_give_short_errors(stub, overrides, field, reason):
    overrides = dict(overrides)
    hdr = header(overrides.pop("anno_key", "k"), **overrides)
    err = call_error(create_run, stub, hdr)
    details = assert_error(err, INVALID, err.details(), field=field, reason=reason)
    assert "\u2026(10485" in details.message and len(details.message.encode()) < 300, details
    assert_nothing_stored(stub)


def test_too_many_classes_are_refused(stub):
    hdr = header("k")
    hdr.label_schema.fields[1].classes.CopyFrom(class_list(*[f"c{i}" for i in range(10_001)]))
    err = call_error(create_run, stub, hdr)
    assert_error(
        err,
        INVALID,
        "Field 'new_dets' has 10001 classes; at most 10000 are allowed",
        field="header.label_schema.fields[1].classes",
        reason="TOO_MANY_CLASSES",
    )


def test_box_of_1e308_is_refused(stub):
    err = call_error(create_run, stub, header("k"), sample_with_box([1e308, 0, 0.1, 0.1]))
    assert_error(
        err,
        INVALID,
        f"Sample 'a' field 'ground_truth': detection '{'d' * 24}' has bounding_box [1e+308, 0, "
        "0.1, 0.1]: coordinates are relative to the image ([0, 1] inside it) and must lie "
        "within [-1, 2]",
        field="samples[0].fields[0].value",
        reason="BOUNDING_BOX_OUT_OF_RANGE",
    )
    assert_nothing_stored(stub)


@pytest.mark.parametrize(
    "box, rule, reason",
    [
        ([-0.5, -0.5, 0.25, 0.25], "has bounding_box [-0.5, -0.5, 0.25, 0.25], which lies wholly "
         "outside the image", "BOUNDING_BOX_OUTSIDE_IMAGE"),
        ([0.5, 0.5, -0.25, 0.25], "has a negative width or height", "BOUNDING_BOX_INVALID"),
    ],
    ids=["outside_image", "negative_width"],
)
def test_negative_boxes_are_refused(stub, box, rule, reason):
    err = call_error(create_run, stub, header("k"), sample_with_box(box))
    assert_error(
        err,
        INVALID,
        f"Sample 'a' field 'ground_truth': detection '{'d' * 24}' {rule}",
        field="samples[0].fields[0].value",
        reason=reason,
    )
    assert_nothing_stored(stub)


def test_box_partly_outside_the_image_is_accepted_as_sent(stub):
    created = create_run(stub, header("k"), sample_with_box([-0.25, 0.5, 0.5, 0.75]))
    assert created.created and created.run.progress.labels_total == 1


def test_oversized_batch_is_refused(stub):
    err = call_error(
        stub.CreateRun, create_run_requests(header("k"), image_samples(1001), batch_size=1001),
        timeout=30)
    assert_error(err, INVALID, "A sample batch may hold at most 1000 samples; got 1001",
                 field="samples", reason="BATCH_TOO_LARGE")
    assert_nothing_stored(stub)


def test_stream_with_too_many_samples_is_refused(server_factory):
    stub = server_factory(args=["--max_run_samples", "10"]).stub
    err = call_error(create_run, stub, header("k"), image_samples(12), batch_size=4)
    assert_error(
        err,
        INVALID,
        "A run may hold at most 10 samples (--max_run_samples); this batch brings it to 12",
        field="samples",
        reason="TOO_MANY_SAMPLES",
    )
    assert_nothing_stored(stub)
    assert create_run(stub, header("k"), image_samples(10), batch_size=4).run.progress.samples_total == 10


def test_stream_with_too_many_bytes_is_refused(server_factory):
    stub = server_factory(args=["--max_create_run_mb", "1"]).stub
    samples = [image_sample(f"s{i}", path="/data/" + "p" * 4000) for i in range(300)]
    err = call_error(create_run, stub, header("k"), samples, batch_size=50)
    details = assert_error(err, INVALID, err.details(), field="samples", reason="REQUEST_TOO_LARGE")
    assert details.message.startswith(
        "A CreateRun call may send at most 1048576 bytes (--max_create_run_mb); ")
    assert_nothing_stored(stub)
