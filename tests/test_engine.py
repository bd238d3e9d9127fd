"""The workflow engine (procedures.engine): the seed SOPs run end to end, and each service's rules.

Who may act (positions, offices, acting officials, heads, self-approval) is in test_permissions;
races between two people are in test_engine_concurrency.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import ProtectedError

from procedures import engine
from procedures.engine import Conflict, InvalidInput, NotAllowed
from procedures.models import Event, Run, Task, TaskCheck, TaskFile
from procedures.working_calendar import calendar_for_office
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    DISKOMINFO,
    KESBANGPOL,
    SATPOL,
    _module_cast,
    all_items,
    cast,
    drive,
    english,
    open_task,
    refused,
    snapshot,
    transitions,
    work,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KASI = "Kasi Bina Potensi Masyarakat"
KABID = "Kabid Linmas"
KASAT = "Kasat Pol PP"


def second_holder(position, first_name="Rina"):
    """Another holder of a position besides its demo user."""
    user = UserFactory(first_name=first_name, last_name="Kedua")
    position.holders.add(user)
    return user


def pdf(name="nota.pdf", size=64) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + b"x" * (size - 9), content_type="application/pdf")


# ---------------------------------------------------------------------------------------------
# The five seed SOPs, end to end
# ---------------------------------------------------------------------------------------------


def test_000_runs_all_17_steps_in_order_with_the_right_person_at_each(cast):
    run = cast.start("000")

    trail = drive(run, cast)

    kasi, kabid, sekretaris, kasat = "kasi-bina-potensi-masyarakat", "kabid-linmas", "sekretaris", "kasat-pol-pp"
    assert trail == [
        (1, kasi), (2, kasi), (3, kasi), (4, kasi), (5, kabid), (6, sekretaris), (7, kasi), (8, kasi),
        (9, kasat), (10, kasat), (11, kabid), (12, kabid), (13, kabid), (14, kasi), (15, kabid),
        (16, kasat), (17, kasi),
    ]
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED and run.ended_at is not None
    assert set(run.tasks.values_list("status", flat=True)) == {Task.Status.DONE}
    assert transitions(run) == {"start": 1, "reach": 17, "claim": 17, "complete": 17, "finish": 1}


def test_004_a_patrol_without_violation_ends_after_step_7(cast):
    run = cast.start("004")

    trail = drive(run, cast, {7: ("tidak", "tidak ada pelanggaran")})

    assert [nomor for nomor, _user in trail] == [1, 2, 3, 4, 5, 6, 7]
    assert trail[-1] == (7, "kasat-pol-pp")
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED
    last = run.tasks.get(step__nomor=7)
    assert (last.status, last.decision, last.reason) == (Task.Status.DONE, "tidak", "tidak ada pelanggaran")
    assert transitions(run) == {"start": 1, "reach": 7, "claim": 7, "complete": 6, "decide_tidak": 1, "finish": 1}


def test_004_a_patrol_with_escalation_reaches_step_12(cast):
    run = cast.start("004")

    trail = drive(run, cast)  # Ya at 7, 8 and 9: violation, warnings ignored, forced order

    assert trail == [
        (1, "kasat-pol-pp"), (2, "kabid-ketertiban-dan-ketentraman-masyarakat"),
        (3, "kasie-operasional-dan-pengendalian"), (4, "petugas-operasional"),
        (5, "kasie-operasional-dan-pengendalian"), (6, "kabid-ketertiban-dan-ketentraman-masyarakat"),
        (7, "kasat-pol-pp"), (8, "kasat-pol-pp"), (9, "kasat-pol-pp"),
        (10, "kabid-ketertiban-dan-ketentraman-masyarakat"), (11, "kasie-operasional-dan-pengendalian"),
        (12, "petugas-operasional"),
    ]
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED
    assert transitions(run) == {"start": 1, "reach": 12, "claim": 12, "complete": 9, "decide_ya": 3, "finish": 1}


def test_003_follows_both_send_back_loops_and_the_pokja_loop(cast):
    run = cast.start("003")

    trail = drive(run, cast, {
        4: [("tidak", "Konsep SK belum memuat susunan tim"), ("ya", ""), ("ya", "")],
        5: [("tidak", "Dasar hukum SK kurang lengkap"), ("ya", "")],
        10: [("tidak", "Data kelurahan A belum lengkap"), ("ya", "")],
    })

    users = {1: "kadis", 2: "kabid", 3: "kasi-dkdi", 4: "kabid", 5: "kadis", 6: "kabid", 7: "kasi-dkdi",
             8: "tim", 9: "pokja-profil-kampungkelurahan", 10: "tim", 11: "kasi-dkdi", 12: "kabid", 13: "kasi-dkdi"}
    steps = [1, 2, 3, 4, 3, 4, 5, 4, 5, 6, 7, 8, 9, 10, 9, 10, 11, 12, 13]
    assert trail == [(nomor, users[nomor]) for nomor in steps]
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED

    tasks = list(run.tasks.select_related("step").order_by("pk"))
    assert [(task.step.nomor, task.visit) for task in tasks] == [
        (1, 1), (2, 1), (3, 1), (4, 1), (3, 2), (4, 2), (5, 1), (4, 3), (5, 2), (6, 1), (7, 1), (8, 1),
        (9, 1), (10, 1), (9, 2), (10, 2), (11, 1), (12, 1), (13, 1),
    ]
    # A Tidak that goes back marks its task sent back; the reason is shown at the step it reached.
    sent_back = [(task.step.nomor, task.reason) for task in tasks if task.status == Task.Status.SENT_BACK]
    assert sent_back == [(4, "Konsep SK belum memuat susunan tim"), (5, "Dasar hukum SK kurang lengkap"),
                         (10, "Data kelurahan A belum lengkap")]
    returned = [(task.step.nomor, task.visit, task.return_reason) for task in tasks if task.return_reason]
    assert returned == [(3, 2, "Konsep SK belum memuat susunan tim"), (4, 3, "Dasar hukum SK kurang lengkap"),
                        (9, 2, "Data kelurahan A belum lengkap")]
    # The Kasi's second go at step 3 comes right after the Kabid's Tidak, for the Kasi.
    kasi_again = tasks[4]
    assert kasi_again.previous == tasks[3] and kasi_again.position.name == "Kasi"
    assert kasi_again.events.get(transition="reach").reason == "Konsep SK belum memuat susunan tim"
    assert transitions(run) == {"start": 1, "reach": 19, "claim": 19, "complete": 12, "decide_ya": 4,
                                "decide_tidak": 3, "finish": 1}


def test_001_runs_end_to_end(cast):
    run = cast.start("001")

    trail = drive(run, cast)

    kasi, kepala, staf, pengelola = "kasi-kkbdpkt", "kepala", "staf-seksi", "pengelola-administrasi-umum"
    assert trail == [
        (1, kasi), (2, kepala), (3, kasi), (4, staf), (5, kasi), (6, kepala), (7, pengelola), (8, staf),
        (9, staf), (10, staf), (11, kasi), (12, staf), (13, kasi), (14, kasi), (15, pengelola),
    ]
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED
    assert transitions(run) == {"start": 1, "reach": 15, "claim": 15, "complete": 15, "finish": 1}
    # Every required item of every step was ticked.
    assert TaskCheck.objects.filter(task__run=run).count() == sum(
        task.step.kelengkapan.count() for task in run.tasks.select_related("step"))


@pytest.mark.parametrize("nomor, holder", [(1, "kanit-binpolmas"), (2, "kanit-binkamsa"), (3, "kanit-binpolmas")])
def test_002_runs_one_activity_end_to_end(cast, nomor, holder):
    # Independent activities (kegiatan_terpisah): a run does the one chosen, then it is finished.
    activity = cast.revision("002").steps.get(nomor=nomor)
    run = cast.start("002", step=activity)

    trail = drive(run, cast)

    assert trail == [(nomor, holder)]
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED
    assert transitions(run) == {"start": 1, "reach": 1, "claim": 1, "complete": 1, "finish": 1}


def test_002_starts_only_with_an_activity_of_its_own(cast):
    revision = cast.revision("002")
    user = cast.user("Kanit Binpolmas")
    error = refused(InvalidInput, lambda: engine.run_start(revision=revision, user=user, perihal="Uji"))
    assert error.field == "step" and "choose the activity" in error.message
    other = cast.revision("000").steps.get(nomor=1)
    error = refused(InvalidInput, lambda: engine.run_start(revision=revision, user=user, perihal="Uji", step=other))
    assert "not one of this SOP's" in error.message


def test_an_activity_is_started_by_whoever_may_do_it(cast):
    activity_b = cast.revision("002").steps.get(nomor=2)  # the Kanit Binkamsa's
    error = refused(NotAllowed, lambda: cast.start("002", step=activity_b, user=cast.user("Kanit Binpolmas")))
    assert "Kanit Binkamsa" in error.message
    run = cast.start("002", step=activity_b)
    assert open_task(run).step.nomor == 2


def test_an_sop_of_chained_steps_starts_at_its_first(cast):
    second = cast.revision("000").steps.get(nomor=2)
    error = refused(InvalidInput, lambda: cast.start("000", step=second))
    assert "starts at its first step" in error.message


# ---------------------------------------------------------------------------------------------
# run_start
# ---------------------------------------------------------------------------------------------


def test_starting_opens_the_first_step_as_a_waiting_task(cast):
    kasi = cast.user(KASI)

    run = cast.start("000", perihal="  Pembinaan Linmas Kecamatan Kota Barat  ")

    assert (run.status, run.perihal, run.started_by, run.office.name) == (
        Run.Status.RUNNING, "Pembinaan Linmas Kecamatan Kota Barat", kasi, SATPOL)
    task = open_task(run)
    assert (task.step.nomor, task.status, task.visit, task.position.name, task.assignee) == (
        1, Task.Status.WAITING, 1, KASI, None)
    assert list(run.events.values_list("transition", "actor", "task", "target")) == [
        ("start", kasi.pk, None, Run.Status.RUNNING), ("reach", kasi.pk, task.pk, Task.Status.WAITING)]


def test_only_the_first_steps_position_or_an_admin_may_start(cast):
    revision = cast.revision("000")

    error = refused(NotAllowed, lambda: engine.run_start(revision=revision, user=cast.user(KABID), perihal="Uji"))

    assert KASI in error.message and "Kasi Bina Potensi Masyarakat (demo)" in error.message
    assert engine.run_start(revision=revision, user=cast.admin, perihal="Uji").started_by == cast.admin


@pytest.mark.parametrize("perihal", ["", "   ", "x" * 256])
def test_a_run_needs_a_subject_of_at_most_255_characters(cast, perihal):
    revision = cast.revision("000")

    error = refused(InvalidInput, lambda: engine.run_start(revision=revision, user=cast.user(KASI), perihal=perihal))

    assert error.field == "perihal"


# ---------------------------------------------------------------------------------------------
# Claim, release, reassign
# ---------------------------------------------------------------------------------------------


def test_any_holder_of_the_position_may_claim_a_waiting_task(cast):
    run = cast.start("000")
    task = open_task(run)
    other_kasi = second_holder(task.position)

    engine.task_claim(task=task, user=other_kasi)

    task.refresh_from_db()
    assert (task.status, task.assignee, task.acting) == (Task.Status.IN_PROGRESS, other_kasi, None)
    assert task.claimed_at is not None
    event = task.events.get(transition="claim")
    assert (event.actor, event.source, event.target) == (other_kasi, Task.Status.WAITING, Task.Status.IN_PROGRESS)


def test_a_second_holder_claiming_gets_a_conflict_naming_the_first(cast):
    run = cast.start("000")
    task = open_task(run)
    engine.task_claim(task=task, user=cast.user(KASI))
    other_kasi = second_holder(task.position)

    error = refused(Conflict, lambda: engine.task_claim(task=task, user=other_kasi))

    assert "already claimed by Kasi Bina Potensi Masyarakat (demo)" in error.message
    # Nor may they complete it from under the claimer.
    refused(Conflict, lambda: work(task, other_kasi))


def test_the_claimer_may_release_the_task_to_the_position(cast):
    run = cast.start("000")
    task = open_task(run)
    kasi = cast.user(KASI)
    engine.task_claim(task=task, user=kasi)

    engine.task_release(task=task, user=kasi)

    task.refresh_from_db()
    assert (task.status, task.assignee, task.claimed_at) == (Task.Status.WAITING, None, None)
    assert task.events.filter(transition="release", actor=kasi, target=Task.Status.WAITING).count() == 1
    # Anyone of the position may take it now.
    other_kasi = second_holder(task.position)
    engine.task_claim(task=task, user=other_kasi)


def test_another_holder_may_not_release_a_claimed_task_but_a_head_may(cast):
    run = cast.start("000")
    task = open_task(run)
    engine.task_claim(task=task, user=cast.user(KASI))
    other_kasi = second_holder(task.position)

    error = refused(NotAllowed, lambda: engine.task_release(task=task, user=other_kasi))
    assert "Kasi Bina Potensi Masyarakat (demo)" in error.message

    engine.task_release(task=task, user=cast.user(KABID))
    task.refresh_from_db()
    assert task.status == Task.Status.WAITING


def test_releasing_a_waiting_task_is_a_conflict(cast):
    run = cast.start("000")
    task = open_task(run)

    error = refused(Conflict, lambda: engine.task_release(task=task, user=cast.user(KASI)))

    assert "waiting" in error.message


@pytest.mark.parametrize("head", [KABID, "Sekretaris", KASAT, "admin"])
def test_a_head_in_the_sop_or_an_admin_may_reassign_a_task(cast, head):
    run = cast.start("000")
    task = open_task(run)
    engine.task_claim(task=task, user=cast.user(KASI))
    other_kasi = second_holder(task.position)
    head_user = cast.admin if head == "admin" else cast.user(head, SATPOL)

    engine.task_reassign(task=task, user=head_user, to_user=other_kasi)

    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.IN_PROGRESS, other_kasi)
    event = task.events.get(transition="reassign")
    assert (event.actor, event.source, event.target) == (head_user, Task.Status.IN_PROGRESS, Task.Status.IN_PROGRESS)
    assert "Rina Kedua" in event.reason
    # The new assignee finishes it; the one it was taken from no longer can.
    refused(Conflict, lambda: work(task, cast.user(KASI)))
    work(task, other_kasi)


def test_a_waiting_task_can_be_reassigned_too(cast):
    run = cast.start("000")
    task = open_task(run)
    other_kasi = second_holder(task.position)

    engine.task_reassign(task=task, user=cast.user(KABID), to_user=other_kasi)

    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.IN_PROGRESS, other_kasi)
    assert task.events.get(transition="reassign").source == Task.Status.WAITING


@pytest.mark.parametrize("who", [
    "another holder of the same position",
    "a head of a position not in this SOP",  # Kabid Ketertiban ranks above a Kasi, but not in SOP 000
    "a head of another office",
])
def test_a_non_head_may_not_reassign(cast, who):
    run = cast.start("000")
    task = open_task(run)
    other_kasi = second_holder(task.position)
    user = {
        "another holder of the same position": lambda: other_kasi,
        "a head of a position not in this SOP": lambda: cast.user("Kabid Ketertiban dan Ketentraman Masyarakat"),
        "a head of another office": lambda: cast.user("Kepala", KESBANGPOL),
    }[who]()

    error = refused(NotAllowed, lambda: engine.task_reassign(task=task, user=user, to_user=other_kasi))

    assert KASI in error.message


def test_a_task_cannot_be_reassigned_to_someone_who_may_not_do_it(cast):
    run = cast.start("000")
    task = open_task(run)

    error = refused(InvalidInput, lambda: engine.task_reassign(task=task, user=cast.user(KABID),
                                                               to_user=cast.user("Sekretaris")))

    assert error.field == "to_user" and "Sekretaris (demo)" in error.message


# ---------------------------------------------------------------------------------------------
# task_complete
# ---------------------------------------------------------------------------------------------


def test_completing_records_ticks_note_output_files_and_moves_on(cast):
    run = cast.start("001")
    task = open_task(run)
    kasi = cast.user("Kasi", KESBANGPOL)
    items = all_items(task)
    assert len(items) == 3

    engine.task_complete(task=task, user=kasi, ticked=items, output_text=" Nota Dinas 005/Kesbangpol ",
                         note=" Sudah dibahas dengan Kasubag TU ", files=[pdf("nota-dinas.pdf", size=200)])

    task.refresh_from_db()
    assert (task.status, task.completed_by, task.assignee) == (Task.Status.DONE, kasi, kasi)
    assert task.completed_at is not None
    assert (task.output_text, task.note) == ("Nota Dinas 005/Kesbangpol", "Sudah dibahas dengan Kasubag TU")
    assert sorted(task.checks.values_list("item_id", flat=True)) == sorted(items)
    stored = task.files.get()
    assert (stored.name, stored.size, stored.uploaded_by) == ("nota-dinas.pdf", 200, kasi)
    assert stored.file.read().startswith(b"%PDF")
    event = task.events.get(transition="complete")
    assert (event.actor, event.source, event.target, event.reason, event.files) == (
        kasi, Task.Status.IN_PROGRESS, Task.Status.DONE, "Sudah dibahas dengan Kasubag TU", ["nota-dinas.pdf"])
    following = open_task(run)
    assert (following.step.nomor, following.previous, following.position.name) == (2, task, "Kepala")


def test_a_file_alone_gives_the_output(cast):
    run = cast.start("000")
    task = open_task(run)

    engine.task_complete(task=task, user=cast.user(KASI), ticked=all_items(task), files=[pdf()])

    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.output_text == ""


def test_missing_ticks_are_refused_and_change_nothing(cast):
    run = cast.start("001")
    task = open_task(run)
    partly = all_items(task)[:2]

    error = refused(InvalidInput, lambda: engine.task_complete(
        task=task, user=cast.user("Kasi", KESBANGPOL), ticked=partly, output_text="Nota Dinas"))

    assert error.field == "ticked"
    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.WAITING, None)


def test_a_missing_output_is_refused_and_changes_nothing(cast):
    run = cast.start("000")
    task = open_task(run)

    error = refused(InvalidInput, lambda: engine.task_complete(
        task=task, user=cast.user(KASI), ticked=all_items(task), output_text="   "))

    assert error.field == "output_text" and "Konsep Perencanaan Jadwal Pembinaan" in error.message


def test_a_step_without_an_output_needs_no_output(cast):
    run = cast.start("002")
    task = open_task(run)
    assert task.step.output == ""

    engine.task_complete(task=task, user=cast.user("Kanit Binpolmas"), ticked=all_items(task))

    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_ticks_of_another_steps_items_are_refused(cast):
    run = cast.start("000")
    task = open_task(run)
    foreign = cast.revision("004").steps.get(nomor=1).kelengkapan.get().pk

    error = refused(InvalidInput, lambda: engine.task_complete(
        task=task, user=cast.user(KASI), ticked=[*all_items(task), foreign], output_text="Konsep"))

    assert error.field == "ticked"


def test_a_too_large_upload_is_refused_and_leaves_the_task_as_it_was(cast, settings):
    settings.TASK_UPLOAD_MAX_BYTES = 1024
    run = cast.start("000")
    task = open_task(run)
    kasi = cast.user(KASI)
    engine.task_claim(task=task, user=kasi)

    error = refused(InvalidInput, lambda: engine.task_complete(
        task=task, user=kasi, ticked=all_items(task), output_text="Konsep", files=[pdf("besar.pdf", size=2048)]))

    assert error.field == "files" and "besar.pdf" in error.message
    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.IN_PROGRESS, kasi)
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_an_upload_of_a_type_not_allowed_is_refused(cast, settings):
    settings.TASK_UPLOAD_EXTENSIONS = ["pdf", "jpg"]
    run = cast.start("000")
    task = open_task(run)
    script = SimpleUploadedFile("rekap.exe", b"MZ...", content_type="application/octet-stream")

    error = refused(InvalidInput, lambda: engine.task_complete(
        task=task, user=cast.user(KASI), ticked=all_items(task), output_text="Rekap", files=[script]))

    assert error.field == "files" and ".exe" in error.message
    assert not TaskFile.objects.exists()


# ---------------------------------------------------------------------------------------------
# task_decide
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def at_step_7(cast):
    """A patrol of SOP 004 waiting at step 7, the Kasat's decision: any violation?"""
    run = cast.start("004")
    drive(run, cast, stop_at=7)
    task = open_task(run)
    assert task.step.is_decision
    return task


