"""The SOP library: import SOP files into revisions, export revisions back into files.

The management commands and the admin's "Impor SOP" page are thin wrappers over
:func:`sop_import_files` and :func:`sop_export`; they report the same per-file results.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from procedures.durations import Duration
from procedures.models import KelengkapanItem, Office, Position, Sop, SopColumn, SopRevision, Step, guess_level
from procedures.sopfile import (
    CONTROL_CHARACTERS,
    DATE_KEYS,
    END,
    LIST_SECTIONS,
    SIGNER_KEYS,
    Problem,
    SheetDate,
    SopDocument,
    SopFileError,
    StepDocument,
    dump,
    load,
)

logger = logging.getLogger(__name__)

# The identity block: the same names on SopDocument and SopRevision (dates apart: a date and its
# precision on the revision, one SheetDate in the document).
IDENTITY_FIELDS = ("nama", "nomor", "revisi", "kop", "ditandatangani_elektronik", "kegiatan_terpisah",
                   "catatan_transkripsi", *LIST_SECTIONS, "jumlah_waktu", "zona_waktu")
# A step's texts: the same names on StepDocument and Step.
STEP_TEXTS = ("kegiatan", "output", "keterangan", "catatan_transkripsi", "label", "pertanyaan", "label_ya",
              "label_tidak")


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


# Files written per transaction by sop_import_files: the statements of a batch carry the rows of
# all its files, so a thousand files cost some twenty batches of eight statements, not eight
# thousand statements and a thousand commits.
BATCH_FILES = 50


def sop_import(*, data: bytes, source: str, user=None, check_only: bool = False) -> ImportResult:
    """Import one SOP file: a new SOP, a new revision of it, or nothing when unchanged.

    A refused file writes nothing: all checks run before the first write, and the writes share
    one transaction.
    """
    known = _Known()
    result, pending = _check(data=data, source=source, known=known)
    if pending is not None and not check_only:
        _write(batch=[pending], user=user, known=known)
    return result


def sop_import_files(*, files: Iterable[tuple[str, bytes]], user=None, check_only: bool = False) -> list[ImportResult]:
    """Import several files, each on its own: a refused file does not stop the others.

    Every file is checked before anything is written, as :func:`sop_import` does. The accepted
    ones are written in batches of up to ``BATCH_FILES`` per transaction; when a batch fails in
    the database (a race with another import, a value the database refuses), it is rolled back
    and its files are written one by one, each in its own transaction, so that a failing file
    fails alone. A file of a new office is written on its own before the next file is checked,
    so that the next files of that office see it (and its time zone).
    """
    known = _Known()
    results: list[ImportResult] = []
    batch: list[_Pending] = []
    for source, data in files:
        result, pending = _check(data=data, source=source, known=known)
        results.append(result)
        if pending is None or check_only:
            continue
        key = (pending.office.pk if pending.office else None, pending.document.kode)
        if pending.office is None or any((item.office.pk, item.document.kode) == key for item in batch):
            _write(batch=batch, user=user, known=known)  # the SOP's latest revision must be in the database
            batch = []
        batch.append(pending)
        if pending.office is None or len(batch) >= BATCH_FILES:
            _write(batch=batch, user=user, known=known)
            batch = []
    _write(batch=batch, user=user, known=known)
    return results


class _Known:
    """Offices and positions read or written during one import call, by lower-case name.

    Only rows that exist stay here: when a transaction rolls back, everything is forgotten
    (:meth:`forget`) and read again.
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


@dataclass
class _Pending:
    """An accepted file waiting to be written."""

    result: ImportResult
    document: SopDocument
    content_hash: str
    total: str
    office: Office | None  # None: the file's office is new


def _check(*, data: bytes, source: str, known: _Known) -> tuple[ImportResult, _Pending | None]:
    """Every check of one file, before anything is written: its result, and what to write."""
    # The name is shown and stored: without the control characters an upload's name may hold.
    source = CONTROL_CHARACTERS.sub("\N{REPLACEMENT CHARACTER}", source)
    try:
        document = load(data)
    except SopFileError as error:
        return ImportResult(source, Outcome.REFUSED, problems=error.problems), None

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
        return result, None
    return result, _Pending(result, document, document.content_hash, str(check.computed), office)


def _write(*, batch: list[_Pending], user, known: _Known) -> None:
    """Write a batch of accepted files in one transaction and set their results."""
    if not batch:
        return
    try:
        try:
            outcomes = _store_atomically(batch=batch, user=user, known=known)
        except IntegrityError:
            if len(batch) > 1:
                raise
            # Another import won a race (the same SOP, or a new position of the same office);
            # what it wrote is what we would write: read it and write what is still missing.
            outcomes = _store_atomically(batch=batch, user=user, known=known)
    except DatabaseError as error:
        if len(batch) == 1:
            _refuse_in_database(batch[0], error)
            return
        for pending in batch:  # each on its own: only the file at fault fails
            _write(batch=[pending], user=user, known=known)
        return
    for pending, (number, created) in zip(batch, outcomes):
        pending.result.revision = number
        pending.result.outcome = (
            Outcome.UNCHANGED if not created else Outcome.CREATED if number == 1 else Outcome.REVISED
        )


