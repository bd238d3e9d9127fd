"""What one completion costs in SQL, and that what the engine keeps in memory never goes stale.

The Patroli flow (seed 004). A completion is five statements: the SELECT that locks the run and the
task (and reads the previous task, whether the user holds the position and the office's working
calendar with them), the UPDATE of the task, the INSERT of the ticked items, the INSERT of the next
task and the INSERT of the events. Inside a test that is wrapped in the test's transaction, so
Django adds a SAVEPOINT and its RELEASE: 7 statements counted here; called on its own (a request)
the same completion is the 5 between Django's BEGIN and COMMIT (test_engine_statements).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from procedures import engine, step_graph
from procedures.compiled import prepared_sql
from procedures.library import sop_import
from procedures.models import ActingAssignment, Holiday, Run, SopRevision, Task, WorkingHours
from procedures.working_calendar import calendar_for_office, national_holidays
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    KODE,
    SEEDS,
    _module_cast,
    all_items,
    cast,
    drive,
    english,
    open_task,
    transitions,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
# The test's transaction makes each engine call a SAVEPOINT … RELEASE.
SAVEPOINTS = 2


def statements(captured) -> list[str]:
    """The kind of each statement, without the savepoints of the test's transaction."""
    kinds = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            continue
        if sql.startswith("EXECUTE "):  # a statement PREPAREd once per connection (procedures.compiled)
            sql = prepared_sql(sql.split()[1].split("(")[0])
        words = sql.split()
        if len(words) == 1:  # BEGIN, COMMIT
            kind = words[0]
        elif words[0] == "SELECT":
            kind = "SELECT " + sql.split(" FROM ")[-1].split()[0].strip('"')
            if "FOR UPDATE" in sql:
                kind += " FOR UPDATE"
        elif words[0] == "UPDATE":
            kind = "UPDATE " + words[1].strip('"')
        else:
            kind = " ".join(words[:3]).replace('"', "")
        kinds.append(kind)
    return kinds


# With the lock in one statement; SQLite has no FOR UPDATE (it locks the whole file on writing).
LOCK = "SELECT procedures_task FOR UPDATE" if connection.features.has_select_for_update else "SELECT procedures_task"
COMPLETION = [
    LOCK,
    "UPDATE procedures_task",
    "INSERT INTO procedures_taskcheck",
    "INSERT INTO procedures_task",
    "INSERT INTO procedures_event",
]


def at_step(cast, nomor: int, *, claimed: bool, run: Run | None = None) -> tuple[Task, object]:
    """A Patroli run at step ``nomor``, its task claimed or waiting; the step graph read already."""
    run = run or cast.start("004")
    drive(run, cast, stop_at=nomor)
    task = open_task(run)
    user = cast.holder(task.position)
    if claimed:
        task = engine.task_claim(task=task, user=user)
    return open_task(run), user


@pytest.mark.parametrize("claimed", [True, False], ids=["claimed", "waiting"])
def test_completing_a_task_takes_five_statements(cast, django_assert_num_queries, claimed):
    task, user = at_step(cast, 2, claimed=claimed)
    ticked = all_items(task)

    with django_assert_num_queries(5 + SAVEPOINTS) as captured:
        engine.task_complete(task=task, user=user, ticked=ticked, output_text="Koordinasi dilakukan")

    assert statements(captured) == COMPLETION
    task.refresh_from_db()
    assert (task.status, task.assignee, task.completed_by) == (Task.Status.DONE, user, user)
    # The claim of a waiting task is still its own transition and its own event.
    events = list(task.events.values_list("transition", "source", "target"))
    assert events == [("reach", "", "menunggu"), ("claim", "menunggu", "dikerjakan"),
                      ("complete", "dikerjakan", "selesai")]
    following = open_task(task.run)
    assert (following.step.nomor, following.visit, following.previous_id) == (3, 1, task.pk)
    assert following.events.get().transition == "reach"


