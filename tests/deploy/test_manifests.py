"""deploy/kubernetes: render every kustomization with kustomize and check the output offline.

Every rendered object (and every Secret template) is validated against the Kubernetes OpenAPI
JSON schemas in strict mode (no unknown fields) with `kubernetes-validate`, whose PyPI package
carries the schemas of each Kubernetes release (pinned in tests/requirements.txt; nothing is
downloaded at test time), for the oldest release the README supports and the newest it ships.
The other checks are written for these manifests: native gRPC probes on the plaintext health port (start-up
and liveness on the liveness service), pod and container securityContext, secrets only by
reference, ports, names and labels consistent across Deployment, Services, PDB, HPA and
NetworkPolicy, the replica count owned by the HPA alone, the ConfigMap's keys against the flags
of the built `labelport-server --help`, and the single-replica rules of the SQLite store.
With the HTTP/JSON gateway sidecar (components/http-gateway): the same container security, HTTP
probes, its port on the Service and the NetworkPolicy, and its env against the flags of
`labelport-gateway --help` (built from gateway/ with `go build`). With TLS (components/tls):
the certificate Secret mounted and named by LABELPORT_TLS_CERT/KEY, the probes unchanged, and a
gateway sidecar only with components/http-gateway-tls (TLS to the server, verified for a name
the certificate carries; HTTPS to its callers and probes).
kustomize is installed by .ci/setup (Go module proxy, pinned).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from . import dockerfile_lint

REPO = Path(__file__).resolve().parents[2]
KUBE = REPO / "deploy" / "kubernetes"
SERVER = Path(os.environ.get("LP_BUILD", str(REPO / "build"))) / "service/server/labelport-server"
GATEWAY_DIR = REPO / "gateway"
GATEWAY = Path(os.environ.get("LP_BUILD", str(REPO / "build"))) / "gateway/labelport-gateway"
# Buildable kustomizations (Components only take effect inside one).
KUSTOMIZATIONS = sorted(
    p.parent for p in KUBE.rglob("kustomization.yaml")
    if yaml.safe_load(p.read_text()).get("kind", "Kustomization") == "Kustomization")
SECRET_EXAMPLES = sorted(KUBE.rglob("*.secret.example.yaml"))

TLS_OVERLAYS = (KUBE / "overlays" / "tls", KUBE / "overlays" / "tls-http-gateway")
HEALTH_SERVICE = "labelport.v1.AnnotationService"
LIVENESS_SERVICE = "liveness"  # SERVING until SIGTERM, independent of V7 and the store
# Kubernetes releases whose schemas the manifests must satisfy: the oldest deploy/README.md
# supports (native gRPC probes are GA in 1.27) and the newest kubernetes-validate carries.
KUBERNETES_VERSIONS = ("1.27.0", latest_version())
CONTAINER = "labelport-server"
GATEWAY_CONTAINER = "labelport-gateway"
RUNTIME_UID = 10001
POD_LABELS = {"app.kubernetes.io/name": "labelport", "app.kubernetes.io/component": "server"}
DNS_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SECRET_LIKE = re.compile(r"(API_?KEY|TOKEN|PASSWORD|SECRET|CREDENTIAL)", re.IGNORECASE)

# apiVersion and required fields (dotted paths) of every kind the manifests may contain.
KINDS = {
    "ServiceAccount": ("v1", []),
    "ConfigMap": ("v1", ["data"]),
    "PersistentVolumeClaim": ("v1", ["spec.accessModes", "spec.resources.requests.storage"]),
    "Service": ("v1", ["spec.selector", "spec.ports"]),
    "Deployment": ("apps/v1", ["spec.selector.matchLabels", "spec.template.metadata.labels",
                               "spec.template.spec.containers"]),
    "PodDisruptionBudget": ("policy/v1", ["spec.selector.matchLabels"]),
    "HorizontalPodAutoscaler": ("autoscaling/v2", ["spec.scaleTargetRef", "spec.minReplicas",
                                                   "spec.maxReplicas", "spec.metrics"]),
    "NetworkPolicy": ("networking.k8s.io/v1", ["spec.podSelector", "spec.policyTypes",
                                               "spec.ingress", "spec.egress"]),
}
EXPECTED_KINDS = set(KINDS)


def kustomize() -> str:
    gobin = Path(os.environ.get("LP_GOBIN", Path.home() / ".cache/labelport/gobin"))
    found = shutil.which("kustomize") or (
        str(gobin / "kustomize") if (gobin / "kustomize").exists() else None
    )
    assert found, "kustomize not found: run `bash .ci/setup` (installs it into $LP_GOBIN)"
    return found


_rendered: dict[Path, list[dict]] = {}


def render(directory: Path) -> list[dict]:
    if directory not in _rendered:
        out = subprocess.run([kustomize(), "build", str(directory)], capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, f"kustomize build {directory} failed:\n{out.stderr}"
        _rendered[directory] = [d for d in yaml.safe_load_all(out.stdout) if d]
    return _rendered[directory]


def get(obj: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def one(docs: list[dict], kind: str) -> dict:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def gateway_env_flags() -> set[str]:
    """LABELPORT_GATEWAY_* variables of `labelport-gateway --help` (built here with go build)."""
    built = subprocess.run(["go", "build", "-o", str(GATEWAY), "./cmd/labelport-gateway"],
                           cwd=GATEWAY_DIR, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    out = subprocess.run([str(GATEWAY), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return set(re.findall(r"env (LABELPORT_GATEWAY_[A-Z0-9_]+)", out.stdout + out.stderr))


def server_env_flags() -> set[str]:
    assert SERVER.exists(), f"{SERVER} is not built: run `bash .ci/build labelport_server`"
    out = subprocess.run([str(SERVER), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return set(re.findall(r"env (LABELPORT_[A-Z0-9_]+)", out.stdout))


class Rendered:
    """The objects of one rendered kustomization and the facts the checks share."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.docs = render(directory)
        self.deployment = one(self.docs, "Deployment")
        self.pod = self.deployment["spec"]["template"]["spec"]
        containers = self.pod["containers"]
        names = [c["name"] for c in containers]
        assert names in ([CONTAINER], [CONTAINER, GATEWAY_CONTAINER]), names
        self.container = containers[0]
        # The HTTP/JSON gateway sidecar, when the kustomization has it.
        self.gateway = containers[1] if len(containers) > 1 else None
        self.config = one(self.docs, "ConfigMap")
        self.env = {e["name"]: e for e in self.container.get("env", [])}
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        assert "grpc" in ports, "the container has no port named grpc"
        self.grpc_port = ports["grpc"]
        assert "metrics" in ports, "the container has no port named metrics"
        self.metrics_port = ports["metrics"]
        assert "health" in ports, "the container has no port named health"
        self.health_port = ports["health"]
        # The HPA owns the replica count; the Deployment starts at its minimum.
        self.hpa = one(self.docs, "HorizontalPodAutoscaler")
        self.replicas = self.hpa["spec"]["minReplicas"]
        self.services = {d["metadata"]["name"]: d for d in self.docs if d["kind"] == "Service"}

    def setting(self, name: str):
        """The effective value of a LABELPORT_* setting: `env` wins over the ConfigMap."""
        if name in self.env:
            return self.env[name].get("value", self.env[name].get("valueFrom"))
        return self.config["data"].get(name)

    @property
    def sqlite(self) -> bool:
        store = self.setting("LABELPORT_STORE")
        return isinstance(store, str) and store.startswith("sqlite")


