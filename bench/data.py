"""Bulk data for the benchmark: offices, the five seed SOPs in each, users, and runs by COPY.

The library (offices, SOPs, positions) goes through the real importer, as an admin would load it.
Runs, tasks, ticks and events are written with PostgreSQL's COPY in the shape the engine leaves
them: one ``start`` event per run; per task ``reach``, ``claim`` and ``complete``/``decide_*``; a
``finish`` or ``cancel`` at the end; deadlines from the office's working calendar; a Tidak that
points back opens the earlier step again (``visit`` 2) and leaves the decision *sent back*.
"""

from __future__ import annotations

import datetime as dt
import io
import queue
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from procedures.library import sop_import_files
from procedures.models import Office, Position, Run, Step, Task
from procedures.monitoring.recording import task_figures
from procedures.working_calendar import calendar_for_office

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "fixtures" / "sops").glob("*.yaml"))
OFFICES = 20
PASSWORD = "bench-sopflow-2024"
PATROLI = "satpolpp-patroli-pengawasan-wilayah"
# Most offices in WIB; some in WITA and WIT, as a province-wide install would have.
ZONE_OF_OFFICE = {7: "WITA", 13: "WITA", 17: "WITA", 19: "WIT"}

# The mix of runs: finished, cancelled, running now (open task reached in the last days), and
# running but stuck for weeks (overdue).
MIX = (("finished", 0.85), ("cancelled", 0.05), ("running", 0.09), ("stuck", 0.01))
YES_SHARE = 0.8


def office_name(index: int) -> str:
    return f"Pemerintah Kabupaten Contoh {index + 1:02d}"


def username(office_index: int, position_name: str) -> str:
    return f"b{office_index + 1:02d}-{slugify(position_name)}"[:150]


def seed_copy(text: str, *, instansi: str, zone: str) -> bytes:
    """A seed file as another office's: the same kode, its own ``instansi`` and time zone."""
    lines = [line for line in text.splitlines() if not line.startswith("zona_waktu:")]
    out = []
    for line in lines:
        if line.startswith("instansi:"):
            out += [f"instansi: {instansi}", f"zona_waktu: {zone}"]
        else:
            out.append(line)
    return ("\n".join(out) + "\n").encode()


def library_create() -> dict:
    """Import the five seeds into 20 offices through the importer; one user per position."""
    texts = [path.read_text(encoding="utf-8") for path in SEEDS]
    files = []
    for index in range(OFFICES):
        zone = ZONE_OF_OFFICE.get(index, "WIB")
        for path, text in zip(SEEDS, texts):
            files.append((f"{index:02d}-{path.name}", seed_copy(text, instansi=office_name(index), zone=zone)))
    results = sop_import_files(files=files)
    refused = [line for result in results if result.refused for line in result.lines()]
    if refused:
        raise RuntimeError("seed import refused:\n" + "\n".join(refused))

    User = get_user_model()
    hashed = make_password(PASSWORD)  # one hash (salt included) for every bench user
    offices = {office.name: office for office in Office.objects.all()}
    users, holders = [], []
    for index in range(OFFICES):
        office = offices[office_name(index)]
        for position in Position.objects.filter(office=office).order_by("name"):
            users.append(User(username=username(index, position.name), password=hashed,
                              first_name=position.name[:150], last_name=f"({index + 1:02d})", is_active=True))
            holders.append(position)
    User.objects.bulk_create(users)
    by_name = {user.username: user.pk for user in User.objects.filter(username__startswith="b")}
    Through = Position.holders.through
    Through.objects.bulk_create([
        Through(position_id=position.pk, user_id=by_name[username(int(position.office.name[-2:]) - 1, position.name)])
        for position in holders
    ])
    return {"offices": len(offices), "sops": len(files), "users": len(users)}


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


@dataclass
class StepInfo:
    pk: int
    nomor: int
    decision: bool
    end: bool
    position_id: int
    user_id: int
    amount: int
    unit: str
    ya: int | None = None
    tidak: int | None = None
    items: list[int] = field(default_factory=list)
    output: str = ""


@dataclass
class SopInfo:
    revision_id: int
    office_id: int
    kode: str
    steps: dict[int, StepInfo]
    order: list[int]
    calendar: object

    def next_after(self, nomor: int) -> int | None:
        index = self.order.index(nomor)
        return self.order[index + 1] if index + 1 < len(self.order) else None


