"""Turn an assessment into recommendations, following the policy data.

Weak indicators get one recommendation each. In a weak unit, a weak aspect
none of whose indicators is weak gets an aspect-level one, and a unit with no
weak indicator at all gets a unit-level one. Units in bands not marked weak
get only their weak indicators, as report-card notes (low priority in the top
band, at most medium otherwise).

Priority comes from urgency = gap x weight factor, adjusted by the unit's
band. The deadline follows the priority and never passes the end of the
follow-up window.
"""

from __future__ import annotations

from datetime import datetime

from tindaklanjut.domain import calendar
from tindaklanjut.domain.frameworks import Band, Framework
from tindaklanjut.domain.model import Assessment, Priority, Recommendation, Scope, recommendation_id
from tindaklanjut.domain.plans import plan_due_date
from tindaklanjut.domain.policy import Policy, Template
from tindaklanjut.events.assessment import Aspect, AssessmentPublished, Indicator


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _quote(text: str | None, label: str = "Temuan evaluator") -> str:
    return f" {label}: \u201c{text.strip()}\u201d" if text and text.strip() else ""


# What an aspect- or unit-level recommendation carries of an indicator: nothing.
_NO_INDICATOR: Indicator = dict.fromkeys(Indicator.__annotations__)   # type: ignore[assignment]


class _Builder:
    """Creates recommendations for one assessment; holds what they share."""

    def __init__(self, payload: AssessmentPublished, assessment: Assessment, framework: Framework,
                 policy: Policy, issued_at: datetime) -> None:
        self.payload, self.assessment, self.issued_at = payload, assessment, issued_at
        self.framework, self.policy = framework, policy
        scale = framework.scale_for(payload.cycle)
        self.band: Band = scale.band_named(assessment.official_grade) or scale.band_for(payload.score)
        self.top_band = scale.is_top(self.band)
        self.unit_weak = self.band.weak
        self.heaviest = max(aspect.weight for aspect in payload.aspects)
        self._deadlines: dict[Priority | None, tuple] = {}     # the same for every recommendation of a priority

    def weight_factor(self, aspect: Aspect | None) -> float:
        return 1.0 if aspect is None else 0.5 + 0.5 * aspect.weight / self.heaviest

    def priority(self, gap: float, aspect: Aspect | None) -> Priority:
        return self.policy.rules.priority.classify(gap * self.weight_factor(aspect), unit_weak=self.unit_weak,
                                                   top_band=self.top_band)

    def deadline(self, priority: Priority):
        if priority not in self._deadlines:
            self._deadlines[priority] = self._deadline(priority)
        return self._deadlines[priority]

    def _deadline(self, priority: Priority):
        window_end = self.assessment.follow_up_until
        days = self.policy.rules.deadline_days.get(priority.value)
        if days is None:   # low priority: the end of the follow-up window
            due = calendar.previous_working_day(window_end)
            return calendar.deadline_on(due, region_code=self.payload.unit.region_code)
        return calendar.deadline(self.payload.published_at, days, region_code=self.payload.unit.region_code,
                                 not_after=window_end)

    def plan_deadline(self):
        """A rencana aksi is due 30 days after publication, past the year-end closing weeks, within the window."""
        if None not in self._deadlines:
            self._deadlines[None] = self._plan_deadline()
        return self._deadlines[None]

    def _plan_deadline(self):
        region = self.payload.unit.region_code
        issued_on = self.payload.published_at.astimezone(calendar.zone_for_region(region)).date()
        due = min(plan_due_date(issued_on), calendar.previous_working_day(self.assessment.follow_up_until))
        return calendar.deadline_on(due, region_code=region)

    def build(self, *, scope: Scope, code: str | None, aspect: Aspect | None, gap: float, template: Template,
              template_key: str, action: str, rule_id: str, indicator: Indicator | None = None) -> Recommendation:
        priority = self.priority(gap, aspect)
        due_date, due_at = self.plan_deadline() if template.needs_plan else self.deadline(priority)
        p, shown = self.payload, indicator or _NO_INDICATOR
        return Recommendation.issue(
            id=recommendation_id(p.assessment_id, scope, code), assessment_id=p.assessment_id,
            assessment_revision=p.revision, framework=p.framework, cycle=p.cycle, unit_id=p.unit.id,
            agency_id=p.unit.agency.id, scope=scope, aspect_code=aspect.code if aspect else None,
            indicator_code=shown["code"], indicator_name=shown["name"], sp_component=shown["sp_component"],
            indicator_score=shown["score"], indicator_max_score=shown["max_score"],
            title=template.title, action=f"{action} Dasar hukum: {template.basis}.", evidence=template.evidence,
            finding=shown["finding"], priority=priority, due_date=due_date, due_at=due_at,
            rule_id=rule_id, catalogue_version=self.policy.catalogue.version, template=template_key,
            issued_at=self.issued_at, needs_plan=template.needs_plan)


def recommend(payload: AssessmentPublished, assessment: Assessment, *, framework: Framework, policy: Policy,
              issued_at: datetime) -> list[Recommendation]:
    """All recommendations the assessment calls for, newly issued."""
    rules, catalogue = policy.rules, policy.catalogue
    builder = _Builder(payload, assessment, framework, policy, issued_at)
    prefix = framework.catalogue_prefix
    recommendations: list[Recommendation] = []
    for aspect in payload.aspects:
        found_in_aspect = False
        for indicator in aspect.indicators:
            ratio = indicator["score"] / indicator["max_score"]
            if not rules.weak_indicator.is_weak(ratio):
                continue
            key, template = catalogue.for_indicator(indicator["code"], indicator["sp_component"], prefix, aspect.code)
            action = (f"{template.action} Indikator: {indicator['name']} (skor {_num(indicator['score'])} dari "
                      f"{_num(indicator['max_score'])}).{_quote(indicator['finding'])}")
            recommendations.append(builder.build(
                scope=Scope.INDICATOR, code=indicator["code"], aspect=aspect, gap=1 - ratio, template=template,
                template_key=key, action=action, rule_id=rules.weak_indicator.id, indicator=indicator))
            found_in_aspect = True
        aspect_ratio = aspect.score / aspect.max_score
        if builder.unit_weak and not found_in_aspect and aspect_ratio < rules.weak_aspect.below:
            key, template = catalogue.for_aspect(prefix, aspect.code)
            action = (f"{template.action} Aspek: {aspect.name} (nilai {_num(aspect.score)} dari "
                      f"{_num(aspect.max_score)}).")
            recommendations.append(builder.build(
                scope=Scope.ASPECT, code=aspect.code, aspect=aspect, gap=1 - aspect_ratio, template=template,
                template_key=key, action=action, rule_id=rules.weak_aspect.id))
    if builder.unit_weak and not any(r.scope is Scope.INDICATOR for r in recommendations):
        template = catalogue.templates["unit"]
        low, high = framework.score_range
        notes = " ".join(_quote(note, "Catatan rapor").strip() for note in payload.notes if note.strip())
        opinion = (f" Opini: {payload.opinion}"
                   f"{' (Tanpa Maladministrasi)' if payload.without_maladministration else ''}."
                   if payload.opinion else "")
        action = (f"{template.action} Nilai unit {_num(payload.score)} (kategori {assessment.grade}, "
                  f"{builder.band.label}).{opinion}{(' ' + notes) if notes else ''}")
        recommendations.append(builder.build(
            scope=Scope.UNIT, code=None, aspect=None, gap=1 - (payload.score - low) / (high - low),
            template=template, template_key="unit", action=action, rule_id=rules.weak_unit.id))
    return recommendations
