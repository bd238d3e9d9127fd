"""procedures.compiled: a statement compiled once, run again with new values, read as the ORM reads it."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import F

from procedures.compiled import CompiledQuery, insert_rows, prepared_sql
from procedures.models import Event, Task
from tests.engine_fixtures import _module_cast, cast, english, open_task  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def _events(*, run_id: int, since: dt.date):
    return (Event.objects.select_related("run__office", "task__position")
            .annotate(_office_zone=F("run__office__time_zone"))
            .filter(run_id=run_id, created_at__date__gte=since).order_by("pk"))


def test_it_reads_what_the_queryset_reads_with_each_new_value(cast, django_assert_num_queries):
    compiled = CompiledQuery("test.events", _events, run_id=int, since=dt.date)
    first, second = cast.start("004"), cast.start("004", perihal="Kedua")
    since = dt.date.today() - dt.timedelta(days=1)
    for run in (first, second):
        expected = list(_events(run_id=run.pk, since=since))
        with django_assert_num_queries(1):
            rows = compiled.rows(run_id=run.pk, since=since)
        assert [row.pk for row in rows] == [event.pk for event in expected]
        assert rows[0].run.office.name == expected[0].run.office.name
        assert rows[0]._office_zone == expected[0].run.office.time_zone
        assert rows[1].task.position == expected[1].task.position
        assert rows[0].task is None  # a NULL foreign key of select_related is None, as the ORM gives it
    assert compiled.rows(run_id=first.pk, since=dt.date.today() + dt.timedelta(days=2)) == []


def test_it_compiles_once_per_connection(cast, monkeypatch):
    built = []

    def build(**values):
        built.append(values)
        return _events(**values)

    compiled = CompiledQuery("test.events.once", build, run_id=int, since=dt.date)
    run = cast.start("004")
    for _ in range(3):
        compiled.rows(run_id=run.pk, since=dt.date.today())
    assert len(built) == 1
    assert "%s" in compiled.sql() or "?" in compiled.sql()


def test_a_locking_statement_keeps_its_lock_and_the_state_it_read(cast):
    compiled = CompiledQuery("test.lock", lambda pk: Task.objects.select_for_update().filter(pk=pk), pk=int)
    task = open_task(cast.start("004"))
    with transaction.atomic():
        [locked] = compiled.rows(pk=task.pk)
    assert locked.status == Task.Status.WAITING
    # django-fsm's ConcurrentTransitionMixin remembers the state the row was read in (the guarded UPDATE).
    assert locked._ConcurrentTransitionMixin__initial_states == {"status": Task.Status.WAITING}
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in compiled.sql()


def test_a_builder_that_drops_a_value_is_refused():
    compiled = CompiledQuery("test.unused", lambda pk: Task.objects.filter(pk=1), pk=int)
    with pytest.raises(ValueError, match="pk"):
        compiled.rows(pk=2)


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (SQLite runs the plain statement)")


def test_on_postgresql_it_is_prepared_once_per_server_connection_and_executed(cast, django_assert_num_queries):
    _postgres_only()
    compiled = CompiledQuery("test.prepared", _events, run_id=int, since=dt.date)
    run = cast.start("004")
    with django_assert_num_queries(1) as captured:  # the PREPARE is connection set-up, not counted
        rows = compiled.rows(run_id=run.pk, since=dt.date.today())
    assert captured.captured_queries[0]["sql"].startswith("EXECUTE sopflow_test_prepared(")
    assert [row.pk for row in rows] == [event.pk for event in _events(run_id=run.pk, since=dt.date.today())]
    assert prepared_sql("sopflow_test_prepared") == compiled.sql()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'sopflow_test_prepared'")
        assert cursor.fetchone() == (1,)
    compiled.rows(run_id=run.pk, since=dt.date.today())  # not prepared twice (that would be an error)


def test_with_prepared_statements_off_it_sends_the_plain_statement(cast, settings, django_assert_num_queries):
    _postgres_only()
    settings.SOPFLOW_PREPARED_STATEMENTS = False
    compiled = CompiledQuery("test.not_prepared", _events, run_id=int, since=dt.date)
    run = cast.start("004")
    with django_assert_num_queries(1) as captured:
        compiled.rows(run_id=run.pk, since=dt.date.today())
    assert captured.captured_queries[0]["sql"].startswith("SELECT ")


def test_insert_rows_writes_what_bulk_create_writes_in_one_statement(cast, django_assert_num_queries):
    run = cast.start("004")
    task = open_task(run)
    user = cast.holder(task.position)
    made = [Event(run=run, task=task, actor=user, transition="claim", source="menunggu", target="dikerjakan",
                  files=["a.pdf", "b.pdf"]),
            Event(run=run, task=None, actor=user, transition="finish", source="berjalan", target="selesai")]
    with django_assert_num_queries(1) as captured:
        assert insert_rows(made) is made
    assert captured.captured_queries[0]["sql"].startswith('INSERT INTO "procedures_event"')
    assert insert_rows([]) == []
    for event in made:
        fresh = Event.objects.get(pk=event.pk) if event.pk else None
        if connection.features.can_return_rows_from_bulk_insert:
            assert fresh is not None and not event._state.adding
            assert (fresh.run_id, fresh.task_id, fresh.actor_id, fresh.transition, fresh.files, fresh.created_at) == (
                event.run_id, event.task_id, event.actor_id, event.transition, event.files, event.created_at)
    with pytest.raises(ValueError, match="primary key"):
        insert_rows(made)
