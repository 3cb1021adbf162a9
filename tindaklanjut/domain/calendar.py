"""Working days and local deadlines in Indonesia.

A deadline that falls on a weekend, a public holiday or a cuti bersama day
moves to the next working day and ends at 23:59 local time of the unit's
region (WIB, WITA or WIT by province code).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib.resources import files
from zoneinfo import ZoneInfo

import holidays
import yaml

END_OF_DAY = time(23, 59)


ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


@lru_cache
def _province_zones() -> tuple[str, dict[str, str]]:
    raw = yaml.safe_load(files("tindaklanjut.data").joinpath("regions.yaml").read_text("utf-8"))
    return raw["default"], {str(k): v for k, v in raw["provinces"].items()}


NATIONAL_REGION = "00"      # ministries and national agencies without a region: Jakarta time


def known_region(region_code: str) -> bool:
    """Is the code's province one of the 38 (`data/regions.yaml`), or the national code?"""
    return region_code == NATIONAL_REGION or region_code[:2] in _province_zones()[1]


@lru_cache(maxsize=1024)
def zone_for_region(region_code: str) -> ZoneInfo:
    default, provinces = _province_zones()
    return ZoneInfo(provinces.get(region_code[:2], default))


@lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("ID", years=year, categories=("public", "government"), language="id")


@lru_cache(maxsize=4096)       # a few years of days; asked for every deadline of every recommendation
def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first one after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def deadline_on(day: date, *, region_code: str) -> tuple[date, datetime]:
    """A deadline at the end of a given day, 23:59 local time."""
    return day, datetime.combine(day, END_OF_DAY, tzinfo=zone_for_region(region_code))


def deadline(start: datetime, days: int, *, region_code: str, not_after: date | None = None) -> tuple[date, datetime]:
    """Due date `days` after `start` (local date), moved to a working day.

    Never after `not_after`: a deadline past the end of the follow-up window
    is pulled back to the last working day on or before it.
    """
    zone = zone_for_region(region_code)
    due = next_working_day(start.astimezone(zone).date() + timedelta(days=days))
    if not_after is not None and due > not_after:
        due = previous_working_day(not_after)
    return deadline_on(due, region_code=region_code)
