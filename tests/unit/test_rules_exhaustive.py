"""Every rule, exhaustively: the whole (action, status) table of the
lifecycle, who may perform each action, and every band edge of every
grading scale (a one-line change to any of them fails here)."""

from datetime import date, datetime, timezone

import pytest

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.domain.lifecycle import (OWED_STATUSES, PERFORMED_BY, TRANSITIONS, Action, Actor,
                                           IllegalTransition, NotPermitted, Role, Status, in_region)
from tindaklanjut.domain.model import Priority, Recommendation, Scope

AT = datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc)
ACTORS = {Role.AGENCY: Actor("opd", Role.AGENCY, agency_id="15"), Role.EVALUATOR: Actor("ori", Role.EVALUATOR),
          Role.SECRETARY: Actor("sekda", Role.SECRETARY, region="15"), Role.ADMIN: Actor("admin", Role.ADMIN),
          Role.VERIFIER: Actor("inspektorat", Role.VERIFIER, agency_id="15")}

# The lifecycle as the domain documents it (docs/api.md): from which statuses each action may start, and where
# it leads. Written out again here on purpose: a change to TRANSITIONS must be a change to this table too.
ACTIVE = {Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}
EXPECTED = {
    Action.RECORD_ACTION: (ACTIVE, Status.IN_PROGRESS),
    Action.ADD_EVIDENCE: (ACTIVE, None),
    Action.SUBMIT: (ACTIVE, Status.SUBMITTED),
    Action.VERIFY: ({Status.SUBMITTED}, Status.VERIFIED),
    Action.REQUEST_CHANGES: ({Status.SUBMITTED}, Status.CHANGES_REQUESTED),
    Action.REQUEST_NOT_ACTIONABLE: (ACTIVE, None),
    Action.APPROVE_NOT_ACTIONABLE: (ACTIVE, Status.NOT_ACTIONABLE),
    Action.REJECT_NOT_ACTIONABLE: (set(Status), None),
    Action.REQUEST_EXTENSION: (ACTIVE, None),
    Action.APPROVE_EXTENSION: (ACTIVE | {Status.SUBMITTED}, None),
    Action.REJECT_EXTENSION: (set(Status), None),
    Action.LAPSE: (ACTIVE | {Status.SUBMITTED}, Status.LAPSED),
    Action.SUBMIT_PLAN: (ACTIVE, Status.IN_PROGRESS),
    Action.ACCEPT_PLAN: (ACTIVE, None),
    Action.RETURN_PLAN: (ACTIVE, None),
    Action.COMPLETE_MILESTONE: (ACTIVE, Status.IN_PROGRESS),
}
AGENCY_ACTIONS = {Action.RECORD_ACTION, Action.ADD_EVIDENCE, Action.SUBMIT, Action.REQUEST_NOT_ACTIONABLE,
                  Action.REQUEST_EXTENSION, Action.SUBMIT_PLAN, Action.COMPLETE_MILESTONE}
# The verifier (APIP, Biro/Bagian Organisasi) checks evidence and decides requests; lapsing is the evaluator's.
CHECKING_ACTIONS = {Action.VERIFY, Action.REQUEST_CHANGES, Action.APPROVE_NOT_ACTIONABLE,
                    Action.REJECT_NOT_ACTIONABLE, Action.APPROVE_EXTENSION, Action.REJECT_EXTENSION,
                    Action.ACCEPT_PLAN, Action.RETURN_PLAN}


def _recommendation(status: Status) -> Recommendation:
    return Recommendation(
        id="r1", assessment_id="A", assessment_revision=1, framework="panrb-pekppp", cycle="2024",
        unit_id="15/dinsos", agency_id="15", scope=Scope.INDICATOR, aspect_code="V", indicator_code="V.4",
        sp_component=10, title="t", action="a", finding=None, priority=Priority.MEDIUM, due_date=date(2025, 2, 18),
        due_at=datetime(2025, 2, 18, 16, 59, tzinfo=timezone.utc), rule_id="x", issued_at=AT, status=status)


