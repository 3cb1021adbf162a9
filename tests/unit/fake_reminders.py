"""An in-memory reminder store over the fake unit of work's recommendations,
directory and assessments: the same abstract class as the SQL store, so the
sweep's planning and sending rules run in unit tests."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict

from tindaklanjut.adapters.orm_reminders import DIRTY
from tindaklanjut.domain.reminders import REMINDED_STATUSES, Channel, DigestLine, ReminderTarget
from tindaklanjut.ports.reminders import AbstractReminderStore, ClaimedDigest, DueRow


class FakeReminderStore(AbstractReminderStore):
    def __init__(self, uow) -> None:
        self.uow = uow
        self.planner_owners: list[str] = []
        self.planner_locked_at: list = []
        self.claim_limits: list[int] = []
        self.written_at: dict[str, list] = defaultdict(list)   # what the SQL store stamps created_at / updated_at
        self.schedule: dict[str, dict] = {}          # recommendation id -> {basis_due_at, next_at}
        self.digests: dict[int, dict] = {}
        self.deliveries: dict[int, dict] = {}
        self.escalations: list[dict] = []
        self.attempts: dict[int, dict] = {}
        self.contact_rows: list = []
        self._ids = itertools.count(1)

    def _recommendations(self):
        return self.uow.recommendations.rows

    # ---------------------------------------------------------------- planning
    async def lock_planner(self, owner, at):
        self.planner_owners.append(owner)
        self.planner_locked_at.append(at)

    async def reconcile(self):
        changed = 0
        for rec in self._recommendations().values():
            if rec.status not in REMINDED_STATUSES:
                continue
            row = self.schedule.get(rec.id)
            if row is None or row["basis_due_at"] != rec.due_at:
                self.schedule[rec.id] = {"basis_due_at": rec.due_at, "next_at": DIRTY}
                changed += 1
        return changed

    def _target(self, rec_id) -> ReminderTarget:
        rec = self._recommendations()[rec_id]
        unit = self.uow.directory.units[rec.unit_id]
        assessment = self.uow.assessments.rows.get((rec.assessment_id, rec.assessment_revision))
        return ReminderTarget(recommendation_id=rec.id, unit_id=rec.unit_id, agency_id=rec.agency_id,
                              region_code=unit.region_code, status=rec.status.value, due_at=rec.due_at,
                              cycle_end=assessment.follow_up_until if assessment else None)

    async def claim_due(self, now, *, after, limit):
        self.claim_limits.append(limit)
        due = sorted((row["next_at"], rec_id) for rec_id, row in self.schedule.items() if row["next_at"] <= now)
        if after is not None:
            due = [key for key in due if key > after]
        return [DueRow(self._target(rec_id), next_at) for next_at, rec_id in due[:limit]]

    async def due_batches(self, now, batch_size):
        after = None
        while batch := await self.claim_due(now, after=after, limit=batch_size):
            after = (batch[-1].next_at, batch[-1].target.recommendation_id)
            yield batch

    async def delivered(self, rec_ids):
        found = defaultdict(set)
        for d in self.deliveries.values():
            if d["recommendation_id"] in rec_ids:
                found[d["recommendation_id"]].add((d["step_key"], d["recipient"]))
        return found

    async def escalated(self, rec_ids):
        found = defaultdict(set)
        for e in self.escalations:
            if e["recommendation_id"] in rec_ids:
                found[e["recommendation_id"]].add(e["step_key"])
        return found

    async def contacts(self, agency_ids):
        wanted = set(agency_ids)
        return [c for c in self.contact_rows if c.agency_id in wanted]

    async def digests_for(self, keys):
        wanted = set(keys)
        return {(d["recipient"], d["day"]): (i, d["status"]) for i, d in self.digests.items()
                if (d["recipient"], d["day"]) in wanted}

    async def lock_pending_digests(self, ids):
        return {i for i in ids if self.digests[i]["status"] == "pending"}

    async def create_digests(self, first, at):
        created = {}
        self.written_at["digests"].append(at)
        for key, d in first.items():
            digest_id = next(self._ids)
            self.digests[digest_id] = {"uid": str(uuid.uuid4()), "recipient": key[0], "channel": d.recipient.channel,
                                       "address": d.recipient.address, "name": d.recipient.name, "day": key[1],
                                       "zone": d.zone, "status": "pending", "claims": 0, "lease_until": None,
                                       "sent_at": None, "error": None}
            created[key] = digest_id
        return created

    async def add_deliveries(self, planned, at):
        self.written_at["deliveries"].append(at)
        for d, digest_id in planned:
            self.deliveries[next(self._ids)] = {
                "recommendation_id": d.recommendation_id, "step_key": d.step.key, "step": d.step.id,
                "offset_days": d.step.offset_days, "recipient": d.recipient.key, "roles": tuple(d.roles),
                "digest_id": digest_id, "status": "planned"}

    async def add_escalations(self, escalations, at):
        self.written_at["escalations"].append(at)
        self.escalations.extend({"recommendation_id": e.recommendation_id, "step_key": e.step.key,
                                 "level": e.step.escalation_level} for e in escalations)

    async def reschedule(self, next_at):
        for rec_id, when in next_at.items():
            self.schedule[rec_id]["next_at"] = when

    async def forget(self, rec_ids):
        for rec_id in rec_ids:
            self.schedule.pop(rec_id, None)

    async def recommendation_facts(self, rec_ids):
        facts = {}
        for rec_id in rec_ids:
            rec = self._recommendations()[rec_id]
            unit = self.uow.directory.units[rec.unit_id]
            facts[rec_id] = {"id": rec.id, "unit_id": rec.unit_id, "agency_id": rec.agency_id,
                             "due_date": rec.due_date, "due_at": rec.due_at, "name": unit.name,
                             "region_code": unit.region_code}
        return facts

    # ----------------------------------------------------------------- sending
    async def claim_digest(self, zones, *, wall_now, lease_until, owner):
        expired = lambda d: d["lease_until"] is not None and d["lease_until"] < wall_now     # noqa: E731
        for status, usable in (("pending", lambda d: True), ("sending", expired), ("retrying", expired)):
            for digest_id in sorted(self.digests):
                d = self.digests[digest_id]
                if d["status"] == status and d["zone"] in zones and usable(d):
                    d.update(status="sending", claims=d["claims"] + 1, lease_until=lease_until, owner=owner)
                    return ClaimedDigest(id=digest_id, uid=d["uid"], channel=Channel(d["channel"]),
                                         address=d["address"], name=d["name"], day=d["day"], zone=d["zone"],
                                         claims=d["claims"])
        return None

    async def digest_lines(self, digest_id):
        lines = []
        for delivery_id in sorted(self.deliveries):
            d = self.deliveries[delivery_id]
            if d["digest_id"] != digest_id or d["status"] != "planned":
                continue
            rec = self._recommendations()[d["recommendation_id"]]
            unit = self.uow.directory.units[rec.unit_id]
            lines.append(DigestLine(
                delivery_id=delivery_id, recommendation_id=rec.id, step_id=d["step"], step_key=d["step_key"],
                offset_days=d["offset_days"], roles=d["roles"], status=rec.status.value, title=rec.title,
                unit_id=rec.unit_id, unit_name=unit.name, agency_id=rec.agency_id, region_code=unit.region_code,
                indicator_code=rec.indicator_code, priority=rec.priority.value, due_at=rec.due_at,
                agency_kind=unit.agency.kind, framework=rec.framework, cycle=rec.cycle, action=rec.action,
                evidence=rec.evidence, **self._reported(rec)))
        return lines

    def _reported(self, rec) -> dict:
        """Who assessed and under which report, from the assessment's stored payload."""
        payload = self.uow.assessments.payloads.get((rec.assessment_id, rec.assessment_revision)) or {}
        return {"evaluator": (payload.get("evaluator") or {}).get("name"), "report_ref": payload.get("report_ref")}

    async def finish_digest(self, digest_id, *, status, at, delivered, dropped, error=None, retry_at=None):
        self.digests[digest_id].update(status=status, sent_at=at if status == "sent" else None, lease_until=retry_at,
                                       error=error, finished_at=at)
        for delivery_id in delivered if status != "retrying" else ():
            self.deliveries[delivery_id]["status"] = "sent" if status == "sent" else "failed"
        for delivery_id in dropped:
            self.deliveries[delivery_id]["status"] = "cancelled"

    async def start_attempt(self, digest_id, channel, number, at):
        attempt_id = next(self._ids)
        self.attempts[attempt_id] = {"digest_id": digest_id, "channel": channel, "attempt": number,
                                     "outcome": None, "detail": None}
        return attempt_id

    async def finish_attempt(self, attempt_id, *, outcome, detail, at):
        self.attempts[attempt_id].update(outcome=outcome, detail=detail[:2000])

    # ---------------------------------------------------------------- contacts
    async def upsert_contacts(self, contacts, at):
        created = updated = unchanged = 0
        self.written_at["contacts"].append(at)
        for c in contacts:
            index = next((i for i, old in enumerate(self.contact_rows)
                          if (old.agency_id, old.unit_id, old.role) == (c.agency_id, c.unit_id, c.role)), None)
            if index is None:
                self.contact_rows.append(c)
                created += 1
            elif self.contact_rows[index] != c:
                self.contact_rows[index] = c
                updated += 1
            else:
                unchanged += 1
        return created, updated, unchanged

    async def wake_agencies(self, agency_ids):
        woken = 0
        for rec_id, row in self.schedule.items():
            if self._recommendations()[rec_id].agency_id in set(agency_ids):
                row["next_at"] = DIRTY
                woken += 1
        return woken

    async def list_contacts(self):
        return [vars(c) if hasattr(c, "__dict__") else {"agency_id": c.agency_id, "unit_id": c.unit_id,
                                                         "role": c.role.value, "name": c.name}
                for c in self.contact_rows]

    async def list_digests(self, limit=200):
        return [{"id": i, **d} for i, d in sorted(self.digests.items(), reverse=True)][:limit]
