"""--auth=token: missing, malformed, wrong and revoked bearer tokens; every RPC of one tenant
against another tenant's runs and media; the health service without a token; no token or key in
errors or logs."""

from __future__ import annotations

import hashlib
import signal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from server.helpers import create_run, header, image_samples, list_all_runs, run_name
from server.waiting import wait_until

from .file_reads import FileReads
from .support import (
    OTHER_RPCS, RUN_RPCS, bearer, every_rpc, new_token, tenant_stub, upload_media_requests,
)


def all_rpc_names() -> set:
    return set(svc.DESCRIPTOR.services_by_name["AnnotationService"].methods_by_name)


def test_the_tests_cover_every_rpc():
    assert set(RUN_RPCS) | set(OTHER_RPCS) == all_rpc_names()


@pytest.fixture
def two_tenants(tenants):
    acme, beta = new_token(), new_token()
    tenants.add("acme", tokens=[acme]).add("beta", tokens=[beta])
    return {"acme": acme, "beta": beta}


def expect_unauthenticated(call, *needles: str) -> str:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, info.value
    for needle in needles:
        assert needle in info.value.details()
    return info.value.details()


def test_missing_malformed_and_wrong_tokens_are_unauthenticated_on_every_rpc(
        auth_server, tenants, two_tenants):
    server = auth_server(tenants)
    wrong = new_token()
    tenants.secrets.append(wrong)
    cases = {
        "missing": ((), "missing credentials", "Bearer <token>"),
        "basic scheme": ((("authorization", f"Basic {wrong}"),), "must be 'Bearer <token>'"),
        "empty bearer": ((("authorization", "Bearer "),), "must be 'Bearer <token>'"),
        "wrong": (bearer(wrong), "not valid (unknown or revoked)"),
        # The hash of a valid token is not a token.
        "hash": (bearer(hashlib.sha256(two_tenants["acme"].encode()).hexdigest()),
                 "not valid"),
    }
    for case, (metadata, *needles) in cases.items():
        for rpc, call in every_rpc(server.stub, metadata).items():
            details = expect_unauthenticated(call, *needles)
            assert wrong not in details, (case, rpc)
            assert two_tenants["acme"] not in details
    # Nothing was created by the rejected calls.
    acme = tenant_stub(server.channel, two_tenants["acme"])
    assert list_all_runs(acme, page_size=10) == []


def test_health_and_reflection_need_no_token(auth_server, tenants, two_tenants):
    server = auth_server(tenants)
    health = health_pb2_grpc.HealthStub(server.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="labelport.v1.AnnotationService"),
                         timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_a_tenant_sees_and_touches_only_its_own_runs_on_every_rpc(auth_server, tenants,
                                                                   two_tenants):
    server = auth_server(tenants)
    acme = tenant_stub(server.channel, two_tenants["acme"])
    beta = tenant_stub(server.channel, two_tenants["beta"])
    created = create_run(acme, header("secret_run")).run
    mine = run_name("secret_run")
    nobody = run_name("no_such_run")

    for rpc, call in RUN_RPCS.items():
        with pytest.raises(grpc.RpcError) as cross:
            call(beta, mine, ())
        assert cross.value.code() == grpc.StatusCode.NOT_FOUND, (rpc, cross.value)
        # Indistinguishable from a run that does not exist at all.
        with pytest.raises(grpc.RpcError) as absent:
            call(beta, nobody, ())
        assert absent.value.code() == grpc.StatusCode.NOT_FOUND, rpc
        assert (cross.value.details().replace("secret_run", "X")
                == absent.value.details().replace("no_such_run", "X")), rpc

    # ListRuns: beta sees nothing of acme's.
    assert list_all_runs(beta, page_size=10) == []
    # CreateRun: the same key in beta's namespace is a new run (no ALREADY_EXISTS that would
    # reveal acme's run).
    theirs = create_run(beta, header("secret_run")).run
    assert theirs.uid != created.uid
    # acme's run is untouched by all of the above (not renamed, deleted, resumed or cleaned up).
    after = acme.GetRun(svc.GetRunRequest(name=mine), timeout=10).run
    assert after.uid == created.uid and after.name == mine
    assert after.state != run_pb.RUN_STATE_CLEANED_UP
    assert [r.uid for r in list_all_runs(acme, page_size=10)] == [created.uid]
    assert [r.uid for r in list_all_runs(beta, page_size=10)] == [theirs.uid]


