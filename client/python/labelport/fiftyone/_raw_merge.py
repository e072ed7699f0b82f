"""FiftyOne's merge of one sample's labels, computed on the raw field value.

FiftyOne's `load_annotations()` merges a sample-level field of an image dataset in
`fiftyone/utils/annotations.py` `_merge_labels`: it deletes the labels deleted in the annotation
backend (`dataset.delete_labels`, one bulk write), then visits every sample with
`iter_samples(autosave=True)`, which builds every Label object of the sample, merges each kept
label with `_merge_label`, appends the new ones, and saves the sample: mongoengine's change
tracking turns the changes into one `$set`/`$unset` update. Building the Label objects is most
of that cost.

`RawFieldMerge.merge()` computes, for one sample, the field's raw value that this update leaves
in the database, so that the caller can write all the samples' values with one bulk write:

* a label FiftyOne's merge would leave as it is stays the raw dict it is;
* a label it changes is merged with FiftyOne's own `_merge_label` on a Label object built for
  it alone, and its changed paths are applied as mongoengine's `_delta` applies them (a changed
  path whose value is empty and equal to the field's default is unset, anything else is set;
  a set path that is new in the document is appended after the existing keys, new keys in
  lexicographic order, as MongoDB applies one update's `$set`);
* a sample to which labels are added has its whole label list set by FiftyOne (the list is
  marked changed), each label serialised with `to_mongo()`: the untouched ones are kept raw
  only when that serialisation gives them back byte for byte (checked once per shape of
  document with FiftyOne's own code), and added labels are FiftyOne labels' `to_mongo()`.

Whatever is not reproduced exactly (masks, label documents of an unexpected class or shape,
attributes that are declared fields, numeric attribute names) returns None: that sample is left
to FiftyOne's merge.
"""

from __future__ import annotations

import copy
import numbers
from typing import Any, Callable, Optional

import bson

try:
    import fiftyone.utils.annotations as foua
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "labelport.fiftyone needs FiftyOne: pip install 'labelport[fiftyone]'"
    ) from e


class Merged:
    """A sample's merge result: the field's new raw value, and the label ids FiftyOne's merge
    records as added for the sample (None when it records nothing: `_update_id_map` is then
    not called for the sample)."""

    __slots__ = ("value", "added")

    def __init__(self, value: Any, added: Any):
        self.value = value
        self.added = added


# FiftyOne's merge writes nothing for the sample.
NOTHING = Merged(None, None)


def _shape(value) -> Any:
    """The types of a raw value, recursively (the `_cls` of an embedded document included):
    FiftyOne's `_from_son()`/`to_mongo()` of the types a label holds depend on nothing else."""
    t = type(value)
    if t is dict:
        return (dict,) + tuple((k, v if k == "_cls" else _shape(v)) for k, v in value.items())
    if t is list:
        return (list, frozenset(map(_shape, value)))
    return t


