"""Turn an assessment into recommendations.

Rule `indicator.below_half`: every indicator whose score / max_score is below
0.5 gets one recommendation. Priority follows the size of the gap; the
deadline follows the priority (the BPK and Ombudsman clocks: 30 and 60 days)
and never passes the end of the follow-up window.
"""

from __future__ import annotations

from datetime import datetime

from tindaklanjut.domain import calendar
from tindaklanjut.domain.model import Assessment, Priority, Recommendation, Scope, recommendation_id
from tindaklanjut.events.assessment import AssessmentPublished, Indicator

WEAK_INDICATOR_BELOW = 0.5
HIGH_PRIORITY_AT_OR_BELOW = 1 / 3
DAYS_BY_PRIORITY = {Priority.HIGH: 30, Priority.MEDIUM: 60}
RULE_WEAK_INDICATOR = "indicator.below_half"


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _action_text(indicator: Indicator) -> str:
    score = f"skor {_fmt(indicator.score)} dari {_fmt(indicator.max_score)}"
    if indicator.finding:
        return (f"Tindak lanjuti temuan evaluator pada indikator \"{indicator.name}\" ({score}): "
                f"\u201c{indicator.finding}\u201d Susun rencana aksi, laksanakan perbaikan, "
                f"dan unggah bukti dukung.")
    return (f"Tingkatkan pemenuhan indikator \"{indicator.name}\" ({score}). "
            f"Susun rencana aksi, laksanakan perbaikan, dan unggah bukti dukung.")


def recommend(payload: AssessmentPublished, assessment: Assessment, *, issued_at: datetime) -> list[Recommendation]:
    """All recommendations the assessment calls for, newly issued."""
    recommendations = []
    for aspect in payload.aspects:
        for indicator in aspect.indicators:
            ratio = indicator.score / indicator.max_score
            if ratio >= WEAK_INDICATOR_BELOW:
                continue
            priority = Priority.HIGH if ratio <= HIGH_PRIORITY_AT_OR_BELOW + 1e-9 else Priority.MEDIUM
            due_date, due_at = calendar.deadline(
                payload.published_at, DAYS_BY_PRIORITY[priority],
                region_code=payload.unit.region_code, not_after=assessment.follow_up_until)
            recommendations.append(Recommendation.issue(
                id=recommendation_id(payload.assessment_id, Scope.INDICATOR, indicator.code),
                assessment_id=payload.assessment_id,
                assessment_revision=payload.revision,
                framework=payload.framework,
                cycle=payload.cycle,
                unit_id=payload.unit.id,
                agency_id=payload.unit.agency.id,
                scope=Scope.INDICATOR,
                aspect_code=aspect.code,
                indicator_code=indicator.code,
                sp_component=indicator.sp_component,
                title=f"Perbaikan indikator: {indicator.name}",
                action=_action_text(indicator),
                finding=indicator.finding,
                priority=priority,
                due_date=due_date,
                due_at=due_at,
                rule_id=RULE_WEAK_INDICATOR,
                issued_at=issued_at,
            ))
    return recommendations
