"""Staffing: who belongs to which office, who holds which position, and who may administer them.

- A user belongs to the office of their profile and to the offices of the positions they hold.
- Offices may have a superior office (``Office.parent``): a user of a superior office may be named
  Plt/Plh below it, and an admin of an office administers the offices below it.
- An admin who is no superuser administers the offices they belong to and those below them; the
  admin's pickers offer only those offices' positions and users (procedures.admin_people).
- Holders are added and removed here (``holders_add``, ``holders_remove``), never by the admin's
  own forms, so that a holder with claimed tasks is not removed under them.
- NIP/NRP: ``nip_clean`` says whether a number is a civil servant's NIP (18 digits: birth date,
  CPNS month, sex, serial) or a police officer's NRP (8 digits).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from procedures.models import Office, Position, Profile, Task

# ---------------------------------------------------------------------------------------------
# Offices
# ---------------------------------------------------------------------------------------------


def office_tree() -> dict[int, int | None]:
    """Every office's superior office, by id: one query (offices are few)."""
    return dict(Office.objects.values_list("pk", "parent_id"))


def lineage(office_id: int, tree: dict[int, int | None] | None = None) -> list[int]:
    """The office and its superior offices, nearest first (a cycle stops where it repeats)."""
    tree = office_tree() if tree is None else tree
    found: list[int] = []
    while office_id is not None and office_id not in found:
        found.append(office_id)
        office_id = tree.get(office_id)
    return found


def with_offices_below(office_ids: Iterable[int], tree: dict[int, int | None] | None = None) -> set[int]:
    """The offices given and every office below them."""
    tree = office_tree() if tree is None else tree
    wanted = set(office_ids)
    return {pk for pk in tree if wanted.intersection(lineage(pk, tree))}


def user_office_ids(user) -> set[int]:
    """The offices a user belongs to: their profile's and those of the positions they hold."""
    if user is None or user.pk is None:
        return set()
    held = set(Position.objects.filter(holders=user).values_list("office_id", flat=True))
    own = Profile.objects.filter(user=user, office__isnull=False).values_list("office_id", flat=True).first()
    return held | ({own} if own else set())


def admin_office_ids(user) -> set[int] | None:
    """The offices ``user`` administers in the admin: None for a superuser (every office)."""
    if user.is_superuser:
        return None
    return with_offices_below(user_office_ids(user))


def offices_for(user) -> QuerySet[Office]:
    """The offices ``user`` administers, as a queryset."""
    ids = admin_office_ids(user)
    return Office.objects.all() if ids is None else Office.objects.filter(pk__in=ids)


def administers(user, office_id: int) -> bool:
    ids = admin_office_ids(user)
    return ids is None or office_id in ids


def users_of(office_ids: Iterable[int] | None) -> QuerySet:
    """Users belonging to any of the offices (all users for None)."""
    users = get_user_model().objects.all()
    if office_ids is None:
        return users
    office_ids = list(office_ids)
    return users.filter(Q(profile__office_id__in=office_ids) | Q(positions__office_id__in=office_ids)).distinct()


def belongs_to_or_above(user, office: Office) -> bool:
    """Whether ``user`` belongs to ``office`` or to one of its superior offices (the Plt/Plh rule)."""
    return bool(user_office_ids(user).intersection(lineage(office.pk)))


# ---------------------------------------------------------------------------------------------
# NIP / NRP
# ---------------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s.\-]")


def nip_clean(text: str) -> tuple[str, str | None]:
    """The number without spaces, dots or dashes, and why it is not a NIP or NRP (None when it is)."""
    number = _SEPARATORS.sub("", text or "")
    if not number:
        return "", None
    if not number.isascii() or not number.isdigit():
        return number, _("a NIP/NRP has digits only")
    if len(number) == 8:  # NRP of the Polri
        return number, None
    if len(number) != 18:
        return number, _("a NIP has 18 digits and an NRP 8; this one has %(count)s") % {"count": len(number)}
    try:
        dt.date(int(number[0:4]), int(number[4:6]), int(number[6:8]))
    except ValueError:
        return number, _("the first 8 digits of a NIP are a birth date (YYYYMMDD); %(digits)s is none") % {
            "digits": number[0:8]}
    if not 1 <= int(number[12:14]) <= 12:
        return number, _("digits 9–14 of a NIP are the month of appointment (YYYYMM); %(digits)s is none") % {
            "digits": number[8:14]}
    if number[14] not in "12":
        return number, _("digit 15 of a NIP is 1 (male) or 2 (female), not %(digit)s") % {"digit": number[14]}
    return number, None


