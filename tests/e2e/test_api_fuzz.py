"""Fuzz the HTTP API from its own OpenAPI schema (schemathesis) against a
live server: no 500s, no responses that break the schema, no undeclared
status codes or content types."""

import asyncio
import json
import os
import subprocess
import sys

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tindaklanjut.adapters import migrate
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.config import Settings
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.service_layer import users
from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.conftest import contract_examples, free_port
from tests.kafka_helpers import settings_env

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


async def _seed(settings: Settings) -> dict[str, str]:
    await migrate.upgrade_async(settings.resolved_database_url)
    container = bootstrap(settings)
    try:
        await container.ingest([IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
                                for i, d in enumerate(contract_examples().values())])
        return {role.value: await users.add_user(container.uow, f"fuzz-{role.value}", role,
                                                 agency_id="15" if role is Role.AGENCY else None,
                                                 region="15" if role in (Role.SECRETARY, Role.VERIFIER) else None)
                for role in Role}
    finally:
        await container.close()


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    settings = Settings(environment="test", var_dir=tmp / "var", api_port=free_port(),
                        database_url=f"sqlite:///{tmp / 'fuzz.db'}", kafka_bootstrap="127.0.0.1:1")
    tokens = asyncio.run(_seed(settings))
    env = settings_env(settings)
    process = subprocess.Popen([sys.executable, "-m", "tindaklanjut.cli", "api"], env=env, cwd=tmp,
                               stdout=open(tmp / "api.log", "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{settings.api_port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/openapi.json").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise AssertionError((tmp / "api.log").read_text())
        asyncio.run(asyncio.sleep(0.1))
    yield base, tokens
    process.terminate()
    process.wait(10)


def test_every_operation_conforms_to_the_schema(live_api):
    """Every operation, generated from the OpenAPI schema, called with each role's token and without one."""
    base, tokens = live_api
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    examples = int(os.environ.get("TINDAKLANJUT_FUZZ_EXAMPLES", "20"))
    # /readyz answers 503 on purpose here (no broker listens): readiness is tested in test_health.py.
    operations = [op for op in (result.ok() for result in schema.get_all_operations()) if op.path != "/readyz"]
    assert len(operations) >= 14

    for operation in operations:
        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                             database=None)
        def conforms(case):
            for role in ("agency", "evaluator", "secretary", "verifier", None):
                headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
                case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        conforms()
