"""Reads for pages: what a user may see, with the rows each page needs in a fixed number of queries.

Rules about *acting* live in :mod:`procedures.permissions` and :mod:`procedures.engine`; this module
only finds things. Every function here uses ``select_related``/``prefetch_related`` so that a page
costs the same number of queries with ten runs or a hundred thousand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from procedures import step_graph
from procedures.compiled import CompiledQuery
from procedures.models import (
    ActingAssignment,
    KelengkapanItem,
    Office,
    Position,
    Run,
    Sop,
    SopRevision,
    Step,
    Task,
    TaskFile,
)

TASK_RELATED = (
    "run__revision__sop", "run__office", "step__column", "position__office", "assignee", "previous__position",
)


@dataclass(frozen=True)
class ActingRole:
    """A Plt/Plh appointment of today, as the acting banner says it: "Plh Kasat Pol PP" until a date."""

    position_id: int
    kind: str
    position_name: str
    ends_on: dt.date

    @property
    def title(self) -> str:
        return f"{ActingAssignment.Kind(self.kind).label.split()[0]} {self.position_name}"


@dataclass(frozen=True)
class Standing:
    """The positions a user may act for now: held ones and those of today's Plt/Plh."""

    held: frozenset[int]
    acting: frozenset[int]
    offices: frozenset[int]
    # The offices where one of those positions ranks above staff: the heads' pages (no query of their own).
    head_offices: frozenset[int] = frozenset()
    # Today's Plt/Plh appointments: what the pages tell the user they act as (read with the rest).
    acting_roles: tuple[ActingRole, ...] = ()

    @property
    def head(self) -> bool:
        return bool(self.head_offices)

    @property
    def position_ids(self) -> frozenset[int]:
        return self.held | self.acting


def standing_of(user) -> Standing:
    """One query: the positions held and those of the acting appointments covering today."""
    if not user.is_authenticated:
        return Standing(frozenset(), frozenset(), frozenset())
    # Today differs between WIB and WIT near midnight: read on a day's margin, compare per office.
    today = timezone.localdate()
    no_date = Value(None, output_field=DateField())
    no_text = Value("", output_field=CharField())
    held = Position.objects.filter(holders=user).order_by().values_list(
        "pk", "office_id", "level", no_text, no_date, no_date, no_text, no_text)
    acting = ActingAssignment.objects.filter(
        user=user, starts_on__lte=today + dt.timedelta(days=1), ends_on__gte=today - dt.timedelta(days=1),
    ).order_by().values_list("position_id", "position__office_id", "position__level", "position__office__time_zone",
                             "starts_on", "ends_on", "kind", "position__name")
    held_ids, acting_ids, offices, head_offices = set(), set(), set(), set()
    roles = []
    for position, office, level, zone, starts_on, ends_on, kind, name in held.union(acting, all=True):
        if starts_on is None:
            held_ids.add(position)
        elif starts_on <= timezone.localdate(timezone=ZoneInfo(zone)) <= ends_on:
            acting_ids.add(position)
            roles.append(ActingRole(position, kind, name, ends_on))
        else:
            continue
        offices.add(office)
        if level < Position.Level.STAFF:
            head_offices.add(office)
    roles.sort(key=lambda role: (role.ends_on, role.position_name))
    return Standing(frozenset(held_ids), frozenset(acting_ids), frozenset(offices), frozenset(head_offices),
                    tuple(role for role in roles if role.position_id not in held_ids))


def request_standing(request) -> Standing:
    """The signed-in user's standing, read once per request (the view and the navigation bar share it)."""
    if getattr(request, "_standing_user", None) is not request.user:
        request._standing = standing_of(request.user)
        request._standing_user = request.user
    return request._standing


def _open_tasks() -> QuerySet[Task]:
    return Task.objects.filter(status__in=Task.OPEN, run__status=Run.Status.RUNNING).select_related(*TASK_RELATED)


# What an inbox row shows (templates/procedures/partials/task_list.html): five tables, not twelve
# (PostgreSQL spent longer planning the twelve-table join than running it), and no long texts. The
# runs' status is read because django-fsm reads a model's state fields when it loads a row.
INBOX_ROW = (
    "status", "visit", "due_at", "assignee_id", "run__perihal", "run__status", "run__revision__nama", "step__nomor",
    "step__kegiatan", "position__name", "position__office__time_zone",
)


