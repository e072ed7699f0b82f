from google.api import field_behavior_pb2 as _field_behavior_pb2
from labelport.v1 import labels_pb2 as _labels_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AttributeSpec(_message.Message):
    __slots__ = ("name", "type", "values", "default_value", "mutable", "read_only", "granularity", "required")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    MUTABLE_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    values: _containers.RepeatedCompositeFieldContainer[_labels_pb2.AttributeValue]
    default_value: _labels_pb2.AttributeValue
    mutable: bool
    read_only: bool
    granularity: str
    required: bool
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., values: _Optional[_Iterable[_Union[_labels_pb2.AttributeValue, _Mapping]]] = ..., default_value: _Optional[_Union[_labels_pb2.AttributeValue, _Mapping]] = ..., mutable: bool = ..., read_only: bool = ..., granularity: _Optional[str] = ..., required: bool = ...) -> None: ...

class AttributeSpecs(_message.Message):
    __slots__ = ("specs",)
    SPECS_FIELD_NUMBER: _ClassVar[int]
    specs: _containers.RepeatedCompositeFieldContainer[AttributeSpec]
    def __init__(self, specs: _Optional[_Iterable[_Union[AttributeSpec, _Mapping]]] = ...) -> None: ...

class AttributeNames(_message.Message):
    __slots__ = ("names",)
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class AttributeSelection(_message.Message):
    __slots__ = ("infer", "names", "specs")
    INFER_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    SPECS_FIELD_NUMBER: _ClassVar[int]
    infer: bool
    names: AttributeNames
    specs: AttributeSpecs
    def __init__(self, infer: bool = ..., names: _Optional[_Union[AttributeNames, _Mapping]] = ..., specs: _Optional[_Union[AttributeSpecs, _Mapping]] = ...) -> None: ...

class ClassGroup(_message.Message):
    __slots__ = ("classes", "attributes")
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    classes: ClassNames
    attributes: AttributeSelection
    def __init__(self, classes: _Optional[_Union[ClassNames, _Mapping]] = ..., attributes: _Optional[_Union[AttributeSelection, _Mapping]] = ...) -> None: ...

class ClassNames(_message.Message):
    __slots__ = ("names",)
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class ClassEntry(_message.Message):
    __slots__ = ("name", "group")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    name: str
    group: ClassGroup
    def __init__(self, name: _Optional[str] = ..., group: _Optional[_Union[ClassGroup, _Mapping]] = ...) -> None: ...

class ClassList(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[ClassEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[ClassEntry, _Mapping]]] = ...) -> None: ...

class FieldSchema(_message.Message):
    __slots__ = ("field", "type", "classes", "attributes", "allow_additions", "allow_deletions", "allow_label_edits", "allow_index_edits", "allow_spatial_edits", "existing_field", "only_keyframes", "mask_targets", "skeleton")
    class MaskTargetsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    ALLOW_ADDITIONS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DELETIONS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_LABEL_EDITS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_INDEX_EDITS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_SPATIAL_EDITS_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_FIELD_NUMBER: _ClassVar[int]
    ONLY_KEYFRAMES_FIELD_NUMBER: _ClassVar[int]
    MASK_TARGETS_FIELD_NUMBER: _ClassVar[int]
    SKELETON_FIELD_NUMBER: _ClassVar[int]
    field: str
    type: str
    classes: ClassList
    attributes: AttributeSelection
    allow_additions: bool
    allow_deletions: bool
    allow_label_edits: bool
    allow_index_edits: bool
    allow_spatial_edits: bool
    existing_field: bool
    only_keyframes: bool
    mask_targets: _containers.ScalarMap[int, str]
    skeleton: KeypointSkeleton
    def __init__(self, field: _Optional[str] = ..., type: _Optional[str] = ..., classes: _Optional[_Union[ClassList, _Mapping]] = ..., attributes: _Optional[_Union[AttributeSelection, _Mapping]] = ..., allow_additions: bool = ..., allow_deletions: bool = ..., allow_label_edits: bool = ..., allow_index_edits: bool = ..., allow_spatial_edits: bool = ..., existing_field: bool = ..., only_keyframes: bool = ..., mask_targets: _Optional[_Mapping[int, str]] = ..., skeleton: _Optional[_Union[KeypointSkeleton, _Mapping]] = ...) -> None: ...

class KeypointSkeleton(_message.Message):
    __slots__ = ("labels", "edges")
    LABELS_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedScalarFieldContainer[str]
    edges: _containers.RepeatedCompositeFieldContainer[SkeletonEdge]
    def __init__(self, labels: _Optional[_Iterable[str]] = ..., edges: _Optional[_Iterable[_Union[SkeletonEdge, _Mapping]]] = ...) -> None: ...

class SkeletonEdge(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, nodes: _Optional[_Iterable[int]] = ...) -> None: ...

class LabelSchema(_message.Message):
    __slots__ = ("fields",)
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedCompositeFieldContainer[FieldSchema]
    def __init__(self, fields: _Optional[_Iterable[_Union[FieldSchema, _Mapping]]] = ...) -> None: ...
