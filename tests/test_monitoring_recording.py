"""The figures a done task stores (procedures.monitoring.recording), computed by hand."""

import datetime as dt
from zoneinfo import ZoneInfo

from procedures.models import WorkingHours
from procedures.monitoring.recording import task_figures
from procedures.working_calendar import WorkingCalendar

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")


def calendar(zone=WIB, extra=()):
    return WorkingCalendar(tz=zone, hours=dict(WorkingHours.DEFAULTS), extra_holidays=frozenset(extra))


def at(day, hour, minute=0, zone=WIB):
    return dt.datetime(2026, *day, hour, minute, tzinfo=zone)


def test_a_step_done_in_time_counts_working_minutes():
    figures = task_figures(calendar(), reached=at((8, 4), 8, 10), done=at((8, 4), 14, 10), amount=1, unit="hari")
    # 1 hari from Tue 08.10 is Wed 08.10: 470 minutes on Tuesday and 40 on Wednesday.
    assert (figures.worked_minutes, figures.standard_minutes, figures.within_standard) == (360, 510, True)


def test_a_late_step_skips_the_weekend_and_independence_day():
    # Reached Fri 14 August 08.15; Sat, Sun and Mon 17 August (a national holiday) are days off.
    figures = task_figures(calendar(), reached=at((8, 14), 8, 15), done=at((8, 19), 10), amount=1, unit="hari")
    # Fri 08.15–16.30 (495) + Tue 07.30–16.00 (510) + Wed 07.30–10.00 (150); due Tue 08.15: 495 + 45.
    assert (figures.worked_minutes, figures.standard_minutes, figures.within_standard) == (1155, 540, False)


def test_an_office_day_off_counts_as_off():
    figures = task_figures(calendar(extra={dt.date(2026, 8, 5)}), reached=at((8, 4), 15), done=at((8, 6), 8),
                           amount=1, unit="jam")
    assert (figures.worked_minutes, figures.standard_minutes, figures.within_standard) == (90, 60, False)


def test_the_office_zone_decides_the_working_time():
    # Reached 07.00 WITA (before opening), done 07.40 WITA: ten working minutes there, none in WIB.
    figures = task_figures(calendar(WITA), reached=at((8, 4), 7, 0, WITA), done=at((8, 4), 7, 40, WITA),
                           amount=15, unit="menit")
    assert (figures.worked_minutes, figures.within_standard) == (10, True)
    assert task_figures(calendar(WIB), reached=at((8, 4), 7, 0, WITA), done=at((8, 4), 7, 40, WITA),
                        amount=15, unit="menit").worked_minutes == 0


def test_weeks_and_months_compare_in_calendar_time():
    figures = task_figures(calendar(), reached=at((8, 14), 9), done=at((8, 22), 9), amount=1, unit="minggu")
    assert (figures.worked_minutes, figures.standard_minutes, figures.within_standard) == (8 * 1440, 7 * 1440, False)
    figures = task_figures(calendar(), reached=at((1, 31), 9), done=at((2, 28), 9), amount=1, unit="bulan")
    assert figures.within_standard is True and figures.standard_minutes == 28 * 1440


def test_work_finished_after_hours_past_the_deadline_used_no_more_working_time():
    figures = task_figures(calendar(), reached=at((8, 4), 15), done=at((8, 4), 20), amount=1, unit="jam")
    assert (figures.worked_minutes, figures.standard_minutes, figures.within_standard) == (60, 60, True)
