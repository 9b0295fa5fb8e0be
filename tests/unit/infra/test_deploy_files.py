"""infra/deploy: the compose stack, Kubernetes manifests, Dockerfile and monitoring files agree with each other
and with the code (settings names, ports, topics, partitions), without a Docker engine.

The checks that need Docker or kubectl run where those tools are installed and skip cleanly elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from stream.settings import KafkaSettings, TopicSettings
from tests.unit.infra.deploy_files import (
    CLUSTERS_PORT,
    COMPOSE_FILE,
    DASHBOARD,
    DEDUP_NAME,
    DEPLOY,
    DOCKERFILE,
    EXACT_PIN,
    GRAFANA_PROVISIONING,
    K8S,
    PROMETHEUS_FILE,
    ROOT,
    TEST_ONLY_PREFIXES,
    WORKER_PORT,
    compose_unavailable_reason,
    container_env,
    containers,
    datasource_uids,
    deployment_texts,
    dockerfile_instructions,
    dockerfile_values,
    environments,
    field_default,
    healthcheck_port,
    images,
    k8s_doc,
    k8s_docs,
    known_variables,
    kustomization_resources,
    load_all,
    port_number,
    scrape_targets,
    services,
    settings_classes,
    topics_job_env,
    yaml_files,
)

# --- every file parses, every image is pinned ----------------------------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: str(path.relative_to(DEPLOY)))
def test_every_yaml_file_parses_into_mappings(path: Path) -> None:
    docs = load_all(path)
    assert docs, f"{path} holds no document"
    assert all(isinstance(doc, dict) for doc in docs)


def test_the_expected_files_exist() -> None:
    for path in (DOCKERFILE, COMPOSE_FILE, PROMETHEUS_FILE, K8S / "kustomization.yaml", ROOT / ".dockerignore"):
        assert path.is_file(), path


def test_every_image_is_pinned_to_an_exact_version() -> None:
    seen = list(images())
    assert len(seen) >= 10
    for where, image in seen:
        name, _, tag = image.rpartition("@")[0].rpartition(":") if "@" in image else image.rpartition(":")
        assert name and "/" not in tag, f"{where}: {image} has no tag"
        assert tag != "latest", f"{where}: {image} is not pinned"
        assert "@sha256:" in image or EXACT_PIN.search(tag), f"{where}: {image} is not an exact version"


def test_the_service_image_tag_is_the_package_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    ours = [image for _, image in images() if image.startswith("listing-dedup:")]
    assert ours and set(ours) == {f"listing-dedup:{version}"}
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert {"name": "listing-dedup", "newTag": version} in kustomization["images"]


# --- settings names ------------------------------------------------------------------------------------


def test_the_known_variables_come_from_the_code() -> None:
    known = known_variables()
    assert {"DEDUP_KAFKA_BOOTSTRAP_SERVERS", "DEDUP_MODEL_DIR", "DEDUP_WORKER_METRICS_PORT"} <= known
    assert "DEDUP_LOG_LEVEL" in known  # read by the CLI itself, not by a settings object


def test_every_dedup_variable_in_the_deployment_files_exists_in_the_settings() -> None:
    known = known_variables()
    unknown, test_only = set(), set()
    for path, text in deployment_texts().items():
        for name in DEDUP_NAME.findall(text):
            where = f"{name} ({path.relative_to(ROOT)})"
            if name.split("__", 1)[0] not in known:  # DEDUP_KAFKA_OPTIONS__X: a nested key of a known setting
                unknown.add(where)
            if name.startswith(TEST_ONLY_PREFIXES):
                test_only.add(where)
    assert not unknown, f"no settings object reads: {', '.join(sorted(unknown))}"
    assert not test_only, f"test-only variables in deployment files: {', '.join(sorted(test_only))}"


@pytest.mark.parametrize("where", sorted(environments()))
def test_the_settings_values_given_are_valid(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every settings object builds from these values, read from the environment as in production."""
    values = environments()[where]
    for name in [name for name in os.environ if name.startswith("DEDUP_")]:
        monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for cls in settings_classes():
        cls()  # raises a ValidationError (or SettingsError) on a wrong type, bound or choice
    if "DEDUP_LOG_FORMAT" in values:  # read by the commands' logging set-up, not by a settings object
        from stream.logs import formatter

        formatter(values["DEDUP_LOG_FORMAT"])


