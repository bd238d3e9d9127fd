"""Readiness (kesiapan SOP): what an SOP still lacks before it can run, for the admin's pages.

For the latest revision of each SOP: every position of its sheet, who holds it, who acts for it
today (Plt/Plh), whether the import of this SOP created it (it did not exist in the office yet),
and the office's positions with a similar name (a new "Kasie Trantib" beside an old "Kasi
Trantib" is likely a typo of the sheet). An SOP is ready when every position has someone; it can
at least start when its first step's position has someone (``permissions.start_refusal``).

``sop_readiness`` reads any number of SOPs in six queries; ``start_blockers`` tells, for the run
start page, which revisions cannot start, in three.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from procedures.models import ActingAssignment, Office, Position, Sop, SopColumn, SopRevision, Step


@dataclass
class PositionReadiness:
    """One role column of the sheet and who can do its steps."""

    label: str
    position: Position
    holders: list[str] = field(default_factory=list)
    acting: list[str] = field(default_factory=list)  # "Plh. … : name (until dd-mm-yyyy)"
    new: bool = False  # created by importing this SOP
    first: bool = False  # the position of the first step
    similar: list[str] = field(default_factory=list)  # other positions of the office with a close name

    @property
    def staffed(self) -> bool:
        return bool(self.holders or self.acting)


@dataclass
class SopReadiness:
    sop: Sop
    revision: SopRevision | None
    positions: list[PositionReadiness] = field(default_factory=list)

    @property
    def missing(self) -> list[PositionReadiness]:
        return [row for row in self.positions if not row.staffed]

    @property
    def new(self) -> list[PositionReadiness]:
        return [row for row in self.positions if row.new]

    @property
    def ready(self) -> bool:
        return self.revision is not None and not self.missing

    @property
    def can_start(self) -> bool:
        return self.revision is not None and all(row.staffed for row in self.positions if row.first)


def _today(office: Office) -> dt.date:
    return timezone.localdate(timezone=office.zoneinfo)


def _names(user) -> str:
    return user.get_full_name() or user.get_username()


def _staff(position_ids: set[int], offices: dict[int, Office]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Active holders and today's acting officials of the positions, by position id (two queries)."""
    holders: dict[int, list[str]] = defaultdict(list)
    through = Position.holders.through.objects.filter(position_id__in=position_ids, user__is_active=True)
    for holding in through.select_related("user").order_by("user__first_name", "user__username"):
        holders[holding.position_id].append(_names(holding.user))
    acting: dict[int, list[str]] = defaultdict(list)
    todays = {office_id: _today(office) for office_id, office in offices.items()}
    if position_ids and todays:
        appointments = ActingAssignment.objects.filter(
            position_id__in=position_ids, user__is_active=True,
            starts_on__lte=max(todays.values()), ends_on__gte=min(todays.values()),
        ).select_related("user", "position").order_by("starts_on")
        for appointment in appointments:
            today = todays.get(appointment.position.office_id)
            if today is not None and appointment.starts_on <= today <= appointment.ends_on:
                acting[appointment.position_id].append(
                    f"{appointment.title()}: {_names(appointment.user)} ({appointment.ends_on:%d-%m-%Y})")
    return holders, acting


def sop_readiness(sops: Iterable[Sop | int]) -> list[SopReadiness]:
    """The readiness of each SOP (by its latest revision), in the order given; six queries at most."""
    ids = [sop if isinstance(sop, int) else sop.pk for sop in sops]
    if not ids:
        return []
    latest = SopRevision.objects.filter(sop=OuterRef("pk")).order_by("-number")
    found = {sop.pk: sop for sop in Sop.objects.filter(pk__in=ids).select_related("office").annotate(
        latest_id=Subquery(latest.values("pk")[:1]))}
    revision_ids = [sop.latest_id for sop in found.values() if sop.latest_id]
    first_column = Step.objects.filter(revision=OuterRef("pk")).order_by("nomor").values("column_id")[:1]
    revisions = {revision.pk: revision for revision in SopRevision.objects.filter(pk__in=revision_ids).annotate(
        first_column_id=Subquery(first_column))}
    columns: dict[int, list[SopColumn]] = defaultdict(list)
    for column in (SopColumn.objects.filter(revision_id__in=revision_ids).select_related("position")
                   .annotate(introduced_by_sop_id=F("position__introduced_by__sop_id")).order_by("order")):
        columns[column.revision_id].append(column)
    offices = {sop.office_id: sop.office for sop in found.values()}
    position_ids = {column.position_id for listed in columns.values() for column in listed}
    holders, acting = _staff(position_ids, offices)

    result = []
    for sop_id in ids:
        sop = found.get(sop_id)
        if sop is None:
            continue
        revision = revisions.get(sop.latest_id)
        readiness = SopReadiness(sop=sop, revision=revision)
        for column in columns.get(sop.latest_id, []):
            column.position.office = sop.office
            readiness.positions.append(PositionReadiness(
                label=column.label, position=column.position,
                holders=holders.get(column.position_id, []), acting=acting.get(column.position_id, []),
                new=column.introduced_by_sop_id == sop.pk, first=column.pk == revision.first_column_id,
            ))
        result.append(readiness)
    _similar([row for readiness in result for row in readiness.new])
    return result


def _similar(rows: list[PositionReadiness]) -> None:
    """Name, for each new position, the office's other positions with a close name (one query)."""
    if not rows:
        return
    names: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, office_id, name in Position.objects.filter(
            office_id__in={row.position.office_id for row in rows}).values_list("pk", "office_id", "name"):
        names[office_id].append((pk, name))
    for row in rows:
        others = {name.casefold(): name for pk, name in names[row.position.office_id] if pk != row.position.pk}
        close = difflib.get_close_matches(row.position.name.casefold(), list(others), n=3, cutoff=0.75)
        row.similar = [others[name] for name in close]


def start_blockers(revisions: Iterable[SopRevision]) -> dict[int, Position]:
    """The revisions that cannot start because nobody may do their first step today: revision id → its position.

    Three queries whatever the number of revisions: the first steps' positions, their holders,
    today's acting officials.
    """
    # Independent activities start at the activity chosen; the engine refuses an activity nobody
    # may do when it is chosen, with the same message. Only chained SOPs are blocked here.
    revisions = [revision for revision in revisions if not revision.kegiatan_terpisah]
    if not revisions:
        return {}
    first_step = Step.objects.filter(revision=OuterRef("revision_id")).order_by("nomor").values("pk")[:1]
    firsts = {
        step.revision_id: step.column.position
        for step in Step.objects.filter(revision_id__in=[revision.pk for revision in revisions], pk=Subquery(first_step))
        .select_related("column__position__office")
    }
    offices = {position.office_id: position.office for position in firsts.values()}
    holders, acting = _staff({position.pk for position in firsts.values()}, offices)
    return {revision_id: position for revision_id, position in firsts.items()
            if not holders.get(position.pk) and not acting.get(position.pk)}
