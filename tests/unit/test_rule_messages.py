"""What people and operators read when a rule refuses or a message fails: the Bahasa Indonesia
messages of the lifecycle, the bus's wiring errors, and the exact
edges of the priority bands and template lookup."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tindaklanjut.domain.lifecycle import (Actor, ConcurrentChange, FollowUpRequest, IllegalTransition, NotPermitted,
                                           RequestKind, RequestStatus, Role)
from tindaklanjut.domain.model import Priority
from tindaklanjut.domain.policy import load_policy
from tindaklanjut.service_layer.messagebus import MessageBus, inject

AT = datetime(2025, 3, 3, 3, 0, tzinfo=timezone.utc)


def _request() -> FollowUpRequest:
    return FollowUpRequest(id="req-1", recommendation_id="rec-1", kind=RequestKind.EXTENSION, requested_by="opd",
                           requested_at=AT, reason="menunggu APBD-P")


def test_a_lost_race_tells_the_user_to_reload():
    assert str(ConcurrentChange()) == ("rekomendasi ini baru saja diubah oleh pengguna lain; "
                                       "muat ulang lalu ulangi tindakan Anda")


def test_each_refused_decision_says_why():
    request = _request()
    with pytest.raises(NotPermitted, match="^pemohon tidak dapat memutuskan permohonannya sendiri$"):
        request.decide(actor=Actor(name="opd", role=Role.EVALUATOR), approve=True, at=AT, comment=None)
    with pytest.raises(NotPermitted, match=r"^peran Instansi \(OPD\) tidak berwenang memutuskan permohonan$"):
        request.decide(actor=Actor(name="lain", role=Role.AGENCY, agency_id="15"), approve=True, at=AT,
                       comment=None)
    request.decide(actor=Actor(name="evaluator", role=Role.EVALUATOR), approve=False, at=AT, comment="tidak")
    assert request.status is RequestStatus.REJECTED
    with pytest.raises(IllegalTransition, match=r"^permohonan sudah diputuskan \(rejected\)$"):
        request.decide(actor=Actor(name="evaluator2", role=Role.EVALUATOR), approve=True, at=AT, comment=None)


async def test_the_bus_names_a_command_it_cannot_handle():
    class Unknown:
        pass
    with pytest.raises(LookupError, match="^no handler for Unknown$"):
        await MessageBus({}).handle(Unknown())


async def test_wiring_names_every_missing_dependency_and_ignores_those_with_defaults():
    async def handler(command, clock, uow, limits=None):
        return command, clock, uow, limits

    with pytest.raises(TypeError, match="^test_wiring.*handler needs clock, uow, which bootstrap does not provide$"):
        inject(handler, {})
    call = inject(handler, {"clock": "c", "uow": "u", "unrelated": "x"})
    assert await call("cmd") == ("cmd", "c", "u", None)
    assert call.__qualname__.endswith("handler")


POLICY = load_policy()
PRIORITY = POLICY.rules.priority


@pytest.mark.parametrize("urgency, expected", [
    (PRIORITY.high_at_or_above, Priority.HIGH),                  # each edge belongs to the band above
    (PRIORITY.high_at_or_above - 0.01, Priority.MEDIUM),
    (PRIORITY.medium_at_or_above, Priority.MEDIUM),
    (PRIORITY.medium_at_or_above - 0.01, Priority.LOW),
    (PRIORITY.medium_at_or_above - 0.5, Priority.LOW),
    (0.0, Priority.LOW),
])
def test_priority_bands_at_their_edges(urgency, expected):
    assert PRIORITY.classify(urgency, unit_weak=True, top_band=False) is expected


def test_a_strong_unit_is_capped_and_the_top_band_has_its_own_priority():
    assert PRIORITY.classify(1.0, unit_weak=False, top_band=False) is Priority(PRIORITY.strong_unit_max)
    assert PRIORITY.classify(0.0, unit_weak=True, top_band=True) is Priority(PRIORITY.top_band)


def test_templates_are_looked_up_from_the_most_specific():
    catalogue = POLICY.catalogue
    assert catalogue.for_indicator("I.8", 3, "pekppp", "I")[0] == "indicator.pekppp.I.8"
    assert catalogue.for_indicator("I.2", 3, "pekppp", "I")[0] == "sp.3"
    assert catalogue.for_indicator("I.2", None, "pekppp", "I")[0] == "pekppp.I"
    key, template = catalogue.for_indicator("X.1", None, "pekppp", "X")
    assert key == "generic" and template == catalogue.templates["generic"]
    assert catalogue.for_indicator("I.2", None, None, "I")[0] == "generic"
    assert catalogue.for_aspect("ombudsman", "proses")[0] == "ombudsman.proses"
    key, template = catalogue.for_aspect("ombudsman", "tidak_ada")
    assert key == "generic" and template == catalogue.templates["generic"]


def test_every_role_action_and_status_has_a_name_people_read():
    from tindaklanjut.domain import labels
    from tindaklanjut.domain.lifecycle import Action, Role, Status

    for enum, name in ((Role, labels.role), (Action, labels.action), (Status, labels.status)):
        for member in enum:
            assert name(member) != member.value and name(member).strip(), member
    assert labels.role("tamu") == "tamu"          # an unknown code is shown as it is, never as nothing
