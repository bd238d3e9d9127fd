"""Printable PDFs: the SOP sheet (Permenpan RB 35/2012 layout) and the report of a run.

Both are HTML/CSS rendered by WeasyPrint. The sheet is an identity page followed by the
flowchart pages that :mod:`procedures.flowchart` draws as SVG, one per landscape page. Text is set
in the vendored DejaVu Sans Condensed (``flowchart.FONT_FILES``), declared with ``@font-face`` so
the fonts are embedded and the PDF prints the same everywhere. Nothing is fetched from the
network: the only URLs WeasyPrint may open are those font files.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import re
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from procedures import flowchart
from procedures.permissions import display_name
from procedures.durations import MONTH, WEEK, Duration, Total, sum_durations
from procedures.models import ActingAssignment, Event, KelengkapanItem, Run, SopRevision, Step, Task, TaskFile
from procedures.working_calendar import WorkingCalendar, calendar_for_office

# WeasyPrint says on every PDF that it subsets fonts with fontTools when the system lacks
# HarfBuzz-Subset; the PDF is the same either way, so keep that out of logs and command output.
logging.getLogger("weasyprint").addFilter(lambda record: "HarfBuzz-Subset" not in record.getMessage())

# Portrait (width, height) in millimetres. F4 ("folio") is the paper Indonesian offices print on.
PAPERS: dict[str, tuple[int, int]] = {"a4": (210, 297), "f4": (215, 330)}
DEFAULT_PAPER = "a4"

# Page margins in millimetres: (top, right, bottom, left).
IDENTITY_MARGINS = (15, 15, 15, 20)  # a wider left margin for binding
FLOW_MARGINS = (10, 10, 12, 10)  # the bottom margin holds the page footer
REPORT_MARGINS = (12, 12, 14, 12)


def paper_size(paper: str) -> tuple[int, int]:
    """The portrait size of a paper name ("a4", "f4"); ``ValueError`` for anything else."""
    try:
        return PAPERS[paper.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown paper {paper!r}: use one of {', '.join(PAPERS)}") from None


def flow_box(paper: str = DEFAULT_PAPER) -> tuple[float, float]:
    """Width and height in mm of a landscape flowchart page's content box."""
    width, height = paper_size(paper)
    top, right, bottom, left = FLOW_MARGINS
    return float(height - left - right), float(width - top - bottom)


def _font_faces() -> list[dict[str, str]]:
    return [{"weight": weight, "url": path.as_uri()} for weight, path in flowchart.FONT_FILES.items()]


def _write_pdf(html: str) -> bytes:
    # Imported late: WeasyPrint loads Pango and friends, which only the PDFs need.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    allowed = {path.as_uri() for path in flowchart.FONT_FILES.values()}

    class FontsOnly(URLFetcher):
        """Open the vendored fonts and inline data: images only: nothing else, least of all from the network."""

        def fetch(self, url, headers=None):
            if url not in allowed and not url.startswith("data:"):
                raise ValueError(f"sopflow PDFs load no resources except their fonts, refused {url!r}")
            return super().fetch(url, headers)

    # The flowchart pages embed their drawing as a data: image (see flowchart.Drawing.to_string).
    fetcher = FontsOnly(allowed_protocols=("file", "data"))
    return HTML(string=html, url_fetcher=fetcher).write_pdf(font_config=_font_config())


_fonts = threading.local()


def _font_config():
    """WeasyPrint's font set, kept per thread: loading the two @font-face files costs a tenth of a
    second per PDF. Threads never share one (WeasyPrint does not say it is thread-safe)."""
    from weasyprint.text.fonts import FontConfiguration

    if not hasattr(_fonts, "config"):
        _fonts.config = FontConfiguration()
    return _fonts.config


def _page_css(paper: str, margins: tuple[int, int, int, int], *, landscape: bool) -> dict[str, str]:
    width, height = paper_size(paper)
    if landscape:
        width, height = height, width
    return {"size": f"{width}mm {height}mm", "margin": " ".join(f"{m}mm" for m in margins)}


def css_string(text: str) -> str:
    """A CSS string literal of ``text`` that cannot end the string or the <style> element."""
    escaped = "".join(
        "\\" + f"{ord(char):x} " if char in '\\"<>&\n\r' else char
        for char in text
    )
    return mark_safe(f'"{escaped}"')  # noqa: S308 (every special character is escaped above)


