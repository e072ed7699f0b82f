from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from labelport.v1 import annotation_run_pb2 as _annotation_run_pb2
from labelport.v1 import label_schema_pb2 as _label_schema_pb2
from labelport.v1 import labels_pb2 as _labels_pb2
from labelport.v1 import sample_pb2 as _sample_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LoadStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAD_STAGE_UNSPECIFIED: _ClassVar[LoadStage]
    LOAD_STAGE_EXPORT_REQUESTED: _ClassVar[LoadStage]
    LOAD_STAGE_EXPORT_READY: _ClassVar[LoadStage]
    LOAD_STAGE_PARSING: _ClassVar[LoadStage]
LOAD_STAGE_UNSPECIFIED: LoadStage
LOAD_STAGE_EXPORT_REQUESTED: LoadStage
LOAD_STAGE_EXPORT_READY: LoadStage
LOAD_STAGE_PARSING: LoadStage

class FindMissingMediaRequest(_message.Message):
    __slots__ = ("content_digests",)
    CONTENT_DIGESTS_FIELD_NUMBER: _ClassVar[int]
    content_digests: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, content_digests: _Optional[_Iterable[str]] = ...) -> None: ...

class FindMissingMediaResponse(_message.Message):
    __slots__ = ("missing_digests",)
    MISSING_DIGESTS_FIELD_NUMBER: _ClassVar[int]
    missing_digests: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, missing_digests: _Optional[_Iterable[str]] = ...) -> None: ...