@pytest.mark.parametrize("claimed", [True, False], ids=["claimed", "waiting"])
def test_a_decision_takes_five_statements(cast, django_assert_num_queries, claimed):
    task, user = at_step(cast, 7, claimed=claimed)
    ticked = all_items(task)

    with django_assert_num_queries(5 + SAVEPOINTS) as captured:
        engine.task_decide(task=task, user=user, decision="ya", ticked=ticked)

    assert statements(captured) == COMPLETION
    task.refresh_from_db()
    assert (task.status, task.decision) == (Task.Status.DONE, "ya")
    assert open_task(task.run).step.nomor == 8


def test_a_tidak_that_ends_the_run_takes_four_statements(cast, django_assert_num_queries):
    task, user = at_step(cast, 7, claimed=True)

    with django_assert_num_queries(4 + SAVEPOINTS) as captured:
        engine.task_decide(task=task, user=user, decision="tidak", reason="tidak ada pelanggaran")

    # Nothing ticked, no next task: the run is finished instead.
    assert statements(captured) == [LOCK, "UPDATE procedures_task", "UPDATE procedures_run",
                                    "INSERT INTO procedures_event"]
    task.run.refresh_from_db()
    assert task.run.status == Run.Status.FINISHED
    assert transitions(task.run)["finish"] == 1


def test_the_last_step_finishes_the_run_in_five_statements(cast, django_assert_num_queries):
    task, user = at_step(cast, 12, claimed=False)

    ticked = all_items(task)
    with django_assert_num_queries(5 + SAVEPOINTS) as captured:
        engine.task_complete(task=task, user=user, ticked=ticked, output_text="Laporan penertiban")

    assert statements(captured) == [LOCK, "UPDATE procedures_task", "INSERT INTO procedures_taskcheck",
                                    "UPDATE procedures_run", "INSERT INTO procedures_event"]
    task.run.refresh_from_db()
    assert task.run.status == Run.Status.FINISHED


def test_a_claim_takes_three_statements(cast, django_assert_num_queries):
    task, user = at_step(cast, 2, claimed=False)

    with django_assert_num_queries(3 + SAVEPOINTS) as captured:
        engine.task_claim(task=task, user=user)

    assert statements(captured) == [LOCK, "UPDATE procedures_task", "INSERT INTO procedures_event"]


def test_files_are_one_more_insert(cast, django_assert_num_queries):
    task, user = at_step(cast, 2, claimed=True)
    files = [SimpleUploadedFile(f"nota-{n}.pdf", b"%PDF-1.4\n", content_type="application/pdf") for n in (1, 2)]

    ticked = all_items(task)
    with django_assert_num_queries(6 + SAVEPOINTS) as captured:
        engine.task_complete(task=task, user=user, ticked=ticked, files=files)

    assert "INSERT INTO procedures_taskfile" in statements(captured)
    assert sorted(task.files.values_list("name", flat=True)) == ["nota-1.pdf", "nota-2.pdf"]
    assert task.events.get(transition="complete").files == ["nota-1.pdf", "nota-2.pdf"]


def test_an_acting_official_costs_one_more_statement(cast, django_assert_num_queries):
    """The appointment the Plh acts by is read for the record; the position's holders are not."""
    task, _holder = at_step(cast, 2, claimed=False)
    plh = UserFactory(first_name="Budi", last_name="Plh")
    today = dt.date.today()
    ActingAssignment.objects.create(position=task.position, user=plh, kind="plh", starts_on=today - dt.timedelta(days=1),
                                    ends_on=today + dt.timedelta(days=1), appointed_by=cast.admin)

    ticked = all_items(task)
    with django_assert_num_queries(6 + SAVEPOINTS):
        engine.task_complete(task=task, user=plh, ticked=ticked, output_text="Koordinasi dilakukan")

    event = task.events.get(transition="complete")
    assert event.acting is not None and event.acting_title == f"Plh. {task.position.name}"


