"""The labelport.v1 contract as every generator sees it: language options, field behaviors,
resources and an HTTP rule for every RPC.

The .proto files are compiled here (grpc_tools' protoc, googleapis from the
googleapis-common-protos package) and the descriptors inspected.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from google.api import annotations_pb2, field_behavior_pb2, http_pb2, resource_pb2
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

REPO = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO / "proto"
PACKAGE = "labelport.v1"
LANGUAGE_OPTIONS = {
    "java_package": "dev.labelport.v1",
    "java_multiple_files": True,
    "csharp_namespace": "Labelport.V1",
    "php_namespace": "Labelport\\V1",
    "php_metadata_namespace": "Labelport\\V1\\GPBMetadata",
    "ruby_package": "Labelport::V1",
    "objc_class_prefix": "LBP",
    "swift_prefix": "Labelport_V1_",
    "go_package": "github.com/labelport/labelport/client/go/gen/labelport/v1;labelportv1",
}
RUN = "labelport.dev/AnnotationRun"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[descriptor_pb2.FileDescriptorProto]:
    spec = importlib.util.find_spec("google.api")
    googleapis = Path(next(iter(spec.submodule_search_locations))).parents[1]
    wkt = Path(protoc.__file__).parent / "_proto"
    out = tmp_path_factory.mktemp("descriptors") / "set.binpb"
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "labelport/v1").glob("*.proto"))
    rc = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"-I{googleapis}", f"-I{wkt}",
                      f"--descriptor_set_out={out}", *protos])
    assert rc == 0, "protoc failed on proto/labelport/v1"
    parsed = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    assert {f.package for f in parsed} == {PACKAGE}
    return list(parsed)


def messages(files):
    def walk(prefix, message):
        yield f"{prefix}.{message.name}", message
        for nested in message.nested_type:
            if not nested.options.map_entry:
                yield from walk(f"{prefix}.{message.name}", nested)
    for f in files:
        for m in f.message_type:
            yield from walk(f.package, m)


def test_every_file_sets_the_options_of_every_generator(files):
    for f in files:
        for option, want in LANGUAGE_OPTIONS.items():
            assert f.options.HasField(option), f"{f.name}: option {option} missing"
            assert getattr(f.options, option) == want, f"{f.name}: {option}"
        assert f.options.java_outer_classname.endswith("Proto"), f.name


def test_every_field_states_its_behavior(files):
    for name, message in messages(files):
        for field in message.field:
            behaviors = field.options.Extensions[field_behavior_pb2.field_behavior]
            assert behaviors, f"{name}.{field.name} has no google.api.field_behavior"


def test_run_is_a_resource_and_names_reference_it(files):
    by_name = dict(messages(files))
    run = by_name["labelport.v1.AnnotationRun"]
    resource = run.options.Extensions[resource_pb2.resource]
    assert resource.type == RUN
    assert list(resource.pattern) == ["datasets/{dataset}/runs/{run}"]
    name = next(f for f in run.field if f.name == "name")
    assert field_behavior_pb2.IDENTIFIER in name.options.Extensions[field_behavior_pb2.field_behavior]
    for msg_name, message in by_name.items():
        if not (msg_name.endswith("Request") or msg_name.endswith("CreateRunHeader")):
            continue
        for field in message.field:
            ref = field.options.Extensions[resource_pb2.resource_reference]
            if field.name == "name":
                assert ref.type == RUN, f"{msg_name}.name"
            elif field.name == "parent":
                assert ref.child_type == RUN, f"{msg_name}.parent"


def test_every_rpc_has_an_http_rule(files):
    (service_file,) = [f for f in files if f.service]
    routes = set()
    for method in service_file.service[0].method:
        rule = method.options.Extensions[annotations_pb2.http]
        verb = rule.WhichOneof("pattern")
        assert verb, f"{method.name} has no google.api.http rule"
        path = getattr(rule, verb)
        assert path.startswith("/v1/"), path
        assert (verb, path) not in routes, f"{method.name}: route {verb} {path} is taken"
        routes.add((verb, path))
        if method.client_streaming:
            # A client stream is a sequence of JSON bodies: no path or query parameters.
            assert verb == "post" and rule.body == "*" and "{" not in path, method.name
        if verb in ("get", "delete"):
            assert not rule.body, f"{method.name}: {verb} takes no body"
    assert isinstance(rule, http_pb2.HttpRule)


def test_error_reason_values_carry_the_prefix(files):
    (reason_file,) = [f for f in files if f.name == "labelport/v1/error_reason.proto"]
    (enum,) = reason_file.enum_type
    assert enum.name == "ErrorReason"
    assert enum.value[0].name == "ERROR_REASON_UNSPECIFIED" and enum.value[0].number == 0
    assert all(v.name.startswith("ERROR_REASON_") for v in enum.value)