@pytest.mark.parametrize("reason", ["", "   "])
def test_tidak_requires_a_reason(cast, at_step_7, reason):
    error = refused(InvalidInput, lambda: engine.task_decide(
        task=at_step_7, user=cast.user(KASAT), decision="tidak", reason=reason))

    assert error.field == "reason"


def test_ya_requires_every_item_ticked(cast, at_step_7):
    error = refused(InvalidInput, lambda: engine.task_decide(
        task=at_step_7, user=cast.user(KASAT), decision="ya", ticked=()))

    assert error.field == "ticked"


def test_an_answer_other_than_ya_or_tidak_is_refused(cast, at_step_7):
    error = refused(InvalidInput, lambda: engine.task_decide(
        task=at_step_7, user=cast.user(KASAT), decision="mungkin", reason="entahlah"))

    assert error.field == "decision"


def test_a_decision_step_cannot_be_completed(cast, at_step_7):
    error = refused(InvalidInput, lambda: engine.task_complete(
        task=at_step_7, user=cast.user(KASAT), ticked=all_items(at_step_7), output_text="Surat Pernyataan"))

    assert "Ya or Tidak" in error.message


def test_a_process_step_cannot_be_decided(cast):
    run = cast.start("000")
    task = open_task(run)

    error = refused(InvalidInput, lambda: engine.task_decide(
        task=task, user=cast.user(KASI), decision="ya", ticked=all_items(task)))

    assert "not a decision" in error.message


