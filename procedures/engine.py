"""The workflow engine: every change of a run or a task goes through these functions.

Each service locks the rows it changes (the run, then the task: always in that order, so two
services never wait on each other crosswise), checks who may act and why not, calls the
django-fsm transition on the model, and writes one audit event per transition — all in one
transaction. Views, the admin and commands call these and hold no rules of their own.

A completion is cheap: one statement locks the run and the task and reads with them what the
rules need (the previous task, whether the user holds the position, the office's working hours
and days off); the revision's steps come from memory (procedures.step_graph, revisions never
change); then one UPDATE of the task, one INSERT of the next task, one of the ticked items and one
of the events. Completing a waiting task claims it in memory first (both transitions through the
FSM, both recorded), and one UPDATE takes the row from waiting to done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, has_transition_perm

from procedures import permissions, staffing, step_graph
from procedures.compiled import CompiledQuery, insert_rows
from procedures.models import (
    ActingAssignment,
    Event,
    Position,
    Run,
    SopRevision,
    Step,
    Task,
    TaskCheck,
    TaskFile,
)
from procedures.monitoring.recording import record_figures
from procedures.step_graph import StepGraph
from procedures.uploads import allowed_extensions, megabytes
from procedures.working_calendar import (
    WorkingCalendar,
    calendar_annotations,
    calendar_for_office,
    calendar_from_annotations,
)


class EngineError(Exception):
    """A refused action; the message is for the user, in their language."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class NotAllowed(EngineError):
    """The user may not do this (wrong position, wrong office, own work, not a head)."""


class Conflict(EngineError):
    """The task or run is no longer in the state the user saw (someone else was faster)."""


class InvalidInput(EngineError):
    """Something the user gave is missing or wrong (a reason, an output, a file)."""


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _event(*, run: Run, task: Task | None, user, acting: ActingAssignment | None, transition: str,
           source: str, target: str, reason: str = "", files: Sequence[str] = ()) -> Event:
    """An audit event, not yet written: a service writes its events together (``_write``)."""
    return Event(
        run=run, task=task, actor=user, acting=acting,
        acting_title=acting.title() if acting else "",
        transition=transition, source=source, target=target, reason=reason, files=list(files),
    )


def _record(**kwargs) -> Event:
    return _write([_event(**kwargs)])[0]


def _write(events: list[Event]) -> list[Event]:
    """Write a service's events in one INSERT, in the order they happened (its SQL written once)."""
    return insert_rows(events)


def _lock_queryset(*, pk: int, since: dt.date, user_id: int | None = None):
    """The locking statement: the run, then the task, with what the rules and the next task read."""
    queryset = (
        Task.objects.select_for_update(of=("run", "self"))
        .select_related("run__office", "position", "previous__position")
        .annotate(_revision_stamp=F("run__revision__imported_at"),
                  _independent=F("run__revision__kegiatan_terpisah"),
                  **calendar_annotations("run__office_id", since=since))
    )
    if user_id is not None:
        queryset = queryset.annotate(_holds=Exists(Position.holders.through.objects.filter(
            position_id=OuterRef("position_id"), user_id=user_id)))
    return queryset.filter(pk=pk)


# Compiled once per process and connection, re-run with the task, the day and the user: building
# and compiling it through the ORM took longer than PostgreSQL took to run it (issue 16).
_LOCK = CompiledQuery("engine.lock", _lock_queryset, pk=int, since=dt.date)
_LOCK_HOLDS = CompiledQuery("engine.lock_holds", _lock_queryset, pk=int, since=dt.date, user_id=int)