class UploadMediaHeader(_message.Message):
    __slots__ = ("content_digest", "size_bytes")
    CONTENT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    content_digest: str
    size_bytes: int
    def __init__(self, content_digest: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class UploadMediaRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadMediaHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadMediaHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadMediaResponse(_message.Message):
    __slots__ = ("content_digest", "size_bytes", "already_present")
    CONTENT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ALREADY_PRESENT_FIELD_NUMBER: _ClassVar[int]
    content_digest: str
    size_bytes: int
    already_present: bool
    def __init__(self, content_digest: _Optional[str] = ..., size_bytes: _Optional[int] = ..., already_present: bool = ...) -> None: ...

class CreateRunHeader(_message.Message):
    __slots__ = ("parent", "anno_key", "request_id", "backend", "label_schema", "label_field", "label_type", "classes", "attributes", "allow_additions", "allow_deletions", "allow_label_edits", "allow_index_edits", "allow_spatial_edits", "darwin", "existing_fields", "collection_name", "media_field", "client_metadata")
    class ClientMetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PARENT_FIELD_NUMBER: _ClassVar[int]
    ANNO_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    LABEL_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_FIELD_NUMBER: _ClassVar[int]
    LABEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    ALLOW_ADDITIONS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DELETIONS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_LABEL_EDITS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_INDEX_EDITS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_SPATIAL_EDITS_FIELD_NUMBER: _ClassVar[int]
    DARWIN_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELDS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_FIELD_NUMBER: _ClassVar[int]
    CLIENT_METADATA_FIELD_NUMBER: _ClassVar[int]
    parent: str
    anno_key: str
    request_id: str
    backend: str
    label_schema: _label_schema_pb2.LabelSchema
    label_field: str
    label_type: str
    classes: _label_schema_pb2.ClassList
    attributes: _label_schema_pb2.AttributeSelection
    allow_additions: bool
    allow_deletions: bool
    allow_label_edits: bool
    allow_index_edits: bool
    allow_spatial_edits: bool
    darwin: _annotation_run_pb2.DarwinOptions
    existing_fields: _containers.RepeatedCompositeFieldContainer[_sample_pb2.ExistingField]
    collection_name: str
    media_field: str
    client_metadata: _containers.ScalarMap[str, str]
    def __init__(self, parent: _Optional[str] = ..., anno_key: _Optional[str] = ..., request_id: _Optional[str] = ..., backend: _Optional[str] = ..., label_schema: _Optional[_Union[_label_schema_pb2.LabelSchema, _Mapping]] = ..., label_field: _Optional[str] = ..., label_type: _Optional[str] = ..., classes: _Optional[_Union[_label_schema_pb2.ClassList, _Mapping]] = ..., attributes: _Optional[_Union[_label_schema_pb2.AttributeSelection, _Mapping]] = ..., allow_additions: bool = ..., allow_deletions: bool = ..., allow_label_edits: bool = ..., allow_index_edits: bool = ..., allow_spatial_edits: bool = ..., darwin: _Optional[_Union[_annotation_run_pb2.DarwinOptions, _Mapping]] = ..., existing_fields: _Optional[_Iterable[_Union[_sample_pb2.ExistingField, _Mapping]]] = ..., collection_name: _Optional[str] = ..., media_field: _Optional[str] = ..., client_metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SampleBatch(_message.Message):
    __slots__ = ("samples",)
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    samples: _containers.RepeatedCompositeFieldContainer[_sample_pb2.Sample]
    def __init__(self, samples: _Optional[_Iterable[_Union[_sample_pb2.Sample, _Mapping]]] = ...) -> None: ...

class CreateRunRequest(_message.Message):
    __slots__ = ("header", "samples")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    header: CreateRunHeader
    samples: SampleBatch
    def __init__(self, header: _Optional[_Union[CreateRunHeader, _Mapping]] = ..., samples: _Optional[_Union[SampleBatch, _Mapping]] = ...) -> None: ...

class CreateRunResponse(_message.Message):
    __slots__ = ("run", "created", "warnings")
    RUN_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    run: _annotation_run_pb2.AnnotationRun
    created: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run: _Optional[_Union[_annotation_run_pb2.AnnotationRun, _Mapping]] = ..., created: bool = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchRunRequest(_message.Message):
    __slots__ = ("name", "after_sequence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    after_sequence: int
    def __init__(self, name: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class WatchRunResponse(_message.Message):
    __slots__ = ("sequence", "run")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    run: _annotation_run_pb2.AnnotationRun
    def __init__(self, sequence: _Optional[int] = ..., run: _Optional[_Union[_annotation_run_pb2.AnnotationRun, _Mapping]] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _annotation_run_pb2.AnnotationRun
    def __init__(self, run: _Optional[_Union[_annotation_run_pb2.AnnotationRun, _Mapping]] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "backend", "state", "dataset_slug")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DATASET_SLUG_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    backend: str
    state: _annotation_run_pb2.RunState
    dataset_slug: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., backend: _Optional[str] = ..., state: _Optional[_Union[_annotation_run_pb2.RunState, str]] = ..., dataset_slug: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_annotation_run_pb2.AnnotationRun]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[_annotation_run_pb2.AnnotationRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RenameRunRequest(_message.Message):
    __slots__ = ("name", "new_anno_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEW_ANNO_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    new_anno_key: str
    def __init__(self, name: _Optional[str] = ..., new_anno_key: _Optional[str] = ...) -> None: ...

class RenameRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _annotation_run_pb2.AnnotationRun
    def __init__(self, run: _Optional[_Union[_annotation_run_pb2.AnnotationRun, _Mapping]] = ...) -> None: ...

class DeleteRunRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteRunResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRunStatusRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class StatusCount(_message.Message):
    __slots__ = ("status", "item_count")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    status: str
    item_count: int
    def __init__(self, status: _Optional[str] = ..., item_count: _Optional[int] = ...) -> None: ...

class GetRunStatusResponse(_message.Message):
    __slots__ = ("counts", "total_items")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITEMS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedCompositeFieldContainer[StatusCount]
    total_items: int
    def __init__(self, counts: _Optional[_Iterable[_Union[StatusCount, _Mapping]]] = ..., total_items: _Optional[int] = ...) -> None: ...

class LoadAnnotationsRequest(_message.Message):
    __slots__ = ("name", "dest_field", "dest_fields", "cleanup")
    class DestFieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEST_FIELD_FIELD_NUMBER: _ClassVar[int]
    DEST_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CLEANUP_FIELD_NUMBER: _ClassVar[int]
    name: str
    dest_field: str
    dest_fields: _containers.ScalarMap[str, str]
    cleanup: bool
    def __init__(self, name: _Optional[str] = ..., dest_field: _Optional[str] = ..., dest_fields: _Optional[_Mapping[str, str]] = ..., cleanup: bool = ...) -> None: ...

class LoadProgress(_message.Message):
    __slots__ = ("stage", "items_parsed", "items_total")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_PARSED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    stage: LoadStage
    items_parsed: int
    items_total: int
    def __init__(self, stage: _Optional[_Union[LoadStage, str]] = ..., items_parsed: _Optional[int] = ..., items_total: _Optional[int] = ...) -> None: ...

class UnexpectedLabels(_message.Message):
    __slots__ = ("return_type", "labels")
    RETURN_TYPE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    return_type: str
    labels: _labels_pb2.FieldValue
    def __init__(self, return_type: _Optional[str] = ..., labels: _Optional[_Union[_labels_pb2.FieldValue, _Mapping]] = ...) -> None: ...

class SampleFieldChanges(_message.Message):
    __slots__ = ("sample_id", "field", "dest_field", "frame_number", "frame_id", "return_type", "downloaded", "merged", "added_ids", "edited_ids", "deleted_ids", "unexpected")
    SAMPLE_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DEST_FIELD_FIELD_NUMBER: _ClassVar[int]
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FRAME_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_TYPE_FIELD_NUMBER: _ClassVar[int]
    DOWNLOADED_FIELD_NUMBER: _ClassVar[int]
    MERGED_FIELD_NUMBER: _ClassVar[int]
    ADDED_IDS_FIELD_NUMBER: _ClassVar[int]
    EDITED_IDS_FIELD_NUMBER: _ClassVar[int]
    DELETED_IDS_FIELD_NUMBER: _ClassVar[int]
    UNEXPECTED_FIELD_NUMBER: _ClassVar[int]
    sample_id: str
    field: str
    dest_field: str
    frame_number: int
    frame_id: str
    return_type: str
    downloaded: _labels_pb2.FieldValue
    merged: _labels_pb2.FieldValue
    added_ids: _containers.RepeatedScalarFieldContainer[str]
    edited_ids: _containers.RepeatedScalarFieldContainer[str]
    deleted_ids: _containers.RepeatedScalarFieldContainer[str]
    unexpected: _containers.RepeatedCompositeFieldContainer[UnexpectedLabels]
    def __init__(self, sample_id: _Optional[str] = ..., field: _Optional[str] = ..., dest_field: _Optional[str] = ..., frame_number: _Optional[int] = ..., frame_id: _Optional[str] = ..., return_type: _Optional[str] = ..., downloaded: _Optional[_Union[_labels_pb2.FieldValue, _Mapping]] = ..., merged: _Optional[_Union[_labels_pb2.FieldValue, _Mapping]] = ..., added_ids: _Optional[_Iterable[str]] = ..., edited_ids: _Optional[_Iterable[str]] = ..., deleted_ids: _Optional[_Iterable[str]] = ..., unexpected: _Optional[_Iterable[_Union[UnexpectedLabels, _Mapping]]] = ...) -> None: ...

class FieldLoadSummary(_message.Message):
    __slots__ = ("field", "added", "edited", "deleted", "unchanged", "ignored", "unexpected")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    EDITED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    IGNORED_FIELD_NUMBER: _ClassVar[int]
    UNEXPECTED_FIELD_NUMBER: _ClassVar[int]
    field: str
    added: int
    edited: int
    deleted: int
    unchanged: int
    ignored: int
    unexpected: int
    def __init__(self, field: _Optional[str] = ..., added: _Optional[int] = ..., edited: _Optional[int] = ..., deleted: _Optional[int] = ..., unchanged: _Optional[int] = ..., ignored: _Optional[int] = ..., unexpected: _Optional[int] = ...) -> None: ...

class SkippedEntry(_message.Message):
    __slots__ = ("item_id", "annotation_id", "reason")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    annotation_id: str
    reason: str
    def __init__(self, item_id: _Optional[str] = ..., annotation_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class LoadSummary(_message.Message):
    __slots__ = ("fields", "skipped", "cleaned_up")
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    CLEANED_UP_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedCompositeFieldContainer[FieldLoadSummary]
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedEntry]
    cleaned_up: bool
    def __init__(self, fields: _Optional[_Iterable[_Union[FieldLoadSummary, _Mapping]]] = ..., skipped: _Optional[_Iterable[_Union[SkippedEntry, _Mapping]]] = ..., cleaned_up: bool = ...) -> None: ...

class LoadAnnotationsResponse(_message.Message):
    __slots__ = ("progress", "changes", "summary")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    progress: LoadProgress
    changes: SampleFieldChanges
    summary: LoadSummary
    def __init__(self, progress: _Optional[_Union[LoadProgress, _Mapping]] = ..., changes: _Optional[_Union[SampleFieldChanges, _Mapping]] = ..., summary: _Optional[_Union[LoadSummary, _Mapping]] = ...) -> None: ...

class CleanupRunRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CleanupRunResponse(_message.Message):
    __slots__ = ("run", "items_deleted", "dataset_deleted")
    RUN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_DELETED_FIELD_NUMBER: _ClassVar[int]
    DATASET_DELETED_FIELD_NUMBER: _ClassVar[int]
    run: _annotation_run_pb2.AnnotationRun
    items_deleted: int
    dataset_deleted: bool
    def __init__(self, run: _Optional[_Union[_annotation_run_pb2.AnnotationRun, _Mapping]] = ..., items_deleted: _Optional[int] = ..., dataset_deleted: bool = ...) -> None: ...

class ListRunSamplesRequest(_message.Message):
    __slots__ = ("name", "page_size", "page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunSamplesResponse(_message.Message):
    __slots__ = ("sample_ids", "next_page_token")
    SAMPLE_IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sample_ids: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    def __init__(self, sample_ids: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ResumeRunRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ResumeRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _annotation_run_pb2.AnnotationRun
    def __init__(self, run: _Optional[_Union[_annotation_run_pb2.AnnotationRun, _Mapping]] = ...) -> None: ...
