"""The Kubernetes manifests (deploy/) and the images (Dockerfile), checked offline against the code.

Every overlay is rendered with `kubectl kustomize` and every object validated against the
Kubernetes schemas that kubernetes-validate bundles. The settings classes are read at test time,
so a setting renamed in code (or a variable misspelt in a manifest) fails here: every variable a
manifest sets is one the component reads, the essential ones are set and point at the right
Services, ports and probe paths match the apps, images are pinned, the network policies let
exactly the intended callers in, and each image holds what its app and migrations import.
"""

from __future__ import annotations

import base64
import copy
import functools
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from prometheus_client import metrics as prometheus_metrics

import owkernel.metrics
import services.approval.supervision.metrics
from gateway.settings import GatewaySettings
from owkernel.settings import PlatformSettings, ServiceSettings
from owtest import nats_server_binary
from simulators.province.settings import is_loopback
from tools.nats_auth import render as render_nats_auth
from tools.nats_auth import users as nats_auth_users
from tools.stack import COMPONENTS, Component

pytestmark = pytest.mark.xdist_group("deploy")

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent

# The oldest Kubernetes the manifests promise to work on (deploy/README.md); its schemas are
# bundled by kubernetes-validate, so the check runs offline.
KUBERNETES_VERSION = "1.33.0"
OVERLAYS = {"dev": "onewindow-dev", "prod": "onewindow"}
TARGETS = ["base", *(f"overlays/{o}" for o in OVERLAYS)]
NAMES = [c.name for c in COMPONENTS]
SERVICES = [n for n in NAMES if n != "gateway"]
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")

# Objects kubernetes-validate has no schema for. Their CRDs ship with their operators and are not
# vendored here (large, and not ours), so they are NOT schema-validated; the fields OneWindow
# relies on are checked by the tests below instead (test_postgres_cluster, test_secret_sources,
# test_backups, test_monitoring). A new custom resource must be added here, with its reason.
CUSTOM_RESOURCES: dict[tuple[str, str], str] = {
    ("postgresql.cnpg.io", "Cluster"): "CloudNativePG CRD; checked by test_postgres_cluster",
    ("postgresql.cnpg.io", "Database"): "CloudNativePG CRD; checked by test_postgres_cluster",
    ("postgresql.cnpg.io", "ScheduledBackup"): "CloudNativePG CRD; checked by test_backups",
    ("barmancloud.cnpg.io", "ObjectStore"): "Barman Cloud plugin CRD; checked by test_backups",
    ("external-secrets.io", "ExternalSecret"): "External Secrets Operator CRD; checked by test_secret_sources",
    ("monitoring.coreos.com", "PodMonitor"): "Prometheus Operator CRD; checked by test_monitoring",
    ("monitoring.coreos.com", "PrometheusRule"): "Prometheus Operator CRD; checked by test_monitoring",
}


# --- tools and rendering -----------------------------------------------------------------------
def tool(name: str) -> str:
    """A binary from the virtualenv (requirements-dev.txt ships kubectl and hadolint)."""
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} not found: install requirements-dev.txt (make venv-dev)"
    return found


