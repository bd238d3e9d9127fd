"""The SOP library: import SOP files into revisions, export revisions back into files.

The management commands and the admin's "Impor SOP" page are thin wrappers over
:func:`sop_import_files` and :func:`sop_export`; they report the same per-file results.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from procedures.durations import Duration
from procedures.models import KelengkapanItem, Office, Position, Sop, SopColumn, SopRevision, Step, guess_level
from procedures.sopfile import (
    DATE_KEYS,
    END,
    LIST_SECTIONS,
    SIGNER_KEYS,
    Problem,
    SopDocument,
    SopFileError,
    StepDocument,
    dump,
    load,
)

# The identity block: the same names on SopDocument and SopRevision.
IDENTITY_FIELDS = ("nama", "nomor", "revisi", *DATE_KEYS, *LIST_SECTIONS, "jumlah_waktu", "zona_waktu")


class Outcome(enum.Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    REVISED = "revised"
    VALID = "valid"  # --check: the file would import
    REFUSED = "refused"


@dataclass
class ImportResult:
    """What happened to one file."""

    source: str
    outcome: Outcome
    kode: str = ""
    instansi: str = ""
    revision: int | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.outcome is Outcome.REFUSED

    @property
    def summary(self) -> str:
        """One line for people: the file and what happened to it."""
        what = {
            Outcome.CREATED: _("created: %(kode)s, revision %(revision)s"),
            Outcome.UNCHANGED: _("unchanged: %(kode)s, revision %(revision)s"),
            Outcome.REVISED: _("new revision %(revision)s: %(kode)s"),
            Outcome.VALID: _("valid: %(kode)s (not imported, check only)"),
            Outcome.REFUSED: _("refused, %(count)s problem(s); nothing was written"),
        }[self.outcome] % {"kode": self.kode, "revision": self.revision, "count": len(self.problems)}
        return f"{self.source}: {what}"

    def lines(self) -> list[str]:
        """The summary, then each problem and warning with the file and key path."""
        details = [f"  {self.source}: {problem}" if not problem.path else f"  {self.source}: {problem.path}: {problem.message}"
                   for problem in self.problems]
        details += [_("  %(source)s: warning: %(warning)s") % {"source": self.source, "warning": warning}
                    for warning in self.warnings]
        return [self.summary, *details]


def sop_import(*, data: bytes, source: str, user=None, check_only: bool = False) -> ImportResult:
    """Import one SOP file: a new SOP, a new revision of it, or nothing when unchanged.

    A refused file writes nothing: all checks run before the first write, and the writes share
    one transaction.
    """
    return _import(data=data, source=source, user=user, check_only=check_only, known=_Known())


def sop_import_files(*, files: Iterable[tuple[str, bytes]], user=None, check_only: bool = False) -> list[ImportResult]:
    """Import several files, each on its own: a refused file does not stop the others.

    The offices and positions read or created for one file serve the next files of the call.
    """
    known = _Known()
    return [_import(data=data, source=source, user=user, check_only=check_only, known=known) for source, data in files]


class _Known:
    """Offices and positions read or written during one import call, by lower-case name.

    Only rows that exist stay here: when a file's transaction rolls back, everything is
    forgotten (:meth:`forget`) and read again for the next file.
    """

    def __init__(self):
        self.offices: dict[str, Office | None] = {}
        self.positions: dict[int, dict[str, Position]] = {}

    def office(self, name: str) -> Office | None:
        key = name.lower()
        if key not in self.offices:
            self.offices[key] = Office.objects.filter(name__iexact=name).first()
        return self.offices[key]

    def forget(self) -> None:
        self.offices.clear()
        self.positions.clear()


def _import(*, data: bytes, source: str, user, check_only: bool, known: _Known) -> ImportResult:
    try:
        document = load(data)
    except SopFileError as error:
        return ImportResult(source, Outcome.REFUSED, problems=error.problems)

    check = document.total()
    result = ImportResult(
        source, Outcome.VALID, kode=document.kode, instansi=document.instansi,
        warnings=[check.warning] if check.warning else [],
    )
    office = known.office(document.instansi)
    if office and document.time_zone and office.time_zone != document.time_zone:
        result.outcome = Outcome.REFUSED
        result.problems = [Problem("zona_waktu", _(
            "the office “%(office)s” is recorded on %(zone)s, but the file says %(file_zone)s; "
            "change the office's time zone in the admin first if it is wrong"
        ) % {"office": office.name, "zone": office.zone_abbreviation, "file_zone": document.zona_waktu})]
        return result
    if check_only:
        return result

    store = {"document": document, "source": source, "user": user, "total": str(check.computed), "known": known}
    try:
        number, created = _store_atomically(**store)
    except IntegrityError:
        # Another import won a race (the same SOP, or a new position of the same office); what
        # it wrote is what we would write: read it and write what is still missing.
        number, created = _store_atomically(**store)
    result.revision = number
    result.outcome = Outcome.UNCHANGED if not created else Outcome.CREATED if number == 1 else Outcome.REVISED
    return result


def _store_atomically(*, known: _Known, **store) -> tuple[int, bool]:
    """:func:`_store` in one transaction; when it rolls back, forget the rows it had made."""
    try:
        with transaction.atomic():
            return _store(known=known, **store)
    except Exception:
        known.forget()
        raise


def _store(*, document: SopDocument, source: str, user, total: str, known: _Known) -> tuple[int, bool]:
    """Write the document as the next revision of its SOP unless the latest one says the same.

    Returns the number of the revision holding the document and whether it was written now.
    The number of statements does not depend on the number of steps: each table's rows go in
    with one bulk insert.
    """
    office = known.office(document.instansi)
    if office is None:
        office = Office.objects.create(
            name=document.instansi, time_zone=document.time_zone or Office.TimeZone.WIB
        )
        known.offices[document.instansi.lower()] = office
        known.positions[office.pk] = {}

    # Lock the SOP row: two admins importing new content at once must get revisions N and N+1.
    # A new SOP is locked by its own insert; a concurrent insert of the same kode fails on the
    # unique constraint, and the caller's second try finds and locks that row.
    sop_id = Sop.objects.select_for_update().filter(office=office, kode=document.kode).values_list("pk", flat=True).first()
    content_hash = document.content_hash
    latest = None
    if sop_id is None:
        sop_id = Sop.objects.create(office=office, kode=document.kode).pk
    else:
        # Its own statement, after the lock is held: it sees a revision that an import we
        # waited for has just committed.
        latest = SopRevision.objects.filter(sop_id=sop_id).order_by("-number").values_list("number", "content_hash").first()
        if latest and latest[1] == content_hash:
            return latest[0], False

    revision = SopRevision.objects.create(
        sop_id=sop_id,
        number=latest[0] + 1 if latest else 1,
        **{key: getattr(document, key) for key in IDENTITY_FIELDS},
        **{f"disahkan_{key}": document.disahkan_oleh.get(key, "") for key in SIGNER_KEYS},
        total_waktu=total,
        content_hash=content_hash,
        source_name=Path(source).name[:255],
        imported_by_id=user.pk if user is not None and user.is_authenticated else None,
    )

    # Rows are built with their foreign keys' ids (revision_id, not revision=): the same rows,
    # without Django's checks of related objects on every row.
    positions = _positions(office=office, labels=document.pelaksana, known=known)
    columns = SopColumn.objects.bulk_create([
        SopColumn(revision_id=revision.pk, order=order, label=label, position_id=positions[label.lower()].pk)
        for order, label in enumerate(document.pelaksana, start=1)
    ])
    column_ids = {column.label: column.pk for column in columns}
    if not all(column_ids.values()):  # backends without RETURNING on bulk insert
        column_ids = dict(SopColumn.objects.filter(revision_id=revision.pk).values_list("label", "pk"))

    steps = Step.objects.bulk_create([
        Step(
            revision_id=revision.pk,
            nomor=step.nomor,
            kegiatan=step.kegiatan,
            column_id=column_ids[step.pelaksana],
            simbol=step.simbol,
            waktu=step.waktu,
            waktu_min=step.duration.low,
            waktu_max=step.duration.high,
            waktu_unit=step.duration.unit,
            output=step.output,
            keterangan=step.keterangan,
        )
        for step in document.langkah
    ])
    step_ids = {step.nomor: step.pk for step in steps}
    if not all(step_ids.values()):  # backends without RETURNING on bulk insert
        step_ids = dict(Step.objects.filter(revision_id=revision.pk).values_list("nomor", "pk"))
    decisions = [
        Step(
            pk=step_ids[step.nomor],
            ya_step_id=None if step.ya == END else step_ids[step.ya],
            tidak_step_id=None if step.tidak == END else step_ids[step.tidak],
        )
        for step in document.langkah
        if step.simbol == Step.Symbol.DECISION
    ]
    if decisions:
        Step.objects.bulk_update(decisions, ["ya_step", "tidak_step"])
    items = [
        KelengkapanItem(step_id=step_ids[step.nomor], order=order, text=text)
        for step in document.langkah
        for order, text in enumerate(step.kelengkapan, start=1)
    ]
    if items:
        KelengkapanItem.objects.bulk_create(items)
    return revision.number, True


def _positions(*, office: Office, labels: list[str], known: _Known) -> dict[str, Position]:
    """The positions of ``office`` for the role columns ``labels``, by lower-case name.

    "Kasat Pol PP" in two SOPs of one office is one position, whatever the case. The office's
    positions are read once per import call; the missing ones are made with one insert.
    """
    if office.pk not in known.positions:
        known.positions[office.pk] = {position.name.lower(): position for position in office.positions.order_by()}
    by_name = known.positions[office.pk]
    missing: dict[str, Position] = {}
    for label in labels:
        if label.lower() not in by_name:
            missing.setdefault(label.lower(), Position(office=office, name=label, level=guess_level(label)))
    if missing:
        created = Position.objects.bulk_create(missing.values())
        if not all(position.pk for position in created):  # backends without RETURNING on bulk insert
            created = Position.objects.filter(office=office, name__in=[position.name for position in created])
        by_name.update({position.name.lower(): position for position in created})
    return by_name


def collect_paths(paths: Iterable[str]) -> tuple[list[Path], list[ImportResult]]:
    """Expand folders into their ``*.yaml``/``*.yml`` files; report paths that do not exist."""
    found, missing = [], []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            missing.append(ImportResult(name, Outcome.REFUSED, problems=[Problem("", _("no such file or folder"))]))
    return found, missing


def revision_document(revision: SopRevision) -> SopDocument:
    """The SOP file content of a stored revision."""
    steps = revision.steps.select_related("column", "ya_step", "tidak_step").prefetch_related("kelengkapan")

    def target(step: Step | None) -> int | str:
        return step.nomor if step is not None else END

    return SopDocument(
        kode=revision.sop.kode,
        instansi=revision.sop.office.name,
        pelaksana=[column.label for column in revision.columns.all()],
        langkah=[
            StepDocument(
                nomor=step.nomor,
                kegiatan=step.kegiatan,
                pelaksana=step.column.label,
                simbol=step.simbol,
                waktu=step.waktu,
                duration=Duration(step.waktu_min, step.waktu_max, step.waktu_unit),
                kelengkapan=[item.text for item in step.kelengkapan.all()],
                output=step.output,
                keterangan=step.keterangan,
                ya=target(step.ya_step) if step.is_decision else None,
                tidak=target(step.tidak_step) if step.is_decision else None,
            )
            for step in steps
        ],
        disahkan_oleh={
            key: getattr(revision, f"disahkan_{key}") for key in SIGNER_KEYS if getattr(revision, f"disahkan_{key}")
        },
        **{key: getattr(revision, key) for key in IDENTITY_FIELDS},
    )


def sop_export(*, revision: SopRevision) -> str:
    """The text of an SOP file for a stored revision; importing it again changes nothing."""
    header = _("%(name)s — exported from sopflow, revision %(number)s") % {
        "name": revision.nama, "number": revision.number}
    return dump(revision_document(revision), header=header)


def find_revision(*, kode: str, instansi: str | None = None, number: int | None = None) -> SopRevision:
    """The revision to export: the latest of the SOP ``kode``, or revision ``number``.

    Raises ``LookupError`` with a message for people when there is none or ``kode`` is ambiguous.
    """
    sops = Sop.objects.filter(kode=kode).select_related("office")
    if instansi:
        sops = sops.filter(office__name__iexact=instansi)
    sops = list(sops)
    if not sops:
        raise LookupError(_("there is no SOP with the code “%(kode)s”") % {"kode": kode})
    if len(sops) > 1:
        raise LookupError(_(
            "the code “%(kode)s” is used by several offices (%(offices)s); name one with --instansi"
        ) % {"kode": kode, "offices": ", ".join(sop.office.name for sop in sops)})
    revisions = sops[0].revisions.select_related("sop__office")
    revision = revisions.filter(number=number).first() if number else revisions.order_by("-number").first()
    if revision is None:
        raise LookupError(_("the SOP “%(kode)s” has no revision %(number)s") % {"kode": kode, "number": number})
    return revision
