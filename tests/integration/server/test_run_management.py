"""Run management through the wire: CreateRun, GetRun, ListRuns, RenameRun, DeleteRun,
ListRunSamples and request_id idempotency, against the built labelport-server."""

from __future__ import annotations

import re

import grpc
import pytest
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import label_schema_pb2 as schema

from .helpers import (
    PARENT, assert_error, assert_run_not_found, call_error, class_list, create_run, detection,
    header, image_sample, image_samples, list_all_runs, run_name,
)

SLUG = re.compile(r"voxel51-[0-9a-f]{32}")


def class_names(field: schema.FieldSchema) -> list:
    return [e.name for e in field.classes.entries]


def test_create_run_streams_header_and_batches_and_returns_the_pending_run(stub):
    samples = [
        image_sample("a", detections=[detection("cat", [0.1, 0.1, 0.2, 0.2])]),
        image_sample(
            "b",
            detections=[
                detection("dog", [0.5, 0.5, 0.1, 0.1]),
                detection("cat", [0.0, 0.0, 1.0, 1.0]),
            ],
        ),
        image_sample("c"),
        image_sample("d", detections=[detection("bird", [0.2, 0.3, 0.4, 0.5])]),
        image_sample("e"),
    ]
    response = create_run(stub, header("first_run"), samples, batch_size=2)  # 3 batches

    assert response.created
    run = response.run
    assert run.name == "datasets/quickstart/runs/first_run"
    assert run.dataset == "quickstart"
    assert run.anno_key == "first_run"
    assert run.backend == "darwin"
    assert run.state == run_pb.RUN_STATE_PENDING
    assert run.media_field == "filepath"
    assert SLUG.fullmatch(run.darwin.dataset_slug), run.darwin.dataset_slug
    assert run.progress.samples_total == 5
    assert run.progress.labels_total == 4
    assert run.create_time.seconds > 0 and run.update_time == run.create_time

    gt, new = run.label_schema.fields
    # Existing field: type inferred, classes = observed labels + dataset classes, sorted.
    assert gt.field == "ground_truth"
    assert gt.type == "detections"
    assert gt.existing_field is True
    assert class_names(gt) == ["bird", "cat", "dog"]
    assert gt.attributes.WhichOneof("kind") == "specs"
    assert list(gt.attributes.specs.specs) == []
    assert (gt.allow_additions, gt.allow_deletions) == (True, True)
    assert (gt.allow_label_edits, gt.allow_spatial_edits) == (True, True)
    assert not gt.HasField("allow_index_edits") and not gt.HasField("only_keyframes")
    # New field: as given, no allow_* flags.
    assert new.field == "new_dets"
    assert new.type == "detections"
    assert new.existing_field is False
    assert class_names(new) == ["car", "person"]
    assert new.attributes.WhichOneof("kind") == "specs"
    for flag in ("allow_additions", "allow_deletions", "allow_label_edits",
                 "allow_spatial_edits", "allow_index_edits"):
        assert not new.HasField(flag), flag
    # FiftyOne's warning about a Detections field that may also hold instances.
    assert any("ground_truth" in w and "multiple types" in w for w in response.warnings)


def test_create_run_keeps_given_slug_metadata_and_media_field(stub):
    hdr = header(
        "custom",
        darwin=run_pb.DarwinOptions(dataset_slug="My Team Data"),
        client_metadata={"owner": "qa", "ticket": "LP-1"},
        media_field="filepath_hq",
        request_id="req-custom",
    )
    run = create_run(stub, hdr).run
    assert run.darwin.dataset_slug == "my-team-data"
    assert dict(run.client_metadata) == {"owner": "qa", "ticket": "LP-1"}
    assert run.media_field == "filepath_hq"
    assert run.request_id == "req-custom"


def test_get_run_returns_the_stored_run(stub):
    created = create_run(stub, header("get_me")).run
    got = stub.GetRun(svc.GetRunRequest(name=run_name("get_me")), timeout=10).run
    assert got == created