def page_counter() -> str:
    """The CSS ``content`` of the page footer: "Halaman 2 dari 5" with live counters."""
    parts = re.split(r"(\{page\}|\{pages\})", _("Page {page} of {pages}"))
    tokens = []
    for part in parts:
        if part == "{page}":
            tokens.append("counter(page)")
        elif part == "{pages}":
            tokens.append("counter(pages)")
        elif part:
            tokens.append(css_string(part))
    return mark_safe(" ".join(tokens))  # noqa: S308 (made of escaped strings and counters)


def signer_id_label(nip: str) -> str:
    """"NIP" for a civil servant's 18 digits, "NRP" for a police officer's 8, else "NIP/NRP"."""
    digits = nip.replace(" ", "").replace(".", "")
    if digits.isdigit() and len(digits) == 18:
        return "NIP"
    if digits.isdigit() and len(digits) == 8:
        return "NRP"
    return "NIP/NRP"


# ---------------------------------------------------------------------------------------------
# The SOP sheet
# ---------------------------------------------------------------------------------------------


ORIENTATIONS = ("potret", "lanskap")  # the identity page's: portrait (the regulation's) or landscape
DEFAULT_ORIENTATION = "potret"


@dataclass
class Signer:
    """Who signs the sheet ("Disahkan oleh"), each line as printed; "" where nobody knows it."""

    jabatan: str = ""
    nama: str = ""
    pangkat: str = ""
    nip: str = ""

    @property
    def nama_printed(self) -> str:
        return name_in_capitals(self.nama)

    @property
    def id_label(self) -> str:
        return signer_id_label(self.nip) if self.nip else "NIP"


def name_in_capitals(name: str) -> str:
    """A signer's name as signature blocks print it: "Drs. BAMBANG SUTRISNO, M.Si".

    The name is in capitals; academic and religious titles keep their spelling: those before the
    name are the words ending in a full stop (Drs., Ir., H.; an initial "a." is capitalised), those
    after it follow the first comma.
    """
    name = " ".join(name.split())
    if not name:
        return ""
    head, comma, tail = name.partition(",")
    words = []
    for word in head.split(" "):
        words.append(word if word.endswith(".") and len(word) > 2 else word.upper())
    return " ".join(words) + comma + tail


def sheet_signer(revision: SopRevision) -> Signer:
    """The file's disahkan_oleh, the blanks filled from the profile of whoever holds the signing
    position in the office now (one query), when exactly one person does and the file names
    nobody else."""
    signer = Signer(jabatan=revision.disahkan_jabatan, nama=revision.disahkan_nama,
                    pangkat=revision.disahkan_pangkat, nip=revision.disahkan_nip)
    if not signer.jabatan or (signer.nama and signer.pangkat and signer.nip):
        return signer
    from django.contrib.auth import get_user_model

    holders = list(
        get_user_model().objects.filter(
            positions__office_id=revision.sop.office_id, positions__name__iexact=signer.jabatan, is_active=True,
        ).select_related("profile")[:2]
    )
    if len(holders) != 1:
        return signer
    holder = holders[0]
    full_name = holder.get_full_name()
    if signer.nama and " ".join(signer.nama.split()).casefold() != " ".join(full_name.split()).casefold():
        return signer  # the file names another signer: their rank and number are not the holder's
    profile = getattr(holder, "profile", None)
    signer.nama = signer.nama or full_name
    if profile is not None:
        signer.pangkat = signer.pangkat or profile.pangkat
        signer.nip = signer.nip or profile.nip
    return signer


def office_logo(office) -> str:
    """The office's logo as a ``data:`` URL for the kop box, or "" (no logo, or its file is gone)."""
    from procedures.logos import CONTENT_TYPES, data_uri

    if not office.logo:
        return ""
    extension = office.logo.name.rsplit(".", 1)[-1].lower()
    if extension not in CONTENT_TYPES:
        return ""
    try:
        with office.logo.open("rb") as file:
            return data_uri(file.read(), CONTENT_TYPES[extension])
    except OSError:
        logging.getLogger(__name__).warning("logo of office %s is missing: %s", office.pk, office.logo.name)
        return ""


def sheet_footer(revision: SopRevision) -> str:
    """What the foot of every page of a sheet names: the SOP's Nomor and Nama."""
    name = " ".join(revision.nama.split())
    return f"{revision.nomor} · {name}" if revision.nomor else name