def _lock(task: Task, user=None) -> tuple[Run, Task, StepGraph]:
    """Lock the run, then the task, in one statement; return fresh copies (a stale page may hold old ones).

    The same statement reads what the rules and the next task need: the office, the task's
    position, the previous task, whether ``user`` holds the position (remembered for this service,
    see ``permissions.standing_remembered``) and the office's working calendar. ``FOR UPDATE OF``
    names the run first: PostgreSQL locks the rows in that order, the order every service keeps.
    The task's step comes from the revision's step graph. Few joins: planning a statement of ten
    tables costs PostgreSQL more than running it. The users a conflict names are read only then.
    The statement is compiled once (``procedures.compiled``) and sent again with new values.
    """
    # Days off before yesterday (in UTC; offices are ahead of it) cannot touch a deadline from now;
    # the task's figures (procedures.monitoring.recording) count from when it was reached.
    since = timezone.now().date() - dt.timedelta(days=1)
    reached = task.__dict__.get("created_at")  # never a query for a deferred field
    since = min(since, reached.date() - dt.timedelta(days=1)) if reached else since - dt.timedelta(days=366)
    if user is not None and user.pk is not None:
        rows = _LOCK_HOLDS.rows(pk=task.pk, since=since, user_id=user.pk)
    else:
        rows = _LOCK.rows(pk=task.pk, since=since)
    if not rows:
        raise Task.DoesNotExist("Task matching query does not exist.")
    locked = rows[0]
    # The users a conflict names (``assignee``, ``completed_by``) are not joined: after waiting for
    # the lock PostgreSQL returns the task row as it is now but joined rows as they were when the
    # statement began, which would miss whoever was just faster.
    run = locked.run
    locked.position.office = run.office  # a run's positions are its office's
    graph = step_graph.graph_for(run.revision_id, locked._revision_stamp)
    locked.step = graph.step(locked.step_id)
    if user is not None and user.pk is not None:
        permissions.remember_holder(user, locked.position, holds_it=locked._holds)
    return run, locked, graph


def _state_conflict(task: Task) -> Conflict:
    if task.status in (Task.Status.DONE, Task.Status.SENT_BACK):
        return Conflict(_("this task was already completed by %(name)s at %(time)s") % {
            "name": permissions.display_name(task.completed_by),
            "time": timezone.localtime(task.completed_at, task.position.office.zoneinfo).strftime("%d-%m-%Y %H.%M"),
        })
    if task.status == Task.Status.CANCELLED:
        return Conflict(_("this task was cancelled with its run"))
    if task.status == Task.Status.IN_PROGRESS:
        return Conflict(_("this task was already claimed by %(name)s") % {
            "name": permissions.display_name(task.assignee)})
    return Conflict(_("this task is waiting to be claimed"))


def _check_run_open(run: Run) -> None:
    if run.status != Run.Status.RUNNING:
        raise Conflict(_("this run is %(status)s; nothing more can be done in it") % {
            "status": run.get_status_display()})


def _check_open(run: Run, task: Task) -> None:
    """A finished task says who finished it, even when that also ended the run."""
    if task.status in (Task.Status.DONE, Task.Status.SENT_BACK):
        conflict = _state_conflict(task)
        if run.status != Run.Status.RUNNING:
            conflict = Conflict(_("%(done)s; this run is %(status)s") % {
                "done": conflict.message, "status": run.get_status_display()})
        raise conflict
    _check_run_open(run)


def _check_may_act(task: Task, user) -> ActingAssignment | None:
    refusal = permissions.act_refusal(task, user)
    if refusal:
        raise NotAllowed(refusal)
    return permissions.standing(user, task.position)[1]


def _due(calendar: WorkingCalendar, start: dt.datetime, step: Step) -> dt.datetime:
    return calendar.add(start, step.waktu_max, step.waktu_unit)


# Written once rather than built through the ORM on every completion (issue 16); the table and
# column names come from the model.
_VISIT_SQL = "(SELECT COUNT(*) FROM {table} WHERE {run} = %s AND {step} = %s) + 1".format(
    table=Task._meta.db_table, run=Task._meta.get_field("run").column, step=Task._meta.get_field("step").column)


def _visit(run: Run, step: Step) -> RawSQL:
    """How often the run reaches ``step`` with this task: counted by the INSERT itself, under the run's lock."""
    return RawSQL(_VISIT_SQL, (run.pk, step.pk), output_field=Task._meta.get_field("visit"))


