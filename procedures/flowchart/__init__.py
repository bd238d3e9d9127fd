"""The SOP sheet's step table and flowchart, drawn as SVG by sopflow.

The table is the one of the Permenpan RB 35/2012 sheet: No | Kegiatan | one column per Pelaksana
(in sheet order) | Mutu Baku (Kelengkapan | Waktu | Output) | Keterangan. Each step's symbol sits in
its actor's column: a capsule for ``mulai``/``selesai``, a rectangle for ``proses``, a diamond for
``keputusan``. The work is split by concern:

- :mod:`.content` — what is drawn: the steps (nodes) and the flows between them (edges);
- :mod:`.text` — the font's advance widths, wrapping cells (linear in the text), fitting role names;
- :mod:`.layout` — columns, symbol sizes, rows (split across pages when taller than one), pages;
- :mod:`.routing` — every flow's way: sides, vertical runs, off-page connectors, Ya/Tidak labels;
- :mod:`.drawing` — the SVG, and for the PDF the cells' text as HTML over it.

``sheet_pages`` gives the pages of a printed sheet (the PDF sets each in a landscape page);
``flow_svg``/``web_drawing`` give the whole table as one drawing for the web, steps marked
done/current/left.
"""

from __future__ import annotations

from procedures.flowchart.content import KEPUTUSAN, MULAI, PROSES, SELESAI, Edge, Node, Sheet, flow_edges, sheet_from, sheet_of, total_note
from procedures.flowchart.drawing import Drawing, page_svg
from procedures.flowchart.layout import layout_sheet
from procedures.flowchart.routing import Canvas, Router
from procedures.flowchart.text import FONT_FAMILY, FONT_FILES, FONT_SIZE, LINE, SMALL_SIZE, text_width, wrap

__all__ = [
    "FONT_FAMILY", "FONT_FILES", "FONT_SIZE", "KEPUTUSAN", "LINE", "MULAI", "PROSES", "SELESAI", "SMALL_SIZE",
    "Edge", "Node", "Sheet", "draw", "flow_edges", "flow_svg", "page_svg", "sheet_from", "sheet_of",
    "sheet_pages", "text_width", "total_note", "web_drawing", "wrap",
]


def draw(sheet: Sheet, *, width_mm: float, height_mm: float | None, states: dict[int, str] | None = None,
         web: bool = False) -> list[str]:
    """The sheet's table: one document per page, or one tall drawing if ``height_mm`` is None."""
    lay = layout_sheet(sheet, width=width_mm, height=height_mm)
    canvases = [Canvas(page, lay) for page in lay.pages]
    Router(sheet, canvases).route()
    names: dict[tuple, str] = {}  # the PDF's cell styles, named once for the whole document
    return [Drawing(sheet, lay, canvas, width_mm, states=states, web=web).to_string(names) for canvas in canvases]


def sheet_pages(revision, *, width_mm: float, height_mm: float) -> list[str]:
    """One document per landscape page of the printed sheet, ``width_mm`` × ``height_mm``."""
    return draw(sheet_of(revision), width_mm=width_mm, height_mm=height_mm)


def flow_svg(revision, *, states: dict[int, str] | None = None, width_mm: float = 277.0) -> str:
    """The whole table as one drawing for a web page; ``states`` maps step numbers to done/current/left."""
    return web_drawing(sheet_of(revision), states=states, width_mm=width_mm)


def web_drawing(sheet: Sheet, *, states: dict[int, str] | None = None, width_mm: float = 277.0) -> str:
    return draw(sheet, width_mm=width_mm, height_mm=None, states=states, web=True)[0]
