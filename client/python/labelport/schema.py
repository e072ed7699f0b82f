"""Label schemas: FiftyOne's dict form ⇄ labelport.v1.LabelSchema.

FiftyOne's form:

    {"ground_truth": {"type": "detections", "classes": ["car", {"classes": ["a"],
                       "attributes": {...}}], "attributes": {"occluded": {"type": "checkbox"}},
                       "allow_deletions": False, "existing_field": True}}

`attributes` is True (infer), False (none), a list of names, or name → spec dict
(`type`, `values`, `default`, `mutable`, `read_only`, `granularity`, `required`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence, Union

from labelport.v1 import label_schema_pb2 as schema_pb
from labelport.v1 import labels_pb2 as labels_pb

__all__ = [
    "attribute_value",
    "attribute_python",
    "attribute_selection",
    "class_list",
    "label_schema_message",
    "label_schema_dict",
]

_FLAGS = (
    "allow_additions",
    "allow_deletions",
    "allow_label_edits",
    "allow_index_edits",
    "allow_spatial_edits",
    "existing_field",
    "only_keyframes",
)
_SPEC_OPTIONAL = ("mutable", "read_only", "granularity", "required")


def attribute_value(value: Any) -> labels_pb.AttributeValue:
    """A plain Python value (None, bool, int, float, str, list) as an AttributeValue."""
    if isinstance(value, labels_pb.AttributeValue):
        return value
    if value is None:
        return labels_pb.AttributeValue(null_value=0)
    if isinstance(value, bool):
        return labels_pb.AttributeValue(bool_value=value)
    if isinstance(value, int):
        return labels_pb.AttributeValue(int_value=value)
    if isinstance(value, float):
        return labels_pb.AttributeValue(double_value=value)
    if isinstance(value, (list, tuple)):
        return labels_pb.AttributeValue(
            list_value=labels_pb.AttributeValueList(values=[attribute_value(v) for v in value])
        )
    return labels_pb.AttributeValue(string_value=str(value))


def attribute_python(value: labels_pb.AttributeValue) -> Any:
    """The plain Python value of an AttributeValue."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "list_value":
        return [attribute_python(v) for v in value.list_value.values]
    return getattr(value, kind)


def attribute_selection(attributes: Any) -> schema_pb.AttributeSelection:
    """True/False, a list of names, or name → spec dict, as an AttributeSelection."""
    if isinstance(attributes, schema_pb.AttributeSelection):
        return attributes
    if isinstance(attributes, bool):
        return schema_pb.AttributeSelection(infer=attributes)
    if isinstance(attributes, Mapping):
        specs = []
        for name, spec in attributes.items():
            spec = dict(spec or {})
            message = schema_pb.AttributeSpec(
                name=name,
                type=spec.get("type", ""),
                values=[attribute_value(v) for v in spec.get("values") or []],
            )
            if "default" in spec:
                message.default_value.CopyFrom(attribute_value(spec["default"]))
            for key in _SPEC_OPTIONAL:
                if spec.get(key) is not None:
                    setattr(message, key, spec[key])
            specs.append(message)
        return schema_pb.AttributeSelection(specs=schema_pb.AttributeSpecs(specs=specs))
    return schema_pb.AttributeSelection(names=schema_pb.AttributeNames(names=list(attributes)))


def class_list(classes: Sequence[Any]) -> schema_pb.ClassList:
    """Class names and {"classes": [...], "attributes": ...} groups as a ClassList."""
    if isinstance(classes, schema_pb.ClassList):
        return classes
    entries = []
    for entry in classes:
        if isinstance(entry, Mapping):
            group = schema_pb.ClassGroup(
                classes=schema_pb.ClassNames(names=[str(c) for c in entry.get("classes", [])])
            )
            if "attributes" in entry:
                group.attributes.CopyFrom(attribute_selection(entry["attributes"]))
            entries.append(schema_pb.ClassEntry(group=group))
        else:
            entries.append(schema_pb.ClassEntry(name=str(entry)))
    return schema_pb.ClassList(entries=entries)


def label_schema_message(
    schema: Union[schema_pb.LabelSchema, Mapping[str, Any]],
) -> schema_pb.LabelSchema:
    """FiftyOne's label schema dict (or a LabelSchema, returned as is) as a LabelSchema."""
    if isinstance(schema, schema_pb.LabelSchema):
        return schema
    fields = []
    for name, info in schema.items():
        info = dict(info or {})
        f = schema_pb.FieldSchema(field=name)
        if info.get("type") is not None:
            f.type = info["type"]
        if info.get("classes") is not None:
            f.classes.CopyFrom(class_list(info["classes"]))
        if info.get("attributes") is not None:
            f.attributes.CopyFrom(attribute_selection(info["attributes"]))
        for flag in _FLAGS:
            if info.get(flag) is not None:
                setattr(f, flag, bool(info[flag]))
        for value, target in (info.get("mask_targets") or {}).items():
            f.mask_targets[int(value)] = str(target)
        if info.get("skeleton"):
            skeleton = info["skeleton"]
            f.skeleton.labels.extend(str(x) for x in skeleton.get("labels") or [])
            for edge in skeleton.get("edges") or []:
                f.skeleton.edges.add(nodes=[int(i) for i in edge])
        fields.append(f)
    return schema_pb.LabelSchema(fields=fields)


def _selection_python(selection: schema_pb.AttributeSelection) -> Any:
    kind = selection.WhichOneof("kind")
    if kind == "infer":
        return selection.infer
    if kind == "names":
        return list(selection.names.names)
    if kind == "specs":
        out = {}
        for spec in selection.specs.specs:
            d: dict = {"type": spec.type}
            if spec.values:
                d["values"] = [attribute_python(v) for v in spec.values]
            if spec.HasField("default_value"):
                d["default"] = attribute_python(spec.default_value)
            for key in _SPEC_OPTIONAL:
                if spec.HasField(key):
                    d[key] = getattr(spec, key)
            out[spec.name] = d
        return out
    return None


def label_schema_dict(schema: schema_pb.LabelSchema) -> dict:
    """A LabelSchema in FiftyOne's dict form."""
    out = {}
    for f in schema.fields:
        d: dict = {}
        if f.HasField("type"):
            d["type"] = f.type
        if f.classes.entries:
            classes: list = []
            for entry in f.classes.entries:
                if entry.HasField("group"):
                    group: dict = {"classes": list(entry.group.classes.names)}
                    attrs = _selection_python(entry.group.attributes)
                    if attrs is not None:
                        group["attributes"] = attrs
                    classes.append(group)
                else:
                    classes.append(entry.name)
            d["classes"] = classes
        attrs = _selection_python(f.attributes)
        if attrs is not None:
            d["attributes"] = attrs
        for flag in _FLAGS:
            if f.HasField(flag):
                d[flag] = getattr(f, flag)
        if f.mask_targets:
            d["mask_targets"] = {int(v): t for v, t in sorted(f.mask_targets.items())}
        if f.HasField("skeleton"):
            d["skeleton"] = {"labels": list(f.skeleton.labels),
                             "edges": [list(e.nodes) for e in f.skeleton.edges]}
        out[f.field] = d
    return out
