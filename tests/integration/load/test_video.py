"""Video runs end to end against darwin-sim with real short videos made by ffmpeg: frame-level
fields upload as V7 video annotations (one per track, keyframes, segments, hidden areas) and
come back per frame with stable ids and FiftyOne's track rule (annotation-semantics §2.7, §4.4,
§5.8; darwin-api §7.9, §10.5, §11 item 10; checklist 55, 65)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from darwin_sim.media import make_video
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import label_schema_pb2 as schema
from labelport.v1 import labels_pb2 as labels
from labelport.v1 import sample_pb2 as sample_pb

from upload.support import (
    DeterministicIds, Sim, create_run, field_schema, header, items_by_sample, media, oid, wait_run,
)

# 64 x 48 pixels, 10 frames per second, 12 frames.
VW, VH, FRAMES = 64, 48, 12
FIELD = "frames.objects"
_keys = itertools.count(1)


def box(label: str, x: float, index: Optional[int] = None, keyframe: Optional[bool] = None,
        id: Optional[str] = None) -> labels.Detection:
    d = labels.Detection(id=id or oid(), label=label, bounding_box=[x, 0.25, 0.25, 0.5])
    if index is not None:
        d.index = index
    if keyframe is not None:
        d.keyframe = keyframe
    return d


def frames_of(per_frame: dict) -> list:
    """frame number → [Detection] as FrameFieldValues (frame ids "f<n>")."""
    return [sample_pb.FrameFieldValue(
        frame_number=n, frame_id=f"f{n}",
        value=labels.FieldValue(detections=labels.Detections(detections=dets)))
        for n, dets in sorted(per_frame.items())]


@dataclass
class VideoRun:
    sim: Sim
    stub: object
    run: run_pb.AnnotationRun
    slug: str
    item: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.run.name

    def track_annotation_id(self, index: int, label: str, part: int = 0) -> str:
        return DeterministicIds(self.run.uid).of(f"track/v0/{FIELD}/{index}/{label}", part)

    def stored(self) -> dict:
        """annotation id → the stored (import-format) annotation in the sim."""
        got = self.sim.control("GET", f"/_sim/items/{self.item['id']}/annotations")
        return {a["id"]: a["stored"] for a in got["annotations"]}


def video_run(sim: Sim, stub, tmp_path: Path, per_frame: dict, fields=None,
              existing=((FIELD, "Detections"),), extra_fields: Sequence = ()) -> VideoRun:
    n = next(_keys)
    slug = f"video-{n}-{tmp_path.name[-12:].lower().replace('_', '-')}"
    path = make_video(tmp_path / "clip.mp4", width=VW, height=VH, rate=10, seconds=FRAMES / 10)
    s = sample_pb.Sample(id="v0", media=media(path=path), media_type=sample_pb.MEDIA_TYPE_VIDEO)
    if per_frame:
        s.fields.add(field=FIELD, frames=frames_of(per_frame))
    for f in extra_fields:
        s.fields.append(f)
    fields = fields or [field_schema(FIELD, "detections", ["car", "person"])]
    run = create_run(stub, header(f"video{n}", fields, slug=slug, existing=existing), [s])
    run = wait_run(stub, run.name)
    assert run_pb.RunState.Name(run.state) == "RUN_STATE_ANNOTATING", run
    r = VideoRun(sim, stub, run, slug)
    r.item = items_by_sample(sim, slug)["v0"]
    return r


@dataclass
class VideoLoad:
    changes: dict  # (sample id, field, frame number) → SampleFieldChanges
    summary: svc.LoadSummary

    def frames(self, field_name: str = FIELD) -> dict:
        """frame number → {label id: Detection} of the merged value."""
        return {k[2]: {d.id: d for d in c.merged.detections.detections}
                for k, c in sorted(self.changes.items()) if k[1] == field_name and
                c.merged.detections.detections}

    def ids(self, kind: str) -> list:
        return sorted(i for c in self.changes.values() for i in getattr(c, kind))


def load_video(stub, name: str) -> VideoLoad:
    changes, summary = {}, None
    for msg in stub.LoadAnnotations(svc.LoadAnnotationsRequest(name=name), timeout=60):
        kind = msg.WhichOneof("event")
        if kind == "changes":
            c = msg.changes
            key = (c.sample_id, c.field, c.frame_number)
            assert key not in changes, f"two messages for {key}: {changes[key]} {c}"
            assert c.frame_number >= 1, c
            changes[key] = c
        elif kind == "summary":
            summary = msg.summary
    assert summary is not None
    return VideoLoad(changes, summary)


def track_labels():
    """Track 1 (car) on frames 1-4 and 7 (absent on 5 and 6), track 2 (person) on frames
    2-3, and an index-less car on frame 9."""
    per_frame = {n: [box("car", 0.125 * n / 4, index=1)] for n in (1, 2, 3, 4, 7)}
    per_frame[2].append(box("person", 0.5, index=2))
    per_frame[3].append(box("person", 0.5, index=2))
    per_frame[9] = [box("car", 0.25)]
    return per_frame


def test_sim_reads_the_video_and_a_track_uploads_as_one_annotation(server, sim, tmp_path):
    per_frame = track_labels()
    r = video_run(sim, server.stub, tmp_path, per_frame)
    slot = r.item["slots"][0]
    assert (slot["type"], slot["width"], slot["height"]) == ("video", VW, VH)
    stored = r.stored()
    assert len(stored) == 3  # track 1, track 2, the index-less label
    car = stored[r.track_annotation_id(1, "car")]["data"]
    assert sorted(car["frames"], key=int) == ["0", "1", "2", "3", "6"]
    assert all(f["keyframe"] is True for f in car["frames"].values())
    assert car["frames"]["6"]["instance_id"] == {"value": 1}
    assert car["frames"]["6"]["bounding_box"]["x"] == 0.125 * 7 / 4 * VW
    assert car["segments"] == [[0, 7]]
    assert car["hidden_areas"] == [[4, 5]]
    person = stored[r.track_annotation_id(2, "person")]["data"]
    assert person["segments"] == [[1, 3]] and person["hidden_areas"] == []
    lone = stored[DeterministicIds(r.run.uid).of(per_frame[9][0].id, 0)]["data"]
    assert list(lone["frames"]) == ["8"] and lone["segments"] == [[8, 9]]


def test_unchanged_track_loads_back_with_every_label_id(server, sim, tmp_path):
    per_frame = track_labels()
    r = video_run(sim, server.stub, tmp_path, per_frame)
    ld = load_video(server.stub, r.name)
    assert ld.ids("added_ids") == ld.ids("edited_ids") == ld.ids("deleted_ids") == []
    got = ld.frames()
    assert sorted(got) == [1, 2, 3, 4, 7, 9]
    for n, dets in per_frame.items():
        assert got[n] == {d.id: d for d in dets}, n
    c = ld.changes[("v0", FIELD, 7)]
    assert (c.frame_id, c.return_type, c.dest_field) == ("f7", "detections", FIELD)
    s = ld.summary.fields[0]
    assert (s.added, s.edited, s.deleted, s.unchanged) == (0, 0, 0, 8)
    # A second load of the unchanged run changes nothing either.
    again = load_video(server.stub, r.name)
    assert again.ids("added_ids") == again.ids("edited_ids") == again.ids("deleted_ids") == []


# ---- the annotator edits tracks in V7 (darwin-sim's video annotator endpoints) ---------------


def px(n: int) -> dict:
    """The pixel box of the standard car at frame n (x = n/16 of the width)."""
    return {"x": 4 * n, "y": 12, "w": 16, "h": 24}


def standard_tracks(person_frames=(3, 4)):
    """Track 1 (car) on frames 1-5 with x = n/16; track 2 (person) on `person_frames`."""
    per_frame = {n: [box("car", n / 16, index=1)] for n in range(1, 6)}
    for n in person_frames:
        per_frame.setdefault(n, []).append(box("person", 0.5, index=2))
    return per_frame


def annotate(r: VideoRun, path: str, body: dict, method: str = "PATCH") -> dict:
    return r.sim.control(method, f"/_sim/items/{r.item['id']}/annotations{path}", body)


def label_of(per_frame: dict, n: int, label: str) -> labels.Detection:
    return next(d for d in per_frame[n] if d.label == label)


def summary(ld: VideoLoad) -> tuple:
    s = ld.summary.fields[0]
    return s.added, s.edited, s.deleted, s.unchanged


def test_moving_a_keyframe_in_time_interpolates_and_extends_the_track(server, sim, tmp_path):
    per_frame = standard_tracks()
    r = video_run(sim, server.stub, tmp_path, per_frame)
    car = r.track_annotation_id(1, "car")
    # The keyframe of frame 5 (index 4) moves to frame 8 (index 7), further right (x 40 px).
    annotate(r, f"/{car}", {"frames": {"4": None, "7": px(10)}})
    ld = load_video(server.stub, r.name)
    got = ld.frames()
    assert sorted(got) == [1, 2, 3, 4, 5, 6, 7, 8]
    for n in (1, 2, 3, 4):
        assert got[n][label_of(per_frame, n, "car").id] == label_of(per_frame, n, "car")
    # Frame 5 keeps its label id; its box is now interpolated between frames 4 and 8.
    five = got[5][label_of(per_frame, 5, "car").id]
    assert five.bounding_box[0] == 22 / 64 and five.index == 1
    # Frames 6-8 are new labels of the same track.
    for n, x in ((6, 28), (7, 34), (8, 40)):
        (new,) = got[n].values()
        assert (new.label, new.index, new.bounding_box[0]) == ("car", 1, x / 64)
        assert not new.HasField("keyframe")  # the run did not use keyframes
    assert ld.ids("edited_ids") == [label_of(per_frame, 5, "car").id]
    assert ld.ids("deleted_ids") == []
    assert summary(ld) == (3, 1, 0, 6)


def test_extending_a_range_adds_held_labels_to_the_track(server, sim, tmp_path):
    per_frame = standard_tracks()
    r = video_run(sim, server.stub, tmp_path, per_frame)
    annotate(r, f"/{r.track_annotation_id(2, 'person')}", {"ranges": [[2, 6]]})
    ld = load_video(server.stub, r.name)
    got = ld.frames()
    for n in (5, 6):
        people = [d for d in got[n].values() if d.label == "person"]
        assert len(people) == 1, got[n]
        assert (people[0].index, list(people[0].bounding_box)) == (2, [0.5, 0.25, 0.25, 0.5])
    assert ld.ids("deleted_ids") == ld.ids("edited_ids") == []
    assert summary(ld) == (2, 0, 0, 7)


def test_splitting_a_track_makes_the_later_frames_a_new_track(server, sim, tmp_path):
    per_frame = standard_tracks()
    r = video_run(sim, server.stub, tmp_path, per_frame)
    annotate(r, f"/{r.track_annotation_id(1, 'car')}/split", {"frame": 3}, method="POST")
    ld = load_video(server.stub, r.name)
    got = ld.frames()
    for n in (1, 2, 3):
        assert label_of(per_frame, n, "car").id in got[n]
    # Frames 4 and 5 now belong to another object: new labels, new track index (3, above the
    # sample's highest, 2); the old labels of track 1 there are deleted.
    for n in (4, 5):
        (car,) = [d for d in got[n].values() if d.label == "car"]
        assert car.id != label_of(per_frame, n, "car").id
        assert (car.index, car.bounding_box[0]) == (3, n / 16)
    assert ld.ids("deleted_ids") == sorted(label_of(per_frame, n, "car").id for n in (4, 5))
    assert summary(ld) == (2, 0, 2, 5)


def test_merging_two_tracks_moves_the_frames_of_one_into_the_other(server, sim, tmp_path):
    per_frame = standard_tracks(person_frames=(7, 8))
    r = video_run(sim, server.stub, tmp_path, per_frame)
    annotate(r, f"/{r.track_annotation_id(1, 'car')}/merge",
             {"other": r.track_annotation_id(2, "person")}, method="POST")
    ld = load_video(server.stub, r.name)
    got = ld.frames()
    assert sorted(got) == [1, 2, 3, 4, 5, 7, 8]
    for n in (7, 8):
        (d,) = got[n].values()
        assert (d.label, d.index) == ("car", 1)  # the merged track's class and index
    assert ld.ids("deleted_ids") == sorted(label_of(per_frame, n, "person").id for n in (7, 8))
    assert summary(ld) == (2, 0, 2, 5)


def test_a_new_track_gets_the_next_index_and_interpolated_frames(server, sim, tmp_path):
    per_frame = standard_tracks()
    r = video_run(sim, server.stub, tmp_path, per_frame)
    annotate(r, "", {"class_name": "person", "type": "bounding_box",
                     "frames": {"9": {"x": 8, "y": 0, "w": 8, "h": 8},
                                "11": {"x": 16, "y": 0, "w": 8, "h": 8}}}, method="POST")
    ld = load_video(server.stub, r.name)
    got = ld.frames()
    xs = {}
    for n in (10, 11, 12):
        (d,) = got[n].values()
        assert (d.label, d.index) == ("person", 3)
        xs[n] = d.bounding_box[0] * 64
    assert xs == {10: 8, 11: 12, 12: 16}
    assert summary(ld) == (3, 0, 0, 7)


def test_same_instance_id_merges_tracks_unless_index_edits_are_refused(server, sim, tmp_path):
    per_frame = standard_tracks()
    # FiftyOne's rule: the track holding labels of existing tracks 1 and 2 takes index 1.
    r = video_run(sim, server.stub, tmp_path, per_frame)
    annotate(r, f"/{r.track_annotation_id(2, 'person')}", {"instance_id": 1})
    ld = load_video(server.stub, r.name)
    people = {n: label_of(per_frame, n, "person").id for n in (3, 4)}
    for n, pid in people.items():
        assert ld.frames()[n][pid].index == 1
    assert ld.ids("edited_ids") == sorted(people.values())

    flags = schema.FieldSchema(field=FIELD, type="detections", allow_index_edits=False,
                               classes=schema.ClassList(entries=[
                                   schema.ClassEntry(name="car"), schema.ClassEntry(name="person")]))
    r = video_run(sim, server.stub, tmp_path / "no-index-edits", per_frame, fields=[flags])
    annotate(r, f"/{r.track_annotation_id(2, 'person')}", {"instance_id": 1})
    ld = load_video(server.stub, r.name)
    for n, pid in people.items():
        assert ld.frames()[n][pid].index == 2
    assert ld.ids("edited_ids") == []


def test_keyframe_only_run_gets_every_frame_back_with_its_id(server, sim, tmp_path):
    # Keyframes on frames 1, 3 and 6 (linear in between): only those are sent, V7
    # interpolates the rest, and every frame comes back under its FiftyOne id.
    per_frame = {n: [box("car", n / 16, index=1, keyframe=n in (1, 3, 6))] for n in range(1, 7)}
    r = video_run(sim, server.stub, tmp_path, per_frame)
    (stored,) = r.stored().values()
    assert sorted(stored["data"]["frames"], key=int) == ["0", "2", "5"]
    assert stored["data"]["segments"] == [[0, 6]]
    ld = load_video(server.stub, r.name)
    got = ld.frames()
    for n, (d,) in per_frame.items():
        assert got[n] == {d.id: d}, n
    assert summary(ld) == (0, 0, 0, 6)
    # Moving the frame-3 keyframe: frames 2 and 4-5 follow by interpolation, ids kept.
    annotate(r, f"/{stored['id']}", {"frames": {"2": px(5)}})
    ld = load_video(server.stub, r.name)
    got = ld.frames()
    assert got[3][per_frame[3][0].id].bounding_box[0] == 20 / 64
    assert got[3][per_frame[3][0].id].keyframe is True
    assert ld.ids("edited_ids") == sorted(per_frame[n][0].id for n in (2, 3, 4, 5))


def test_labels_beyond_the_frames_v7_found_fail_their_sample_clearly(server, sim, tmp_path):
    path = make_video(tmp_path / "clip.mp4", width=VW, height=VH, rate=10, seconds=FRAMES / 10)
    s = sample_pb.Sample(id="v0", media=media(path=path), media_type=sample_pb.MEDIA_TYPE_VIDEO)
    s.fields.add(field=FIELD, frames=frames_of({1: [box("car", 0.1, index=1)],
                                                20: [box("car", 0.2, index=1)]}))
    run = create_run(server.stub, header("beyond", [field_schema(FIELD, "detections", ["car"])],
                                         slug="video-beyond", existing=((FIELD, "Detections"),)),
                     [s])
    run = wait_run(server.stub, run.name)
    (err,) = run.sample_errors
    assert (err.sample_id, err.stage) == ("v0", "import_labels")
    assert "field 'frames.objects': frame 20 is beyond the 12 frames V7 found" in err.message
    item = items_by_sample(sim, "video-beyond")["v0"]
    assert sim.control("GET", f"/_sim/items/{item['id']}/annotations")["annotations"] == []


def test_a_track_of_another_type_comes_back_as_unexpected_labels_per_frame(server, sim, tmp_path):
    per_frame = standard_tracks()
    r = video_run(sim, server.stub, tmp_path, per_frame)
    tri = {"paths": [[{"x": 0, "y": 0}, {"x": 32, "y": 0}, {"x": 0, "y": 24}]]}
    annotate(r, "", {"class_name": "lake", "type": "polygon", "frames": {"6": tri, "7": tri}},
             method="POST")
    ld = load_video(server.stub, r.name)
    for n in (7, 8):
        (u,) = ld.changes[("v0", FIELD, n)].unexpected
        assert u.return_type == "polylines"
        (lake,) = u.labels.polylines.polylines
        assert (lake.label, lake.index, list(lake.points[0].points)[1].x) == ("lake", 3, 0.5)
    assert ld.summary.fields[0].unexpected == 2
    assert summary(ld) == (0, 0, 0, 7)  # the field's own labels are unchanged


def test_a_new_frame_field_receives_tracks_with_their_keyframes(server, sim, tmp_path):
    boxes = field_schema("frames.boxes", "detections", ["car"])
    r = video_run(sim, server.stub, tmp_path, standard_tracks(),
                  fields=[field_schema(FIELD, "detections", ["car", "person"]), boxes])
    annotate(r, "", {"class_name": "car", "type": "bounding_box",
                     "frames": {"0": px(1), "2": px(3)}}, method="POST")
    ld = load_video(server.stub, r.name)
    # The drawn car goes to the first field whose classes list it (frames.objects) ...
    assert sorted(ld.frames()) == [1, 2, 3, 4, 5]
    assert summary(ld) == (3, 0, 0, 7)
    # ... and a field of its own type only gets what matches it. With frames.objects out of
    # the schema, the new field takes the track, keyframe flags included (a new field imports
    # keyframes, FiftyOne's rule), as track 1 (the field had no tracks).
    r = video_run(sim, server.stub, tmp_path / "new", {}, fields=[boxes], existing=())
    annotate(r, "", {"class_name": "car", "type": "bounding_box",
                     "frames": {"0": px(1), "2": px(3)}}, method="POST")
    ld = load_video(server.stub, r.name)
    got = ld.frames("frames.boxes")
    assert sorted(got) == [1, 2, 3]
    flags = [(d.index, d.keyframe) for n in (1, 2, 3) for d in got[n].values()]
    assert flags == [(1, True), (1, False), (1, True)]
    assert list(got[2].values())[0].bounding_box[0] == 8 / 64  # interpolated


def test_two_videos_with_the_same_track_index_keep_their_own_tracks(server, sim, tmp_path):
    per_sample = {sid: {n: [box("car", n / 16, index=1)] for n in (1, 2, 3)}
                  for sid in ("v0", "v1")}
    samples = []
    for sid, per_frame in per_sample.items():
        path = make_video(tmp_path / sid / "clip.mp4", width=VW, height=VH, rate=10,
                          seconds=FRAMES / 10)
        s = sample_pb.Sample(id=sid, media=media(path=path),
                             media_type=sample_pb.MEDIA_TYPE_VIDEO)
        s.fields.add(field=FIELD, frames=frames_of(per_frame))
        samples.append(s)
    run = create_run(server.stub, header("twovideos", [field_schema(FIELD, "detections", ["car"])],
                                         slug="video-two", existing=((FIELD, "Detections"),)),
                     samples)
    run = wait_run(server.stub, run.name)
    assert list(run.sample_errors) == []
    items = items_by_sample(sim, "video-two")
    # The annotator deletes the track of v1 only.
    (v1_track,) = sim.control("GET", f"/_sim/items/{items['v1']['id']}/annotations")["annotations"]
    sim.control("DELETE", f"/_sim/items/{items['v1']['id']}/annotations/{v1_track['id']}")
    ld = load_video(server.stub, run.name)
    v0 = {k[2]: c for k, c in ld.changes.items() if k[0] == "v0"}
    for n, (d,) in per_sample["v0"].items():
        assert list(v0[n].merged.detections.detections) == [d]
        assert list(v0[n].deleted_ids) == []
    assert ld.ids("deleted_ids") == sorted(d.id for (d,) in per_sample["v1"].values())
