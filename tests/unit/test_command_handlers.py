"""Every command handler on the bus, against the in-memory fakes: the
follow-up lifecycle, requests, evidence, cycles, users and HTTP publishing
(the same handlers run on both databases in tests/integration)."""

import hashlib
import json
from datetime import date, datetime, timedelta, timezone

import pytest

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.domain.lifecycle import (Actor, ConcurrentChange, DomainError, IllegalTransition, NotPermitted,
                                           ReasonCode, RequestStatus, Role, Status)
from tindaklanjut.config import Settings
from tindaklanjut.domain.policy import load_policy
from tindaklanjut.domain.reminders import load_reminder_policy
from tindaklanjut.events.wire import DEFAULT_LIMITS
from tindaklanjut.ports.evidence import AbstractEvidenceStore, EvidenceFile
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.ports.validation import Rejected
from tindaklanjut.service_layer import commands, users
from tindaklanjut.service_layer.command_handlers import COMMAND_HANDLERS
from tindaklanjut.service_layer.cycles import CycleNotFound
from tindaklanjut.service_layer.followup import NotFound
from tindaklanjut.service_layer.messagebus import MessageBus, inject

from tests.unit.fakes import FakeUnitOfWork

NOW = datetime(2025, 1, 6, 2, 0, tzinfo=timezone.utc)
KOTA = Actor("operator-kota", Role.AGENCY, agency_id="15.71")
PROV = Actor("operator-prov", Role.AGENCY, agency_id="15")
ORI = Actor("ori", Role.EVALUATOR)
PANRB = Actor("panrb", Role.EVALUATOR)
SEKDA_KOTA = Actor("sekda-kota", Role.SECRETARY, region="15.71")
SEKDA_ACEH = Actor("sekda-aceh", Role.SECRETARY, region="11")


class FakeEvidenceStore(AbstractEvidenceStore):
    """In memory, with the real type checks and hashing of the abstract store."""

    def __init__(self):
        super().__init__(max_bytes=20 * 1024 * 1024)
        self.files: dict[str, bytes] = {}

    async def exists(self, sha256):
        return sha256 in self.files

    async def put(self, sha256, content):
        self.files[sha256] = content

    async def read(self, sha256):
        if sha256 not in self.files:
            return None

        async def chunks():
            yield self.files[sha256]
        return EvidenceFile(size=len(self.files[sha256]), chunks=chunks())


class Harness:
    def __init__(self):
        self.uow = FakeUnitOfWork(clock=lambda: self.now)
        self.now = NOW
        self.store = FakeEvidenceStore()
        self.dependencies = {"new_uow": lambda: self.uow, "clock": lambda: self.now, "catalogue": load_frameworks(),
                             "policy": load_policy(), "limits": DEFAULT_LIMITS, "poison_max_tries": 3,
                             "evidence_store": self.store, "settings": Settings(environment="test"),
                             "reminder_policy": load_reminder_policy(), "channels": {}}
        self.bus = self.bus_with()

    def bus_with(self, **overrides) -> MessageBus:
        dependencies = {**self.dependencies, **overrides}
        return MessageBus({c: inject(h, dependencies) for c, h in COMMAND_HANDLERS.items()})

    async def handle(self, command):
        return await self.bus.handle(command)

    def ids(self, agency_id):
        return sorted(r.id for r in self.uow.recommendations.rows.values() if r.agency_id == agency_id)

    def status(self, rid):
        return self.uow.recommendations.rows[rid].status

    def audit(self, rid):
        return [(e.action, e.actor) for e in self.uow.audit.entries if e.recommendation_id == rid]

    def outbox(self, topic):
        return [json.loads(m.value) for m in self.uow.outbox.messages if m.topic == topic]


async def ingested_harness(examples) -> Harness:
    """A harness with the three contract examples ingested."""
    harness = Harness()
    report = await harness.handle(commands.IngestAssessments(messages=tuple(
        IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
        for i, d in enumerate(examples.values()))))
    assert report.processed == 3
    return harness


@pytest.fixture
async def h(examples):
    return await ingested_harness(examples)


def test_every_command_has_exactly_one_handler():
    assert set(COMMAND_HANDLERS) == {c for c in vars(commands).values()
                                     if isinstance(c, type) and issubclass(c, commands.Command)
                                     and c not in (commands.Command, commands.FollowUpCommand)}


