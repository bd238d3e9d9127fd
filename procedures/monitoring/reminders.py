"""Semester reminders: the heads of an office that has not signed a period's monitoring sheet.

From two weeks before a semester ends until a month after, that semester's sheet is due. Each
office whose sheet for it is not signed (and that has SOPs) gets one email to its heads (holders
of a position above staff, active, with an address), sent by ``send_reminders`` and recorded in a
``MonitoringReminder`` row so that the half-hourly cron sends it once; their inbox shows a notice
for as long as the sheet is unsigned.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.models import MonitoringReminder, MonitoringSheet, Office, Position
from procedures.monitoring.scope import Period, semester_of

DUE_BEFORE_END = dt.timedelta(days=14)
DUE_AFTER_END = dt.timedelta(days=31)


def reminder_period(today: dt.date) -> Period | None:
    """The semester whose sheet is due on ``today``, or None outside the window."""
    current = semester_of(today)
    if current.end - today < DUE_BEFORE_END:
        return current
    previous = semester_of(current.start - dt.timedelta(days=1))
    if today - previous.end <= DUE_AFTER_END:
        return previous
    return None


def _unsigned(offices, period: Period):
    """Offices (a queryset narrowed by the caller) with SOPs and no signed sheet for the period."""
    signed = MonitoringSheet.objects.filter(status=MonitoringSheet.Status.SIGNED, period_start=period.start,
                                            period_end=period.end).values("office_id")
    return offices.filter(sops__isnull=False).exclude(pk__in=signed).distinct().order_by("name")


def sheet_notices(standing, *, today: dt.date | None = None) -> list[tuple[Office, Period]]:
    """For the inbox: the offices where the user is a head whose due sheet is unsigned (no query for others)."""
    if not standing.head_offices:
        return []
    period = reminder_period(today or timezone.localdate())
    if period is None:
        return []
    return [(office, period) for office in _unsigned(Office.objects.filter(pk__in=standing.head_offices), period)]


def sheet_reminders_due(*, today: dt.date | None = None) -> dict:
    """{user: [offices]}: the heads to remind now (offices not reminded for the period yet)."""
    period = reminder_period(today or timezone.localdate())
    if period is None:
        return {}
    reminded = MonitoringReminder.objects.filter(period_start=period.start).values("office_id")
    offices = list(_unsigned(Office.objects.exclude(pk__in=reminded), period))
    due = defaultdict(list)
    heads = (Position.objects.filter(office__in=offices, level__lt=Position.Level.STAFF)
             .select_related("office").prefetch_related("holders"))
    for position in heads:
        for user in position.holders.all():
            if user.is_active and user.email and position.office not in due[user]:
                due[user].append(position.office)
    return {"period": period, "offices": offices, "heads": dict(due)}


def sheet_reminders_send(*, today: dt.date | None = None, dry_run: bool = False) -> int:
    """Email the heads of the offices due (one email per head), recording each office first so that a
    parallel run skips it; the number of emails sent (or, with ``dry_run``, that would be)."""
    due = sheet_reminders_due(today=today)
    if not due:
        return 0
    period = due["period"]
    claimed = set()
    if dry_run:
        claimed = {office.pk for office in due["offices"]}
    else:
        for office in due["offices"]:
            try:
                with transaction.atomic():
                    MonitoringReminder.objects.create(office=office, period_start=period.start)
            except IntegrityError:  # another run of the command was faster
                continue
            claimed.add(office.pk)
    url = settings.SITE_URL.rstrip("/") + reverse("monitoring-sheets")
    messages = []
    for user, offices in due["heads"].items():
        offices = [office for office in offices if office.pk in claimed]
        if not offices:
            continue
        body = _("The Formulir Monitoring Pelaksanaan SOP of %(period)s is not signed yet for: %(offices)s.\n\n"
                 "sopflow has prepared the assessments from the figures; confirm them, write the actions to "
                 "take and sign: %(url)s") % {
            "period": period.label, "offices": ", ".join(office.name for office in offices), "url": url}
        messages.append(EmailMessage(_("Monitoring sheet of %(period)s to sign") % {"period": period.label},
                                     body, to=[user.email]))
    if dry_run:
        return len(messages)
    return get_connection().send_messages(messages) or 0
