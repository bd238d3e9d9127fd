"""engine.task_return: sending work back to the step before, where the sheet draws no way back."""

import pytest

from procedures import engine
from procedures.engine import Conflict, InvalidInput, NotAllowed
from procedures.models import Event, Position, Run, Task
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    _module_cast,
    all_items,
    cast,
    drive,
    english,
    open_task,
    refused,
    work,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KASI = "Kasi Bina Potensi Masyarakat"
KABID = "Kabid Linmas"


@pytest.fixture
def at_step_5(cast):
    """A run of SOP 000 at step 5: the Kabid studies the Kasi's telaahan of step 4."""
    run = cast.start("000")
    drive(run, cast, stop_at=5)
    task = open_task(run)
    assert (task.step.nomor, task.position.name) == (5, KABID)
    return task


def test_the_step_before_reopens_for_whoever_did_it_with_the_reason(cast, at_step_5):
    kabid, kasi = cast.user(KABID), cast.user(KASI)

    engine.task_return(task=at_step_5, user=kabid, reason="  Lampiran data potensi belum ada ")

    at_step_5.refresh_from_db()
    assert (at_step_5.status, at_step_5.completed_by, at_step_5.reason) == (
        Task.Status.SENT_BACK, kabid, "Lampiran data potensi belum ada")
    reopened = open_task(at_step_5.run)
    assert (reopened.step.nomor, reopened.status, reopened.assignee, reopened.visit) == (
        4, Task.Status.IN_PROGRESS, kasi, 2)
    assert (reopened.previous_id, reopened.return_reason) == (at_step_5.pk, "Lampiran data potensi belum ada")
    returned = at_step_5.events.get(transition="return")
    assert (returned.actor, returned.source, returned.target, returned.reason, returned.off_sheet) == (
        kabid, Task.Status.WAITING, Task.Status.SENT_BACK, "Lampiran data potensi belum ada", True)
    assert list(reopened.events.order_by("pk").values_list("transition", "target", "actor")) == [
        ("reach", Task.Status.WAITING, kabid.pk), ("reassign", Task.Status.IN_PROGRESS, kabid.pk)]


def test_the_run_goes_on_from_the_reopened_step(cast, at_step_5):
    engine.task_return(task=at_step_5, user=cast.user(KABID), reason="Perbaiki")
    reopened = open_task(at_step_5.run)

    work(reopened, cast.user(KASI))

    again = open_task(at_step_5.run)
    assert (again.step.nomor, again.visit, again.status) == (5, 2, Task.Status.WAITING)
    assert drive(at_step_5.run, cast)[-1][0] == 17
    at_step_5.run.refresh_from_db()
    assert at_step_5.run.status == Run.Status.FINISHED


def test_the_earlier_step_waits_for_its_position_when_its_worker_no_longer_holds_it(cast, at_step_5):
    kasi = cast.user(KASI)
    position = Position.objects.get(name=KASI)
    other = UserFactory(first_name="Sari")
    position.holders.add(other)
    position.holders.remove(kasi)

    engine.task_return(task=at_step_5, user=cast.user(KABID), reason="Perbaiki")

    reopened = open_task(at_step_5.run)
    assert (reopened.step.nomor, reopened.status, reopened.assignee) == (4, Task.Status.WAITING, None)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(cast, at_step_5, reason):
    error = refused(InvalidInput, lambda: engine.task_return(task=at_step_5, user=cast.user(KABID), reason=reason))

    assert error.field == "reason"


def test_the_first_step_has_nothing_to_go_back_to(cast):
    run = cast.start("000")

    error = refused(InvalidInput, lambda: engine.task_return(task=open_task(run), user=cast.user(KASI),
                                                             reason="Salah"))

    assert "first step" in error.message


def test_someone_who_may_not_act_for_the_position_may_not_send_it_back(cast, at_step_5):
    error = refused(NotAllowed, lambda: engine.task_return(task=at_step_5, user=cast.user(KASI), reason="Salah"))

    assert KABID in error.message