class RawFieldMerge:
    """FiftyOne's merge of one sample-level field of an image dataset, one sample at a time.

    Args:
        container: the field's FiftyOne label class (`Detections`, `Detection`, ...)
        is_list: whether the container is a label list
        info: the field's label schema entry (classes, attributes, allow_* rules)
        to_label: the FiftyOne label of a downloaded label message (what FiftyOne's merge
            is given)
        unchanged: whether `_merge_label` would leave a raw label document as it is, given
            the downloaded label message
    """

    def __init__(self, container, is_list: bool, info: dict, to_label: Callable,
                 unchanged: Callable):
        self._container = container
        self._list_field = container._LABEL_LIST_FIELD if is_list else None
        self._label_cls = (container._fields[self._list_field].field.document_type
                           if is_list else container)
        self._allow_additions = info.get("allow_additions", True)
        self._rules = dict(
            allow_label_edits=info.get("allow_label_edits", True),
            allow_index_edits=info.get("allow_index_edits", True),
            allow_spatial_edits=info.get("allow_spatial_edits", True),
        )
        self._global_attrs, self._class_attrs = foua._parse_attributes(info)
        self._to_label = to_label
        self._unchanged = unchanged
        self._round_trips: dict = {}

    def unchanged(self, raw, msgs: list, run_ids) -> bool:
        """Whether FiftyOne's merge leaves the field's raw value `raw` as it is, given the
        downloaded labels `msgs` and the ids of the labels the run holds for the sample (the
        sample has none that V7 no longer has). Any doubt answers False."""
        list_field = self._list_field
        if raw is None:
            return not self._allow_additions or (list_field is None and not msgs)
        if list_field is not None:
            if self._allow_additions and any(m.id not in run_ids for m in msgs):
                return False
            docs = raw.get(list_field)
            if docs is None:
                return False
        else:
            docs = [raw]
        by_id = {m.id: m for m in msgs}
        name = self._label_cls.__name__
        for doc in docs:
            if doc.get("_cls") != name:
                return False
            label_id = str(doc.get("_id"))
            if label_id in run_ids and label_id in by_id and not self._unchanged(
                    doc, by_id[label_id]):
                return False
        return True

    def merge(self, raw, msgs: list, run_ids) -> Optional[Merged]:
        """What FiftyOne's merge leaves in the field of a sample whose raw value (after the
        deletions) is `raw`, whose downloaded labels are `msgs` and for which the run holds the
        labels of ids `run_ids`. NOTHING when it writes nothing; None when not reproduced
        exactly."""
        list_field = self._list_field
        if raw is None:
            if not self._allow_additions:
                return NOTHING
            if list_field is not None:
                value = self._container(**{list_field: [self._to_label(m) for m in msgs]})
                return Merged(value.to_mongo(), [m.id for m in msgs])
            if not msgs:
                return NOTHING
            return Merged(self._to_label(msgs[0]).to_mongo(), msgs[0].id)
        if not isinstance(raw, dict):
            return None
        if list_field is not None:
            docs = raw.get(list_field)
            if raw.get("_cls") != self._container.__name__ or not isinstance(docs, list):
                return None
            added = ([m for m in msgs if m.id not in run_ids]
                     if self._allow_additions else [])
        else:
            docs, added = [raw], []
        whole = bool(added)  # FiftyOne's append marks the whole list changed
        by_id = {m.id: m for m in msgs}
        out, written, seen = [], False, set()
        for doc in docs:
            if not isinstance(doc, dict) or doc.get("_cls") != self._label_cls.__name__:
                return None
            label_id = str(doc.get("_id"))
            if label_id in seen:
                return None
            seen.add(label_id)
            msg = by_id.get(label_id) if label_id in run_ids else None
            if msg is None or self._unchanged(doc, msg):
                if whole and not self._round_trips_exactly(doc):
                    return None
                out.append(doc)
                continue
            merged = self._merge_label(doc, msg)
            if merged is None:
                return None
            son, changed = merged
            if whole:
                out.append(son)
                continue
            doc = _apply_delta(doc, son, changed, self._label_cls)
            if doc is None:
                return None
            out.append(doc)
            written = written or bool(changed)
        if whole:
            out.extend(self._to_label(m).to_mongo() for m in added)
            value = dict(raw)
            value[list_field] = out
            return Merged(value, [m.id for m in added])
        if not written:
            return NOTHING
        if list_field is None:
            return Merged(out[0], None)
        value = dict(raw)
        value[list_field] = out
        return Merged(value, None)

    def _merge_label(self, doc: dict, msg):
        """FiftyOne's `_merge_label` of one label: (its `to_mongo()`, its changed paths), or
        None for what is left to FiftyOne (masks, nested changed paths)."""
        if doc.get("mask") is not None or any("mask" in f.name for f, _ in msg.ListFields()):
            return None
        label = self._label_cls._from_son(copy.deepcopy(doc))
        foua._merge_label(label, self._to_label(msg), global_attrs=self._global_attrs,
                          class_attrs=self._class_attrs, only_keyframes=False, **self._rules)
        changed = label._get_changed_fields()
        if any("." in path for path in changed):
            return None
        return label.to_mongo(), changed

    def _round_trips_exactly(self, doc: dict) -> bool:
        """Whether FiftyOne serialises the label loaded from `doc` back to `doc`, byte for byte
        (key order and BSON types included); decided once per shape of document."""
        shape = _shape(doc)
        ok = self._round_trips.get(shape)
        if ok is None:
            try:
                son = self._label_cls._from_son(copy.deepcopy(doc)).to_mongo()
                ok = bson.encode(son) == bson.encode(doc)
            except Exception:  # noqa: BLE001 - any doubt leaves the sample to FiftyOne
                ok = False
            self._round_trips[shape] = ok
        return ok


def _apply_delta(doc: dict, son, changed: list, cls) -> Optional[dict]:
    """`doc` after the update mongoengine's `_delta` makes of a label's changed paths (`son`
    being the merged label's `to_mongo()`), as MongoDB applies it."""
    out = dict(doc)
    appended = []
    for path in changed:
        value = son.get(path)
        if not value and not isinstance(value, (numbers.Number, bool)):
            field = cls._fields.get(cls._reverse_db_field_map.get(path, path))
            default = field.default if field is not None else None
            if callable(default):
                default = default()
            if value == default:
                out.pop(path, None)
                continue
        if path in out:
            out[path] = value
        elif path.isdigit():
            return None  # MongoDB orders numeric field names numerically
        else:
            appended.append(path)
    for path in sorted(appended):
        out[path] = son.get(path)
    return out