def _open_task(*, run: Run, step: Step, position_id: int, previous: Task | None, user,
               calendar: WorkingCalendar, now: dt.datetime, events: list[Event], return_reason: str = "",
               assign: tuple | None = None) -> Task:
    """Insert the task of a reached step; ``assign`` (user, acting) gives it to someone at once."""
    task = Task(
        run=run, step=step, position_id=position_id, previous=previous, visit=_visit(run, step),
        created_at=now, due_at=_due(calendar, now, step), return_reason=return_reason,
    )
    events.append(_event(run=run, task=task, user=user, acting=None, transition="reach", source="",
                         target=Task.Status.WAITING, reason=return_reason))
    if assign is not None:
        to_user, acting = assign
        task.reassign(to_user=to_user, acting=acting)
        events.append(_event(run=run, task=task, user=user, acting=None, transition="reassign",
                             source=Task.Status.WAITING, target=task.status,
                             reason=_("to %(name)s") % {"name": permissions.display_name(to_user)}))
    task.save(force_insert=True)
    # The database computed the visit; it is read again if anyone asks.
    del task.visit
    return task


def _calendar(run: Run, task: Task) -> WorkingCalendar:
    """The office's calendar as the locking statement read it, built once per service."""
    if getattr(task, "_calendar", None) is None:
        task._calendar = calendar_from_annotations(run.office, task)
    return task._calendar


def _advance(*, run: Run, task: Task, graph: StepGraph, next_step: Step | None, user, now: dt.datetime,
             events: list[Event], return_reason: str = "") -> Task | None:
    """Open the next task, or finish the run when there is no next step."""
    if next_step is None:
        source = run.status
        run.finish()
        run.save(update_fields=["status", "ended_at"])
        events.append(_event(run=run, task=None, user=user, acting=None, transition="finish", source=source,
                             target=run.status))
        return None
    return _open_task(run=run, step=next_step, position_id=graph.position_id(next_step), previous=task, user=user,
                      calendar=_calendar(run, task), now=now, events=events,
                      return_reason=return_reason)


def _validate_files(files: Iterable[UploadedFile]) -> list[UploadedFile]:
    files = list(files)
    allowed = allowed_extensions()
    for upload in files:
        extension = Path(upload.name).suffix.lower().lstrip(".")
        if extension not in allowed:
            raise InvalidInput(_("“%(name)s”: files of type .%(ext)s are not accepted (allowed: %(allowed)s).") % {
                "name": upload.name, "ext": extension or "?", "allowed": ", ".join(allowed)}, field="files")
        if upload.size > settings.TASK_UPLOAD_MAX_BYTES:
            raise InvalidInput(_("“%(name)s” is %(size)s MB; a file may be at most %(limit)s MB.") % {
                "name": upload.name, "size": megabytes(upload.size),
                "limit": megabytes(settings.TASK_UPLOAD_MAX_BYTES)}, field="files")
    return files


def _prepare_work(task: Task, graph: StepGraph, *, ticked: Iterable[int], output_text: str,
                  files: list[UploadedFile], note: str) -> set[int]:
    """Put the user's ticks, output and note on the task before a transition checks them."""
    items = graph.item_ids(task.step_id)
    ticked = {int(pk) for pk in ticked}
    unknown = ticked - items
    if unknown:
        raise InvalidInput(_("these items do not belong to this step: %(items)s") % {
            "items": ", ".join(map(str, sorted(unknown)))}, field="ticked")
    task._ticked = ticked
    task._has_files = bool(files)
    task.output_text = (output_text or "").strip()
    task.note = (note or "").strip()
    return ticked


def _save_work(task: Task, *, ticked: set[int], files: list[UploadedFile], user) -> list[str]:
    """Write the ticked items and the files' rows (the files go to storage first), an INSERT each."""
    insert_rows([TaskCheck(task=task, item_id=pk) for pk in sorted(ticked)])
    rows = []
    for upload in files:
        row = TaskFile(task=task, name=Path(upload.name).name[:255], size=upload.size, uploaded_by=user)
        row.file.save(row.name, upload, save=False)
        rows.append(row)
    TaskFile.objects.bulk_create(rows)
    return [row.name for row in rows]