def test_nobody_sends_back_a_step_that_judges_their_own_work(cast, at_step_5):
    kasi = cast.user(KASI)
    Position.objects.get(name=KABID).holders.add(kasi)  # the Kasi also holds the Kabid's position

    error = refused(NotAllowed, lambda: engine.task_return(task=at_step_5, user=kasi, reason="Salah"))

    assert "nobody may approve their own work" in error.message


def test_a_task_claimed_by_another_holder_is_theirs_to_send_back(cast, at_step_5):
    kabid = cast.user(KABID)
    other = UserFactory(first_name="Rina", last_name="Kedua")
    Position.objects.get(name=KABID).holders.add(other)
    engine.task_claim(task=at_step_5, user=other)

    error = refused(Conflict, lambda: engine.task_return(task=at_step_5, user=kabid, reason="Salah"))

    assert "Rina Kedua" in error.message


def test_a_claimed_task_is_sent_back_by_its_claimer(cast, at_step_5):
    kabid = cast.user(KABID)
    engine.task_claim(task=at_step_5, user=kabid)

    engine.task_return(task=at_step_5, user=kabid, reason="Perbaiki")

    assert at_step_5.events.get(transition="return").source == Task.Status.IN_PROGRESS


def test_a_finished_task_or_run_cannot_be_sent_back(cast, at_step_5):
    kabid = cast.user(KABID)
    engine.task_return(task=at_step_5, user=kabid, reason="Perbaiki")

    error = refused(Conflict, lambda: engine.task_return(task=at_step_5, user=kabid, reason="Lagi"))
    assert "already completed by" in error.message

    reopened = open_task(at_step_5.run)
    engine.run_cancel(run=at_step_5.run, user=cast.admin, reason="Ditunda")
    refused(Conflict, lambda: engine.task_return(task=reopened, user=cast.user(KASI), reason="Lagi"))


def test_a_decision_step_can_be_sent_back_too(cast):
    run = cast.start("004")
    drive(run, cast, stop_at=7)
    decision = open_task(run)
    kasat = cast.user("Kasat Pol PP")

    engine.task_return(task=decision, user=kasat, reason="Laporan patroli tidak memuat lokasi")

    reopened = open_task(run)
    assert (reopened.step.nomor, reopened.position.name) == (6, "Kabid Ketertiban dan Ketentraman Masyarakat")
    assert reopened.status == Task.Status.IN_PROGRESS
    assert Event.objects.filter(run=run, transition="return").count() == 1


def test_a_plh_sends_back_with_the_acting_title_recorded(cast, at_step_5):
    import datetime as dt

    from django.utils import timezone

    from procedures.models import ActingAssignment

    position = Position.objects.select_related("office").get(name=KABID)
    plh = UserFactory(first_name="Dedi", office=position.office)
    today = timezone.localdate()
    ActingAssignment.objects.create(position=position, user=plh, kind="plh", starts_on=today - dt.timedelta(days=1),
                                    ends_on=today + dt.timedelta(days=1), appointed_by=cast.admin)

    engine.task_return(task=at_step_5, user=plh, reason="Perbaiki")

    assert at_step_5.events.get(transition="return").acting_title == f"Plh. {KABID}"


def test_a_reopened_step_goes_back_to_the_step_before_it_not_forward_to_who_returned_it(cast, at_step_5):
    engine.task_return(task=at_step_5, user=cast.user(KABID), reason="Perbaiki")
    reopened = open_task(at_step_5.run)  # step 4 again, its previous is the returned step 5

    engine.task_return(task=reopened, user=cast.user(KASI), reason="Data survei perlu diulang")

    again = open_task(at_step_5.run)
    assert (again.step.nomor, again.visit, again.return_reason) == (3, 2, "Data survei perlu diulang")


def test_after_a_tidak_the_reopened_step_goes_back_past_the_decision(cast):
    run = cast.start("003")
    drive(run, cast, stop_at=4)
    work(open_task(run), cast.user("Kabid", "Dinas Komunikasi dan Informatika"), ("tidak", "Perbaiki konsep"))
    reopened = open_task(run)
    assert reopened.step.nomor == 3

    engine.task_return(task=reopened, user=cast.holder(reopened.position), reason="Arahan kurang jelas")

    assert open_task(run).step.nomor == 2
