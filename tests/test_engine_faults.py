"""Completions over HTTP while the database connections of the app are terminated and a worker is
killed: afterwards the tasks and events match the requests that succeeded — no lost transition,
no doubled one, nothing half-written by a request that failed.

gunicorn serves the app (sopflow/gunicorn.conf.py, as bench/http_load.py starts it) on the test
database, with persistent connections as in production. Client threads complete the runs of
Bina Potensi Masyarakat step by step, each run by one client, as its steps' holders; meanwhile a
fault thread terminates the app's PostgreSQL backends (``pg_terminate_backend``, by application
name) six times and SIGKILLs a gunicorn worker twice within six seconds. A request that fails
(a 500, a dropped connection) is simply tried again from the run's open task, as a person would
reload the page. Every wait has a timeout and gunicorn is stopped whatever happens.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils.crypto import get_random_string

from bench.http_load import free_port, gunicorn_start, gunicorn_stop, multipart, worker_pids
from procedures import engine
from procedures.demo import demo_users_create
from procedures.library import sop_import
from procedures.models import Event, KelengkapanItem, Run, SopRevision, Task, TaskCheck
from tests.engine_fixtures import KODE, SEEDS

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates PostgreSQL backends"),
    pytest.mark.django_db(transaction=True),
]

APP = "sopflow-fault-app"  # the application_name of gunicorn's connections: the only ones terminated
CLIENTS = 4
WORKERS = 3
# More runs than the clients can finish: the load lasts LOAD_SECONDS on a fast machine too (a client
# waits PAUSE between two requests, as a person would; at most ~4 × 40 completions a second).
RUNS = 80
PAUSE = 0.025
LOAD_SECONDS = 10.0
# Seconds into the load: terminate the app's backends, or SIGKILL a worker. Spaced, and none in
# the last four seconds, so that on a slow machine too requests succeed between and after them.
FAULTS = ((1.0, "terminate"), (1.7, "terminate"), (2.4, "kill"), (3.1, "terminate"), (3.8, "terminate"),
          (4.5, "kill"), (5.2, "terminate"), (5.9, "terminate"))
REQUEST_TIMEOUT = 10  # seconds, for every HTTP request (gunicorn's worker timeout is the same)


def database_url(**options: str) -> str:
    db = connection.settings_dict
    query = "&".join(f"{key}={value}" for key, value in options.items())
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}?{query}"


def psycopg(name: str):
    db = connection.settings_dict
    conn = psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
                            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, application_name=name,
                            connect_timeout=5, options="-c statement_timeout=5000")
    conn.autocommit = True
    return conn


@dataclass
class Attempt:
    task: int
    user: int
    outcome: str  # "302", "409", "500", … or the name of the connection error
    at: float  # time.monotonic() when the answer came


@dataclass
class Faults:
    terminated: Counter = field(default_factory=Counter)  # backend state at termination -> count
    killed_workers: list[tuple[int, float]] = field(default_factory=list)  # pid, when
    last: float = 0.0  # time.monotonic() of the last fault
    error: BaseException | None = None


class Completer(threading.Thread):
    """One person at a browser working through their runs; every request has a timeout."""

    def __init__(self, port: int, runs: list[int], sessions: dict[int, str], holders: dict[int, int],
                 items: dict[int, list[int]], deadline: float):
        super().__init__(daemon=True)
        self.port, self.runs, self.sessions, self.holders = port, runs, sessions, holders
        self.items, self.deadline = items, deadline
        self.attempts: list[Attempt] = []
        self.error: BaseException | None = None

    def run(self):
        try:
            db = psycopg("sopflow-fault-clients")
            try:
                self._work(db.cursor())
            finally:
                db.close()
        except BaseException as error:  # reported by the test
            self.error = error

    def _work(self, cursor):
        for run_id in self.runs:
            while time.monotonic() < self.deadline:
                cursor.execute("SELECT id, step_id, position_id FROM procedures_task "
                               "WHERE run_id = %s AND status IN ('menunggu', 'dikerjakan')", [run_id])
                row = cursor.fetchone()
                if row is None:
                    break  # the run has finished
                task_id, step_id, position_id = row
                user = self.holders[position_id]
                outcome = self._complete(task_id, self.items[step_id], self.sessions[user])
                self.attempts.append(Attempt(task_id, user, outcome, time.monotonic()))
                time.sleep(PAUSE if outcome in ("302", "409") else 2 * PAUSE)  # a failure: reload the page

    def _complete(self, task_id: int, items: list[int], session: str) -> str:
        token = get_random_string(32)
        fields = [("csrfmiddlewaretoken", token), *(("ticked", str(pk)) for pk in items),
                  ("output_text", "Terlaksana"), ("note", "")]
        body, content_type = multipart(fields)
        headers = {"Content-Type": content_type,
                   "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}"}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request("POST", f"/tugas/{task_id}/selesaikan/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            return str(response.status)
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        finally:
            conn.close()


def make_faults(faults: Faults, master: int, started: float, stop: threading.Event) -> None:
    """Terminate the app's PostgreSQL backends, or kill a gunicorn worker, as FAULTS says."""
    try:
        db = psycopg("sopflow-fault-killer")
        cursor = db.cursor()
        for at, fault in FAULTS:
            if stop.wait(max(0.0, started + at - time.monotonic())):
                break
            if fault == "terminate":
                cursor.execute("SELECT state, pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = %s AND datname = current_database()", [APP])
                for state, done in cursor.fetchall():
                    if done:
                        faults.terminated[state or "?"] += 1
            else:
                workers = worker_pids(master)
                if workers:
                    os.kill(workers[0], signal.SIGKILL)
                    faults.killed_workers.append((workers[0], time.monotonic()))
            faults.last = time.monotonic()
        db.close()
    except BaseException as error:  # reported by the test
        faults.error = error