def test_uploaded_media_are_private_to_the_tenant(auth_server, tenants, two_tenants):
    server = auth_server(tenants)
    acme = tenant_stub(server.channel, two_tenants["acme"])
    beta = tenant_stub(server.channel, two_tenants["beta"])
    data = b"acme's private image bytes"
    requests = upload_media_requests(data)
    digest = requests[0].header.content_digest
    first = acme.UploadMedia(iter(requests), timeout=10)
    assert not first.already_present
    find = svc.FindMissingMediaRequest(content_digests=[digest])
    assert list(acme.FindMissingMedia(find, timeout=10).missing_digests) == []
    # beta cannot learn that acme holds these bytes...
    assert list(beta.FindMissingMedia(find, timeout=10).missing_digests) == [digest]
    # ...and its own upload of them is a new upload into its own store.
    again = beta.UploadMedia(iter(upload_media_requests(data)), timeout=10)
    assert not again.already_present
    assert acme.UploadMedia(iter(upload_media_requests(data)), timeout=10).already_present


def wait_unauthenticated(stub, timeout: float = 15) -> str:
    def refused() -> str:
        try:
            stub.ListRuns(svc.ListRunsRequest(parent="datasets/quickstart"), timeout=5)
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.UNAUTHENTICATED, e
            return e.details()
        return ""

    return wait_until(refused, timeout, "the revoked token refused")


def test_a_token_removed_from_the_file_is_revoked_on_sighup(auth_server, tenants, two_tenants):
    rotated = new_token()
    server = auth_server(tenants, args=["--tenants_reload_seconds", "0"])
    old = tenant_stub(server.channel, two_tenants["acme"])
    create_run(old, header("kept"), image_samples(2))
    with FileReads(tenants.path) as reads:
        tenants.set_tokens("acme", [rotated])
        # No periodic reload: the old token works until SIGHUP...
        old.ListRuns(svc.ListRunsRequest(parent="datasets/quickstart"), timeout=5)
        assert reads.count() == 0
        server.proc.send_signal(signal.SIGHUP)
        details = wait_unauthenticated(old)
        # ...which made the only read of the file.
        assert reads.count() == 1
    assert "not valid (unknown or revoked)" in details
    # The tenant's runs stay; the new token reaches them.
    new = tenant_stub(server.channel, rotated)
    assert [r.anno_key for r in list_all_runs(new, page_size=10)] == ["kept"]
    server.wait_for_stderr("tenants file reloaded (SIGHUP)")


def test_a_token_removed_from_the_file_is_revoked_by_the_periodic_check(auth_server, tenants,
                                                                        two_tenants):
    server = auth_server(tenants, args=["--tenants_reload_seconds", "1"])
    beta = tenant_stub(server.channel, two_tenants["beta"])
    beta.ListRuns(svc.ListRunsRequest(parent="datasets/quickstart"), timeout=5)
    tenants.set_tokens("beta", [])
    wait_unauthenticated(beta)
    # A broken file keeps the current tenants (acme still works) and is reported once: by the
    # first check that read it, not by the next one.
    with FileReads(tenants.path) as reads:
        tenants.path.write_text('{"tenants": [{"name": ')
        server.wait_for_stderr("tenants file not reloaded")
        acme = tenant_stub(server.channel, two_tenants["acme"])
        acme.ListRuns(svc.ListRunsRequest(parent="datasets/quickstart"), timeout=5)
        warned_at = reads.count()
        wait_until(lambda: reads.count() > warned_at, 15, "the next periodic check")
    # The mended file is taken at SIGHUP. That reload waits for the running check to end
    # (reloads take turns), so once it is logged the check that read the broken file again
    # is over.
    tenants.write()
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for_stderr("tenants file reloaded (SIGHUP)")
    assert server.log().count("tenants file not reloaded") == 1


def test_a_tenant_without_a_v7_key_gets_a_clear_failure(auth_server, tenants, two_tenants):
    server = auth_server(tenants)
    acme = tenant_stub(server.channel, two_tenants["acme"])
    create_run(acme, header("no_key"))

    def failed():
        run = acme.GetRun(svc.GetRunRequest(name=run_name("no_key")), timeout=5).run
        return run if run.state == run_pb.RUN_STATE_FAILED else None

    run = wait_until(failed, 15, "the run failed")
    assert "tenant 'acme' has no V7 API key in the tenants file" in run.failure_reason
    with pytest.raises(grpc.RpcError) as info:
        acme.GetRunStatus(svc.GetRunStatusRequest(name=run_name("no_key")), timeout=5)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "tenant 'acme' has no V7 API key" in info.value.details()
