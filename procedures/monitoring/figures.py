"""The monitoring figures (pemantauan) of a scope and filters, over the figures tasks stored when done.

Counts are aggregated by the database; medians and 90th percentiles are computed here over the
stored figures of the period's tasks (``worked_minutes``, ``standard_minutes``: see
``procedures.monitoring.recording``), never by replaying a calendar. The queries are the same in
number whatever the number of runs: one per table, and one for the offices' calendars (the "stuck" threshold).

What the period applies to: runs by the day they started, tasks by the day they were done (or
answered), each in its office's zone. "Running", "stuck", "open now" and "overdue now" are as of
now. A run is stuck when one of its open tasks is overdue by more than a working day.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.models import Office, Run, Sop, Task
from procedures.monitoring.scope import Filters
from procedures.permissions import display_name
from procedures.working_calendar import WorkingCalendar, calendar_annotations, calendar_from_annotations

DONE = (Task.Status.DONE, Task.Status.SENT_BACK)
# A task sent back outside the sheet's drawn flow (engine.task_return, its event in Event.OFF_SHEET):
# ended *sent back* without a decision (a Tidak records its decision) and without figures of its own.
RETURNED = Q(status=Task.Status.SENT_BACK, decision="")


# ---------------------------------------------------------------------------------------------
# Small statistics
# ---------------------------------------------------------------------------------------------


def percentile(values: list[int], share: float) -> float | None:
    """The ``share`` percentile (0–1) of ``values``, linear between ranks (as spreadsheets' PERCENTILE)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * share
    low, high = math.floor(rank), math.ceil(rank)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 2)


def median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None


def share(part: int, whole: int) -> float | None:
    """A share in percent, one decimal; None when there is nothing to share."""
    return round(100 * part / whole, 1) if whole else None


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


@dataclass
class SopRow:
    sop_id: int
    name: str
    office: str
    started: int = 0
    finished: int = 0
    cancelled: int = 0
    running: int = 0
    stuck: int = 0
    tasks_done: int = 0
    within: int = 0
    send_backs: int = 0  # by a decision's answer the sheet draws (Tidak back to an earlier step)
    returns: int = 0  # outside the sheet's drawn flow (Kembalikan from any step)

    @property
    def within_share(self) -> float | None:
        return share(self.within, self.tasks_done)

    @property
    def all_send_backs(self) -> int:
        return self.send_backs + self.returns


@dataclass
class StepRow:
    sop_id: int
    sop_name: str
    nomor: int
    kegiatan: str
    position: str
    decision: bool
    worked: list[int] = field(default_factory=list, repr=False)
    standards: list[int] = field(default_factory=list, repr=False)
    within: int = 0
    late_minutes: int = 0  # the working time past the standard, summed over the step's tasks
    send_backs: int = 0
    returns: int = 0  # the step's tasks sent back outside the sheet's drawn flow

    @property
    def done(self) -> int:
        return len(self.worked)

    @property
    def within_share(self) -> float | None:
        return share(self.within, self.done)

    @property
    def median_worked(self) -> float | None:
        return median(self.worked)

    @property
    def p90_worked(self) -> float | None:
        return percentile(self.worked, 0.9)

    @property
    def standard(self) -> float | None:
        """The step's standard in minutes (the median, as it depends on when the task was reached)."""
        return median(self.standards)

    @property
    def median_text(self) -> str:
        return minutes_text(self.median_worked)

    @property
    def p90_text(self) -> str:
        return minutes_text(self.p90_worked)

    @property
    def standard_text(self) -> str:
        return minutes_text(self.standard)


@dataclass
class PeopleRow:
    """A position's or a person's figures."""

    key: int
    name: str
    office: str = ""
    done: int = 0
    within: int = 0
    acting: int = 0  # done as Plt/Plh
    lateness: list[int] = field(default_factory=list, repr=False)  # minutes past the standard, late tasks
    open_now: int = 0
    overdue_now: int = 0

    @property
    def within_share(self) -> float | None:
        return share(self.within, self.done)

    @property
    def median_lateness(self) -> float | None:
        return median(self.lateness)


@dataclass
class WeekRow:
    week: dt.date  # the Monday
    done: int = 0
    within: int = 0

    @property
    def within_share(self) -> float | None:
        return share(self.within, self.done)


@dataclass
class OfficeRow:
    office_id: int
    name: str
    started: int = 0
    finished: int = 0
    running: int = 0
    stuck: int = 0
    tasks_done: int = 0
    within: int = 0

    @property
    def within_share(self) -> float | None:
        return share(self.within, self.tasks_done)


@dataclass
class Report:
    filters: Filters
    sops: list[SopRow]
    steps: list[StepRow]
    positions: list[PeopleRow]
    people: list[PeopleRow]
    weeks: list[WeekRow]
    offices: list[OfficeRow]

    @property
    def bottlenecks(self) -> list[StepRow]:
        """The steps with the most working time past their standard, worst first (five at most)."""
        late = [row for row in self.steps if row.late_minutes > 0]
        return sorted(late, key=lambda row: (-row.late_minutes, row.sop_name, row.nomor))[:5]

    @property
    def decisions(self) -> list[StepRow]:
        return [row for row in self.steps if row.decision]


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------