@pytest.fixture
def world(settings):
    """Bina Potensi Masyarakat, its demo holders signed in, RUNS runs started: all committed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    path = next(SEEDS.glob("000-*.yaml"))
    assert not sop_import(data=path.read_bytes(), source=path.name).refused
    demo_users_create()
    revision = SopRevision.objects.get(sop__kode=KODE["000"])
    columns = list(revision.columns.select_related("position"))
    holders = {column.position_id: column.position.holders.get().pk for column in columns}
    first = revision.steps.order_by("nomor").first().column.position.holders.get()
    runs = [engine.run_start(revision=revision, user=first, perihal=f"Uji gangguan {n}").pk for n in range(RUNS)]
    sessions = {}
    for user in {column.position.holders.get() for column in columns}:
        client = Client()
        client.force_login(user)
        sessions[user.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value
    items = defaultdict(list)
    for step_id, item in KelengkapanItem.objects.filter(step__revision=revision).values_list("step_id", "pk"):
        items[step_id].append(item)
    return revision, runs, sessions, holders, items


def load_with_faults(port: int, master: int, world) -> tuple[list[Attempt], Faults]:
    """CLIENTS threads completing tasks for LOAD_SECONDS while the fault thread does its work."""
    _revision, runs, sessions, holders, items = world
    faults, stop = Faults(), threading.Event()
    started = time.monotonic()
    clients = [Completer(port, runs[index::CLIENTS], sessions, holders, items, started + LOAD_SECONDS)
               for index in range(CLIENTS)]
    killer = threading.Thread(target=make_faults, args=(faults, master, started, stop), daemon=True)
    try:
        for thread in (*clients, killer):
            thread.start()
        for thread in clients:
            thread.join(timeout=LOAD_SECONDS + 2 * REQUEST_TIMEOUT)
    finally:
        stop.set()
        killer.join(timeout=10)
    hung = [thread.name for thread in (*clients, killer) if thread.is_alive()]
    assert not hung, f"threads still waiting after their timeouts: {hung}"
    errors = [thread.error for thread in clients if thread.error] + [faults.error] * bool(faults.error)
    assert not errors, errors
    return [attempt for thread in clients for attempt in thread.attempts], faults


def ledger_problems(revision: SopRevision, runs: list[int], attempts: list[Attempt]) -> list[str]:
    """What the database says against what the clients were told; empty when they agree exactly."""
    steps = revision.steps.count()
    tasks = list(Task.objects.filter(run_id__in=runs).select_related("step").order_by("run_id", "created_at", "pk"))
    events = Counter(Event.objects.filter(run_id__in=runs).values_list("task_id", "transition"))
    run_events = Counter(Event.objects.filter(run_id__in=runs, task=None).values_list("run_id", "transition"))
    ticked = Counter(TaskCheck.objects.filter(task__run_id__in=runs).values_list("task_id", flat=True))
    required = Counter(KelengkapanItem.objects.filter(step__revision=revision).values_list("step_id", flat=True))
    problems = []
    # Each task whole: done with its reach, claim and completion and every item ticked, or
    # waiting with its reach alone. A claimed task was claimed by a request that then failed.
    for task in tasks:
        has = {transition: events[task.pk, transition] for transition in ("reach", "claim", "complete")}
        if task.status == Task.Status.DONE:
            want, checks = {"reach": 1, "claim": 1, "complete": 1}, required[task.step_id]
        elif task.status == Task.Status.WAITING:
            want, checks = {"reach": 1, "claim": 0, "complete": 0}, 0
        else:
            problems.append(f"task {task.pk} is {task.status}: half-written by a failed completion")
            continue
        if has != want or ticked[task.pk] != checks:
            problems.append(f"task {task.pk} ({task.status}): events {has}, {ticked[task.pk]} items ticked")
    # Each run whole: steps reached once each in order, at most one open, finished at the end.
    for run in Run.objects.filter(pk__in=runs):
        mine = [task for task in tasks if task.run_id == run.pk]
        nomors = [task.step.nomor for task in mine]
        open_tasks = [task for task in mine if task.is_open]
        finished = len(mine) == steps and not open_tasks
        if nomors != list(range(1, len(nomors) + 1)):
            problems.append(f"run {run.pk}: steps reached {nomors} (a step lost or reached twice)")
        if (run.status == Run.Status.FINISHED) != finished or len(open_tasks) > 1:
            problems.append(f"run {run.pk} is {run.status} with {len(mine)} tasks, {len(open_tasks)} open")
        if (run_events[run.pk, "start"], run_events[run.pk, "finish"]) != (1, int(finished)):
            problems.append(f"run {run.pk}: {run_events[run.pk, 'start']} start and "
                            f"{run_events[run.pk, 'finish']} finish events")
    # Every success is a done task completed by whoever posted it, once; a done task nobody was
    # told of was committed by a request whose answer was lost on the way (a failed one).
    succeeded = Counter(attempt.task for attempt in attempts if attempt.outcome == "302")
    failed = {attempt.task for attempt in attempts if attempt.outcome not in ("302", "409")}
    problems += [f"task {pk}: {count} successful completions" for pk, count in succeeded.items() if count > 1]
    posted_by = {attempt.task: attempt.user for attempt in attempts if attempt.outcome == "302"}
    done = {task.pk for task in tasks if task.status == Task.Status.DONE}
    problems += [f"task {task.pk}: the request succeeded but the task is {task.status} "
                 f"(completed by {task.completed_by_id})" for task in tasks
                 if task.pk in posted_by and (task.pk not in done or task.completed_by_id != posted_by[task.pk])]
    if done - set(succeeded) - failed:
        problems.append(f"tasks done without any request for them: {sorted(done - set(succeeded) - failed)}")
    return problems


def test_completions_survive_killed_connections_and_workers(world, tmp_path):
    revision, runs, *_rest = world
    log = tmp_path / "gunicorn.log"
    # The sessions were made here: the same SECRET_KEY. DEBUG serves the static files without
    # collectstatic (as the bench's tiny run does); connections persist as in production.
    env = {"SECRET_KEY": settings.SECRET_KEY, "DEBUG": "1", "CONN_MAX_AGE": "60", "CONN_HEALTH_CHECKS": "1",
           "GUNICORN_TIMEOUT": str(REQUEST_TIMEOUT), "GUNICORN_GRACEFUL_TIMEOUT": "3"}
    port = free_port()
    process = gunicorn_start(database_url=database_url(application_name=APP), static_root=str(tmp_path / "static"),
                             workers=WORKERS, port=port, log=log, env=env)
    try:
        attempts, faults = load_with_faults(port, process.pid, world)
    finally:
        gunicorn_stop(process)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # a worker left behind
        except ProcessLookupError:
            pass

    outcomes = Counter(attempt.outcome for attempt in attempts)
    # The faults hit requests under way, and the site answered again after each.
    assert len(faults.killed_workers) == sum(fault == "kill" for _at, fault in FAULTS), faults
    assert faults.terminated["active"] + faults.terminated["idle in transaction"] > 0, faults.terminated
    assert any(attempt.outcome not in ("302", "409") for attempt in attempts), f"no request failed: {outcomes}"
    assert any(attempt.outcome == "302" and attempt.at > faults.last for attempt in attempts), (
        f"nothing succeeded after the last fault ({outcomes})")
    problems = ledger_problems(revision, runs, attempts)
    assert not problems, "\n".join(problems) + f"\n(outcomes {dict(outcomes)}, {faults})\n" + log.read_text()[-3000:]
