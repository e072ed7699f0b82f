"""Builders of Sample messages: media from local files (uploaded content-addressed), URLs or
external storage, and labels from plain dicts.

A label dict has the keys of the FiftyOne label: `id`, `label`, `confidence`, `index`, `tags`,
`attributes` (name → plain value) and, per kind, `bounding_box` ([x, y, w, h] relative,
top-left origin), `points` (polylines: a list of shapes, each a list of [x, y]; keypoints: a
list of [x, y]), `closed`, `filled`.

    value = field_value("detections", [{"id": oid, "label": "car", "bounding_box": [...]}])
    sample = image_sample("s1", media_from_file(client, "a.png"), fields={"gt": value})
"""

from __future__ import annotations

import math
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from labelport.schema import attribute_python, attribute_value
from labelport.v1 import labels_pb2 as labels_pb
from labelport.v1 import sample_pb2 as sample_pb

if TYPE_CHECKING:
    from labelport.client import Client

__all__ = [
    "new_label_id",
    "media_from_file",
    "media_from_path",
    "media_from_url",
    "media_from_storage",
    "image_sample",
    "label_message",
    "field_value",
    "field_value_labels",
    "label_dict",
    "field_value_dicts",
    "LABEL_KINDS",
]

# FieldValue oneof name → (container attribute or None, label message class)
LABEL_KINDS = {
    "classification": (None, labels_pb.Classification),
    "classifications": ("classifications", labels_pb.Classification),
    "detection": (None, labels_pb.Detection),
    "detections": ("detections", labels_pb.Detection),
    "polyline": (None, labels_pb.Polyline),
    "polylines": ("polylines", labels_pb.Polyline),
    "keypoint": (None, labels_pb.Keypoint),
    "keypoints": ("keypoints", labels_pb.Keypoint),
    "segmentation": (None, labels_pb.Segmentation),
}
_CONTAINERS = {
    "classifications": labels_pb.Classifications,
    "detections": labels_pb.Detections,
    "polylines": labels_pb.Polylines,
    "keypoints": labels_pb.Keypoints,
}
_SINGULAR = {
    "classifications": "classification",
    "detections": "detection",
    "polylines": "polyline",
    "keypoints": "keypoint",
}


def new_label_id() -> str:
    """A fresh 24-hex id shaped like a FiftyOne ObjectId."""
    return secrets.token_hex(12)


# ---- media ----------------------------------------------------------------------------------


def media_from_file(
    client: Client, path: Union[str, os.PathLike], file_name: Optional[str] = None
) -> sample_pb.MediaReference:
    """Uploads a local file when the server lacks it; a content-digest reference."""
    digest = client.upload_file(path)
    return sample_pb.MediaReference(content_digest=digest, file_name=file_name or Path(path).name)


def media_from_path(path: Union[str, os.PathLike]) -> sample_pb.MediaReference:
    """A path the server process reads itself (same machine or shared volume), beneath a media
    root the operator allowed for your tenant (else PERMISSION_DENIED, MEDIA_PATH_NOT_ALLOWED)."""
    return sample_pb.MediaReference(path=str(Path(path).resolve()))


def media_from_url(url: str, file_name: Optional[str] = None) -> sample_pb.MediaReference:
    """An http(s) URL the server fetches."""
    return sample_pb.MediaReference(url=url, file_name=file_name or "")


def media_from_storage(
    storage_slug: str, storage_key: str, file_name: Optional[str] = None
) -> sample_pb.MediaReference:
    """An object of a V7 external storage connection, registered in place."""
    return sample_pb.MediaReference(
        storage=sample_pb.StorageReference(storage_slug=storage_slug, storage_key=storage_key),
        file_name=file_name or "",
    )


def image_sample(
    sample_id: str,
    media: sample_pb.MediaReference,
    *,
    width: Optional[int] = None,
    height: Optional[int] = None,
    fields: Optional[Mapping[str, Union[labels_pb.FieldValue, Mapping[str, Any], None]]] = None,
    media_type: int = sample_pb.MEDIA_TYPE_IMAGE,
) -> sample_pb.Sample:
    """A Sample; `fields` maps field name → FieldValue, a dict {kind: labels}, or None."""
    s = sample_pb.Sample(id=sample_id, media=media, media_type=media_type,
                         width=width or 0, height=height or 0)
    for name, value in (fields or {}).items():
        entry = s.fields.add(field=name)
        if value is None:
            continue
        if isinstance(value, Mapping):
            ((kind, labels),) = value.items()
            value = field_value(kind, labels)
        entry.value.CopyFrom(value)
    return s