# ---------------------------------------------------------------------------------------------
# Holders
# ---------------------------------------------------------------------------------------------


def profile_of(user) -> Profile | None:
    """The user's profile if they have one (a user made elsewhere may have none)."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def user_label(user) -> str:
    """How pickers and lists name a user: "Name · NIP · username — office"."""
    profile = profile_of(user)
    parts = [user.get_full_name() or user.get_username()]
    if profile is not None and profile.nip:
        parts.append(profile.nip)
    if user.get_full_name():
        parts.append(user.get_username())
    label = " · ".join(parts)
    if profile is not None and profile.office_id:
        label += f" — {profile.office.name}"
    return label


def user_search(users: QuerySet, term: str) -> QuerySet:
    """Users whose name, NIP or username contains every word of ``term``."""
    for word in (term or "").split()[:5]:
        users = users.filter(
            Q(username__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
            | Q(profile__nip__icontains=word) | Q(email__icontains=word)
        )
    return users


def holder_candidates(position: Position, term: str = "") -> QuerySet:
    """Users who may be made holders of ``position``: active, of its office (or above), or of no office yet."""
    offices = lineage(position.office_id)
    users = get_user_model().objects.filter(is_active=True).filter(
        Q(profile__office_id__in=offices) | Q(positions__office_id__in=offices)
        | (Q(profile__isnull=True) | Q(profile__office__isnull=True)) & Q(positions__isnull=True)
    ).exclude(positions=position).distinct()
    return user_search(users, term).select_related("profile__office").order_by("first_name", "last_name", "username")


class StaffingError(Exception):
    """A refused change of holders; the message is for the admin."""


@transaction.atomic
def holders_add(*, position: Position, users: Iterable, by) -> list:
    """Make ``users`` holders of ``position``; users of no office yet join its office."""
    users = list(users)
    allowed = set(holder_candidates(position).values_list("pk", flat=True))
    refused = [user for user in users if user.pk not in allowed and not position.holders.filter(pk=user.pk).exists()]
    if refused:
        raise StaffingError(_("%(names)s may not hold %(position)s: not an active user of %(office)s") % {
            "names": ", ".join(user_label(user) for user in refused), "position": position.name,
            "office": position.office.name})
    position.holders.add(*users)
    for user in users:
        profile, _created = Profile.objects.get_or_create(user=user)
        if profile.office_id is None:
            profile.office = position.office
            profile.save(update_fields=["office"])
    return users


@transaction.atomic
def holders_remove(*, position: Position, users: Iterable, by) -> list:
    """Remove ``users`` from ``position``; refused for a holder with tasks of it claimed (release them first)."""
    users = list(users)
    claimed = (Task.objects.filter(position=position, assignee__in=users, status=Task.Status.IN_PROGRESS)
               .select_related("assignee").order_by("assignee_id"))
    busy = sorted({user_label(task.assignee) for task in claimed})
    if busy:
        raise StaffingError(_("%(names)s still work on tasks of %(position)s they claimed; they release them "
                              "first (or a head reassigns them)") % {"names": ", ".join(busy), "position": position.name})
    position.holders.remove(*users)
    return users


def fixers(office: Office) -> list[str]:
    """Who can give a position of ``office`` a holder: its admins who may change positions, by name."""
    permission = Permission.objects.filter(content_type__app_label="procedures", codename="change_position").first()
    staff = get_user_model().objects.filter(is_active=True, is_staff=True).filter(
        Q(is_superuser=True) | Q(user_permissions=permission) | Q(groups__permissions=permission)
    ).distinct().select_related("profile")
    lineage_ids = set(lineage(office.pk))
    names = []
    for user in staff.prefetch_related("positions")[:50]:
        offices = {position.office_id for position in user.positions.all()}
        profile = profile_of(user)
        if profile is not None and profile.office_id:
            offices.add(profile.office_id)
        if user.is_superuser or offices & lineage_ids:
            names.append(user.get_full_name() or user.get_username())
    return sorted(set(names))[:5]
