"""Two tenants uploading to darwin-sim at once: each run is uploaded, queried and cleaned up with
its own tenant's V7 key (the sim places a dataset in the team of the key that created it), and
media uploaded by one tenant cannot be used by the other."""

from __future__ import annotations

import hashlib

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import sample_pb2 as sample
from upload.support import (
    Sim, create_run, field_schema, header, image_sample, make_image, media, new_api_key, wait_run,
)

from .support import new_token, tenant_stub, upload_media_requests


@pytest.fixture
def two_team_sim(tmp_path_factory):
    beta_key = new_api_key()
    sim = Sim(tmp_path_factory.mktemp("sim"), ["--team", "beta-team", "--api_key", beta_key],
              team="acme-team")
    sim.beta_key = beta_key
    yield sim
    sim.stop()


def datasets_by_team(sim: Sim) -> dict:
    return {t["slug"]: {d["slug"]: d for d in t["datasets"]} for t in sim.state()["teams"]}


def test_each_tenant_uses_its_own_v7_key(auth_server, tenants, two_team_sim, tmp_path):
    sim = two_team_sim
    acme_token, beta_token = new_token(), new_token()
    # A tenant whose V7 key the sim refuses, first in the file: readiness must still be
    # SERVING (V7 accepts another tenant's key).
    tenants.add("broken", tokens=[new_token()], api_key=new_api_key())
    # acme names the sim in the tenants file; beta relies on --darwin_url.
    tenants.add("acme", tokens=[acme_token], api_key=sim.api_key, url=sim.url)
    tenants.add("beta", tokens=[beta_token], api_key=sim.beta_key)
    # With --auth=token server paths need a media root (none by default).
    (tmp_path / "img").mkdir()
    server = auth_server(tenants, media_root=str(tmp_path / "img"),
                         args=["--darwin_url", sim.url, "--darwin_rate_limit_per_minute", "6000"])
    acme = tenant_stub(server.channel, acme_token)
    beta = tenant_stub(server.channel, beta_token)
    health = health_pb2_grpc.HealthStub(server.channel)
    ready = health.Check(health_pb2.HealthCheckRequest(service="labelport.v1.AnnotationService"),
                         timeout=10)
    assert ready.status == health_pb2.HealthCheckResponse.SERVING

    image = make_image(tmp_path / "img" / "a.png")
    uploaded = make_image(tmp_path / "img" / "private.png", color=(1, 2, 3)).read_bytes()
    requests = upload_media_requests(uploaded)
    digest = requests[0].header.content_digest
    assert acme.UploadMedia(iter(requests), timeout=10).content_digest == digest
    by_digest = sample.MediaReference(content_digest=digest, file_name="private.png")
    fields = [field_schema("dets", "detections", ["car"])]

    create_run(acme, header("mine", fields, slug="acme-data"),
               [image_sample("a1", media(path=image)), image_sample("a2", by_digest)])
    # beta names acme's digest without having uploaded it: that sample must fail.
    create_run(beta, header("mine", fields, slug="beta-data"),
               [image_sample("b1", media(path=image)), image_sample("b2", by_digest)])
    acme_run = wait_run(acme, "datasets/uploads/runs/mine")
    beta_run = wait_run(beta, "datasets/uploads/runs/mine")
    assert acme_run.state == run_pb.RUN_STATE_ANNOTATING, acme_run
    assert acme_run.progress.samples_failed == 0
    assert beta_run.state == run_pb.RUN_STATE_ANNOTATING, beta_run
    assert beta_run.progress.samples_failed == 1
    assert [e.sample_id for e in beta_run.sample_errors] == ["b2"]
    assert digest in beta_run.sample_errors[0].message

    teams = datasets_by_team(sim)
    assert set(teams["acme-team"]) >= {"acme-data"} and "beta-data" not in teams["acme-team"]
    assert set(teams["beta-team"]) >= {"beta-data"} and "acme-data" not in teams["beta-team"]
    assert len(teams["acme-team"]["acme-data"]["items"]) == 2
    # (beta's failed sample may have been registered before its bytes were found missing.)

    # Status and cleanup go through each tenant's own key too.
    for stub in (acme, beta):
        status = stub.GetRunStatus(svc.GetRunStatusRequest(name="datasets/uploads/runs/mine"),
                                   timeout=30)
        assert sum(c.item_count for c in status.counts) >= 1
    cleaned = beta.CleanupRun(svc.CleanupRunRequest(name="datasets/uploads/runs/mine"),
                              timeout=30)
    assert cleaned.run.state == run_pb.RUN_STATE_CLEANED_UP
    teams = datasets_by_team(sim)
    assert teams["beta-team"]["beta-data"]["archived"] is True
    assert teams["acme-team"]["acme-data"]["archived"] is False
    assert acme.GetRun(svc.GetRunRequest(name="datasets/uploads/runs/mine"),
                       timeout=10).run.state == run_pb.RUN_STATE_ANNOTATING
    assert hashlib.sha256(uploaded).hexdigest() in digest
