from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AttributeValue(_message.Message):
    __slots__ = ("null_value", "bool_value", "int_value", "double_value", "string_value", "list_value")
    NULL_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    null_value: _struct_pb2.NullValue
    bool_value: bool
    int_value: int
    double_value: float
    string_value: str
    list_value: AttributeValueList
    def __init__(self, null_value: _Optional[_Union[_struct_pb2.NullValue, str]] = ..., bool_value: bool = ..., int_value: _Optional[int] = ..., double_value: _Optional[float] = ..., string_value: _Optional[str] = ..., list_value: _Optional[_Union[AttributeValueList, _Mapping]] = ...) -> None: ...

class AttributeValueList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[AttributeValue]
    def __init__(self, values: _Optional[_Iterable[_Union[AttributeValue, _Mapping]]] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Shape(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

class Classification(_message.Message):
    __slots__ = ("id", "label", "confidence", "tags", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AttributeValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    label: str
    confidence: float
    tags: _containers.RepeatedScalarFieldContainer[str]
    attributes: _containers.MessageMap[str, AttributeValue]
    def __init__(self, id: _Optional[str] = ..., label: _Optional[str] = ..., confidence: _Optional[float] = ..., tags: _Optional[_Iterable[str]] = ..., attributes: _Optional[_Mapping[str, AttributeValue]] = ...) -> None: ...

class Detection(_message.Message):
    __slots__ = ("id", "label", "bounding_box", "confidence", "index", "tags", "attributes", "keyframe", "has_mask", "instance_mask")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AttributeValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    BOUNDING_BOX_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_FIELD_NUMBER: _ClassVar[int]
    HAS_MASK_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_MASK_FIELD_NUMBER: _ClassVar[int]
    id: str
    label: str
    bounding_box: _containers.RepeatedScalarFieldContainer[float]
    confidence: float
    index: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    attributes: _containers.MessageMap[str, AttributeValue]
    keyframe: bool
    has_mask: bool
    instance_mask: InstanceMask
    def __init__(self, id: _Optional[str] = ..., label: _Optional[str] = ..., bounding_box: _Optional[_Iterable[float]] = ..., confidence: _Optional[float] = ..., index: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., attributes: _Optional[_Mapping[str, AttributeValue]] = ..., keyframe: bool = ..., has_mask: bool = ..., instance_mask: _Optional[_Union[InstanceMask, _Mapping]] = ...) -> None: ...

class InstanceMask(_message.Message):
    __slots__ = ("width", "height", "mask", "boolean")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    mask: bytes
    boolean: bool
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., mask: _Optional[bytes] = ..., boolean: bool = ...) -> None: ...

class Polyline(_message.Message):
    __slots__ = ("id", "label", "points", "closed", "filled", "confidence", "index", "tags", "attributes", "keyframe")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AttributeValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    FILLED_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    label: str
    points: _containers.RepeatedCompositeFieldContainer[Shape]
    closed: bool
    filled: bool
    confidence: float
    index: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    attributes: _containers.MessageMap[str, AttributeValue]
    keyframe: bool
    def __init__(self, id: _Optional[str] = ..., label: _Optional[str] = ..., points: _Optional[_Iterable[_Union[Shape, _Mapping]]] = ..., closed: bool = ..., filled: bool = ..., confidence: _Optional[float] = ..., index: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., attributes: _Optional[_Mapping[str, AttributeValue]] = ..., keyframe: bool = ...) -> None: ...

class Keypoint(_message.Message):
    __slots__ = ("id", "label", "points", "confidence", "index", "tags", "attributes", "keyframe")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AttributeValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    label: str
    points: _containers.RepeatedCompositeFieldContainer[Point]
    confidence: _containers.RepeatedScalarFieldContainer[float]
    index: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    attributes: _containers.MessageMap[str, AttributeValue]
    keyframe: bool
    def __init__(self, id: _Optional[str] = ..., label: _Optional[str] = ..., points: _Optional[_Iterable[_Union[Point, _Mapping]]] = ..., confidence: _Optional[_Iterable[float]] = ..., index: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., attributes: _Optional[_Mapping[str, AttributeValue]] = ..., keyframe: bool = ...) -> None: ...

class Segmentation(_message.Message):
    __slots__ = ("id", "width", "height", "bytes_per_pixel", "mask", "tags", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AttributeValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BYTES_PER_PIXEL_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    width: int
    height: int
    bytes_per_pixel: int
    mask: bytes
    tags: _containers.RepeatedScalarFieldContainer[str]
    attributes: _containers.MessageMap[str, AttributeValue]
    def __init__(self, id: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., bytes_per_pixel: _Optional[int] = ..., mask: _Optional[bytes] = ..., tags: _Optional[_Iterable[str]] = ..., attributes: _Optional[_Mapping[str, AttributeValue]] = ...) -> None: ...

class Classifications(_message.Message):
    __slots__ = ("classifications",)
    CLASSIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    classifications: _containers.RepeatedCompositeFieldContainer[Classification]
    def __init__(self, classifications: _Optional[_Iterable[_Union[Classification, _Mapping]]] = ...) -> None: ...

class Detections(_message.Message):
    __slots__ = ("detections",)
    DETECTIONS_FIELD_NUMBER: _ClassVar[int]
    detections: _containers.RepeatedCompositeFieldContainer[Detection]
    def __init__(self, detections: _Optional[_Iterable[_Union[Detection, _Mapping]]] = ...) -> None: ...

class Polylines(_message.Message):
    __slots__ = ("polylines",)
    POLYLINES_FIELD_NUMBER: _ClassVar[int]
    polylines: _containers.RepeatedCompositeFieldContainer[Polyline]
    def __init__(self, polylines: _Optional[_Iterable[_Union[Polyline, _Mapping]]] = ...) -> None: ...

class Keypoints(_message.Message):
    __slots__ = ("keypoints",)
    KEYPOINTS_FIELD_NUMBER: _ClassVar[int]
    keypoints: _containers.RepeatedCompositeFieldContainer[Keypoint]
    def __init__(self, keypoints: _Optional[_Iterable[_Union[Keypoint, _Mapping]]] = ...) -> None: ...

class FieldValue(_message.Message):
    __slots__ = ("classification", "classifications", "detection", "detections", "polyline", "polylines", "keypoint", "keypoints", "segmentation")
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    DETECTION_FIELD_NUMBER: _ClassVar[int]
    DETECTIONS_FIELD_NUMBER: _ClassVar[int]
    POLYLINE_FIELD_NUMBER: _ClassVar[int]
    POLYLINES_FIELD_NUMBER: _ClassVar[int]
    KEYPOINT_FIELD_NUMBER: _ClassVar[int]
    KEYPOINTS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTATION_FIELD_NUMBER: _ClassVar[int]
    classification: Classification
    classifications: Classifications
    detection: Detection
    detections: Detections
    polyline: Polyline
    polylines: Polylines
    keypoint: Keypoint
    keypoints: Keypoints
    segmentation: Segmentation
    def __init__(self, classification: _Optional[_Union[Classification, _Mapping]] = ..., classifications: _Optional[_Union[Classifications, _Mapping]] = ..., detection: _Optional[_Union[Detection, _Mapping]] = ..., detections: _Optional[_Union[Detections, _Mapping]] = ..., polyline: _Optional[_Union[Polyline, _Mapping]] = ..., polylines: _Optional[_Union[Polylines, _Mapping]] = ..., keypoint: _Optional[_Union[Keypoint, _Mapping]] = ..., keypoints: _Optional[_Union[Keypoints, _Mapping]] = ..., segmentation: _Optional[_Union[Segmentation, _Mapping]] = ...) -> None: ...