async def test_an_unregistered_command_is_refused():
    with pytest.raises(LookupError, match="no handler"):
        await MessageBus({}).handle(commands.RevokeToken(name="x"))


async def test_the_whole_lifecycle_with_changes_requested(h):
    rid = h.ids("15.71")[0]
    await h.handle(commands.RecordAction(actor=KOTA, recommendation_id=rid, comment="SOP disusun"))
    assert h.status(rid) is Status.IN_PROGRESS
    with pytest.raises(DomainError, match="bukti dukung"):
        await h.handle(commands.SubmitFollowUp(actor=KOTA, recommendation_id=rid))
    version = await h.handle(commands.AttachEvidence(actor=KOTA, recommendation_id=rid, filename="a/b/sop.pdf",
                                                     content=b"%PDF-1.4", description="SOP"))
    assert (version.version, version.kind, version.filename, version.size) == (1, "file", "sop.pdf", 8)
    await h.handle(commands.SubmitFollowUp(actor=KOTA, recommendation_id=rid, comment="selesai"))
    with pytest.raises(DomainError, match="komentar"):
        await h.handle(commands.RequestChanges(actor=ORI, recommendation_id=rid, comment=" "))
    await h.handle(commands.RequestChanges(actor=ORI, recommendation_id=rid, comment="lengkapi SK"))
    assert h.status(rid) is Status.CHANGES_REQUESTED
    link = await h.handle(commands.AttachEvidence(actor=KOTA, recommendation_id=rid, url="https://x.go.id/sk"))
    assert (link.version, link.kind, link.url, link.filename) == (2, "link", "https://x.go.id/sk", None)
    await h.handle(commands.SubmitFollowUp(actor=KOTA, recommendation_id=rid))
    await h.handle(commands.VerifyFollowUp(actor=PANRB, recommendation_id=rid, comment="sesuai"))
    assert h.status(rid) is Status.VERIFIED
    assert h.audit(rid) == [("action_recorded", "operator-kota"), ("evidence_added", "operator-kota"),
                            ("submitted", "operator-kota"), ("changes_requested", "ori"),
                            ("evidence_added", "operator-kota"), ("submitted", "operator-kota"),
                            ("verified", "panrb")]
    changed = h.outbox("followup.changed")
    assert [c["data"]["action"] for c in changed if c["data"]["recommendation_id"] == rid][-1] == "verified"
    with pytest.raises(IllegalTransition):
        await h.handle(commands.RecordAction(actor=KOTA, recommendation_id=rid, comment="lagi"))


async def test_empty_inputs_are_refused_before_anything_changes(h):
    rid = h.ids("15.71")[0]
    with pytest.raises(DomainError, match="wajib"):
        await h.handle(commands.RecordAction(actor=KOTA, recommendation_id=rid, comment="  "))
    with pytest.raises(DomainError, match="berkas atau"):
        await h.handle(commands.AttachEvidence(actor=KOTA, recommendation_id=rid))
    with pytest.raises(DomainError, match="alasan"):
        await h.handle(commands.RequestExtension(actor=KOTA, recommendation_id=rid, reason=" ",
                                                 new_due_date=date(2025, 12, 1)))
    with pytest.raises(DomainError, match="kode alasan"):
        await h.handle(commands.RequestNotActionable(actor=KOTA, recommendation_id=rid, reason="x",
                                                     reason_code=None))
    assert h.audit(rid) == [] and h.status(rid) is Status.OPEN


async def test_another_agency_and_another_region_see_nothing(h):
    rid = h.ids("15.71")[0]
    for actor in (PROV,):
        with pytest.raises(NotFound):
            await h.handle(commands.RecordAction(actor=actor, recommendation_id=rid, comment="bukan milik saya"))
    with pytest.raises(NotFound):
        await h.handle(commands.VerifyFollowUp(actor=SEKDA_ACEH, recommendation_id=rid))
    with pytest.raises(NotPermitted):      # visible to the city's secretary, but not theirs to decide
        await h.handle(commands.VerifyFollowUp(actor=SEKDA_KOTA, recommendation_id=rid))
    with pytest.raises(NotFound):
        await h.handle(commands.RecordAction(actor=KOTA, recommendation_id="unknown", comment="x"))
    assert h.audit(rid) == []