def _refuse_in_database(pending: _Pending, error: DatabaseError) -> None:
    """The last guard: a file the checks passed but the database refused is refused, not a 500.

    Its transaction was rolled back, so nothing of it was written. The checks of the format are
    meant to make this unreachable; the log keeps the error for whoever finds out why it was not.
    """
    logger.exception("SOP file %s passed the checks but the database refused it", pending.result.source)
    pending.result.outcome = Outcome.REFUSED
    pending.result.problems = [Problem("", _(
        "the database could not store this file (%(error)s); nothing of it was written"
    ) % {"error": type(error).__name__})]


def _store_atomically(*, known: _Known, **store) -> list[tuple[int, bool]]:
    """:func:`_store` in one transaction; when it rolls back, forget the rows it had made."""
    try:
        with transaction.atomic():
            return _store(known=known, **store)
    except Exception:
        known.forget()
        raise


def _store(*, batch: list[_Pending], user, known: _Known) -> list[tuple[int, bool]]:
    """Write each document as the next revision of its SOP unless the latest one says the same.

    Returns, per document, the number of the revision holding it and whether it was written
    now. The number of statements depends on neither the number of files nor their steps: each
    table's rows go in with one bulk insert. No two documents of a batch share an SOP.
    """
    for pending in batch:
        if pending.office is None:
            document = pending.document
            pending.office = Office.objects.create(
                name=document.instansi, time_zone=document.time_zone or Office.TimeZone.WIB
            )
            known.offices[document.instansi.lower()] = pending.office
            known.positions[pending.office.pk] = {}

    # Lock the SOP rows (in one order, so two batches cannot deadlock on them): two admins
    # importing new content at once must get revisions N and N+1. A new SOP is locked by its own
    # insert; a concurrent insert of the same kode fails on the unique constraint, and the
    # second try finds and locks that row.
    kodes: dict[int, list[str]] = {}
    for pending in batch:
        kodes.setdefault(pending.office.pk, []).append(pending.document.kode)
    wanted = Q()
    for office_id, office_kodes in kodes.items():
        wanted |= Q(office_id=office_id, kode__in=office_kodes)
    sop_ids = {
        (office_id, kode): pk
        for pk, office_id, kode in Sop.objects.select_for_update().filter(wanted).order_by("pk")
        .values_list("pk", "office_id", "kode")
    }
    latest = {}
    if sop_ids:
        # Its own statement, after the locks are held: it sees a revision that an import we
        # waited for has just committed.
        newest = SopRevision.objects.filter(sop_id=OuterRef("sop_id")).order_by("-number").values("number")[:1]
        latest = {
            sop_id: (number, content_hash)
            for sop_id, number, content_hash in SopRevision.objects.filter(
                sop_id__in=sop_ids.values(), number=Subquery(newest)
            ).values_list("sop_id", "number", "content_hash")
        }
    new_sops = [
        Sop(office_id=pending.office.pk, kode=pending.document.kode)
        for pending in batch if (pending.office.pk, pending.document.kode) not in sop_ids
    ]
    if new_sops:
        new_sops = Sop.objects.bulk_create(new_sops)
        if not all(sop.pk for sop in new_sops):  # backends without RETURNING on bulk insert
            new_sops = Sop.objects.filter(wanted).exclude(pk__in=sop_ids.values())
        sop_ids.update({(sop.office_id, sop.kode): sop.pk for sop in new_sops})

    outcomes: list[tuple[int, bool]] = []
    revisions: list[SopRevision] = []
    written: list[_Pending] = []
    for pending in batch:
        document = pending.document
        sop_id = sop_ids[(pending.office.pk, document.kode)]
        number, content_hash = latest.get(sop_id, (0, None))
        if content_hash == pending.content_hash:
            outcomes.append((number, False))
            continue
        outcomes.append((number + 1, True))
        written.append(pending)
        revisions.append(SopRevision(
            sop_id=sop_id,
            number=number + 1,
            **{key: getattr(document, key) for key in IDENTITY_FIELDS},
            **_revision_dates(document),
            **{f"disahkan_{key}": document.disahkan_oleh.get(key, "") for key in SIGNER_KEYS},
            total_waktu=pending.total,
            content_hash=pending.content_hash,
            source_name=Path(pending.result.source).name[:255],
            imported_by_id=user.pk if user is not None and user.is_authenticated else None,
        ))
    if not revisions:
        return outcomes
    revisions = SopRevision.objects.bulk_create(revisions)
    if not all(revision.pk for revision in revisions):  # backends without RETURNING on bulk insert
        ids = {
            (sop_id, number): pk for pk, sop_id, number in SopRevision.objects.filter(
                sop_id__in=[revision.sop_id for revision in revisions]).values_list("pk", "sop_id", "number")
        }
        for revision in revisions:
            revision.pk = ids[(revision.sop_id, revision.number)]
    revision_ids = [revision.pk for revision in revisions]

    # Rows are built with their foreign keys' ids (revision_id, not revision=): the same rows,
    # without Django's checks of related objects on every row.
    columns = []
    for pending, revision_id in zip(written, revision_ids):
        positions = _positions(office=pending.office, labels=pending.document.pelaksana, known=known,
                               revision_id=revision_id)
        columns += [
            SopColumn(revision_id=revision_id, order=order, label=label, position_id=positions[label.lower()].pk)
            for order, label in enumerate(pending.document.pelaksana, start=1)
        ]
    columns = SopColumn.objects.bulk_create(columns)
    column_ids = {(column.revision_id, column.label): column.pk for column in columns}
    if not all(column_ids.values()):  # backends without RETURNING on bulk insert
        column_ids = {
            (revision_id, label): pk for pk, revision_id, label in SopColumn.objects.filter(
                revision_id__in=revision_ids).values_list("pk", "revision_id", "label")
        }

    steps = Step.objects.bulk_create([
        Step(
            revision_id=revision_id,
            nomor=step.nomor,
            column_id=column_ids[(revision_id, step.pelaksana)],
            simbol=step.simbol,
            waktu=step.waktu,
            waktu_min=step.duration.low,
            waktu_max=step.duration.high,
            waktu_unit=step.duration.unit,
            **{key: getattr(step, key) for key in STEP_TEXTS},
        )
        for pending, revision_id in zip(written, revision_ids)
        for step in pending.document.langkah
    ])
    step_ids = {(step.revision_id, step.nomor): step.pk for step in steps}
    if not all(step_ids.values()):  # backends without RETURNING on bulk insert
        step_ids = {
            (revision_id, nomor): pk for pk, revision_id, nomor in Step.objects.filter(
                revision_id__in=revision_ids).values_list("pk", "revision_id", "nomor")
        }

    def target(revision_id: int, nomor: int | str) -> int | None:
        return None if nomor == END else step_ids[(revision_id, nomor)]

    decisions = [
        Step(
            pk=step_ids[(revision_id, step.nomor)],
            ya_step_id=target(revision_id, step.ya),
            tidak_step_id=target(revision_id, step.tidak),
        )
        for pending, revision_id in zip(written, revision_ids)
        for step in pending.document.langkah
        if step.simbol == Step.Symbol.DECISION
    ]
    if decisions:
        Step.objects.bulk_update(decisions, ["ya_step", "tidak_step"])
    items = [
        KelengkapanItem(step_id=step_ids[(revision_id, step.nomor)], order=order, text=text)
        for pending, revision_id in zip(written, revision_ids)
        for step in pending.document.langkah
        for order, text in enumerate(step.kelengkapan, start=1)
    ]
    if items:
        KelengkapanItem.objects.bulk_create(items)
    return outcomes