def my_tasks(user, standing: Standing) -> list[Task]:
    """Tasks I claimed, then waiting tasks of my positions, by due time (with what a row shows).

    Each carries ``is_approval`` (:func:`approval_filter`): a head's inbox leaves those to Persetujuan.
    """
    return list(
        Task.objects.filter(status__in=Task.OPEN, run__status=Run.Status.RUNNING)
        .filter(Q(assignee=user, status=Task.Status.IN_PROGRESS)
                | Q(status=Task.Status.WAITING, position_id__in=standing.position_ids))
        .select_related("run__revision", "step", "position__office")
        .only(*INBOX_ROW)
        .annotate(is_approval=Case(When(approval_filter(), then=Value(True)), default=Value(False),
                                   output_field=BooleanField()))
        .order_by("due_at", "pk")[:200]
    )


def approval_filter() -> Q:
    """A decision, or a step that moves the run up to a higher-ranked position (a telaahan)."""
    return Q(step__simbol=Step.Symbol.DECISION) | Q(position__level__lt=F("previous__position__level"))


def approvals(user, standing: Standing) -> list[Task]:
    """Decisions and telaahan waiting for my positions (claimed by me or by nobody)."""
    tasks = (
        _open_tasks()
        .filter(approval_filter(), position_id__in=standing.position_ids)
        .filter(Q(assignee__isnull=True) | Q(assignee=user))
        .prefetch_related(Prefetch("previous__files", queryset=TaskFile.objects.order_by("pk")))
        .order_by("due_at", "pk")[:200]
    )
    return list(tasks)


def nav_counts(user, standing: Standing) -> dict[str, int]:
    """Counts for the navigation bar: my open tasks and my approvals, in one query.

    A head's approvals are counted under Persetujuan only (the inbox leaves them there too), so
    "Tugas saya" and "Persetujuan" never count one task twice. Someone who is no head has no
    Persetujuan: every task counts under "Tugas saya".
    """
    ids = standing.position_ids
    mine = Q(assignee=user, status=Task.Status.IN_PROGRESS)
    if not ids:  # nothing waits for me and nothing is mine to approve
        return {"tasks": Task.objects.filter(mine, run__status=Run.Status.RUNNING).count(), "approvals": 0}
    counts = Task.objects.filter(
        mine | Q(status=Task.Status.WAITING, position_id__in=ids),
        status__in=Task.OPEN, run__status=Run.Status.RUNNING,
    ).aggregate(
        tasks=Count("pk"),
        approvals=Count("pk", filter=approval_filter() & Q(position_id__in=ids)),
    )
    if is_head_anywhere(user, standing):
        counts["tasks"] -= counts["approvals"]
    else:
        counts["approvals"] = 0
    return counts


def _task_page_queryset(*, pk: int) -> QuerySet[Task]:
    # Eight tables, most of them LEFT JOINs: PostgreSQL planned the sixteen-table join of the page
    # for 16 ms and ran it in 0.3 ms (issue 16). The step comes from the step graph, the office of
    # the position is the run's, the people are read in one more query.
    return (Task.objects.select_related("run__revision", "run__office", "position", "previous__position", "acting")
            .filter(pk=pk))


_TASK_PAGE = CompiledQuery("selectors.task_page", _task_page_queryset, pk=int)


def _task_with_page_rows(task: Task) -> Task:
    """Put on a task what its page shows, from memory and one query of the people it names."""
    run = task.run
    task.position.office = run.office  # a run's positions are its office's
    graph = step_graph.graph_for(run.revision_id, run.revision.imported_at)
    task.step = graph.step(task.step_id)
    if task.acting is not None and task.acting.position_id == task.position_id:
        task.acting.position = task.position  # one acts for the position of the task one does
    previous = task.previous
    if previous is not None:
        previous.position.office = run.office
    wanted = {run.started_by_id, task.assignee_id, task.completed_by_id,
              previous.completed_by_id if previous is not None else None} - {None}
    people = get_user_model().objects.in_bulk(wanted)
    run.started_by = people.get(run.started_by_id)
    task.assignee = people.get(task.assignee_id)
    task.completed_by = people.get(task.completed_by_id)
    if previous is not None:
        previous.completed_by = people.get(previous.completed_by_id)
    return task