async def test_an_extension_approved_moves_the_deadline_to_23_59_local_time(h):
    rid = h.ids("15")[0]
    before = h.uow.recommendations.rows[rid].due_date
    with pytest.raises(DomainError, match="setelah tenggat"):
        await h.handle(commands.RequestExtension(actor=PROV, recommendation_id=rid, reason="APBD-P",
                                                 new_due_date=before))
    request = await h.handle(commands.RequestExtension(actor=PROV, recommendation_id=rid, reason="APBD-P",
                                                       new_due_date=date(2025, 9, 30)))
    with pytest.raises(IllegalTransition, match="belum diputuskan"):
        await h.handle(commands.RequestExtension(actor=PROV, recommendation_id=rid, reason="lagi",
                                                 new_due_date=date(2025, 10, 30)))
    with pytest.raises(NotPermitted):
        await h.handle(commands.DecideRequest(actor=PROV, request_id=request.id, approve=True))
    decided = await h.handle(commands.DecideRequest(actor=ORI, request_id=request.id, approve=True, comment="ok"))
    assert decided.status is RequestStatus.APPROVED
    rec = h.uow.recommendations.rows[rid]
    assert rec.due_date == date(2025, 9, 30) and rec.extended
    assert rec.due_at == datetime(2025, 9, 30, 16, 59, tzinfo=timezone.utc)     # 23:59 WIB
    with pytest.raises((IllegalTransition, ConcurrentChange)):
        await h.handle(commands.DecideRequest(actor=PANRB, request_id=request.id, approve=False))
    with pytest.raises(NotFound):
        await h.handle(commands.DecideRequest(actor=ORI, request_id="missing", approve=True))


async def test_a_rejected_extension_keeps_the_deadline_and_not_actionable_closes_the_item(h):
    first, second = h.ids("15")[:2]
    before = h.uow.recommendations.rows[first].due_date
    request = await h.handle(commands.RequestExtension(actor=PROV, recommendation_id=first, reason="APBD-P",
                                                       new_due_date=date(2025, 9, 30)))
    await h.handle(commands.DecideRequest(actor=ORI, request_id=request.id, approve=False, comment="tidak"))
    assert h.uow.recommendations.rows[first].due_date == before and not h.uow.recommendations.rows[first].extended
    request = await h.handle(commands.RequestNotActionable(
        actor=PROV, recommendation_id=second, reason="OPD digabung", reason_code=ReasonCode.ORGANISATION_RESTRUCTURED))
    await h.handle(commands.DecideRequest(actor=ORI, request_id=request.id, approve=True))
    assert h.status(second) is Status.NOT_ACTIONABLE
    assert [a for a, _ in h.audit(second)] == ["not_actionable_requested", "not_actionable_approved"]


async def test_a_stale_write_loses_with_a_conflict(h):
    rid = h.ids("15.71")[0]
    stale = await h.uow.recommendations.get(rid)
    await h.handle(commands.RecordAction(actor=KOTA, recommendation_id=rid, comment="pertama"))
    with pytest.raises(ConcurrentChange):
        await h.uow.recommendations.save(stale, NOW)


async def test_closing_a_cycle_lapses_what_is_open_once(h):
    rid = h.ids("15")[0]
    await h.handle(commands.RecordAction(actor=PROV, recommendation_id=rid, comment="dikerjakan"))
    with pytest.raises(NotPermitted):
        await h.handle(commands.CloseCycle(actor=PROV, framework="panrb-pekppp", cycle="2024"))
    with pytest.raises(CycleNotFound):
        await h.handle(commands.CloseCycle(actor=ORI, framework="panrb-pekppp", cycle="2019"))
    outcome = await h.handle(commands.CloseCycle(actor=ORI, framework="panrb-pekppp", cycle="2024"))
    assert (outcome.lapsed, outcome.already_closed) == (3, False)
    assert {h.status(r) for r in h.ids("15")} == {Status.LAPSED}
    assert {h.status(r) for r in h.ids("15.71")} == {Status.OPEN}          # another framework
    [reported] = h.outbox("cycle.reported")
    assert reported["data"]["framework"] == "panrb-pekppp"
    again = await h.handle(commands.CloseCycle(actor=PANRB, framework="panrb-pekppp", cycle="2024"))
    assert (again.lapsed, again.already_closed, again.closed_by) == (0, True, "ori")
    assert len(h.outbox("cycle.reported")) == 1


