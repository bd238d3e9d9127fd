"""Reminders of tasks due within the next working hour or overdue, and the send_reminders command."""

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procedures.demo import demo_users_create
from procedures.engine import run_cancel, run_start, task_claim
from procedures.library import sop_import
from procedures.models import ActingAssignment, Position, SopRevision, Task
from procedures.reminders import reminders_due, reminders_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(django_settings.BASE_DIR) / "fixtures" / "sops"
WITA = ZoneInfo("Asia/Makassar")
# Monday 14 July 2025, 10.00 in Gorontalo: a working day, no holiday near.
START = dt.datetime(2025, 7, 14, 10, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def _english_and_fast(settings):
    # Emails are checked by their English text; the site's default language is Indonesian.
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def binpolmas() -> SopRevision:
    """SOP 002 (Satbinmas Polres Gorontalo Kota, WITA): step 1 by the Kanit Binpolmas, 1 jam."""
    result = sop_import(data=(FIXTURES / "002-unit-binpolmas.yaml").read_bytes(), source="002")
    assert not result.refused, result.lines()
    demo_users_create()
    return SopRevision.objects.get(sop__kode="satbinmas-unit-binpolmas")


@pytest.fixture
def kanit(binpolmas) -> Position:
    return Position.objects.get(office=binpolmas.sop.office, name="Kanit Binpolmas")


@pytest.fixture
def admin(binpolmas):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


def start(revision, admin, perihal="Pembinaan Kelurahan Limba", at=START) -> Task:
    with time_machine.travel(at, tick=False):
        # SOP 002 is of independent activities: the run does activity A.
        run = run_start(revision=revision, user=admin, perihal=perihal, now=at, step=revision.steps.get(nomor=1))
    return run.tasks.get()


def emails_to(mailoutbox, address):
    return [message for message in mailoutbox if message.to == [address]]


def test_a_task_due_in_30_working_minutes_is_reminded_to_the_holder(binpolmas, admin, kanit, mailoutbox):
    task = start(binpolmas, admin)
    assert task.due_at == START + dt.timedelta(hours=1)
    now = START + dt.timedelta(minutes=30)
    assert reminders_due(now=now) == {kanit.holders.get(): [task]}
    assert reminders_send(now=now) == 1
    [message] = mailoutbox
    assert message.to == ["kanit-binpolmas@demo.sopflow.invalid"]
    assert message.subject == "sopflow: 1 task near or past its deadline"
    assert "Unit Binpolmas, step 1: A. Pembinaan, peningkatan kemampuan personil" in message.body
    assert "Pembinaan Kelurahan Limba" in message.body
    assert "OVERDUE" not in message.body


def test_each_task_links_to_its_page_on_the_site(binpolmas, admin, mailoutbox, settings):
    settings.SITE_URL = "https://sopflow.example.go.id"
    task = start(binpolmas, admin)
    reminders_send(now=START + dt.timedelta(minutes=30))
    [message] = mailoutbox
    assert f"   Open: https://sopflow.example.go.id/tugas/{task.pk}/\n" in message.body


def test_a_site_url_with_a_trailing_slash_makes_no_double_slash(binpolmas, admin, mailoutbox, settings):
    settings.SITE_URL = "http://127.0.0.1:8000/"
    task = start(binpolmas, admin)
    reminders_send(now=START + dt.timedelta(minutes=30))
    [message] = mailoutbox
    assert f"Open: http://127.0.0.1:8000/tugas/{task.pk}/" in message.body


def test_a_task_due_tomorrow_is_not_reminded(binpolmas, admin, mailoutbox):
    task = start(binpolmas, admin)
    Task.objects.filter(pk=task.pk).update(due_at=START + dt.timedelta(days=1))
    assert reminders_due(now=START + dt.timedelta(minutes=30)) == {}
    assert reminders_send(now=START + dt.timedelta(minutes=30)) == 0
    assert mailoutbox == []


def test_due_soon_counts_working_hours_across_the_night(binpolmas, admin, kanit):
    # Started Monday 15.30: due Tuesday 08.00, one working hour away at once but not sooner.
    task = start(binpolmas, admin, at=START.replace(hour=15, minute=30))
    assert task.due_at == dt.datetime(2025, 7, 15, 8, 0, tzinfo=WITA)
    assert reminders_due(now=START.replace(hour=15, minute=30)) == {kanit.holders.get(): [task]}
    assert reminders_due(now=START.replace(hour=14, minute=30)) == {}


def test_an_overdue_task_is_reminded_and_marked_overdue(binpolmas, admin, mailoutbox):
    task = start(binpolmas, admin)
    now = task.due_at + dt.timedelta(days=2)
    assert reminders_send(now=now) == 1
    [message] = mailoutbox
    assert "[OVERDUE] Unit Binpolmas, step 1" in message.body


def test_times_are_shown_in_the_offices_zone(binpolmas, admin, mailoutbox):
    start(binpolmas, admin)
    reminders_send(now=START + dt.timedelta(minutes=30))
    [message] = mailoutbox
    # 11.00 WITA is 10.00 WIB, the server's zone: the email must not show that.
    assert "Due: 14-07-2025 11.00 WITA" in message.body


def test_every_holder_is_reminded_until_one_claims_the_task(binpolmas, admin, kanit, mailoutbox):
    other = UserFactory(email="kanit2@example.org")
    other.save()
    kanit.holders.add(other)
    task = start(binpolmas, admin)
    now = START + dt.timedelta(minutes=30)
    assert {user.username for user in reminders_due(now=now)} == {"kanit-binpolmas", other.username}
    with time_machine.travel(START + dt.timedelta(minutes=10), tick=False):
        task_claim(task=task, user=other)
    assert reminders_send(now=now) == 1
    assert [message.to for message in mailoutbox] == [["kanit2@example.org"]]


def test_holders_without_email_or_inactive_are_skipped(binpolmas, admin, kanit):
    quiet = UserFactory(email="")
    gone = UserFactory(email="gone@example.org", is_active=False)
    for user in (quiet, gone):
        user.save()
        kanit.holders.add(user)
    start(binpolmas, admin)
    assert [user.username for user in reminders_due(now=START + dt.timedelta(minutes=30))] == ["kanit-binpolmas"]


def test_an_acting_official_is_reminded_during_their_range_only(binpolmas, admin, kanit, mailoutbox):
    plh = UserFactory(email="plh@example.org")
    plh.save()
    ActingAssignment.objects.create(
        position=kanit, user=plh, kind=ActingAssignment.Kind.PLH, appointed_by=admin,
        starts_on=dt.date(2025, 7, 14), ends_on=dt.date(2025, 7, 15),
    )
    task = start(binpolmas, admin)
    assert plh in reminders_due(now=START + dt.timedelta(minutes=30))
    reminders_send(now=START + dt.timedelta(minutes=30))
    assert len(emails_to(mailoutbox, "plh@example.org")) == 1
    # Thursday: the appointment has ended, the task is long overdue.
    assert plh not in reminders_due(now=dt.datetime(2025, 7, 17, 9, 0, tzinfo=WITA))
    assert task in reminders_due(now=dt.datetime(2025, 7, 17, 9, 0, tzinfo=WITA))[kanit.holders.get()]


def test_the_acting_range_is_read_in_the_offices_local_date(binpolmas, admin, kanit):
    plh = UserFactory(email="plh@example.org")
    plh.save()
    ActingAssignment.objects.create(
        position=kanit, user=plh, kind=ActingAssignment.Kind.PLH, appointed_by=admin,
        starts_on=dt.date(2025, 7, 15), ends_on=dt.date(2025, 7, 15),
    )
    start(binpolmas, admin)
    # 00.30 WITA on Tuesday is still Monday in Jakarta (the server's zone) and in UTC.
    assert plh in reminders_due(now=dt.datetime(2025, 7, 15, 0, 30, tzinfo=WITA))
    assert plh not in reminders_due(now=dt.datetime(2025, 7, 14, 23, 30, tzinfo=WITA))


def test_a_cancelled_runs_task_is_not_reminded(binpolmas, admin, mailoutbox):
    task = start(binpolmas, admin)
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        run_cancel(run=task.run, user=admin, reason="Kegiatan ditunda")
    assert reminders_due(now=task.due_at + dt.timedelta(hours=3)) == {}
    assert reminders_send(now=task.due_at + dt.timedelta(hours=3)) == 0
    assert mailoutbox == []


def test_one_email_per_person_lists_all_their_tasks(binpolmas, admin, mailoutbox):
    first = start(binpolmas, admin, perihal="Kelurahan Limba")
    start(binpolmas, admin, perihal="Kelurahan Biawao", at=START + dt.timedelta(minutes=20))
    now = first.due_at + dt.timedelta(minutes=5)
    assert reminders_send(now=now) == 1
    [message] = mailoutbox
    assert message.subject == "sopflow: 2 tasks near or past their deadline"
    # Soonest first; the first is overdue, the second due in 15 working minutes.
    assert message.body.index("Kelurahan Limba") < message.body.index("Kelurahan Biawao")
    assert message.body.count("[OVERDUE]") == 1


def test_the_number_of_queries_does_not_grow_with_the_tasks(binpolmas, admin, kanit):
    other = UserFactory(email="kanit2@example.org")
    other.save()
    kanit.holders.add(other)
    plh = UserFactory(email="plh@example.org")
    plh.save()
    ActingAssignment.objects.create(position=kanit, user=plh, appointed_by=admin,
                                    starts_on=dt.date(2025, 7, 1), ends_on=dt.date(2025, 7, 31))
    now = START + dt.timedelta(minutes=30)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            reminders_send(now=now, dry_run=True)
        return len(queries)

    start(binpolmas, admin, perihal="Run 0")
    one = count()
    for number in range(1, 10):
        task = start(binpolmas, admin, perihal=f"Run {number}")
        if number % 3 == 0:
            with time_machine.travel(START, tick=False):
                task_claim(task=task, user=other)
    assert Task.objects.filter(status__in=Task.OPEN).count() == 10
    assert count() == one


def test_dry_run_sends_nothing_and_says_who_would_get_mail(binpolmas, admin, mailoutbox):
    start(binpolmas, admin)
    out = io.StringIO()
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        call_command("send_reminders", "--dry-run", stdout=out)
    assert mailoutbox == []
    assert "kanit-binpolmas@demo.sopflow.invalid" in out.getvalue()
    assert "dry run: 1 email(s) not sent, 1 task(s)" in out.getvalue()


def test_the_command_sends_and_prints_a_summary(binpolmas, admin, mailoutbox):
    start(binpolmas, admin)
    out = io.StringIO()
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        call_command("send_reminders", stdout=out)
    assert len(mailoutbox) == 1
    assert out.getvalue() == "1 email(s) sent, 1 task(s)\n"


def test_nothing_open_means_no_email(db, mailoutbox):
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    assert mailoutbox == []
    assert "0 email(s) sent, 0 task(s)" in out.getvalue()


def test_whoever_did_the_judged_step_is_not_asked_to_approve_it(admin, mailoutbox):
    """SOP 000: the Kabid Linmas studies the Kasi's telaahan (step 4 → 5); nobody approves their own."""
    from procedures.engine import task_complete

    result = sop_import(data=(FIXTURES / "000-bina-potensi-masyarakat.yaml").read_bytes(), source="000")
    assert not result.refused, result.lines()
    demo_users_create()
    revision = SopRevision.objects.get(sop__kode="satpolpp-bina-potensi-masyarakat")
    both = UserFactory(email="both@example.org")
    both.save()
    for name in ("Kasi Bina Potensi Masyarakat", "Kabid Linmas"):
        Position.objects.get(office=revision.sop.office, name=name).holders.add(both)
    wib = ZoneInfo("Asia/Jakarta")
    at = dt.datetime(2025, 7, 14, 8, 0, tzinfo=wib)
    with time_machine.travel(at, tick=False):
        task = run_start(revision=revision, user=both, perihal="Pembinaan Linmas", now=at).tasks.get()
        for _ in range(4):
            task_complete(task=task, user=both, ticked=task.step.kelengkapan.values_list("pk", flat=True),
                          output_text="selesai")
            task = task.run.tasks.get(status__in=Task.OPEN)
    assert task.step.nomor == 5
    due = reminders_due(now=task.due_at - dt.timedelta(minutes=30))
    assert [user.username for user in due] == ["kabid-linmas"]


def test_each_office_reads_acting_ranges_in_its_own_date(binpolmas, admin):
    """At 23.30 WIB it is already tomorrow in WITA; a Plh of a WIB office starting tomorrow waits."""
    result = sop_import(data=(FIXTURES / "000-bina-potensi-masyarakat.yaml").read_bytes(), source="000")
    assert not result.refused, result.lines()
    demo_users_create()
    satpol = SopRevision.objects.get(sop__kode="satpolpp-bina-potensi-masyarakat")
    kasi = Position.objects.get(office=satpol.sop.office, name="Kasi Bina Potensi Masyarakat")
    plh = UserFactory(email="plh@example.org")
    plh.save()
    ActingAssignment.objects.create(position=kasi, user=plh, appointed_by=admin,
                                    starts_on=dt.date(2025, 7, 15), ends_on=dt.date(2025, 7, 15))
    start(binpolmas, admin)
    start(satpol, admin, at=START)
    wib = ZoneInfo("Asia/Jakarta")
    assert plh not in reminders_due(now=dt.datetime(2025, 7, 14, 23, 30, tzinfo=wib))
    assert plh in reminders_due(now=dt.datetime(2025, 7, 15, 0, 30, tzinfo=wib))