def test_ya_moves_on_and_keeps_the_decision(cast, at_step_7):
    kasat = cast.user(KASAT)

    engine.task_decide(task=at_step_7, user=kasat, decision="ya", reason="Ada PKL di trotoar",
                       ticked=all_items(at_step_7), note="Teguran lisan diberikan")

    at_step_7.refresh_from_db()
    assert (at_step_7.status, at_step_7.decision, at_step_7.reason, at_step_7.completed_by) == (
        Task.Status.DONE, "ya", "Ada PKL di trotoar", kasat)
    assert at_step_7.checks.count() == 1
    event = at_step_7.events.get(transition="decide_ya")
    assert (event.source, event.target, event.reason) == (Task.Status.IN_PROGRESS, Task.Status.DONE, "Ada PKL di trotoar")
    following = open_task(at_step_7.run)
    assert (following.step.nomor, following.return_reason) == (8, "")


# ---------------------------------------------------------------------------------------------
# run_cancel
# ---------------------------------------------------------------------------------------------


def test_the_starter_may_cancel_with_a_reason_and_open_tasks_are_cancelled(cast):
    run = cast.start("000")
    task = open_task(run)
    kasi = cast.user(KASI)
    engine.task_claim(task=task, user=kasi)

    engine.run_cancel(run=run, user=kasi, reason=" Kegiatan ditunda ke tahun depan ")

    run.refresh_from_db()
    task.refresh_from_db()
    assert (run.status, run.cancel_reason) == (Run.Status.CANCELLED, "Kegiatan ditunda ke tahun depan")
    assert run.ended_at is not None
    assert task.status == Task.Status.CANCELLED
    cancels = list(run.events.filter(transition="cancel").values_list("task", "source", "target", "reason"))
    assert cancels == [
        (None, Run.Status.RUNNING, Run.Status.CANCELLED, "Kegiatan ditunda ke tahun depan"),
        (task.pk, Task.Status.IN_PROGRESS, Task.Status.CANCELLED, "Kegiatan ditunda ke tahun depan"),
    ]


