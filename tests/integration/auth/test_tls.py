"""TLS on the gRPC listener (--tls_cert/--tls_key) and --auth=mtls (client certificates mapped
to tenants through client_identities), with certificates made by `openssl` at test time."""

from __future__ import annotations

import grpc
import pytest
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import annotation_service_pb2_grpc
from server.helpers import create_run, header, list_all_runs, run_name

from .conftest import client_credentials, tls_flags
from .support import new_token, tenant_stub


def connect(target: str, credentials: grpc.ChannelCredentials):
    channel = grpc.secure_channel(target, credentials)
    return channel, annotation_service_pb2_grpc.AnnotationServiceStub(channel)


def expect_no_connection(stub) -> None:
    with pytest.raises(grpc.RpcError) as info:
        stub.ListRuns(svc.ListRunsRequest(parent="datasets/quickstart"), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value


def test_token_auth_over_tls(auth_server, tenants, pki):
    token = new_token()
    tenants.add("acme", tokens=[token])
    server = auth_server(tenants, args=tls_flags(pki), credentials=client_credentials(pki))
    acme = tenant_stub(server.channel, token)
    create_run(acme, header("over_tls"))
    assert [r.anno_key for r in list_all_runs(acme, page_size=5)] == ["over_tls"]
    # Plaintext and an untrusted server certificate do not connect.
    plain = grpc.insecure_channel(server.target)
    expect_no_connection(tenant_stub(plain, token))
    plain.close()
    channel, _ = connect(server.target, client_credentials(pki, root="other_ca"))
    expect_no_connection(tenant_stub(channel, token))
    channel.close()
    assert "auth=token tls=on" in server.log()
    assert "bearer tokens travel in clear text" not in server.log()


@pytest.fixture
def mtls_server(auth_server, tenants, pki):
    tenants.add("acme", identities=["acme-ci", "acme.internal"])
    tenants.add("beta", identities=["beta-ci"])
    return auth_server(tenants, auth="mtls", args=tls_flags(pki, client_ca=True),
                       credentials=client_credentials(pki, "acme-ci"))


def test_mtls_maps_client_certificates_to_tenants(mtls_server, pki):
    acme = mtls_server.stub  # connected with the acme-ci certificate
    created = create_run(acme, header("by_cert")).run
    beta_channel, beta = connect(mtls_server.target, client_credentials(pki, "beta-ci"))
    # beta's certificate works, but only for beta's runs.
    assert list_all_runs(beta, page_size=5) == []
    with pytest.raises(grpc.RpcError) as info:
        beta.GetRun(svc.GetRunRequest(name=run_name("by_cert")), timeout=5)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as info:
        beta.DeleteRun(svc.DeleteRunRequest(name=run_name("by_cert")), timeout=5)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    beta_channel.close()
    # A SAN can name the tenant too (this certificate's CN is not listed).
    san_channel, san = connect(mtls_server.target, client_credentials(pki, "san-client"))
    assert [r.uid for r in list_all_runs(san, page_size=5)] == [created.uid]
    san_channel.close()


def test_mtls_refuses_unmapped_missing_and_foreign_certificates(mtls_server, pki):
    channel, stranger = connect(mtls_server.target, client_credentials(pki, "stranger"))
    with pytest.raises(grpc.RpcError) as info:
        stranger.ListRuns(svc.ListRunsRequest(parent="datasets/quickstart"), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "is not mapped to a tenant" in info.value.details()
    assert "stranger" in info.value.details()
    channel.close()
    # No client certificate, or one from a CA the server does not trust: no TLS session.
    for credentials in (client_credentials(pki), client_credentials(pki, "foreign")):
        channel, stub = connect(mtls_server.target, credentials)
        expect_no_connection(stub)
        channel.close()
    # A bearer token is no substitute for a certificate.
    channel, _ = connect(mtls_server.target, client_credentials(pki))
    expect_no_connection(tenant_stub(channel, new_token()))
    channel.close()
