"""labelport run-management demo.

Creates an annotation run of a few generated images against a running labelport-server
(an existing `ground_truth` Detections field with two boxes, plus a new field described by a
label schema), shows what the server normalised and stored, lists, renames and deletes the
run, and shows how a validation error arrives (status code, FiftyOne's message, and the
google.rpc BadRequest / ErrorInfo details).

    python client/python/examples/run_management_demo.py --target 127.0.0.1:50051

The images are generated with Pillow into a temporary directory; only their paths are sent
(this version of the server records runs but does not upload media to V7 yet).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import annotation_service_pb2_grpc as svc_grpc
from labelport.v1 import label_schema_pb2 as schema_pb
from labelport.v1 import labels_pb2 as labels_pb
from labelport.v1 import sample_pb2 as sample_pb

DATASET = "demo"
PARENT = f"datasets/{DATASET}"
TIMEOUT_S = 10

# (file name, size, colour, ground_truth boxes as (label, [x, y, w, h] relative))
IMAGES = [
    ("street.png", (64, 48), (200, 80, 60), [("car", [0.10, 0.20, 0.30, 0.25])]),
    ("park.png", (64, 48), (60, 160, 90), [("person", [0.55, 0.30, 0.15, 0.50])]),
    ("beach.png", (48, 48), (70, 120, 200), []),
]


def make_images(directory: Path) -> list:
    """Writes small PNGs; returns their absolute paths."""
    from PIL import Image, ImageDraw

    paths = []
    for name, size, colour, boxes in IMAGES:
        image = Image.new("RGB", size, colour)
        draw = ImageDraw.Draw(image)
        for _, (x, y, w, h) in boxes:
            width, height = size
            draw.rectangle(
                [x * width, y * height, (x + w) * width, (y + h) * height], outline="white"
            )
        path = directory / name
        image.save(path)
        paths.append(path.resolve())
    return paths


def build_samples(paths: list) -> list:
    samples = []
    label_ids = iter(f"{n:024x}" for n in range(1, 1000))  # FiftyOne-style ObjectIds
    for i, (path, (_, (width, height), _, boxes)) in enumerate(zip(paths, IMAGES)):
        sample = sample_pb.Sample(
            id=f"{0x6500 + i:024x}",
            media=sample_pb.MediaReference(path=str(path)),
            media_type=sample_pb.MEDIA_TYPE_IMAGE,
            width=width,
            height=height,
        )
        if boxes:
            detections = [
                labels_pb.Detection(id=next(label_ids), label=label, bounding_box=box)
                for label, box in boxes
            ]
            sample.fields.add(
                field="ground_truth",
                value=labels_pb.FieldValue(detections=labels_pb.Detections(detections=detections)),
            )
        samples.append(sample)
    return samples


def build_header(anno_key: str) -> svc.CreateRunHeader:
    """FiftyOne's `label_schema`: the existing field (type and classes inferred by the server)
    and a new `scene` classification field with an attribute."""
    scene_classes = schema_pb.ClassList(
        entries=[schema_pb.ClassEntry(name=n) for n in ("urban", "nature", "coast")]
    )
    lighting = schema_pb.AttributeSpec(
        name="lighting",
        type="single_select",
        values=[labels_pb.AttributeValue(string_value=v) for v in ("day", "night")],
        default_value=labels_pb.AttributeValue(string_value="day"),
    )
    return svc.CreateRunHeader(
        parent=PARENT,
        anno_key=anno_key,
        request_id=str(uuid.uuid4()),
        label_schema=schema_pb.LabelSchema(
            fields=[
                schema_pb.FieldSchema(field="ground_truth", allow_deletions=False),
                schema_pb.FieldSchema(
                    field="scene",
                    type="classification",
                    classes=scene_classes,
                    attributes=schema_pb.AttributeSelection(
                        specs=schema_pb.AttributeSpecs(specs=[lighting])
                    ),
                ),
            ]
        ),
        existing_fields=[
            sample_pb.ExistingField(
                field="ground_truth", document_type="Detections", dataset_classes=["truck"]
            )
        ],
        client_metadata={"example": "run_management_demo"},
    )


def create_run(stub, header, samples, batch_size=2) -> svc.CreateRunResponse:
    """CreateRun is a client stream: the header, then batches of samples."""

    def requests():
        yield svc.CreateRunRequest(header=header)
        for start in range(0, len(samples), batch_size):
            batch = svc.SampleBatch(samples=samples[start : start + batch_size])
            yield svc.CreateRunRequest(samples=batch)

    return stub.CreateRun(requests(), timeout=TIMEOUT_S)


def value_repr(value: labels_pb.AttributeValue) -> str:
    kind = value.WhichOneof("kind")
    return repr(getattr(value, kind)) if kind else "None"


ALLOW_FLAGS = ("additions", "deletions", "label_edits", "spatial_edits", "index_edits")


def describe_schema(schema: schema_pb.LabelSchema) -> list:
    lines = []
    for f in schema.fields:
        kind = "existing" if f.existing_field else "new"
        lines.append(f"  {f.field}: type={f.type}, {kind} field")
        classes = [e.name if e.HasField("name") else "<class group>" for e in f.classes.entries]
        lines.append(f"    classes:    {', '.join(classes) or '-'}")
        for spec in f.attributes.specs.specs:
            values = ", ".join(value_repr(v) for v in spec.values)
            if spec.HasField("default_value"):
                values += f"; default {value_repr(spec.default_value)}"
            lines.append(f"    attribute:  {spec.name} ({spec.type}: {values})")
        # allow_* flags are stored for existing fields only, where they apply.
        flags = [(n, getattr(f, f"allow_{n}")) for n in ALLOW_FLAGS if f.HasField(f"allow_{n}")]
        if flags:
            shown = ", ".join(f"{n}={'yes' if v else 'no'}" for n, v in flags)
            lines.append(f"    allow:      {shown}")
    return lines


def describe_run(run: run_pb.AnnotationRun) -> list:
    return [
        f"  name:         {run.name}",
        f"  state:        {run_pb.RunState.Name(run.state)}",
        f"  backend:      {run.backend}",
        f"  dataset slug: {run.darwin.dataset_slug} (generated by the server)",
        f"  samples:      {run.progress.samples_total}, existing labels: "
        f"{run.progress.labels_total}",
        f"  created:      {run.create_time.ToDatetime().isoformat()}Z",
    ]


def describe_error(error: grpc.RpcError) -> list:
    lines = [f"  code:    {error.code().name}", f"  message: {error.details()}"]
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            for v in bad_request.field_violations:
                lines.append(f"  google.rpc.BadRequest: field {v.field!r}")
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            lines.append(f"  google.rpc.ErrorInfo:  reason {info.reason}, domain {info.domain}")
    return lines


def section(title: str) -> None:
    print(f"\n== {title}")


def run_demo(stub, image_dir: Path) -> None:
    paths = make_images(image_dir)
    samples = build_samples(paths)

    section(f"CreateRun: {len(samples)} images in dataset '{DATASET}', key 'demo_run'")
    response = create_run(stub, build_header("demo_run"), samples)
    run = response.run
    print("\n".join(describe_run(run)))
    print("label schema, as normalised by the server:")
    print("\n".join(describe_schema(run.label_schema)))
    for warning in response.warnings:
        print(f"warning: {warning}")

    ids = stub.ListRunSamples(svc.ListRunSamplesRequest(name=run.name), timeout=TIMEOUT_S)
    print("sample ids (upload order):")
    for sample_id, path in zip(ids.sample_ids, paths):
        print(f"  {sample_id}  {path.name}")

    section("ListRuns")
    create_run(stub, build_header("another_run"), samples[:1])
    for r in stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=TIMEOUT_S).runs:
        print(f"  {r.anno_key:<14} {run_pb.RunState.Name(r.state):<18} {r.darwin.dataset_slug}")

    section("RenameRun: demo_run -> reviewed_run")
    renamed = stub.RenameRun(
        svc.RenameRunRequest(name=run.name, new_anno_key="reviewed_run"), timeout=TIMEOUT_S
    ).run
    print(f"  now {renamed.name}")
    try:
        stub.GetRun(svc.GetRunRequest(name=run.name), timeout=TIMEOUT_S)
    except grpc.RpcError as e:
        print(f"  GetRun of the old name: {e.code().name}: {e.details()}")

    section("A validation error: a run key that is not a valid identifier")
    try:
        create_run(stub, build_header("reviewed-run"), samples)
        raise SystemExit("expected CreateRun with key 'reviewed-run' to fail")
    except grpc.RpcError as e:
        print("\n".join(describe_error(e)))

    section("DeleteRun")
    for key in ("reviewed_run", "another_run"):
        stub.DeleteRun(svc.DeleteRunRequest(name=f"{PARENT}/runs/{key}"), timeout=TIMEOUT_S)
        print(f"  deleted {PARENT}/runs/{key}")
    left = stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=TIMEOUT_S).runs
    print(f"  runs left in dataset '{DATASET}': {len(left)}")
    if left:
        raise SystemExit(f"expected no runs after the deletes, found {len(left)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="labelport-server address HOST:PORT")
    args = parser.parse_args(argv)

    with grpc.insecure_channel(args.target) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=TIMEOUT_S)
        except grpc.FutureTimeoutError:
            print(f"cannot reach labelport-server at {args.target}", file=sys.stderr)
            return 1
        stub = svc_grpc.AnnotationServiceStub(channel)
        with tempfile.TemporaryDirectory(prefix="labelport-demo-") as image_dir:
            try:
                run_demo(stub, Path(image_dir))
            except grpc.RpcError as e:
                print(f"\ndemo failed: {e.code().name}: {e.details()}", file=sys.stderr)
                return 1
    print("\ndemo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
