"""Validation errors through the wire: status code, FiftyOne's exact message, the
google.rpc.BadRequest field path and the google.rpc.ErrorInfo reason; nothing is stored."""

from __future__ import annotations

import queue

import grpc
import pytest
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import label_schema_pb2 as schema
from labelport.v1 import labels_pb2 as labels
from labelport.v1 import sample_pb2 as sample

from .helpers import (
    PARENT, assert_error, assert_run_not_found, call_error, class_list, create_run, create_run_requests, header,
    image_sample, image_samples, named_cases, run_name,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DARWIN_TYPES = (
    "['classification', 'classifications', 'detection', 'detections', 'instance', 'instances', "
    "'polygon', 'polygons', 'polyline', 'polylines', 'keypoint', 'keypoints', 'segmentation']"
)


def with_new_field(**field) -> svc.CreateRunHeader:
    """The default header whose second field (`new_dets`) is replaced by `field`."""
    hdr = header("k")
    hdr.label_schema.fields[1].CopyFrom(schema.FieldSchema(**field))
    return hdr


def select_spec(**kwargs) -> schema.AttributeSelection:
    return schema.AttributeSelection(
        specs=schema.AttributeSpecs(specs=[schema.AttributeSpec(**kwargs)])
    )


# (id, header, samples, code, message, field, reason)
CREATE_RUN_ERRORS = [
    (
        "key_with_dash",
        header("my-key"),
        None,
        INVALID,
        "Invalid annotation run key 'my-key'. Keys must be valid variable names",
        "header.anno_key",
        "INVALID_RUN_KEY",
    ),
    (
        "key_starting_with_digit",
        header("1run"),
        None,
        INVALID,
        "Invalid annotation run key '1run'. Keys must be valid variable names",
        "header.anno_key",
        "INVALID_RUN_KEY",
    ),
    (
        "empty_dataset",
        header("k"),
        [],
        INVALID,
        "Dataset is empty; there is nothing to annotate",
        "samples",
        "EMPTY_COLLECTION",
    ),
    (
        "empty_view",
        header("k", collection_name="DatasetView"),
        [],
        INVALID,
        "DatasetView is empty; there is nothing to annotate",
        "samples",
        "EMPTY_COLLECTION",
    ),
    (
        "unsupported_backend",
        header("k", backend="labelbox"),
        None,
        INVALID,
        "Unsupported backend 'labelbox'. The available backends are ['darwin']",
        "header.backend",
        "UNSUPPORTED_BACKEND",
    ),
    (
        "no_schema_and_no_label_field",
        svc.CreateRunHeader(parent=PARENT, anno_key="k"),
        None,
        INVALID,
        "Either `label_schema` or `label_field` is required",
        "header.label_schema",
        "LABEL_SCHEMA_REQUIRED",
    ),
    (
        "new_field_without_type",
        with_new_field(field="new_f", classes=class_list("a")),
        None,
        INVALID,
        "You must specify a type for new label field 'new_f'",
        "header.label_schema.fields[1].type",
        "FIELD_TYPE_REQUIRED",
    ),
    (
        "new_field_without_classes",
        with_new_field(field="new_f", type="detections"),
        None,
        INVALID,
        "You must provide a class list for new label field 'new_f'",
        "header.label_schema.fields[1].classes",
        "FIELD_CLASSES_REQUIRED",
    ),
    (
        "unsupported_label_type",
        with_new_field(field="seg", type="cuboids", classes=class_list("a")),
        None,
        INVALID,
        f"Field 'seg' has unsupported label type 'cuboids'. The 'darwin' backend supports "
        f"{DARWIN_TYPES}",
        "header.label_schema.fields[1].type",
        "FIELD_TYPE_UNSUPPORTED",
    ),
    (
        "type_contradicts_existing_field",
        header(
            "k",
            label_schema=schema.LabelSchema(
                fields=[schema.FieldSchema(field="ground_truth", type="classification")]
            ),
        ),
        None,
        INVALID,
        "Manually reported label type 'classification' for existing field 'ground_truth' does "
        "not match its actual type '['detections', 'instances']'",
        "header.label_schema.fields[0].type",
        "FIELD_TYPE_MISMATCH",
    ),
    (
        "class_group_without_attributes",
        with_new_field(
            field="grouped",
            type="detections",
            classes=schema.ClassList(
                entries=[
                    schema.ClassEntry(
                        group=schema.ClassGroup(classes=schema.ClassNames(names=["a", "b"]))
                    )
                ]
            ),
        ),
        None,
        INVALID,
        "Invalid classes dict {'classes': ['a', 'b']}",
        "header.label_schema.fields[1].classes.entries[0]",
        "CLASS_GROUP_INVALID",
    ),
    (
        "attribute_without_type",
        with_new_field(
            field="f", type="detections", classes=class_list("a"), attributes=select_spec(name="x")
        ),
        None,
        INVALID,
        "Attribute definition {'name': 'x'} is missing a `type` key",
        "header.label_schema.fields[1].attributes.specs[0].type",
        "ATTRIBUTE_TYPE_MISSING",
    ),
    (
        "select_attribute_without_values",
        with_new_field(
            field="f",
            type="detections",
            classes=class_list("a"),
            attributes=select_spec(name="color", type="single_select"),
        ),
        None,
        INVALID,
        "Attribute 'color' of type 'single_select' requires a list of values",
        "header.label_schema.fields[1].attributes.specs[0].values",
        "ATTRIBUTE_VALUES_REQUIRED",
    ),
    (
        "attribute_default_not_in_values",
        with_new_field(
            field="f",
            type="detections",
            classes=class_list("a"),
            attributes=select_spec(
                name="color",
                type="multi_select",
                values=[
                    labels.AttributeValue(string_value="red"),
                    labels.AttributeValue(string_value="blue"),
                ],
                default_value=labels.AttributeValue(string_value="green"),
            ),
        ),
        None,
        INVALID,
        "Default value 'green' for attribute 'color' does not appear in the list of values "
        "['red', 'blue']",
        "header.label_schema.fields[1].attributes.specs[0].default_value",
        "ATTRIBUTE_DEFAULT_NOT_IN_VALUES",
    ),
    (
        "duplicate_sample_id_across_batches",
        header("k"),
        [image_sample("a"), image_sample("b"), image_sample("a")],
        INVALID,
        "Sample id 'a' appears more than once in the run",
        "samples[2].id",
        "SAMPLE_ID_DUPLICATE",
    ),
    (
        "relative_media_path",
        header("k"),
        [image_sample("a"), image_sample("b", path="images/b.png")],
        INVALID,
        "Sample 'b': media path must be absolute",
        "samples[1].media.path",
        "MEDIA_PATH_INVALID",
    ),
    (
        "sample_level_field_on_video",
        header("k"),
        [
            sample.Sample(
                id="v1",
                media=sample.MediaReference(path="/data/v1.mp4"),
                media_type=sample.MEDIA_TYPE_VIDEO,
            )
        ],
        INVALID,
        "Invalid label field 'ground_truth'. Spatial labels of type 'detections' being "
        "annotated on a video must be stored in a frame-level field, i.e., one that starts "
        "with 'frames.'",
        "header.label_schema.fields[0]",
        "VIDEO_FIELD_NOT_FRAME_LEVEL",
    ),
    (
        "bad_parent",
        header("k", parent="projects/x"),
        None,
        INVALID,
        "'projects/x' is not a dataset name of the form 'datasets/{dataset}'",
        "header.parent",
        "INVALID_RESOURCE_NAME",
    ),
]


@pytest.mark.parametrize("hdr, samples, code, message, field, reason", named_cases(CREATE_RUN_ERRORS))
def test_create_run_errors(stub, hdr, samples, code, message, field, reason):
    create_run(stub, header("existing"))  # so "nothing stored" is checked against a real list
    err = call_error(create_run, stub, hdr, samples, batch_size=2)
    assert_error(err, code, message, field=field, reason=reason)
    runs = stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs
    assert [r.anno_key for r in runs] == ["existing"]


def test_duplicate_key_is_already_exists_and_leaves_the_run_unchanged(stub):
    original = create_run(stub, header("k")).run
    err = call_error(create_run, stub, header("k"), image_samples(5, prefix="x"))
    assert_error(
        err,
        grpc.StatusCode.ALREADY_EXISTS,
        "Annotation run with key 'k' already exists",
        field="header.anno_key",
        reason="RUN_ALREADY_EXISTS",
    )
    assert stub.GetRun(svc.GetRunRequest(name=run_name("k")), timeout=10).run == original
    ids = stub.ListRunSamples(svc.ListRunSamplesRequest(name=run_name("k")), timeout=10)
    assert list(ids.sample_ids) == ["s000", "s001", "s002"]


def test_schema_error_beats_duplicate_key_error(stub):
    # Checklist item 6: the schema is validated before the key is registered.
    create_run(stub, header("k"))
    bad = with_new_field(field="new_f", type="detections")  # key "k" exists; no classes
    err = call_error(create_run, stub, bad)
    assert_error(
        err,
        INVALID,
        "You must provide a class list for new label field 'new_f'",
        field="header.label_schema.fields[1].classes",
        reason="FIELD_CLASSES_REQUIRED",
    )


def test_schema_error_beats_invalid_key_error(stub):
    bad = with_new_field(field="new_f", classes=class_list("a"))
    bad.anno_key = "not-a-key"
    err = call_error(create_run, stub, bad)
    assert_error(
        err,
        INVALID,
        "You must specify a type for new label field 'new_f'",
        field="header.label_schema.fields[1].type",
        reason="FIELD_TYPE_REQUIRED",
    )


def test_stream_without_header_is_rejected(stub):
    only_samples = create_run_requests(None, image_samples(2))
    err = call_error(stub.CreateRun, only_samples, timeout=10)
    assert_error(
        err,
        INVALID,
        "The first CreateRun message must be the header",
        field="header",
        reason="HEADER_REQUIRED",
    )


def test_empty_stream_is_rejected(stub):
    err = call_error(stub.CreateRun, iter([]), timeout=10)
    assert_error(
        err,
        INVALID,
        "CreateRun ended before its header was sent",
        field="header",
        reason="HEADER_REQUIRED",
    )


def test_header_sent_twice_is_rejected(stub):
    hdr = header("twice")
    requests = [
        svc.CreateRunRequest(header=hdr),
        *create_run_requests(None, image_samples(1)),
        svc.CreateRunRequest(header=hdr),
    ]
    err = call_error(stub.CreateRun, iter(requests), timeout=10)
    assert_error(
        err,
        INVALID,
        "CreateRun takes exactly one header, as the first message",
        field="header",
        reason="HEADER_REPEATED",
    )
    assert not stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs


def test_stream_error_is_returned_before_the_client_finishes(stub):
    # The server answers a bad stream at once; it does not wait for the end of the stream.
    outbox: queue.Queue = queue.Queue()

    def requests():
        while (item := outbox.get()) is not None:
            yield item

    outbox.put(svc.CreateRunRequest(samples=svc.SampleBatch(samples=image_samples(1))))
    future = stub.CreateRun.future(requests(), timeout=10)
    try:
        err = future.exception(timeout=5)
    finally:
        outbox.put(None)
    assert err is not None and err.code() == INVALID
    assert err.details() == "The first CreateRun message must be the header"


@pytest.mark.parametrize(
    "rpc, request_message",
    [
        ("GetRun", svc.GetRunRequest(name=run_name("missing"))),
        ("RenameRun", svc.RenameRunRequest(name=run_name("missing"), new_anno_key="other")),
        ("DeleteRun", svc.DeleteRunRequest(name=run_name("missing"))),
        ("ListRunSamples", svc.ListRunSamplesRequest(name=run_name("missing"))),
    ],
)
def test_unknown_run_is_not_found(stub, rpc, request_message):
    create_run(stub, header("present"))
    assert_run_not_found(call_error(getattr(stub, rpc), request_message, timeout=10), "missing")


def test_malformed_run_name_is_invalid_argument(stub):
    err = call_error(stub.GetRun, svc.GetRunRequest(name="datasets/x/runs"), timeout=10)
    assert_error(
        err,
        INVALID,
        "'datasets/x/runs' is not a run name of the form 'datasets/{dataset}/runs/{anno_key}'",
        field="name",
        reason="INVALID_RESOURCE_NAME",
    )


def test_list_runs_rejects_negative_page_size_and_bad_token(stub):
    err = call_error(stub.ListRuns, svc.ListRunsRequest(parent=PARENT, page_size=-1), timeout=10)
    assert_error(
        err,
        INVALID,
        "page_size must not be negative",
        field="page_size",
        reason="PAGE_SIZE_INVALID",
    )
    err = call_error(
        stub.ListRuns, svc.ListRunsRequest(parent=PARENT, page_token="not a token"), timeout=10
    )
    assert_error(
        err,
        INVALID,
        "page_token is not a token returned by this list call",
        field="page_token",
        reason="INVALID_PAGE_TOKEN",
    )