def test_the_table_is_the_documented_one():
    assert {a: (set(f), t) for a, (f, t) in TRANSITIONS.items()} == EXPECTED
    assert {a for a, roles in PERFORMED_BY.items() if roles == {Role.AGENCY}} == AGENCY_ACTIONS
    assert {a for a, roles in PERFORMED_BY.items() if roles == {Role.EVALUATOR, Role.VERIFIER}} == CHECKING_ACTIONS
    assert {a for a, roles in PERFORMED_BY.items() if roles == {Role.EVALUATOR}} == {Action.LAPSE}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_action_from_every_status(action, status):
    allowed_from, target = EXPECTED[action]
    performer = ACTORS[Role.AGENCY if action in AGENCY_ACTIONS else Role.EVALUATOR]
    rec = _recommendation(status)
    if status not in allowed_from:
        with pytest.raises(IllegalTransition):
            rec.change(action, actor=performer, at=AT, comment="catatan")
        assert rec.status is status and rec.events == []
        return
    rec.change(action, actor=performer, at=AT, comment="catatan")
    assert rec.status is (target or status)
    [event] = rec.events
    assert (event.from_status, event.to_status, event.action) == (status.value, rec.status.value, action.value)
    assert rec.had_action is (action in (Action.RECORD_ACTION, Action.SUBMIT, Action.SUBMIT_PLAN,
                                         Action.COMPLETE_MILESTONE))


@pytest.mark.parametrize("role", [Role.AGENCY, Role.EVALUATOR, Role.SECRETARY, Role.VERIFIER])
@pytest.mark.parametrize("action", list(Action))
def test_only_the_performing_role_or_an_admin_may_act(action, role):
    allowed_from, _ = EXPECTED[action]
    status = next(s for s in Status if s in allowed_from)
    may = role in PERFORMED_BY[action]
    rec = _recommendation(status)
    if may:
        rec.change(action, actor=ACTORS[role], at=AT, comment="catatan")
    else:
        with pytest.raises(NotPermitted):
            rec.change(action, actor=ACTORS[role], at=AT, comment="catatan")
        assert rec.status is status
    _recommendation(status).change(action, actor=ACTORS[Role.ADMIN], at=AT, comment="catatan")


def test_owed_statuses_and_the_region_rule():
    assert OWED_STATUSES == {Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}
    assert in_region("15", "15") and in_region("15.71", "15") and in_region("15.71.01", "15.71")
    assert not in_region("16", "1") and not in_region("151", "15") and not in_region("15", "15.71")


def _edges():
    for key, framework in load_frameworks().frameworks.items():
        for scale in framework.scales:
            cycle = str(scale.cycles[0])
            for band in scale.bands:
                if band.min > 0:
                    yield pytest.param(key, cycle, band.min, band.grade, id=f"{key}-{cycle}-{band.grade}-at")
                    below = round(band.min - 0.01, 2)
                    lower = scale.bands[scale.bands.index(band) + 1].grade
                    yield pytest.param(key, cycle, below, lower, id=f"{key}-{cycle}-{band.grade}-below")
                    # A score that rounds up to the edge belongs to the band (two decimals, half up).
                    yield pytest.param(key, cycle, round(band.min - 0.005, 3), band.grade,
                                       id=f"{key}-{cycle}-{band.grade}-rounds-up")
                else:
                    yield pytest.param(key, cycle, 0.0, band.grade, id=f"{key}-{cycle}-{band.grade}-zero")


@pytest.mark.parametrize(("framework", "cycle", "score", "grade"), list(_edges()))
def test_every_band_edge_of_every_scale(framework, cycle, score, grade):
    scale = load_frameworks().get(framework).scale_for(cycle)
    assert scale.band_for(score).grade == grade


def test_two_decimal_rounding_half_up():
    scale = load_frameworks().get("ombudsman-kepatuhan").scale_for("2024")
    assert scale.band_for(87.995).grade == "A"       # rounds to 88.00
    assert scale.band_for(87.994999).grade == "B"    # rounds to 87.99
    pekppp = load_frameworks().get("panrb-pekppp").scale_for("2024")
    assert pekppp.band_for(4.505).grade == "A" and pekppp.band_for(4.5049).grade == "A-"


def test_every_cycle_year_of_every_scale_finds_its_scale():
    for key, framework in load_frameworks().frameworks.items():
        for scale in framework.scales:
            for year in (scale.cycles[0], scale.cycles[1]):
                assert framework.scale_for(str(year)) is scale
            assert framework.scale_for(str(scale.cycles[0] - 1)) is not scale
            assert framework.scale_for(str(scale.cycles[1] + 1)) is not scale