def render_sop_pdf(revision: SopRevision, *, paper: str = DEFAULT_PAPER,
                   orientation: str = DEFAULT_ORIENTATION) -> bytes:
    """The sheet of an SOP revision: the identity page (portrait, or landscape on request), then
    its flowchart pages (landscape)."""
    paper = paper.lower()
    if orientation not in ORIENTATIONS:
        raise ValueError(f"unknown orientation {orientation!r}: use one of {', '.join(ORIENTATIONS)}")
    width_mm, height_mm = flow_box(paper)
    pages = flowchart.sheet_pages(revision, width_mm=width_mm, height_mm=height_mm)
    lists = [
        (
            (pgettext("sop sheet", "Legal basis"), revision.dasar_hukum),
            (pgettext("sop sheet", "Implementer qualifications"), revision.kualifikasi_pelaksana),
        ),
        (
            (pgettext("sop sheet", "Related SOPs"), revision.keterkaitan),
            (pgettext("sop sheet", "Equipment"), revision.peralatan),
        ),
        (
            (pgettext("sop sheet", "Warnings"), revision.peringatan),
            (pgettext("sop sheet", "Records and data keeping"), revision.pencatatan),
        ),
    ]
    if orientation == "lanskap":
        # Landscape: the six boxes in two rows of three, so that the identity stays on one page.
        boxes = [box for row in lists for box in row]
        lists = [tuple(boxes[:3]), tuple(boxes[3:])]
    office = revision.sop.office
    html = render_to_string("procedures/pdf/sop_sheet.html", {
        "revision": revision,
        "office": office,
        # The kop as the file gives it, else the office's name in the capitals of a letterhead.
        "kop": [line for line in revision.kop if line.strip()] or [office.name.upper()],
        "logo": office_logo(office),
        "signer": sheet_signer(revision),
        "lists": lists,
        "labels": sheet_labels(),
        "footer": css_string(sheet_footer(revision)),
        "page_counter": page_counter(),
        "pages": pages,
        "font_family": flowchart.FONT_FAMILY,
        "font_faces": _font_faces(),
        "landscape": orientation == "lanskap",
        "identity_page": _page_css(paper, IDENTITY_MARGINS, landscape=orientation == "lanskap"),
        "flow_page": _page_css(paper, FLOW_MARGINS, landscape=True),
        # Formatted here: the template would localise the decimal point ("277,0mm" is no CSS length).
    })
    return _write_pdf(html)


def sheet_labels() -> dict[str, str]:
    """The identity block's labels, as the regulation words them."""
    return {
        "nomor": pgettext("sop sheet", "SOP number"),
        "tanggal_pembuatan": pgettext("sop sheet", "Date made"),
        "tanggal_revisi": pgettext("sop sheet", "Date revised"),
        "tanggal_efektif": pgettext("sop sheet", "Effective date"),
        "disahkan_oleh": pgettext("sop sheet", "Approved by"),
        "nama": pgettext("sop sheet", "SOP name"),
        "revisi": pgettext("sop sheet", "revision"),
        "signed_electronically": pgettext("sop sheet", "Signed electronically by"),
    }


# ---------------------------------------------------------------------------------------------
# The run report
# ---------------------------------------------------------------------------------------------


def format_working_time(delta: dt.timedelta) -> str:
    """Working time as the sheets write times: "2 jam 15 menit" (to the nearest minute)."""
    minutes = round(delta.total_seconds() / 60)
    return str(Total(minutes=(minutes, minutes)))