@pytest.mark.parametrize("who", [KABID, "Sekretaris", KASAT, "admin"])
def test_a_head_or_an_admin_may_cancel(cast, who):
    run = cast.start("000")
    user = cast.admin if who == "admin" else cast.user(who, SATPOL)

    engine.run_cancel(run=run, user=user, reason="Anggaran dialihkan")

    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED
    assert run.events.get(transition="cancel", task=None).actor == user


@pytest.mark.parametrize("who", ["another Kasi", "Kabid Ketertiban dan Ketentraman Masyarakat", "Kepala"])
def test_others_may_not_cancel(cast, who):
    run = cast.start("000")
    user = second_holder(open_task(run).position) if who == "another Kasi" else cast.user(who)

    refused(NotAllowed, lambda: engine.run_cancel(run=run, user=user, reason="Bosan"))


def test_cancelling_requires_a_reason(cast):
    run = cast.start("000")

    error = refused(InvalidInput, lambda: engine.run_cancel(run=run, user=cast.user(KASI), reason="  "))

    assert error.field == "reason"


ACTIONS = {
    "claim": lambda task, user, cast: engine.task_claim(task=task, user=user),
    "release": lambda task, user, cast: engine.task_release(task=task, user=user),
    "reassign": lambda task, user, cast: engine.task_reassign(task=task, user=cast.admin, to_user=user),
    "complete": lambda task, user, cast: work(task, user),
    "decide": lambda task, user, cast: engine.task_decide(task=task, user=user, decision="tidak", reason="x"),
    "cancel": lambda task, user, cast: engine.run_cancel(run=task.run, user=cast.admin, reason="lagi"),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_after_cancelling_every_action_is_a_conflict(cast, action):
    run = cast.start("000")
    task = open_task(run)
    kasi = cast.user(KASI)
    engine.task_claim(task=task, user=kasi)
    engine.run_cancel(run=run, user=kasi, reason="Dibatalkan")

    error = refused(Conflict, lambda: ACTIONS[action](task, kasi, cast))

    assert "cancelled" in error.message


@pytest.mark.parametrize("action", ACTIONS)
def test_a_finished_run_refuses_every_action(cast, action):
    run = cast.start("002")
    drive(run, cast)
    last = run.tasks.get()  # activity A: the whole run

    error = refused(Conflict, lambda: ACTIONS[action](last, cast.user("Kanit Binpolmas"), cast))

    assert "finished" in error.message


# ---------------------------------------------------------------------------------------------
# Transitions that are not available from the current state
# ---------------------------------------------------------------------------------------------


def test_a_done_task_cannot_be_claimed_or_completed_again(cast):
    run = cast.start("000")
    task = open_task(run)  # the page the Kasi still has open
    kasi = cast.user(KASI)
    work(task, kasi)

    for action in (lambda: engine.task_claim(task=task, user=kasi), lambda: work(task, kasi),
                   lambda: engine.task_release(task=task, user=kasi),
                   lambda: engine.task_reassign(task=task, user=cast.admin, to_user=kasi)):
        error = refused(Conflict, action)
        assert "already completed by Kasi Bina Potensi Masyarakat (demo)" in error.message

    assert run.tasks.filter(step__nomor=2).count() == 1


def test_a_sent_back_task_cannot_be_decided_again(cast):
    run = cast.start("003")
    drive(run, cast, {4: ("tidak", "Perbaiki")}, stop_at=4)
    decision = open_task(run)
    kabid = cast.user("Kabid", DISKOMINFO)
    engine.task_decide(task=decision, user=kabid, decision="tidak", reason="Perbaiki")

    error = refused(Conflict, lambda: engine.task_decide(task=decision, user=kabid, decision="ya",
                                                         ticked=all_items(decision)))

    assert "already completed by" in error.message


# ---------------------------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------------------------


def test_every_transition_writes_an_event(cast):
    run = cast.start("004")
    first = open_task(run)
    kasat, kabid = cast.user(KASAT), cast.user("Kabid Ketertiban dan Ketentraman Masyarakat")
    engine.task_claim(task=first, user=kasat)
    engine.task_release(task=first, user=kasat)
    engine.task_complete(task=first, user=kasat, ticked=all_items(first), files=[pdf("surat-tugas.pdf")],
                         note="Patroli malam")
    drive(run, cast, {7: ("tidak", "Nihil pelanggaran")})

    events = list(run.events.select_related("task__step").order_by("pk"))
    rows = [(event.transition, event.task.step.nomor if event.task else None, event.actor.username,
             event.source, event.target) for event in events]
    assert rows[:7] == [
        ("start", None, "kasat-pol-pp", "", Run.Status.RUNNING),
        ("reach", 1, "kasat-pol-pp", "", Task.Status.WAITING),
        ("claim", 1, "kasat-pol-pp", Task.Status.WAITING, Task.Status.IN_PROGRESS),
        ("release", 1, "kasat-pol-pp", Task.Status.IN_PROGRESS, Task.Status.WAITING),
        ("claim", 1, "kasat-pol-pp", Task.Status.WAITING, Task.Status.IN_PROGRESS),
        ("complete", 1, "kasat-pol-pp", Task.Status.IN_PROGRESS, Task.Status.DONE),
        ("reach", 2, "kasat-pol-pp", "", Task.Status.WAITING),  # the one whose work opened it
    ]
    assert rows[7][:3] == ("claim", 2, kabid.username)
    assert rows[-2:] == [
        ("decide_tidak", 7, "kasat-pol-pp", Task.Status.IN_PROGRESS, Task.Status.DONE),
        ("finish", None, "kasat-pol-pp", Run.Status.RUNNING, Run.Status.FINISHED),
    ]
    assert (events[5].files, events[5].reason) == (["surat-tugas.pdf"], "Patroli malam")
    assert events[-2].reason == "Nihil pelanggaran"
    assert all(event.acting is None and event.acting_title == "" for event in events)


def test_events_cannot_be_changed(cast):
    run = cast.start("000")
    event = run.events.first()
    event.reason = "diubah"

    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        Event.objects.filter(pk=event.pk).update(reason="diubah")
    # bulk_update opens a transaction without a savepoint; give it one so the test can go on.
    with pytest.raises(PermissionError), transaction.atomic():
        Event.objects.bulk_update([event], ["reason"])

    assert Event.objects.get(pk=event.pk).reason == ""


def test_events_cannot_be_deleted(cast):
    run = cast.start("000")
    before = snapshot()

    with pytest.raises(PermissionError):
        run.events.first().delete()
    with pytest.raises(PermissionError):
        Event.objects.all().delete()
    with pytest.raises(PermissionError):
        run.events.all().delete()
    # Nor by deleting what they record.
    with pytest.raises(ProtectedError):
        run.delete()
    with pytest.raises(ProtectedError):
        open_task(run).delete()

    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Deadlines
# ---------------------------------------------------------------------------------------------


def test_a_task_is_due_its_steps_upper_time_later_on_the_office_calendar(cast):
    run = cast.start("004")
    drive(run, cast, stop_at=4)
    task = open_task(run)
    assert (task.step.waktu, task.step.waktu_max, task.step.waktu_unit) == ("3-4 jam", 4, "jam")

    assert task.due_at == calendar_for_office(run.office).add(task.created_at, 4, "jam")


def test_a_run_of_002_counts_its_deadline_in_wita(cast):
    wita = ZoneInfo("Asia/Makassar")
    # Tuesday 15.30 WITA (14.30 WIB): half an hour of work is left that day in Gorontalo.
    started = dt.datetime(2025, 2, 4, 15, 30, tzinfo=wita)

    run = cast.start("002", now=started)

    assert run.office.time_zone == "Asia/Makassar"
    task = open_task(run)
    assert task.created_at == started
    assert task.due_at == calendar_for_office(run.office).add(started, 1, "jam")
    # Counted in WIB it would be due the same afternoon; in WITA it runs into Wednesday morning.
    assert task.due_at.astimezone(wita) == dt.datetime(2025, 2, 5, 8, 0, tzinfo=wita)