def test_list_runs_is_sorted_by_key_and_scoped_to_the_dataset(stub):
    for key in ["zeta", "alpha", "Mid", "beta_2", "beta_10"]:
        create_run(stub, header(key))
    create_run(stub, header("alpha", dataset="other_dataset"))

    runs = stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs
    keys = [r.anno_key for r in runs]
    assert keys == ["Mid", "alpha", "beta_10", "beta_2", "zeta"]  # byte order
    assert all(r.dataset == "quickstart" for r in runs)

    other = stub.ListRuns(svc.ListRunsRequest(parent="datasets/other_dataset"), timeout=10)
    assert [r.name for r in other.runs] == ["datasets/other_dataset/runs/alpha"]


def test_list_runs_filters_by_backend_state_and_dataset_slug(stub):
    create_run(stub, header("a_run", darwin=run_pb.DarwinOptions(dataset_slug="shared-slug")))
    create_run(stub, header("b_run"))
    create_run(stub, header("c_run", darwin=run_pb.DarwinOptions(dataset_slug="shared-slug")))

    def keys(**filters):
        request = svc.ListRunsRequest(parent=PARENT, **filters)
        return [r.anno_key for r in stub.ListRuns(request, timeout=10).runs]

    assert keys() == ["a_run", "b_run", "c_run"]
    assert keys(backend="darwin") == ["a_run", "b_run", "c_run"]
    assert keys(backend="labelbox") == []
    assert keys(state=run_pb.RUN_STATE_PENDING) == ["a_run", "b_run", "c_run"]
    assert keys(state=run_pb.RUN_STATE_ANNOTATING) == []
    assert keys(dataset_slug="shared-slug") == ["a_run", "c_run"]
    assert keys(dataset_slug="shared-slug", state=run_pb.RUN_STATE_FAILED) == []
    assert keys(dataset_slug="other-slug") == []


def test_list_runs_pages_with_tokens(stub):
    for i in range(7):
        create_run(stub, header(f"run_{i}"))
    first = stub.ListRuns(svc.ListRunsRequest(parent=PARENT, page_size=3), timeout=10)
    assert [r.anno_key for r in first.runs] == ["run_0", "run_1", "run_2"]
    assert first.next_page_token
    runs = list_all_runs(stub, page_size=3)
    assert [r.anno_key for r in runs] == [f"run_{i}" for i in range(7)]


def test_rename_run_moves_the_run_to_the_new_key(stub):
    created = create_run(stub, header("old_key")).run
    renamed = stub.RenameRun(
        svc.RenameRunRequest(name=run_name("old_key"), new_anno_key="new_key"), timeout=10
    ).run
    assert renamed.name == run_name("new_key")
    assert renamed.anno_key == "new_key"
    assert renamed.label_schema == created.label_schema
    assert renamed.darwin == created.darwin
    assert renamed.create_time == created.create_time

    got = stub.GetRun(svc.GetRunRequest(name=run_name("new_key")), timeout=10).run
    assert got == renamed
    err = call_error(stub.GetRun, svc.GetRunRequest(name=run_name("old_key")), timeout=10)
    assert_run_not_found(err, "old_key")
    # The samples follow the run.
    samples = stub.ListRunSamples(svc.ListRunSamplesRequest(name=run_name("new_key")), timeout=10)
    assert list(samples.sample_ids) == ["s000", "s001", "s002"]


@pytest.mark.parametrize(
    "new_key, code, message, reason",
    [
        pytest.param("b", grpc.StatusCode.ALREADY_EXISTS,
                     "A annotation run with key 'b' already exists", "RUN_ALREADY_EXISTS",
                     id="existing_key"),
        pytest.param("1bad", grpc.StatusCode.INVALID_ARGUMENT,
                     "Invalid annotation run key '1bad'. Keys must be valid variable names",
                     "INVALID_RUN_KEY", id="invalid_key"),
    ],
)
def test_rename_run_refuses_a_taken_or_invalid_new_key(stub, new_key, code, message, reason):
    create_run(stub, header("a"))
    create_run(stub, header("b"))
    err = call_error(
        stub.RenameRun, svc.RenameRunRequest(name=run_name("a"), new_anno_key=new_key), timeout=10
    )
    assert_error(err, code, message, field="new_anno_key", reason=reason)
    # Nothing moved.
    runs = stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs
    assert [r.anno_key for r in runs] == ["a", "b"]


