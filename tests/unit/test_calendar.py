"""Deadlines respect Indonesian working days and local time zones."""

from datetime import date, datetime, timezone

from tindaklanjut.domain.calendar import deadline, is_working_day, zone_for_region


def test_weekends_public_holidays_and_cuti_bersama_are_not_working_days():
    assert not is_working_day(date(2025, 1, 4))      # Saturday
    assert not is_working_day(date(2025, 8, 17))     # Hari Kemerdekaan (Sunday anyway)
    assert not is_working_day(date(2025, 1, 1))      # Tahun Baru
    assert not is_working_day(date(2025, 3, 31))     # Idul Fitri 1446 H
    assert not is_working_day(date(2025, 4, 2))      # cuti bersama Idul Fitri
    assert is_working_day(date(2025, 1, 2))


def test_regions_map_to_wib_wita_wit():
    assert zone_for_region("15.71").key == "Asia/Jakarta"
    assert zone_for_region("73.71").key == "Asia/Makassar"
    assert zone_for_region("51").key == "Asia/Makassar"
    assert zone_for_region("94.71").key == "Asia/Jayapura"


def test_deadline_moves_to_next_working_day_and_ends_at_local_2359():
    start = datetime(2025, 3, 1, 3, 0, tzinfo=timezone.utc)   # 29 days later is 30 Mar 2025, a Sunday
    due, due_at = deadline(start, 29, region_code="73.71")
    # 30 Mar Sun, 31 Mar and 1 Apr Idul Fitri, 2-4 Apr cuti bersama, 5-6 Apr weekend, 7 Apr cuti bersama
    assert due == date(2025, 4, 8)
    assert due_at.isoformat() == "2025-04-08T23:59:00+08:00"


def test_deadline_is_pulled_back_inside_the_window():
    start = datetime(2025, 5, 1, tzinfo=timezone.utc)
    due, _ = deadline(start, 90, region_code="15", not_after=date(2025, 6, 29))   # a Sunday
    assert due == date(2025, 6, 26)   # 28 Jun is a Saturday, 27 Jun is Tahun Baru Islam