CLAIM_FIELDS = ["status", "assignee", "acting", "claimed_at"]


def _claim(run: Run, task: Task, user, events: list[Event]) -> ActingAssignment | None:
    """Claim a waiting task in memory (the caller saves it) and note the claim's event."""
    acting = _check_may_act(task, user)
    task.claim(user=user, acting=acting)
    events.append(_event(run=run, task=task, user=user, acting=acting, transition="claim",
                         source=Task.Status.WAITING, target=task.status))
    return acting


def _claim_if_waiting(run: Run, task: Task, user, events: list[Event]) -> tuple[ActingAssignment | None, list[str]]:
    """Complete-from-the-inbox: a waiting task is claimed first; the fields the claim changed."""
    if task.status == Task.Status.WAITING:
        return _claim(run, task, user, events), CLAIM_FIELDS
    if task.status != Task.Status.IN_PROGRESS:
        raise _state_conflict(task)
    if task.assignee_id != user.pk:
        raise _state_conflict(task)
    return _check_may_act(task, user), []


def _lock_timed_out(error: OperationalError) -> bool:
    """Whether the database gave up waiting for a lock another transaction holds.

    SQLite: "database is locked" once its busy timeout has passed (settings: 20 s); PostgreSQL:
    lock_not_available (55P03) when a ``lock_timeout`` is set.
    """
    cause = error.__cause__
    return "database is locked" in str(error) or getattr(cause, "pgcode", None) == "55P03"


def _fresh_conflict(task: Task | None, *, waited: bool) -> Conflict:
    """What a lost race tells the user: who was faster, as the task is now."""
    if task is not None:
        fresh = Task.objects.select_related("completed_by", "assignee", "position__office").get(pk=task.pk)
        if not waited or not fresh.is_open:
            return _state_conflict(fresh)
    if waited:
        # Someone is still at work on the run (or the database is busy): nothing was done.
        return Conflict(_("someone else is working on this run at this moment; try again in a moment"))
    return Conflict(_("someone else changed this run at the same moment; reload the page"))


def _atomic_transition(func):
    """Run a service in one transaction; a lost race becomes a Conflict, never a 500.

    On both databases: a transition that lost a race (ConcurrentTransition, or a constraint such
    as one open task per step), and a lock waited for longer than the database waits.
    """

    def wrapper(*args, **kwargs):
        try:
            with transaction.atomic(), permissions.standing_remembered():
                return func(*args, **kwargs)
        except (ConcurrentTransition, IntegrityError):
            raise _fresh_conflict(kwargs.get("task"), waited=False) from None
        except OperationalError as error:
            if not _lock_timed_out(error):
                raise
            raise _fresh_conflict(kwargs.get("task"), waited=True) from None

    wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
    return wrapper


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------


def _chosen_first(revision: SopRevision, graph: StepGraph, step: Step | None) -> Step | None:
    """The step a run starts at: the first, or for independent activities the one chosen."""
    if not revision.kegiatan_terpisah:
        first = graph.first()
        if step is not None and (first is None or step.pk != first.pk):
            raise InvalidInput(_("this SOP starts at its first step; it has no activities to choose from"),
                               field="step")
        return first
    if step is None:
        raise InvalidInput(_("choose the activity this run does: each activity of this SOP is a run of its own"),
                           field="step")
    if step.pk not in graph.order:
        raise InvalidInput(_("the activity chosen is not one of this SOP's"), field="step")
    return graph.step(step.pk)


