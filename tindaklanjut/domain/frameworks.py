"""Assessment frameworks and grading scales, loaded from data.

A scale maps a score to a grade; bands are inclusive at their lower bound on
scores rounded to two decimals (88.00 -> A, 87.99 -> B).
"""

from __future__ import annotations

from typing import Literal

from functools import lru_cache

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from importlib.resources import files

import yaml
from pydantic import BaseModel, Field, model_validator


class Band(BaseModel):
    grade: str
    min: float
    label: str
    zone: str | None = None
    weak: bool


class Scale(BaseModel):
    cycles: tuple[int, int]
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_descend_to_zero(self) -> "Scale":
        mins = [band.min for band in self.bands]
        if mins != sorted(mins, reverse=True) or mins[-1] != 0:
            raise ValueError("bands must be ordered from the highest minimum down to 0")
        return self

    def band_named(self, grade: str | None) -> Band | None:
        return next((band for band in self.bands if band.grade == grade), None)

    def is_top(self, band: Band) -> bool:
        return band is self.bands[0]

    def band_for(self, score: float) -> Band:
        rounded = float(Decimal(str(score)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        return next(band for band in self.bands if rounded >= band.min)


class FollowUpDefault(BaseModel):
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class AspectSpec(BaseModel):
    name: str
    weight: float | None = Field(default=None, gt=0)   # None: not published (the event's own weights count)


class Framework(BaseModel):
    code: str
    name: str
    score_range: tuple[float, float]
    follow_up_default: FollowUpDefault
    catalogue_prefix: str | None = None
    # What the assessment hands the unit, in the framework's own words (Ombudsman: saran perbaikan;
    # PEKPPP: rekomendasi perbaikan; BPK/APIP: rekomendasi).
    produces: str = "rekomendasi"
    # Who may check the agency's evidence: the evaluator always; `verifier` lets the government's
    # inspectorate (APIP) or Biro/Bagian Organisasi do it, scoped to its government or region.
    verified_by: tuple[Literal["evaluator", "verifier"], ...] = ("evaluator", "verifier")
    aspects: dict[str, AspectSpec] = Field(default_factory=dict)
    scales: list[Scale] = Field(min_length=1)
    # Frameworks that publish an opinion (Opini Ombudsman RI, 2025 onward): its allowed
    # wordings, and the qualifier earned by following up the Ombudsman's products.
    opinions: list[str] = Field(default_factory=list)
    qualifier: str | None = None

    def scale_for(self, cycle: str) -> Scale | None:
        year = int(cycle)
        return next((s for s in self.scales if s.cycles[0] <= year <= s.cycles[1]), None)

    def default_follow_up_until(self, cycle: str) -> date:
        """End of the follow-up window: the next cycle's data collection."""
        return date(int(cycle) + 1, self.follow_up_default.month, self.follow_up_default.day)


@dataclass(frozen=True)
class FrameworkCatalogue:
    frameworks: dict[str, Framework]

    def get(self, code: str) -> Framework | None:
        return self.frameworks.get(code)


@lru_cache
def produces(code: str) -> str:
    """The framework's word for what it hands the unit ("rekomendasi" when unknown)."""
    framework = load_frameworks().get(code)
    return framework.produces if framework else "rekomendasi"


def load_frameworks(text: str | None = None) -> FrameworkCatalogue:
    """Parse and validate the framework YAML (the packaged one by default)."""
    raw = yaml.safe_load(text if text is not None else
                         files("tindaklanjut.data").joinpath("frameworks.yaml").read_text("utf-8"))
    return FrameworkCatalogue({
        code: Framework(code=code, **spec) for code, spec in raw["frameworks"].items()
    })
