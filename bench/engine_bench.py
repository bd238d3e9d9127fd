"""The engine in-process: one completion against a bare one-row update, and completions per second
on the Patroli flow (half the runs escalate to step 12, half end with Tidak at step 7)."""

from __future__ import annotations

import os
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench.data import PATROLI, office_name
from procedures import engine
from procedures.history import history_maintenance
from procedures.models import Event, KelengkapanItem, Office, Position, Run, SopRevision, Task, TaskCheck, TaskFile

STATEMENTS_GOAL = 6
RATIO_GOAL = 3.0


class Patroli:
    """The Patroli revision of one office, its holders and each step's kelengkapan."""

    def __init__(self, office_index: int):
        office = Office.objects.get(name=office_name(office_index))
        self.revision = SopRevision.objects.filter(sop__office=office, sop__kode=PATROLI).order_by("-number").first()
        User = get_user_model()
        self.holder = {
            position.pk: User.objects.get(pk=position.holders.order_by("pk").values_list("pk", flat=True)[0])
            for position in Position.objects.filter(office=office)
        }
        self.items: dict[int, list[int]] = {}
        for step_id, pk in KelengkapanItem.objects.filter(step__revision=self.revision).values_list("step_id", "pk"):
            self.items.setdefault(step_id, []).append(pk)
        self.starter = self.holder[self.revision.steps.get(nomor=1).column.position_id]

    def start(self, perihal: str):
        return engine.run_start(revision=self.revision, user=self.starter, perihal=perihal)

    def open_task(self, run) -> Task | None:
        return Task.objects.select_related("step").filter(run=run, status__in=Task.OPEN).first()

    def act(self, task: Task, *, escalate: bool) -> None:
        """What the step's holder does: complete, or decide (Tidak at step 7 unless escalating)."""
        user = self.holder[task.position_id]
        ticked = self.items.get(task.step_id, [])
        if task.step.is_decision:
            if escalate or task.step.nomor != 7:
                engine.task_decide(task=task, user=user, decision="ya", ticked=ticked)
            else:
                engine.task_decide(task=task, user=user, decision="tidak", reason="Tidak ada temuan pelanggaran")
        else:
            engine.task_complete(task=task, user=user, ticked=ticked, output_text="Terlaksana")


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def _data_statements(captured: list[dict]) -> int:
    return sum(1 for query in captured if not query["sql"].strip().upper().startswith(TRANSACTION_CONTROL))


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def engine_measure(*, runs: int = 100, office_index: int = 1) -> dict:
    """Statements and time of one completion against a bare update, and completions per second."""
    flow = Patroli(office_index)
    # Statements of one completion as the task page does it (a waiting task: claim and complete
    # in one transaction) and of one decision.
    run = flow.start("Bench: statements")
    task = flow.open_task(run)
    with CaptureQueriesContext(connection) as complete_queries:
        flow.act(task, escalate=True)
    for _ in range(5):
        flow.act(flow.open_task(run), escalate=True)
    task = flow.open_task(run)  # step 7, a decision
    with CaptureQueriesContext(connection) as decide_queries:
        flow.act(task, escalate=True)

    # The Patroli flow end to end: half the runs to step 12, half ending at step 7.
    started = [flow.start(f"Bench patroli {number}") for number in range(runs)]
    engine_times, decide_times, completions = [], [], 0
    wall = time.perf_counter()
    for number, run in enumerate(started):
        escalate = number % 2 == 0
        while (task := flow.open_task(run)) is not None:
            began = time.perf_counter()
            flow.act(task, escalate=escalate)
            (decide_times if task.step.is_decision else engine_times).append(time.perf_counter() - began)
            completions += 1
    wall = time.perf_counter() - wall
    engine_total = sum(engine_times) + sum(decide_times)

    # A bare ORM update of one row, committed on its own (autocommit), the same number of times.
    some = list(Task.objects.filter(run__in=started[:50]).values_list("pk", flat=True))
    update_times = []
    for index in range(len(engine_times)):
        began = time.perf_counter()
        Task.objects.filter(pk=some[index % len(some)]).update(note=f"bench {index}")
        update_times.append(time.perf_counter() - began)

    ratio = statistics.median(engine_times) / statistics.median(update_times)
    # BEGIN and COMMIT are not counted (Django's own atomic() sends them outside the captured
    # cursor; an engine that sends them through it shows them), the same for the decision.
    statements = _data_statements(complete_queries.captured_queries)
    decide_statements = _data_statements(decide_queries.captured_queries)
    return {
        "flow": PATROLI,
        "runs": runs,
        "completions": completions,
        "completion_statements": statements,
        "completion_sql": [query["sql"][:160] for query in complete_queries.captured_queries],
        "decision_statements": decide_statements,
        "decision_sql": [query["sql"][:160] for query in decide_queries.captured_queries],
        "completion_statements_with_begin_commit": len(complete_queries.captured_queries),
        "goal_statements": STATEMENTS_GOAL,
        "statements_met": statements <= STATEMENTS_GOAL and decide_statements <= STATEMENTS_GOAL,
        "completion_median_ms": _median_ms(engine_times),
        "decision_median_ms": _median_ms(decide_times),
        "bare_update_median_ms": _median_ms(update_times),
        "ratio": round(ratio, 2),
        "goal_ratio": RATIO_GOAL,
        "ratio_met": ratio <= RATIO_GOAL,
        "completions_per_second": round(completions / engine_total, 1),
        "completions_per_second_wall": round(completions / wall, 1),
    }