@functools.cache
def render(target: str) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize deploy/<target>`, parsed."""
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(DEPLOY / target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize deploy/{target} failed:\n{result.stderr}"
    objs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    assert objs, f"deploy/{target} renders nothing"
    return objs


def of_kind(objs: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def named(objs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in of_kind(objs, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def group_of(obj: dict[str, Any]) -> str:
    api: str = obj["apiVersion"]
    return api.split("/")[0] if "/" in api else ""


def pod_templates(objs: tuple[dict[str, Any], ...]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, pod template) for every Deployment, StatefulSet and Job."""
    for obj in objs:
        if obj["kind"] in WORKLOAD_KINDS:
            yield obj, obj["spec"]["template"]


def containers(template: dict[str, Any]) -> list[dict[str, Any]]:
    spec = template["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def labels_of(template: dict[str, Any]) -> dict[str, str]:
    return dict(template["metadata"].get("labels", {}))


def component(name: str) -> Component:
    return next(c for c in COMPONENTS if c.name == name)


def deployment(objs: tuple[dict[str, Any], ...], name: str) -> dict[str, Any]:
    return named(objs, "Deployment", name)


def main_container(dep: dict[str, Any]) -> dict[str, Any]:
    spec = dep["spec"]["template"]["spec"]
    found: list[dict[str, Any]] = [c for c in spec["containers"] if c["name"] == dep["metadata"]["name"]]
    assert len(found) == 1, f"{dep['metadata']['name']}: no container named after the component"
    return found[0]


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels and matchExpressions)."""
    if selector is None:
        return False
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# --- settings, read from the code at test time -------------------------------------------------
@functools.cache
def settings_class(name: str) -> type[ServiceSettings]:
    """The ServiceSettings subclass in the component's settings module with its env prefix."""
    comp = component(name)
    package = comp.factory.split(":")[0].rsplit(".", 1)[0]
    module = importlib.import_module(f"{package}.settings")
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceSettings)
        and cls.__module__ == module.__name__
        and cls.model_config.get("env_prefix") == f"{comp.prefix}_"
    ]
    assert len(found) == 1, f"{module.__name__}: expected one settings class with prefix {comp.prefix}_"
    return found[0]


def env_names(cls: type[Any]) -> set[str]:
    """The environment variables a pydantic-settings class reads (prefix + field, or its alias)."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = set()
    for field_name, info in cls.model_fields.items():
        alias = info.validation_alias or info.alias
        names.add((alias if isinstance(alias, str) else prefix + field_name).upper())
    return names


@functools.cache
def readable_env(name: str) -> frozenset[str]:
    """Everything component `name` reads: its own prefixed settings plus ONEWINDOW_*."""
    return frozenset(env_names(settings_class(name)) | env_names(PlatformSettings))


def default_of(name: str, field: str) -> Any:
    return settings_class(name).model_fields[field].default


# --- where env values come from ----------------------------------------------------------------
TEMPLATE_VAR = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


def source_data(objs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, str | None]:
    """Keys (and values where git knows them) of a ConfigMap or Secret the pods refer to. A Secret
    may come from an ExternalSecret: its keys are the template's (values are templates)."""
    if kind == "ConfigMap":
        return dict(named(objs, "ConfigMap", name).get("data", {}))
    secrets = [o for o in of_kind(objs, "Secret") if o["metadata"]["name"] == name]
    if secrets:
        secret = secrets[0]
        data: dict[str, str | None] = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
        data.update(secret.get("stringData", {}))
        return data
    external = [o for o in of_kind(objs, "ExternalSecret") if o["spec"]["target"]["name"] == name]
    assert external, f"Secret {name} is referenced but neither rendered nor made by an ExternalSecret"
    spec = external[0]["spec"]
    template = spec["target"].get("template", {}).get("data")
    if template:
        return dict(template)
    return {d["secretKey"]: None for d in spec["data"]}


def container_env(objs: tuple[dict[str, Any], ...], container: dict[str, Any]) -> dict[str, str | None]:
    """Every variable a container gets from the manifests -> its value (None: only in the cluster)."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            data = source_data(objs, "ConfigMap", source["configMapRef"]["name"])
        else:
            data = source_data(objs, "Secret", source["secretRef"]["name"])
        env.update({prefix + k: v for k, v in data.items()})
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref = var["valueFrom"]
        if "configMapKeyRef" in ref:
            env[var["name"]] = source_data(objs, "ConfigMap", ref["configMapKeyRef"]["name"])[
                ref["configMapKeyRef"]["key"]
            ]
        elif "secretKeyRef" in ref:
            data = source_data(objs, "Secret", ref["secretKeyRef"]["name"])
            assert ref["secretKeyRef"]["key"] in data, f"{var['name']}: key missing in its Secret"
            env[var["name"]] = data[ref["secretKeyRef"]["key"]]
        else:
            env[var["name"]] = None
    return env


def component_containers(objs: tuple[dict[str, Any], ...], name: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, container) for every container of every workload of one component."""
    found = []
    for workload, template in pod_templates(objs):
        if labels_of(template).get("app.kubernetes.io/name") == name:
            for c in containers(template):
                found.append((f"{workload['kind']}/{workload['metadata']['name']}/{c['name']}", c))
    return found


# --- rendering and schemas ---------------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
def test_renders_into_the_namespace(target: str) -> None:
    objs = render(target)
    kinds = Counter(o["kind"] for o in objs)
    print(f"deploy/{target}: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    keys = [(o["kind"], o["metadata"]["name"]) for o in objs]
    assert len(keys) == len(set(keys)), "two objects with the same kind and name"
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "Job"):
        assert {o["metadata"]["name"].removesuffix("-migrate") for o in of_kind(objs, kind)} >= set(NAMES), kind
    if target == "base":
        return
    namespace = OVERLAYS[target.split("/")[1]]
    ns = named(objs, "Namespace", namespace)
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in objs:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, f"{obj['kind']}/{obj['metadata']['name']}"


@pytest.fixture
def schema_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """kubernetes-validate reads its (large) schema files for every object: read each once."""
    from kubernetes_validate import utils

    monkeypatch.setattr(utils, "schema_contents", functools.cache(utils.schema_contents))


@pytest.mark.parametrize("target", [f"overlays/{o}" for o in OVERLAYS])
@pytest.mark.usefixtures("schema_cache")
def test_objects_validate_against_kubernetes_schemas(target: str) -> None:
    """Every object of every overlay (the base is a part of each)."""
    errors, validated, unvalidated = [], 0, set()
    for obj in render(target):
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
            validated += 1
        except kubernetes_validate.SchemaNotFoundError:
            key = (group_of(obj), obj["kind"])
            if key in CUSTOM_RESOURCES:
                unvalidated.add(key)
            else:
                errors.append(f"{where}: no schema and not a known custom resource ({obj['apiVersion']})")
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{where}: {exc.message} at {'/'.join(map(str, exc.path))}")
    assert not errors, "\n".join(errors)
    assert validated >= 30
    for key in sorted(unvalidated):
        print(f"deploy/{target}: {key[1]} ({key[0]}) not schema-validated: {CUSTOM_RESOURCES[key]}")


def test_the_validator_rejects_a_broken_object() -> None:
    """The schema check is strict: an unknown field or a wrong type fails."""
    good = deployment(render("overlays/dev"), "intake")
    kubernetes_validate.validate(good, KUBERNETES_VERSION, strict=True)
    unknown = copy.deepcopy(good)
    unknown["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    wrong_type = copy.deepcopy(good)
    wrong_type["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8001"
    for broken in (unknown, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


# --- settings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", NAMES)
def test_every_variable_set_is_read_by_the_component(overlay: str, name: str) -> None:
    objs = render(f"overlays/{overlay}")
    found = component_containers(objs, name)
    assert len(found) >= 3, f"{name}: expected the app, its migration wait and its migration Job"
    readable = readable_env(name)
    for where, container in found:
        unread = sorted(set(container_env(objs, container)) - readable)
        assert not unread, f"{where} sets variables {name} never reads: {unread}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", NAMES)
def test_essential_settings_point_at_the_right_services(overlay: str, name: str) -> None:
    objs = render(f"overlays/{overlay}")
    prefix = component(name).prefix
    env = container_env(objs, main_container(deployment(objs, name)))
    essential = ["DATABASE_URL", "NATS_URL"] + ([] if name == "gateway" else ["JWKS_URL"])
    if name == "gateway":
        for other in SERVICES:
            assert f"{other}_url" in settings_class("gateway").model_fields, f"gateway has no {other}_url setting"
        essential += [f"{other.upper()}_URL" for other in SERVICES]
    for suffix in essential:
        assert f"{prefix}_{suffix}" in env, f"{name}: {prefix}_{suffix} is not set"

    def service_port(url: str, selects: dict[str, str], port_name: str | None = None) -> None:
        parts = urlsplit(url)
        svc = named(objs, "Service", str(parts.hostname))
        assert all(svc["spec"]["selector"].get(k) == v for k, v in selects.items()), f"{url}: wrong Service"
        ports = [p["port"] for p in svc["spec"]["ports"] if port_name is None or p["name"] == port_name]
        assert parts.port in ports, f"{url}: port not served by Service {parts.hostname}"

    nats_url = env[f"{prefix}_NATS_URL"]
    assert nats_url and nats_url.startswith("nats://")
    service_port(nats_url, {"app.kubernetes.io/name": "nats"}, "client")
    if name != "gateway":
        jwks = env[f"{prefix}_JWKS_URL"]
        assert jwks and urlsplit(jwks).path == "/.well-known/jwks.json"
        service_port(jwks, {"app.kubernetes.io/name": "gateway", "app.kubernetes.io/component": "api"})
    else:
        for other in SERVICES:
            url = env[f"GATEWAY_{other.upper()}_URL"]
            assert url
            service_port(url, {"app.kubernetes.io/name": other, "app.kubernetes.io/component": "api"})
            assert urlsplit(url).port == default_of(other, "port")

    if name == "delivery":
        # The couriers are outside parties, booked over their APIs; the simulated ones
        # (simulators/couriers) are never deployed, and nothing runs them inside delivery.
        assert not any(key.startswith(("DELIVERY_SIMULATOR", "COURIERS_SIM")) for key in env)
    if name == "gateway":
        # The stub cashier marks any order paid without authentication: never in prod, where
        # orders send the payer to the provider's own page (issue 17, hole 8).
        settings = GatewaySettings.model_validate(
            {k.removeprefix("GATEWAY_").lower(): v for k, v in env.items() if k.startswith("GATEWAY_") and v}
        )
        assert settings.stub_cashier is (overlay == "dev")
        if overlay == "prod":
            pay_url = urlsplit(settings.payment_pay_url)
            assert pay_url.scheme == "https" and not pay_url.path.startswith("/pay/")

    # One database per component, on the CloudNativePG cluster's read-write Service, as the
    # component's own role; the migration Job and the init container use the very same URL.
    db_url = env[f"{prefix}_DATABASE_URL"]
    assert db_url
    parts = urlsplit(db_url)
    cluster = of_kind(objs, "Cluster")[0]["metadata"]["name"]
    assert parts.scheme == "postgresql+asyncpg"
    assert (parts.hostname, parts.port, parts.path, parts.username) == (f"{cluster}-rw", 5432, f"/{name}", name)
    role_password = source_data(objs, "Secret", f"pg-{name}")["password"]
    assert parts.password == role_password, f"{name}: the URL's password is not the role's (pg-{name})"
    for where, container in component_containers(objs, name):
        assert container_env(objs, container).get(f"{prefix}_DATABASE_URL") == db_url, where


# --- the province's login ----------------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
def test_the_simulated_province_is_never_deployed(target: str) -> None:
    """The simulated provider logs in whoever types a valid number: no manifest runs or names it,
    no image holds it, and no overlay points the gateway at a loopback issuer."""
    objs = render(target)
    text = yaml.safe_dump_all(objs, allow_unicode=True).lower()
    for mark in ("simulators", "province_sim", "province-sim"):
        assert mark not in text, f"deploy/{target} mentions the simulated province ({mark!r})"
    # (base alone refers to Secrets only the overlays make)
    for _, template in pod_templates(objs) if target != "base" else ():
        for container in containers(template):
            issuer = container_env(objs, container).get("ONEWINDOW_PROVINCE_ISSUER")
            if issuer is not None:
                parts = urlsplit(issuer)
                assert parts.scheme == "https" and not is_loopback(parts.hostname), issuer
    rules = dockerignore_rules()
    shipped = [
        p for p in (ROOT / "simulators").rglob("*.py") if dockerignore_allows(p.relative_to(ROOT).as_posix(), rules)
    ]
    assert not shipped, f"the images' build context holds the simulator: {shipped}"


def test_prod_logs_in_through_the_provinces_real_issuer() -> None:
    objs = render("overlays/prod")
    env = container_env(objs, main_container(deployment(objs, "gateway")))
    issuer = urlsplit(env.get("ONEWINDOW_PROVINCE_ISSUER") or "")
    assert issuer.scheme == "https" and issuer.hostname and not is_loopback(issuer.hostname)
    assert not issuer.query and not issuer.fragment
    # The client secret comes from the secret manager, never from git.
    assert "GATEWAY_PROVINCE_CLIENT_SECRET" in source_data(objs, "Secret", "gateway-secrets")
    assert "GATEWAY_PROVINCE_CLIENT_SECRET" in env
    # The redirect URI registered with the province is on the site's public TLS host.
    public = urlsplit(env.get("GATEWAY_PUBLIC_URL") or "")
    (ingress,) = of_kind(objs, "Ingress")
    assert public.scheme == "https"
    assert public.hostname in {h for t in ingress["spec"]["tls"] for h in t["hosts"]}


# --- ports, probes, commands, graceful shutdown ------------------------------------------------
def option(command: list[str], flag: str) -> str:
    assert flag in command, f"{flag} missing from {command}"
    return command[command.index(flag) + 1]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", NAMES)
def test_ports_probes_and_graceful_shutdown(overlay: str, name: str) -> None:
    objs = render(f"overlays/{overlay}")
    comp, port = component(name), default_of(name, "port")
    assert port == comp.default_port, f"{name}: settings port {port} vs tools/stack.py {comp.default_port}"
    dep = deployment(objs, name)
    pod = dep["spec"]["template"]["spec"]
    app = main_container(dep)
    command = app["command"]
    assert command[:3] == ["uvicorn", "--factory", comp.factory]
    assert option(command, "--host") == "0.0.0.0"
    assert int(option(command, "--port")) == port
    assert [(p["name"], p["containerPort"]) for p in app["ports"]] == [("http", port)]

    svc = named(objs, "Service", name)
    assert selector_matches({"matchLabels": svc["spec"]["selector"]}, labels_of(dep["spec"]["template"]))
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(port, "http")]

    probes = {kind: app[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["startupProbe"]["path"] == "/healthz"
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert all(p["port"] in ("http", port) for p in probes.values())
    # /readyz spends up to 2 s on the database and 2 s on NATS.
    assert app["readinessProbe"]["timeoutSeconds"] >= 4

    annotations = dep["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"

    # Kubernetes would otherwise inject <SERVICE>_PORT=tcp://... (e.g. INTAKE_PORT), which the
    # settings would read as the port.
    assert pod["enableServiceLinks"] is False

    pre_stop = app["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    http_drain = float(option(command, "--timeout-graceful-shutdown"))
    consumer_drain = default_of(name, "consumer_ack_wait_seconds")
    needed = float(pre_stop[1]) + http_drain + consumer_drain
    assert pod["terminationGracePeriodSeconds"] >= needed, f"{name}: grace period < {needed} s"


# --- migrations --------------------------------------------------------------------------------
@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", NAMES)
def test_migrations_run_as_a_job_before_the_pods_serve(overlay: str, name: str) -> None:
    objs = render(f"overlays/{overlay}")
    ini = str(component(name).ini.relative_to(ROOT))
    dep = deployment(objs, name)
    image = main_container(dep)["image"]
    job = named(objs, "Job", f"{name}-migrate")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["alembic", "-c", ini, "upgrade", "head"]
    assert migrate["image"] == image
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    (wait,) = dep["spec"]["template"]["spec"]["initContainers"]
    assert wait["image"] == image
    assert f"alembic -c {ini} current --check-heads" in " ".join(wait["command"])


# --- pods: security, resources, images ---------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
def test_pods_are_locked_down_and_sized(target: str) -> None:
    for workload, template in pod_templates(render(target)):
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = template["spec"]
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] > 0, where
        assert pod_sc["seccompProfile"]["type"] == "RuntimeDefault", where
        assert spec["automountServiceAccountToken"] is False, where
        assert spec["enableServiceLinks"] is False, where
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in containers(template):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, f"{where}/{c['name']}"
            assert sc["allowPrivilegeEscalation"] is False, f"{where}/{c['name']}"
            assert "ALL" in sc["capabilities"]["drop"], f"{where}/{c['name']}"
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][bound]), f"{where}/{c['name']}: {bound}"
            tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert tmp and "emptyDir" in volumes[tmp[0]["name"]], f"{where}/{c['name']}: no writable /tmp"


def pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] not in ("", "latest")


@pytest.mark.parametrize("target", TARGETS)
def test_images_are_pinned(target: str) -> None:
    objs = render(target)
    images = [
        (f"{w['kind']}/{w['metadata']['name']}", c["image"]) for w, t in pod_templates(objs) for c in containers(t)
    ]
    images += [(f"Cluster/{o['metadata']['name']}", o["spec"]["imageName"]) for o in of_kind(objs, "Cluster")]
    assert images
    for where, image in images:
        assert pinned(image), f"{where}: image {image!r} has no tag or digest, or is 'latest'"
    if target != "base":
        # Each component runs its own image, from the overlay's registry.
        for name in NAMES:
            for where, c in component_containers(objs, name):
                assert re.fullmatch(rf"[\w.\-:/]+/onewindow/{name}[:@].+", c["image"]), f"{where}: {c['image']}"


# --- availability and scaling ------------------------------------------------------------------
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budgets_and_autoscaling(overlay: str) -> None:
    objs = render(f"overlays/{overlay}")
    pdbs = of_kind(objs, "PodDisruptionBudget")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objs, "HorizontalPodAutoscaler")}
    for workload in [*of_kind(objs, "Deployment"), *of_kind(objs, "StatefulSet")]:
        name, labels = workload["metadata"]["name"], labels_of(workload["spec"]["template"])
        assert [p for p in pdbs if selector_matches(p["spec"]["selector"], labels)], f"{name}: no PDB"
        if workload["kind"] != "Deployment":
            continue
        if overlay == "prod":
            assert name in hpas, f"{name}: no HorizontalPodAutoscaler in prod"
            assert hpas[name]["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert hpas[name]["spec"]["minReplicas"] >= 2, f"{name}: one replica cannot be disrupted safely"
            assert "replicas" not in workload["spec"], f"{name}: the HPA owns the replica count"
        else:
            assert workload["spec"]["replicas"] == 1
    if overlay != "prod":
        assert not hpas


# --- network -----------------------------------------------------------------------------------
EXTERNAL = ("ingress-nginx", "monitoring", "cnpg-system", "elsewhere")


def pods_in_namespace(objs: tuple[dict[str, Any], ...]) -> dict[str, dict[str, str]]:
    """Kinds of pod that will run: id -> labels (the operator's PostgreSQL pods included)."""
    pods = {}
    for _, template in pod_templates(objs):
        labels = labels_of(template)
        ident = "/".join(filter(None, (labels["app.kubernetes.io/name"], labels.get("app.kubernetes.io/component"))))
        pods[ident] = labels
    for cluster in of_kind(objs, "Cluster"):
        pods["postgres"] = {"cnpg.io/cluster": cluster["metadata"]["name"], "cnpg.io/podRole": "instance"}
    return pods


def allowed_sources(objs: tuple[dict[str, Any], ...], namespace: str, target: dict[str, str]) -> set[str]:
    """Who may open a connection to a pod with these labels, under the rendered NetworkPolicies."""
    pods = pods_in_namespace(objs)
    policies = [
        p
        for p in of_kind(objs, "NetworkPolicy")
        if "Ingress" in p["spec"].get("policyTypes", ["Ingress"]) and selector_matches(p["spec"]["podSelector"], target)
    ]
    assert policies, f"no NetworkPolicy selects {target}: everything may reach it"
    sources: set[str] = set()
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("ports"), f"NetworkPolicy/{policy['metadata']['name']}: a rule open on every port"
            for peer in rule.get("from", [{}]):
                pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
                if "ipBlock" in peer or (pod_sel is None and ns_sel is None):
                    sources.add("anywhere")
                    continue
                if ns_sel is None:
                    sources |= {ident for ident, labels in pods.items() if selector_matches(pod_sel, labels)}
                    continue
                own_ns = selector_matches(ns_sel, {"kubernetes.io/metadata.name": namespace})
                if own_ns:
                    sources |= {i for i, lb in pods.items() if pod_sel is None or selector_matches(pod_sel, lb)}
                for ns in EXTERNAL:
                    if selector_matches(ns_sel, {"kubernetes.io/metadata.name": ns}) and (
                        pod_sel is None or selector_matches(pod_sel, {})
                    ):
                        sources.add(f"ns:{ns}")
    return sources


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_in_only_the_intended_callers(overlay: str) -> None:
    objs = render(f"overlays/{overlay}")
    namespace = OVERLAYS[overlay]
    api = {f"{n}/api" for n in NAMES}
    migrations = {f"{n}/migrations" for n in NAMES}
    expected = {
        "gateway/api": {f"{n}/api" for n in SERVICES} | {"ns:ingress-nginx", "ns:monitoring"},
        **{f"{n}/api": {"gateway/api", "ns:monitoring"} for n in SERVICES},
        **{m: set() for m in migrations},
        "nats": api | {"nats", "ns:monitoring"},
        "postgres": api | migrations | {"postgres", "ns:cnpg-system", "ns:monitoring"},
    }
    pods = pods_in_namespace(objs)
    assert set(pods) == set(expected)
    for ident, labels in pods.items():
        assert allowed_sources(objs, namespace, labels) == expected[ident], ident


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_exposes_only_the_gateways_public_paths_over_tls(overlay: str) -> None:
    objs = render(f"overlays/{overlay}")
    (ingress,) = of_kind(objs, "Ingress")
    gateway_port = named(objs, "Service", "gateway")["spec"]["ports"][0]
    tls_hosts = {h for t in ingress["spec"]["tls"] for h in t["hosts"]}
    assert all(t["secretName"] for t in ingress["spec"]["tls"])
    paths = []
    for rule in ingress["spec"]["rules"]:
        assert rule["host"] in tls_hosts, f"{rule['host']} is served without TLS"
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "gateway"
            assert (
                backend["port"].get("name") == gateway_port["name"]
                or backend["port"].get("number") == gateway_port["port"]
            )
            paths.append((path["pathType"], path["path"]))

    def routed(url_path: str) -> bool:
        for kind, path in paths:
            if kind == "Exact" and url_path == path:
                return True
            if kind == "Prefix":
                prefix = path.rstrip("/").split("/")
                if url_path.split("/")[: len(prefix)] == prefix:
                    return True
        return False

    public_paths = (
        "/api/v1/auth/login",
        "/api/v1/webhooks/sim-express",
        "/.well-known/jwks.json",
        "/pay/p-1",
        "/docs",
        "/openapi.json",
        "/asyncapi.json",
        "/",
        "/app.js",
        "/views/board.js",
    )  # the last three: the web console
    for public in public_paths:
        assert routed(public), f"{public} is not routed to the gateway"
    for private in ("/metrics", "/healthz", "/readyz", "/ops/dead-letters"):
        assert not routed(private), f"{private} must not be reachable from outside"


# --- data: NATS and PostgreSQL -----------------------------------------------------------------
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_is_a_three_node_jetstream_cluster(overlay: str) -> None:
    objs = render(f"overlays/{overlay}")
    sts = named(objs, "StatefulSet", "nats")
    replicas, headless = sts["spec"]["replicas"], sts["spec"]["serviceName"]
    assert replicas == 3
    assert named(objs, "Service", headless)["spec"]["clusterIP"] == "None"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    conf = nats_config_files(objs)["nats.conf"]
    assert "jetstream" in conf
    routes = re.findall(r"nats://([\w.-]+):6222", conf)
    assert routes == [f"nats-{i}.{headless}" for i in range(replicas)]


def nats_config_files(objs: tuple[dict[str, Any], ...]) -> dict[str, str]:
    """The files of the ConfigMap the NATS nodes read their configuration from."""
    sts = named(objs, "StatefulSet", "nats")
    (volume,) = [v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == "config"]
    return dict(named(objs, "ConfigMap", volume["configMap"]["name"])["data"])


def remote_ref(objs: tuple[dict[str, Any], ...], secret: str, key: str) -> tuple[str, str]:
    """Where the secret manager keeps one key of an ExternalSecret's target: (key, property)."""
    (external,) = [o for o in of_kind(objs, "ExternalSecret") if o["spec"]["target"]["name"] == secret]
    (variable,) = TEMPLATE_VAR.findall(external["spec"]["target"]["template"]["data"][key])
    (ref,) = [d["remoteRef"] for d in external["spec"]["data"] if d["secretKey"] == variable]
    return ref["key"], ref["property"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_component_is_its_own_nats_user(overlay: str, tmp_path: Path) -> None:
    """NATS asks every client for a password (issue 17, hole 9): each component connects as its
    own user, whose permissions tools/nats_auth.py derives from the code, with the password
    nats-server has for it; and nats-server itself accepts the rendered configuration."""
    objs = render(f"overlays/{overlay}")
    files = nats_config_files(objs)
    assert files["nats-auth.conf"] == render_nats_auth(), "run `python -m tools.nats_auth`"
    assert "include ./nats-auth.conf" in files["nats.conf"]
    sts = named(objs, "StatefulSet", "nats")
    (server,) = [c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "nats"]
    server_env = container_env(objs, server)
    (server_secret,) = [s["secretRef"]["name"] for s in server.get("envFrom", []) if "secretRef" in s]
    nats_users = nats_auth_users()
    assert sorted(u.user for u in nats_users) == sorted(NAMES)
    for user in nats_users:
        prefix = component(user.user).prefix
        app = main_container(deployment(objs, user.user))
        env = container_env(objs, app)
        assert env[f"{prefix}_NATS_USER"] == user.user
        assert user.password_env == f"{prefix}_NATS_PASSWORD" and user.password_env in server_env
        if overlay == "dev":
            assert env[user.password_env] == server_env[user.password_env], f"{user.user}: two passwords"
        else:
            (own_secret,) = [s["secretRef"]["name"] for s in app["envFrom"] if "secretRef" in s]
            assert remote_ref(objs, own_secret, user.password_env) == remote_ref(
                objs, server_secret, user.password_env
            ), f"{user.user}: the component and nats-server read different passwords"
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    # Prod's passwords live in the secret manager: stand-ins of the advised form.
    passwords = {
        u.password_env: str(server_env[u.password_env]) if overlay == "dev" else f"n{u.user}0123abcd"
        for u in nats_users
    }
    result = subprocess.run(
        [nats_server_binary(), "-c", str(tmp_path / "nats.conf"), "-t"],
        env={"SERVER_NAME": "nats-0", **passwords},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_postgres_cluster(overlay: str) -> None:
    objs = render(f"overlays/{overlay}")
    (cluster,) = of_kind(objs, "Cluster")
    spec = cluster["spec"]
    assert spec["instances"] == (3 if overlay == "prod" else 1)
    assert spec["storage"]["size"]
    databases = {spec["bootstrap"]["initdb"]["database"]: spec["bootstrap"]["initdb"]["owner"]}
    for db in of_kind(objs, "Database"):
        assert db["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
        databases[db["spec"]["name"]] = db["spec"]["owner"]
    assert databases == {n: n for n in NAMES}, "one database per component, owned by its own role"
    roles = {spec["bootstrap"]["initdb"]["owner"]: spec["bootstrap"]["initdb"]["secret"]["name"]}
    roles |= {r["name"]: r["passwordSecret"]["name"] for r in spec["managed"]["roles"]}
    for role, secret in roles.items():
        data = source_data(objs, "Secret", secret)
        assert data.get("username") == role and "password" in data, secret


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_postgres_connections_fit_the_largest_scale(overlay: str) -> None:
    """Every pod at the HPA maximum, each with its full pool (pool + overflow = 2 x pool size),
    plus the migration Jobs and the operator's own connections, fit in max_connections."""
    objs = render(f"overlays/{overlay}")
    (cluster,) = of_kind(objs, "Cluster")
    max_connections = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"] for h in of_kind(objs, "HorizontalPodAutoscaler")
    }
    needed = 10 + len(NAMES)  # superuser-reserved, replication and the operator; one per migration Job
    for name in NAMES:
        dep = deployment(objs, name)
        replicas = hpas.get(name, dep["spec"].get("replicas", 1))
        value = container_env(objs, main_container(dep)).get(f"{component(name).prefix}_DATABASE_POOL_SIZE")
        pool = int(value) if value is not None else default_of(name, "database_pool_size")
        needed += replicas * 2 * pool
    assert needed <= max_connections, f"{needed} connections at full scale, max_connections is {max_connections}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secret_sources(overlay: str) -> None:
    """No secret value in git for prod (External Secrets); only public placeholders in dev."""
    objs = render(f"overlays/{overlay}")
    if overlay == "prod":
        assert not of_kind(objs, "Secret"), "prod secrets come from the secret manager, not from git"
        for es in of_kind(objs, "ExternalSecret"):
            spec = es["spec"]
            assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "onewindow-secrets"}
            defined = {d["secretKey"] for d in spec["data"]}
            for value in spec["target"].get("template", {}).get("data", {}).values():
                assert set(TEMPLATE_VAR.findall(value)) <= defined, es["metadata"]["name"]
        gateway = source_data(objs, "Secret", "gateway-secrets")
        assert {"GATEWAY_SIGNING_KEY_PEM", "GATEWAY_PAYMENT_SECRET", "ONEWINDOW_ADMIN_PASSWORD"} <= set(gateway)
        assert "ONEWINDOW_COURIER_SECRETS" in source_data(objs, "Secret", "delivery-secrets")
    else:
        for secret in of_kind(objs, "Secret"):
            for key, value in secret.get("data", {}).items():
                text = base64.b64decode(value).decode()
                if key == "password" or "SECRET" in key or "PASSWORD" in key or "DATABASE_URL" in key:
                    assert "dev-placeholder" in text, f"{secret['metadata']['name']}/{key} looks real"
    real_secret = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|whsec_[A-Za-z0-9+/=]{16,}")
    for path in [*DEPLOY.rglob("*"), DOCKERFILE, ROOT / ".dockerignore"]:
        if path.is_file():
            assert not real_secret.search(path.read_text()), f"{path}: a secret in git"


def test_backups() -> None:
    objs = render("overlays/prod")
    (cluster,) = of_kind(objs, "Cluster")
    (plugin,) = cluster["spec"]["plugins"]
    assert plugin["isWALArchiver"] is True
    store = named(objs, "ObjectStore", plugin["parameters"]["barmanObjectName"])
    credentials = store["spec"]["configuration"]["s3Credentials"]
    for ref in credentials.values():
        assert ref["key"] in source_data(objs, "Secret", ref["name"])
    (scheduled,) = of_kind(objs, "ScheduledBackup")
    assert scheduled["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert scheduled["spec"]["method"] == "plugin"
    assert scheduled["spec"]["pluginConfiguration"]["name"] == plugin["name"]
    assert len(scheduled["spec"]["schedule"].split()) == 6


# --- monitoring and the operators' README ------------------------------------------------------
@functools.cache
def kernel_series() -> frozenset[str]:
    """Every series name the platform's metrics expose (counter _total, histogram _bucket...): the
    kernel's, which every component has, and approval's cards by colour."""
    suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_sum", "_count", "_created"]}
    names = set()
    modules = (owkernel.metrics, services.approval.supervision.metrics)
    for value in (v for module in modules for v in vars(module).values()):
        if isinstance(value, prometheus_metrics.MetricWrapperBase):
            for family in value.describe():
                names |= {family.name + s for s in suffixes.get(family.type, [""])}
    return frozenset(names)


def test_monitoring() -> None:
    objs = render("overlays/prod")
    pods = pods_in_namespace(objs)
    monitors = of_kind(objs, "PodMonitor")
    for name in NAMES:
        matching = [m for m in monitors if selector_matches(m["spec"]["selector"], pods[f"{name}/api"])]
        assert matching, f"{name}: not scraped"
        assert {e["port"] for e in matching[0]["spec"]["podMetricsEndpoints"]} == {"http"}
    expressions = [
        r["expr"] for rule in of_kind(objs, "PrometheusRule") for g in rule["spec"]["groups"] for r in g["rules"]
    ]
    used = {m for e in expressions for m in re.findall(r"\bonewindow_\w+", e)}
    assert used, "no alert on the platform's own metrics"
    assert used <= kernel_series(), f"alerts on metrics nobody exports: {sorted(used - kernel_series())}"
    for needed in ("onewindow_dead_letters_total", "onewindow_outbox_pending", "onewindow_http_request_seconds_bucket"):
        assert needed in used
    # Consumer lag comes from JetStream itself: the exporter beside each nats-server reads that
    # node's monitoring port, and a PodMonitor scrapes it (tests/test_dashboards.py checks the names).
    nats = named(objs, "StatefulSet", "nats")["spec"]["template"]["spec"]
    (exporter,) = [c for c in nats["containers"] if "prometheus-nats-exporter" in c["image"]]
    (server,) = [c for c in nats["containers"] if c["name"] == "nats"]
    monitor = next(p["containerPort"] for p in server["ports"] if p["name"] == "monitor")
    assert exporter["args"][-1] == f"http://localhost:{monitor}" and "-jsz=all" in exporter["args"]
    port = next(p for p in exporter["ports"] if p["name"] == "metrics")
    assert f"-port={port['containerPort']}" in exporter["args"]
    scraped = [m for m in monitors if selector_matches(m["spec"]["selector"], pods["nats"])]
    assert [e["port"] for m in scraped for e in m["spec"]["podMetricsEndpoints"]] == ["metrics"]


def test_readme_tells_operators_what_they_need() -> None:
    text = (DEPLOY / "README.md").read_text()
    headings = [h.lower() for h in re.findall(r"^#+ (.+)$", text, flags=re.M)]
    for topic in ("deploy", "scal", "signing key", "courier", "migration", "back", "watch", "capacity plan"):
        assert any(topic in h for h in headings), f"deploy/README.md has no section about {topic!r}"
    capacity = text.lower().split("## capacity plan", 1)[1].split("\n## ", 1)[0]
    # The plan states its assumptions and shows its arithmetic for each part of the platform.
    for needed in ("100 million", "per million", "replicas", "postgresql", "nats", "breaks first", "cpu-s"):
        assert needed in capacity, f"the capacity plan says nothing about {needed!r}"
    for metric in ("onewindow_dead_letters_total", "onewindow_outbox_pending", "onewindow_http_request_seconds"):
        assert metric in text
    mentioned = set(re.findall(r"\bonewindow_[a-z_]+", text))
    unknown = {m for m in mentioned if not any(s.startswith(m) for s in kernel_series())}
    assert not unknown, f"deploy/README.md names metrics nobody exports: {sorted(unknown)}"


# --- the images --------------------------------------------------------------------------------
def test_hadolint() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """Stage name -> [(instruction, arguments)], the FROM line first."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            match = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", args.strip(), flags=re.I)
            assert match, f"every stage is named: FROM {args}"
            current = stages.setdefault(match.group(2), [])
        current.append((instruction.upper(), args.strip()))
    return stages


def test_dockerfile_targets_match_the_deployments() -> None:
    stages = dockerfile_stages()
    objs = render("overlays/prod")
    runtime = stages["runtime"]
    assert any(i == "USER" and not a.startswith(("0", "root")) for i, a in runtime), "runtime runs as root"
    for instruction, args in runtime:
        assert not (instruction == "RUN" and re.search(r"pip install|apt-get|apk add", args)), args
    for name in NAMES:
        stage = stages[name]
        assert stage[0] == ("FROM", f"runtime AS {name}")
        assert not [a for i, a in stage if i in ("RUN", "USER")], f"{name}: the final stage adds tools or a user"
        (cmd,) = [yaml.safe_load(a) for i, a in stage if i == "CMD"]
        assert cmd == main_container(deployment(objs, name))["command"], f"{name}: image CMD != Deployment"
        (expose,) = [a for i, a in stage if i == "EXPOSE"]
        assert int(expose) == default_of(name, "port")


def dockerignore_allows(rel: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's .dockerignore semantics for a file path (the last matching rule wins; a rule
    that matches a parent directory matches everything in it)."""
    parts = rel.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for exclude, pattern in rules:
        if any(pattern.fullmatch(c) for c in candidates):
            included = not exclude
    return included


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = "".join(
            "(.*/)?" if tok == "**/" else ".*" if tok == "**" else "[^/]*" if tok == "*" else re.escape(tok)
            for tok in re.findall(r"\*\*/|\*\*|\*|[^*]+", pattern)
        )
        rules.append((exclude, re.compile(regex)))
    return rules


def image_files(name: str) -> list[str]:
    """The files under /app in a component's image: the build context (.dockerignore), copied
    into the source stage, then the parts the runtime and the component's stage take from it."""
    stages = dockerfile_stages()
    source_dirs = [a.split()[0].rstrip("/") for i, a in stages["source"] if i == "COPY"]
    taken = [
        a.split()[1].removeprefix("/app/").rstrip("/")
        for stage in ("runtime", name)
        for i, a in stages[stage]
        if i == "COPY" and a.startswith("--from=source")
    ]
    rules = dockerignore_rules()
    files = []
    for directory in source_dirs:
        for path in (ROOT / directory).rglob("*"):
            rel = path.relative_to(ROOT).as_posix()
            if path.is_file() and dockerignore_allows(rel, rules) and any(rel.startswith(t + "/") for t in taken):
                files.append(rel)
    return files


IMAGE_CHECK = """
import importlib, json, os, sys
from alembic.config import CommandLine

def alembic(ini, *argv):  # the `alembic` command line of the Job and the init container
    try:
        CommandLine().main(["-c", ini, *argv])
    except SystemExit as exc:
        return exc.code or 0
    return 0

site = list(sys.path)
for image in json.loads(sys.argv[1]):
    # Only this image's /app on the import path (the namespace package "services" follows it).
    os.chdir(image["app"])
    sys.path[:] = [image["app"], os.path.join(image["app"], "libs"), *site]
    os.environ[image["prefix"] + "_DATABASE_URL"] = image["database_url"]
    module, factory = image["factory"].split(":")
    app = getattr(importlib.import_module(module), factory)()
    where = importlib.import_module(module).__file__
    assert where.startswith(image["app"]), f"{module} imported from outside its image: {where}"
    assert alembic(image["ini"], "current", "--check-heads") != 0, "an empty database passed the migration wait"
    assert alembic(image["ini"], "upgrade", "head") == 0, "the migration Job failed"
    assert alembic(image["ini"], "current", "--check-heads") == 0, "the migration wait never ends"
    print("ok", image["factory"], type(app).__name__)
"""


def test_each_image_holds_what_its_app_and_migrations_import(tmp_path: Path) -> None:
    """Lay out each image's /app from the Dockerfile and .dockerignore, then, with only that on
    the import path, build the app and run the Job's and the init container's alembic commands."""
    images = []
    for name in NAMES:
        files = image_files(name)
        assert not [f for f in files if "/tests/" in f or f.endswith(".pyc")], f"{name}: tests or caches in the image"
        app = tmp_path / name / "app"
        for rel in files:
            (app / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, app / rel)
        comp = component(name)
        images.append(
            {
                "app": str(app),
                "prefix": comp.prefix,
                "factory": comp.factory,
                "ini": str(comp.ini.relative_to(ROOT)),
                "database_url": f"sqlite+aiosqlite:///{tmp_path / name / 'db.sqlite'}",
            }
        )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", IMAGE_CHECK, json.dumps(images)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert result.stdout.count("ok ") == len(NAMES), result.stdout