def visible_task(user, pk: int, standing: Standing | None = None) -> Task:
    """A task the user may open: their position's, as a head in its SOP, or any for an admin.

    The task comes with what its page shows: who asked (the previous task's worker or the run's
    starter) and the step's kelengkapan, so that the form and the page read them without a query.
    Two queries: the task with its run, position and previous task (compiled once, see
    ``procedures.compiled``), then the people it names; the step comes from the step graph.
    """
    from procedures import permissions

    rows = _TASK_PAGE.rows(pk=pk)
    if not rows:
        raise Http404
    task = _task_with_page_rows(rows[0])
    if user.is_superuser or task.assignee_id == user.pk:
        return task
    if standing is not None:
        if task.position_id in standing.position_ids:
            return task
    elif permissions.standing(user, task.position)[0]:
        return task
    if permissions.is_head(user, task.run.revision, task.position):
        return task
    raise PermissionDenied


def visible_task_file(user, pk: int, standing: Standing | None = None) -> TaskFile:
    """An output file, for anyone who may follow its run (the run's documents go from step to step)."""
    task_file = get_object_or_404(TaskFile.objects.select_related("task__run"), pk=pk)
    offices = (standing or standing_of(user)).offices
    if not user.is_superuser and task_file.task.run.office_id not in offices:
        raise PermissionDenied
    return task_file


def visible_run(user, pk: int, standing: Standing | None = None) -> Run:
    """A run of the user's office (or any for an admin)."""
    run = get_object_or_404(Run.objects.select_related("revision__sop", "office", "started_by"), pk=pk)
    if not user.is_superuser and run.office_id not in (standing or standing_of(user)).offices:
        raise PermissionDenied
    return run


def is_head_of(user, task: Task, standing: Standing) -> bool:
    """:func:`procedures.permissions.is_head` on the request's standing: one query, none for an admin."""
    if user.is_superuser:
        return True
    if not standing.head:
        return False
    return Position.objects.filter(columns__revision_id=task.run.revision_id, level__lt=task.position.level,
                                   pk__in=standing.position_ids).exists()


def position_holders(position: Position) -> list:
    """The active holders of a position, by name: whom a head may give its task to (one query)."""
    return list(get_user_model().objects.filter(positions=position, is_active=True)
                .order_by("first_name", "last_name", "username"))


def holder_of(position: Position, pk: str):
    """The active holder of ``position`` with this id (as posted), or None."""
    if not str(pk).isdigit():
        return None
    return get_user_model().objects.filter(positions=position, is_active=True, pk=int(pk)).first()


def following_task(done: Task | None, *, run: Run | None = None) -> Task | None:
    """The open task that ``done`` opened (or the first task of ``run``), with what a permission check reads."""
    tasks = Task.objects.filter(status__in=Task.OPEN).select_related(
        "run__revision", "run__office", "step", "position__office", "previous__position")
    if done is not None:
        return tasks.filter(previous_id=done.pk).order_by("pk").first()
    return tasks.filter(run=run, previous__isnull=True).order_by("pk").first()


def run_finished(run_id: int) -> bool:
    return Run.objects.filter(pk=run_id, status=Run.Status.FINISHED).exists()


def earlier_work(task: Task) -> tuple[list[Task], list[TaskFile]]:
    """The completed tasks of the run before this one, each with its ``file_list``, and this task's files.

    Two queries: the tasks, then the files of the whole run (a run holds tens of files, not thousands).
    """
    earlier = list(
        Task.objects.filter(run_id=task.run_id, status__in=(Task.Status.DONE, Task.Status.SENT_BACK),
                            created_at__lte=task.created_at)
        .exclude(pk=task.pk)
        .select_related("step", "position", "completed_by", "acting")
        .order_by("created_at", "pk")
    )
    files: dict[int, list[TaskFile]] = {}
    for task_file in TaskFile.objects.filter(task__run_id=task.run_id).order_by("uploaded_at", "pk"):
        files.setdefault(task_file.task_id, []).append(task_file)
    for done in earlier:
        done.file_list = files.get(done.pk, [])
    return earlier, files.get(task.pk, [])