def _runs_forget(prefix: str) -> None:
    """Delete the runs whose subject starts with ``prefix``, with their tasks, ticks, files and events.

    The database grows from here (``bench.data`` counts the runs it holds), so the section leaves it
    as it found it. Audit events are append-only: deleted as ``history_purge`` deletes them, in
    the history maintenance block.
    """
    runs = f"SELECT id FROM {Run._meta.db_table} WHERE perihal LIKE %s"
    tasks = f"SELECT id FROM {Task._meta.db_table} WHERE run_id IN ({runs})"
    with transaction.atomic(), history_maintenance(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Event._meta.db_table} WHERE run_id IN ({runs})", [prefix + "%"])
        for model in (TaskCheck, TaskFile):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE task_id IN ({tasks})", [prefix + "%"])
        cursor.execute(f"DELETE FROM {Task._meta.db_table} WHERE run_id IN ({runs})", [prefix + "%"])
        cursor.execute(f"DELETE FROM {Run._meta.db_table} WHERE perihal LIKE %s", [prefix + "%"])


FRESH_RATIO_GOAL = 8.0  # issue 16: a completion within 8× a bare one-row UPDATE


def engine_fresh_measure(*, runs: int = 100, warmup: int = 10, office_index: int = 1) -> dict:
    """The Patroli flow the way the peer comparison (django-viewflow) measures it, run to run comparable.

    Called on the bench database right after the SOPs and users are made, before any run is
    written (a fresh database). ``warmup`` runs first, untimed (the step graph, the compiled
    statements, the connection); then ``runs`` runs, even ones escalating to step 12 and odd ones
    ending with Tidak at step 7; each completion (one engine service) is timed on its own, finding
    the open task is not. Tasks per second is completions over the summed completion times; the
    ratio is the median completion over the median of a bare one-row UPDATE in autocommit, timed
    right after each completion (a paired sample: both see the same load).
    """
    flow = Patroli(office_index)
    for number in range(warmup):
        run = flow.start(f"Bench warm-up {number}")
        while (task := flow.open_task(run)) is not None:
            flow.act(task, escalate=number % 2 == 0)
    some = list(Task.objects.values_list("pk", flat=True)[:50])
    started = [flow.start(f"Bench fresh {number}") for number in range(runs)]
    times, updates, statements = [], [], []
    for number, run in enumerate(started):
        while (task := flow.open_task(run)) is not None:
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                flow.act(task, escalate=number % 2 == 0)
                times.append(time.perf_counter() - began)
            statements.append(_data_statements(captured.captured_queries))
            began = time.perf_counter()
            Task.objects.filter(pk=some[len(updates) % len(some)]).update(note=f"bench {len(updates)}")
            updates.append(time.perf_counter() - began)
    ratio = statistics.median(times) / statistics.median(updates)
    _runs_forget("Bench ")
    return {
        "flow": PATROLI,
        "runs": runs,
        "warmup_runs": warmup,
        "completions": len(times),
        "statements_per_completion": round(statistics.mean(statements), 2),
        "tasks_per_second": round(len(times) / sum(times), 1),
        "completion_median_ms": _median_ms(times),
        "completion_p95_ms": round(sorted(times)[int(len(times) * 0.95)] * 1000, 3),
        "bare_update_median_ms": _median_ms(updates),
        "ratio": round(ratio, 2),
        "goal_ratio": FRESH_RATIO_GOAL,
        "ratio_met": ratio <= FRESH_RATIO_GOAL,
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
