"""darwin-sim's video processing: facts read from real files with FFmpeg (darwin-api.md §10.4).

Videos are generated at test time with ffmpeg's test pattern, uploaded over the
wire, and the processed facts checked in E21 and in the export's slots.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile

import pytest
import requests
from PIL import Image
from server.waiting import wait_until

from .media import make_image, make_video
from .test_sim_api import Api, new_dataset, upload


def wait_items(api, dataset_id, statuses=("new", "error"), timeout=10.0):
    seen = []

    def settled():
        seen[:] = api.get(api.v2("items"), params={"dataset_ids": dataset_id}).json()["items"]
        return all(i["status"] in statuses for i in seen)

    wait_until(settled, timeout, f"every item {' or '.join(statuses)}",
               details=lambda: [(i["name"], i["status"]) for i in seen])
    return {i["name"]: i for i in seen}


def export_docs(api, slug, name="r1"):
    r = api.post(api.v2(f"datasets/{slug}/exports"), {
        "name": name, "format": "darwin_json_2", "include_authorship": False,
        "filters": {"not_statuses": ["archived", "error"]}})
    assert r.status_code == 200, r.text

    def download_url():
        exports = api.get(api.v2(f"datasets/{slug}/exports")).json()
        return next(e["download_url"] for e in exports if e["name"] == name)

    url = wait_until(download_url, 10, f"export {name} complete")
    zf = zipfile.ZipFile(io.BytesIO(requests.get(url).content))
    return {n: json.loads(zf.read(n)) for n in zf.namelist() if not n.startswith(".v7/")}


VIDEOS = {  # name -> (width, height, rate, seconds, codec, expected frame count)
    "a.mp4": (320, 240, 10, 2, "libx264", 20),
    "b.webm": (160, 120, 25, 1, "libvpx", 25),
    "c.avi": (176, 144, 15, 1, "mpeg4", 15),
    "d.mkv": (64, 48, 5, 3, "libx264", 15),
}


def test_uploaded_videos_get_their_real_facts(sim, tmp_path):
    api = Api(sim)
    ds = new_dataset(api, "videos")
    for name, (w, h, rate, seconds, codec, _) in VIDEOS.items():
        upload(api, "videos", name, make_video(tmp_path / name, w, h, rate, seconds,
                                               codec).read_bytes())
    items = wait_items(api, ds["id"])
    for name, (w, h, rate, _, _, frames) in VIDEOS.items():
        item = items[name]
        assert (item["status"], item["processing_status"]) == ("new", "complete"), name
        assert item["slot_types"] == ["video"]
        slot = item["slots"][0]
        assert slot["type"] == "video" and slot["sectionless"] is False
        assert slot["fps"] == rate and slot["total_sections"] == frames, (name, slot)
        assert slot["metadata"] == {"width": w, "height": h, "native_fps": rate}, name

    upload(api, "videos", "still.png", make_image(tmp_path / "still.png", 8, 8).read_bytes())
    listed = next(d for d in api.get("/api/datasets").json() if d["slug"] == "videos")
    assert (listed["num_items"], listed["num_videos"], listed["num_images"]) == (5, 4, 1)

    docs = export_docs(api, "videos")
    for name, (w, h, rate, _, _, frames) in VIDEOS.items():
        slot = docs[name.rsplit(".", 1)[0] + ".json"]["item"]["slots"][0]
        assert (slot["type"], slot["width"], slot["height"]) == ("video", w, h)
        assert slot["fps"] == rate and slot["frame_count"] == frames
        assert len(slot["frame_urls"]) == frames
        assert slot["frame_urls"][3].endswith("/sections/3")
        assert slot["source_files"][0]["file_name"] == name


def test_registered_fps_samples_the_video(sim, tmp_path):
    api = Api(sim)
    ds = new_dataset(api, "sampled")
    data = make_video(tmp_path / "s.mp4", 96, 64, 10, 2).read_bytes()
    reg = api.post(api.v2("items/register_upload"), {
        "dataset_slug": "sampled", "items": [{"name": "s.mp4", "path": "/", "slots": [
            {"file_name": "s.mp4", "slot_name": "0", "fps": 4, "as_frames": False}]}]}).json()
    upload_id = reg["items"][0]["slots"][0]["upload_id"]
    url = api.get(api.v2(f"items/uploads/{upload_id}/sign")).json()["upload_url"]
    assert requests.put(url, data=data).status_code == 200
    api.post(api.v2(f"items/uploads/{upload_id}/confirm"), {})
    slot = wait_items(api, ds["id"])["s.mp4"]["slots"][0]
    # 20 native frames over 2 s, sampled at 4 fps: 8 frames.
    assert (slot["fps"], slot["total_sections"]) == (4, 8)
    assert slot["metadata"]["native_fps"] == 10


def test_video_processing_goes_through_processing(sim, tmp_path):
    api = Api(sim)
    sim.control("POST", "/_sim/config", {"processing_delay_ms": 400})
    ds = new_dataset(api, "slow")
    upload(api, "slow", "v.mp4", make_video(tmp_path / "v.mp4", 32, 32, 5, 1).read_bytes())
    first = api.get(api.v2("items"), params={"dataset_ids": ds["id"]}).json()["items"][0]
    assert (first["status"], first["processing_status"]) == ("processing", "processing")
    item = wait_items(api, ds["id"])["v.mp4"]
    assert (item["status"], item["processing_status"]) == ("new", "complete")
    assert item["slots"][0]["total_sections"] == 5


@pytest.mark.parametrize("kind", ["random", "truncated", "image", "empty", "audio_only"])
def test_undecodable_video_goes_to_error(kind, sim, tmp_path):
    api = Api(sim)
    ds = new_dataset(api, "broken")
    if kind == "random":
        data = bytes(range(256)) * 64
    elif kind == "truncated":  # An mp4 cut before its moov atom is complete.
        data = make_video(tmp_path / "t.mp4", 64, 48, 10, 2).read_bytes()[:400]
    elif kind == "image":
        data = make_image(tmp_path / "i.png", 32, 24).read_bytes()
    elif kind == "empty":
        data = b""
    else:
        path = tmp_path / "a.mp4"
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(path)],
                       check=True)
        data = path.read_bytes()
    upload(api, "broken", "bad.mp4", data)
    upload(api, "broken", "good.mp4", make_video(tmp_path / "g.mp4", 32, 32, 5, 1).read_bytes())
    items = wait_items(api, ds["id"])
    bad = items["bad.mp4"]
    assert (bad["status"], bad["processing_status"]) == ("error", "error")
    assert "not a decodable video" in bad["slots"][0]["metadata"]["error"]
    assert items["good.mp4"]["status"] == "new"
    # Error items are left out of DFO-style exports.
    assert list(export_docs(api, "broken")) == ["good.json"]
    # With only the error item left to export, the zip is empty (and valid).
    api.s.delete(sim.url + api.v2("items"), json={"filters": {"item_ids": [items["good.mp4"]["id"]],
                                                    "dataset_ids": [ds["id"]]}})
    assert export_docs(api, "broken", "r2") == {}


def ffmpeg_frame(video, index, out):
    """Frame `index` of `video` as decoded and converted by the ffmpeg command-line tool."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(video),
                    "-vf", f"select=eq(n\\,{index})", "-vframes", "1", str(out)], check=True)
    return Image.open(out).convert("RGB")


