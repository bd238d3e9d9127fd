"""The office working calendar: working time, working days, holidays, time zones, queries.

Dates are in 2026. The week of Mon 6 – Sun 12 July 2026 has no holiday; 17 August 2026
(Independence Day) is a Monday; 24 December 2026 is cuti bersama and 25 December Christmas.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest

from procedures.models import Holiday, Office, WorkingHours
from procedures.working_calendar import (
    WorkingCalendar,
    calendar_annotations,
    calendar_for_office,
    calendar_from_annotations,
    national_holidays,
)
from tests.factories import OfficeFactory

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
UTC = dt.timezone.utc


def wib(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=WIB)


def wita(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=WITA)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(tz=WIB, hours=WorkingHours.DEFAULTS, extra_holidays=frozenset())


# --- the holidays package --------------------------------------------------------------------


def test_the_package_lists_independence_day_2026_as_a_public_holiday_on_a_monday():
    public = holidays.country_holidays("ID", years=2026, categories=("public",))
    assert dt.date(2026, 8, 17) in public
    assert dt.date(2026, 8, 17).weekday() == 0


def test_the_package_lists_cuti_bersama_under_government_only():
    government = holidays.country_holidays("ID", years=2026, categories=("government",))
    public = holidays.country_holidays("ID", years=2026, categories=("public",))
    assert dt.date(2026, 12, 24) in government
    assert dt.date(2026, 12, 24) not in public
    assert dt.date(2026, 12, 24) in national_holidays(2026)


def test_it_treats_weekends_and_national_holidays_as_days_off(cal):
    assert cal.is_working_day(dt.date(2026, 7, 7))
    assert not cal.is_working_day(dt.date(2026, 7, 11))  # Saturday
    assert not cal.is_working_day(dt.date(2026, 7, 12))  # Sunday
    assert not cal.is_working_day(dt.date(2026, 8, 17))  # Independence Day
    assert not cal.is_working_day(dt.date(2026, 12, 24))  # cuti bersama Natal


# --- next_working_moment ---------------------------------------------------------------------


def test_next_working_moment_keeps_a_moment_inside_working_hours(cal):
    assert cal.next_working_moment(wib(7, 7, 7, 30)) == wib(7, 7, 7, 30)
    assert cal.next_working_moment(wib(7, 7, 10, 15)) == wib(7, 7, 10, 15)


@pytest.mark.parametrize(
    "at, expected",
    [
        (wib(7, 7, 6, 0), wib(7, 7, 7, 30)),  # early morning
        (wib(7, 7, 16, 0), wib(7, 8, 7, 30)),  # the end of a period is outside it
        (wib(7, 7, 19, 0), wib(7, 8, 7, 30)),  # evening
        (wib(7, 10, 16, 15), wib(7, 10, 16, 15)),  # Friday works until 16:30
        (wib(7, 11, 10, 0), wib(7, 13, 7, 30)),  # Saturday
        (wib(7, 12, 23, 59), wib(7, 13, 7, 30)),  # Sunday night
    ],
)
def test_next_working_moment_moves_to_the_next_working_period(cal, at, expected):
    assert cal.next_working_moment(at) == expected


# --- menit and jam ---------------------------------------------------------------------------


def test_it_adds_minutes_within_a_day(cal):
    assert cal.add(wib(7, 7, 9, 0), 45, "menit") == wib(7, 7, 9, 45)


def test_it_carries_hours_across_the_end_of_a_day(cal):
    # Tue 15:00–16:00 is 1 jam, the other 2 jam run from Wed 07:30.
    assert cal.add(wib(7, 7, 15, 0), 3, "jam") == wib(7, 8, 9, 30)


def test_it_carries_hours_across_a_weekend(cal):
    # Fri 15:00–16:30 is 1.5 jam, the other 1.5 jam run from Mon 07:30.
    assert cal.add(wib(7, 10, 15, 0), 3, "jam") == wib(7, 13, 9, 0)


def test_a_deadline_on_the_end_of_friday_stays_on_friday(cal):
    assert cal.add(wib(7, 10, 14, 30), 2, "jam") == wib(7, 10, 16, 30)
    assert cal.add(wib(7, 10, 14, 30), 121, "menit") == wib(7, 13, 7, 31)


def test_a_deadline_on_the_end_of_a_day_stays_on_that_day(cal):
    assert cal.add(wib(7, 7, 7, 30), 510, "menit") == wib(7, 7, 16, 0)


def test_it_skips_a_national_public_holiday(cal):
    # Fri 14 Aug 16:00–16:30, then Mon 17 Aug (Independence Day) is off.
    assert cal.add(wib(8, 14, 16, 0), 1, "jam") == wib(8, 18, 8, 0)


def test_it_skips_cuti_bersama_of_the_government_category(cal):
    # Wed 23 Dec 15:00–16:00; Thu 24 (cuti bersama), Fri 25 (Natal) and the weekend are off.
    assert cal.add(wib(12, 23, 15, 0), 2, "jam") == wib(12, 28, 8, 30)


@pytest.mark.parametrize(
    "start, expected",
    [
        (wib(7, 7, 18, 0), wib(7, 8, 8, 0)),  # evening
        (wib(7, 7, 6, 0), wib(7, 7, 8, 0)),  # before opening
        (wib(7, 11, 9, 0), wib(7, 13, 8, 0)),  # Saturday
        (wib(7, 12, 10, 0), wib(7, 13, 8, 0)),  # Sunday
    ],
)
def test_working_time_starts_at_the_next_working_moment(cal, start, expected):
    assert cal.add(start, 30, "menit") == expected


def test_zero_minutes_is_due_at_the_start(cal):
    assert cal.add(wib(7, 11, 9, 0), 0, "menit") == wib(7, 11, 9, 0)


# --- hari ------------------------------------------------------------------------------------


def test_working_days_keep_the_clock_time_and_skip_a_weekend(cal):
    assert cal.add(wib(7, 9, 10, 0), 2, "hari") == wib(7, 13, 10, 0)


def test_working_days_skip_a_holiday(cal):
    assert cal.add(wib(8, 14, 10, 0), 1, "hari") == wib(8, 18, 10, 0)


def test_working_days_skip_cuti_bersama(cal):
    assert cal.add(wib(12, 23, 10, 0), 1, "hari") == wib(12, 28, 10, 0)


def test_a_working_day_is_clamped_to_a_shorter_day_end(cal):
    # Friday works until 16:30, Monday only until 16:00.
    assert cal.add(wib(7, 10, 16, 15), 1, "hari") == wib(7, 13, 16, 0)


def test_working_days_started_on_a_weekend_count_from_monday_morning(cal):
    assert cal.add(wib(7, 11, 10, 0), 1, "hari") == wib(7, 14, 7, 30)


def test_working_days_started_in_the_evening_count_from_the_next_morning(cal):
    assert cal.add(wib(7, 7, 18, 0), 1, "hari") == wib(7, 9, 7, 30)


# --- minggu and bulan ------------------------------------------------------------------------


def test_weeks_are_calendar_time(cal):
    assert cal.add(wib(7, 7, 10, 0), 2, "minggu") == wib(7, 21, 10, 0)
    # Calendar time even when it starts on a day off.
    assert cal.add(wib(7, 11, 20, 0), 1, "minggu") == wib(7, 18, 20, 0)


@pytest.mark.parametrize(
    "start, months, expected",
    [
        (wib(1, 15, 9, 0), 1, wib(2, 15, 9, 0)),
        (wib(1, 31, 9, 0), 1, wib(2, 28, 9, 0)),
        (wib(1, 31, 9, 0, year=2028), 1, wib(2, 29, 9, 0, year=2028)),  # leap year
        (wib(3, 31, 9, 0), 1, wib(4, 30, 9, 0)),
        (wib(12, 15, 9, 0), 2, wib(2, 15, 9, 0, year=2027)),
        (wib(1, 31, 9, 0), 13, wib(2, 28, 9, 0, year=2027)),
    ],
)
def test_months_are_calendar_time_clamped_to_the_month_end(cal, start, months, expected):
    assert cal.add(start, months, "bulan") == expected


# --- time zones ------------------------------------------------------------------------------


def test_a_wita_office_answers_in_wita():
    wita_cal = WorkingCalendar(tz=WITA, hours=WorkingHours.DEFAULTS, extra_holidays=frozenset())
    due = wita_cal.add(dt.datetime(2026, 7, 7, 0, 0, tzinfo=UTC), 30, "menit")
    # 00:00 UTC is 08:00 WITA, inside the WITA office's hours.
    assert due == wita(7, 7, 8, 30)
    assert due.tzinfo == WITA
    assert due.utcoffset() == dt.timedelta(hours=8)


def test_the_same_utc_moment_is_before_opening_in_a_wib_office(cal):
    # 00:00 UTC is 07:00 WIB: the WIB office opens at 07:30.
    assert cal.add(dt.datetime(2026, 7, 7, 0, 0, tzinfo=UTC), 30, "menit") == wib(7, 7, 8, 0)


def test_a_wib_start_after_wita_closing_waits_for_the_next_wita_morning():
    wita_cal = WorkingCalendar(tz=WITA, hours=WorkingHours.DEFAULTS, extra_holidays=frozenset())
    # 15:30 WIB is 16:30 WITA: the WITA office closed at 16:00.
    assert wita_cal.add(wib(7, 7, 15, 30), 1, "jam") == wita(7, 8, 8, 30)
    assert wita_cal.add(wib(7, 7, 15, 30), 1, "hari") == wita(7, 9, 7, 30)


def test_weeks_and_months_use_the_office_local_date():
    wita_cal = WorkingCalendar(tz=WITA, hours=WorkingHours.DEFAULTS, extra_holidays=frozenset())
    # 23:30 WIB on 31 Jan is 00:30 WITA on 1 Feb.
    assert wita_cal.add(wib(1, 31, 23, 30), 1, "bulan") == wita(3, 1, 0, 30)


# --- working_time_between --------------------------------------------------------------------


def test_working_time_between_skips_a_weekend(cal):
    assert cal.working_time_between(wib(7, 10, 15, 0), wib(7, 13, 9, 0)) == dt.timedelta(hours=3)


def test_working_time_between_skips_holidays(cal):
    assert cal.working_time_between(wib(12, 23, 15, 0), wib(12, 28, 8, 30)) == dt.timedelta(hours=2)


def test_working_time_between_counts_only_hours_inside_periods(cal):
    elapsed = cal.working_time_between(wib(7, 7, 6, 0), wib(7, 7, 20, 0))
    assert elapsed == dt.timedelta(hours=8, minutes=30)


def test_working_time_between_is_zero_when_the_end_is_not_after_the_start(cal):
    assert cal.working_time_between(wib(7, 7, 10, 0), wib(7, 7, 10, 0)) == dt.timedelta()
    assert cal.working_time_between(wib(7, 7, 10, 0), wib(7, 7, 9, 0)) == dt.timedelta()


def test_working_time_between_accepts_mixed_zones(cal):
    # 02:00 UTC is 09:00 WIB.
    start = dt.datetime(2026, 7, 7, 2, 0, tzinfo=UTC)
    assert cal.working_time_between(start, wita(7, 7, 11, 0)) == dt.timedelta(hours=1)


@pytest.mark.parametrize(
    "start", [wib(7, 7, 9, 0), wib(7, 10, 15, 0), wib(8, 14, 16, 0), wib(12, 23, 15, 0)]
)
@pytest.mark.parametrize("minutes", [1, 90, 510, 2000])
def test_working_time_between_undoes_add(cal, start, minutes):
    due = cal.add(start, minutes, "menit")
    assert cal.working_time_between(start, due) == dt.timedelta(minutes=minutes)


# --- bad input -------------------------------------------------------------------------------


def test_it_refuses_a_calendar_without_a_working_day():
    with pytest.raises(ValueError, match="no working day"):
        WorkingCalendar(tz=WIB, hours={}, extra_holidays=frozenset())


def test_it_gives_up_when_holidays_cover_every_working_day():
    mondays = frozenset(dt.date(2026, 7, 6) + dt.timedelta(weeks=n) for n in range(400))
    only_monday = WorkingCalendar(tz=WIB, hours={0: (dt.time(8), dt.time(12))}, extra_holidays=mondays)
    with pytest.raises(ValueError, match="no working day"):
        only_monday.add(wib(7, 6, 9, 0), 1, "jam")


def test_it_refuses_a_naive_start(cal):
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add(dt.datetime(2026, 7, 7, 9, 0), 1, "jam")


def test_it_refuses_an_unknown_unit(cal):
    with pytest.raises(ValueError, match="unknown time unit"):
        cal.add(wib(7, 7, 9, 0), 1, "tahun")


# --- calendar_for_office ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_office_without_rows_gets_the_default_hours():
    office = OfficeFactory()
    built = calendar_for_office(office)
    assert dict(built.hours) == WorkingHours.DEFAULTS
    assert built.tz == WIB
    assert built.add(wib(7, 10, 14, 30), 2, "jam") == wib(7, 10, 16, 30)


@pytest.mark.django_db
def test_an_office_with_rows_works_exactly_those_days():
    office = OfficeFactory()
    for weekday in range(5):
        WorkingHours.objects.create(office=office, weekday=weekday, start=dt.time(8), end=dt.time(16))
    WorkingHours.objects.create(office=office, weekday=5, start=dt.time(8), end=dt.time(12))
    built = calendar_for_office(office)
    assert built.is_working_day(dt.date(2026, 7, 11))  # Saturday
    assert not built.is_working_day(dt.date(2026, 7, 12))  # Sunday
    # Fri 15:00–16:00, then Saturday from 08:00.
    assert built.add(wib(7, 10, 15, 0), 2, "jam") == wib(7, 11, 9, 0)
    # Saturday closes at 12:00: the same clock time is clamped.
    assert built.add(wib(7, 10, 15, 0), 1, "hari") == wib(7, 11, 12, 0)
    # Saturday's 4 hours and Monday's from 08:00.
    assert built.add(wib(7, 11, 10, 0), 3, "jam") == wib(7, 13, 9, 0)


@pytest.mark.django_db
def test_a_weekday_without_a_row_is_a_day_off():
    office = OfficeFactory()
    for weekday in range(4):  # Monday to Thursday only
        WorkingHours.objects.create(
            office=office, weekday=weekday, start=dt.time(7, 30), end=dt.time(16)
        )
    built = calendar_for_office(office)
    assert not built.is_working_day(dt.date(2026, 7, 10))
    assert built.add(wib(7, 9, 15, 0), 2, "jam") == wib(7, 13, 8, 30)


@pytest.mark.django_db
def test_an_office_holiday_counts_for_that_office_only():
    office, other = OfficeFactory(), OfficeFactory()
    Holiday.objects.create(office=office, date=dt.date(2026, 7, 8), name="HUT Kabupaten")
    assert calendar_for_office(office).add(wib(7, 7, 15, 0), 2, "jam") == wib(7, 9, 8, 30)
    assert calendar_for_office(other).add(wib(7, 7, 15, 0), 2, "jam") == wib(7, 8, 8, 30)
    assert not calendar_for_office(office).is_working_day(dt.date(2026, 7, 8))
    assert calendar_for_office(other).is_working_day(dt.date(2026, 7, 8))


@pytest.mark.django_db
def test_a_holiday_without_an_office_counts_for_every_office():
    office, other = OfficeFactory(), OfficeFactory()
    Holiday.objects.create(office=None, date=dt.date(2026, 7, 8), name="Cuti bersama tambahan")
    for each in (office, other):
        built = calendar_for_office(each)
        assert not built.is_working_day(dt.date(2026, 7, 8))
        assert built.add(wib(7, 7, 10, 0), 1, "hari") == wib(7, 9, 10, 0)


@pytest.mark.django_db
def test_a_wita_office_follows_its_own_clock():
    office = OfficeFactory(time_zone=Office.TimeZone.WITA)
    built = calendar_for_office(office)
    assert built.tz == WITA
    # 14:30 WIB is 15:30 WITA: half an hour left on Tuesday, the rest from Wednesday 07:30.
    assert built.add(wib(7, 7, 14, 30), 1, "jam") == wita(7, 8, 8, 0)


@pytest.mark.django_db
def test_it_builds_a_calendar_in_two_queries(django_assert_num_queries):
    office = OfficeFactory()
    WorkingHours.objects.create(office=office, weekday=0, start=dt.time(8), end=dt.time(16))
    Holiday.objects.create(office=office, date=dt.date(2026, 7, 8), name="HUT Kabupaten")
    Holiday.objects.create(office=None, date=dt.date(2026, 7, 9), name="Libur tambahan")
    with django_assert_num_queries(2):
        built = calendar_for_office(office)
    assert built.extra_holidays == {dt.date(2026, 7, 8), dt.date(2026, 7, 9)}
    # Using a built calendar costs no query.
    with django_assert_num_queries(0):
        built.add(wib(7, 6, 9, 0), 30, "jam")
        built.working_time_between(wib(7, 6, 9, 0), wib(9, 1, 9, 0))


@pytest.mark.django_db
def test_it_builds_a_default_calendar_in_two_queries(django_assert_num_queries):
    office = OfficeFactory()
    with django_assert_num_queries(2):
        calendar_for_office(office)


# --- the calendar read inside another query (the engine's locking statement) ------------------


def _annotated(office: Office, since: dt.date) -> WorkingCalendar:
    row = Office.objects.annotate(**calendar_annotations("pk", since=since)).get(pk=office.pk)
    return calendar_from_annotations(office, row)


@pytest.mark.django_db
def test_the_annotated_calendar_is_the_office_calendar_from_its_date_on(django_assert_num_queries):
    office, other = OfficeFactory(time_zone=Office.TimeZone.WITA), OfficeFactory()
    for weekday in range(5):
        WorkingHours.objects.create(office=office, weekday=weekday, start=dt.time(8), end=dt.time(15, 30))
    WorkingHours.objects.create(office=office, weekday=5, start=dt.time(8), end=dt.time(12))
    Holiday.objects.create(office=office, date=dt.date(2026, 7, 8), name="HUT Kabupaten")
    Holiday.objects.create(office=None, date=dt.date(2026, 7, 9), name="Libur tambahan")
    Holiday.objects.create(office=other, date=dt.date(2026, 7, 10), name="Bukan kantor ini")
    Holiday.objects.create(office=office, date=dt.date(2026, 7, 1), name="Sudah lewat")

    with django_assert_num_queries(1):
        built = _annotated(office, since=dt.date(2026, 7, 6))

    full = calendar_for_office(office)
    assert (built.tz, dict(built.hours)) == (full.tz, dict(full.hours))
    assert built.extra_holidays == {dt.date(2026, 7, 8), dt.date(2026, 7, 9)}
    assert full.extra_holidays - built.extra_holidays == {dt.date(2026, 7, 1)}
    assert built.add(wita(7, 7, 15, 0), 2, "jam") == full.add(wita(7, 7, 15, 0), 2, "jam") == wita(7, 10, 9, 30)


@pytest.mark.django_db
def test_the_annotated_calendar_of_an_office_without_rows_has_the_default_hours():
    office = OfficeFactory()
    built = _annotated(office, since=dt.date(2026, 7, 6))
    assert dict(built.hours) == WorkingHours.DEFAULTS
    assert built.extra_holidays == frozenset()
