"""Who may act in a run (procedures.permissions, through the engine): holders of the step's
position in its office, acting officials (Plt/Plh) while their range lasts, nobody on their own
work; and who may name a Plt/Plh (engine.acting_appoint).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from procedures import engine, permissions
from procedures.engine import InvalidInput, NotAllowed
from procedures.models import ActingAssignment, Event, Position, Run, Task
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    DISKOMINFO,
    KODE,
    SATBINMAS,
    SATPOL,
    _module_cast,
    cast,
    drive,
    english,
    open_task,
    refused,
    snapshot,
    work,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KABID = "Kabid Linmas"
KASAT = "Kasat Pol PP"


def position(name: str, office: str = SATPOL) -> Position:
    return Position.objects.select_related("office").get(name=name, office__name=office)


def appoint(holder_of: Position, user, *, appointed_by, kind="plh", starts_on=None, ends_on=None):
    """Name ``user`` Plh (or Plt) of a position, by default from yesterday to tomorrow."""
    today = timezone.localdate(timezone=holder_of.office.zoneinfo)
    return engine.acting_appoint(
        position=holder_of, user=user, kind=kind, appointed_by=appointed_by,
        starts_on=starts_on or today - dt.timedelta(days=1), ends_on=ends_on or today + dt.timedelta(days=1),
    )


# ---------------------------------------------------------------------------------------------
# Holders only, of the office's own position
# ---------------------------------------------------------------------------------------------


def outsiders(cast, run: Run) -> dict[int, tuple[list, object]]:
    """For each position of the run's SOP: demo users of its other positions, and the closest
    demo user of another office (the same title, else the same rank)."""
    mine = list(Position.objects.filter(columns__revision=run.revision).select_related("office")
                .order_by("level", "name"))
    elsewhere = list(Position.objects.exclude(office=run.office).filter(columns__isnull=False)
                     .select_related("office").distinct())
    found = {}
    for position in mine:
        closest = min(elsewhere, key=lambda other: (
            other.name.casefold() != position.name.casefold(), abs(other.level - position.level),
            other.office.name, other.name))
        found[position.pk] = ([cast.holder(other) for other in mine if other != position], cast.holder(closest))
    return found


@pytest.mark.parametrize("number", sorted(KODE))
def test_every_step_refuses_a_user_of_another_position_and_of_another_office(cast, number):
    revision = cast.revision(number)
    # Independent activities (002): one run per activity, every activity checked.
    runs = [cast.start(number, step=step) for step in revision.steps.all()] if revision.kegiatan_terpisah \
        else [cast.start(number)]
    cast_outside = outsiders(cast, runs[0])
    checked = []

    def outsiders_are_refused(task: Task) -> None:
        other_positions, other_office = cast_outside[task.position_id]
        other_position = other_positions[task.step.nomor % len(other_positions)]  # a different one each step
        attempts = (lambda user: engine.task_claim(task=task, user=user), lambda user: work(task, user))
        before = snapshot()
        for outsider in (other_position, other_office):
            for attempt in attempts:
                with pytest.raises(NotAllowed) as refusal:
                    attempt(outsider)
                assert task.position.name in refusal.value.message
                assert task.position.office.name in refusal.value.message
        assert snapshot() == before
        checked.append(task.step.nomor)

    for run in runs:
        drive(run, cast, before=outsiders_are_refused)  # Ya at every decision: every step is reached
        run.refresh_from_db()
        assert run.status == Run.Status.FINISHED
    assert checked == list(revision.steps.values_list("nomor", flat=True))


def test_a_holder_whose_account_is_deactivated_is_refused(cast):
    run = cast.start("000")
    task = open_task(run)
    kasi = cast.holder(task.position)
    kasi.is_active = False
    kasi.save(update_fields=["is_active"])

    error = refused(NotAllowed, lambda: engine.task_claim(task=task, user=kasi))

    assert "nobody yet" in error.message  # the only holder cannot act, so nobody may


def test_the_refusal_says_who_may_act(cast):
    run = cast.start("003")
    task = open_task(run)

    error = refused(NotAllowed, lambda: engine.task_claim(task=task, user=cast.user("Kasi", DISKOMINFO)))

    assert error.message.endswith("who may: Kadis (demo)")


# ---------------------------------------------------------------------------------------------
# No self-approval
# ---------------------------------------------------------------------------------------------


def test_nobody_may_approve_their_own_telaahan_not_even_as_acting_kasat(cast):
    kabid, kasat = cast.user(KABID), cast.user(KASAT)
    appoint(position(KASAT), kabid, appointed_by=kasat)
    run = cast.start("000")
    drive(run, cast, stop_at=15)
    work(open_task(run), kabid)  # step 15: the Kabid's telaahan for the Kasat
    step_16 = open_task(run)
    assert step_16.step.nomor == 16

    error = refused(NotAllowed, lambda: engine.task_claim(task=step_16, user=kabid))

    assert "step 15 yourself" in error.message
    assert "Kasat Pol PP (demo)" in error.message and "Kabid Linmas (demo)" not in error.message
    refused(NotAllowed, lambda: work(step_16, kabid))
    refused(InvalidInput, lambda: engine.task_reassign(task=step_16, user=cast.admin, to_user=kabid))
    work(step_16, kasat)
    assert open_task(run).step.nomor == 17


def test_a_decision_cannot_be_taken_by_whoever_did_the_step_it_judges(cast):
    kasi = cast.user("Kasi", DISKOMINFO)
    position("Kabid", DISKOMINFO).holders.add(kasi)  # also Kabid, e.g. while the post is empty
    run = cast.start("003")
    drive(run, cast, stop_at=3)
    work(open_task(run), kasi)  # step 3: the Kasi's draft SK
    step_4 = open_task(run)

    error = refused(NotAllowed, lambda: engine.task_decide(task=step_4, user=kasi, decision="tidak",
                                                           reason="Perbaiki sendiri"))

    assert "step 3 yourself" in error.message and "Kabid (demo)" in error.message
    engine.task_decide(task=step_4, user=cast.user("Kabid", DISKOMINFO), decision="tidak", reason="Perbaiki")
    # Back at step 3 the Kasi simply continues: nobody judges their own step there.
    assert open_task(run).step.nomor == 3
    work(open_task(run), kasi)


# ---------------------------------------------------------------------------------------------
# Acting officials (Plt/Plh)
# ---------------------------------------------------------------------------------------------


def test_an_acting_official_may_do_what_the_position_may_and_the_record_says_so(cast):
    kabid, kasat = cast.user(KABID), cast.user(KASAT)
    plh = appoint(position(KASAT), kabid, appointed_by=kasat)
    run = cast.start("000")
    drive(run, cast, stop_at=9)

    for nomor in (9, 10):  # the Kasat's two steps, done by the Kabid as Plh Kasat
        task = open_task(run)
        assert task.step.nomor == nomor
        work(task, kabid)
        task.refresh_from_db()
        assert (task.status, task.completed_by, task.acting) == (Task.Status.DONE, kabid, plh)
        for event in task.events.filter(transition__in=["claim", "complete"]):
            assert (event.actor, event.acting) == (kabid, plh)
            assert event.acting_title == "Plh. Kasat Pol PP"

    assert open_task(run).step.nomor == 11
    # Where the Kabid works as himself, nothing says acting.
    work(open_task(run), kabid)
    assert run.events.filter(task__step__nomor=11, acting__isnull=False).count() == 0


def test_an_acting_official_completes_for_a_position_of_many_holders_with_the_longest_name(cast):
    """The record reads "Plh. <position>" beside the official's own name, never "atas nama" every
    holder: thirty holders of long names and a position name of 255 characters still fit."""
    run = cast.start("000")
    drive(run, cast, stop_at=9)
    kasat = position(KASAT)
    kasat.holders.add(*[UserFactory(first_name="Pemegang " + "Jabatan " * 17, last_name=f"Nomor {n}")
                        for n in range(30)])
    kasat.name = "Kepala Satuan Polisi Pamong Praja ".ljust(255, "X")
    kasat.save(update_fields=["name"])
    kabid = cast.user(KABID)
    plh = appoint(kasat, kabid, appointed_by=cast.admin)

    task = open_task(run)
    work(task, kabid)

    task.refresh_from_db()
    assert (task.status, task.completed_by, task.acting) == (Task.Status.DONE, kabid, plh)
    title = f"Plh. {'Kepala Satuan Polisi Pamong Praja '.ljust(255, 'X')}"
    assert len(title) <= Event._meta.get_field("acting_title").max_length
    assert [event.acting_title for event in task.events.filter(transition__in=["claim", "complete"])] == [title] * 2


def test_an_acting_official_is_refused_after_the_range_by_the_offices_local_date(cast):
    wita = ZoneInfo("Asia/Makassar")
    banit, kanit = cast.user("Banit"), cast.user("Kanit Binpolmas")
    kanit_binpolmas = position("Kanit Binpolmas", SATBINMAS)
    plh = appoint(kanit_binpolmas, banit, appointed_by=cast.user("Kasat Binmas"),
                  starts_on=dt.date(2025, 2, 4), ends_on=dt.date(2025, 2, 4))

    with time_machine.travel(dt.datetime(2025, 2, 4, 23, 30, tzinfo=wita), tick=False):
        run = cast.start("002", user=banit)  # activity A is the Kanit Binpolmas's
        assert run.events.get(transition="start").acting_title == plh.title()
        work(open_task(run), banit)
        assert run.tasks.get(step__nomor=1).acting == plh
        # Activity C, the Kanit Binpolmas's too: started while the Plh still runs, taken after it.
        run = cast.start("002", user=banit, perihal="Kegiatan C", step=run.revision.steps.get(nomor=3))

    # 00.30 WITA on 5 February: still the 4th in Jakarta (the server's zone), not in Gorontalo.
    with time_machine.travel(dt.datetime(2025, 2, 5, 0, 30, tzinfo=wita), tick=False):
        assert timezone.localdate() == dt.date(2025, 2, 4)
        step_3 = open_task(run)

        error = refused(NotAllowed, lambda: engine.task_claim(task=step_3, user=banit))

        assert "who may: Kanit Binpolmas (demo)" in error.message
        assert kanit.get_full_name() == "Kanit Binpolmas (demo)"
        work(step_3, kanit)


def test_an_acting_official_is_refused_before_the_range_starts(cast):
    today = timezone.localdate()
    sekretaris = cast.user("Sekretaris")
    appoint(position(KASAT), sekretaris, appointed_by=cast.user(KASAT),
            starts_on=today + dt.timedelta(days=1), ends_on=today + dt.timedelta(days=3))

    refused(NotAllowed, lambda: cast.start("004", user=sekretaris))


def test_an_acting_head_may_reassign_release_and_cancel(cast):
    run = cast.start("000")
    task = open_task(run)
    deputy = UserFactory(first_name="Budi", last_name="Santoso", office=position(KASAT).office)  # holds no position
    refused(NotAllowed, lambda: engine.task_reassign(task=task, user=deputy, to_user=cast.user("Kasi Bina Potensi Masyarakat")))

    appoint(position(KABID), deputy, kind="plt", appointed_by=cast.user(KASAT))

    engine.task_reassign(task=task, user=deputy, to_user=cast.user("Kasi Bina Potensi Masyarakat"))
    engine.task_release(task=task, user=deputy)
    engine.run_cancel(run=run, user=deputy, reason="Dialihkan ke tahun depan")
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED


@pytest.mark.parametrize("action", ["start", "reassign", "release", "cancel"])
def test_every_action_taken_as_acting_official_is_recorded_as_such(cast, action):
    deputy = UserFactory(first_name="Budi", last_name="Santoso", office=position(KASAT).office)  # holds no position
    plh = appoint(position(KASAT), deputy, appointed_by=cast.user(KASAT))
    if action == "start":
        run = cast.start("004", user=deputy)  # 004 starts with the Kasat
    else:
        run = cast.start("000")  # the Kasat is a head of its first step's Kasi
        task = open_task(run)
        kasi = cast.user("Kasi Bina Potensi Masyarakat")
        if action == "reassign":
            engine.task_reassign(task=task, user=deputy, to_user=kasi)
        elif action == "release":
            engine.task_claim(task=task, user=kasi)
            engine.task_release(task=task, user=deputy)
        else:
            engine.run_cancel(run=run, user=deputy, reason="Dialihkan ke tahun depan")

    event = run.events.filter(actor=deputy).earliest("pk")

    assert event.acting == plh and KASAT in event.acting_title


# ---------------------------------------------------------------------------------------------
# Naming a Plt/Plh
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("appointer", ["the holder", "a head above it", "an admin"])
def test_the_holder_a_head_above_or_an_admin_may_name_a_plh(cast, appointer):
    kasi = position("Kasi Bina Potensi Masyarakat")
    by = {"the holder": lambda: cast.holder(kasi), "a head above it": lambda: cast.user(KABID),
          "an admin": lambda: cast.admin}[appointer]()
    deputy = UserFactory(office=kasi.office)

    plh = appoint(kasi, deputy, appointed_by=by)

    assert (plh.position, plh.user, plh.appointed_by, plh.kind) == (kasi, deputy, by, ActingAssignment.Kind.PLH)
    assert plh.title() == "Plh. Kasi Bina Potensi Masyarakat"


@pytest.mark.parametrize("appointer", [
    "Kasie Operasional dan Pengendalian",  # same rank, same office
    "Petugas Operasional",  # below it
    "Kepala",  # a head, of another office
])
def test_others_may_not_name_a_plh(cast, appointer):
    kasi = position("Kasi Bina Potensi Masyarakat")
    deputy = UserFactory(office=kasi.office)

    error = refused(NotAllowed, lambda: appoint(kasi, deputy, appointed_by=cast.user(appointer)))

    assert "Kasi Bina Potensi Masyarakat" in error.message


def test_a_plh_needs_its_dates_in_order_and_a_known_kind(cast):
    kasat = position(KASAT)
    today = timezone.localdate()
    by = cast.user(KASAT)

    deputy = UserFactory(office=kasat.office)

    reversed_dates = refused(InvalidInput, lambda: appoint(
        kasat, deputy, appointed_by=by, starts_on=today, ends_on=today - dt.timedelta(days=1)))
    unknown_kind = refused(InvalidInput, lambda: appoint(kasat, deputy, appointed_by=by, kind="pj"))

    assert (reversed_dates.field, unknown_kind.field) == ("ends_on", "kind")


# --- a standing read once per engine service ----------------------------------------------------


def test_a_standing_is_remembered_only_inside_one_service(cast, django_assert_num_queries):
    kabid = position(KABID)
    newcomer = UserFactory()

    assert permissions.standing(newcomer, kabid) == (False, None)
    kabid.holders.add(newcomer)
    # Outside a service nothing is remembered: the new holder is seen at once.
    assert permissions.standing(newcomer, kabid) == (True, None)

    with permissions.standing_remembered():
        with django_assert_num_queries(1):
            assert permissions.standing(newcomer, kabid) == (True, None)
            assert permissions.standing(newcomer, kabid) == (True, None)
        # What the caller read in its own query (the engine's locking SELECT) is taken as read.
        other = UserFactory()
        permissions.remember_holder(other, kabid, holds_it=False)
        with django_assert_num_queries(1):  # only the Plt/Plh appointment is looked up
            assert permissions.standing(other, kabid) == (False, None)
    kabid.holders.remove(newcomer)
    assert permissions.standing(newcomer, kabid) == (False, None)


def test_a_holder_removed_between_two_completions_is_refused_at_the_second(cast):
    run = cast.start("004")
    drive(run, cast, stop_at=3)
    task = open_task(run)
    kasie = cast.holder(task.position)
    engine.task_complete(task=task, user=kasie, ticked=list(task.step.kelengkapan.values_list("pk", flat=True)),
                         output_text="Jadwal")
    drive(run, cast, stop_at=5)
    task = open_task(run)
    assert task.position_id == position("Kasie Operasional dan Pengendalian").pk
    task.position.holders.remove(kasie)

    refused(NotAllowed, lambda: engine.task_claim(task=task, user=kasie))
