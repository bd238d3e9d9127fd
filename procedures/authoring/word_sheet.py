"""An SOP written as a Word sheet in the Permenpan RB 35/2012 layout: the twin of the Word import.

:func:`sheet_docx` takes the SOP file's structure (``SopDocument.as_dict()``, or a draft's
``data``) and lays it out as the sheets offices keep in Word: the identity table (letterhead,
Nomor SOP, dates, Disahkan oleh, Nama SOP), the lists (Dasar Hukum … Pencatatan dan Pendataan),
then the procedure table with its two-row header, a mark in the actor's column ("○" for the
start and end, "□" for a process, "◇" for a decision with its "Ya → 5" / "Tidak → 3" beside it)
and the Jumlah Waktu row. :func:`procedures.authoring.word.read_docx` reads it back.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from typing import Any

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Mm, Pt
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

MARKS = {"mulai": "○", "selesai": "○", "proses": "□", "keputusan": "◇"}
MONTH_NAMES = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
               "November", "Desember")


def sheet_docx(data: Mapping[str, Any]) -> bytes:
    """The .docx of an SOP sheet; ``data`` has the keys of an SOP file."""
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(12))
    document.styles["Normal"].font.size = Pt(9)
    _identity(document, data)
    document.add_paragraph()
    _procedure(document, data)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def sheet_date(value: Any) -> str:
    """A date of the file as a sheet prints it: "3 September 2019", "September 2018" (YYYY-MM)."""
    text = value.isoformat() if isinstance(value, dt.date) else str(value or "")
    if match := re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text):
        month = MONTH_NAMES[int(match[2]) - 1]
        return f"{int(match[3])} {month} {match[1]}" if match[3] else f"{month} {match[1]}"
    return text


def _lines(cell, lines: list[str], *, bold: bool = False) -> None:
    """Write lines into a cell, one paragraph each (the cell's first paragraph is reused)."""
    first = True
    for line in lines:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        paragraph.add_run(line).bold = bold


def _identity(document, data: Mapping[str, Any]) -> None:
    # The labels as the printed sheet (procedures/pdf.py) words them.
    labels = [
        ("nomor", pgettext("sop sheet", "SOP number")),
        ("tanggal_pembuatan", pgettext("sop sheet", "Date made")),
        ("tanggal_revisi", pgettext("sop sheet", "Date revised")),
        ("tanggal_efektif", pgettext("sop sheet", "Effective date")),
        ("disahkan_oleh", pgettext("sop sheet", "Approved by")),
        ("nama", pgettext("sop sheet", "SOP name")),
    ]
    table = document.add_table(rows=len(labels), cols=3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    office = table.cell(0, 0).merge(table.cell(len(labels) - 1, 0))
    _lines(office, list(data.get("kop") or []) or [data.get("instansi", "")], bold=True)
    for row, (key, label) in enumerate(labels):
        table.cell(row, 1).paragraphs[0].add_run(label).bold = True
        value = table.cell(row, 2)
        if key == "disahkan_oleh":
            _signer(value, data)
        elif key.startswith("tanggal_"):
            text = sheet_date(data.get(key)) or "-"
            if key == "tanggal_revisi" and data.get("revisi"):
                text += f" ({pgettext('sop sheet', 'revision')} {data['revisi']})"
            _lines(value, [text])
        else:
            _lines(value, [str(data.get(key) or "-")], bold=key == "nama")

    lists = [
        (("dasar_hukum", pgettext("sop sheet", "Legal basis")),
         ("kualifikasi_pelaksana", pgettext("sop sheet", "Implementer qualifications"))),
        (("keterkaitan", pgettext("sop sheet", "Related SOPs")), ("peralatan", pgettext("sop sheet", "Equipment"))),
        (("peringatan", pgettext("sop sheet", "Warnings")),
         ("pencatatan", pgettext("sop sheet", "Records and data keeping"))),
    ]
    grid = document.add_table(rows=len(lists), cols=2)
    grid.style = "Table Grid"
    for row, pair in enumerate(lists):
        for col, (key, title) in enumerate(pair):
            cell = grid.cell(row, col)
            cell.paragraphs[0].add_run(f"{title}:").bold = True
            entries = list(data.get(key) or [])
            for number, item in enumerate(entries, start=1):
                cell.add_paragraph(f"{number}. {item}")
            if not entries:
                cell.add_paragraph("-")


def _signer(cell, data: Mapping[str, Any]) -> None:
    from procedures.pdf import signer_id_label

    signer = data.get("disahkan_oleh") or {}
    if signer.get("jabatan"):
        cell.paragraphs[0].add_run(signer["jabatan"])
    statement = _("Signed electronically") if data.get("ditandatangani_elektronik") else ""
    cell.add_paragraph(statement)  # the signature's space
    if signer.get("nama"):
        run = cell.add_paragraph().add_run(signer["nama"])
        run.bold = run.underline = True
    if signer.get("pangkat"):
        cell.add_paragraph(signer["pangkat"])
    if signer.get("nip"):
        cell.add_paragraph(f"{signer_id_label(signer['nip'])}. {signer['nip']}")


def _procedure(document, data: Mapping[str, Any]) -> None:
    roles = list(data.get("pelaksana") or [])
    steps = list(data.get("langkah") or [])
    count = len(roles)
    # No | Kegiatan | roles … | Kelengkapan | Waktu | Output | Keterangan
    kelengkapan, waktu, output, keterangan = 2 + count, 3 + count, 4 + count, 5 + count
    table = document.add_table(rows=2, cols=6 + count)
    table.style = "Table Grid"
    head, sub = table.rows[0].cells, table.rows[1].cells

    def title(cell, text: str) -> None:
        cell.paragraphs[0].add_run(text).bold = True

    title(head[0].merge(sub[0]), pgettext("SOP sheet column: step number", "No"))
    title(head[1].merge(sub[1]), _("Activity"))
    if count:
        title(head[2].merge(head[1 + count]) if count > 1 else head[2], _("Actors"))
        for index, role in enumerate(roles):
            title(sub[2 + index], role)
    title(head[kelengkapan].merge(head[output]), _("Quality standard"))
    title(sub[kelengkapan], _("Requirements"))
    title(sub[waktu], _("Time"))
    title(sub[output], _("Output"))
    title(head[keterangan].merge(sub[keterangan]), _("Notes"))

    column_of = {" ".join(str(role).split()).casefold(): index for index, role in enumerate(roles)}
    for step in steps:
        cells = table.add_row().cells
        _lines(cells[0], [str(step.get("label") or step.get("nomor", ""))])
        _lines(cells[1], str(step.get("kegiatan", "")).splitlines())
        actor = column_of.get(" ".join(str(step.get("pelaksana", "")).split()).casefold())
        if actor is not None:
            _lines(cells[2 + actor], _mark_lines(step))
        _lines(cells[kelengkapan], [str(item) for item in step.get("kelengkapan") or []])
        _lines(cells[waktu], [str(step.get("waktu", ""))])
        _lines(cells[output], str(step.get("output") or "").splitlines())
        _lines(cells[keterangan], str(step.get("keterangan") or "").splitlines())

    total = data.get("jumlah_waktu")
    if total:
        cells = table.add_row().cells
        title(cells[0].merge(cells[waktu - 1]), _("Total time"))
        _lines(cells[waktu], [total])


def _mark_lines(step: Mapping[str, Any]) -> list[str]:
    symbol = step.get("simbol") or "proses"
    lines = [MARKS.get(symbol, MARKS["proses"])]
    if symbol == "keputusan":
        for key, word in (("ya", "Ya"), ("tidak", "Tidak")):
            target = step.get(key)
            if target is None:
                continue
            words = step.get(f"label_{key}")
            lines.append(f"{word} ({words}) → {target}" if words else f"{word} → {target}")
    return lines