def _esc(text: str) -> str:
    """A value for COPY's text format."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def library_info() -> list[SopInfo]:
    """Every revision's steps with their holders, for the generator (a handful of queries)."""
    holder = dict(Position.holders.through.objects.values_list("position_id", "user_id"))
    items: dict[int, list[int]] = {}
    from procedures.models import KelengkapanItem

    for step_id, pk in KelengkapanItem.objects.order_by("step_id", "order").values_list("step_id", "pk"):
        items.setdefault(step_id, []).append(pk)
    calendars = {office.pk: calendar_for_office(office) for office in Office.objects.all()}
    infos: dict[int, SopInfo] = {}
    steps = Step.objects.select_related("column", "ya_step", "tidak_step", "revision__sop").order_by("revision_id", "nomor")
    for step in steps:
        revision = step.revision
        info = infos.get(revision.pk)
        if info is None:
            info = infos[revision.pk] = SopInfo(revision.pk, revision.sop.office_id, revision.sop.kode, {}, [],
                                                calendars[revision.sop.office_id])
        position_id = step.column.position_id
        info.steps[step.nomor] = StepInfo(
            pk=step.pk, nomor=step.nomor, decision=step.is_decision, end=step.simbol == Step.Symbol.END,
            position_id=position_id, user_id=holder[position_id], amount=step.waktu_max, unit=step.waktu_unit,
            ya=step.ya_step.nomor if step.ya_step else None, tidak=step.tidak_step.nomor if step.tidak_step else None,
            items=items.get(step.pk, []), output=_esc(step.output[:80]),
        )
        info.order.append(step.nomor)
    return sorted(infos.values(), key=lambda info: (info.office_id, info.kode))


def walk(info: SopInfo, rng: random.Random) -> list[tuple[StepInfo, str, bool]]:
    """A path through the sheet: (step, decision, goes back) per task, as people would answer."""
    path, visits = [], {}
    nomor = info.order[0]
    while nomor is not None:
        step = info.steps[nomor]
        visits[nomor] = visits.get(nomor, 0) + 1
        if step.decision:
            yes = rng.random() < YES_SHARE
            if visits[nomor] > 1:  # a second Tidak back would loop; people answer Ya the second time
                back_if_no = step.tidak is not None and step.tidak <= nomor
                yes = yes or back_if_no
            target = step.ya if yes else step.tidak
            path.append((step, "ya" if yes else "tidak", target is not None and target <= nomor))
            nomor = target
        else:
            path.append((step, "", False))
            nomor = None if step.end else info.next_after(nomor)
    return path


class Writer:
    """Rows for COPY, with the ids assigned here (the bench is the only writer)."""

    def __init__(self, start_ids: dict[str, int]):
        self.ids = dict(start_ids)
        self.runs, self.tasks, self.checks, self.events = io.StringIO(), io.StringIO(), io.StringIO(), io.StringIO()
        self.counts = {"runs": 0, "tasks": 0, "checks": 0, "events": 0}

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def event(self, run_id, task_id, actor, transition, source, target, at, reason=""):
        pk = self.next_id("event")
        self.events.write(f"{pk}\t{run_id}\t{task_id}\t{actor}\t\\N\t\t{transition}\t{source}\t{target}\t{reason}\t[]\t{at}\n")
        self.counts["events"] += 1


RUN_COLUMNS = "(id, revision_id, office_id, perihal, status, started_by_id, started_at, ended_at, cancel_reason)"
TASK_COLUMNS = ("(id, run_id, step_id, position_id, status, visit, previous_id, created_at, due_at, assignee_id, "
                "claimed_at, completed_by_id, acting_id, completed_at, decision, reason, return_reason, output_text, note, "
                "worked_minutes, standard_minutes, within_standard)")
# An open or cancelled task has no monitoring figures (procedures.monitoring.recording).
NO_FIGURES = "\t\\N\t\\N\t\\N"
CHECK_COLUMNS = "(id, task_id, item_id)"
EVENT_COLUMNS = "(id, run_id, task_id, actor_id, acting_id, acting_title, transition, source, target, reason, files, created_at)"
NULL = "\\N"
NO_REASON = "Tidak sesuai; perbaiki dan ajukan lagi"


