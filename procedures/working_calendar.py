"""The working calendar of an office: when its people work, and the deadlines of tasks.

A task is due at its start plus its step's waktu (the upper bound of a range), counted on the
calendar of the office that runs it, in that office's time zone:

* ``menit`` and ``jam`` count working time: minutes inside working hours on working days;
* ``hari`` counts working days and keeps the clock time of the (working) start;
* ``minggu`` and ``bulan`` are calendar time, with ``bulan`` clamped to the month's last day.

A day is a working day when its weekday has working hours and it is neither a national holiday
or cuti bersama (the ``holidays`` package, Indonesia, categories public and government) nor a
:class:`~procedures.models.Holiday` row of the office or of every office.

Indonesian zones (WIB, WITA, WIT) have no daylight saving time, so wall-clock arithmetic on
aware datetimes of the office's zone is exact.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import types
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
from django.db.models import Aggregate, CharField, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Cast, Concat

from procedures.durations import DAY, HOUR, MINUTE, MONTH, WEEK
from procedures.models import Holiday, Office, WorkingHours

# SKB cuti bersama days are in the package's "government" category, national holidays in "public".
HOLIDAY_CATEGORIES = (holidays.PUBLIC, holidays.GOVERNMENT)

# A search for the next working day gives up after this many days: only an office whose admins
# marked years of working days as holidays gets that far, and it must not hang a request.
_MAX_SEARCH_DAYS = 3 * 366


@functools.lru_cache(maxsize=64)
def national_holidays(year: int) -> frozenset[dt.date]:
    """Return Indonesia's public holidays and cuti bersama of one year."""
    # One frozen set per year instead of a shared HolidayBase: the package expands its dict on
    # lookup, which is not safe across the threads of one server process.
    return frozenset(holidays.country_holidays("ID", years=year, categories=HOLIDAY_CATEGORIES))


def _require_aware(value: dt.datetime, name: str) -> None:
    # astimezone() would read a naive datetime as the server's local time, silently.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


@dataclass(frozen=True)
class WorkingCalendar:
    """The working hours and days off of one office, in its time zone."""

    tz: ZoneInfo
    # weekday (0 = Monday) -> (start, end) of work; a weekday missing here is a day off.
    hours: Mapping[int, tuple[dt.time, dt.time]]
    # Days off added by admins, on top of national holidays and cuti bersama.
    extra_holidays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        for weekday, (start, end) in self.hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
            if not start < end:
                raise ValueError(f"working hours of weekday {weekday} end before they start")
        if not self.hours:
            # Every search for the next working moment would run forever.
            raise ValueError("the office has no working day: give at least one weekday working hours")
        # Copies, so that a caller changing its dict or set cannot change a built calendar.
        object.__setattr__(self, "hours", types.MappingProxyType(dict(self.hours)))
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))

    def is_working_day(self, d: dt.date) -> bool:
        """Tell whether people of the office work on that date."""
        return (
            d.weekday() in self.hours
            and d not in self.extra_holidays
            and d not in national_holidays(d.year)
        )

    def next_working_moment(self, at: dt.datetime) -> dt.datetime:
        """Return ``at`` if it falls in working hours, else the start of the next working period."""
        _require_aware(at, "at")
        local = at.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day):
            start, end = self._period(day)
            if local < start:
                return start
            if local < end:
                return local
        return self._period(self._next_working_day(day))[0]

    def add(self, start: dt.datetime, amount: int, unit: str) -> dt.datetime:
        """Return the moment ``amount`` ``unit`` after ``start`` on this calendar, in its zone."""
        _require_aware(start, "start")
        if amount < 0:
            raise ValueError(f"amount must not be negative, got {amount}")
        if unit in (MINUTE, HOUR):
            minutes = amount * 60 if unit == HOUR else amount
            return self._add_working_time(start, dt.timedelta(minutes=minutes))
        if unit == DAY:
            return self._add_working_days(start, amount)
        local = start.astimezone(self.tz)
        if unit == WEEK:
            return local + dt.timedelta(weeks=amount)
        if unit == MONTH:
            return _add_months(local, amount)
        raise ValueError(f"unknown time unit {unit!r}: use menit, jam, hari, minggu or bulan")

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Return the working time that passes from ``start`` to ``end`` (zero if end <= start)."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        start, end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = dt.timedelta()
        if end <= start:
            return total
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                period_start, period_end = self._period(day)
                overlap = min(end, period_end) - max(start, period_start)
                if overlap > dt.timedelta():
                    total += overlap
            day += dt.timedelta(days=1)
        return total

    def _period(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        start, end = self.hours[day.weekday()]
        return (
            dt.datetime.combine(day, start, tzinfo=self.tz),
            dt.datetime.combine(day, end, tzinfo=self.tz),
        )

    def _next_working_day(self, day: dt.date) -> dt.date:
        for offset in range(1, _MAX_SEARCH_DAYS + 1):
            candidate = day + dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"the office has no working day within {_MAX_SEARCH_DAYS} days after {day}")

    def _add_working_time(self, start: dt.datetime, remaining: dt.timedelta) -> dt.datetime:
        if not remaining:
            return start.astimezone(self.tz)
        current = self.next_working_moment(start)
        while True:
            period_end = self._period(current.date())[1]
            available = period_end - current
            # "<=": a deadline that uses up a period exactly is due at its end, not next morning.
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self._period(self._next_working_day(current.date()))[0]

    def _add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        if not days:
            return start.astimezone(self.tz)
        current = self.next_working_moment(start)
        day = current.date()
        for _ in range(days):
            day = self._next_working_day(day)
        period_start, period_end = self._period(day)
        due = dt.datetime.combine(day, current.timetz())
        # The due day may keep shorter hours (Fri 16:15 + 1 hari is due Mon 16:00); a clock
        # before that day's opening is moved to it, which gives the task no less working time.
        return min(max(due, period_start), period_end)


