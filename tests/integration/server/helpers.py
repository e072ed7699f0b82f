"""Small builders and error readers shared by the labelport-server integration tests."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Iterable, Iterator, Optional, Sequence

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from labelport.v1 import (
    annotation_service_pb2 as svc,
)
from labelport.v1 import (
    label_schema_pb2 as schema,
)
from labelport.v1 import (
    labels_pb2 as labels,
)
from labelport.v1 import (
    sample_pb2 as sample,
)

DATASET = "quickstart"
PARENT = f"datasets/{DATASET}"
ERROR_DOMAIN = "labelport.dev"

_ids = itertools.count(1)


def object_id() -> str:
    """A fresh 24-hex id, shaped like a FiftyOne ObjectId."""
    return f"{next(_ids):024x}"


def named_cases(table: Iterable[Sequence]) -> list:
    """The rows (id, *values) of a case table as pytest.param(*values, id=id), for
    @pytest.mark.parametrize."""
    return [pytest.param(*row[1:], id=row[0]) for row in table]


def run_name(anno_key: str, dataset: str = DATASET) -> str:
    return f"datasets/{dataset}/runs/{anno_key}"


def detection(label: str, box: Sequence[float], label_id: Optional[str] = None) -> labels.Detection:
    return labels.Detection(id=label_id or object_id(), label=label, bounding_box=list(box))


def image_sample(
    sample_id: str,
    path: Optional[str] = None,
    detections: Sequence[labels.Detection] = (),
    field: str = "ground_truth",
) -> sample.Sample:
    """An image sample given by path, with `detections` in `field` when any."""
    s = sample.Sample(
        id=sample_id,
        media=sample.MediaReference(path=path or f"/data/images/{sample_id}.png"),
        media_type=sample.MEDIA_TYPE_IMAGE,
        width=64,
        height=48,
    )
    if detections:
        s.fields.add(
            field=field,
            value=labels.FieldValue(detections=labels.Detections(detections=list(detections))),
        )
    return s


def image_samples(count: int, prefix: str = "s", boxes_per_sample: int = 0) -> list:
    """`count` image samples `<prefix>000`, ... with `boxes_per_sample` ground_truth boxes."""
    return [
        image_sample(
            f"{prefix}{i:03d}",
            detections=[detection("cat", [0.1, 0.2, 0.3, 0.4]) for _ in range(boxes_per_sample)],
        )
        for i in range(count)
    ]


def class_list(*names: str) -> schema.ClassList:
    return schema.ClassList(entries=[schema.ClassEntry(name=n) for n in names])


def header(anno_key: str = "run1", dataset: str = DATASET, **overrides) -> svc.CreateRunHeader:
    """A valid header: existing Detections field `ground_truth` plus a new field `new_dets`.

    Keyword arguments are set on the header (message fields are merged, not replaced).
    """
    h = svc.CreateRunHeader(
        parent=f"datasets/{dataset}",
        anno_key=anno_key,
        label_schema=schema.LabelSchema(
            fields=[
                schema.FieldSchema(field="ground_truth"),
                schema.FieldSchema(
                    field="new_dets", type="detections", classes=class_list("car", "person")
                ),
            ]
        ),
        existing_fields=[
            sample.ExistingField(
                field="ground_truth", document_type="Detections", dataset_classes=["dog"]
            )
        ],
    )
    for name, value in overrides.items():
        if isinstance(value, (list, tuple)):
            h.ClearField(name)
            getattr(h, name).extend(value)
        elif isinstance(value, dict):
            getattr(h, name).clear()
            getattr(h, name).update(value)
        elif hasattr(value, "DESCRIPTOR"):
            getattr(h, name).CopyFrom(value)
        else:
            setattr(h, name, value)
    return h


def create_run_requests(
    hdr: Optional[svc.CreateRunHeader], samples: Sequence[sample.Sample], batch_size: int = 2
) -> Iterator[svc.CreateRunRequest]:
    """The request stream of CreateRun: the header (when given), then batches of samples."""
    if hdr is not None:
        yield svc.CreateRunRequest(header=hdr)
    for start in range(0, len(samples), batch_size):
        batch = svc.SampleBatch(samples=list(samples[start : start + batch_size]))
        yield svc.CreateRunRequest(samples=batch)


def create_run(
    stub,
    hdr: Optional[svc.CreateRunHeader] = None,
    samples: Optional[Sequence[sample.Sample]] = None,
    batch_size: int = 2,
    timeout: float = 10,
) -> svc.CreateRunResponse:
    """Runs CreateRun with a default header and three samples unless given."""
    if hdr is None:
        hdr = header()
    if samples is None:
        samples = image_samples(3, boxes_per_sample=1)
    return stub.CreateRun(create_run_requests(hdr, samples, batch_size), timeout=timeout)


def list_all_runs(stub, page_size: int, **filters) -> list:
    """Every run of ListRuns, following page tokens; also checks each page's size."""
    runs = []
    token = ""
    while True:
        page = stub.ListRuns(
            svc.ListRunsRequest(
                parent=filters.pop("parent", PARENT),
                page_size=page_size,
                page_token=token,
                **filters,
            ),
            timeout=10,
        )
        assert len(page.runs) <= page_size
        runs.extend(page.runs)
        token = page.next_page_token
        if not token:
            return runs
        assert len(page.runs) == page_size, "only the last page may be short"