def _minutes(rng: random.Random, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(minutes=rng.uniform(low, high))


def generate_run(w: Writer, info: SopInfo, kind: str, rng: random.Random, now: dt.datetime, number: int) -> None:
    """One run and everything the engine would have written for it."""
    path = walk(info, rng)
    cal = info.calendar
    if kind == "finished":
        stop = len(path)
    else:
        stop = rng.randrange(len(path))  # index of the open (or cancelled) task
    # Times: running runs are laid out backwards from a recent moment, the others forwards.
    if kind == "running":
        open_at = now - dt.timedelta(hours=rng.expovariate(1 / 10))
        created = [open_at]
        for _ in range(stop):
            created.append(created[-1] - _minutes(rng, 5, 600))
        created.reverse()
    elif kind == "stuck":
        open_at = now - dt.timedelta(days=rng.uniform(20, 60))
        created = [open_at]
        for _ in range(stop):
            created.append(created[-1] - _minutes(rng, 5, 600))
        created.reverse()
    else:
        created = [now - dt.timedelta(days=rng.uniform(20, 3 * 365))]
    started_at = created[0]
    run_id = w.next_id("run")
    first = path[0][0]
    starter = first.user_id
    w.event(run_id, NULL, starter, "start", "", "berjalan", started_at)
    previous_id, previous_actor = NULL, starter
    visits: dict[int, int] = {}
    return_reason = ""
    at = started_at
    for index, (step, decision, back) in enumerate(path[: stop + 1] if kind != "finished" else path):
        task_id = w.next_id("task")
        at = created[index] if index < len(created) else at
        due = cal.add(at, step.amount, step.unit)
        visits[step.pk] = visit = visits.get(step.pk, 0) + 1
        w.event(run_id, task_id, previous_actor, "reach", "", "menunggu", at, return_reason)
        user = step.user_id
        is_open = kind != "finished" and index == stop
        if is_open:
            claimed = rng.random() < 0.4
            claimed_at = at + _minutes(rng, 1, 30)
            if kind == "cancelled":
                ended = at + _minutes(rng, 60, 4000)
                source = "dikerjakan" if claimed else "menunggu"
                if claimed:
                    w.event(run_id, task_id, user, "claim", "menunggu", "dikerjakan", claimed_at)
                w.tasks.write(f"{task_id}\t{run_id}\t{step.pk}\t{step.position_id}\tdibatalkan\t{visit}\t{previous_id}\t{at}\t{due}\t"
                              f"{user if claimed else NULL}\t{claimed_at if claimed else NULL}\t{NULL}\t{NULL}\t{ended}\t\t\t{return_reason}\t\t"
                              f"{NO_FIGURES}\n")
                w.counts["tasks"] += 1
                reason = "Kegiatan dibatalkan oleh pimpinan"
                w.event(run_id, NULL, starter, "cancel", "berjalan", "dibatalkan", ended, reason)
                w.event(run_id, task_id, starter, "cancel", source, "dibatalkan", ended, reason)
                w.runs.write(f"{run_id}\t{info.revision_id}\t{info.office_id}\tBench {number}\tdibatalkan\t{starter}\t{started_at}\t{ended}\t{reason}\n")
                w.counts["runs"] += 1
                return
            if claimed and claimed_at < now:
                w.event(run_id, task_id, user, "claim", "menunggu", "dikerjakan", claimed_at)
                w.tasks.write(f"{task_id}\t{run_id}\t{step.pk}\t{step.position_id}\tdikerjakan\t{visit}\t{previous_id}\t{at}\t{due}\t"
                              f"{user}\t{claimed_at}\t{NULL}\t{NULL}\t{NULL}\t\t\t{return_reason}\t\t{NO_FIGURES}\n")
            else:
                w.tasks.write(f"{task_id}\t{run_id}\t{step.pk}\t{step.position_id}\tmenunggu\t{visit}\t{previous_id}\t{at}\t{due}\t"
                              f"{NULL}\t{NULL}\t{NULL}\t{NULL}\t{NULL}\t\t\t{return_reason}\t\t{NO_FIGURES}\n")
            w.counts["tasks"] += 1
            w.runs.write(f"{run_id}\t{info.revision_id}\t{info.office_id}\tBench {number}\tberjalan\t{starter}\t{started_at}\t{NULL}\t\n")
            w.counts["runs"] += 1
            return
        # A finished task: claimed, then completed (mostly in time, sometimes late).
        span = due - at
        done_at = at + span * rng.uniform(0.1, 1.0 if rng.random() < 0.9 else 1.8)
        if index + 1 < len(created):
            done_at = min(done_at, created[index + 1])
        claimed_at = at + (done_at - at) * 0.1
        w.event(run_id, task_id, user, "claim", "menunggu", "dikerjakan", claimed_at)
        if decision:
            status = "dikembalikan" if back else "selesai"
            reason = NO_REASON if decision == "tidak" else ""
            output = ""
            w.event(run_id, task_id, user, f"decide_{decision}", "dikerjakan", status, done_at, reason)
            ticked = step.items if decision == "ya" else ()
        else:
            status, reason, output = "selesai", "", step.output
            w.event(run_id, task_id, user, "complete", "dikerjakan", status, done_at)
            ticked = step.items
        figures = task_figures(cal, reached=at, done=done_at, amount=step.amount, unit=step.unit)
        w.tasks.write(f"{task_id}\t{run_id}\t{step.pk}\t{step.position_id}\t{status}\t{visit}\t{previous_id}\t{at}\t{due}\t"
                      f"{user}\t{claimed_at}\t{user}\t{NULL}\t{done_at}\t{decision}\t{reason}\t{return_reason}\t{output}\t"
                      f"\t{figures.worked_minutes}\t{figures.standard_minutes}\t{'t' if figures.within_standard else 'f'}\n")
        w.counts["tasks"] += 1
        for item in ticked:
            w.checks.write(f"{w.next_id('check')}\t{task_id}\t{item}\n")
            w.counts["checks"] += 1
        return_reason = reason if back else ""
        previous_id, previous_actor = task_id, user
        if index + 1 >= len(created):
            created.append(done_at)
        at = done_at
    w.event(run_id, NULL, previous_actor, "finish", "berjalan", "selesai", at)
    w.runs.write(f"{run_id}\t{info.revision_id}\t{info.office_id}\tBench {number}\tselesai\t{starter}\t{started_at}\t{at}\t\n")
    w.counts["runs"] += 1


TABLES = {
    "run": ("procedures_run", RUN_COLUMNS),
    "task": ("procedures_task", TASK_COLUMNS),
    "check": ("procedures_taskcheck", CHECK_COLUMNS),
    "event": ("procedures_event", EVENT_COLUMNS),
}


def _max_ids(cursor) -> dict[str, int]:
    ids = {}
    for key, (table, _columns) in TABLES.items():
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        ids[key] = cursor.fetchone()[0]
    return ids


def _copy(cursor, writer: Writer) -> None:
    for key, buffer in (("run", writer.runs), ("task", writer.tasks), ("check", writer.checks), ("event", writer.events)):
        table, columns = TABLES[key]
        buffer.seek(0)
        cursor.copy_expert(f"COPY {table} {columns} FROM STDIN", buffer, size=1 << 20)


def runs_grow(*, to: int, infos: list[SopInfo], seed: int = 7, chunk: int = 5000,
              now: dt.datetime | None = None) -> dict[str, int]:
    """Add runs until the database holds ``to`` bench runs; returns the rows written."""
    now = now or timezone.now()
    have = Run.objects.count()
    rng = random.Random(seed * 1_000_003 + have)
    by_office: dict[int, list[SopInfo]] = {}
    for info in infos:
        by_office.setdefault(info.office_id, []).append(info)
    offices = sorted(by_office)
    kinds = [kind for kind, _share in MIX]
    weights = [share for _kind, share in MIX]
    totals = {"runs": 0, "tasks": 0, "checks": 0, "events": 0}
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        # The rows are consistent by construction: skip the per-row foreign key triggers.
        cursor.execute("SET LOCAL session_replication_role = replica")
        ids = _max_ids(cursor)
        number = have
        # COPY of one chunk in a thread while the next one is generated: the database's work
        # and Python's overlap on two cores (psycopg2 lets go of the GIL while it sends).
        pending: queue.Queue = queue.Queue(maxsize=2)
        failure: list[BaseException] = []

        def copier():
            while (writer := pending.get()) is not None:
                try:
                    if not failure:
                        _copy(cursor, writer)
                except BaseException as error:  # reported by the main thread
                    failure.append(error)

        thread = threading.Thread(target=copier, daemon=True)
        thread.start()
        try:
            while number < to and not failure:
                writer = Writer(ids)
                for _ in range(min(chunk, to - number)):
                    number += 1
                    if number <= 10:
                        # The first runs: every SOP of the first office is under way, so its
                        # people have an inbox at the smallest size too.
                        info, kind = by_office[offices[0]][(number - 1) % 5], "running"
                    else:
                        info = rng.choice(by_office[offices[rng.randrange(len(offices))]])
                        kind = rng.choices(kinds, weights)[0]
                    generate_run(writer, info, kind, rng, now, number)
                pending.put(writer)
                ids = writer.ids
                for key in totals:
                    totals[key] += writer.counts[key]
        finally:
            pending.put(None)
            thread.join()
        if failure:
            raise failure[0]
        for key, (table, _columns) in TABLES.items():
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST(MAX(id), 1)) FROM {table}")
    with connection.cursor() as cursor:
        # What autovacuum would do soon after such a load: the visibility map for index-only scans,
        # and statistics of every table (the small ones too: the planner misjudges joins without).
        for table, _columns in TABLES.values():
            cursor.execute(f"VACUUM {table}")
        cursor.execute("ANALYZE")
    return totals


def table_sizes() -> dict[str, int]:
    with connection.cursor() as cursor:
        sizes = {}
        for key, (table, _columns) in TABLES.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            sizes[key + "s"] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        sizes["database_bytes"] = cursor.fetchone()[0]
    sizes["open_tasks"] = Task.objects.filter(status__in=Task.OPEN).count()
    return sizes
