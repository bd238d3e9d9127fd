"""Reminders: email the people who may act on tasks that are due within a working hour or overdue.

:func:`reminders_due` selects who gets which tasks; :func:`reminders_send` builds one email per
person and sends them. The ``send_reminders`` command (run it from cron, e.g. every 30 minutes in
working hours) is a thin wrapper over both.

"Due soon" is counted on the working calendar of the task's office: a task due Monday 08.00 is
due within the next working hour on Friday at 15.30, not on Monday at 07.00.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures import permissions
from procedures.durations import HOUR
from procedures.models import ActingAssignment, Office, Run, Task
from procedures.working_calendar import WorkingCalendar, calendar_for_office

# How far ahead a task counts as "due soon": one working hour of its office.
DUE_SOON = (1, HOUR)

# Step texts run to paragraphs; a reminder line shows the start of the first one.
KEGIATAN_CHARS = 80


def _office_calendars() -> dict[int, WorkingCalendar]:
    """One calendar per office that has open tasks in running runs (2 queries per office)."""
    offices = Office.objects.filter(
        runs__status=Run.Status.RUNNING, runs__tasks__status__in=Task.OPEN
    ).distinct()
    return {office.pk: calendar_for_office(office) for office in offices}


def _open_tasks_due(now: dt.datetime, calendars: Mapping[int, WorkingCalendar]) -> list[Task]:
    """Open tasks of running runs due before each office's horizon, with all a reminder shows."""
    if not calendars:
        return []
    horizon = functools.reduce(operator.or_, (
        Q(run__office_id=office_id, due_at__lte=calendar.add(now, *DUE_SOON))
        for office_id, calendar in calendars.items()
    ))
    # Offices in WIB and WITA can be on different dates (23.30 WIB is 00.30 WITA): fetch the
    # appointments of any of their todays; _recipients() checks each against its own office.
    todays = [now.astimezone(calendar.tz).date() for calendar in calendars.values()]
    User = get_user_model()
    reachable = User.objects.filter(is_active=True).exclude(email="")
    return list(
        Task.objects.filter(horizon, status__in=Task.OPEN, run__status=Run.Status.RUNNING)
        .select_related(
            "run__office", "run__revision", "step", "position", "assignee", "previous__position",
        )
        .prefetch_related(
            Prefetch("position__holders", queryset=reachable.order_by("username")),
            Prefetch(
                "position__acting",
                queryset=ActingAssignment.objects.filter(
                    starts_on__lte=max(todays), ends_on__gte=min(todays),
                    user__in=reachable,
                ).select_related("user").order_by("user__username"),
            ),
        )
        .order_by("due_at", "pk")
    )


def _recipients(task: Task, now: dt.datetime) -> list:
    """Who may act on the task now and can be emailed: its claimer, else holders and acting officials."""
    if task.assignee_id is not None:
        assignee = task.assignee
        return [assignee] if assignee.is_active and assignee.email else []
    today = now.astimezone(task.run.office.zoneinfo).date()
    users = list(task.position.holders.all())
    users += [acting.user for acting in task.position.acting.all() if acting.starts_on <= today <= acting.ends_on]
    # Nobody approves their own work: whoever did the judged step is not asked to judge it.
    judged = permissions.judged_task(task)
    excluded = judged.completed_by_id if judged is not None else None
    return [user for user in dict.fromkeys(users) if user.pk != excluded]


def reminders_due(*, now: dt.datetime | None = None) -> dict:
    """Return each person to remind with their open tasks due within a working hour or overdue."""
    now = now or timezone.now()
    due: dict = {}
    for task in _open_tasks_due(now, _office_calendars()):
        for user in _recipients(task, now):
            due.setdefault(user, []).append(task)
    return dict(sorted(due.items(), key=lambda item: item[0].get_username()))


def _line(text: str) -> str:
    """A text on one line: a line break typed into a subject must not forge a line of the email."""
    return " ".join(str(text).split())


def _shorten(text: str) -> str:
    return Truncator(_line(text)).chars(KEGIATAN_CHARS)


def _local_time(moment: dt.datetime, office: Office) -> str:
    return f"{timezone.localtime(moment, office.zoneinfo):%d-%m-%Y %H.%M} {office.zone_abbreviation}"


def task_url(task: Task) -> str:
    """Return the task's page as a full address: an email has no request to build it from."""
    return settings.SITE_URL.rstrip("/") + reverse("task-detail", args=[task.pk])


def reminder_subject(tasks: Sequence[Task]) -> str:
    return ngettext(
        "sopflow: %(count)d task near or past its deadline",
        "sopflow: %(count)d tasks near or past their deadline",
        len(tasks),
    ) % {"count": len(tasks)}


def reminder_body(user, tasks: Sequence[Task], *, now: dt.datetime) -> str:
    """The plain-text email: one block per task, overdue ones marked."""
    lines = [
        _("Hello %(name)s,") % {"name": _line(permissions.display_name(user))},
        "",
        _("These tasks are due within the next working hour or are overdue:"),
    ]
    for number, task in enumerate(tasks, start=1):
        office = task.run.office
        # Translated as "TERLAMBAT": the word people scan the list for. (Not inside an f-string:
        # xgettext would not find it there.)
        overdue = _("OVERDUE")
        mark = f"[{overdue}] " if task.is_overdue(now) else ""
        lines += [
            "",
            f"{number}. {mark}" + _("%(sop)s, step %(nomor)s: %(kegiatan)s") % {
                "sop": _line(task.run.revision.nama), "nomor": task.step.nomor, "kegiatan": _shorten(task.step.kegiatan)},
            "   " + _("Run: %(perihal)s (#%(run)s)") % {"perihal": _line(task.run.perihal), "run": task.run_id},
            "   " + _("Position: %(position)s, %(office)s") % {
                "position": _line(task.position.name), "office": _line(office.name)},
            "   " + _("Due: %(time)s") % {"time": _local_time(task.due_at, office)},
            "   " + _("Open: %(url)s") % {"url": task_url(task)},
        ]
    lines += ["", _("This is an automatic reminder from sopflow.")]
    return "\n".join(lines) + "\n"


def reminder_message(user, tasks: Sequence[Task], *, now: dt.datetime) -> EmailMessage:
    return EmailMessage(
        subject=reminder_subject(tasks),
        body=reminder_body(user, tasks, now=now),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )


def reminders_send(*, now: dt.datetime | None = None, dry_run: bool = False, due: Mapping | None = None) -> int:
    """Email every person their due and overdue tasks, one message each; return how many were (or would be) sent.

    ``due`` is the result of :func:`reminders_due` when the caller already has it.
    """
    now = now or timezone.now()
    if due is None:
        due = reminders_due(now=now)
    messages = [reminder_message(user, tasks, now=now) for user, tasks in due.items()]
    if dry_run or not messages:
        return len(messages)
    # One connection for all: an SMTP server is not asked to log in once per person.
    return get_connection().send_messages(messages) or 0