# --- compose -------------------------------------------------------------------------------------------


def test_every_compose_dependency_exists_and_its_condition_can_be_met() -> None:
    defined = services()
    for name, service in defined.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in defined, f"{name} depends on {target}, which is not a service"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in defined[target], f"{name} waits for {target} to be healthy; it has no check"
            if condition == "service_completed_successfully":
                assert defined[target].get("restart", "no") == "no", f"{target} must run once"


def test_the_compose_stack_has_every_part() -> None:
    parts = {"kafka", "kafka-init", "etcd", "minio", "milvus", "redis", "worker", "clusters", "prometheus", "grafana"}
    assert parts <= set(services())
    assert services()["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert services()["worker"]["command"] == ["run"] and services()["clusters"]["command"] == ["clusters"]


def test_the_compose_services_reach_each_other_by_service_name() -> None:
    env = services()["worker"]["environment"]
    assert env["DEDUP_KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] == "kafka"
    assert urlsplit(env["DEDUP_MILVUS_URI"]).hostname == "milvus"
    assert urlsplit(env["DEDUP_REDIS_URL"]).hostname == "redis"


def test_prometheus_scrapes_the_ports_the_services_serve() -> None:
    worker, clusters = services()["worker"], services()["clusters"]
    worker_port = int(worker["environment"]["DEDUP_WORKER_METRICS_PORT"])
    clusters_port = int(clusters["environment"]["DEDUP_CLUSTERS_WEB_PORT"])
    assert (worker_port, clusters_port) == (WORKER_PORT, CLUSTERS_PORT)
    assert scrape_targets("listing-dedup-worker") == [("worker", worker_port)]
    assert scrape_targets("listing-dedup-clusters") == [("clusters", clusters_port)]
    assert healthcheck_port(worker) == worker_port and str(worker_port) in worker["expose"]
    assert healthcheck_port(clusters) == clusters_port and str(clusters_port) in clusters["expose"]
    assert "/healthz" in " ".join(worker["healthcheck"]["test"])


def test_the_topic_init_job_creates_every_topic_the_settings_name() -> None:
    init = services()["kafka-init"]["environment"]
    topics = set(init["TOPICS"].split())
    named = {value.default for value in TopicSettings.model_fields.values() if isinstance(value.default, str)}
    assert named <= topics, f"kafka-init does not create {named - topics}"
    assert init["PARTITIONS"] == services()["worker"]["environment"]["DEDUP_TOPIC_PARTITIONS"]


# --- Grafana -------------------------------------------------------------------------------------------


def test_grafana_provisioning_points_at_the_dashboard_file() -> None:
    provider = load_all(GRAFANA_PROVISIONING / "dashboards" / "listing-dedup.yml")[0]["providers"][0]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in services()["grafana"]["volumes"] if ":" in volume)
    host_dirs = [source for source, target in mounts.items() if target == provider["options"]["path"]]
    assert len(host_dirs) == 1, f"nothing mounted at {provider['options']['path']}"
    mounted = (COMPOSE_FILE.parent / host_dirs[0]).resolve()
    assert mounted == DASHBOARD.parent.resolve()
    assert mounts["../grafana/provisioning"] == "/etc/grafana/provisioning"
    assert DASHBOARD.is_file(), f"{DASHBOARD.relative_to(ROOT)} is missing"
    json.loads(DASHBOARD.read_text())


def test_the_dashboard_uses_the_provisioned_datasource() -> None:
    (datasource,) = load_all(GRAFANA_PROVISIONING / "datasources" / "prometheus.yml")[0]["datasources"]
    assert urlsplit(datasource["url"]).hostname == "prometheus" and "prometheus" in services()
    if not DASHBOARD.is_file():
        pytest.fail(f"{DASHBOARD.relative_to(ROOT)} is missing")
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {item["name"]: item for item in dashboard.get("templating", {}).get("list", [])}
    uids = set(datasource_uids(dashboard))
    assert uids, "the dashboard names no datasource"
    for uid in uids - {datasource["uid"], "-- Grafana --", "grafana"}:
        # A ${variable} of type datasource picks a datasource of its type: the provisioned one is the default.
        variable = variables.get(uid.strip("${}"))
        assert variable and variable["type"] == "datasource" and variable["query"] == datasource["type"], uid


# --- Kubernetes ----------------------------------------------------------------------------------------


def test_the_manifests_are_complete_and_namespace_agnostic() -> None:
    for resource in kustomization_resources():
        assert (K8S / resource).is_file(), resource
    for doc in k8s_docs():
        assert {"apiVersion", "kind", "metadata"} <= set(doc), doc.get("metadata")
        assert "namespace" not in doc["metadata"], f"{doc['kind']} {doc['metadata']['name']} fixes a namespace"
    kinds = {load_all(K8S / resource)[0]["kind"] for resource in kustomization_resources()}
    assert {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "ScaledObject", "Job"} <= kinds


def test_the_worker_probes_and_port_match_its_metrics_setting() -> None:
    (worker,) = containers(k8s_doc("Deployment", "listing-dedup-worker"))
    port = int(container_env(worker)["DEDUP_WORKER_METRICS_PORT"])
    assert port == WORKER_PORT and port in [item["containerPort"] for item in worker["ports"]]
    probes = {kind: worker[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert {kind: port_number(worker, probe["port"]) for kind, probe in probes.items()} == dict.fromkeys(probes, port)
    assert probes["livenessProbe"]["path"] == "/healthz" and probes["readinessProbe"]["path"] == "/readyz"
    assert worker["args"] == ["run"]


def test_the_worker_mounts_its_model_where_the_settings_point() -> None:
    deployment = k8s_doc("Deployment", "listing-dedup-worker")
    (worker,) = containers(deployment)
    mounts = {mount["mountPath"]: mount for mount in worker["volumeMounts"]}
    model_dir = container_env(worker)["DEDUP_MODEL_DIR"]
    assert mounts[model_dir].get("readOnly") is True
    assert dockerfile_values("ENV")["DEDUP_MODEL_DIR"] == model_dir
    assert f"{model_dir}:ro" in " ".join(services()["worker"]["volumes"])


def test_the_worker_outlives_its_own_shutdown_grace() -> None:
    deployment = k8s_doc("Deployment", "listing-dedup-worker")
    (worker,) = containers(deployment)
    grace = float(container_env(worker).get("DEDUP_WORKER_SHUTDOWN_GRACE_S", 30))
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace
    assert worker["resources"]["requests"]["cpu"] and worker["resources"]["limits"]["memory"]
    assert "replicas" not in deployment["spec"], "KEDA owns the worker's replica count"


def test_the_clusters_app_is_one_replica_on_its_web_port() -> None:
    deployment = k8s_doc("Deployment", "listing-dedup-clusters")
    (app,) = containers(deployment)
    port = int(container_env(app)["DEDUP_CLUSTERS_WEB_PORT"])
    assert port == CLUSTERS_PORT and app["args"] == ["clusters"]
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    for kind in ("livenessProbe", "readinessProbe"):
        assert port_number(app, app[kind]["httpGet"]["port"]) == port


def test_services_and_the_budget_select_the_pods_on_their_ports() -> None:
    for service_name, deployment_name in (
        ("listing-dedup-worker-metrics", "listing-dedup-worker"),
        ("listing-dedup-clusters", "listing-dedup-clusters"),
    ):
        service, deployment = k8s_doc("Service", service_name), k8s_doc("Deployment", deployment_name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        (container,) = containers(deployment)
        for port in service["spec"]["ports"]:
            assert port_number(container, port["targetPort"]) == port["port"]
    budget = k8s_doc("PodDisruptionBudget", "listing-dedup-worker")
    worker_labels = k8s_doc("Deployment", "listing-dedup-worker")["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= worker_labels.items()


def test_the_referenced_config_and_secret_exist() -> None:
    secret_example = load_all(K8S / "secret.example.yaml")[0]
    assert "DEDUP_REDIS_URL" in secret_example["stringData"]
    for doc in k8s_docs():
        for container in containers(doc):
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] == secret_example["metadata"]["name"]
                else:
                    k8s_doc("ConfigMap", source["configMapRef"]["name"])


def test_keda_scales_the_worker_on_its_own_group_and_topic() -> None:
    scaled = k8s_doc("ScaledObject", "listing-dedup-worker")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "listing-dedup-worker"
    (trigger,) = scaled["spec"]["triggers"]
    config = k8s_doc("ConfigMap", "listing-dedup")["data"]
    assert trigger["type"] == "kafka"
    metadata = trigger["metadata"]
    group = config.get("DEDUP_KAFKA_GROUP_ID", field_default(KafkaSettings, "group_id"))
    topic = config.get("DEDUP_TOPIC_LISTINGS", field_default(TopicSettings, "listings"))
    assert (metadata["consumerGroup"], metadata["topic"]) == (group, topic) == ("listing-dedup", "listings.created")
    assert metadata["bootstrapServers"] == config["DEDUP_KAFKA_BOOTSTRAP_SERVERS"]
    assert int(metadata["lagThreshold"]) > 0


def test_keda_never_scales_past_the_partitions_the_topics_job_creates() -> None:
    scaled = k8s_doc("ScaledObject", "listing-dedup-worker")["spec"]
    env = topics_job_env()
    partitions = int(env["PARTITIONS"])
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"] <= partitions
    assert env["DEDUP_TOPIC_PARTITIONS"] == env["PARTITIONS"]
    named = {value.default for value in TopicSettings.model_fields.values() if isinstance(value.default, str)}
    assert named <= set(env["TOPICS"].split())


def test_kubectl_builds_the_kustomization() -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    built = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=False)
    assert built.returncode == 0, built.stderr
    docs = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    assert len(docs) == len(kustomization_resources())
    assert all(doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "listing-dedup" for doc in docs)
    # The replacements copy the ConfigMap's broker, group and topic into KEDA's trigger.
    (config,) = [doc["data"] for doc in docs if doc["kind"] == "ConfigMap"]
    (scaled,) = [doc for doc in docs if doc["kind"] == "ScaledObject"]
    metadata = scaled["spec"]["triggers"][0]["metadata"]
    copied = ("bootstrapServers", "consumerGroup", "topic")
    variables = ("DEDUP_KAFKA_BOOTSTRAP_SERVERS", "DEDUP_KAFKA_GROUP_ID", "DEDUP_TOPIC_LISTINGS")
    assert [metadata[key] for key in copied] == [config[name] for name in variables]


# --- Dockerfile ----------------------------------------------------------------------------------------


def test_the_image_runs_dedup_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    assert ("ENTRYPOINT", '["dedup"]') in instructions
    (user,) = [arguments for name, arguments in instructions if name == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    exposed = {int(port) for name, arguments in instructions if name == "EXPOSE" for port in arguments.split()}
    assert {WORKER_PORT, CLUSTERS_PORT} <= exposed
    assert int(dockerfile_values("ENV")["DEDUP_WORKER_METRICS_PORT"]) == WORKER_PORT


def test_the_image_installs_the_torch_versions_the_project_pins() -> None:
    pins = dict(
        dependency.split("==", 1)
        for dependency in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        if "==" in dependency
    )
    args = dockerfile_values("ARG")
    assert (args["TORCH_VERSION"], args["TORCHVISION_VERSION"]) == (pins["torch"], pins["torchvision"])


def test_everything_the_image_copies_is_in_the_build_context() -> None:
    allowed = {
        line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")
    }
    copies = [arguments.split() for name, arguments in dockerfile_instructions() if name == "COPY"]
    sources = [source for parts in copies if not parts[0].startswith("--from") for source in parts[:-1]]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source in allowed, f"{source} is excluded by .dockerignore"


# --- with Docker ---------------------------------------------------------------------------------------


def test_docker_compose_accepts_the_file() -> None:
    """`docker compose config` needs the CLI and its compose plugin only, not a running engine."""
    reason = compose_unavailable_reason()
    if reason:
        pytest.skip(reason)
    checked = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.containers
def test_docker_build_checks_the_dockerfile() -> None:
    """`docker build --check` lints the Dockerfile without building it; it needs a running engine."""
    from tests.services import docker_unavailable_reason

    reason = docker_unavailable_reason()
    if reason:
        pytest.skip(reason)
    checked = subprocess.run(
        ["docker", "build", "--check", "-f", str(DOCKERFILE), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