def _revision_dates(document: SopDocument) -> dict:
    """The revision's date fields: each date, and whether the sheet gave its day or only its month."""
    fields = {}
    for key in DATE_KEYS:
        value = getattr(document, key)
        fields[key] = value.date if value else None
        fields[f"{key}_precision"] = value.precision if value else SheetDate.precision
    return fields


def _positions(*, office: Office, labels: list[str], known: _Known, revision_id: int | None = None) -> dict[str, Position]:
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
            missing.setdefault(label.lower(), Position(office=office, name=label, level=guess_level(label),
                                                       introduced_by_id=revision_id))
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
                pelaksana=step.column.label,
                simbol=step.simbol,
                waktu=step.waktu,
                duration=Duration(step.waktu_min, step.waktu_max, step.waktu_unit),
                kelengkapan=[item.text for item in step.kelengkapan.all()],
                ya=target(step.ya_step) if step.is_decision else None,
                tidak=target(step.tidak_step) if step.is_decision else None,
                **{key: getattr(step, key) for key in STEP_TEXTS},
            )
            for step in steps
        ],
        disahkan_oleh={
            key: getattr(revision, f"disahkan_{key}") for key in SIGNER_KEYS if getattr(revision, f"disahkan_{key}")
        },
        **{key: getattr(revision, key) for key in IDENTITY_FIELDS},
        **{key: SheetDate(getattr(revision, key), getattr(revision, f"{key}_precision"))
           for key in DATE_KEYS if getattr(revision, key)},
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