@_atomic_transition
def run_start(*, revision: SopRevision, user, perihal: str, step: Step | None = None,
              now: dt.datetime | None = None) -> Run:
    """Start a run of an SOP revision; its first step becomes a waiting task.

    An SOP of independent activities (``kegiatan_terpisah``) starts at the activity ``step``
    chosen, and the run ends when that activity is done.
    """
    perihal = (perihal or "").strip()
    if not perihal:
        raise InvalidInput(_("give the subject (perihal) of this run"), field="perihal")
    if len(perihal) > 255:
        raise InvalidInput(_("the subject may be at most 255 characters"), field="perihal")
    graph = step_graph.graph_for(revision.pk, revision.imported_at)
    first = _chosen_first(revision, graph, step)
    position = None
    if revision.kegiatan_terpisah:  # whoever may do the chosen activity starts it
        position = Position.objects.select_related("office").get(pk=graph.position_id(first))
    refusal = permissions.start_refusal(revision, user, position=position)
    if refusal:
        raise NotAllowed(refusal)
    now = now or timezone.now()
    office = revision.sop.office
    run = Run.objects.create(revision=revision, office=office, perihal=perihal, started_by=user, started_at=now)
    events = [_event(run=run, task=None, user=user, acting=permissions.run_acting(run, user, position=position),
                     transition="start", source="", target=run.status)]
    _open_task(run=run, step=first, position_id=graph.position_id(first), previous=None, user=user,
               calendar=calendar_for_office(office), now=now, events=events)
    _write(events)
    return run


@_atomic_transition
def task_claim(*, task: Task, user) -> Task:
    """Take a waiting task: the other holders of the position see it is yours."""
    run, task, _graph = _lock(task, user)
    _check_open(run, task)
    if task.status != Task.Status.WAITING:
        raise _state_conflict(task)
    events = []
    _claim(run, task, user, events)
    task.save(update_fields=CLAIM_FIELDS)
    _write(events)
    return task


@_atomic_transition
def task_release(*, task: Task, user) -> Task:
    """Give a claimed task back to the position (its claimer, or a head)."""
    run, task, _graph = _lock(task, user)
    _check_open(run, task)
    if task.status != Task.Status.IN_PROGRESS:
        raise _state_conflict(task)
    if task.assignee_id == user.pk:
        acting = task.acting
    else:
        is_head, acting = permissions.head_standing(user, run.revision, task.position)
        if not is_head:
            raise NotAllowed(_("only %(name)s, who claimed it, or a head may release this task") % {
                "name": permissions.display_name(task.assignee)})
    task.release()
    task.save(update_fields=CLAIM_FIELDS)
    _record(run=run, task=task, user=user, acting=acting, transition="release",
            source=Task.Status.IN_PROGRESS, target=task.status)
    return task


@_atomic_transition
def task_reassign(*, task: Task, user, to_user) -> Task:
    """A head gives an open task to a particular holder of its position."""
    run, task, _graph = _lock(task)
    _check_open(run, task)
    if not task.is_open:
        raise _state_conflict(task)
    is_head, head_acting = permissions.head_standing(user, run.revision, task.position)
    if not is_head:
        raise NotAllowed(_("only a head of the %(position)s in this SOP, or an admin, may reassign this task") % {
            "position": task.position.name})
    refusal = permissions.act_refusal(task, to_user)
    if refusal:
        raise InvalidInput(_("%(name)s cannot take this task: %(reason)s") % {
            "name": permissions.display_name(to_user), "reason": refusal}, field="to_user")
    source = task.status
    acting = permissions.standing(to_user, task.position)[1]
    task.reassign(to_user=to_user, acting=acting)
    task.save(update_fields=CLAIM_FIELDS)
    _record(run=run, task=task, user=user, acting=head_acting, transition="reassign", source=source,
            target=task.status,
            reason=_("to %(name)s") % {"name": permissions.display_name(to_user)})
    return task


