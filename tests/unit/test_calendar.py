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


# The 38 provinces by Kemendagri code, with their time zones.
WIB = ["11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35", "36", "61", "62"]
WITA = ["51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"]
WIT = ["81", "82", "91", "92", "93", "94", "95", "96"]


def test_all_38_provinces_have_their_time_zone():
    from tindaklanjut.domain.calendar import known_region

    assert len(WIB + WITA + WIT) == 38
    for codes, zone in ((WIB, "Asia/Jakarta"), (WITA, "Asia/Makassar"), (WIT, "Asia/Jayapura")):
        for code in codes:
            assert known_region(f"{code}.01") and zone_for_region(f"{code}.01").key == zone, code
    for unknown in ("97", "99", "20", "00"):
        assert not known_region(f"{unknown}.01")


def test_a_deadline_in_merauke_ends_at_23_59_wit():
    from datetime import date, datetime, timezone

    from tindaklanjut.domain.calendar import deadline_on

    due_date, due_at = deadline_on(date(2026, 3, 31), region_code="93.01")      # Kabupaten Merauke
    assert due_at == datetime(2026, 3, 31, 14, 59, tzinfo=timezone.utc)       # 23:59 WIT = 14:59 UTC
