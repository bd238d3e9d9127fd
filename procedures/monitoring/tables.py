"""The monitoring tables as one description shared by the page and the CSV/XLSX exports.

Each column gives its header, the raw value for a file (numbers stay numbers: minutes, percent)
and the text the page shows; the page and the files cannot drift apart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import openpyxl
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.styles import Font

from procedures.monitoring.figures import Report, minutes_text


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable
    text: Callable | None = None  # what the page shows; default: the value
    numeric: bool = True

    def shown(self, row) -> str:
        value = (self.text or self.value)(row)
        return "—" if value is None else value


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list

    @property
    def headers(self) -> list[str]:
        return [str(column.header) for column in self.columns]

    def values(self) -> list[list]:
        return [[column.value(row) for column in self.columns] for row in self.rows]

    def shown(self) -> list[list[tuple[str, bool]]]:
        return [[(column.shown(row), column.numeric) for column in self.columns] for row in self.rows]

    def body_html(self) -> SafeString:
        """The table's rows as HTML, escaped: built here, not in template loops (a page has many cells)."""
        cell = {True: '<td class="text-end">{}</td>', False: "<td>{}</td>"}
        return mark_safe("".join(  # noqa: S308 (every value goes through format_html)
            "<tr>" + "".join(format_html(cell[numeric], value) for value, numeric in row) + "</tr>"
            for row in self.shown()))


def _percent(value: float | None):
    return None if value is None else f"{value:.1f} %".replace(".", ",")


def _round(value: float | None):
    return None if value is None else round(value, 1)


def report_tables(report: Report) -> dict[str, Table]:
    """Every table of a report, by the key its export URL names."""
    share_column = Column(gettext_lazy("Within standard (%)"), lambda r: r.within_share,
                          lambda r: _percent(r.within_share))
    tables = [
        Table("sop", _("Per SOP"), (
            Column(gettext_lazy("SOP"), lambda r: r.name, numeric=False),
            Column(gettext_lazy("Office"), lambda r: r.office, numeric=False),
            Column(gettext_lazy("Started"), lambda r: r.started),
            Column(gettext_lazy("Finished"), lambda r: r.finished),
            Column(gettext_lazy("Cancelled"), lambda r: r.cancelled),
            Column(gettext_lazy("Running"), lambda r: r.running),
            Column(gettext_lazy("Stuck"), lambda r: r.stuck),
            Column(gettext_lazy("Steps done"), lambda r: r.tasks_done),
            share_column,
            Column(gettext_lazy("Send-backs"), lambda r: r.send_backs),
            Column(gettext_lazy("Returns outside the flow"), lambda r: r.returns),
        ), report.sops),
        Table("langkah", _("Step by step"), (
            Column(gettext_lazy("SOP"), lambda r: r.sop_name, numeric=False),
            Column(gettext_lazy("Step"), lambda r: r.nomor),
            Column(gettext_lazy("Activity"), lambda r: r.kegiatan, numeric=False),
            Column(gettext_lazy("Position"), lambda r: r.position, numeric=False),
            Column(gettext_lazy("Done"), lambda r: r.done),
            Column(gettext_lazy("Standard (minutes)"), lambda r: _round(r.standard), lambda r: minutes_text(r.standard)),
            Column(gettext_lazy("Median (minutes)"), lambda r: _round(r.median_worked),
                   lambda r: minutes_text(r.median_worked)),
            Column(gettext_lazy("90th percentile (minutes)"), lambda r: _round(r.p90_worked),
                   lambda r: minutes_text(r.p90_worked)),
            share_column,
            Column(gettext_lazy("Past the standard (minutes)"), lambda r: r.late_minutes,
                   lambda r: minutes_text(r.late_minutes)),
            Column(gettext_lazy("Send-backs"), lambda r: r.send_backs if r.decision else None),
            Column(gettext_lazy("Returns outside the flow"), lambda r: r.returns),
        ), report.steps),
        Table("jabatan", _("Per position"), (
            Column(gettext_lazy("Position"), lambda r: r.name, numeric=False),
            Column(gettext_lazy("Office"), lambda r: r.office, numeric=False),
            Column(gettext_lazy("Tasks done"), lambda r: r.done),
            Column(gettext_lazy("of which as Plt/Plh"), lambda r: r.acting),
            share_column,
            Column(gettext_lazy("Median lateness (minutes)"), lambda r: _round(r.median_lateness),
                   lambda r: minutes_text(r.median_lateness)),
            Column(gettext_lazy("Open now"), lambda r: r.open_now),
            Column(gettext_lazy("Overdue now"), lambda r: r.overdue_now),
        ), report.positions),
        Table("orang", _("Per person"), (
            Column(gettext_lazy("Person"), lambda r: r.name, numeric=False),
            Column(gettext_lazy("Tasks done"), lambda r: r.done),
            Column(gettext_lazy("of which as Plt/Plh"), lambda r: r.acting),
            share_column,
            Column(gettext_lazy("Median lateness (minutes)"), lambda r: _round(r.median_lateness),
                   lambda r: minutes_text(r.median_lateness)),
            Column(gettext_lazy("Claimed, open now"), lambda r: r.open_now),
            Column(gettext_lazy("Overdue now"), lambda r: r.overdue_now),
        ), report.people),
        Table("pekan", _("Week by week"), (
            Column(gettext_lazy("Week of"), lambda r: r.week, lambda r: f"{r.week:%d-%m-%Y}", numeric=False),
            Column(gettext_lazy("Steps done"), lambda r: r.done),
            share_column,
        ), report.weeks),
    ]
    if report.filters.person is None and len(report.offices) > 1:
        tables.insert(0, Table("kantor", _("Offices side by side"), (
            Column(gettext_lazy("Office"), lambda r: r.name, numeric=False),
            Column(gettext_lazy("Started"), lambda r: r.started),
            Column(gettext_lazy("Finished"), lambda r: r.finished),
            Column(gettext_lazy("Running"), lambda r: r.running),
            Column(gettext_lazy("Stuck"), lambda r: r.stuck),
            Column(gettext_lazy("Steps done"), lambda r: r.tasks_done),
            share_column,
        ), report.offices))
    return {table.key: table for table in tables}


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _safe(value):
    """A text cell a spreadsheet would read as a formula is written with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def table_csv(table: Table, header_rows: list[tuple[str, str]]) -> bytes:
    """The table as CSV (UTF-8 with a BOM, for spreadsheets), the filters in its first rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_safe(table.title)])
    for label, value in header_rows:
        writer.writerow([_safe(str(label)), _safe(str(value))])
    writer.writerow([])
    writer.writerow(table.headers)
    for row in table.values():
        writer.writerow([_safe(value) if value is not None else "" for value in row])
    return ("\ufeff" + out.getvalue()).encode()


def table_xlsx(table: Table, header_rows: list[tuple[str, str]]) -> bytes:
    """The table as an XLSX workbook, the filters in its first rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = table.title[:31]
    sheet.append([_safe(table.title)])
    sheet["A1"].font = Font(bold=True)
    for label, value in header_rows:
        sheet.append([_safe(str(label)), _safe(str(value))])
    sheet.append([])
    sheet.append(table.headers)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in table.values():
        sheet.append([_safe(value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