async def test_close_due_cycles_closes_only_ended_windows(h):
    assert await h.handle(commands.CloseDueCycles(now=datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc))) == []
    outcomes = await h.handle(commands.CloseDueCycles(now=datetime(2025, 7, 1, 0, 0, tzinfo=timezone.utc)))
    assert sorted((o.framework, o.cycle) for o in outcomes) == [("ombudsman-kepatuhan", "2024"),
                                                               ("panrb-pekppp", "2024")]
    assert {h.status(r) for r in h.uow.recommendations.rows} == {Status.LAPSED}


async def test_a_cycle_closed_event_closes_once_and_refuses_poison(h):
    def event(**data):
        return json.dumps({"specversion": "1.0", "id": data.pop("id", "c-1"), "source": "urn:ori",
                           "type": "tindaklanjut.cycle.closed.v1", "time": "2025-07-01T00:00:00+07:00",
                           "datacontenttype": "application/json", "data": data}).encode()

    origin = Origin(topic="cycle.closed", offset=0)
    closed = event(framework="panrb-pekppp", cycle="2024", closed_by="ori")
    assert await h.handle(commands.HandleCycleClosed(raw=closed, origin=origin)) == "closed"
    assert await h.handle(commands.HandleCycleClosed(raw=closed, origin=origin)) == "duplicate"
    unknown = event(id="c-2", framework="panrb-pekppp", cycle="2019")
    assert await h.handle(commands.HandleCycleClosed(raw=unknown, origin=Origin(topic="cycle.closed", offset=1))) \
        == "dead_lettered"
    assert await h.handle(commands.HandleCycleClosed(raw=b"{", origin=Origin(topic="cycle.closed", offset=2))) \
        == "dead_lettered"
    assert [r["reason_code"] for r in h.uow.dead_letters.rows] == ["unknown_cycle", "malformed_json"]


async def test_publishing_over_http_writes_the_outbox_or_refuses(h, examples):
    document = dict(examples["pekppp-2024-prov-jambi-dinsos"], id="http-1")
    message = await h.handle(commands.PublishAssessment(raw=json.dumps(document).encode()))
    assert (message.topic, message.key, message.event_id) == ("assessment.published", "15/dinsos", "http-1")
    assert h.uow.outbox.messages[-1] is message
    with pytest.raises(Rejected, match="duplicate_key"):
        await h.handle(commands.PublishAssessment(raw=json.dumps(document).encode()[:-1] + b', "id": "x"}'))


async def test_users_are_added_once_authenticated_and_revoked():
    harness = Harness()
    new_uow = lambda: harness.uow      # noqa: E731
    token = await harness.handle(commands.AddUser(name="ori", role=Role.EVALUATOR))
    assert (await users.authenticate(new_uow, token)).role is Role.EVALUATOR
    with pytest.raises(DomainError, match="sudah ada"):
        await harness.handle(commands.AddUser(name="ori", role=Role.EVALUATOR))
    with pytest.raises(DomainError, match="--agency"):
        await harness.handle(commands.AddUser(name="opd", role=Role.AGENCY))
    with pytest.raises(DomainError, match="--region"):
        await harness.handle(commands.AddUser(name="sekda", role=Role.SECRETARY))
    brief = await harness.handle(commands.AddUser(name="tamu", role=Role.EVALUATOR, expires_in=timedelta(days=1)))
    assert await users.authenticate(new_uow, brief) is not None
    assert await users.authenticate(new_uow, brief, now=datetime.now(timezone.utc) + timedelta(days=2)) is None
    await harness.handle(commands.RevokeToken(name="ori"))
    assert await users.authenticate(new_uow, token) is None
    assert await users.authenticate(new_uow, "x" * 201) is None
    with pytest.raises(DomainError, match="tidak ada"):
        await harness.handle(commands.RevokeToken(name="siapa"))
    states = {t["name"]: t["state"] for t in await users.list_users(new_uow)}
    assert states == {"ori": "revoked", "tamu": "active"}