def run_steps(run: Run) -> tuple[list, list[Step], dict[int, str], list[Task]]:
    """Columns, steps and each step's state in this run (done, current or left), and its open tasks."""
    columns = list(run.revision.columns.select_related("position").order_by("order"))
    steps = list(
        run.revision.steps.select_related("column__position", "ya_step", "tidak_step")
        .prefetch_related(Prefetch("kelengkapan", queryset=KelengkapanItem.objects.order_by("order")))
        .order_by("nomor")
    )
    tasks = list(run.tasks.select_related("step", "position", "assignee", "completed_by").order_by("created_at", "pk"))
    states: dict[int, str] = {}
    latest: dict[int, Task] = {}
    for task in tasks:
        states[task.step_id] = ("current" if task.is_open else "cancelled" if task.status == Task.Status.CANCELLED
                                else "done")
        latest[task.step_id] = task
    for step in steps:
        step.state = states.get(step.pk, "left")
        step.last_task = latest.get(step.pk)  # who did it (or has it) and when, for the phone's list
    # The steps a current step leads to (both answers of a decision), marked "next" on a phone; in
    # an SOP of independent activities the chosen activity is the whole run.
    following: set[int] = set()
    for index, step in enumerate(steps):
        if step.state != "current" or run.revision.kegiatan_terpisah:
            continue
        if step.is_decision:
            following.update(target for target in (step.ya_step_id, step.tidak_step_id) if target)
        elif step.simbol != Step.Symbol.END and index + 1 < len(steps):
            following.add(steps[index + 1].pk)
    for step in steps:
        step.is_next = step.state == "left" and step.pk in following
    return columns, steps, states, [task for task in tasks if task.is_open]


def run_may_cancel(run: Run, user, standing: Standing, columns: list, steps: list[Step]) -> bool:
    """:func:`procedures.permissions.may_cancel_run` on the rows the run page already read.

    The starter, a holder (or Plt/Plh) of a position of the SOP ranked above the first step's, or
    an admin. Only whether to show the cancel form: ``engine.run_cancel`` checks again.
    """
    if user.pk == run.started_by_id or user.is_superuser:
        return True
    if not steps:
        return False
    levels = {column.pk: column.position.level for column in columns}
    first = levels[steps[0].column_id]
    return any(column.position.level < first and column.position_id in standing.position_ids for column in columns)


def startable_revisions(user, standing: Standing) -> list[SopRevision]:
    """The latest revision of each SOP whose first step the user may do (all SOPs for an admin)."""
    sops = Sop.objects.select_related("office").prefetch_related(
        Prefetch("revisions", queryset=SopRevision.objects.prefetch_related(
            Prefetch("steps", queryset=Step.objects.select_related("column").order_by("nomor"))
        ))
    ).order_by("office__name", "kode")
    if not user.is_superuser:
        sops = sops.filter(office_id__in=standing.offices)
    result = []
    for sop in sops:
        revision = sop.latest_revision
        if revision is None:
            continue
        steps = list(revision.steps.all())
        # Independent activities: any activity the user may do starts a run of its own.
        firsts = steps if revision.kegiatan_terpisah else steps[:1]
        if user.is_superuser or any(step.column.position_id in standing.position_ids for step in firsts):
            result.append(revision)
    return result


def startable_activities(user, standing: Standing, revisions: list[SopRevision]) -> list[Step]:
    """The activities the user may start of the SOPs of independent activities among ``revisions``
    (from :func:`startable_revisions`, steps prefetched: no query)."""
    return [
        step for revision in revisions if revision.kegiatan_terpisah for step in revision.steps.all()
        if user.is_superuser or step.column.position_id in standing.position_ids
    ]


def offices_of(user, standing: Standing) -> QuerySet[Office]:
    return Office.objects.all() if user.is_superuser else Office.objects.filter(pk__in=standing.offices)


def is_head_anywhere(user, standing: Standing) -> bool:
    """Whether the user holds or acts for any position above staff (for the heads' pages)."""
    return user.is_superuser or standing.head


# ---------------------------------------------------------------------------------------------
# The run list and the SOP catalogue (procedures.views.catalogue)
# ---------------------------------------------------------------------------------------------