@_atomic_transition
def task_complete(*, task: Task, user, ticked: Iterable[int] = (), output_text: str = "",
                  files: Iterable[UploadedFile] = (), note: str = "") -> Task:
    """Finish a (process) step: kelengkapan ticked, output given; the run moves on."""
    files = _validate_files(files)
    run, task, graph = _lock(task, user)
    _check_open(run, task)
    if task.step.is_decision:
        raise InvalidInput(_("this step is a decision: choose Ya or Tidak"))
    events: list[Event] = []
    acting, claimed = _claim_if_waiting(run, task, user, events)
    ticked = _prepare_work(task, graph, ticked=ticked, output_text=output_text, files=files, note=note)
    if not task.kelengkapan_complete():
        raise InvalidInput(_("tick every required item (kelengkapan) before completing"), field="ticked")
    if not task.output_given():
        raise InvalidInput(_("give the output of this step (%(output)s) as text or a file") % {
            "output": task.step.output}, field="output_text")
    if not has_transition_perm(task.complete, user):
        raise NotAllowed(_("you may not complete this task"))
    now = timezone.now()
    task.complete(user=user)
    task.acting = acting
    figures = record_figures(task, _calendar(run, task))
    # One UPDATE, guarded by the state the row was read in: waiting → done when claimed just now.
    task.save(update_fields=[*claimed, "status", "completed_by", "completed_at", "acting", "output_text", "note",
                             *figures])
    stored = _save_work(task, ticked=ticked, files=files, user=user)
    events.append(_event(run=run, task=task, user=user, acting=acting, transition="complete",
                         source=Task.Status.IN_PROGRESS, target=task.status, reason=task.note, files=stored))
    # An independent activity is the whole run: done, the run is finished.
    next_step = None if task._independent else graph.after(task.step)
    _advance(run=run, task=task, graph=graph, next_step=next_step, user=user, now=now, events=events)
    _write(events)
    return task


@_atomic_transition
def task_decide(*, task: Task, user, decision: str, reason: str = "", ticked: Iterable[int] = (),
                output_text: str = "", files: Iterable[UploadedFile] = (), note: str = "") -> Task:
    """Answer a decision step Ya or Tidak (a reason is required for Tidak); the run follows it."""
    files = _validate_files(files)
    if decision not in Task.Decision.values:
        raise InvalidInput(_("choose Ya or Tidak"), field="decision")
    reason = (reason or "").strip()
    if decision == Task.Decision.NO and not reason:
        raise InvalidInput(_("say why (a reason is required for Tidak)"), field="reason")
    run, task, graph = _lock(task, user)
    _check_open(run, task)
    if not task.step.is_decision:
        raise InvalidInput(_("this step is not a decision"))
    events: list[Event] = []
    acting, claimed = _claim_if_waiting(run, task, user, events)
    ticked = _prepare_work(task, graph, ticked=ticked, output_text=output_text, files=files, note=note)
    task.decision, task.reason = decision, reason
    if not task.decision_valid():
        raise InvalidInput(_("tick every required item (kelengkapan) before answering Ya"), field="ticked")
    if not has_transition_perm(task.decide, user):
        raise NotAllowed(_("you may not decide this task"))
    now = timezone.now()
    source = task.status
    task.decide(user=user)
    task.acting = acting
    figures = record_figures(task, _calendar(run, task))
    task.save(update_fields=[*claimed, "status", "completed_by", "completed_at", "acting", "decision", "reason",
                             "output_text", "note", *figures])
    stored = _save_work(task, ticked=ticked, files=files, user=user)
    events.append(_event(run=run, task=task, user=user, acting=acting, transition=f"decide_{decision}",
                         source=source, target=task.status, reason=reason or task.note, files=stored))
    _advance(run=run, task=task, graph=graph, next_step=graph.target(task.step, decision), user=user, now=now,
             events=events, return_reason=reason if task.status == Task.Status.SENT_BACK else "")
    _write(events)
    return task


def return_target(task: Task, finished: Iterable[Task]) -> Task | None:
    """The task of the step before ``task`` in its run, where Kembalikan sends the work, or None.

    Following the run's own path back from the task (``previous``), the first task of a step
    numbered below this one: after 3 → 4 the step before 4 is 3; a step reopened by a send-back or
    a Tidak goes back past the steps that returned it, not forward to them. ``finished``: the run's
    done and sent-back tasks with their ``step`` (a page has them already; no query here). None on
    a run's first step.
    """
    by_pk = {done.pk: done for done in finished}
    current, seen = by_pk.get(task.previous_id), set()
    while current is not None and current.pk not in seen:
        if current.step.nomor < task.step.nomor:
            return current
        seen.add(current.pk)
        current = by_pk.get(current.previous_id)
    return None