def format_clock_time(delta: dt.timedelta) -> str:
    """Time on the clock, whatever the working hours: "45 menit", "2 hari kalender 3 jam"."""
    minutes = max(round(delta.total_seconds() / 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    rest = str(Total(minutes=(minutes, minutes))) if minutes else ""
    if not days:
        return rest or str(Total(minutes=(0, 0)))
    head = pgettext("clock time", "%(days)s calendar days") % {"days": days}
    return f"{head} {rest}".strip()


@dataclass
class Measured:
    """The actual time of a piece of work against its standard."""

    actual: dt.timedelta
    standard: str
    over: dt.timedelta | None  # None: within the standard
    clock: dt.timedelta | None = None  # from start to end on the clock (off hours and days off too)

    @property
    def actual_text(self) -> str:
        return format_working_time(self.actual)

    @property
    def clock_text(self) -> str:
        return format_clock_time(self.clock) if self.clock is not None else ""

    @property
    def verdict(self) -> str:
        if self.over is None:
            return _("within the standard")
        return _("over the standard by %(amount)s") % {"amount": format_working_time(self.over)}


def measure(calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime,
            durations: list[Duration], standard: str) -> Measured:
    """Working time from ``start`` to ``end`` against the upper bounds of ``durations`` in turn.

    The standard ends where the deadline would: each upper bound added on the office calendar
    (menit/jam working time, hari working days, minggu/bulan calendar time). Work that ends after
    that is over the standard by the working time in between (calendar time for minggu/bulan).
    """
    deadline = start
    for duration in durations:
        deadline = calendar.add(deadline, duration.high, duration.unit)
    actual = calendar.working_time_between(start, end)
    clock = end - start
    if end <= deadline:
        return Measured(actual=actual, standard=standard, over=None, clock=clock)
    over = calendar.working_time_between(deadline, end)
    if durations and durations[-1].unit in (WEEK, MONTH) and not over:
        over = end - deadline
    if over < dt.timedelta(minutes=1):
        return Measured(actual=actual, standard=standard, over=None, clock=clock)
    return Measured(actual=actual, standard=standard, over=over, clock=clock)


def step_duration(step: Step) -> Duration:
    return Duration(step.waktu_min, step.waktu_max, step.waktu_unit)


@dataclass
class StepRow:
    """One task of the run as the report prints it."""

    task: Task
    acting_title: str
    ticked: list[KelengkapanItem]
    unticked: list[KelengkapanItem]
    files: list[str]
    measured: Measured | None

    @property
    def done_by(self) -> str:
        """As officials write an acting official: "Plh. Kasat Pol PP (Bambang)"."""
        return acting_name(self.acting_title, display_name(self.task.completed_by))

    @property
    def assignee(self) -> str:
        return display_name(self.task.assignee)


def acting_name(title: str, name: str) -> str:
    """A person as the report names them: their name, or for a Plt/Plh "Plh. Kasat Pol PP (name)"."""
    return f"{title} ({name})" if title else name


@dataclass
class RunReport:
    run: Run
    revision: SopRevision
    started_acting: str
    rows: list[StepRow] = field(default_factory=list)
    total: Measured | None = None
    done_standard: str = ""
    sheet_standard: str = ""
    sheet_standard_computed: bool = False
    head: Signer | None = None  # who signs "Mengetahui"


def report_head(revision: SopRevision, office) -> Signer:
    """The head who acknowledges the report ("Mengetahui"): the highest position among the SOP's
    role columns, named when one person holds it; else, when one Plt/Plh acts for it on the day
    the report is printed, that official under their title ("Plh. Kasat Pol PP"). Two or three
    queries."""
    column = (
        revision.columns.select_related("position").order_by("position__level", "order").first()
    )
    if column is None:
        return Signer()
    head = Signer(jabatan=column.position.name)
    signer = None
    holders = list(column.position.holders.filter(is_active=True).select_related("profile")[:2])
    if len(holders) == 1:
        signer = holders[0]
    elif not holders:
        today = timezone.localdate(timezone=office.zoneinfo)
        acting = list(ActingAssignment.objects.filter(
            position=column.position, starts_on__lte=today, ends_on__gte=today, user__is_active=True,
        ).select_related("user__profile")[:2])
        if len(acting) == 1:
            acting[0].position = column.position
            head.jabatan, signer = acting[0].title(), acting[0].user
    if signer is not None:
        profile = getattr(signer, "profile", None)
        head.nama = signer.get_full_name()
        head.pangkat = profile.pangkat if profile else ""
        head.nip = profile.nip if profile else ""
    return head


def run_report(run: Run) -> RunReport:
    """What the report of a run shows, in a fixed number of queries (eight, plus two for the calendar)."""
    revision = run.revision
    tasks = list(
        run.tasks.select_related("step", "position", "completed_by", "assignee", "acting__position")
        .prefetch_related(
            Prefetch("step__kelengkapan", queryset=KelengkapanItem.objects.order_by("order")),
            "checks",
            Prefetch("files", queryset=TaskFile.objects.order_by("uploaded_at", "pk")),
        )
        .order_by("created_at", "pk")
    )
    events = list(
        Event.objects.filter(run=run, transition__in=("start", "complete", "decide_ya", "decide_tidak"))
        .only("task_id", "transition", "acting_title").order_by("created_at", "pk")
    )
    acting_by_task = {event.task_id: event.acting_title for event in events if event.task_id and event.acting_title}
    started_acting = next((event.acting_title for event in events if event.transition == "start"), "")
    calendar = calendar_for_office(run.office)

    report = RunReport(run=run, revision=revision, started_acting=started_acting)
    done: list[Task] = []
    for task in tasks:
        ticked_ids = {check.item_id for check in task.checks.all()}
        items = list(task.step.kelengkapan.all())
        finished = task.completed_at is not None and task.status in (Task.Status.DONE, Task.Status.SENT_BACK)
        measured = None
        if finished:
            done.append(task)
            measured = measure(calendar, task.created_at, task.completed_at, [step_duration(task.step)],
                               task.step.waktu)
        title = acting_by_task.get(task.pk) or (task.acting.title() if task.acting_id else "")
        report.rows.append(StepRow(
            task=task, acting_title=title,
            ticked=[item for item in items if item.pk in ticked_ids],
            unticked=[item for item in items if item.pk not in ticked_ids],
            files=[file.name for file in task.files.all()],
            measured=measured,
        ))

    durations = [step_duration(task.step) for task in done]
    report.done_standard = str(sum_durations(durations)) if durations else ""
    report.sheet_standard = revision.printed_total
    report.sheet_standard_computed = bool(report.sheet_standard) and not revision.jumlah_waktu
    report.head = report_head(revision, run.office)
    end = run.ended_at or max((task.completed_at for task in done), default=None)
    if end is not None and durations:
        report.total = measure(calendar, run.started_at, end, durations, report.done_standard)
    return report


def render_run_pdf(run: Run, *, paper: str = DEFAULT_PAPER) -> bytes:
    """The report of a run: the SOP, the run, every step done with its time against the standard."""
    report = run_report(run)
    html = render_to_string("procedures/pdf/run_report.html", {
        "report": report,
        "run": run,
        "revision": report.revision,
        "office": run.office,
        "zone": run.office.zone_abbreviation,
        "started_by": acting_name(report.started_acting, display_name(run.started_by)),
        "labels": sheet_labels(),
        "page_counter": page_counter(),
        "printed_at": timezone.now(),
        "font_family": flowchart.FONT_FAMILY,
        "font_faces": _font_faces(),
        "report_page": _page_css(paper, REPORT_MARGINS, landscape=True),
        "signer_id_label": signer_id_label(report.revision.disahkan_nip) if report.revision.disahkan_nip else "",
    })
    return _write_pdf(html)



# ---------------------------------------------------------------------------------------------
# The Formulir Monitoring Pelaksanaan SOP (procedures.monitoring.sheets)
# ---------------------------------------------------------------------------------------------


def render_monitoring_sheet_pdf(sheet, *, paper: str = DEFAULT_PAPER) -> bytes:
    """A monitoring sheet in the sheet's style: the kop, a landscape table, the signature block."""
    from procedures.models import MonitoringSheet
    from procedures.monitoring import charts
    from procedures.monitoring.figures import monitoring_report
    from procedures.monitoring.scope import Filters, Period
    from procedures.monitoring.sheets import sheet_rows

    rows = sheet_rows(sheet)
    # The page's step charts of the period, the same pictures as on Pemantauan (from the stored figures).
    period = Period(sheet.period_start, sheet.period_end)
    report = monitoring_report(Filters(period=period, office_ids=frozenset({sheet.office_id})))
    step_charts = []
    for row in rows:
        steps = [step for step in report.steps if step.sop_id == row.sop_id]
        if steps:
            step_charts.append(charts.step_chart_image(row.prosedur, steps))
    latest = (SopRevision.objects.filter(sop_id__in=[row.sop_id for row in rows]).exclude(kop=[])
              .order_by("-imported_at").first())
    html = render_to_string("procedures/pdf/monitoring_sheet.html", {
        "sheet": sheet,
        "rows": rows,
        "office": sheet.office,
        "kop": latest.kop if latest else [sheet.office.name],
        "signed": sheet.status == MonitoringSheet.Status.SIGNED,
        "evaluation": sheet.kind == MonitoringSheet.Kind.EVALUATION,
        "step_charts": step_charts,
        "signer_id_label": signer_id_label(sheet.signer_nip) if sheet.signer_nip else "NIP",
        "page_counter": page_counter(),
        "font_family": flowchart.FONT_FAMILY,
        "font_faces": _font_faces(),
        "report_page": _page_css(paper, REPORT_MARGINS, landscape=True),
    })
    return _write_pdf(html)