def overdue_exists(now: dt.datetime | None = None) -> Exists:
    """Whether a run has an open task past its due time, as a subquery (no query per run)."""
    return Exists(Task.objects.filter(run=OuterRef("pk"), status__in=Task.OPEN, due_at__lt=now or timezone.now()))


def visible_runs(user, standing: Standing) -> QuerySet[Run]:
    """Runs of the user's offices (all for an admin), newest first.

    Each run carries ``overdue`` (annotated) and ``open_tasks`` (one prefetch for the whole page,
    with their step and position), so a page of runs costs the same queries whatever its size.
    """
    open_tasks = (
        Task.objects.filter(status__in=Task.OPEN).select_related("step", "position")
        .only("run_id", "status", "step__nomor", "step__kegiatan", "position__name")
        .order_by("step__nomor", "pk")
    )
    runs = (
        # What a row shows (templates/procedures/catalogue/run_list.html), no more.
        Run.objects.select_related("revision", "office", "started_by")
        .only("perihal", "status", "started_at", "revision__nama", "office__time_zone", "started_by__username",
              "started_by__first_name", "started_by__last_name")
        .annotate(overdue=overdue_exists())
        .prefetch_related(Prefetch("tasks", queryset=open_tasks, to_attr="open_tasks"))
        .order_by("-started_at", "-pk")
    )
    if not user.is_superuser:
        runs = runs.filter(office_id__in=standing.offices)
    return runs


def _office_day_start(day: dt.date) -> Q:
    """Runs started at or after the start of ``day`` in their own office's zone (WIB, WITA, WIT)."""
    condition = Q()
    for zone in Office.TimeZone.values:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(zone))
        condition |= Q(office__time_zone=zone, started_at__gte=start)
    return condition


def filter_runs(runs: QuerySet[Run], *, sop_id: int | None = None, status: str = "", overdue: bool = False,
                started_from: dt.date | None = None, started_until: dt.date | None = None) -> QuerySet[Run]:
    """Narrow a run list; the dates are days in each run's office zone, both ends included."""
    if sop_id:
        runs = runs.filter(revision__sop_id=sop_id)
    if status:
        runs = runs.filter(status=status)
    if overdue:
        runs = runs.filter(overdue=True)
    if started_from:
        runs = runs.filter(_office_day_start(started_from))
    if started_until:
        runs = runs.exclude(_office_day_start(started_until + dt.timedelta(days=1)))
    return runs


def sop_offices(user, standing: Standing) -> frozenset[int]:
    """The offices whose SOPs the user sees: where they hold or act for a position, and where they
    write SOPs (an SOP editor, procedures.authoring) even without a position there."""
    from procedures.authoring.drafts import editor_office_ids

    return standing.offices | frozenset(editor_office_ids(user) or ())


def visible_sops(user, standing: Standing, *, as_editor: bool = False) -> list[Sop]:
    """The SOPs of the user's offices (all for an admin) by office and name; two queries.

    Each revision carries ``step_count``; ``sop.latest_revision`` reads the prefetch. ``as_editor``
    (the catalogue): also those of the offices whose SOPs the user writes (``sop_offices``).
    """
    sops = Sop.objects.select_related("office").prefetch_related(
        Prefetch("revisions", queryset=SopRevision.objects.annotate(step_count=Count("steps")))
    )
    if not user.is_superuser:
        sops = sops.filter(office_id__in=sop_offices(user, standing) if as_editor else standing.offices)
    result = [sop for sop in sops if sop.latest_revision is not None]
    return sorted(result, key=lambda sop: (sop.office.name.lower(), sop.latest_revision.nama.lower(), sop.kode))


def visible_sop(user, standing: Standing, kode: str) -> Sop:
    """The SOP with this kode in one of the user's offices.

    404 if no office has it, 403 if only other offices do. Offices share kode values, so the
    user's own office wins; an admin gets their own office's first, else the first by office name.
    """
    sops = list(Sop.objects.filter(kode=kode).select_related("office").prefetch_related("revisions"))
    if not sops:
        raise Http404
    offices = sop_offices(user, standing)
    mine = [sop for sop in sops if sop.office_id in offices]
    if not mine and not user.is_superuser:
        raise PermissionDenied
    return min(mine or sops, key=lambda sop: sop.office.name.lower())