async def test_passwords_sessions_lockout_and_disabling():
    from tindaklanjut.domain.passwords import verify_password
    from tindaklanjut.domain.users import LOCK_AFTER_FAILURES

    harness = Harness()
    store = harness.uow.users
    with pytest.raises(DomainError, match="minimal 10"):
        await harness.handle(commands.AddUser(name="opd", role=Role.AGENCY, agency_id="15.71", password="pendek"))
    assert await store.get("opd") is None
    token = await harness.handle(commands.AddUser(name="opd", role=Role.AGENCY, agency_id="15.71",
                                                  password="kata-sandi-panjang"))
    stored = await store.get("opd")
    assert stored.password_hash.startswith("scrypt$") and "kata-sandi-panjang" not in stored.password_hash
    assert verify_password("kata-sandi-panjang", stored.password_hash)
    assert not (await harness.handle(commands.LogIn(name="siapa", password="kata-sandi-panjang"))).ok

    opened = await harness.handle(commands.LogIn(name="opd", password="kata-sandi-panjang"))
    assert opened.ok and opened.csrf_token and not opened.slowed
    session = await store.find_session(users.token_hash(opened.session_token))
    assert (session.user_name, session.csrf_token) == ("opd", opened.csrf_token)
    assert session.expires_at - session.created_at == users.SESSION_LIFETIME
    await harness.handle(commands.LogOut(session_token=opened.session_token))
    assert await store.find_session(users.token_hash(opened.session_token)) is None

    outcomes = [await harness.handle(commands.LogIn(name="opd", password=f"salah-{n}-xxxxx"))
                for n in range(LOCK_AFTER_FAILURES)]
    assert [(o.ok, o.slowed, o.locked) for o in outcomes] == [
        (False, False, False), (False, False, False), (False, True, False), (False, True, False),
        (False, False, True)]
    locked = await harness.handle(commands.LogIn(name="opd", password="kata-sandi-panjang"))
    assert (locked.ok, locked.locked) == (False, True)
    stored = await store.get("opd")
    stored.locked_until = datetime.now(timezone.utc) - timedelta(seconds=1)     # the quarter of an hour passed
    await store.save(stored)
    assert (await harness.handle(commands.LogIn(name="opd", password="kata-sandi-panjang"))).ok

    # A reset ends every session and takes the new password only.
    kept = await harness.handle(commands.LogIn(name="opd", password="kata-sandi-panjang"))
    await harness.handle(commands.SetPassword(name="opd", password="sandi-baru-0123"))
    assert await store.find_session(users.token_hash(kept.session_token)) is None
    assert not (await harness.handle(commands.LogIn(name="opd", password="kata-sandi-panjang"))).ok
    again = await harness.handle(commands.LogIn(name="opd", password="sandi-baru-0123"))
    assert again.ok
    with pytest.raises(DomainError, match="tidak ada"):
        await harness.handle(commands.SetPassword(name="siapa", password="sandi-baru-0123"))

    # Disabled: no login, no token, sessions gone; the account stays listed.
    await harness.handle(commands.DisableUser(name="opd"))
    assert await store.find_session(users.token_hash(again.session_token)) is None
    assert not (await harness.handle(commands.LogIn(name="opd", password="sandi-baru-0123"))).ok
    assert await users.authenticate(lambda: harness.uow, token) is None
    listed = {u["name"]: u for u in await users.list_users(lambda: harness.uow)}
    assert (listed["opd"]["account"], listed["opd"]["state"], listed["opd"]["password"]) == ("nonaktif", "disabled",
                                                                                            "ya")