def test_the_first_completion_of_a_revision_in_a_process_reads_its_steps(cast, django_assert_num_queries):
    task, user = at_step(cast, 2, claimed=True)
    step_graph.clear()

    # Two more: the revision's steps and their kelengkapan items, then kept for the next tasks.
    ticked = all_items(task)
    with django_assert_num_queries(7 + SAVEPOINTS):
        engine.task_complete(task=task, user=user, ticked=ticked, output_text="Koordinasi dilakukan")
    task = open_task(task.run)
    user, ticked = cast.holder(task.position), all_items(task)
    with django_assert_num_queries(5 + SAVEPOINTS):
        engine.task_complete(task=task, user=user, ticked=ticked, output_text="Jadwal")


# ---------------------------------------------------------------------------------------------
# Nothing kept goes stale
# ---------------------------------------------------------------------------------------------


# Monday 6 July 2026, 15.50 WIB: ten working minutes left that day. Neither 7 nor 8 July is a
# national holiday.
MONDAY_AFTERNOON = dt.datetime(2026, 7, 6, 15, 50, tzinfo=WIB)


def test_a_day_off_added_after_a_completion_moves_the_next_deadline(cast):
    assert not {dt.date(2026, 7, 7), dt.date(2026, 7, 8)} & national_holidays(2026)
    with time_machine.travel(MONDAY_AFTERNOON, tick=False):
        task, user = at_step(cast, 3, claimed=False)
        office = task.run.office
        # Step 3 was reached at 15.50 with its 30 minutes: due on Tuesday at 07.50.
        assert task.due_at == dt.datetime(2026, 7, 7, 7, 50, tzinfo=WIB)

        Holiday.objects.create(office=office, date=dt.date(2026, 7, 7), name="Hari jadi kota")
        engine.task_complete(task=task, user=user, ticked=all_items(task), output_text="Jadwal")

    # Step 4 (up to 4 jam): ten minutes on Monday, Tuesday off, the rest on Wednesday.
    following = open_task(task.run)
    assert following.step.nomor == 4
    assert following.due_at == dt.datetime(2026, 7, 8, 11, 20, tzinfo=WIB)
    assert following.due_at == calendar_for_office(office).add(MONDAY_AFTERNOON, 4, "jam")


def test_a_day_off_for_every_office_counts_too(cast):
    with time_machine.travel(MONDAY_AFTERNOON, tick=False):
        task, user = at_step(cast, 3, claimed=True)
        Holiday.objects.create(office=None, date=dt.date(2026, 7, 7), name="Cuti bersama")
        engine.task_complete(task=task, user=user, ticked=all_items(task), output_text="Jadwal")

    assert open_task(task.run).due_at == dt.datetime(2026, 7, 8, 11, 20, tzinfo=WIB)


def test_changed_working_hours_are_seen_by_the_next_completion(cast):
    with time_machine.travel(MONDAY_AFTERNOON, tick=False):
        task, user = at_step(cast, 3, claimed=True)
        office = task.run.office
        # The office now works Monday to Friday 08.00–15.00: Monday 15.50 is after hours.
        WorkingHours.objects.bulk_create([
            WorkingHours(office=office, weekday=day, start=dt.time(8), end=dt.time(15)) for day in range(5)])
        engine.task_complete(task=task, user=user, ticked=all_items(task), output_text="Jadwal")

    assert open_task(task.run).due_at == dt.datetime(2026, 7, 7, 12, 0, tzinfo=WIB)


