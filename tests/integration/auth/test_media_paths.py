"""Server paths are a privilege: with --auth=token, two tenants with different media roots (and a
third whose root is careless enough to contain the server's own files) try to make the server
read what is not theirs. Every attempt gets the same PERMISSION_DENIED MEDIA_PATH_NOT_ALLOWED
answer, at CreateRun when the path is lexically outside the tenant's roots, else as the sample's
upload error; darwin-sim never receives an item or an upload for those samples. A path inside
the tenant's root uploads."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import grpc
import pytest
from labelport.v1 import annotation_run_pb2 as run_pb
from server.conftest import ServerProcess
from server.helpers import error_details
from upload.support import (
    Sim, create_run, field_schema, header, image_sample, items_by_sample, make_image, media,
    wait_run,
)

from .support import new_token, tenant_stub, upload_media_requests
from .test_startup import start_fails

REASON = "MEDIA_PATH_NOT_ALLOWED"


def not_allowed(path: str) -> str:
    """The one refusal every path outside the roots (or naming a server file) gets."""
    return (f"media path '{path}' is not readable under the media roots allowed for this tenant "
            "(a path must be absolute, without '..', beneath a media root that symlinks do not "
            "leave, and never names a file of the server)")


@pytest.fixture
def sim(tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("sim"), team="paths-team")
    yield sim
    sim.stop()


class Setup:
    """Media roots, secrets and a running server with tenants acme, beta and careless."""

    def __init__(self, tmp_path: Path, auth_server, tenants, sim: Sim):
        self.acme_root = tmp_path / "media" / "acme"
        self.beta_root = tmp_path / "media" / "beta"
        self.ok = make_image(self.acme_root / "ok.png")
        self.beta_file = make_image(self.beta_root / "private.png", color=(9, 9, 9))
        # careless's root holds the tenants file, the key files and the data dir.
        self.careless_root = tmp_path
        self.acme_token, self.beta_token, self.careless_token = (new_token() for _ in range(3))
        tenants.add("acme", tokens=[self.acme_token], api_key=sim.api_key)
        tenants.add("beta", tokens=[self.beta_token], api_key=sim.api_key)
        tenants.add("careless", tokens=[self.careless_token], api_key=sim.api_key)
        tenants.tenants["acme"]["media_roots"] = [str(self.acme_root)]
        tenants.tenants["beta"]["media_roots"] = [str(self.beta_root)]
        tenants.tenants["careless"]["media_roots"] = [str(self.careless_root)]
        tenants.write()
        self.tenants_file = tenants.path
        self.beta_key_file = tenants.path.parent / "beta.v7key"
        self.data_dir = tmp_path / "data"
        self.server = auth_server(tenants, media_root=None,
                                  args=["--darwin_url", sim.url, "--data_dir",
                                        str(self.data_dir),
                                        "--darwin_rate_limit_per_minute", "6000"])
        self.acme = tenant_stub(self.server.channel, self.acme_token)
        self.beta = tenant_stub(self.server.channel, self.beta_token)
        self.careless = tenant_stub(self.server.channel, self.careless_token)
        # A file in the data dir: media beta uploaded by content digest.
        data = self.beta_file.read_bytes()
        assert self.beta.UploadMedia(iter(upload_media_requests(data)), timeout=10)
        digest = hashlib.sha256(data).hexdigest()
        self.uploaded = (self.data_dir / "media" / "tenants" / "beta" / "sha256" / digest[:2] /
                         digest)
        assert self.uploaded.is_file()
        self.store = self.data_dir / "labelport.db"
        assert self.store.is_file()
        # Inside acme's root: a symlink out of it, and a hard link to beta's V7 key file.
        (self.acme_root / "escape.png").symlink_to(Path("..") / "beta" / "private.png")
        (self.acme_root / "to-tenants.json").symlink_to(self.tenants_file)
        os.link(self.beta_key_file, self.acme_root / "key.png")


@pytest.fixture
def setup(tmp_path, auth_server, tenants, sim) -> Setup:
    return Setup(tmp_path, auth_server, tenants, sim)


def refused_at_create(stub, slug: str, path: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        create_run(stub, header(slug.replace("-", "_"), [field_schema("d", "detections", ["a"])],
                                slug=slug), [image_sample("s", media(path=path))])
    details = error_details(caught.value)
    assert details.code == grpc.StatusCode.PERMISSION_DENIED, details
    assert details.message == f"Sample 's': {not_allowed(path)}", details
    assert details.field == "samples[0].media.path", details
    assert details.reason == REASON, details


def refused_at_upload(stub, sim: Sim, slug: str, refused: dict) -> None:
    """One run with an allowed sample and the `refused` ones (sample id → path)."""
    samples = [image_sample("allowed", media(path=refused.pop("allowed")))]
    samples += [image_sample(sample_id, media(path=path)) for sample_id, path in refused.items()]
    run = create_run(stub, header(slug.replace("-", "_"), [field_schema("d", "detections", ["a"])],
                                  slug=slug), samples)
    final = wait_run(stub, run.name)
    assert final.state == run_pb.RUN_STATE_ANNOTATING, final
    errors = {e.sample_id: e for e in final.sample_errors}
    assert sorted(errors) == sorted(refused), final.sample_errors
    for sample_id, path in refused.items():
        assert errors[sample_id].stage == "upload"
        assert errors[sample_id].message == not_allowed(path)
    # V7 got an item and bytes for the allowed sample only.
    items = items_by_sample(sim, slug)
    assert sorted(items) == ["allowed"]
    assert items["allowed"]["status"] == "new", items["allowed"]


def test_each_tenant_reads_only_beneath_its_own_roots(setup, sim):
    s = setup
    outside_acme = {
        "traversal": str(s.acme_root / ".." / "beta" / "private.png"),
        "beta's root": str(s.beta_file),
        "beta's key file": str(s.beta_key_file),
        "the tenants file": str(s.tenants_file),
        "the store": str(s.store),
        "a file in the data dir": str(s.uploaded),
        "/etc/passwd": "/etc/passwd",
        "missing outside": str(s.beta_root / "no-such.png"),
    }
    for path in outside_acme.values():
        refused_at_create(s.acme, "acme-outside", path)
    # Lexically inside acme's root, but leaving it or naming a server file.
    refused_at_upload(s.acme, sim, "acme-inside", {
        "allowed": str(s.ok),
        "symlink_out": str(s.acme_root / "escape.png"),
        "symlink_to_tenants": str(s.acme_root / "to-tenants.json"),
        "key_hard_link": str(s.acme_root / "key.png"),
    })
    # beta reads its own file, not acme's.
    refused_at_create(s.beta, "beta-outside", str(s.ok))
    refused_at_upload(s.beta, sim, "beta-inside", {"allowed": str(s.beta_file)})


def test_a_root_holding_the_servers_files_still_never_reads_them(setup, sim):
    s = setup
    refused_at_create(s.careless, "careless-outside", "/etc/passwd")
    refused_at_create(s.careless, "careless-dots", str(s.data_dir / ".." / "media" / "acme"))
    refused_at_upload(s.careless, sim, "careless-inside", {
        "allowed": str(s.ok),
        "key_file": str(s.beta_key_file),
        "key_hard_link": str(s.acme_root / "key.png"),
        "tenants_file": str(s.tenants_file),
        "store": str(s.store),
        "uploaded_media": str(s.uploaded),
    })
    # No error names more than the path: the secrets stay out of the server's log too
    # (checked by the auth_server fixture at teardown).


def test_uploads_of_refused_paths_never_reach_the_sim(setup, sim):
    s = setup
    refused_at_upload(s.acme, sim, "acme-bytes", {
        "allowed": str(s.ok), "symlink_out": str(s.acme_root / "escape.png"),
        "key_hard_link": str(s.acme_root / "key.png")})
    signs = [r for r in sim.requests() if r["path"].endswith("/sign")]
    assert len(signs) == 1  # the allowed sample's upload only


def test_media_roots_are_checked_at_start_up(tmp_path, tenants):
    data = tmp_path / "data"
    (data / "media").mkdir(parents=True)
    (tmp_path / "media").mkdir()
    err = start_fails(tmp_path, "--media_root", "relative/dir")
    assert "--media_root: 'relative/dir' must be an absolute directory path" in err
    err = start_fails(tmp_path, "--media_root", f"{tmp_path / 'media'},{tmp_path / 'nowhere'}")
    assert f"--media_root: '{tmp_path / 'nowhere'}' is not an existing directory" in err
    err = start_fails(tmp_path, "--media_root", str(data / "media"))
    assert f"--media_root: '{data / 'media'}' lies inside the data directory" in err
    err = start_fails(tmp_path, env={"LABELPORT_MEDIA_ROOT": str(data)})
    assert "LABELPORT_MEDIA_ROOT: '" in err and "lies inside the data directory" in err
    tenants.add("acme", tokens=[new_token()])
    tenants.tenants["acme"]["media_roots"] = [str(data / "media")]
    tenants.write()
    err = start_fails(tmp_path, "--auth", "token", "--tenants_file", str(tenants.path))
    assert "tenants[0].media_roots[0] '" in err and "lies inside the data directory" in err


def test_the_start_up_log_says_which_paths_are_readable(tmp_path):
    (tmp_path / "media").mkdir()
    for args, line in (
            ([], "media paths: the whole file system is a media root (--auth=none without "
                 "--media_root), except the server's own files"),
            (["--media_root", str(tmp_path / "media")],
             f"media roots of every tenant: {tmp_path / 'media'}")):
        server = ServerProcess(tmp_path / "data", args)
        try:
            assert line in server.log()
        finally:
            assert server.stop() == 0