@pytest.fixture(params=KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(KUBE)))
def rendered(request) -> Rendered:
    return Rendered(request.param)


def test_every_kustomization_is_found():
    assert KUBE / "base" in KUSTOMIZATIONS
    assert KUBE / "overlays" / "postgresql" in KUSTOMIZATIONS
    assert KUBE / "overlays" / "http-gateway" in KUSTOMIZATIONS
    assert KUBE / "overlays" / "tls" in KUSTOMIZATIONS
    assert KUBE / "overlays" / "tls-http-gateway" in KUSTOMIZATIONS
    assert KUBE / "components" / "http-gateway-tls" not in KUSTOMIZATIONS  # a Component
    assert KUBE / "components" / "tls" not in KUSTOMIZATIONS  # a Component
    assert KUBE / "components" / "http-gateway" not in KUSTOMIZATIONS  # a Component


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rendered_objects_validate_against_the_kubernetes_schemas(rendered: Rendered, version):
    for doc in rendered.docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']} is invalid for Kubernetes "
                        f"{version}: {e.message} at {'.'.join(map(str, e.path))}")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_secret_templates_validate_against_the_kubernetes_schemas(version):
    for path in SECRET_EXAMPLES:
        kubernetes_validate.validate(yaml.safe_load(path.read_text()), version, strict=True)