def _add_months(local: dt.datetime, months: int) -> dt.datetime:
    """Add calendar months, clamping the day to the target month's last day."""
    year, month_index = divmod(local.month - 1 + months, 12)
    year += local.year
    month = month_index + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def calendar_for_office(office: Office) -> WorkingCalendar:
    """Build the working calendar of an office from its rows, in exactly 2 queries.

    One query reads the office's WorkingHours (none means ``WorkingHours.DEFAULTS``), one reads
    the Holiday rows of the office and of every office. National holidays cost no query. Build it
    once per office and request and pass it to every task of that office.
    """
    rows = WorkingHours.objects.filter(office_id=office.pk).values_list("weekday", "start", "end")
    hours = {weekday: (start, end) for weekday, start, end in rows} or dict(WorkingHours.DEFAULTS)
    extra = frozenset(
        Holiday.objects.filter(Q(office_id=office.pk) | Q(office__isnull=True))
        .values_list("date", flat=True)
    )
    return _office_calendar(office, hours, extra)


def _office_calendar(office: Office, hours: Mapping[int, tuple[dt.time, dt.time]],
                     extra: frozenset[dt.date]) -> WorkingCalendar:
    try:
        return WorkingCalendar(tz=office.zoneinfo, hours=hours, extra_holidays=extra)
    except ValueError as error:
        raise ValueError(f"office {office.pk} ({office}): {error}") from error


# --- The calendar inside another query ------------------------------------------------------
#
# The engine reads the working calendar of a run's office in the same statement that locks the
# run (two scalar subqueries), so a task completion spends no query on it and always sees the
# hours and days off as they are now: nothing is cached, nothing can go stale.


class _Joined(Aggregate):
    """The text of a column over the rows of a group, joined by commas (order not defined)."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="STRING_AGG",
                           template="%(function)s(%(expressions)s::text, ',')", **extra_context)


def _joined(queryset, expression) -> Subquery:
    # Grouping by a constant leaves no GROUP BY: one row (NULL when there are no rows).
    return Subquery(queryset.order_by().annotate(_one=Value(1)).values("_one").annotate(
        joined=_Joined(expression)).values("joined"))


def calendar_annotations(office_id: str, *, since: dt.date) -> dict[str, Subquery]:
    """Annotations that read the calendar of the office at ``office_id`` (an outer field path).

    Days off before ``since`` are left out: a calendar built from these annotations is only right
    for moments from ``since`` on (the engine's deadlines start now).
    """
    hours = WorkingHours.objects.filter(office_id=OuterRef(office_id))
    days_off = Holiday.objects.filter(
        Q(office_id=OuterRef(office_id)) | Q(office__isnull=True), date__gte=since)
    return {
        "_calendar_hours": _joined(hours, Concat(
            Cast("weekday", CharField()), Value(" "), Cast("start", CharField()), Value(" "),
            Cast("end", CharField()), output_field=CharField())),
        "_calendar_days_off": _joined(days_off, Cast("date", CharField())),
    }


def calendar_from_annotations(office: Office, row) -> WorkingCalendar:
    """The working calendar of ``office`` from a row annotated with ``calendar_annotations``."""
    hours = {}
    for entry in filter(None, (row._calendar_hours or "").split(",")):
        weekday, start, end = entry.split(" ")
        hours[int(weekday)] = (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
    days_off = frozenset(dt.date.fromisoformat(day) for day in filter(None, (row._calendar_days_off or "").split(",")))
    return _office_calendar(office, hours or dict(WorkingHours.DEFAULTS), days_off)
