"""`tindaklanjut publish` with spreadsheets, against a real broker."""

import json

from tindaklanjut.adapters import kafka
from tindaklanjut.adapters.spreadsheet import event_to_rows, write_rows

from tests.conftest import contract_examples
from tests.kafka_helpers import cli, consume, settings_env

TEMPLATE = "docs/templates/hasil-penilaian.xlsx"


async def test_publishing_the_template_sends_one_event_per_unit(kafka_settings):
    await kafka.ensure_topics(kafka_settings)
    result = cli("publish", TEMPLATE, env=settings_env(kafka_settings))
    assert result.returncode == 0, result.stderr
    assert "25 baris -> 3 penilaian" in result.stdout
    messages = await consume(kafka_settings, "assessment.published", expected=3, settle=0.3)
    assert sorted(m.key.decode() for m in messages) == ["15.71/disdukcapil", "15.71/dpmptsp", "15/dinsos"]
    assert {json.loads(m.value)["type"] for m in messages} == {"tindaklanjut.assessment.published.v1"}


async def test_an_invalid_row_publishes_nothing_unless_skip_invalid(kafka_settings, tmp_path):
    await kafka.ensure_topics(kafka_settings)
    rows = [row for d in contract_examples().values() for row in event_to_rows(d)]
    rows[0]["indicator_score"] = 7          # above max_score 3
    path = tmp_path / "hasil.xlsx"
    write_rows(path, rows)
    env = settings_env(kafka_settings)

    refused = cli("publish", str(path), env=env)
    assert refused.returncode == 2
    assert "baris 2-12: penilaian ORI-2024-15.71-DISDUKCAPIL" in refused.stderr
    assert "tidak ada yang dipublikasikan" in refused.stderr
    assert await consume(kafka_settings, "assessment.published", expected=1, timeout=2) == []

    skipped = cli("publish", str(path), "--skip-invalid", env=env)
    assert skipped.returncode == 0, skipped.stderr
    messages = await consume(kafka_settings, "assessment.published", expected=2, settle=0.3)
    assert sorted(m.key.decode() for m in messages) == ["15.71/dpmptsp", "15/dinsos"]