async def test_every_issued_event_carries_the_recommendation_as_stored(h, examples):
    from tindaklanjut.events.recommendation import RecommendationIssuedEvent

    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "schemas" / "tindaklanjut.recommendation.issued.v1.json")
                        .read_text())
    issued = [m for m in h.uow.outbox.messages if m.topic == "recommendation.issued"]
    assert len(issued) == 8
    documents = {d["data"]["unit"]["id"]: d["data"] for d in examples.values()}
    for message in issued:
        jsonschema.validate(json.loads(message.value), schema)      # the published contract, byte for byte
        event = RecommendationIssuedEvent.model_validate_json(message.value)
        rec = h.uow.recommendations.rows[event.data.recommendation_id]
        unit = documents[rec.unit_id]["unit"]
        assert (message.key, message.event_type, message.event_id) == (rec.unit_id, event.type, event.id)
        assert message.headers == [("content-type", "application/cloudevents+json")]
        assert (event.source, event.subject, event.time) == ("urn:tindaklanjut:recommender", rec.unit_id,
                                                              rec.issued_at)
        data = event.data
        assert (data.assessment_id, data.assessment_revision, data.framework, data.cycle) == \
            (rec.assessment_id, rec.assessment_revision, rec.framework, rec.cycle)
        assert (data.unit.id, data.unit.name, data.unit.region_code) == (unit["id"], unit["name"], unit["region_code"])
        assert (data.agency.id, data.agency.name, data.agency.kind) == \
            (unit["agency"]["id"], unit["agency"]["name"], unit["agency"]["kind"])
        assert (data.scope, data.aspect_code, data.indicator_code, data.sp_component, data.indicator_name) == \
            (rec.scope.value, rec.aspect_code, rec.indicator_code, rec.sp_component, rec.indicator_name)
        assert (data.title, data.action, data.evidence, data.finding) == (rec.title, rec.action, rec.evidence,
                                                                         rec.finding)
        assert (data.priority, data.due_date, data.due_at, data.status) == (rec.priority.value, rec.due_date,
                                                                             rec.due_at, "open")
        assert (data.rule_id, data.catalogue_version, data.carried_over_from, data.issued_at) == \
            (rec.rule_id, rec.catalogue_version, rec.carried_over_from, rec.issued_at)
    # The same issue replayed keeps its id: consumers de-duplicate on it.
    assert len({m.event_id for m in issued}) == 8


async def test_every_followup_event_mirrors_its_audit_entry(h):
    from tindaklanjut.events.followup import FollowUpChangedEvent

    rid = h.ids("15.71")[0]
    await h.handle(commands.RecordAction(actor=KOTA, recommendation_id=rid, comment="SOP disusun"))
    await h.handle(commands.AttachEvidence(actor=KOTA, recommendation_id=rid, filename="sop.pdf", content=b"%PDF-1.4",
                                           description="SOP"))
    changed = [m for m in h.uow.outbox.messages if m.topic == "followup.changed"]
    assert len(changed) == len(h.uow.audit.entries) == 2
    for message, entry in zip(changed, h.uow.audit.entries):
        event = FollowUpChangedEvent.model_validate_json(message.value)
        assert (message.key, event.subject, event.source) == ("15.71/disdukcapil", "15.71/disdukcapil",
                                                               "urn:tindaklanjut:followup")
        data = event.data
        assert (data.recommendation_id, data.unit_id, data.agency_id) == (rid, "15.71/disdukcapil", "15.71")
        assert (data.action, data.actor, data.role, data.from_status, data.to_status, data.comment, data.at) == \
            (entry.action, entry.actor, entry.role, entry.from_status, entry.to_status, entry.comment,
             entry.occurred_at)
        assert data.evidence_sha256 == list(entry.evidence) and data.details == entry.details
    last = FollowUpChangedEvent.model_validate_json(changed[-1].value).data
    assert (last.evidence_sha256, last.details["kind"], last.details["version"]) == (
        [hashlib.sha256(b"%PDF-1.4").hexdigest()], "file", 1)


async def test_a_dead_letter_keeps_the_bytes_and_says_why(h):
    from tindaklanjut.service_layer.outbound import DLQ_REASON_HEADER

    await h.handle(commands.IngestAssessments(messages=(
        IngestAssessment(raw=b'{"broken": ', origin=Origin(topic="assessment.published", partition=1, offset=42)),)))
    [message] = [m for m in h.uow.outbox.messages if m.topic == "deadletter"]
    headers = dict(message.headers)
    reason = json.loads(headers[DLQ_REASON_HEADER])
    assert (message.key, message.value, message.event_type) == (None, b'{"broken": ', "deadletter")
    assert headers["tindaklanjut-dlq-code"] == reason["code"] == "malformed_json"
    assert (reason["topic"], reason["partition"], reason["offset"], reason["size"]) == \
        ("assessment.published", 1, 42, 11)
    assert reason["sha256"] == message.event_id and len(message.event_id) == 64
    assert reason["received_at"] == NOW.isoformat() and reason["errors"] == []
    [row] = h.uow.dead_letters.rows
    assert (row["reason_code"], row["raw"], row["offset"]) == ("malformed_json", b'{"broken": ', 42)


