"""The audit trail kept by the database (migration 0003's triggers) and the one way to remove
history: procedures.history.history_purge, the purge_history command, logged before it removes.

Every test here runs on the database the suite runs on: SQLite and PostgreSQL both (CI runs both).
Tests outside a test transaction are in test_history_connections (this module keeps one open).
"""

import datetime as dt
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from procedures import engine
from procedures.history import PurgeRefused, history_maintenance, history_purge
from procedures.models import Event, Office, Run, Task, TaskCheck, TaskFile
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    SATPOL,
    _module_cast,
    cast,
    drive,
    english,
    open_task,
    snapshot,
    work,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TRIGGERS = {"procedures_event_no_update", "procedures_event_no_delete"}


def trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'procedures_event'::regclass "
                           "AND NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'procedures_event'")
        return {name for (name,) in cursor.fetchall()}


def refused_by_the_database(action) -> IntegrityError:
    """Run ``action`` in a savepoint; the database must refuse it (and the test goes on)."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        action()
    return caught.value


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# ---------------------------------------------------------------------------------------------
# The triggers
# ---------------------------------------------------------------------------------------------


def test_the_event_table_carries_its_triggers_after_every_migration():
    # SQLite drops a table's triggers when a migration rebuilds the table: this notices.
    expected = TRIGGERS | ({"procedures_event_no_truncate"} if connection.vendor == "postgresql" else set())
    assert trigger_names() == expected


BYPASSES = {
    "the base manager's update": lambda pk: Event._base_manager.filter(pk=pk).update(reason="diubah"),
    "the base manager's bulk_update": lambda pk: Event._base_manager.bulk_update(
        [Event(pk=pk, reason="diubah")], ["reason"]),
    "a raw UPDATE": lambda pk: raw("UPDATE procedures_event SET reason = 'diubah' WHERE id = %s", [pk]),
    "a raw UPDATE of every event": lambda pk: raw("UPDATE procedures_event SET actor_id = actor_id"),
    "the base manager's delete": lambda pk: Event._base_manager.filter(pk=pk).delete(),
    "_raw_delete": lambda pk: Event.objects.filter(pk=pk)._raw_delete(connection.alias),
    "a raw DELETE": lambda pk: raw("DELETE FROM procedures_event WHERE id = %s", [pk]),
    "a raw DELETE of every event": lambda pk: raw("DELETE FROM procedures_event"),
}


@pytest.mark.parametrize("bypass", BYPASSES)
def test_the_database_refuses_to_change_or_delete_an_event_however_asked(cast, bypass):
    run = cast.start("000")
    event = run.events.earliest("pk")
    before = snapshot()

    error = refused_by_the_database(lambda: BYPASSES[bypass](event.pk))

    assert "audit events cannot be" in str(error)
    assert snapshot() == before


def test_maintenance_may_delete_events_but_never_change_one(cast):
    run = cast.start("000")
    event = run.events.earliest("pk")

    with transaction.atomic(), history_maintenance():
        refused_by_the_database(lambda: Event._base_manager.filter(pk=event.pk).update(reason="diubah"))
    with transaction.atomic(), history_maintenance():
        Event._base_manager.filter(pk=event.pk).delete()
    assert not Event.objects.filter(pk=event.pk).exists()
    # The maintenance ended with its block: the next delete is refused again.
    other = run.events.earliest("pk")
    refused_by_the_database(lambda: Event._base_manager.filter(pk=other.pk).delete())


# ---------------------------------------------------------------------------------------------
# Removing history: history_purge and the purge_history command
# ---------------------------------------------------------------------------------------------

WIB = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture
def history_log(settings, tmp_path):
    settings.HISTORY_LOG = tmp_path / "history.log"
    return settings.HISTORY_LOG


def log_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def runs_of_2024(cast) -> dict[str, Run]:
    """Runs of Satpol PP: finished and cancelled in January 2024, finished in March, still running."""
    kasat = cast.user("Kasat Pol PP")
    with time_machine.travel(dt.datetime(2024, 1, 10, 9, tzinfo=WIB), tick=False):
        finished = cast.start("004", perihal="Patroli Januari")
        upload = SimpleUploadedFile("surat.pdf", b"%PDF-1.4 surat", content_type="application/pdf")
        engine.task_complete(task=open_task(finished), user=kasat, ticked=[
            item.pk for item in open_task(finished).step.kelengkapan.all()], files=[upload])
        drive(finished, cast, {7: ("tidak", "nihil")})
        cancelled = cast.start("000", perihal="Pembinaan Januari")
        engine.run_cancel(run=cancelled, user=cancelled.started_by, reason="Ditunda")
    with time_machine.travel(dt.datetime(2024, 3, 5, 9, tzinfo=WIB), tick=False):
        march = cast.start("004", perihal="Patroli Maret")
        drive(march, cast, {7: ("tidak", "nihil")})
        running = cast.start("004", perihal="Patroli berjalan")
    return {"finished": finished, "cancelled": cancelled, "march": march, "running": running}


def counts(run: Run) -> tuple[int, int, int, int]:
    return (Task.objects.filter(run=run).count(), Event.objects.filter(run=run).count(),
            TaskCheck.objects.filter(task__run=run).count(), TaskFile.objects.filter(task__run=run).count())


def test_a_purge_removes_whole_runs_that_ended_before_the_date_and_logs_it_first(
        cast, history_log, django_capture_on_commit_callbacks):
    runs = runs_of_2024(cast)
    office = Office.objects.get(name=SATPOL)
    admin = cast.admin
    gone = [runs["finished"], runs["cancelled"]]
    expected_tasks = sum(counts(run)[0] for run in gone)
    expected_events = sum(counts(run)[1] for run in gone)
    stored = TaskFile.objects.get(task__run=runs["finished"]).file
    assert stored.storage.exists(stored.name)
    kept = {key: counts(runs[key]) for key in ("march", "running")}

    with django_capture_on_commit_callbacks(execute=True):
        purge = history_purge(office=office, before=dt.date(2024, 2, 1), by=admin, confirm=True)

    assert purge.done and purge.run_ids == sorted(run.pk for run in gone)
    assert (purge.tasks, purge.events) == (expected_tasks, expected_events)
    assert not Run.objects.filter(pk__in=purge.run_ids).exists()
    assert not Task.objects.filter(run_id__in=purge.run_ids).exists()
    assert not Event.objects.filter(run_id__in=purge.run_ids).exists()
    assert not stored.storage.exists(stored.name)
    assert {key: counts(runs[key]) for key in kept} == kept
    removing, removed = log_lines(history_log)
    assert (removing["status"], removed["status"]) == ("removing", "removed")
    assert removing["by"] == admin.username and removing["os_user"] and removing["host"]
    assert (removing["office"], removing["ended_before"], removing["runs"]) == (SATPOL, "2024-02-01", purge.run_ids)
    assert (removing["tasks"], removing["events"], removing["files"]) == (expected_tasks, expected_events, 1)


def test_without_confirm_a_purge_only_says_what_it_would_remove(cast, history_log):
    runs = runs_of_2024(cast)
    before = snapshot()

    purge = history_purge(office=Office.objects.get(name=SATPOL), before=dt.date(2024, 4, 1), by=cast.admin,
                          confirm=False)

    assert not purge.done
    assert purge.run_ids == sorted(runs[key].pk for key in ("finished", "cancelled", "march"))
    assert snapshot() == before
    assert log_lines(history_log) == []


def test_a_purge_failing_half_way_removes_nothing_and_logs_that_it_rolled_back(cast, history_log, monkeypatch):
    runs_of_2024(cast)
    before = snapshot()
    delete = QuerySet.delete

    def delete_then_fail(queryset):
        deleted = delete(queryset)
        if queryset.model is Run:  # the events went first
            raise DatabaseError("the disk is full")
        return deleted

    monkeypatch.setattr(QuerySet, "delete", delete_then_fail)
    with pytest.raises(DatabaseError, match="the disk is full"):
        history_purge(office=Office.objects.get(name=SATPOL), before=dt.date(2024, 2, 1), by=cast.admin,
                      confirm=True)

    assert snapshot() == before
    assert [line["status"] for line in log_lines(history_log)] == ["removing", "rolled back"]


@pytest.mark.parametrize("who, before, message", [
    ("staff", dt.date(2024, 2, 1), "only an active superuser"),
    ("admin", "tomorrow", "is in the future"),
])
def test_a_purge_is_refused_to_anyone_but_a_superuser_and_for_a_future_date(cast, history_log, who, before, message):
    runs_of_2024(cast)
    by = UserFactory(is_staff=True) if who == "staff" else cast.admin
    if before == "tomorrow":
        before = timezone.localdate() + dt.timedelta(days=2)
    snap = snapshot()

    with pytest.raises(PurgeRefused, match=message):
        history_purge(office=Office.objects.get(name=SATPOL), before=before, by=by, confirm=True)

    assert snapshot() == snap and log_lines(history_log) == []


def test_the_command_shows_a_dry_run_then_removes_with_confirm(cast, history_log, capsys):
    runs = runs_of_2024(cast)
    admin = cast.admin.username

    call_command("purge_history", "--office", SATPOL, "--before", "2024-02-01", "--by", admin)
    out = capsys.readouterr().out
    assert "would remove 2 run(s)" in out and "--confirm" in out
    assert Run.objects.filter(pk=runs["finished"].pk).exists()

    call_command("purge_history", "--office", SATPOL.upper(), "--before", "2024-02-01", "--by", admin, "--confirm")
    out = capsys.readouterr().out
    assert "removed 2 run(s)" in out and str(history_log) in out
    assert not Run.objects.filter(pk__in=[runs["finished"].pk, runs["cancelled"].pk]).exists()


@pytest.mark.parametrize("arguments, message", [
    (["--office", "Kantor Tidak Ada", "--before", "2024-02-01", "--by", "admin"], "no office"),
    (["--office", SATPOL, "--before", "1-2-2024", "--by", "admin"], "YYYY-MM-DD"),
    (["--office", SATPOL, "--before", "2024-02-01", "--by", "nobody"], "no user"),
])
def test_the_command_refuses_unknown_offices_users_and_dates(cast, arguments, message):
    arguments = [cast.admin.username if value == "admin" else value for value in arguments]
    with pytest.raises(CommandError, match=message):
        call_command("purge_history", *arguments)
