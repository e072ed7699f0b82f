from google.api import field_behavior_pb2 as _field_behavior_pb2
from labelport.v1 import labels_pb2 as _labels_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MediaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_TYPE_UNSPECIFIED: _ClassVar[MediaType]
    MEDIA_TYPE_IMAGE: _ClassVar[MediaType]
    MEDIA_TYPE_VIDEO: _ClassVar[MediaType]
MEDIA_TYPE_UNSPECIFIED: MediaType
MEDIA_TYPE_IMAGE: MediaType
MEDIA_TYPE_VIDEO: MediaType

class StorageReference(_message.Message):
    __slots__ = ("storage_slug", "storage_key")
    STORAGE_SLUG_FIELD_NUMBER: _ClassVar[int]
    STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    storage_slug: str
    storage_key: str
    def __init__(self, storage_slug: _Optional[str] = ..., storage_key: _Optional[str] = ...) -> None: ...

class MediaReference(_message.Message):
    __slots__ = ("path", "url", "storage", "content_digest", "file_name")
    PATH_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    path: str
    url: str
    storage: StorageReference
    content_digest: str
    file_name: str
    def __init__(self, path: _Optional[str] = ..., url: _Optional[str] = ..., storage: _Optional[_Union[StorageReference, _Mapping]] = ..., content_digest: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class FrameFieldValue(_message.Message):
    __slots__ = ("frame_number", "frame_id", "value")
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FRAME_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    frame_number: int
    frame_id: str
    value: _labels_pb2.FieldValue
    def __init__(self, frame_number: _Optional[int] = ..., frame_id: _Optional[str] = ..., value: _Optional[_Union[_labels_pb2.FieldValue, _Mapping]] = ...) -> None: ...

class SampleField(_message.Message):
    __slots__ = ("field", "value", "frames")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    field: str
    value: _labels_pb2.FieldValue
    frames: _containers.RepeatedCompositeFieldContainer[FrameFieldValue]
    def __init__(self, field: _Optional[str] = ..., value: _Optional[_Union[_labels_pb2.FieldValue, _Mapping]] = ..., frames: _Optional[_Iterable[_Union[FrameFieldValue, _Mapping]]] = ...) -> None: ...

class Sample(_message.Message):
    __slots__ = ("id", "media", "media_type", "width", "height", "frame_count", "frame_rate", "fields")
    ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    media: MediaReference
    media_type: MediaType
    width: int
    height: int
    frame_count: int
    frame_rate: float
    fields: _containers.RepeatedCompositeFieldContainer[SampleField]
    def __init__(self, id: _Optional[str] = ..., media: _Optional[_Union[MediaReference, _Mapping]] = ..., media_type: _Optional[_Union[MediaType, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., frame_count: _Optional[int] = ..., frame_rate: _Optional[float] = ..., fields: _Optional[_Iterable[_Union[SampleField, _Mapping]]] = ...) -> None: ...

class ExistingField(_message.Message):
    __slots__ = ("field", "document_type", "dataset_classes")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATASET_CLASSES_FIELD_NUMBER: _ClassVar[int]
    field: str
    document_type: str
    dataset_classes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, field: _Optional[str] = ..., document_type: _Optional[str] = ..., dataset_classes: _Optional[_Iterable[str]] = ...) -> None: ...