def test_a_new_revision_is_followed_by_new_runs_and_old_runs_keep_theirs(cast):
    old_run = cast.start("004")
    drive(old_run, cast, stop_at=3)
    old_revision = old_run.revision
    path = next(SEEDS.glob("004-*.yaml"))
    text = path.read_text(encoding="utf-8")
    changed = text.replace("Menyusun jadwal Operasional Patroli", "Menyusun jadwal Patroli gabungan", 1)
    changed = changed.replace("waktu: 30 menit", "waktu: 45 menit", 1)
    assert changed != text
    result = sop_import(data=changed.encode(), source=path.name)
    assert not result.refused, result.lines()
    revisions = SopRevision.objects.filter(sop__kode=KODE["004"]).order_by("number")
    assert [revision.number for revision in revisions] == [1, 2]

    starter = cast.holder(revisions[1].steps.get(nomor=1).column.position)
    new_run = engine.run_start(revision=revisions[1], user=starter, perihal="Patroli gabungan")
    drive(new_run, cast, stop_at=3)

    new_task, old_task = open_task(new_run), open_task(old_run)
    assert new_run.revision == revisions[1] and old_run.revision == old_revision == revisions[0]
    assert new_task.step.revision == revisions[1] and new_task.step.kegiatan.startswith("Menyusun jadwal Patroli gabungan")
    assert new_task.step.waktu == "45 menit"
    assert old_task.step.revision == revisions[0] and old_task.step.waktu == "30 menit"
    # Both go on to their own revision's step 4.
    for run in (new_run, old_run):
        drive(run, cast, stop_at=5)
        assert open_task(run).step.revision == run.revision


def test_a_revision_id_seen_again_with_another_import_time_is_read_again(cast, django_assert_num_queries):
    """SQLite hands out the id of a rolled-back import again: the import time tells them apart."""
    revision = cast.revision("004")
    graph = step_graph.graph_for(revision.pk, revision.imported_at)
    with django_assert_num_queries(0):
        assert step_graph.graph_for(revision.pk, revision.imported_at) is graph
    with django_assert_num_queries(2):
        other = step_graph.graph_for(revision.pk, revision.imported_at + dt.timedelta(seconds=1))
    assert other is not graph and other.order == graph.order


def test_the_step_graph_keeps_a_bounded_number_of_revisions(cast, monkeypatch):
    monkeypatch.setattr(step_graph, "MAX_GRAPHS", 2)
    step_graph.clear()
    revisions = list(SopRevision.objects.order_by("pk")[:3])
    for revision in revisions:
        step_graph.graph_for(revision.pk, revision.imported_at)

    assert list(step_graph._graphs) == [revision.pk for revision in revisions[1:]]


def test_steps_from_the_graph_are_fresh_objects_with_their_items(cast, django_assert_num_queries):
    revision = cast.revision("004")
    graph = step_graph.graph_for(revision.pk, revision.imported_at)
    first = graph.first()

    with django_assert_num_queries(0):
        step = graph.step(first.pk)
        items = [item.text for item in step.kelengkapan.all()]
        decision = graph.step(graph.order[6])
        targets = (decision.ya_step.nomor, decision.tidak_step)
    assert items == ["Surat Tugas Patroli"]
    assert targets == (8, None)
    assert step is not graph.step(first.pk)
    assert graph.after(step).nomor == 2


def test_a_send_back_costs_a_fixed_number_of_statements_however_long_the_run(cast, django_assert_num_queries):
    task, user = at_step(cast, 3, claimed=False)
    drive(task.run, cast, stop_at=12)  # a longer run: the same statements
    task = open_task(task.run)
    user = cast.holder(task.position)

    with django_assert_num_queries(7 + SAVEPOINTS) as captured:
        engine.task_return(task=task, user=user, reason="Laporan belum lengkap")

    assert statements(captured) == [
        LOCK,
        "SELECT procedures_task",  # the run's finished tasks: where the work goes back to
        "UPDATE procedures_task",
        "SELECT auth_user",  # who did the earlier step
        "SELECT auth_user",  # whether they still hold its position
        "INSERT INTO procedures_task",
        "INSERT INTO procedures_event",
    ]
    reopened = open_task(task.run)
    assert (reopened.step.nomor, reopened.assignee) == (11, cast.holder(reopened.position))
