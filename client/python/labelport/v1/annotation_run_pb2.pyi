import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from labelport.v1 import label_schema_pb2 as _label_schema_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_PENDING: _ClassVar[RunState]
    RUN_STATE_UPLOADING: _ClassVar[RunState]
    RUN_STATE_ANNOTATING: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]
    RUN_STATE_CLEANED_UP: _ClassVar[RunState]
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_PENDING: RunState
RUN_STATE_UPLOADING: RunState
RUN_STATE_ANNOTATING: RunState
RUN_STATE_FAILED: RunState
RUN_STATE_CLEANED_UP: RunState

class DarwinOptions(_message.Message):
    __slots__ = ("dataset_slug", "external_storage")
    DATASET_SLUG_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_STORAGE_FIELD_NUMBER: _ClassVar[int]
    dataset_slug: str
    external_storage: str
    def __init__(self, dataset_slug: _Optional[str] = ..., external_storage: _Optional[str] = ...) -> None: ...

class RunProgress(_message.Message):
    __slots__ = ("samples_total", "samples_registered", "samples_uploaded", "samples_processed", "samples_completed", "samples_failed", "labels_total", "labels_imported")
    SAMPLES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_UPLOADED_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FAILED_FIELD_NUMBER: _ClassVar[int]
    LABELS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    LABELS_IMPORTED_FIELD_NUMBER: _ClassVar[int]
    samples_total: int
    samples_registered: int
    samples_uploaded: int
    samples_processed: int
    samples_completed: int
    samples_failed: int
    labels_total: int
    labels_imported: int
    def __init__(self, samples_total: _Optional[int] = ..., samples_registered: _Optional[int] = ..., samples_uploaded: _Optional[int] = ..., samples_processed: _Optional[int] = ..., samples_completed: _Optional[int] = ..., samples_failed: _Optional[int] = ..., labels_total: _Optional[int] = ..., labels_imported: _Optional[int] = ...) -> None: ...

class SampleError(_message.Message):
    __slots__ = ("sample_id", "stage", "message")
    SAMPLE_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    sample_id: str
    stage: str
    message: str
    def __init__(self, sample_id: _Optional[str] = ..., stage: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class AnnotationRun(_message.Message):
    __slots__ = ("name", "dataset", "anno_key", "backend", "state", "label_schema", "darwin", "progress", "sample_errors", "failure_reason", "editor_url", "create_time", "update_time", "request_id", "client_metadata", "media_field", "uid", "revision")
    class ClientMetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    ANNO_KEY_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LABEL_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    DARWIN_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_ERRORS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    EDITOR_URL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_METADATA_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    name: str
    dataset: str
    anno_key: str
    backend: str
    state: RunState
    label_schema: _label_schema_pb2.LabelSchema
    darwin: DarwinOptions
    progress: RunProgress
    sample_errors: _containers.RepeatedCompositeFieldContainer[SampleError]
    failure_reason: str
    editor_url: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    request_id: str
    client_metadata: _containers.ScalarMap[str, str]
    media_field: str
    uid: str
    revision: int
    def __init__(self, name: _Optional[str] = ..., dataset: _Optional[str] = ..., anno_key: _Optional[str] = ..., backend: _Optional[str] = ..., state: _Optional[_Union[RunState, str]] = ..., label_schema: _Optional[_Union[_label_schema_pb2.LabelSchema, _Mapping]] = ..., darwin: _Optional[_Union[DarwinOptions, _Mapping]] = ..., progress: _Optional[_Union[RunProgress, _Mapping]] = ..., sample_errors: _Optional[_Iterable[_Union[SampleError, _Mapping]]] = ..., failure_reason: _Optional[str] = ..., editor_url: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ..., client_metadata: _Optional[_Mapping[str, str]] = ..., media_field: _Optional[str] = ..., uid: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...
