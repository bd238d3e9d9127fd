"""A run's timeline as people read it: one row per step reached, the fine events folded under it.

Each row is one task: who did it and when, the answer and its reason, the files, the working time
against the step's standard. The events that only moved the task about (it arrived, someone took
it, released it, gave it to someone) are listed under the row, in plain sentences. A send-back
from a step (engine.task_return) is marked as outside the sheet's drawn flow. The run's own events
(started, finished, cancelled) are rows of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from procedures import decisions
from procedures.models import Event, Run, Task
from procedures.pdf import Measured, measure, step_duration
from procedures.permissions import display_name
from procedures.working_calendar import calendar_annotations, calendar_from_annotations

# The events that finish a task: the row's own line. Every other task event is a fine one.
FINISHING = ("complete", "decide_ya", "decide_tidak", "return", "cancel")


@dataclass
class Row:
    """A step of the run (``task`` set) or an event of the run itself."""

    event: Event | None = None  # the finishing event (a task row) or the run's event
    task: Task | None = None
    fine: list[tuple[Event, str]] = field(default_factory=list)
    measured: Measured | None = None

    @property
    def who(self) -> str:
        return display_name(self.event.actor) if self.event else ""

    @property
    def off_sheet(self) -> bool:
        return bool(self.event and self.event.off_sheet)

    @property
    def what(self) -> str:
        """The row's line: what happened to the step (or the run)."""
        event = self.event
        if self.task is None:
            return {"start": _("Started the run"), "finish": _("The run finished"),
                    "cancel": _("Cancelled the run")}.get(event.transition, event.label)
        if event is None:
            if self.task.status == Task.Status.IN_PROGRESS:
                return _("Being worked on by %(name)s") % {"name": display_name(self.task.assignee)}
            return _("Waiting for %(position)s") % {"position": self.task.position.name}
        if event.transition == "complete":
            return _("Completed")
        if event.transition.startswith("decide_"):
            found = decisions.decision_of(self.task.step)
            answer = found.answer(event.transition.removeprefix("decide_")) if found else None
            if answer is None:
                return event.label
            return _("Answered “%(words)s” → %(leads_to)s") % {"words": answer.words, "leads_to": answer.leads_to}
        if event.transition == "return":
            earlier = self.task.previous
            return _("Sent back to step %(nomor)s") % {
                "nomor": earlier.step.nomor if earlier else "?"}
        if event.transition == "cancel":
            return _("Cancelled with the run")
        return event.label


def fine_sentence(event: Event) -> str:
    """A fine event as a sentence: "Budi took the task"."""
    name = display_name(event.actor)
    if event.transition == "reach":
        if event.reason:
            return _("The work came back here: %(reason)s") % {"reason": event.reason}
        return _("The work arrived here")
    if event.transition == "claim":
        return _("%(name)s took the task") % {"name": name}
    if event.transition == "release":
        if event.reason:  # e.g. an admin's release when the holder was deactivated, with why
            return _("%(name)s released the task: %(reason)s") % {"name": name, "reason": event.reason}
        return _("%(name)s released the task") % {"name": name}
    if event.transition == "reassign":
        return _("%(name)s gave the task %(to)s") % {"name": name, "to": event.reason}
    return f"{name}: {event.label}"


def run_timeline(run: Run) -> list[Row]:
    """The rows of a run's timeline, in the order things happened: one query however long the run.

    The events with their actors, tasks, steps, where a decision leads, and the office's working
    calendar (annotated, as the engine reads it: days off from the run's start on). A row's files
    are the names its event recorded.
    """
    since = timezone.localdate(run.started_at) - dt.timedelta(days=1)
    events = list(
        run.events.select_related(
            "actor", "acting", "task__step__column", "task__step__ya_step__column",
            "task__step__tidak_step__column", "task__position", "task__assignee", "task__previous__step",
        )
        .annotate(**calendar_annotations("run__office_id", since=since))
        .order_by("created_at", "pk")
    )
    calendar = calendar_from_annotations(run.office, events[0]) if events else None
    rows: list[Row] = []
    by_task: dict[int, Row] = {}
    reached: dict[int, Event] = {}
    for event in events:
        if event.task_id is None:
            rows.append(Row(event=event))
            continue
        row = by_task.get(event.task_id)
        if row is None:
            row = by_task[event.task_id] = Row(task=event.task)
            rows.append(row)
        if event.transition in FINISHING:
            row.event = event
            start = reached.get(event.task_id)
            if start is not None and event.transition != "cancel":
                row.measured = measure(calendar, start.created_at, event.created_at,
                                       [step_duration(event.task.step)], event.task.step.waktu)
        else:
            if event.transition == "reach":
                reached[event.task_id] = event
            row.fine.append((event, fine_sentence(event)))
    return rows
