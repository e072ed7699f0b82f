"""LoadAnnotations merges what the annotator did in V7 (darwin-sim) into the uploaded labels
with FiftyOne's rules and stable ids (annotation-semantics §4.3-§4.6, §5.7, §5.11; checklist
37-51, 69-75; defects D4, D7, D14, D15, D18)."""

from __future__ import annotations

import math
import random

import grpc
import pytest
from labelport.v1 import labels_pb2 as labels

from upload.support import detection, field_schema

from .support import (
    STANDARD_EXISTING, attrs, by_id, gt_schema, label_list, load, make_run, px_box, standard_fields,
    standard_labels, standard_run,
)

FIELDS = ("gt", "polys", "kps", "tags")


def assert_no_changes(ld, fields=FIELDS, samples=("s0",)):
    for sid in samples:
        for f in fields:
            c = ld.of(sid, f)
            assert (list(c.added_ids), list(c.edited_ids), list(c.deleted_ids)) == ([], [], []), c
    for f in fields:
        s = ld.field_summary(f)
        assert (s.added, s.edited, s.deleted, s.ignored, s.unexpected) == (0, 0, 0, 0, 0), s


# ---- 69, 36, 74, 75: an untouched run comes back as it was sent -------------------------------


def test_unedited_label_keeps_its_id_and_attributes(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    ld = load(server.stub, r.name)
    assert_no_changes(ld)
    for f in FIELDS:
        c = ld.of("s0", f)
        assert c.dest_field == f
        assert c.return_type == {"gt": "detections", "polys": "polylines", "kps": "keypoints",
                                 "tags": "classifications"}[f]
        sent = label_list(r.sent["s0"][f])
        assert [lab.id for lab in label_list(c.downloaded)] == [lab.id for lab in sent]
        assert label_list(c.merged) == sent  # same ids, attributes, tags, confidence, geometry
    assert ld.field_summary("gt").unchanged == 2
    car = by_id(ld.of("s0", "gt").merged)[r.label("s0", "gt", "car").id]
    assert attrs(car) == {"color": "blue", "note": "old note", "quality": "good", "extra": 42}
    assert list(car.tags) == ["reviewed"]
    assert [p.stage for p in ld.progress][:2] == [1, 2]
    assert ld.progress[-1].items_parsed == ld.progress[-1].items_total == 1


def test_confidence_zero_and_index_zero_round_trip(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    car_id = r.label("s0", "gt", "car").id
    ld = load(server.stub, r.name)
    car = by_id(ld.of("s0", "gt").downloaded)[car_id]
    assert car.HasField("confidence") and car.confidence == 0.0
    assert car.HasField("index") and car.index == 0
    assert "darwin_instance_id" not in car.attributes
    # V7 has the index as an instance id; edited there it comes back as `index`.
    r.edit("s0", car_id, instance_id=0, data=px_box([0.25, 0.25, 0.25, 0.5]))
    car = by_id(load(server.stub, r.name).of("s0", "gt").merged)[car_id]
    assert (car.index, car.HasField("confidence"), car.confidence) == (0, True, 0.0)


def test_multipoint_keypoint_regrouped_same_count_and_order(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    eye = r.label("s0", "kps", "eye")
    # V7 holds one keypoint annotation per point; the annotator moves the second one.
    r.edit("s0", eye.id, part=1, data={"x": 0.875 * 32, "y": 0.75 * 24})
    ld = load(server.stub, r.name)
    c = ld.of("s0", "kps")
    (kp,) = label_list(c.downloaded)
    assert kp.id == eye.id
    assert [(p.x, p.y) for p in kp.points] == [(0.25, 0.5), (0.875, 0.75), (0.5, 0.25)]
    assert list(c.edited_ids) == [eye.id] and not c.added_ids and not c.deleted_ids
    # A deleted point becomes NaN: the label keeps its point count and order.
    r.delete("s0", eye.id, part=0)
    (kp,) = label_list(load(server.stub, r.name).of("s0", "kps").merged)
    assert len(kp.points) == 3 and math.isnan(kp.points[0].x)
    assert [(p.x, p.y) for p in kp.points[1:]] == [(0.875, 0.75), (0.5, 0.25)]


# ---- 37-39: edits, additions, deletions --------------------------------------------------------


def test_edited_box_merges_in_place_keeping_id_confidence_tags(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    car = r.label("s0", "gt", "car")
    r.edit("s0", car.id, class_name="truck", data=px_box([0.25, 0.125, 0.5, 0.25]),
           properties={"color": "red"}, text="new note")
    ld = load(server.stub, r.name)
    c = ld.of("s0", "gt")
    assert list(c.edited_ids) == [car.id] and not c.added_ids and not c.deleted_ids
    m = by_id(c.merged)[car.id]
    assert m.label == "truck"
    assert list(m.bounding_box) == pytest.approx([0.25, 0.125, 0.5, 0.25])
    assert (m.confidence, list(m.tags), m.index) == (0.0, ["reviewed"], 0)
    a = attrs(m)
    assert (a["color"], a["note"], a["extra"]) == ("red", "new note", 42)
    # Authorship is in the download; like any non-schema attribute it is not merged in.
    assert attrs(by_id(c.downloaded)[car.id])["darwin_annotators"] == ["Ann Notator"]
    assert "darwin_annotators" not in a
    s = ld.field_summary("gt")
    assert (s.edited, s.unchanged, s.added, s.deleted) == (1, 1, 0, 0)


def test_added_label_needs_allow_additions(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    new = r.add("s0", "sign", "bounding_box", px_box([0.0, 0.0, 0.5, 0.5]),
                properties={}, instance_id=9)
    ld = load(server.stub, r.name)
    c = ld.of("s0", "gt")
    (added,) = c.added_ids
    assert len(added) == 24 and int(added, 16) >= 0
    m = by_id(c.merged)[added]
    assert (m.label, m.index) == ("sign", 9)
    assert list(m.bounding_box) == pytest.approx([0.0, 0.0, 0.5, 0.5])
    assert ld.field_summary("gt").added == 1
    # The derived id is stable: a second load adds nothing and knows the label.
    again = load(server.stub, r.name)
    assert not again.of("s0", "gt").added_ids
    assert added in by_id(again.of("s0", "gt").merged)
    assert new["id"]

    refused = standard_run(sim, server.stub, tmp_path, allow_additions=False)
    refused.add("s0", "sign", "bounding_box", px_box([0.0, 0.0, 0.5, 0.5]))
    ld = load(server.stub, refused.name)
    c = ld.of("s0", "gt")
    assert not c.added_ids and len(label_list(c.downloaded)) == 3
    assert label_list(c.merged) == label_list(refused.sent["s0"]["gt"])
    assert ld.field_summary("gt").ignored == 1
    assert "Ignored 1 added labels in field 'gt' because `allow_additions=False`" in \
        server.log()


def test_deleted_label_needs_allow_deletions(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    person = r.label("s0", "gt", "person")
    r.delete("s0", person.id)
    c = load(server.stub, r.name).of("s0", "gt")
    assert list(c.deleted_ids) == [person.id] and person.id not in by_id(c.merged)
    assert len(label_list(c.merged)) == 1

    kept = standard_run(sim, server.stub, tmp_path, allow_deletions=False)
    person = kept.label("s0", "gt", "person")
    kept.delete("s0", person.id)
    ld = load(server.stub, kept.name)
    c = ld.of("s0", "gt")
    assert not c.deleted_ids and by_id(c.merged)[person.id] == person
    assert ld.field_summary("gt").ignored == 1
    assert "Ignored 1 deleted labels in field 'gt' because `allow_deletions=False`" in \
        server.log()


def test_allow_additions_false_deletes_nothing_on_unchanged_run(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path, allow_additions=False)
    ld = load(server.stub, r.name)
    assert_no_changes(ld)
    assert label_list(ld.of("s0", "gt").merged) == label_list(r.sent["s0"]["gt"])


# ---- 41-45: edit flags and attributes ------------------------------------------------------------


def test_label_edit_flag(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path, allow_label_edits=False)
    car = r.label("s0", "gt", "car")
    r.edit("s0", car.id, class_name="truck")
    c = load(server.stub, r.name).of("s0", "gt")
    assert by_id(c.downloaded)[car.id].label == "truck"
    assert by_id(c.merged)[car.id].label == "car"
    assert not c.edited_ids


def test_spatial_edit_flag(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path, allow_spatial_edits=False)
    car = r.label("s0", "gt", "car")
    road = r.label("s0", "polys", "road")
    r.edit("s0", car.id, data=px_box([0.5, 0.5, 0.25, 0.25]), properties={"color": "red"})
    r.edit("s0", road.id, data={"paths": [[{"x": 0, "y": 0}, {"x": 16, "y": 0},
                                           {"x": 16, "y": 12}]]})
    ld = load(server.stub, r.name)
    c = ld.of("s0", "gt")
    assert list(by_id(c.downloaded)[car.id].bounding_box) == pytest.approx([0.5, 0.5, .25, .25])
    m = by_id(c.merged)[car.id]
    assert list(m.bounding_box) == list(car.bounding_box)
    assert attrs(m)["color"] == "red"  # attributes still merge
    # Polygons keep their points too (the polygons field has no flag: edits apply there).
    p = by_id(ld.of("s0", "polys").merged)[road.id]
    assert [(q.x, q.y) for q in p.points[0].points] == [(0, 0), (0.5, 0), (0.5, 0.5)]


def test_index_edit_flag(server, sim, tmp_path):
    # An image field has no index flag (FiftyOne: frame-level trackable fields only)...
    with pytest.raises(grpc.RpcError) as e:
        standard_run(sim, server.stub, tmp_path, allow_index_edits=False)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "allow_index_edits" in e.value.details()
    # ... so index edits made in V7 apply, and index 0 survives as 0.
    r = standard_run(sim, server.stub, tmp_path)
    person = r.label("s0", "gt", "person")
    car = r.label("s0", "gt", "car")
    r.edit("s0", person.id, instance_id=0)
    c = load(server.stub, r.name).of("s0", "gt")
    assert list(c.edited_ids) == [person.id]
    assert by_id(c.merged)[person.id].index == 0 and by_id(c.merged)[car.id].index == 0


def test_schema_attribute_removed_in_v7_becomes_absent_read_only_untouched(server, sim,
                                                                          tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    car = r.label("s0", "gt", "car")
    r.edit("s0", car.id, properties={"color": None, "quality": "bad"}, text=None)
    c = load(server.stub, r.name).of("s0", "gt")
    assert list(c.edited_ids) == [car.id]
    a = attrs(by_id(c.merged)[car.id])
    assert "color" not in a and "note" not in a
    assert a["quality"] == "good" and a["extra"] == 42


def test_class_group_attributes_only_for_members(server, sim, tmp_path):
    fields = standard_fields()
    samples = {"s0": standard_labels()}
    truck = detection("truck", [0.0, 0.0, 0.25, 0.25], attributes={"color": "red"})
    samples["s0"]["gt"].detections.detections.append(truck)
    r = make_run(sim, server.stub, tmp_path, fields, samples, STANDARD_EXISTING)
    car = r.label("s0", "gt", "car")
    # car leaves the group (→ person): its group attributes are not copied back.
    r.edit("s0", car.id, class_name="person", properties={"color": "red"})
    # truck stays in the group: its color is copied.
    r.edit("s0", truck.id, properties={"color": "blue"})
    c = load(server.stub, r.name).of("s0", "gt")
    m = by_id(c.merged)
    assert m[car.id].label == "person"
    assert (attrs(m[car.id])["color"], attrs(m[car.id])["note"]) == ("blue", "old note")
    assert attrs(m[truck.id])["color"] == "blue"


def test_single_label_field_rules(server, sim, tmp_path):
    fields = [field_schema("best", "detection", ["sign", "car"])]
    one = detection("car", [0.125, 0.125, 0.25, 0.25])
    two = detection("car", [0.25, 0.25, 0.25, 0.25])
    samples = {"full": {"best": labels.FieldValue(detection=one)}, "empty": {},
               "swapped": {"best": labels.FieldValue(detection=two)}}
    r = make_run(sim, server.stub, tmp_path, fields, samples, [("best", "Detection")])
    r.add("full", "sign", "bounding_box", px_box([0.5, 0.5, 0.25, 0.25]))
    r.add("empty", "sign", "bounding_box", px_box([0.5, 0.5, 0.25, 0.25]))
    r.add("swapped", "sign", "bounding_box", px_box([0.5, 0.5, 0.25, 0.25]))
    r.delete("swapped", two.id)
    ld = load(server.stub, r.name)
    full = ld.of("full", "best")
    assert full.merged.detection == one and not full.added_ids
    empty = ld.of("empty", "best")
    assert empty.merged.detection.label == "sign" and list(empty.added_ids) == [
        empty.merged.detection.id]
    swapped = ld.of("swapped", "best")
    assert list(swapped.deleted_ids) == [two.id]
    assert swapped.merged.detection.label == "sign"
    assert list(swapped.added_ids) == [swapped.merged.detection.id]
    s = ld.field_summary("best")
    assert (s.added, s.deleted, s.unchanged) == (2, 1, 1)


# ---- 48: repeated loads --------------------------------------------------------------------------


def test_second_load_changes_nothing(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path, samples=2)
    car = r.label("s0", "gt", "car")
    r.edit("s0", car.id, data=px_box([0.25, 0.25, 0.5, 0.5]))
    r.delete("s1", r.label("s1", "gt", "person").id)
    r.add("s1", "night", "tag")
    first = load(server.stub, r.name)
    assert list(first.of("s0", "gt").edited_ids) == [car.id]
    assert first.of("s1", "gt").deleted_ids and first.of("s1", "tags").added_ids
    second = load(server.stub, r.name)
    assert_no_changes(second, samples=("s0", "s1"))
    for key, c in second.changes.items():
        assert c.merged == first.changes[key].merged, key


# ---- 49: unexpected types ----------------------------------------------------------------------


def test_unexpected_types_reported_grouped(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    for k in range(2):
        r.add("s0", "lane", "line", {"path": [{"x": 0, "y": 0}, {"x": 8 * (k + 1), "y": 12}]})
    r.add("s0", "blob", "ellipse", {"center": {"x": 4, "y": 4}, "radius": {"x": 2, "y": 2},
                                    "angle": 0})
    ld = load(server.stub, r.name)
    c = ld.of("s0", "gt")
    assert [u.return_type for u in c.unexpected] == ["polylines"]
    lines = c.unexpected[0].labels.polylines.polylines
    assert [lab.label for lab in lines] == ["lane", "lane"]
    assert all(not lab.closed and not lab.filled for lab in lines)
    assert ld.field_summary("gt").unexpected == 2
    assert any("ellipse" in s.reason for s in ld.summary.skipped)
    assert_no_changes(ld, fields=("polys", "kps", "tags"))
    assert ld.field_summary("gt").unchanged == 2
    assert not c.added_ids and not c.deleted_ids


# ---- 51: dest_field ------------------------------------------------------------------------------


def test_dest_field_string_loads_all_as_new_in_one_field_run(server, sim, tmp_path):
    fields = [gt_schema()]
    r = make_run(sim, server.stub, tmp_path, fields, {"s0": {"gt": standard_labels()["gt"]}},
                 [("gt", "Detections")])
    r.delete("s0", r.label("s0", "gt", "person").id)
    ld = load(server.stub, r.name, dest_field="gt_v7")
    c = ld.of("s0", "gt")
    assert c.dest_field == "gt_v7"
    car = r.label("s0", "gt", "car")
    assert list(c.added_ids) == [car.id] and not c.deleted_ids and not c.edited_ids
    assert [lab.id for lab in label_list(c.merged)] == [car.id]
    # The source field is untouched: a plain load still sees the deletion.
    assert list(load(server.stub, r.name).of("s0", "gt").deleted_ids) == [
        r.label("s0", "gt", "person").id]


def test_dest_field_string_ignored_with_warning_for_multi_field_run_and_mapping(server, sim,
                                                                                tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    ld = load(server.stub, r.name, dest_field="elsewhere")
    assert all(c.dest_field == c.field for c in ld.changes.values())
    assert_no_changes(ld)
    assert "Ignoring string `dest_field=elsewhere` since the label schema contains 4 (> 1) " \
        "fields" in server.log()
    ld = load(server.stub, r.name, dest_fields={"polys": "polys_v7"})
    c = ld.of("s0", "polys")
    assert c.dest_field == "polys_v7"
    assert list(c.added_ids) == [r.label("s0", "polys", "road").id]
    assert ld.of("s0", "gt").dest_field == "gt" and not ld.of("s0", "gt").added_ids
    e = None
    try:
        load(server.stub, r.name, dest_fields={"nope": "x"})
    except grpc.RpcError as err:
        e = err
    assert e is not None and e.code() == grpc.StatusCode.INVALID_ARGUMENT


# ---- 72, 73: no cross-contamination ----------------------------------------------------------


def test_two_fields_of_same_shape_never_cross_contaminate(server, sim, tmp_path):
    fields = [field_schema("a", "detections", ["car"]), field_schema("b", "detections", ["car"])]
    da = detection("car", [0.125, 0.125, 0.25, 0.25])
    db = detection("car", [0.5, 0.5, 0.25, 0.25])
    samples = {"s0": {"a": labels.FieldValue(detections=labels.Detections(detections=[da])),
                      "b": labels.FieldValue(detections=labels.Detections(detections=[db]))}}
    r = make_run(sim, server.stub, tmp_path, fields, samples,
                 [("a", "Detections"), ("b", "Detections")])
    r.edit("s0", db.id, data=px_box([0.25, 0.5, 0.25, 0.25]))
    ld = load(server.stub, r.name)
    a, b = ld.of("s0", "a"), ld.of("s0", "b")
    assert [lab.id for lab in label_list(a.downloaded)] == [da.id]
    assert [lab.id for lab in label_list(b.downloaded)] == [db.id]
    assert not a.edited_ids and list(b.edited_ids) == [db.id]
    assert not a.added_ids and not b.added_ids and not a.deleted_ids and not b.deleted_ids


def test_same_file_name_twice_gets_own_labels(server, sim, tmp_path):
    fields = standard_fields()
    samples = {"x": standard_labels(), "y": standard_labels()}
    r = make_run(sim, server.stub, tmp_path, fields, samples, STANDARD_EXISTING,
                 file_names={"x": "same.png", "y": "same.png"})
    assert r.items["x"]["id"] != r.items["y"]["id"]
    r.edit("y", r.label("y", "gt", "car").id, class_name="truck")
    ld = load(server.stub, r.name)
    for sid in ("x", "y"):
        for f in FIELDS:
            got = [lab.id for lab in label_list(ld.of(sid, f).merged)]
            assert got == [lab.id for lab in label_list(r.sent[sid][f])], (sid, f)
    assert not ld.of("x", "gt").edited_ids
    assert list(ld.of("y", "gt").edited_ids) == [r.label("y", "gt", "car").id]


def test_labels_added_with_new_ids_do_not_collide(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    ids = {r.add("s0", "person", "bounding_box", px_box([0.0, 0.0, 0.25, 0.25]))["id"]
           for _ in range(3)}
    assert len(ids) == 3
    c = load(server.stub, r.name).of("s0", "gt")
    assert len(set(c.added_ids)) == 3
    assert len(by_id(c.merged)) == 5


# ---- 40: a field with nothing left in V7 -----------------------------------------------------


def test_field_emptied_in_v7_deletes_every_uploaded_label(server, sim, tmp_path):
    r = standard_run(sim, server.stub, tmp_path)
    day = r.label("s0", "tags", "day")
    r.delete("s0", day.id)
    ld = load(server.stub, r.name)
    c = ld.of("s0", "tags")
    assert list(c.deleted_ids) == [day.id]
    assert label_list(c.downloaded) == [] and label_list(c.merged) == []
    assert ld.field_summary("tags").deleted == 1
    assert_no_changes(ld, fields=("gt", "polys", "kps"))


def test_field_empty_before_and_after_sends_no_change(server, sim, tmp_path):
    """A field that had no labels uploaded and has none in V7 gets no change message (a client
    that merges an empty change into a None field would store an empty container there); once
    V7 has a label in it, it does."""
    r = make_run(sim, server.stub, tmp_path, standard_fields(),
                 {"s0": standard_labels(), "s1": {}}, STANDARD_EXISTING)
    ld = load(server.stub, r.name)
    assert sorted(f for s, f in ld.changes if s == "s0") == sorted(FIELDS)
    assert [f for s, f in ld.changes if s == "s1"] == []
    assert_no_changes(ld)
    r.add("s1", "car", "bounding_box", px_box([0.125, 0.25, 0.25, 0.5]))
    ld = load(server.stub, r.name)
    assert [f for s, f in ld.changes if s == "s1"] == ["gt"]
    assert len(ld.of("s1", "gt").added_ids) == 1


def test_unedited_arbitrary_coordinates_come_back_bit_identical(server, sim, tmp_path):
    """x·W/W is not always x in floating point: geometry V7 did not change must come back as
    sent, not 1 ulp off and counted as edited (69, 48)."""
    rng = random.Random(7)

    def pt():
        return labels.Point(x=rng.random(), y=rng.random())

    dets = [detection("car", [rng.random() * 0.5, rng.random() * 0.5, rng.random() * 0.4,
                              rng.random() * 0.4]) for _ in range(30)]
    polys = [labels.Polyline(id=detection("road", [0, 0, 0, 0]).id, label="road", closed=True,
                             filled=True, points=[labels.Shape(points=[pt() for _ in range(5)])])
             for _ in range(5)]
    kps = [labels.Keypoint(id=detection("eye", [0, 0, 0, 0]).id, label="eye",
                           points=[pt() for _ in range(4)]) for _ in range(5)]
    fields = [field_schema("gt", "detections", ["car"]), field_schema("polys", "polygons", ["road"]),
              field_schema("kps", "keypoints", ["eye"])]
    samples = {"s0": {"gt": labels.FieldValue(detections=labels.Detections(detections=dets)),
                      "polys": labels.FieldValue(polylines=labels.Polylines(polylines=polys)),
                      "kps": labels.FieldValue(keypoints=labels.Keypoints(keypoints=kps))}}
    r = make_run(sim, server.stub, tmp_path, fields, samples,
                 [("gt", "Detections"), ("polys", "Polylines"), ("kps", "Keypoints")])
    for _ in range(2):
        ld = load(server.stub, r.name)
        assert_no_changes(ld, fields=("gt", "polys", "kps"))
        for f in ("gt", "polys", "kps"):
            assert label_list(ld.of("s0", f).downloaded) == label_list(samples["s0"][f]), f
            assert label_list(ld.of("s0", f).merged) == label_list(samples["s0"][f]), f
