"""labelport-gateway as the Kubernetes sidecar runs it with TLS on (deploy/kubernetes/
components/http-gateway-tls): the server's gRPC port requires TLS with a certificate for the
Service's DNS name; the gateway dials the server over loopback, verifies it with the pod's own
certificate and `--backend_server_name`, and serves HTTPS with the same certificate."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import grpc
import pytest
from server.certs import make_server_certificate
from server.conftest import ServerProcess
from upload.support import Sim

from .conftest import Gateway

SERVICE_NAME = "labelport.ns.svc"


@pytest.fixture(scope="module")
def pod_tls(tmp_path_factory) -> dict:
    """A CA and the pod's certificate (tls.crt holds the leaf alone, as a kubernetes.io/tls
    Secret may): names the Service's DNS name and 127.0.0.1, not "localhost"."""
    return make_server_certificate(
        tmp_path_factory.mktemp("pod-tls"), "labelport gateway test CA", common_name="labelport",
        extensions=f"subjectAltName=DNS:{SERVICE_NAME},IP:127.0.0.1\n"
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        ca_file="ca.crt", cert_file="tls.crt", key_file="tls.key")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, pod_tls):
    sim = Sim(tmp_path_factory.mktemp("sim"))
    data_dir = tmp_path_factory.mktemp("data")
    flags = [*sim.server_flags(data_dir), "--tls_cert", str(pod_tls["cert"]),
             "--tls_key", str(pod_tls["key"])]
    server = ServerProcess(data_dir, flags, credentials=grpc.ssl_channel_credentials(
        root_certificates=pod_tls["ca"].read_bytes()))
    yield server
    code = server.stop()
    sim.stop()
    assert code == 0, server.stderr()


@pytest.fixture
def start_gateway(tmp_path, gateway_binary, tls_server):
    started = []

    def factory(*args: str) -> Gateway:
        # "localhost": a name the certificate does not carry, as 127.0.0.1 is not in a real
        # Service certificate.
        gw = Gateway(gateway_binary, f"localhost:{tls_server.port}", tmp_path, args=args)
        started.append(gw)
        return gw

    yield factory
    for gw in started:
        assert gw.stop() == 0, gw.stderr()


def https_get(gateway: Gateway, path: str, ca) -> tuple:
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with urllib.request.urlopen(gateway.url + path, timeout=30, context=context) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_sidecar_speaks_tls_both_ways(start_gateway, pod_tls):
    gw = start_gateway("--backend_ca_file", str(pod_tls["cert"]),
                       "--backend_server_name", SERVICE_NAME,
                       "--tls_cert", str(pod_tls["cert"]), "--tls_key", str(pod_tls["key"]))
    assert gw.url.startswith("https://")
    status, body = https_get(gw, "/readyz", pod_tls["ca"])
    assert status == 200 and body["status"] == "SERVING", body
    # An API call reaches the server over TLS and comes back with the server's error details.
    status, body = https_get(gw, "/v1/datasets/gw/runs/no_such_run", pod_tls["ca"])
    assert status == 404, body
    assert body["code"] == 5 and "no_such_run" in body["message"], body


def test_without_the_server_name_the_certificate_is_refused(start_gateway, pod_tls):
    gw = start_gateway("--backend_ca_file", str(pod_tls["cert"]),
                       "--tls_cert", str(pod_tls["cert"]), "--tls_key", str(pod_tls["key"]))
    status, body = https_get(gw, "/readyz", pod_tls["ca"])
    assert status == 503, body
    status, body = https_get(gw, "/v1/datasets/gw/runs/no_such_run", pod_tls["ca"])
    assert status == 503 and body["code"] == 14, body  # UNAVAILABLE: the TLS handshake failed


def test_a_plaintext_gateway_cannot_reach_a_tls_server(start_gateway):
    gw = start_gateway()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(gw.url + "/readyz", timeout=30)
    assert err.value.code == 503