def _earlier_worker(run: Run, returned: Task, earlier: Task, step: Step):
    """Who did the earlier step, if they may take it again now (still a holder, or Plt/Plh, and no own work to judge)."""
    if earlier.completed_by_id is None:
        return None
    worker = get_user_model().objects.filter(pk=earlier.completed_by_id, is_active=True).first()
    if worker is None:
        return None
    earlier.position.office = run.office
    reopened = Task(run=run, step=step, position=earlier.position, previous=returned)
    if permissions.act_refusal(reopened, worker) is not None:
        return None
    return worker, permissions.standing(worker, earlier.position)[1]


@_atomic_transition
def task_return(*, task: Task, user, reason: str) -> Task:
    """Send the work back to the step before this one, with a reason, where the sheet draws no way back.

    The step before is the one the run came from (``return_target``). The earlier step reopens for its position as a new task (its ``return_reason`` says why), given
    straight to whoever did it before if they may still act for it; otherwise it waits for the
    position. The returned task ends *sent back*; its event ``return`` marks the record as outside
    the sheet's drawn flow. The same rules as answering the step: the user may act for its position
    and did not do the judged step themselves; a task claimed by someone else is theirs to return.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("say why the work goes back (a reason is required)"), field="reason")
    run, task, graph = _lock(task, user)
    _check_open(run, task)
    earlier = return_target(task, Task.objects.filter(
        run_id=run.pk, status__in=(Task.Status.DONE, Task.Status.SENT_BACK)).select_related("step", "position"))
    if earlier is None:
        raise InvalidInput(_("this is the first step of the run: there is no step before it to send it back to"))
    if task.status == Task.Status.IN_PROGRESS and task.assignee_id != user.pk:
        raise _state_conflict(task)
    acting = _check_may_act(task, user)
    task.reason = reason
    if not has_transition_perm(task.send_back, user):
        raise NotAllowed(_("you may not send this task back"))
    now = timezone.now()
    source = task.status
    task.send_back(user=user)
    task.acting = acting
    task.save(update_fields=["status", "completed_by", "completed_at", "acting", "reason"])
    events = [_event(run=run, task=task, user=user, acting=acting, transition="return", source=source,
                     target=task.status, reason=reason)]
    step = graph.step(earlier.step_id)
    _open_task(run=run, step=step, position_id=graph.position_id(step), previous=task, user=user,
               calendar=calendar_from_annotations(run.office, task), now=now, events=events,
               return_reason=reason, assign=_earlier_worker(run, task, earlier, step))
    _write(events)
    return task


@_atomic_transition
def run_cancel(*, run: Run, user, reason: str) -> Run:
    """Stop a run for good (its starter, a head, or an admin), with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("say why the run is cancelled"), field="reason")
    run = Run.objects.select_for_update(of=("self",)).select_related("revision", "office").get(pk=run.pk)
    _check_run_open(run)
    if not has_transition_perm(run.cancel, user):
        raise NotAllowed(_("only whoever started this run, a head or an admin may cancel it"))
    acting = permissions.run_acting(run, user)
    run.cancel(reason=reason)
    run.save(update_fields=["status", "ended_at", "cancel_reason"])
    events = [_event(run=run, task=None, user=user, acting=acting, transition="cancel", source=Run.Status.RUNNING,
                     target=run.status, reason=reason)]
    for task in Task.objects.select_for_update().filter(run=run, status__in=Task.OPEN):
        source = task.status
        task.cancel()
        task.save(update_fields=["status", "completed_at"])
        events.append(_event(run=run, task=task, user=user, acting=acting, transition="cancel", source=source,
                             target=task.status, reason=reason))
    _write(events)
    return run