ZONES = [zone for zone, _label in Office.TimeZone.choices]


def _in_period(filters: Filters, field_name: str, office_path: str) -> Q:
    """``field_name`` within the period, in each office's own zone.

    The widest bounds come first, alone: an index on the field can narrow the rows by them (the
    per-zone conditions that follow are an OR on two tables that no index serves).
    """
    bounds = {zone: filters.period.bounds(ZoneInfo(zone)) for zone in ZONES}
    condition = Q(**{f"{field_name}__gte": min(start for start, _end in bounds.values()),
                     f"{field_name}__lt": max(end for _start, end in bounds.values())})
    by_zone = Q()
    for zone, (start, end) in bounds.items():
        by_zone |= Q(**{f"{office_path}__time_zone": zone, f"{field_name}__gte": start, f"{field_name}__lt": end})
    return condition & by_zone


def _task_filter(filters: Filters, prefix: str = "") -> Q:
    """The filters on tasks (the SOP, position, person); ``prefix`` leads from the queried model."""
    condition = Q(**{f"{prefix}run__office_id__in": filters.office_ids})
    if filters.sop is not None:
        condition &= Q(**{f"{prefix}run__revision__sop_id": filters.sop.pk})
    if filters.position is not None:
        condition &= Q(**{f"{prefix}position_id": filters.position.pk})
    return condition


def one_working_day_before(calendar: WorkingCalendar, now: dt.datetime) -> dt.datetime:
    """The moment one working day before ``now``: a task due before it is a working day overdue."""
    local = now.astimezone(calendar.tz)
    day = local.date() - dt.timedelta(days=1)
    for _index in range(3 * 366):
        if calendar.is_working_day(day):
            start, end = calendar.hours[day.weekday()]
            clock = min(max(local.time(), start), end)
            return dt.datetime.combine(day, clock, tzinfo=calendar.tz)
        day -= dt.timedelta(days=1)
    return local - dt.timedelta(days=1)


def _stuck_condition(office_ids: Iterable[int], now: dt.datetime) -> Q:
    """Open tasks overdue by more than a working day of their office (one query, the offices' calendars)."""
    condition = Q(pk__in=[])
    # The days off of the last weeks are enough to step back one working day from now.
    since = now.date() - dt.timedelta(days=40)
    for office in Office.objects.filter(pk__in=office_ids).annotate(**calendar_annotations("pk", since=since)):
        threshold = one_working_day_before(calendar_from_annotations(office, office), now)
        condition |= Q(run__office_id=office.pk, due_at__lt=threshold)
    return condition


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