def sop_sheet(revision: SopRevision) -> tuple[list, list[Step]]:
    """A revision's role columns in sheet order and its steps with their kelengkapan (three queries)."""
    columns = list(revision.columns.select_related("position").order_by("order"))
    steps = list(
        revision.steps.select_related("column", "ya_step", "tidak_step")
        .prefetch_related(Prefetch("kelengkapan", queryset=KelengkapanItem.objects.order_by("order")))
        .order_by("nomor")
    )
    return columns, steps


# ---------------------------------------------------------------------------------------------
# The heads' pages: approvals (Persetujuan), upcoming work (Akan datang), overdue (Terlambat)
# ---------------------------------------------------------------------------------------------

def _approval_rows() -> QuerySet[Task]:
    """Approval tasks with their run, position, judged (previous) task and acting official.

    Nine tables, not seventeen (PostgreSQL planned the wide join longer than it ran it, issue 16):
    steps come from the step graph, the rest of an item in three queries (``_with_earlier``).
    """
    return Task.objects.filter(approval_filter()).select_related(
        "run__revision", "run__office", "position", "previous__position", "acting")


def _with_earlier(tasks: list[Task], user) -> list[Task]:
    """Attach to each task the run's finished steps before it (with their files), its steps and
    people, and whether the user did the judged step: three queries for any number of tasks."""
    from procedures import permissions

    if not tasks:
        return tasks
    graphs = {}
    for task in tasks:
        revision = task.run.revision
        if revision.pk not in graphs:
            graphs[revision.pk] = step_graph.graph_for(revision.pk, revision.imported_at)
    finished = list(
        Task.objects.filter(run_id__in={task.run_id for task in tasks},
                            status__in=(Task.Status.DONE, Task.Status.SENT_BACK))
        .select_related("position").order_by("created_at", "pk")
    )
    previous = [task.previous for task in tasks if task.previous is not None]
    prefetch_related_objects(finished + previous, Prefetch("files", queryset=TaskFile.objects.order_by("pk")))
    people = get_user_model().objects.in_bulk((
        {done.completed_by_id for done in finished + previous}
        | {task.assignee_id for task in tasks} | {task.completed_by_id for task in tasks}) - {None})
    revision_of = {task.run_id: task.run.revision_id for task in tasks}
    by_run: dict[int, list[Task]] = {}
    for done in finished:
        done.step = graphs[revision_of[done.run_id]].step(done.step_id)
        done.completed_by = people.get(done.completed_by_id)
        by_run.setdefault(done.run_id, []).append(done)
    for task in tasks:
        run, graph = task.run, graphs[task.run.revision_id]
        task.position.office = run.office  # a run's positions are its office's
        task.step = graph.step(task.step_id)
        task.assignee = people.get(task.assignee_id)
        task.completed_by = people.get(task.completed_by_id)
        if task.acting is not None and task.acting.position_id == task.position_id:
            task.acting.position = task.position
        if task.previous is not None:
            task.previous.position.office = run.office
            task.previous.step = graph.step(task.previous.step_id)
            task.previous.completed_by = people.get(task.previous.completed_by_id)
        task.earlier = [done for done in by_run.get(task.run_id, [])
                        if done.pk != task.pk and done.created_at <= task.created_at]
        task.judged = permissions.judged_task(task)
        task.own_work = task.judged is not None and task.judged.completed_by_id == user.pk
    return tasks


def approval_items(user, standing: Standing) -> list[Task]:
    """My approvals (as :func:`approvals`), each with its earlier work: four queries for any number."""
    tasks = (
        _approval_rows()
        .filter(status__in=Task.OPEN, run__status=Run.Status.RUNNING, position_id__in=standing.position_ids)
        .filter(Q(assignee__isnull=True) | Q(assignee=user))
        .order_by("due_at", "pk")[:200]
    )
    return _with_earlier(list(tasks), user)


def approval_item(user, pk: int) -> Task:
    """One approval task the user may see, open or not (a stale page may act on a finished one)."""
    visible_task(user, pk)
    return _with_earlier([get_object_or_404(_approval_rows(), pk=pk)], user)[0]


@dataclass(frozen=True)
class Upcoming:
    """A run under way and the next step in it for one of my positions."""

    run: Run
    current: list[Task]
    step: Step
    steps_between: int


