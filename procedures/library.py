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
    try:
        document = load(data)
    except SopFileError as error:
        return ImportResult(source, Outcome.REFUSED, problems=error.problems)

    check = document.total()
    result = ImportResult(
        source, Outcome.VALID, kode=document.kode, instansi=document.instansi,
        warnings=[check.warning] if check.warning else [],
    )
    office = Office.objects.filter(name__iexact=document.instansi).first()
    if office and document.time_zone and office.time_zone != document.time_zone:
        result.outcome = Outcome.REFUSED
        result.problems = [Problem("zona_waktu", _(
            "the office “%(office)s” is recorded on %(zone)s, but the file says %(file_zone)s; "
            "change the office's time zone in the admin first if it is wrong"
        ) % {"office": office.name, "zone": office.zone_abbreviation, "file_zone": document.zona_waktu})]
        return result
    if check_only:
        return result

    try:
        with transaction.atomic():
            revision, created = _store(document, source=source, user=user, total=str(check.computed))
    except IntegrityError:
        # Another import of the same file won the race; what it wrote is what we would write.
        with transaction.atomic():
            revision, created = _store(document, source=source, user=user, total=str(check.computed))
    result.revision = revision.number
    result.outcome = (
        Outcome.UNCHANGED if not created else Outcome.CREATED if revision.number == 1 else Outcome.REVISED
    )
    return result


def _store(document: SopDocument, *, source: str, user, total: str) -> tuple[SopRevision, bool]:
    """Write the document as the next revision of its SOP unless the latest one says the same."""
    office = Office.objects.filter(name__iexact=document.instansi).first()
    if office is None:
        office = Office.objects.create(
            name=document.instansi, time_zone=document.time_zone or Office.TimeZone.WIB
        )
    sop, _created = Sop.objects.get_or_create(office=office, kode=document.kode)
    # Lock the SOP row: two admins importing new content at once must get revisions N and N+1.
    sop = Sop.objects.select_for_update().get(pk=sop.pk)
    latest = sop.revisions.order_by("-number").first()
    if latest and latest.content_hash == document.content_hash:
        return latest, False

    revision = SopRevision.objects.create(
        sop=sop,
        number=latest.number + 1 if latest else 1,
        **{key: getattr(document, key) for key in IDENTITY_FIELDS},
        **{f"disahkan_{key}": document.disahkan_oleh.get(key, "") for key in SIGNER_KEYS},
        total_waktu=total,
        content_hash=document.content_hash,
        source_name=Path(source).name[:255],
        imported_by=user if user is not None and user.is_authenticated else None,
    )

    columns = {}
    for order, label in enumerate(document.pelaksana, start=1):
        position = Position.objects.filter(office=office, name__iexact=label).first()
        if position is None:
            position = Position.objects.create(office=office, name=label, level=guess_level(label))
        columns[label] = SopColumn(revision=revision, order=order, label=label, position=position)
    SopColumn.objects.bulk_create(columns.values())

    steps = Step.objects.bulk_create([
        Step(
            revision=revision,
            nomor=step.nomor,
            kegiatan=step.kegiatan,
            column=columns[step.pelaksana],
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
    by_number = {step.nomor: step for step in steps}
    if not all(step.pk for step in steps):  # backends without RETURNING on bulk insert
        by_number = {step.nomor: step for step in revision.steps.all()}
    decisions = []
    for step in document.langkah:
        if step.simbol == Step.Symbol.DECISION:
            row = by_number[step.nomor]
            row.ya_step = None if step.ya == END else by_number[step.ya]
            row.tidak_step = None if step.tidak == END else by_number[step.tidak]
            decisions.append(row)
    Step.objects.bulk_update(decisions, ["ya_step", "tidak_step"])
    KelengkapanItem.objects.bulk_create([
        KelengkapanItem(step=by_number[step.nomor], order=order, text=text)
        for step in document.langkah
        for order, text in enumerate(step.kelengkapan, start=1)
    ])
    return revision, True


def sop_import_files(*, files: Iterable[tuple[str, bytes]], user=None, check_only: bool = False) -> list[ImportResult]:
    """Import several files, each on its own: a refused file does not stop the others."""
    return [sop_import(data=data, source=source, user=user, check_only=check_only) for source, data in files]


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