@_atomic_transition
def acting_appoint(*, position: Position, user, kind: str, starts_on: dt.date, ends_on: dt.date,
                   appointed_by, reason: str = "") -> ActingAssignment:
    """Name a Plt/Plh for a position for a date range (a head of that position, or an admin)."""
    if ends_on < starts_on:
        raise InvalidInput(_("the end date is before the start date"), field="ends_on")
    if kind not in ActingAssignment.Kind.values:
        raise InvalidInput(_("choose Plt or Plh"), field="kind")
    may_appoint = appointed_by.is_superuser or any(
        permissions.standing(appointed_by, head)[0]
        for head in Position.objects.filter(office=position.office, level__lt=position.level)
    ) or permissions.holds(appointed_by, position)
    if not may_appoint:
        raise NotAllowed(_("only the holder of %(position)s, a head above it or an admin may name a Plt/Plh") % {
            "position": position.name})
    # Lock the position's row: two admins naming a Plh of it at once are checked one after the other.
    position = Position.objects.select_for_update().select_related("office").get(pk=position.pk)
    if not staffing.belongs_to_or_above(user, position.office):
        raise InvalidInput(_("%(name)s is not a user of %(office)s (nor of a superior office): a Plt/Plh is "
                             "named from the office's own people") % {
            "name": permissions.display_name(user), "office": position.office.name}, field="user")
    overlap = (ActingAssignment.objects.filter(position=position, kind=kind, starts_on__lte=ends_on,
                                               ends_on__gte=starts_on).select_related("user").first())
    if overlap is not None:
        raise InvalidInput(_("%(title)s is already %(name)s from %(start)s to %(end)s; end that appointment "
                             "early or choose other dates") % {
            "title": overlap.title(), "name": permissions.display_name(overlap.user),
            "start": f"{overlap.starts_on:%d-%m-%Y}", "end": f"{overlap.ends_on:%d-%m-%Y}"}, field="starts_on")
    return ActingAssignment.objects.create(
        position=position, user=user, kind=kind, starts_on=starts_on, ends_on=ends_on,
        appointed_by=appointed_by, reason=reason,
    )


@_atomic_transition
def user_deactivate(*, user, by, reason: str = "", leave_to_nobody: bool = False) -> list[Task]:
    """Deactivate a user; the tasks they claimed go back to their positions, each with an event saying why.

    An admin who may change users does it (not to themselves). When the user is the only one who
    may act for a position with open tasks, those tasks would wait for nobody: refused unless
    ``leave_to_nobody`` says the admin knows. Each claimed task is locked as every service locks
    (its run, then it; runs in order) and released through its transition; the events name the
    admin as actor and give the reason. Returns the released tasks.
    """
    user = type(user).objects.select_for_update().get(pk=user.pk)
    refusal = permissions.deactivate_refusal(user, by)
    if refusal:
        raise NotAllowed(refusal)
    warning = permissions.left_to_nobody_warning(user)
    if warning and not leave_to_nobody:
        raise InvalidInput(warning, field="leave_to_nobody")
    why = _("%(name)s was deactivated; the task goes back to the holders of %(position)s")
    reason = (reason or "").strip()
    released, events = [], []
    claimed = Task.objects.filter(assignee=user, status=Task.Status.IN_PROGRESS, run__status=Run.Status.RUNNING)
    for task in claimed.order_by("run_id", "pk"):
        run, task, _graph = _lock(task)
        if task.status != Task.Status.IN_PROGRESS or task.assignee_id != user.pk or run.status != Run.Status.RUNNING:
            continue  # finished or released while we waited for its lock
        task.release()
        task.save(update_fields=CLAIM_FIELDS)
        said = why % {"name": permissions.display_name(user), "position": task.position.name}
        events.append(_event(run=run, task=task, user=by, acting=None, transition="release",
                             source=Task.Status.IN_PROGRESS, target=task.status,
                             reason=f"{said}: {reason}" if reason else said))
        released.append(task)
    user.is_active = False
    user.save(update_fields=["is_active"])
    _write(events)
    return released
