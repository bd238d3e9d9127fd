"""Reads for pages: what a user may see, with the rows each page needs in a fixed number of queries.

Rules about *acting* live in :mod:`procedures.permissions` and :mod:`procedures.engine`; this module
only finds things. Every function here uses ``select_related``/``prefetch_related`` so that a page
costs the same number of queries with ten runs or a hundred thousand.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from procedures.models import ActingAssignment, Event, Office, Position, Run, Sop, SopRevision, Step, Task, TaskFile

TASK_RELATED = (
    "run__revision__sop", "run__office", "step__column", "position__office", "assignee", "previous__position",
)


@dataclass(frozen=True)
class Standing:
    """The positions a user may act for now: held ones and today's Plt/Plh."""

    held: frozenset[int]
    acting: dict[int, ActingAssignment]
    offices: frozenset[int]

    @property
    def position_ids(self) -> frozenset[int]:
        return self.held | frozenset(self.acting)


def standing_of(user) -> Standing:
    """Two queries: the positions held and the acting appointments covering today."""
    if not user.is_authenticated:
        return Standing(frozenset(), {}, frozenset())
    held = list(Position.objects.filter(holders=user).values_list("pk", "office_id"))
    # Today differs between WIB and WIT near midnight: compare per office, on a day's margin.
    today = timezone.localdate()
    acting = {}
    for assignment in ActingAssignment.objects.filter(
        user=user, starts_on__lte=today + timezone.timedelta(days=1), ends_on__gte=today - timezone.timedelta(days=1)
    ).select_related("position__office"):
        local = timezone.localdate(timezone=assignment.position.office.zoneinfo)
        if assignment.starts_on <= local <= assignment.ends_on:
            acting[assignment.position_id] = assignment
    offices = {office for _pk, office in held} | {a.position.office_id for a in acting.values()}
    return Standing(frozenset(pk for pk, _office in held), acting, frozenset(offices))


def _open_tasks() -> QuerySet[Task]:
    return Task.objects.filter(status__in=Task.OPEN, run__status=Run.Status.RUNNING).select_related(*TASK_RELATED)


def my_tasks(user, standing: Standing) -> list[Task]:
    """Tasks I claimed, then waiting tasks of my positions, by due time."""
    return list(
        _open_tasks()
        .filter(Q(assignee=user, status=Task.Status.IN_PROGRESS)
                | Q(status=Task.Status.WAITING, position_id__in=standing.position_ids))
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
    """Counts for the navigation bar: my open tasks and my approvals."""
    base = _open_tasks().filter(
        Q(assignee=user, status=Task.Status.IN_PROGRESS)
        | Q(status=Task.Status.WAITING, position_id__in=standing.position_ids)
    )
    return {
        "tasks": base.count(),
        "approvals": base.filter(approval_filter(), position_id__in=standing.position_ids).count(),
    }


def visible_task(user, pk: int) -> Task:
    """A task the user may open: their position's, as a head in its SOP, or any for an admin."""
    from procedures import permissions

    task = get_object_or_404(Task.objects.select_related(*TASK_RELATED, "completed_by", "acting"), pk=pk)
    if user.is_superuser:
        return task
    if permissions.standing(user, task.position)[0] or task.assignee_id == user.pk:
        return task
    if permissions.is_head(user, task.run.revision, task.position):
        return task
    raise PermissionDenied


def visible_run(user, pk: int) -> Run:
    """A run of the user's office (or any for an admin)."""
    run = get_object_or_404(Run.objects.select_related("revision__sop", "office", "started_by"), pk=pk)
    if not user.is_superuser and run.office_id not in standing_of(user).offices:
        raise PermissionDenied
    return run


def earlier_work(task: Task) -> list[Task]:
    """The completed tasks of the run before this one, with their files and ticks (one query each)."""
    return list(
        Task.objects.filter(run_id=task.run_id, status__in=(Task.Status.DONE, Task.Status.SENT_BACK),
                            created_at__lte=task.created_at)
        .exclude(pk=task.pk)
        .select_related("step", "position", "completed_by", "acting")
        .prefetch_related("files")
        .order_by("created_at", "pk")
    )


def run_timeline(run: Run) -> list[Event]:
    return list(
        run.events.select_related("actor", "task__step", "acting").order_by("created_at", "pk")
    )


def run_steps(run: Run) -> tuple[list, list[Step], dict[int, str]]:
    """Columns, steps and each step's state in this run: done, current or left."""
    columns = list(run.revision.columns.select_related("position").order_by("order"))
    steps = list(run.revision.steps.select_related("column", "ya_step", "tidak_step").order_by("nomor"))
    states: dict[int, str] = {}
    for step_id, status in run.tasks.order_by("created_at", "pk").values_list("step_id", "status"):
        states[step_id] = "current" if status in Task.OPEN else "cancelled" if status == Task.Status.CANCELLED else "done"
    for step in steps:
        step.state = states.get(step.pk, "left")
    return columns, steps, states


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
        if user.is_superuser or (steps and steps[0].column.position_id in standing.position_ids):
            result.append(revision)
    return result


def offices_of(user, standing: Standing) -> QuerySet[Office]:
    return Office.objects.all() if user.is_superuser else Office.objects.filter(pk__in=standing.offices)


def is_head_anywhere(user, standing: Standing) -> bool:
    """Whether the user holds or acts for any position above staff (for the heads' pages)."""
    return user.is_superuser or Position.objects.filter(
        pk__in=standing.position_ids, level__lt=Position.Level.STAFF
    ).exists()