def monitoring_report(filters: Filters, *, now: dt.datetime | None = None) -> Report:
    """Every table of the monitoring page for these filters (one query per table, whatever the runs)."""
    now = now or timezone.now()
    own = filters.person is not None
    offices = {pk: name for pk, name in Office.objects.filter(pk__in=filters.office_ids).values_list("pk", "name")}
    sops = {
        sop.pk: SopRow(sop.pk, str(sop), offices.get(sop.office_id, ""))
        for sop in Sop.objects.filter(office_id__in=filters.office_ids, **(
            {"pk": filters.sop.pk} if filters.sop else {})).prefetch_related("revisions").order_by("kode")
    }
    office_rows = {pk: OfficeRow(pk, name) for pk, name in sorted(offices.items(), key=lambda item: item[1])}

    # Runs (office figures: not for a person's own view, nor narrowed by position).
    if not own and filters.position is None:
        stuck = Exists(Task.objects.filter(_stuck_condition(filters.office_ids, now), run_id=OuterRef("pk"),
                                           status__in=Task.OPEN))
        runs = (
            Run.objects.filter(_in_period(filters, "started_at", "office"), office_id__in=filters.office_ids,
                               **({"revision__sop_id": filters.sop.pk} if filters.sop else {}))
            .annotate(_stuck=stuck).values("revision__sop_id", "office_id")
            .annotate(started=Count("pk"),
                      finished=Count("pk", filter=Q(status=Run.Status.FINISHED)),
                      cancelled=Count("pk", filter=Q(status=Run.Status.CANCELLED)),
                      running=Count("pk", filter=Q(status=Run.Status.RUNNING)),
                      stuck=Count("pk", filter=Q(status=Run.Status.RUNNING, _stuck=True)))
            .order_by()
        )
        for row in runs:
            target = sops.get(row["revision__sop_id"])
            office = office_rows.get(row["office_id"])
            for counted in (target, office):
                if counted is None:
                    continue
                counted.started += row["started"]
                counted.finished += row["finished"]
                counted.running += row["running"]
                counted.stuck += row["stuck"]
                if isinstance(counted, SopRow):
                    counted.cancelled += row["cancelled"]

    # The done tasks of the period, with their stored figures, and the tasks returned outside the drawn
    # flow (no figures: counted, not measured): one query (UNION ALL, so that the measured arm keeps
    # the partial index on done tasks, task_figures_done), the rows the page needs.
    done = Task.objects.filter(_task_filter(filters), _in_period(filters, "completed_at", "run__office"),
                               status__in=DONE)
    if filters.person is not None:
        done = done.filter(completed_by_id=filters.person.pk)
    columns = ("run__revision__sop_id", "run__office_id", "run__office__time_zone", "step__nomor", "step__kegiatan",
               "step__simbol", "position_id", "position__name", "completed_by_id", "acting_id", "status",
               "completed_at", "worked_minutes", "standard_minutes", "within_standard")
    rows = done.filter(within_standard__isnull=False).order_by().values_list(*columns).union(
        done.filter(RETURNED).order_by().values_list(*columns), all=True)
    steps: dict[tuple[int, int], StepRow] = {}
    positions: dict[int, PeopleRow] = {}
    people: dict[int, PeopleRow] = {}
    weeks: dict[dt.date, WeekRow] = {}
    for (sop_id, office_id, zone, nomor, kegiatan, simbol, position_id, position_name, user_id, acting_id, status,
         completed_at, worked, standard, within) in rows:
        step = steps.get((sop_id, nomor))
        if step is None:
            sop_row = sops.get(sop_id)
            step = steps[(sop_id, nomor)] = StepRow(sop_id, sop_row.name if sop_row else "", nomor, kegiatan,
                                                    position_name, simbol == "keputusan")
        if within is None:  # returned outside the drawn flow: no work measured, only counted
            step.returns += 1
            if sop_id in sops:
                sops[sop_id].returns += 1
            continue
        late = max(0, worked - standard)
        step.worked.append(worked)
        step.standards.append(standard)
        step.within += within
        step.late_minutes += late
        step.send_backs += status == Task.Status.SENT_BACK
        if sop_id in sops:
            sops[sop_id].tasks_done += 1
            sops[sop_id].within += within
            sops[sop_id].send_backs += status == Task.Status.SENT_BACK
        if office_id in office_rows:
            office_rows[office_id].tasks_done += 1
            office_rows[office_id].within += within
        for table, key, name in ((positions, position_id, position_name), (people, user_id, "")):
            row = table.setdefault(key, PeopleRow(key, name, offices.get(office_id, "")))
            row.done += 1
            row.within += within
            row.acting += acting_id is not None
            if late:
                row.lateness.append(late)
        local = completed_at.astimezone(ZoneInfo(zone)).date()
        monday = local - dt.timedelta(days=local.weekday())
        week = weeks.setdefault(monday, WeekRow(monday))
        week.done += 1
        week.within += within

    # Open and overdue now, per position and per person (claimed by them): aggregated by the database.
    open_tasks = Task.objects.filter(_task_filter(filters), status__in=Task.OPEN, run__status=Run.Status.RUNNING)
    if filters.person is not None:
        open_tasks = open_tasks.filter(assignee_id=filters.person.pk)
    overdue = Count("pk", filter=Q(due_at__lt=now))
    for row in open_tasks.values("position_id", "position__name", "run__office_id").annotate(
            open=Count("pk"), overdue=overdue).order_by():
        target = positions.setdefault(row["position_id"], PeopleRow(
            row["position_id"], row["position__name"], offices.get(row["run__office_id"], "")))
        target.open_now += row["open"]
        target.overdue_now += row["overdue"]
    for row in open_tasks.filter(assignee__isnull=False).values("assignee_id").annotate(
            open=Count("pk"), overdue=overdue).order_by():
        target = people.setdefault(row["assignee_id"], PeopleRow(row["assignee_id"], ""))
        target.open_now += row["open"]
        target.overdue_now += row["overdue"]
    if filters.person is not None:
        people = {pk: row for pk, row in people.items() if pk == filters.person.pk}
    users = get_user_model().objects.in_bulk(list(people))
    for pk, row in people.items():
        row.name = display_name(users.get(pk))

    return Report(
        filters=filters,
        sops=[row for row in sops.values() if row.started or row.tasks_done] if own else list(sops.values()),
        steps=sorted(steps.values(), key=lambda row: (row.sop_name, row.nomor)),
        positions=sorted(positions.values(), key=lambda row: row.name),
        people=sorted(people.values(), key=lambda row: row.name),
        weeks=[weeks[monday] for monday in sorted(weeks)],
        offices=list(office_rows.values()),
    )


def minutes_text(minutes: float | None) -> str:
    """Minutes as people read them: "45 menit", "2 jam 5 menit" (hours of work, never days)."""
    if minutes is None:
        return "—"
    hours, rest = divmod(round(minutes), 60)
    if not hours:
        return _("%(minutes)s min") % {"minutes": rest}
    if not rest:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}


