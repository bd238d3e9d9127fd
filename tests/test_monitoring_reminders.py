"""Semester reminders to sign the monitoring sheet (procedures.monitoring.reminders)."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from procedures.models import MonitoringReminder
from procedures.monitoring import sheets
from procedures.monitoring.reminders import reminder_period, sheet_notices, sheet_reminders_send
from procedures.monitoring.scope import semester
from procedures.selectors import standing_of
from tests.monitoring_world import build_world

pytestmark = pytest.mark.django_db
AFTER_END = dt.date(2027, 1, 5)


@pytest.fixture
def world():
    built = build_world()
    for user in (built.kepala, built.kepala_timur, built.staf):
        user.email = f"{user.username}@contoh.go.id"
        user.save(update_fields=["email"])
    return built


@pytest.mark.parametrize("today, key", [
    (dt.date(2026, 12, 20), "2026-2"), (dt.date(2027, 1, 31), "2026-2"), (dt.date(2027, 2, 1), None),
    (dt.date(2026, 12, 1), None), (dt.date(2026, 6, 20), "2026-1"),
])
def test_the_window_of_a_semesters_sheet(today, key):
    period = reminder_period(today)
    assert (period.key if period else None) == key


def test_heads_of_unsigned_offices_are_emailed_once(world):
    with time_machine.travel("2026-12-20 09:00 +0700", tick=False):
        sheet = sheets.sheet_prepare(office=world.uji, period=semester("2026-2"), user=world.kepala)
        sheets.sheet_sign(sheet=sheet, user=world.kepala)
    assert sheet_reminders_send(today=AFTER_END) == 1  # Kantor Timur's head; Kantor Uji signed
    assert mail.outbox[0].to == [world.kepala_timur.email]
    assert "Kantor Timur" in mail.outbox[0].body and "Semester II 2026" in mail.outbox[0].subject
    assert sheet_reminders_send(today=AFTER_END) == 0
    assert MonitoringReminder.objects.count() == 1
    with time_machine.travel("2027-01-05 09:00 +0700", tick=False):
        call_command("send_monev_reminders")
    assert len(mail.outbox) == 1


def test_the_inbox_of_a_head_shows_the_unsigned_sheet(client, world):
    assert sheet_notices(standing_of(world.staf), today=AFTER_END) == []
    assert [office.name for office, _period in sheet_notices(standing_of(world.kepala), today=AFTER_END)] == [
        "Kantor Uji"]
    with time_machine.travel("2027-01-05 09:00 +0700", tick=False):
        client.force_login(world.kepala)
        assert b"data-sheet-notice" in client.get(reverse("inbox")).content
        client.force_login(world.staf)
        assert b"data-sheet-notice" not in client.get(reverse("inbox")).content


def test_the_command_sends_once(world):
    import io

    out = io.StringIO()
    with time_machine.travel("2027-01-05 09:00 +0700", tick=False):
        call_command("send_monev_reminders", "--dry-run", stdout=out)
        call_command("send_monev_reminders", stdout=out)
        call_command("send_monev_reminders", stdout=out)
    assert out.getvalue().splitlines() == ["uji coba: 2 pengingat formulir monitoring tidak dikirim",
                                           "2 pengingat formulir monitoring terkirim",
                                           "0 pengingat formulir monitoring terkirim"]
    assert sorted(message.to[0] for message in mail.outbox) == sorted([world.kepala.email, world.kepala_timur.email])
