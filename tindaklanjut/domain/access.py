"""Who may see what: the one rule every query and every command's check uses.

Evaluators and admins see everything; an agency sees its own agency's items.
A verifier (the inspectorate, the Biro/Bagian Organisasi) is scoped the same
way as a secretary. A secretary (Sekda, Sekjen) belongs to one government and sees that
government's items only (`agency_id`): a province's Sekda does not see the
items of the province's autonomous cities and regencies, whose follow-up
belongs to their own Sekda and head of region. A secretary given a `region`
instead has read-only oversight of every government in it (an Ombudsman
office, a governor's bureau).
"""

from __future__ import annotations

from tindaklanjut.domain.lifecycle import Actor, Role, in_region


def can_see(actor: Actor, agency_id: str, agency_region: str) -> bool:
    if actor.role in (Role.EVALUATOR, Role.ADMIN):
        return True
    if actor.role is Role.AGENCY:
        return actor.agency_id == agency_id
    if actor.role in (Role.SECRETARY, Role.VERIFIER):
        if actor.agency_id:
            return actor.agency_id == agency_id
        return in_region(agency_region, actor.region or "")
    return False


def owns(actor: Actor, agency_id: str) -> bool:
    """May this actor act as the agency (record, upload, submit, request)?"""
    return actor.role is Role.ADMIN or (actor.role is Role.AGENCY and actor.agency_id == agency_id)


def may_verify(actor: Actor, verified_by: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
    """Does the framework let this actor's role check evidence? The evaluator always may (the
    assessor re-assesses next cycle anyway); a verifier only where the framework names the role."""
    return actor.role in (Role.EVALUATOR, Role.ADMIN) or (actor.role is Role.VERIFIER and "verifier" in verified_by)
