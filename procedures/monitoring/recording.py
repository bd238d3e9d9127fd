"""The figures of a finished task, computed once on the office's working calendar.

A task's *actual* time runs from the moment it was reached (``created_at``) to its completion (or,
for a decision, its answer). The step's *standard* is the upper bound of its waktu, counted from
the same moment as the deadline is (``WorkingCalendar.add``):

* ``menit``, ``jam`` and ``hari`` standards compare in working time: both the time taken and the
  standard are the working minutes that pass on the office's calendar (working hours, days off,
  national holidays and cuti bersama, in the office's zone);
* ``minggu`` and ``bulan`` standards compare in calendar time, as their deadlines do.

Both are stored in minutes, so that monitoring reads them as they are (percentiles, lateness) and
never replays a calendar per row. A task is within the standard when it took no more than the
standard: work finished after the deadline but outside working hours used no more working time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from procedures.durations import MONTH, WEEK
from procedures.working_calendar import WorkingCalendar

CALENDAR_UNITS = (WEEK, MONTH)


@dataclass(frozen=True)
class Figures:
    worked_minutes: int
    standard_minutes: int
    within_standard: bool


def _minutes(delta: dt.timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def task_figures(calendar: WorkingCalendar, *, reached: dt.datetime, done: dt.datetime, amount: int,
                 unit: str) -> Figures:
    """The time a task took and its standard's time, both in minutes, and whether it met the standard."""
    deadline = calendar.add(reached, amount, unit)
    if unit in CALENDAR_UNITS:
        worked, standard = max(done - reached, dt.timedelta()), deadline - reached
    else:
        worked = calendar.working_time_between(reached, done)
        standard = calendar.working_time_between(reached, deadline)
    return Figures(_minutes(worked), _minutes(standard), worked <= standard)


FIGURE_FIELDS = ["worked_minutes", "standard_minutes", "within_standard"]


def record_figures(task, calendar: WorkingCalendar) -> list[str]:
    """Put a done task's figures on it (the caller saves them); the fields it set.

    Uses what the caller already has in memory: the task's step (its waktu), its times and the
    office's calendar. No query.
    """
    figures = task_figures(calendar, reached=task.created_at, done=task.completed_at,
                           amount=task.step.waktu_max, unit=task.step.waktu_unit)
    task.worked_minutes = figures.worked_minutes
    task.standard_minutes = figures.standard_minutes
    task.within_standard = figures.within_standard
    return FIGURE_FIELDS