def test_schema_validation_catches_mistakes():
    """The validator is strict: an unknown field or a wrong type fails (so the tests above
    would catch a typo in the manifests)."""
    deployment = one(render(KUBE / "base"), "Deployment")
    typo = yaml.safe_load(yaml.safe_dump(deployment))
    typo["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSIONS[0], strict=True)
    wrong = yaml.safe_load(yaml.safe_dump(deployment))
    wrong["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "50051"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSIONS[0], strict=True)


def test_kinds_api_versions_and_required_fields(rendered: Rendered):
    kinds = [d["kind"] for d in rendered.docs]
    assert set(kinds) == EXPECTED_KINDS, f"unexpected kinds: {sorted(set(kinds))}"
    # Two Services (ClusterIP and headless); one of every other kind.
    assert sorted(kinds) == sorted([*EXPECTED_KINDS, "Service"]), (
        f"unexpected counts of kinds: {sorted(kinds)}")
    for doc in rendered.docs:
        api_version, required = KINDS[doc["kind"]]
        assert doc["apiVersion"] == api_version, f"{doc['kind']}: apiVersion {doc['apiVersion']}"
        name = get(doc, "metadata.name")
        assert name and DNS_RE.match(name) and len(name) <= 63, f"{doc['kind']}: bad name {name}"
        for path in required:
            assert get(doc, path) not in (None, [], {}), f"{doc['kind']} {name}: no {path}"


def test_labels_are_consistent(rendered: Rendered):
    for doc in rendered.docs:
        labels = get(doc, "metadata.labels") or {}
        assert labels.get("app.kubernetes.io/part-of") == "labelport", doc["kind"]
        for key, value in POD_LABELS.items():
            assert labels.get(key) == value, f"{doc['kind']}: label {key}"
    spec = rendered.deployment["spec"]
    assert spec["selector"]["matchLabels"] == POD_LABELS
    assert POD_LABELS.items() <= spec["template"]["metadata"]["labels"].items()


def test_native_grpc_probes_on_the_plaintext_health_port(rendered: Rendered):
    # Readiness follows the pod's store; start-up and liveness follow neither V7 nor the store
    # (a pod started during a V7 outage would otherwise be killed). The probes use the health
    # port, which the server serves without TLS whatever the gRPC port requires.
    services = {"livenessProbe": LIVENESS_SERVICE, "readinessProbe": HEALTH_SERVICE,
                "startupProbe": LIVENESS_SERVICE}
    for probe, service in services.items():
        spec = rendered.container.get(probe)
        assert spec, f"no {probe}"
        assert set(spec) & {"exec", "httpGet", "tcpSocket"} == set(), f"{probe} is not gRPC"
        assert spec["grpc"] == {"port": rendered.health_port, "service": service}, probe
    listen = rendered.setting("LABELPORT_HEALTH_LISTEN")
    assert isinstance(listen, str), "LABELPORT_HEALTH_LISTEN is not set"
    host, _, port = listen.rpartition(":")
    assert int(port) == rendered.health_port and host == "0.0.0.0", listen
    assert rendered.health_port != rendered.grpc_port
    # Nothing but the kubelet needs it: no Service exposes it.
    for name, service in rendered.services.items():
        targets = {p.get("targetPort") for p in service["spec"]["ports"]}
        assert not targets & {"health", rendered.health_port}, name


def test_tls_component_mounts_the_certificate(rendered: Rendered):
    cert = rendered.setting("LABELPORT_TLS_CERT")
    if rendered.directory not in TLS_OVERLAYS:
        assert cert is None, f"only {TLS_OVERLAYS} turn TLS on"
        return
    key = rendered.setting("LABELPORT_TLS_KEY")
    mounts = secret_mounts(rendered)
    assert "/etc/labelport/tls" in mounts, mounts
    secret, volume, mount = mounts["/etc/labelport/tls"]
    assert secret == "labelport-tls" and mount.get("readOnly") is True
    assert cert == "/etc/labelport/tls/tls.crt" and key == "/etc/labelport/tls/tls.key"
    # The base's mounts and settings are all still there.
    assert "/etc/labelport/tenants" in mounts
    assert rendered.setting("LABELPORT_AUTH") == "token"


def test_metrics_port_is_served_and_announced(rendered: Rendered):
    listen = rendered.setting("LABELPORT_METRICS_LISTEN")
    assert isinstance(listen, str) and listen.rsplit(":", 1)[1] == str(rendered.metrics_port)
    assert listen.rsplit(":", 1)[0] == "0.0.0.0", "metrics must be reachable from outside the pod"
    annotations = rendered.deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/port") == str(rendered.metrics_port)
    assert annotations.get("prometheus.io/path") == "/metrics"


def test_pod_and_container_security(rendered: Rendered):
    pod_sc = rendered.pod["securityContext"]
    assert pod_sc["runAsNonRoot"] is True
    assert pod_sc["runAsUser"] == RUNTIME_UID and pod_sc["runAsGroup"] == RUNTIME_UID
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = rendered.container["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc.get("privileged", False) is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert rendered.pod["automountServiceAccountToken"] is False
    # A Service named labelport would inject LABELPORT_* variables the server reads.
    assert rendered.pod["enableServiceLinks"] is False
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        assert not rendered.pod.get(field), field
    accounts = {d["metadata"]["name"] for d in rendered.docs if d["kind"] == "ServiceAccount"}
    assert rendered.pod["serviceAccountName"] in accounts


def test_resources_are_set(rendered: Rendered):
    resources = rendered.container["resources"]
    for key in ("cpu", "memory"):
        assert key in resources["requests"], f"no {key} request"
    assert "memory" in resources["limits"], "no memory limit"


def test_image_is_tagged(rendered: Rendered):
    image = rendered.container["image"]
    assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image


def test_volumes_for_data_dir_and_tmp(rendered: Rendered):
    volumes = {v["name"]: v for v in rendered.pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in rendered.container["volumeMounts"]}
    data_dir = rendered.setting("LABELPORT_DATA_DIR")
    assert data_dir in mounts, f"--data_dir {data_dir} is not a mounted volume"
    data = volumes[mounts[data_dir]]
    assert "persistentVolumeClaim" in data or "emptyDir" in data
    if "persistentVolumeClaim" in data:
        claims = {d["metadata"]["name"] for d in rendered.docs
                  if d["kind"] == "PersistentVolumeClaim"}
        assert data["persistentVolumeClaim"]["claimName"] in claims
    assert "emptyDir" in volumes[mounts["/tmp"]], "/tmp must be an emptyDir (read-only root)"


def test_termination_grace_outlasts_the_drain(rendered: Rendered):
    drain = int(rendered.setting("LABELPORT_DRAIN_SECONDS") or 10)  # 10 is the flag default
    grace = rendered.pod["terminationGracePeriodSeconds"]
    assert grace >= drain + 10, f"grace {grace}s leaves under 10s after a {drain}s drain"


def test_config_map_keys_are_server_flags(rendered: Rendered):
    flags = server_env_flags()
    unknown = sorted(set(rendered.config["data"]) - flags)
    assert not unknown, f"ConfigMap keys that are not labelport-server flags: {unknown}"
    for name in rendered.env:
        assert name in flags, f"unknown env {name}"
    refs = [e["configMapRef"]["name"] for e in rendered.container["envFrom"]]
    assert refs == [rendered.config["metadata"]["name"]]
    host, _, port = rendered.setting("LABELPORT_LISTEN").rpartition(":")
    assert int(port) == rendered.grpc_port
    assert host not in ("127.0.0.1", "localhost", "[::1]"), "loopback is unreachable in a pod"


def secret_mounts(rendered: Rendered) -> dict:
    """mountPath → (Secret name, volume, mount) of every Secret volume the container mounts."""
    volumes = {v["name"]: v for v in rendered.pod.get("volumes", [])}
    out = {}
    for mount in rendered.container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "secret" in volume:
            out[mount["mountPath"]] = (volume["secret"]["secretName"], volume, mount)
    return out


def tenants_file_reference(rendered: Rendered) -> tuple:
    """(Secret name, key) of the tenants file LABELPORT_TENANTS_FILE names."""
    path = Path(rendered.setting("LABELPORT_TENANTS_FILE"))
    mounts = secret_mounts(rendered)
    assert str(path.parent) in mounts, f"{path} is not in a mounted Secret"
    return mounts[str(path.parent)][0], path.name


def test_authentication_is_on(rendered: Rendered):
    # --auth=none on 0.0.0.0 is refused by the server; tokens come from a mounted Secret.
    assert rendered.setting("LABELPORT_AUTH") in ("token", "mtls")
    tenants_file_reference(rendered)
    for secret, volume, mount in secret_mounts(rendered).values():
        assert mount.get("readOnly") is True, f"Secret {secret} is mounted writable"
        mode = volume["secret"].get("defaultMode", 0o644)
        assert mode & 0o007 == 0, f"Secret {secret} is world-readable (mode {mode:o})"
    assert "FIFTYONE_DARWIN_API_KEY" not in rendered.env, "V7 keys are per tenant"


def test_secrets_only_by_reference(rendered: Rendered):
    assert not [d for d in rendered.docs if d["kind"] == "Secret"], "a Secret is rendered"
    for name, entry in rendered.env.items():
        if SECRET_LIKE.search(name):
            assert "secretKeyRef" in entry.get("valueFrom", {}), f"{name} is not from a Secret"
    for key in rendered.config["data"]:
        assert not SECRET_LIKE.search(key) or key.endswith("_FILE"), f"ConfigMap holds {key}"
    store = rendered.setting("LABELPORT_STORE")
    assert isinstance(store, dict) or "@" not in store, "store credentials in the ConfigMap"


def tls_references(rendered: Rendered) -> set:
    """(Secret, key) of the certificate and key files LABELPORT_TLS_CERT/KEY name, if set."""
    out = set()
    for setting in ("LABELPORT_TLS_CERT", "LABELPORT_TLS_KEY"):
        path = rendered.setting(setting)
        if path is None:
            continue
        directory, _, key = path.rpartition("/")
        mounts = secret_mounts(rendered)
        assert directory in mounts, f"{setting}={path} is not in a mounted Secret"
        out.add((mounts[directory][0], key))
    return out


def test_secret_templates_match_the_references():
    references = set()
    for directory in KUSTOMIZATIONS:
        for container in Rendered(directory).pod["containers"]:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    references.add((ref["name"], ref["key"]))
        references.add(tenants_file_reference(Rendered(directory)))
        references |= tls_references(Rendered(directory))
    templates = set()
    for path in SECRET_EXAMPLES:
        doc = yaml.safe_load(path.read_text())
        assert doc["kind"] == "Secret" and "data" not in doc, path
        for key, value in doc["stringData"].items():
            assert "REPLACE" in value, f"{path}: {key} is not an obvious placeholder"
            templates.add((doc["metadata"]["name"], key))
        for kustomization in KUBE.rglob("kustomization.yaml"):
            spec = yaml.safe_load(kustomization.read_text())
            used = list(spec.get("resources", []))
            used += [p["path"] for p in spec.get("patches", []) if "path" in p]
            assert not [u for u in used if Path(u).name == path.name], (
                f"{kustomization} applies the template {path}"
            )
    # Mounted Secrets may hold more keys than the one named (the tenants' V7 key files).
    assert references <= templates
    assert {name for name, _ in templates} == {name for name, _ in references}


def test_service_matches_the_pods(rendered: Rendered):
    assert set(rendered.services) == {"labelport", "labelport-headless"}
    service = rendered.services["labelport"]
    assert service["spec"]["selector"] == POD_LABELS
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    expected = [("grpc", rendered.grpc_port), ("metrics", rendered.metrics_port)]
    if rendered.gateway is not None:
        expected.append(("http", gateway_port(rendered)))
    assert set(ports) == {name for name, _ in expected}
    for name, container_port in expected:
        port = ports[name]
        assert port["protocol"] == "TCP"
        assert port["targetPort"] in (name, container_port)
        assert port["port"] == container_port


def test_headless_service_for_client_side_balancing(rendered: Rendered):
    """DNS of the headless Service lists every ready pod, so clients can balance per call."""
    headless = rendered.services["labelport-headless"]["spec"]
    assert headless["clusterIP"] == "None"
    assert headless["selector"] == POD_LABELS
    assert not headless.get("publishNotReadyAddresses"), "unready pods must not be resolved"
    assert [(p["name"], p["port"], p["targetPort"]) for p in headless["ports"]] == [
        ("grpc", rendered.grpc_port, "grpc")]


def test_the_autoscaler_alone_owns_the_replica_count(rendered: Rendered):
    # A `replicas` in the Deployment is reset by every apply and fights the HPA.
    assert "replicas" not in rendered.deployment["spec"]


def test_disruption_budget(rendered: Rendered):
    spec = one(rendered.docs, "PodDisruptionBudget")["spec"]
    assert spec["selector"]["matchLabels"] == POD_LABELS
    if rendered.replicas == 1:
        # minAvailable 1 on one replica would block every node drain.
        assert spec.get("maxUnavailable") == 1 and "minAvailable" not in spec
    else:
        assert spec.get("minAvailable", 0) >= 1 and spec["minAvailable"] < rendered.replicas


def test_autoscaler_targets_the_deployment(rendered: Rendered):
    spec = rendered.hpa["spec"]
    target = spec["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    assert target["name"] == rendered.deployment["metadata"]["name"]
    assert 1 <= spec["minReplicas"] <= spec["maxReplicas"]
    cpu = [m for m in spec["metrics"] if get(m, "resource.name") == "cpu"]
    assert cpu and "cpu" in rendered.container["resources"]["requests"]


def test_network_policy(rendered: Rendered):
    spec = one(rendered.docs, "NetworkPolicy")["spec"]
    assert spec["podSelector"]["matchLabels"] == POD_LABELS
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    ingress_ports = {(p["protocol"], p["port"]) for rule in spec["ingress"] for p in rule["ports"]}
    expected = {("TCP", rendered.grpc_port), ("TCP", rendered.metrics_port)}
    if rendered.gateway is not None:
        expected.add(("TCP", gateway_port(rendered)))
    assert ingress_ports == expected, "ingress beyond the gRPC, metrics (and HTTP) ports"
    for rule in spec["ingress"]:
        if {p["port"] for p in rule["ports"]} == {rendered.metrics_port}:
            assert rule["from"], "the metrics port must be limited to the scrapers"
        if rendered.gateway is not None and gateway_port(rendered) in {
                p["port"] for p in rule["ports"]}:
            assert rule["from"], "the HTTP port must be limited like the gRPC port"
    egress = {(p["protocol"], p["port"]) for rule in spec["egress"] for p in rule["ports"]}
    allowed = {("UDP", 53), ("TCP", 53), ("TCP", 443)}
    if not rendered.sqlite:
        allowed.add(("TCP", 5432))
    assert egress == allowed


def test_sqlite_store_runs_exactly_one_replica(rendered: Rendered):
    if not rendered.sqlite:
        return  # the PostgreSQL overlay: see the next test
    assert rendered.replicas == 1
    assert rendered.deployment["spec"]["strategy"] == {"type": "Recreate"}
    hpa = one(rendered.docs, "HorizontalPodAutoscaler")["spec"]
    assert hpa["minReplicas"] == hpa["maxReplicas"] == 1
    pvc = one(rendered.docs, "PersistentVolumeClaim")["spec"]
    assert pvc["accessModes"] == ["ReadWriteOnce"]


def test_postgresql_overlay_is_multi_replica(rendered: Rendered):
    if rendered.sqlite:
        return
    assert rendered.directory == KUBE / "overlays" / "postgresql"
    assert rendered.replicas >= 2
    assert one(rendered.docs, "HorizontalPodAutoscaler")["spec"]["minReplicas"] >= 2
    assert rendered.env["LABELPORT_STORE"]["valueFrom"]["secretKeyRef"]["name"]
    # Each replica holds its own leases.
    worker = rendered.env["LABELPORT_WORKER_ID"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert worker == "metadata.name"
    assert one(rendered.docs, "PersistentVolumeClaim")["spec"]["accessModes"] == [
        "ReadWriteMany"
    ]
    assert one(rendered.docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1


def test_server_accepts_a_postgresql_store_url_and_never_shows_its_password():
    """The overlay's store: the server takes a postgresql:// URL (here with no database
    behind it, so start-up fails) and reports the failure without the password."""
    assert SERVER.exists(), f"{SERVER} is not built: run `bash .ci/build labelport_server`"
    with tempfile.TemporaryDirectory() as data_dir:
        out = subprocess.run(
            [str(SERVER), "--listen", "127.0.0.1:0", "--data_dir", data_dir, "--store",
             "postgresql://labelport:s3cret-Pa55@127.0.0.1:1/labelport"],
            capture_output=True, text=True, timeout=30,
            env={k: v for k, v in os.environ.items() if not k.startswith("LABELPORT_")})
    assert out.returncode == 1, out
    assert "not supported" not in out.stderr
    assert "cannot open the run store" in out.stderr, out.stderr
    assert "127.0.0.1:1" in out.stderr and "****" in out.stderr, out.stderr
    assert "s3cret-Pa55" not in out.stderr + out.stdout


def test_image_and_manifests_agree(rendered: Rendered):
    """The Dockerfile's port, user and data directory are the ones the pods use."""
    text = (REPO / "deploy" / "Dockerfile").read_text()
    image_env = dockerfile_lint.final_stage_env(text)
    assert image_env["LABELPORT_DATA_DIR"] == rendered.setting("LABELPORT_DATA_DIR")
    assert image_env["LABELPORT_LISTEN"] == rendered.setting("LABELPORT_LISTEN")
    assert int(dockerfile_lint.GRPC_PORT) == rendered.grpc_port
    assert int(dockerfile_lint.RUNTIME_UID) == rendered.pod["securityContext"]["runAsUser"]


def gateway_port(rendered: Rendered) -> int:
    ports = {p["name"]: p["containerPort"] for p in rendered.gateway["ports"]}
    assert "http" in ports, "the gateway container has no port named http"
    return ports["http"]


def test_http_gateway_sidecar(rendered: Rendered):
    """The gateway sidecar: as locked down as the server, HTTP probes on its own port, its
    settings are gateway flags, and it reaches the server over the pod's loopback."""
    gateway = rendered.gateway
    if gateway is None:
        assert rendered.directory != KUBE / "overlays" / "http-gateway"
        return
    port = gateway_port(rendered)
    assert gateway["securityContext"] == rendered.container["securityContext"]
    assert "cpu" in gateway["resources"]["requests"] and "memory" in gateway["resources"]["limits"]
    image = gateway["image"]
    assert image.startswith("labelport-gateway:") and not image.endswith(":latest"), image
    tls = rendered.setting("LABELPORT_TLS_CERT") is not None
    scheme = {"scheme": "HTTPS"} if tls else {}
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http", **scheme}
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http", **scheme}
    env = {e["name"]: e["value"] for e in gateway["env"]}
    if tls:
        # The server requires TLS: the sidecar dials it with TLS, verifying the pod's own
        # certificate for a name the certificate carries (not 127.0.0.1), and serves HTTPS
        # with the same certificate, mounted read-only from the server's Secret.
        mounts = {m["mountPath"]: m for m in gateway.get("volumeMounts", [])}
        server_mounts = secret_mounts(rendered)
        for name in ("LABELPORT_GATEWAY_BACKEND_CA_FILE", "LABELPORT_GATEWAY_TLS_CERT"):
            assert env.get(name) == rendered.setting("LABELPORT_TLS_CERT"), name
        assert env.get("LABELPORT_GATEWAY_TLS_KEY") == rendered.setting("LABELPORT_TLS_KEY")
        assert env.get("LABELPORT_GATEWAY_BACKEND_SERVER_NAME"), "no TLS server name to verify"
        directory = env["LABELPORT_GATEWAY_TLS_CERT"].rpartition("/")[0]
        assert mounts[directory]["readOnly"] is True
        assert mounts[directory]["name"] == server_mounts[directory][2]["name"]
    else:
        assert not {k for k in env if "TLS" in k or "CA_FILE" in k}, env
    unknown = sorted(set(env) - gateway_env_flags())
    assert not unknown, f"gateway env that are not labelport-gateway flags: {unknown}"
    host, _, listen_port = env["LABELPORT_GATEWAY_LISTEN"].rpartition(":")
    assert int(listen_port) == port and host == "0.0.0.0"
    assert env["LABELPORT_GATEWAY_BACKEND"] == f"127.0.0.1:{rendered.grpc_port}"
    drain = int(env.get("LABELPORT_GATEWAY_DRAIN_SECONDS", 20))  # 20 is the flag default
    assert rendered.pod["terminationGracePeriodSeconds"] >= drain + 10
