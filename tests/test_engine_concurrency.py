"""Several people pressing the same button at once: exactly one wins, the others get a clear
Conflict, and nothing is recorded twice. Real threads, each with its own connection, on both
databases: on PostgreSQL the engine's row locks make them wait for each other; on SQLite (a database
file, as `make run` serves, see tests/conftest.py) each transaction takes the file's write lock as it
begins ("transaction_mode": "IMMEDIATE"), so they run one after the other. A lock held longer than
the database waits is a Conflict too, never a 500.
"""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from procedures import engine, permissions
from procedures.engine import Conflict
from procedures.models import Event, Run, Task, TaskCheck
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    Cast,
    all_items,
    build_cast,
    drive,
    english,
    open_task,
    work,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
KASI = "Kasi Bina Potensi Masyarakat"


@pytest.fixture
def cast(settings, english) -> Cast:
    """The seeds and demo users, committed: the threads have connections of their own."""
    assert not (connection.vendor == "sqlite" and connection.is_in_memory_db()), "threads need a database file"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_cast()


def kasis(cast: Cast, task: Task) -> list:
    """The demo Kasi and seven more holders of the position: eight people who may do the task."""
    others = [UserFactory(first_name=f"Kasi {number}", last_name="Cadangan") for number in range(2, THREADS + 1)]
    task.position.holders.add(*others)
    return [cast.user(KASI), *others]