def upcoming(user, standing: Standing, *, limit: int = 100) -> list[Upcoming]:
    """Runs under way in which a later step is one of my positions', soonest-due current task first.

    "Later" is by step number after the run's current step(s): the plain path of the sheet; a
    decision may still end the run earlier or send it back. Four queries however many runs.
    """
    ids = standing.position_ids
    if not ids:
        return []
    mine_later = Step.objects.filter(
        revision_id=OuterRef("run__revision_id"), nomor__gt=OuterRef("step__nomor"), column__position_id__in=ids,
    )
    current = list(
        _open_tasks()
        .filter(run__office_id__in=standing.offices)
        .filter(Exists(mine_later))
        .prefetch_related(
            "position__holders",
            Prefetch("run__revision__steps", queryset=Step.objects.select_related("column__position").order_by("nomor"),
                     to_attr="ordered_steps"),
        )
        .order_by("due_at", "pk")[:limit]
    )
    by_run: dict[int, list[Task]] = {}
    for task in current:
        by_run.setdefault(task.run_id, []).append(task)
    result = []
    for tasks in by_run.values():
        open_nomors = {task.step.nomor for task in tasks}
        later = [step for step in tasks[0].run.revision.ordered_steps
                 if step.nomor > min(open_nomors) and step.nomor not in open_nomors]
        coming = next((step for step in later if step.column.position_id in ids), None)
        if coming is not None:
            result.append(Upcoming(run=tasks[0].run, current=tasks, step=coming,
                                   steps_between=sum(1 for step in later if step.nomor < coming.nomor)))
    return result


@dataclass(frozen=True)
class OverdueBoard:
    """Overdue open tasks counted by position, by person (claimed) and by position (unclaimed)."""

    by_position: list[dict]
    by_person: list[dict]
    unclaimed: list[dict]
    tasks: list[Task]
    total: int


def overdue_board(user, standing: Standing, *, now=None, limit: int = 200) -> OverdueBoard:
    """Overdue tasks of running runs in the offices where the user is a head (all for an admin): four queries.

    Not an admin: from the offices' running runs (index ``run_office_status``) to their open tasks
    (partial index ``task_open_run_due`` on run and due time), never through the whole run table.
    """
    now = now or timezone.now()
    tasks = Task.objects.filter(status__in=Task.OPEN, due_at__lt=now)
    if user.is_superuser:
        tasks = tasks.filter(run__status=Run.Status.RUNNING)
    else:
        tasks = tasks.filter(run__in=Run.objects.filter(office_id__in=standing.head_offices, status=Run.Status.RUNNING)
                             .order_by().values("pk"))
    counted = {"count": Count("pk"), "oldest": Min("due_at")}
    position_fields = ("position_id", "position__name", "position__office__name", "position__office__time_zone")
    by_position = list(tasks.values(*position_fields).annotate(**counted).order_by("oldest", "position__name"))
    unclaimed = list(tasks.filter(assignee__isnull=True).values(*position_fields).annotate(**counted)
                     .order_by("oldest", "position__name"))
    by_person = list(
        tasks.filter(assignee__isnull=False)
        .values("assignee_id", "assignee__username", "assignee__first_name", "assignee__last_name")
        .annotate(**counted).order_by("oldest", "assignee__username")
    )
    for row in by_position + unclaimed:
        row["zone"] = Office.ZONE_ABBREVIATIONS.get(row["position__office__time_zone"], "")
    for row in by_person:
        full = f"{row['assignee__first_name']} {row['assignee__last_name']}".strip()
        row["name"] = full or row["assignee__username"]
    listed = (
        # What a row of the list shows (templates/procedures/heads/overdue.html).
        tasks.select_related("run__revision", "step", "position__office", "assignee")
        .only("status", "due_at", "run__perihal", "run__status", "run__revision__nama", "step__nomor",
              "step__kegiatan", "position__name", "position__office__time_zone", "assignee__username",
              "assignee__first_name", "assignee__last_name")
        .order_by("due_at", "pk")[:limit]
    )
    return OverdueBoard(
        by_position=by_position, by_person=by_person, unclaimed=unclaimed, tasks=list(listed),
        total=sum(row["count"] for row in by_position),
    )
