"""Readers for tests/unit/infra/test_deploy_files.py: the deployment files as data, and the names the code reads."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic_settings import BaseSettings

from stream.settings import CONCERNS, env_variable

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "infra" / "deploy"
COMPOSE_FILE = DEPLOY / "compose" / "docker-compose.yml"
PROMETHEUS_FILE = DEPLOY / "prometheus" / "prometheus.yml"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
K8S = DEPLOY / "k8s"
GRAFANA_PROVISIONING = DEPLOY / "grafana" / "provisioning"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "listing-dedup.json"
WORKER_PORT = 9108  # the agreed default of DEDUP_WORKER_METRICS_PORT in deployment files
CLUSTERS_PORT = 6066  # the agreed default of DEDUP_CLUSTERS_WEB_PORT
# Variables only the test suites read: a deployment never sets them.
TEST_ONLY_PREFIXES = ("DEDUP_FAULT_", "DEDUP_TEST_")
DEDUP_NAME = re.compile(r"\bDEDUP_[A-Z0-9_]*[A-Z0-9]")
EXACT_PIN = re.compile(r"\d+\.\d+\.\d+|RELEASE\.\d{4}-\d{2}-\d{2}")


# --- reading the files ---------------------------------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted(path for path in DEPLOY.rglob("*") if path.suffix in (".yml", ".yaml"))


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def k8s_docs() -> list[dict[str, Any]]:
    """Every manifest, the optional ones included (kustomization.yaml is kustomize's, not the cluster's)."""
    paths = [path for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"]
    return [doc for path in paths for doc in load_all(path)]


def k8s_doc(kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in k8s_docs() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name} under {K8S}, found {len(found)}"
    return found[0]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def container_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's explicit env plus its ConfigMaps' data (what the process sees, Secrets aside)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(k8s_doc("ConfigMap", source["configMapRef"]["name"])["data"])
    env.update({item["name"]: item["value"] for item in container.get("env", []) if "value" in item})
    return env


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n(\s*#.*\n)*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def dockerfile_values(instruction: str) -> dict[str, str]:
    """ARG or ENV ``key=value`` pairs (the defaults the image is built with)."""
    pairs: dict[str, str] = {}
    for name, arguments in dockerfile_instructions():
        if name == instruction:
            pairs.update(pair.split("=", 1) for pair in arguments.split() if "=" in pair)
    return pairs


def images() -> Iterator[tuple[str, str]]:
    """(where, image) for every image the deployment files name."""
    for name, service in services().items():
        yield f"compose service {name}", service["image"]
    for doc in k8s_docs():
        for container in containers(doc):
            yield f"{doc['kind']} {doc['metadata']['name']}", container["image"]
    args = dockerfile_values("ARG")
    for name, arguments in dockerfile_instructions():
        if name == "FROM":
            image = arguments.split()[0]
            yield "Dockerfile FROM", args.get(image.strip("${}"), image)


# --- what the code accepts -----------------------------------------------------------------------------


def settings_classes() -> set[type[BaseSettings]]:
    """CONCERNS, plus every BaseSettings subclass in a stream module that declares one (clusters, logs...)."""
    found: set[type[BaseSettings]] = set(CONCERNS.values())
    for path in sorted((ROOT / "stream").rglob("*.py")):
        if "BaseSettings" not in path.read_text():
            continue
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        found.update(
            value
            for value in vars(module).values()
            if inspect.isclass(value) and issubclass(value, BaseSettings) and value is not BaseSettings
        )
    return found


def code_literal_names() -> set[str]:
    """String constants in stream/ that are exactly a variable name (``os.environ.get("DEDUP_LOG_LEVEL")``)."""
    names: set[str] = set()
    for path in (ROOT / "stream").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and DEDUP_NAME.fullmatch(node.value):
                names.add(node.value)
    return names


def known_variables() -> set[str]:
    from_settings = {env_variable(cls, field) for cls in settings_classes() for field in cls.model_fields}
    return from_settings | code_literal_names()


def deployment_texts() -> dict[Path, str]:
    paths = [DOCKERFILE, *yaml_files()]
    return {path: path.read_text() for path in paths}


def field_default(cls: type[BaseSettings], field: str) -> Any:
    return cls.model_fields[field].default


# --- pieces of the files ---------------------------------------------------------------------------------


def scrape_targets(job: str) -> list[tuple[str, int]]:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    (scrape,) = [item for item in config["scrape_configs"] if item["job_name"] == job]
    assert scrape.get("metrics_path", "/metrics") == "/metrics"
    targets = [(name, sd["port"]) for sd in scrape.get("dns_sd_configs", []) for name in sd["names"]]
    for static in scrape.get("static_configs", []):
        targets += [(host, int(port)) for host, port in (target.split(":") for target in static["targets"])]
    return targets


def healthcheck_port(service: dict[str, Any]) -> int:
    url = re.search(r"http://[^'\" ]+", " ".join(service["healthcheck"]["test"]))
    assert url, service["healthcheck"]
    return urlsplit(url.group()).port or 80


def datasource_uids(node: Any) -> Iterator[str]:
    """Every ``datasource.uid`` in a dashboard's JSON, panels and targets alike."""
    if isinstance(node, dict):
        reference = node.get("datasource")
        if isinstance(reference, dict) and "uid" in reference:
            yield reference["uid"]
        for value in node.values():
            yield from datasource_uids(value)
    elif isinstance(node, list):
        for value in node:
            yield from datasource_uids(value)


def kustomization_resources() -> list[str]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]


def port_number(container: dict[str, Any], port: int | str) -> int:
    named = {item["name"]: item["containerPort"] for item in container["ports"] if "name" in item}
    return named[port] if isinstance(port, str) else port


def topics_job_env() -> dict[str, str]:
    (job,) = containers(k8s_doc("Job", "listing-dedup-topics"))
    return container_env(job)


def compose_unavailable_reason() -> str | None:
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
    return None if probe.returncode == 0 else "the docker compose plugin is not installed"


def environments() -> dict[str, dict[str, str]]:
    """The DEDUP_* values each process gets: compose services and Kubernetes containers (Secrets aside)."""
    found = {
        f"compose {name}": {key: str(value) for key, value in service.get("environment", {}).items()}
        for name, service in services().items()
    }
    for doc in k8s_docs():
        for container in containers(doc):
            found[f"k8s {doc['kind']} {doc['metadata']['name']}"] = container_env(container)
    return {where: env for where, env in found.items() if any(key.startswith("DEDUP_") for key in env)}
