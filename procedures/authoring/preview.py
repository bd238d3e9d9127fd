"""The sheet of a draft, drawn while it is written: the same flowchart as the PDF and the run page.

A draft may be incomplete or wrong; the drawing shows what can be read of it (a step whose actor is
not chosen yet stands in the first column, a decision without a valid Tidak ends there), and the
editor shows the format's messages beside the fields. Nothing here fails on odd values.
"""

from __future__ import annotations

import logging
from typing import Any

from procedures import flowchart
from procedures.durations import DurationError, normal_total, parse_waktu, sum_durations
from procedures.flowchart import KEPUTUSAN, MULAI, PROSES, SELESAI, Node, Sheet
from procedures.sopfile import END, SYMBOLS

logger = logging.getLogger(__name__)


def _norm(name: Any) -> str:
    return " ".join(str(name).split()).casefold() if isinstance(name, str) else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def total_of(data: dict[str, Any]) -> str:
    """The Jumlah Waktu the sheet prints: its own, else the sum of the steps' waktu that can be read."""
    stated = _text(data.get("jumlah_waktu")).strip()
    if stated:
        try:
            return normal_total(stated)
        except DurationError:
            return stated
    durations = []
    for step in data.get("langkah") or []:
        try:
            durations.append(parse_waktu(_text(step.get("waktu")) if isinstance(step, dict) else ""))
        except DurationError:
            continue
    return str(sum_durations(durations)) if durations else ""


def sheet_from_data(data: dict[str, Any]) -> Sheet | None:
    """What can be drawn of an SOP file's values (None when there is no column or no step yet)."""
    data = data if isinstance(data, dict) else {}
    columns = [name.strip() for name in data.get("pelaksana") or [] if isinstance(name, str)]
    steps = [step for step in data.get("langkah") or [] if isinstance(step, dict)]
    if not columns or not steps:
        return None
    index = {}
    for number, name in enumerate(columns):
        index.setdefault(_norm(name), number)
    last = len(steps)
    nodes = []
    for number, step in enumerate(steps, start=1):
        simbol = step.get("simbol") if step.get("simbol") in SYMBOLS else None
        tidak, ya = step.get("tidak"), step.get("ya")
        if simbol is None:
            simbol = MULAI if number == 1 else SELESAI if number == last else KEPUTUSAN if tidak is not None else PROSES
        node = {
            "nomor": number, "kind": simbol, "column": index.get(_norm(step.get("pelaksana")), 0),
            "kegiatan": _text(step.get("kegiatan")),
            "kelengkapan": tuple(item for item in step.get("kelengkapan") or [] if isinstance(item, str)),
            "waktu": _text(step.get("waktu")), "output": _text(step.get("output")),
            "keterangan": _text(step.get("keterangan")),
        }
        if simbol == KEPUTUSAN:
            def target(value: Any, default: int | None) -> int | None:
                if value == END:
                    return None
                return value if isinstance(value, int) and 1 <= value <= last and not isinstance(value, bool) else default
            node["ya"] = target(ya, number + 1 if number < last else None)
            node["tidak"] = target(tidak, None)
        nodes.append(Node(**node))
    return Sheet(columns=tuple(columns), nodes=tuple(nodes), total=total_of(data))


def draft_svg(data: dict[str, Any]) -> str:
    """The sheet's table and flowchart as one SVG drawing ("" when nothing can be drawn yet)."""
    sheet = sheet_from_data(data)
    if sheet is None:
        return ""
    try:
        return flowchart.web_drawing(sheet)
    except Exception:  # a drawing must never cost the author the page; the log keeps why
        logger.exception("the flowchart of a draft could not be drawn")
        return ""