# ---- labels ---------------------------------------------------------------------------------


def _point(p: Any) -> labels_pb.Point:
    x, y = p
    return labels_pb.Point(x=float(x), y=float(y))


def label_message(kind: str, label: Mapping[str, Any]) -> Any:
    """One label dict as the message of `kind` ("detection(s)", "polyline(s)", ...)."""
    cls = LABEL_KINDS[kind][1]
    msg = cls(id=label.get("id") or new_label_id(), label=str(label.get("label", "")))
    if label.get("confidence") is not None:
        conf = label["confidence"]
        if cls is labels_pb.Keypoint:
            msg.confidence.extend(float(c) for c in (conf if isinstance(conf, list) else [conf]))
        else:
            msg.confidence = float(conf)
    if label.get("index") is not None and cls is not labels_pb.Classification:
        msg.index = int(label["index"])
    msg.tags.extend(label.get("tags") or [])
    for name, value in (label.get("attributes") or {}).items():
        msg.attributes[name].CopyFrom(attribute_value(value))
    if cls is labels_pb.Detection:
        msg.bounding_box.extend(float(v) for v in label["bounding_box"])
    elif cls is labels_pb.Polyline:
        for shape in label.get("points", []):
            msg.points.add().points.extend(_point(p) for p in shape)
        msg.closed = bool(label.get("closed", False))
        msg.filled = bool(label.get("filled", False))
    elif cls is labels_pb.Keypoint:
        msg.points.extend(_point(p) for p in label.get("points", []))
    return msg


def field_value(kind: str, labels: Any) -> labels_pb.FieldValue:
    """A FieldValue of `kind`: a list of label dicts for containers, one dict otherwise."""
    if LABEL_KINDS[kind][0] is None:
        return _field_value_of(kind, [label_message(kind, labels)])
    singular = _SINGULAR[kind]
    return _field_value_of(kind, [label_message(singular, d) for d in labels])


def _field_value_of(kind: str, messages: list) -> labels_pb.FieldValue:
    """A FieldValue of `kind` holding label messages (exactly one for a single-label kind)."""
    container = LABEL_KINDS[kind][0]
    if container is None:
        (message,) = messages
        return labels_pb.FieldValue(**{kind: message})
    return labels_pb.FieldValue(**{kind: _CONTAINERS[kind](**{container: messages})})


def field_value_labels(value: labels_pb.FieldValue) -> list:
    """The label messages of a FieldValue (one or none for single-label kinds)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return []
    inner = getattr(value, kind)
    container = LABEL_KINDS[kind][0]
    return list(getattr(inner, container)) if container else [inner]


def label_dict(label: Any) -> dict:
    """A label message as a plain dict (the inverse of `label_message`)."""
    if isinstance(label, labels_pb.Segmentation):
        return {"id": label.id, "width": label.width, "height": label.height,
                "bytes_per_pixel": label.bytes_per_pixel, "mask": bytes(label.mask),
                **({"tags": list(label.tags)} if label.tags else {})}
    d: dict = {"id": label.id, "label": label.label}
    if isinstance(label, labels_pb.Keypoint):
        if label.confidence:
            d["confidence"] = [None if math.isnan(c) else c for c in label.confidence]
    elif label.HasField("confidence"):
        d["confidence"] = label.confidence
    if not isinstance(label, labels_pb.Classification) and label.HasField("index"):
        d["index"] = label.index
    if label.tags:
        d["tags"] = list(label.tags)
    if label.attributes:
        d["attributes"] = {k: attribute_python(v) for k, v in label.attributes.items()}
    if isinstance(label, labels_pb.Detection):
        d["bounding_box"] = list(label.bounding_box)
    elif isinstance(label, labels_pb.Polyline):
        d["points"] = [[[p.x, p.y] for p in shape.points] for shape in label.points]
        d["closed"] = label.closed
        d["filled"] = label.filled
    elif isinstance(label, labels_pb.Keypoint):
        d["points"] = [[p.x, p.y] for p in label.points]
    return d


def field_value_dicts(value: labels_pb.FieldValue) -> list:
    """The labels of a FieldValue as plain dicts."""
    return [label_dict(m) for m in field_value_labels(value)]
