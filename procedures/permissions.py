"""Who may do what in a run: holders, acting officials (Plt/Plh), heads, no self-approval.

Each ``*_refusal`` function returns ``None`` when the user may act, else the reason in the
user's language, so that the engine can say *why* and the FSM ``permission=`` callables can say
*whether*. Views never decide this themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.models import ActingAssignment, Position, Run, SopRevision, Task


def display_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "—"


def _today(position: Position):
    return timezone.localdate(timezone=position.office.zoneinfo)


def acting_assignment(user, position: Position) -> ActingAssignment | None:
    """The Plt/Plh appointment through which ``user`` may act for ``position`` today."""
    today = _today(position)
    return (
        ActingAssignment.objects.filter(position=position, user=user, starts_on__lte=today, ends_on__gte=today)
        .select_related("position")
        .order_by("-starts_on")
        .first()
    )


# What the current engine service already knows, by (what, user id, position id): "holds" -> bool,
# "standing" -> (allowed, acting). A service checks one standing several times (its own check for
# the reason, then the FSM transition's ``permission=``); it is read once, the holding often inside
# the statement that locks the task.
_known: ContextVar[dict[tuple[str, int, int], object] | None] = ContextVar("sopflow_known_standing", default=None)


@contextmanager
def standing_remembered() -> Iterator[None]:
    """Within this block, remember each standing once read (one engine service, one transaction)."""
    token = _known.set({})
    try:
        yield
    finally:
        _known.reset(token)


def remember_holder(user, position: Position, *, holds_it: bool) -> None:
    """Note whether ``user`` holds ``position``, as the caller read it (e.g. in its locking query)."""
    known = _known.get()
    if known is not None:
        known[("holds", user.pk, position.pk)] = holds_it


def holds(user, position: Position) -> bool:
    known = _known.get()
    if known is not None and ("holds", user.pk, position.pk) in known:
        return known[("holds", user.pk, position.pk)]
    return position.holders.filter(pk=user.pk).exists()


def standing(user, position: Position) -> tuple[bool, ActingAssignment | None]:
    """Whether the user may act for the position, and the acting appointment used (None if holder)."""
    if not user.is_authenticated or not user.is_active:
        return False, None
    known = _known.get()
    key = ("standing", user.pk, position.pk)
    if known is not None and key in known:
        return known[key]
    if holds(user, position):
        result = True, None
    else:
        acting = acting_assignment(user, position)
        result = acting is not None, acting
    if known is not None:
        known[key] = result
    return result


def who_may_act(position: Position, *, exclude=None) -> list[str]:
    """Names of the holders and today's acting officials of a position."""
    today = _today(position)
    users = get_user_model().objects.filter(
        Q(positions=position)
        | Q(acting__position=position, acting__starts_on__lte=today, acting__ends_on__gte=today),
        is_active=True,
    ).distinct()
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return sorted(display_name(user) for user in users)


def _names(names: list[str]) -> str:
    return ", ".join(names) if names else _("nobody yet: ask an admin to assign the position")


def judged_task(task: Task) -> Task | None:
    """The earlier task this one judges, if it is a decision or an approval up the chain.

    A step judges the one before it when the run moves to another position and that position
    decides (a keputusan) or ranks above (a Kabid studying the Kasi's telaahan). Consecutive
    steps of one position are one person's continuing work and judge nothing.
    """
    previous = task.previous
    if previous is None or previous.position_id == task.position_id:
        return None
    if task.step.is_decision or task.position.level < previous.position.level:
        return previous
    return None


def act_refusal(task: Task, user) -> str | None:
    """Why ``user`` may not work on ``task`` now, or None."""
    if task.run.status != Run.Status.RUNNING:
        return _("this run is %(status)s; nothing more can be done in it") % {
            "status": task.run.get_status_display()}
    allowed, _acting = standing(user, task.position)
    if not allowed:
        return _("you do not hold the position %(position)s at %(office)s (nor act for it today); "
                 "who may: %(names)s") % {
            "position": task.position.name, "office": task.position.office.name,
            "names": _names(who_may_act(task.position))}
    judged = judged_task(task)
    if judged is not None and judged.completed_by_id == user.pk:
        return _("you did step %(step)s yourself, and nobody may approve their own work; "
                 "who else may act: %(names)s") % {
            "step": judged.step.nomor, "names": _names(who_may_act(task.position, exclude=user))}
    return None


def head_positions(revision: SopRevision, below: Position) -> list[Position]:
    """Positions of the SOP that rank above ``below`` (lower level number)."""
    return [column.position for column in revision.columns.select_related("position")
            if column.position.level < below.level]