def test_delete_run_removes_it_and_frees_the_key(stub):
    first = create_run(stub, header("doomed")).run
    create_run(stub, header("kept"))
    stub.DeleteRun(svc.DeleteRunRequest(name=run_name("doomed")), timeout=10)

    err = call_error(stub.GetRun, svc.GetRunRequest(name=run_name("doomed")), timeout=10)
    assert_run_not_found(err, "doomed")
    err = call_error(
        stub.ListRunSamples, svc.ListRunSamplesRequest(name=run_name("doomed")), timeout=10
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    runs = stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs
    assert [r.anno_key for r in runs] == ["kept"]
    err = call_error(stub.DeleteRun, svc.DeleteRunRequest(name=run_name("doomed")), timeout=10)
    assert_run_not_found(err, "doomed")

    # The same key can be used again, for a new run with new samples.
    again = create_run(stub, header("doomed"), image_samples(2, prefix="new")).run
    assert again.progress.samples_total == 2
    assert again.darwin.dataset_slug != first.darwin.dataset_slug
    samples = stub.ListRunSamples(svc.ListRunSamplesRequest(name=run_name("doomed")), timeout=10)
    assert list(samples.sample_ids) == ["new000", "new001"]


def test_list_run_samples_returns_upload_order_in_pages(stub):
    # Ids deliberately not sorted: the order is the upload order across batches.
    ids = [f"id_{(i * 37) % 101:03d}" for i in range(25)]
    create_run(stub, header("ordered"), [image_sample(i) for i in ids], batch_size=4)

    whole = stub.ListRunSamples(svc.ListRunSamplesRequest(name=run_name("ordered")), timeout=10)
    assert list(whole.sample_ids) == ids
    assert whole.next_page_token == ""

    seen, token, pages = [], "", 0
    while True:
        page = stub.ListRunSamples(
            svc.ListRunSamplesRequest(name=run_name("ordered"), page_size=10, page_token=token),
            timeout=10,
        )
        pages += 1
        seen.extend(page.sample_ids)
        token = page.next_page_token
        if not token:
            break
        assert len(page.sample_ids) == 10
    assert seen == ids
    assert pages == 3


def test_create_run_is_idempotent_on_request_id(stub):
    hdr = header("idem", request_id="req-42")
    first = create_run(stub, hdr)
    assert first.created

    second = create_run(stub, hdr)
    assert second.created is False
    assert second.run == first.run

    # Only one run exists, and the replay did not duplicate samples.
    runs = stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs
    assert [r.anno_key for r in runs] == ["idem"]
    samples = stub.ListRunSamples(svc.ListRunSamplesRequest(name=run_name("idem")), timeout=10)
    assert list(samples.sample_ids) == ["s000", "s001", "s002"]

    # Without a request id, the same request is a new attempt and clashes on the key.
    hdr.request_id = ""
    err = call_error(create_run, stub, hdr)
    assert_error(
        err,
        grpc.StatusCode.ALREADY_EXISTS,
        "Annotation run with key 'idem' already exists",
        field="header.anno_key",
        reason="RUN_ALREADY_EXISTS",
    )


def test_shorthand_label_field_and_type(stub):
    hdr = svc.CreateRunHeader(
        parent=PARENT,
        anno_key="shorthand",
        label_field="animals",
        label_type="classifications",
        classes=class_list("cat", "dog"),
    )
    run = create_run(stub, hdr, image_samples(2)).run
    (field,) = run.label_schema.fields
    assert (field.field, field.type, field.existing_field) == ("animals", "classifications", False)
    assert class_names(field) == ["cat", "dog"]