def mean_difference(a, b):
    assert a.size == b.size
    x, y = a.tobytes(), b.tobytes()
    return sum(abs(p - q) for p, q in zip(x, y)) / len(x)


def test_frame_urls_serve_the_frames_as_png(sim, tmp_path):
    api = Api(sim)
    ds = new_dataset(api, "frames")
    clip = make_video(tmp_path / "f.mp4", 160, 120, 10, 2)
    upload(api, "frames", "f.mp4", clip.read_bytes())
    wait_items(api, ds["id"])
    slot = export_docs(api, "frames")["f.json"]["item"]["slots"][0]
    frames = {}
    for n in (0, 3, 19):
        r = requests.get(slot["frame_urls"][n])
        assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
        frames[n] = Image.open(io.BytesIO(r.content)).convert("RGB")
        assert frames[n].size == (160, 120)
        # The same picture ffmpeg decodes (colour conversion rounding aside).
        assert mean_difference(frames[n], ffmpeg_frame(clip, n, tmp_path / f"{n}.png")) < 3
    assert mean_difference(frames[0], frames[3]) > 3  # testsrc's counter moves.
    thumb = requests.get(slot["thumbnail_url"])
    assert Image.open(io.BytesIO(thumb.content)).convert("RGB").tobytes() == frames[0].tobytes()
    past = requests.get(slot["frame_urls"][0].rsplit("/", 1)[0] + "/20")
    assert past.status_code == 404 and "past the end" in past.text
