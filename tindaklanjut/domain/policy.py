"""Recommendation policy as data: weakness rules, priorities, deadlines and
the text catalogue (`tindaklanjut/data/rules.yaml`, `catalog.yaml`)."""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

import yaml
from pydantic import BaseModel, Field, model_validator

from tindaklanjut.domain.model import Priority

REQUIRED_TEMPLATES = [f"sp.{n}" for n in range(1, 15)] + [f"pekppp.{a}" for a in
                                                          ("I", "II", "III", "IV", "V", "VI")] + ["generic", "unit"]


class Template(BaseModel):
    title: str = Field(min_length=5)
    action: str = Field(min_length=20)
    evidence: str = Field(min_length=5)
    basis: str = Field(min_length=5, description="the legal basis the issued text cites")
    needs_plan: bool = Field(default=False, description="the work needs a budget or construction: a rencana "
                                                        "aksi with milestones comes first (domain.plans)")


class Catalogue(BaseModel):
    version: str
    templates: dict[str, Template]

    @model_validator(mode="after")
    def _complete(self) -> "Catalogue":
        missing = [key for key in REQUIRED_TEMPLATES if key not in self.templates]
        if missing:
            raise ValueError(f"catalogue lacks templates: {', '.join(missing)}")
        return self

    def for_indicator(self, code: str, sp_component: int | None, prefix: str | None,
                      aspect_code: str) -> tuple[str, Template]:
        """Most specific first: the indicator itself, its SP component, its aspect."""
        for key in (f"indicator.{prefix}.{code}" if prefix else None, f"sp.{sp_component}" if sp_component else None,
                    f"{prefix}.{aspect_code}" if prefix else None):
            if key and key in self.templates:
                return key, self.templates[key]
        return "generic", self.templates["generic"]

    def for_aspect(self, prefix: str | None, aspect_code: str) -> tuple[str, Template]:
        key = f"{prefix}.{aspect_code}"
        return (key, self.templates[key]) if key in self.templates else ("generic", self.templates["generic"])


class RuleId(BaseModel):
    id: str


class AspectRule(RuleId):
    below: float = Field(gt=0, le=1)


class IndicatorRule(RuleId):
    threshold: float = Field(gt=0, le=1)
    inclusive: bool = False

    def is_weak(self, ratio: float) -> bool:
        return ratio <= self.threshold + 1e-9 if self.inclusive else ratio < self.threshold - 1e-9


class PriorityRule(BaseModel):
    high_at_or_above: float
    medium_at_or_above: float
    strong_unit_max: Literal["high", "medium", "low"]
    top_band: Literal["high", "medium", "low"]

    def classify(self, urgency: float, *, unit_weak: bool, top_band: bool) -> Priority:
        if top_band:
            return Priority(self.top_band)
        priority = (Priority.HIGH if urgency >= self.high_at_or_above - 1e-9 else
                    Priority.MEDIUM if urgency >= self.medium_at_or_above - 1e-9 else Priority.LOW)
        if not unit_weak:
            order = [Priority.LOW, Priority.MEDIUM, Priority.HIGH]
            priority = min(priority, Priority(self.strong_unit_max), key=order.index)
        return priority


class Rules(BaseModel):
    weak_unit: RuleId
    weak_aspect: AspectRule
    weak_indicator: IndicatorRule
    priority: PriorityRule
    deadline_days: dict[Literal["high", "medium"], int]


class Policy(BaseModel):
    rules: Rules
    catalogue: Catalogue


def _read(name: str) -> dict:
    return yaml.safe_load(files("tindaklanjut.data").joinpath(name).read_text("utf-8"))


def load_policy(rules: dict | None = None, catalogue: dict | None = None) -> Policy:
    """Parse and validate the packaged rules and catalogue (or given ones)."""
    return Policy(rules=Rules.model_validate(rules or _read("rules.yaml")),
                  catalogue=Catalogue.model_validate(catalogue or _read("catalog.yaml")))