def race(action, users) -> dict[str, object]:
    """Call ``action(user)`` in one thread per user, all let go at once; the result or error of each."""
    barrier = threading.Barrier(len(users))
    outcomes: dict[str, object] = {}

    def attempt(user) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[user.username] = action(user)
        except Exception as error:  # noqa: BLE001 (the outcome is what the test checks)
            outcomes[user.username] = error
        finally:
            connection.close()  # each thread has its own connection; do not leak it

    threads = [threading.Thread(target=attempt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (a lock never released?)"
    assert len(outcomes) == len(users)
    return outcomes


def winner_and_losers(outcomes: dict[str, object], users) -> tuple[object, list[object]]:
    won = [name for name, outcome in outcomes.items() if isinstance(outcome, Task)]
    assert len(won) == 1, outcomes
    lost = [outcome for outcome in outcomes.values() if not isinstance(outcome, Task)]
    assert all(isinstance(outcome, Conflict) for outcome in lost), lost
    return next(user for user in users if user.username == won[0]), lost


def test_eight_holders_completing_one_task_at_once_complete_it_once(cast):
    run = cast.start("000")
    task = open_task(run)
    users = kasis(cast, task)
    items = all_items(task)

    outcomes = race(lambda user: engine.task_complete(
        task=Task.objects.get(pk=task.pk), user=user, ticked=items, output_text="Konsep jadwal pembinaan",
    ), users)

    winner, losers = winner_and_losers(outcomes, users)
    assert len(losers) == THREADS - 1
    for conflict in losers:
        assert f"already completed by {permissions.display_name(winner)}" in conflict.message
    task.refresh_from_db()
    assert (task.status, task.completed_by, task.assignee) == (Task.Status.DONE, winner, winner)
    assert Event.objects.filter(task=task, transition="claim").count() == 1
    assert Event.objects.filter(task=task, transition="complete").count() == 1
    assert TaskCheck.objects.filter(task=task).count() == len(items)
    following = Task.objects.filter(run=run).exclude(pk=task.pk)
    assert [(other.step.nomor, other.status) for other in following] == [(2, Task.Status.WAITING)]
    assert Event.objects.filter(run=run, transition="reach").count() == 2


def test_eight_holders_claiming_one_task_at_once_claim_it_once(cast):
    run = cast.start("000")
    task = open_task(run)
    users = kasis(cast, task)

    outcomes = race(lambda user: engine.task_claim(task=Task.objects.get(pk=task.pk), user=user), users)

    winner, losers = winner_and_losers(outcomes, users)
    for conflict in losers:
        assert f"already claimed by {permissions.display_name(winner)}" in conflict.message
    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.IN_PROGRESS, winner)
    assert Event.objects.filter(task=task, transition="claim").count() == 1


def test_a_decision_answered_twice_at_once_opens_one_next_task(cast):
    run = cast.start("004")
    drive(run, cast, stop_at=7)
    task = open_task(run)
    kasat = cast.user("Kasat Pol PP")
    second = UserFactory(first_name="Kasat", last_name="Kedua")
    task.position.holders.add(second)
    items = all_items(task)

    outcomes = race(lambda user: engine.task_decide(
        task=Task.objects.get(pk=task.pk), user=user, decision="ya", ticked=items), [kasat, second])

    winner_and_losers(outcomes, [kasat, second])
    assert Event.objects.filter(task=task, transition__startswith="decide").count() == 1
    assert Task.objects.filter(run=run, step__nomor=8).count() == 1


def test_a_send_back_and_a_completion_at_once_leave_one_next_task(cast):
    run = cast.start("000")
    drive(run, cast, stop_at=2)
    task = open_task(run)
    kasi, other = kasis(cast, task)[:2]
    items = all_items(task)

    def act(user):
        fresh = Task.objects.get(pk=task.pk)
        if user == kasi:
            return engine.task_complete(task=fresh, user=user, ticked=items, output_text="Data survei")
        return engine.task_return(task=fresh, user=user, reason="Data survei belum lengkap")

    winner_and_losers(race(act, [kasi, other]), [kasi, other])
    assert Event.objects.filter(task=task, transition__in=("complete", "return")).count() == 1
    assert Task.objects.filter(run=run, status__in=Task.OPEN).count() == 1


def test_a_cancel_and_a_completion_at_once_leave_no_open_task_behind(cast):
    run = cast.start("000")
    task = open_task(run)
    kasi, kabid = cast.user(KASI), cast.user("Kabid Linmas")

    def act(user):
        if user == kabid:
            return engine.run_cancel(run=run, user=kabid, reason="Anggaran dialihkan")
        return work(Task.objects.get(pk=task.pk), kasi)

    outcomes = race(act, [kasi, kabid])

    assert not isinstance(outcomes[kabid.username], Exception), outcomes  # a cancel always goes through
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED
    assert not Task.objects.filter(run=run, status__in=Task.OPEN).exists()
    completed = outcomes[kasi.username]
    if isinstance(completed, Exception):  # the cancel came first
        assert isinstance(completed, Conflict) and "cancelled" in completed.message
        assert list(run.tasks.values_list("status", flat=True)) == [Task.Status.CANCELLED]
    else:  # the completion came first; the task it opened was cancelled with the run
        assert list(run.tasks.values_list("step__nomor", "status")) == [
            (1, Task.Status.DONE), (2, Task.Status.CANCELLED)]


def short_lock_wait(milliseconds: int) -> None:
    """Make this connection give up waiting for a lock after ``milliseconds`` (0: as configured again)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET lock_timeout = %s", [milliseconds])  # 0: wait as long as it takes
        else:
            configured = connection.settings_dict["OPTIONS"]["timeout"] * 1000
            cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds or configured)}")


def test_a_lock_held_longer_than_the_database_waits_is_a_conflict_not_an_error(cast):
    run = cast.start("000")
    task = open_task(run)
    kasi = cast.user(KASI)
    holding, may_let_go = threading.Event(), threading.Event()

    def hold_the_run() -> None:
        # As a long request would: the run's row on PostgreSQL, the database file's write lock on SQLite.
        try:
            with transaction.atomic():
                Run.objects.select_for_update().get(pk=run.pk)
                holding.set()
                may_let_go.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_the_run)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        short_lock_wait(200)
        with pytest.raises(Conflict) as caught:
            work(Task.objects.get(pk=task.pk), kasi)
    finally:
        may_let_go.set()
        thread.join(timeout=10)
        short_lock_wait(0)

    assert "at this moment" in caught.value.message
    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.WAITING, None)
    assert not Event.objects.filter(task=task).exclude(transition="reach").exists()
    # Once the lock is let go, the same completion goes through.
    work(Task.objects.get(pk=task.pk), kasi)


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite locks the whole database file, not rows")
def test_working_on_one_run_does_not_hold_up_another_run_of_the_office(cast, monkeypatch):
    first, second = cast.start("000", perihal="Pembinaan A"), cast.start("000", perihal="Pembinaan B")
    first_task, second_task = open_task(first), open_task(second)
    kasi = cast.user(KASI)
    inside, may_go_on = threading.Event(), threading.Event()
    advance = engine._advance

    def advance_slowly(**kwargs):
        inside.set()  # the first run's rows are locked now, until this transaction ends
        may_go_on.wait(timeout=10)
        return advance(**kwargs)

    monkeypatch.setattr(engine, "_advance", advance_slowly)

    def complete_first() -> None:
        try:
            work(first_task, kasi)
        finally:
            connection.close()

    thread = threading.Thread(target=complete_first)
    thread.start()
    try:
        assert inside.wait(timeout=10)
        short_lock_wait(1000)
        engine.task_claim(task=second_task, user=kasi)
    finally:
        may_go_on.set()
        thread.join(timeout=10)
        short_lock_wait(0)

    second_task.refresh_from_db()
    assert second_task.status == Task.Status.IN_PROGRESS