def head_standing(user, revision: SopRevision, below: Position) -> tuple[bool, ActingAssignment | None]:
    """Whether the user is a head of ``below`` in the SOP, and the Plt/Plh it rests on (if any).

    Holding a head position outranks acting for one: the record then names no acting role.
    """
    if user.is_superuser:
        return True, None
    found = False, None
    for position in head_positions(revision, below):
        allowed, acting = standing(user, position)
        if allowed and acting is None:
            return True, None
        if allowed and not found[0]:
            found = True, acting
    return found


def is_head(user, revision: SopRevision, below: Position) -> bool:
    """Whether the user holds (or acts for) a position of the SOP above ``below``; admins are."""
    return head_standing(user, revision, below)[0]


def first_position(revision: SopRevision) -> Position | None:
    first = revision.steps.select_related("column__position__office").order_by("nomor").first()
    return first.column.position if first else None


def unstaffed_refusal(position: Position) -> str:
    """Why a run cannot start when nobody may do its first step: the position, and who can fix it."""
    from procedures.staffing import fixers

    return _("nobody holds the position %(position)s at %(office)s (nor acts for it today as Plt/Plh), so "
             "the first task would wait for nobody; an admin of the office gives it a holder in Admin › "
             "Positions: %(names)s") % {
        "position": position.name, "office": position.office.name,
        "names": ", ".join(fixers(position.office)) or _("ask your administrator")}


def start_refusal(revision: SopRevision, user, *, position: Position | None = None) -> str | None:
    """Why ``user`` may not start a run of ``revision``, or None; ``position``: that of the activity
    chosen (independent activities), instead of the first step's."""
    first = position or first_position(revision)
    if user.is_superuser:
        # An admin may start any SOP, but not one whose first task nobody could take.
        return unstaffed_refusal(first) if first is not None and not who_may_act(first) else None
    if first is None:
        return _("this SOP has no steps")
    allowed, _acting = standing(user, first)
    if not allowed:
        return _("only the %(position)s (or an admin) may start this SOP; who may: %(names)s") % {
            "position": first.name, "names": _names(who_may_act(first))}
    return None


def may_cancel_run(run: Run, user) -> bool:
    """The starter, a head of the first step's position in the SOP, or an admin."""
    if user.pk == run.started_by_id or user.is_superuser:
        return True
    first = first_position(run.revision)
    return first is not None and is_head(user, run.revision, first)


def run_acting(run: Run, user, *, position: Position | None = None) -> ActingAssignment | None:
    """The Plt/Plh through which ``user`` acts on a whole run (starting or cancelling it);
    ``position``: the chosen activity's (independent activities), instead of the first step's."""
    first = position or first_position(run.revision)
    if first is None or user.is_superuser:
        return None
    allowed, acting = standing(user, first)
    if allowed:
        return acting
    return head_standing(user, run.revision, first)[1]


# ---------------------------------------------------------------------------------------------
# Deactivating a user
# ---------------------------------------------------------------------------------------------


def positions_left_to_nobody(user) -> list[tuple[Position, int]]:
    """Positions ``user`` holds that have open tasks and nobody else to act for them today.

    Nobody else: no other active holder and no Plt/Plh of today. Each with its open tasks'
    number (in running runs). Deactivating ``user`` would leave those tasks to nobody.
    """
    positions = (
        Position.objects.filter(holders=user).select_related("office")
        .annotate(open_tasks=Count("tasks", filter=Q(tasks__status__in=Task.OPEN,
                                                     tasks__run__status=Run.Status.RUNNING)))
        .filter(open_tasks__gt=0).order_by("office__name", "name")
    )
    return [(position, position.open_tasks) for position in positions if not who_may_act(position, exclude=user)]


def deactivate_refusal(user, by) -> str | None:
    """Why ``by`` may not deactivate ``user``, or None: an admin who may change users, not themselves."""
    if not (by.is_active and by.has_perm(f"{user._meta.app_label}.change_{user._meta.model_name}")):
        return _("only an admin who may change users may deactivate one")
    if user.pk == by.pk:
        return _("you cannot deactivate yourself; ask another admin")
    if not user.is_active:
        return _("%(name)s is already inactive") % {"name": display_name(user)}
    return None


def left_to_nobody_warning(user) -> str | None:
    """What deactivating ``user`` would leave to nobody (see ``positions_left_to_nobody``), or None."""
    left = positions_left_to_nobody(user)
    if not left:
        return None
    return _("%(name)s is the only one who may act for %(positions)s: after deactivating, these tasks wait "
             "until the position has another holder or a Plt/Plh") % {
        "name": display_name(user),
        "positions": ", ".join(_("%(position)s (%(count)s open task(s))") % {
            "position": position.name, "count": count} for position, count in left)}
