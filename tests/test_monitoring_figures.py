"""The monitoring figures (procedures.monitoring.figures) of the hand-checked world (tests/monitoring_world.py)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procedures.models import Task
from procedures.monitoring.figures import monitoring_report, percentile
from procedures.monitoring.scope import Filters, Period, semester
from tests.monitoring_world import NOW, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def report(world, offices=None, **kwargs):
    offices = frozenset(offices or {world.uji.pk})
    return monitoring_report(Filters(period=kwargs.pop("period", semester("2026-2")), office_ids=offices, **kwargs),
                             now=NOW)


def figures(task):
    return task.worked_minutes, task.standard_minutes, task.within_standard


def test_the_engine_stores_each_done_tasks_figures(world):
    late = world.runs["B"].tasks.get(step__nomor=2)
    assert figures(late) == (1155, 540, False)
    assert figures(world.runs["B"].tasks.get(step__nomor=3)) == (120, 60, False)
    assert figures(world.runs["A"].tasks.get(step__nomor=2)) == (360, 510, True)
    sent_back = world.runs["C"].tasks.get(step__nomor=3, visit=1)
    assert sent_back.status == Task.Status.SENT_BACK and figures(sent_back) == (30, 60, True)
    wita = world.runs["D"].tasks.get(step__nomor=1)
    assert figures(wita) == (10, 15, True)  # 07.30–07.40 WITA
    assert world.runs["D"].tasks.get(step__nomor=2).worked_minutes is None  # still open
    assert world.runs["E"].tasks.get().within_standard is None  # cancelled


def test_runs_per_sop(world):
    row = report(world).sops[0]
    assert (row.started, row.finished, row.cancelled, row.running, row.stuck) == (5, 3, 1, 1, 0)
    assert (row.tasks_done, row.within, row.within_share, row.send_backs, row.returns) == (16, 14, 87.5, 1, 1)
    assert row.all_send_backs == 2


def test_a_return_outside_the_drawn_flow_is_counted_not_measured(world):
    returned = world.runs["F"].tasks.get(step__nomor=2, visit=1)
    assert returned.status == Task.Status.SENT_BACK and not returned.decision
    assert figures(returned) == (None, None, None)
    assert [event.off_sheet for event in returned.events.filter(transition="return")] == [True]
    steps = {row.nomor: row for row in report(world).steps}
    assert [(nomor, row.send_backs, row.returns) for nomor, row in steps.items()] == [
        (1, 0, 0), (2, 0, 1), (3, 1, 0), (4, 0, 0)]
    # Step 1 done twice in run F (10 minutes each, before and after the return), step 2 not measured.
    assert sorted(steps[1].worked) == [5, 10, 10, 10, 15]
    assert (steps[2].done, steps[2].within_share) == (4, 75.0)
    staf = {row.name: row for row in report(world).positions}["Staf"]
    assert (staf.done, staf.open_now, staf.overdue_now) == (7, 1, 0)  # step 2 of run F, due on Friday
    # The staff member who sent it back sees the return on their own figures, but no task done for it.
    own = {row.nomor: row for row in report(world, person=world.staf).steps}
    assert (own[2].done, own[2].returns) == (4, 1)


def test_a_run_overdue_by_more_than_a_working_day_is_stuck(world):
    row = report(world, {world.timur.pk}).sops[0]
    assert (row.started, row.running, row.stuck, row.tasks_done) == (1, 1, 1, 1)


def test_step_by_step_median_and_90th_percentile(world):
    steps = {row.nomor: row for row in report(world).steps}
    two = steps[2]
    assert sorted(two.worked) == [60, 60, 360, 1155]
    assert (two.median_worked, two.p90_worked, two.standard) == (210, 916.5, 510)
    assert (two.within_share, two.late_minutes) == (75.0, 615)
    three = steps[3]
    assert (three.median_worked, three.p90_worked, three.late_minutes, three.send_backs) == (30, 93, 60, 1)
    assert [(row.nomor, row.late_minutes) for row in report(world).bottlenecks] == [(2, 615), (3, 60)]


def test_per_position_and_person_including_the_plh(world):
    result = report(world)
    positions = {row.name: row for row in result.positions}
    kepala = positions["Kepala"]
    assert (kepala.done, kepala.within, kepala.acting, kepala.median_lateness) == (9, 8, 1, 60)
    staf = positions["Staf"]
    assert (staf.done, staf.within, staf.median_lateness, staf.open_now) == (7, 6, 615, 1)
    people = {row.key: row for row in result.people}
    assert (people[world.kepala.pk].done, people[world.kepala.pk].within) == (8, 7)
    assert (people[world.plh.pk].done, people[world.plh.pk].acting, people[world.plh.pk].within_share) == (1, 1, 100.0)
    assert people[world.staf.pk].done == 7


def test_open_and_overdue_now(world):
    result = report(world, {world.timur.pk})
    staf = {row.name: row for row in result.positions}["Staf"]
    assert (staf.open_now, staf.overdue_now) == (1, 1)


def test_week_by_week(world):
    weeks = [(row.week, row.done, row.within) for row in report(world).weeks]
    assert weeks == [(dt.date(2026, 8, 3), 4, 4), (dt.date(2026, 8, 10), 1, 1), (dt.date(2026, 8, 17), 3, 1),
                     (dt.date(2026, 9, 7), 8, 8)]


def test_a_person_sees_their_own_figures(world):
    result = report(world, person=world.staf)
    assert [row.key for row in result.people] == [world.staf.pk]
    assert sum(row.done for row in result.steps) == 7
    assert result.sops[0].started == 0  # office figures are not a person's


def test_a_range_and_another_semester(world):
    week = report(world, period=Period(dt.date(2026, 8, 10), dt.date(2026, 8, 16)))
    assert (week.sops[0].started, week.sops[0].tasks_done) == (1, 1)
    assert report(world, period=semester("2026-1")).sops[0].started == 0


def test_a_superior_office_sees_its_offices_side_by_side(world):
    result = report(world, {world.induk.pk, world.uji.pk, world.timur.pk})
    offices = {row.name: (row.started, row.running, row.stuck, row.tasks_done) for row in result.offices}
    assert offices == {"Dinas Induk": (0, 0, 0, 0), "Kantor Uji": (5, 1, 0, 16), "Kantor Timur": (1, 1, 1, 1)}


def test_percentile_is_linear_between_ranks():
    assert percentile([1], 0.9) == 1
    assert percentile([10, 20], 0.5) == 15
    assert percentile([], 0.9) is None


# Offices, SOPs and their revisions, the offices' calendars (the stuck threshold), runs, done tasks,
# open tasks by position and by person, the people's names: the same for any number of offices too.
REPORT_QUERIES = 9


@pytest.mark.parametrize("runs", [1, 6])
def test_the_queries_do_not_grow_with_the_runs(runs, django_assert_num_queries):
    world = build_world(runs=runs)
    with django_assert_num_queries(REPORT_QUERIES):
        result = report(world)
    assert result.sops[0].started == runs + 4


def test_the_migration_fills_the_figures_of_tasks_already_done(world):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("procedures.migrations.0007_task_figures")
    stored = {pk: (w, s, i) for pk, w, s, i in Task.objects.values_list(
        "pk", "worked_minutes", "standard_minutes", "within_standard")}
    Task.objects.update(worked_minutes=None, standard_minutes=None, within_standard=None)
    migration.fill_figures(apps, None)
    assert {pk: (w, s, i) for pk, w, s, i in Task.objects.values_list(
        "pk", "worked_minutes", "standard_minutes", "within_standard")} == stored


def test_the_queries_do_not_grow_with_the_offices(world, django_assert_num_queries):
    with django_assert_num_queries(REPORT_QUERIES):
        report(world, {world.induk.pk, world.uji.pk, world.timur.pk})