async def test_a_secretary_belongs_to_one_government_or_oversees_a_region():
    harness = Harness()
    with pytest.raises(DomainError, match="--agency"):
        await harness.handle(commands.AddUser(name="sekda", role=Role.SECRETARY))
    with pytest.raises(DomainError, match="tidak keduanya"):
        await harness.handle(commands.AddUser(name="sekda", role=Role.SECRETARY, agency_id="15", region="15"))
    await harness.handle(commands.AddUser(name="sekda-pemprov", role=Role.SECRETARY, agency_id="15"))
    await harness.handle(commands.AddUser(name="ombudsman-jambi", role=Role.SECRETARY, region="15"))


def test_the_access_rule_for_each_role():
    from tindaklanjut.domain.access import can_see, owns

    government = Actor("sekda-pemprov", Role.SECRETARY, agency_id="15")
    oversight = Actor("ombudsman-jambi", Role.SECRETARY, region="15")
    assert can_see(government, "15", "15") and not can_see(government, "15.71", "15.71")
    assert can_see(oversight, "15", "15") and can_see(oversight, "15.71", "15.71")
    assert not can_see(oversight, "16", "16") and not can_see(SEKDA_ACEH, "15", "15")
    assert can_see(KOTA, "15.71", "15.71") and not can_see(KOTA, "15", "15")
    assert can_see(ORI, "99", "99") and can_see(Actor("root", Role.ADMIN), "99", "99")
    assert owns(KOTA, "15.71") and not owns(KOTA, "15") and not owns(government, "15") and not owns(ORI, "15")
    assert owns(Actor("root", Role.ADMIN), "15")


async def test_a_verifier_checks_evidence_in_its_own_government_where_the_framework_allows(h):
    from tindaklanjut.domain.frameworks import FrameworkCatalogue

    inspektorat = Actor("inspektorat-kota", Role.VERIFIER, agency_id="15.71")
    city, province = h.ids("15.71")[0], h.ids("15")[0]
    for rid, actor in ((city, KOTA), (province, PROV)):
        await h.handle(commands.AttachEvidence(actor=actor, recommendation_id=rid, filename="sk.pdf",
                                               content=b"%PDF-1.4"))
        await h.handle(commands.SubmitFollowUp(actor=actor, recommendation_id=rid))
    with pytest.raises(NotFound):                                   # another government's item
        await h.handle(commands.VerifyFollowUp(actor=inspektorat, recommendation_id=province))
    only_evaluators = FrameworkCatalogue({code: f.model_copy(update={"verified_by": ("evaluator",)})
                                          for code, f in h.dependencies["catalogue"].frameworks.items()})
    strict = h.bus_with(catalogue=only_evaluators)
    with pytest.raises(NotPermitted, match="evaluator"):
        await strict.handle(commands.VerifyFollowUp(actor=inspektorat, recommendation_id=city))
    assert h.status(city) is Status.SUBMITTED
    await h.handle(commands.RequestChanges(actor=inspektorat, recommendation_id=city, comment="SK belum ditandatangani"))
    assert h.status(city) is Status.CHANGES_REQUESTED
    assert h.audit(city)[-1] == ("changes_requested", "inspektorat-kota")
    request = await h.handle(commands.RequestExtension(actor=KOTA, recommendation_id=city, reason="anggaran",
                                                       new_due_date=date(2025, 6, 1)))
    with pytest.raises(NotPermitted):
        await strict.handle(commands.DecideRequest(actor=inspektorat, request_id=request.id, approve=True))
    await h.handle(commands.DecideRequest(actor=inspektorat, request_id=request.id, approve=True))
    assert h.uow.recommendations.rows[city].due_date >= date(2025, 6, 1)     # 1 June is a Sunday: a working day on
    with pytest.raises(DomainError, match="verifikator wajib"):
        await h.handle(commands.AddUser(name="apip", role=Role.VERIFIER))
