"""Deactivating a user (engine.user_deactivate): the tasks they claimed go back to their positions
with an event saying why, and open tasks are never left to nobody without the admin knowing.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from procedures import engine, permissions
from procedures.engine import InvalidInput, NotAllowed
from procedures.models import ActingAssignment, Event, Position, Task
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    SATPOL,
    _module_cast,
    cast,
    english,
    open_task,
    refused,
    work,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KASI = "Kasi Bina Potensi Masyarakat"


def kasi_position() -> Position:
    return Position.objects.select_related("office").get(name=KASI, office__name=SATPOL)


def test_a_deactivated_holders_claimed_task_goes_back_to_waiting_and_says_why(cast):
    kasi, admin = cast.user(KASI), cast.admin
    colleague = UserFactory(first_name="Rina", last_name="Kedua")
    kasi_position().holders.add(colleague)
    run = cast.start("000")
    task = engine.task_claim(task=open_task(run), user=kasi)

    released = engine.user_deactivate(user=kasi, by=admin, reason="Pensiun")

    assert released == [task]
    task.refresh_from_db()
    kasi.refresh_from_db()
    assert (task.status, task.assignee, task.acting, task.claimed_at) == (Task.Status.WAITING, None, None, None)
    assert not kasi.is_active
    event = Event.objects.filter(task=task).latest("pk")
    assert (event.transition, event.actor, event.source, event.target) == (
        "release", admin, Task.Status.IN_PROGRESS, Task.Status.WAITING)
    assert event.reason == f"{kasi.get_full_name()} was deactivated; the task goes back to the holders of {KASI}: Pensiun"
    # The colleague takes it over; the deactivated holder may do nothing more.
    assert permissions.act_refusal(task, kasi) is not None
    work(Task.objects.get(pk=task.pk), colleague)


def test_only_claimed_tasks_of_running_runs_are_released(cast):
    kasi, admin = cast.user(KASI), cast.admin
    kasi_position().holders.add(UserFactory())
    claimed, waiting, done = cast.start("000"), cast.start("000"), cast.start("000")
    engine.task_claim(task=open_task(claimed), user=kasi)
    work(open_task(done), kasi)  # its next step (the Kasi's again) waits

    released = engine.user_deactivate(user=kasi, by=admin)

    assert [task.run_id for task in released] == [claimed.pk]
    assert Event.objects.filter(transition="release").count() == 1
    assert open_task(waiting).status == Task.Status.WAITING


def test_the_only_one_who_may_act_is_deactivated_only_once_the_admin_knows(cast):
    kasi, admin = cast.user(KASI), cast.admin
    run = cast.start("000")
    engine.task_claim(task=open_task(run), user=kasi)
    cast.start("000")  # a second open task of the position

    error = refused(InvalidInput, lambda: engine.user_deactivate(user=kasi, by=admin))

    assert error.field == "leave_to_nobody"
    assert error.message == (f"{kasi.get_full_name()} is the only one who may act for {KASI} (2 open task(s)): after "
                             "deactivating, these tasks wait until the position has another holder or a Plt/Plh")
    engine.user_deactivate(user=kasi, by=admin, leave_to_nobody=True)
    assert open_task(run).status == Task.Status.WAITING


def test_a_plh_of_today_or_another_active_holder_is_someone_else(cast):
    kasi, admin = cast.user(KASI), cast.admin
    cast.start("000")
    position = kasi_position()
    assert permissions.left_to_nobody_warning(kasi) is not None

    position.holders.add(UserFactory(is_active=False))  # an inactive holder is nobody
    assert permissions.left_to_nobody_warning(kasi) is not None

    today = timezone.localdate()
    ActingAssignment.objects.create(position=position, user=UserFactory(), kind="plh", appointed_by=admin,
                                    starts_on=today - dt.timedelta(days=1), ends_on=today + dt.timedelta(days=1))
    assert permissions.left_to_nobody_warning(kasi) is None
    engine.user_deactivate(user=kasi, by=admin)


def test_positions_without_open_tasks_need_nobody(cast):
    assert permissions.positions_left_to_nobody(cast.user(KASI)) == []


@pytest.mark.parametrize("who, message", [
    ("a staff user without the permission", "only an admin who may change users"),
    ("themselves", "you cannot deactivate yourself"),
    ("anyone, once inactive", "is already inactive"),
])
def test_who_may_deactivate_whom(cast, who, message):
    kasi = cast.user(KASI)
    by = cast.admin
    if who == "a staff user without the permission":
        by = UserFactory(is_staff=True)
    elif who == "themselves":
        kasi = by
    else:
        kasi.is_active = False
        kasi.save()

    error = refused(NotAllowed, lambda: engine.user_deactivate(user=kasi, by=by, leave_to_nobody=True))

    assert message in error.message


def test_a_staff_user_with_the_change_user_permission_may_deactivate(cast):
    by = UserFactory(is_staff=True)
    by.user_permissions.add(Permission.objects.get(codename="change_user"))
    kasi = cast.user(KASI)

    engine.user_deactivate(user=kasi, by=by)

    kasi.refresh_from_db()
    assert not kasi.is_active