@dataclasses.dataclass
class ErrorDetails:
    """What a failed call carried: code, message and the google.rpc details."""

    code: grpc.StatusCode
    message: str
    field_violations: list  # [(field, description)]
    reasons: list  # [(reason, domain, metadata dict)]

    @property
    def field(self) -> Optional[str]:
        return self.field_violations[0][0] if self.field_violations else None

    @property
    def reason(self) -> Optional[str]:
        return self.reasons[0][0] if self.reasons else None


def error_details(error: grpc.RpcError) -> ErrorDetails:
    """Reads the status and its BadRequest / ErrorInfo details from a failed call."""
    status = rpc_status.from_call(error)
    violations, reasons = [], []
    if status is not None:
        assert status.code == error.code().value[0]
        assert status.message == error.details()
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                violations.extend((v.field, v.description) for v in bad_request.field_violations)
            elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reasons.append((info.reason, info.domain, dict(info.metadata)))
    return ErrorDetails(error.code(), error.details(), violations, reasons)


def assert_error(
    error: grpc.RpcError,
    code: grpc.StatusCode,
    message: str,
    field: Optional[str] = None,
    reason: Optional[str] = None,
) -> ErrorDetails:
    """Asserts the code, the exact message and, when given, the field and reason details."""
    details = error_details(error)
    assert details.code == code, details
    assert details.message == message, details
    if field is not None:
        assert details.field_violations == [(field, message)], details
    if reason is not None:
        assert details.reasons == [(reason, ERROR_DOMAIN, {"field": field} if field else {})], (
            details
        )
    return details


def assert_run_not_found(error: grpc.RpcError, anno_key: str) -> None:
    """Asserts the NOT_FOUND (field "name", reason RUN_NOT_FOUND) of a call naming a run key the
    dataset does not have."""
    assert_error(
        error,
        grpc.StatusCode.NOT_FOUND,
        f"Dataset has no annotation run key '{anno_key}'",
        field="name",
        reason="RUN_NOT_FOUND",
    )


def call_error(fn, *args, **kwargs) -> grpc.RpcError:
    """Calls `fn` and returns the RpcError it raises (fails when it succeeds)."""
    try:
        result = fn(*args, **kwargs)
        if isinstance(result, Iterable) and not hasattr(result, "DESCRIPTOR"):
            for _ in result:
                pass
    except grpc.RpcError as e:
        return e
    raise AssertionError(f"{getattr(fn, '__name__', fn)} succeeded; expected an error")
