"""The SOP sheet's step table and flowchart, drawn as SVG by sopflow.

The table is the one of the Permenpan RB 35/2012 sheet: No | Kegiatan | one column per Pelaksana
(in sheet order) | Mutu Baku (Kelengkapan | Waktu | Output) | Keterangan. Each step's symbol sits in
its actor's column: a rounded terminator for ``mulai``/``selesai``, a rectangle for ``proses``, a
diamond for ``keputusan``. Arrows never cross a symbol, by construction:

- a step's flow to the next row leaves the symbol's bottom, turns just above the row line and
  enters the next symbol's top (a row holds one symbol, so the horizontal part crosses nothing);
- any other flow (a Tidak going back, a jump forward) leaves and enters through the symbols' sides
  and runs vertically in a *lane*: the gutter beside a column line, which symbols never reach.
  Lanes are shared out so that two flows never run on the same line;
- a decision that ends the run ("selesai") points at a small Selesai terminator beside it;
- where a flow crosses a page break it ends on an off-page connector (the pentagon) in the
  connector strip at the page's foot or head, and goes on from one with the same label.

``sheet_pages`` gives the pages of a printed sheet (the PDF sets each in a landscape page);
``flow_svg`` gives the whole table as one drawing for the web, steps marked done/current/left.
Every symbol, flow and connector carries ``data-`` attributes so that tests can check the drawing.
Text is set in the vendored DejaVu Sans Condensed, measured with fontTools to wrap exactly.
"""

from __future__ import annotations

import base64
import functools
import re
import string
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from xml.etree import ElementTree as ET

from django.utils.translation import gettext as _, pgettext

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT_FAMILY = "SopSheet"
FONT_FILES = {"normal": FONT_DIR / "DejaVuSansCondensed.ttf", "bold": FONT_DIR / "DejaVuSansCondensed-Bold.ttf"}
FONT_STACK = f"{FONT_FAMILY}, 'DejaVu Sans Condensed', 'Arial Narrow', sans-serif"

# Geometry, in millimetres.
FONT_SIZE = 2.45  # about 7 pt
SMALL_SIZE = 2.1
LINE = FONT_SIZE * 1.25
PAD = 1.2
MIN_ROW = 16.0
STRIP = 10.0  # the row that holds off-page connectors
SYMBOL_H = 6.5
DIAMOND_H = 9.0
EXIT_H = 4.6
CONNECTOR = 5.6
ARROW_LEN = 1.4
ARROW_HALF = 0.65
STROKE = 0.25
GRID = 0.2
INSET = 0.25  # the table's distance from the drawing's edge: half a line and some

MULAI, PROSES, KEPUTUSAN, SELESAI = "mulai", "proses", "keputusan", "selesai"
STATE_FILL = {"done": "#d1e7dd", "current": "#ffe69c", "left": "#ffffff", "cancelled": "#e2e3e5"}


# ---------------------------------------------------------------------------------------------
# What is drawn: steps and the flows between them
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    nomor: int
    kind: str
    column: int
    kegiatan: str
    kelengkapan: tuple[str, ...] = ()
    waktu: str = ""
    output: str = ""
    keterangan: str = ""
    ya: int | None = None  # decisions: the target step, None = selesai
    tidak: int | None = None


@dataclass(frozen=True)
class Edge:
    source: int
    target: int | None  # None: the run ends (selesai)
    kind: str  # "next" | "ya" | "tidak"

    @property
    def key(self) -> str:
        return f"{self.source}-{self.target if self.target is not None else 'selesai'}"


@dataclass(frozen=True)
class Sheet:
    columns: tuple[str, ...]
    nodes: tuple[Node, ...]
    total: str

    @functools.cached_property
    def edges(self) -> tuple[Edge, ...]:
        return flow_edges(self.nodes)


def flow_edges(nodes: tuple[Node, ...] | list[Node]) -> tuple[Edge, ...]:
    """The flows of a sheet, as the engine follows them (see engine._next_step and task_decide)."""
    edges = []
    last = nodes[-1].nomor if nodes else 0
    for node in nodes:
        if node.kind == KEPUTUSAN:
            edges.append(Edge(node.nomor, node.ya, "ya"))
            edges.append(Edge(node.nomor, node.tidak, "tidak"))
        elif node.kind != SELESAI and node.nomor != last:
            edges.append(Edge(node.nomor, node.nomor + 1, "next"))
    return tuple(edges)


def sheet_of(revision) -> Sheet:
    """A revision's sheet content (three queries)."""
    from procedures.selectors import sop_sheet

    columns, steps = sop_sheet(revision)
    return sheet_from(columns, steps, total=revision.printed_total)


def sheet_from(columns, steps, *, total: str) -> Sheet:
    """A sheet from role columns and steps already loaded (with ya/tidak steps and kelengkapan)."""
    index = {column.pk: i for i, column in enumerate(columns)}
    nodes = tuple(
        Node(
            nomor=step.nomor,
            kind=step.simbol,
            column=index[step.column_id],
            kegiatan=step.kegiatan,
            kelengkapan=tuple(item.text for item in step.kelengkapan.all()),
            waktu=step.waktu,
            output=step.output,
            keterangan=step.keterangan,
            ya=step.ya_step.nomor if step.ya_step_id else None,
            tidak=step.tidak_step.nomor if step.tidak_step_id else None,
        )
        for step in steps
    )
    return Sheet(columns=tuple(column.label for column in columns), nodes=nodes, total=total)


# ---------------------------------------------------------------------------------------------
# Text: measured with the font's own advance widths, wrapped to a cell
# ---------------------------------------------------------------------------------------------

class _Font:
    def __init__(self, path: Path):
        from fontTools.ttLib import TTFont

        font = TTFont(path, lazy=True)
        self._cmap = font.getBestCmap()
        self._advance = {name: advance for name, (advance, _lsb) in font["hmtx"].metrics.items()}
        self._em = font["head"].unitsPerEm
        self._widths: dict[str, float] = {}

    def width(self, text: str, size: float) -> float:
        total = 0.0
        for char in text:
            advance = self._widths.get(char)
            if advance is None:
                glyph = self._cmap.get(ord(char))
                advance = self._advance.get(glyph, self._em * 0.6) if glyph else self._em * 0.6
                self._widths[char] = advance
            total += advance
        return total * size / self._em


@functools.cache
def _font(weight: str) -> _Font:
    return _Font(FONT_FILES[weight])


def text_width(text: str, size: float = FONT_SIZE, *, bold: bool = False) -> float:
    return _font("bold" if bold else "normal").width(text, size)


def wrap(text: str, width: float, size: float = FONT_SIZE, *, bold: bool = False) -> list[str]:
    """The lines of ``text`` that fit ``width`` mm; a word longer than a line is cut."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size, bold=bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while len(word) > 1 and text_width(word, size, bold=bold) > width:
                cut = len(word) - 1
                while cut > 1 and text_width(word[:cut], size, bold=bold) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        if line:
            lines.append(line)
    return lines


# ---------------------------------------------------------------------------------------------
# Layout: columns, rows, pages
# ---------------------------------------------------------------------------------------------

TEXT_COLUMNS = ("no", "kegiatan", "kelengkapan", "waktu", "output", "keterangan")


@dataclass
class Columns:
    x: dict[str, float]
    width: dict[str, float]
    actor_x: list[float]
    actor_width: float
    total_width: float

    def centre(self, column: int) -> float:
        return self.actor_x[column] + self.actor_width / 2

    def boundary(self, index: int) -> float:
        """x of the line left of actor column ``index`` (``index == n`` is the right edge)."""
        return self.actor_x[0] + index * self.actor_width


def _columns(width: float, actors: int) -> Columns:
    actor = min(max(0.36 * width / actors, 12.0), 30.0)
    fixed = {"no": 7.0, "waktu": 14.0}
    rest = width - sum(fixed.values()) - actors * actor
    share = {"kegiatan": 0.38, "kelengkapan": 0.22, "output": 0.2, "keterangan": 0.2}
    widths = {**fixed, **{key: rest * part for key, part in share.items()}}
    x, cursor, actor_x = {}, 0.0, []
    for key in ("no", "kegiatan", "actors", "kelengkapan", "waktu", "output", "keterangan"):
        if key == "actors":
            actor_x = [cursor + i * actor for i in range(actors)]
            cursor += actors * actor
            continue
        x[key] = cursor
        cursor += widths[key]
    return Columns(x=x, width=widths, actor_x=actor_x, actor_width=actor, total_width=width)


def _symbol_size(kind: str, actor_width: float) -> tuple[float, float]:
    """Full width and height of a step's symbol in a column ``actor_width`` wide."""
    width = min(actor_width - 5.0, 20.0)
    if kind == KEPUTUSAN:
        return min(actor_width - 4.0, 16.0), DIAMOND_H
    return width, SYMBOL_H


@dataclass
class Row:
    node: Node
    cells: dict[str, list[str]]
    height: float


def _rows(sheet: Sheet, cols: Columns, max_height: float | None) -> list[Row]:
    rows = []
    for node in sheet.nodes:
        texts = {
            "no": str(node.nomor),
            "kegiatan": node.kegiatan,
            "kelengkapan": "\n".join(f"- {item}" for item in node.kelengkapan),
            "waktu": node.waktu,
            "output": node.output,
            "keterangan": node.keterangan,
        }
        cells = {key: wrap(text, cols.width[key] - 2 * PAD) for key, text in texts.items()}
        if max_height is not None:  # a row taller than a page is cut, never split
            fit = max(1, int((max_height - 2 * PAD) / LINE))
            cells = {key: lines if len(lines) <= fit else [*lines[: fit - 1], lines[fit - 1] + " …"]
                     for key, lines in cells.items()}
        longest = max(len(lines) for lines in cells.values())
        height = max(MIN_ROW, longest * LINE + 2 * PAD + 0.6)
        if max_height is not None:
            height = min(height, max_height)
        rows.append(Row(node=node, cells=cells, height=height))
    return rows


@dataclass
class Page:
    rows: list[Row]
    top_strip: bool
    bottom_strip: bool
    total_row: bool


def _header(sheet: Sheet, cols: Columns) -> tuple[float, float, dict[int, list[str]]]:
    labels = {i: wrap(label, cols.actor_width - 2 * PAD, bold=True) for i, label in enumerate(sheet.columns)}
    first = LINE + 2 * PAD
    second = max(len(lines) for lines in labels.values()) * LINE + 2 * PAD
    return first, second, labels


def _total_height(sheet: Sheet, cols: Columns) -> float:
    lines = wrap(sheet.total, cols.width["waktu"] + cols.width["output"] - 2 * PAD, bold=True) or [""]
    return max(len(lines) * LINE + 2 * PAD, 7.0)


def _paginate(rows: list[Row], *, header: float, total: float, height: float | None) -> list[Page]:
    if height is None:
        return [Page(rows=rows, top_strip=False, bottom_strip=False, total_row=True)]
    pages: list[Page] = []
    index = 0
    while True:
        top = bool(pages)
        room = height - header - (STRIP if top else 0)
        taken: list[Row] = []
        used = 0.0
        while index < len(rows) and used + rows[index].height <= room - STRIP:
            taken.append(rows[index])
            used += rows[index].height
            index += 1
        if index == len(rows) and taken and used + total > room:
            index -= 1  # the total row must sit under the last step: move that step over
            used -= taken.pop().height
        if not taken and index < len(rows):  # a row as tall as the page (cut in _rows)
            taken.append(rows[index])
            index += 1
        last = index == len(rows) and (not taken or used + total <= room)
        pages.append(Page(rows=taken, top_strip=top, bottom_strip=not last, total_row=last))
        if last:
            return pages


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------

def _f(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _el(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {key.rstrip("_").replace("_", "-"): (_f(v) if isinstance(v, float) else str(v))
                                       for key, v in attrs.items()})


def _cell(parent: ET.Element, x: float, y: float, w: float, h: float, **attrs) -> None:
    _el(parent, "rect", x=x, y=y, width=w, height=h, fill="none", stroke="#000", stroke_width=GRID, **attrs)


@dataclass
class Symbol:
    nomor: int
    kind: str
    column: int
    cx: float
    cy: float
    half_w: float
    half_h: float
    ports: dict[str, str] = field(default_factory=dict)  # side -> "in" | "out" | "exit"

    @property
    def top(self) -> float:
        return self.cy - self.half_h

    @property
    def bottom(self) -> float:
        return self.cy + self.half_h

    def side_x(self, side: str) -> float:
        return self.cx - self.half_w if side == "left" else self.cx + self.half_w

    def leave(self, side: str, x: float) -> list[tuple[float, float]]:
        """From the symbol to the lane at ``x``: out of a side, or (when both are busy) out of the bottom."""
        if side in ("left", "right"):
            return [(self.side_x(side), self.cy), (x, self.cy)]
        y = self.bottom + 1.5
        return [(self.cx, self.bottom), (self.cx, y), (x, y)]

    def enter(self, side: str, x: float) -> list[tuple[float, float]]:
        """From the lane at ``x`` into the symbol: into a side, or (when both are busy) into the top."""
        if side in ("left", "right"):
            return [(x, self.cy), (self.side_x(side), self.cy)]
        y = self.top - 1.5
        return [(x, y), (self.cx, y), (self.cx, self.top)]

    def lane_y(self, side: str) -> float:
        return {"bottom": self.bottom + 1.5, "top": self.top - 1.5}.get(side, self.cy)

    def may_use(self, side: str, direction: str, *, share: bool = False) -> bool:
        """Flows may enter a side together; leaving flows share a side only when nothing else fits."""
        used = self.ports.get(side)
        return used is None or used == direction == "in" or (share and used == direction == "out")


class _Lanes:
    """Vertical runs beside the column lines; two flows never share a run."""

    def __init__(self, cols: Columns, gutter: float):
        self.cols = cols
        offsets = [gutter * 0.35, gutter * 0.7] if gutter > 1.6 else [gutter * 0.5]
        self.slots = offsets
        self.taken: dict[tuple[int, float], list[tuple[float, float]]] = {}

    def xs(self, boundary: int) -> list[float]:
        line, n = self.cols.boundary(boundary), len(self.cols.actor_x)
        result = []
        for offset in self.slots:
            if boundary > 0:
                result.append(line - offset)
            if boundary < n:
                result.append(line + offset)
        return result

    def reserve(self, boundaries: list[int], y1: float, y2: float) -> float:
        low, high = min(y1, y2) - 1.2, max(y1, y2) + 1.2
        for boundary in boundaries:
            for x in self.xs(boundary):
                runs = self.taken.setdefault((boundary, x), [])
                if all(high < a or low > b for a, b in runs):
                    runs.append((low, high))
                    return x
        x = self.xs(boundaries[0])[0]  # every lane busy: share the nearest one
        self.taken[(boundaries[0], x)].append((low, high))
        return x


class _Drawing:
    """One page (or the whole web drawing) of the table."""

    def __init__(self, sheet: Sheet, cols: Columns, page: Page, width: float, height: float, *,
                 header: tuple[float, float, dict[int, list[str]]], total_height: float,
                 states: dict[int, str] | None, web: bool, number: int, pages: int):
        self.sheet, self.cols, self.page, self.states = sheet, cols, page, states
        attrs = {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {_f(width)} {_f(height)}",
                 "font-family": FONT_STACK, "class": "sop-flow", "data-page": str(number), "data-pages": str(pages)}
        if web:
            attrs.update({"width": "100%", "role": "img", "aria-label": _("Flowchart")})
        else:
            attrs.update({"width": f"{_f(width)}mm", "height": f"{_f(height)}mm"})
        self.root = ET.Element("svg", attrs)
        self.html: list[tuple] | None = None if web else []
        self.size = (width, height)
        # The table stands INSET from the drawing's edge so that its outer lines are not cut.
        body = _el(self.root, "g", transform=f"translate({_f(INSET)} {_f(INSET)})")
        self.grid = _el(body, "g", class_="grid")
        self.flows = _el(body, "g", class_="flows", fill="none", stroke="#000", stroke_width=STROKE)
        self.marks = _el(body, "g", class_="marks", stroke="#000", stroke_width=STROKE)
        self.header_height = header[0] + header[1]
        self._draw_header(*header)
        self.symbols: dict[int, Symbol] = {}
        self.y = self.header_height
        self.top_strip_y = self.bottom_strip_y = None
        if page.top_strip:
            self.top_strip_y = self.y
            self._strip_row(self.y)
            self.y += STRIP
        for row in page.rows:
            self._step_row(row, self.y)
            self.y += row.height
        if page.bottom_strip:
            self.bottom_strip_y = self.y
            self._strip_row(self.y)
            self.y += STRIP
        if page.total_row:
            self._total_row(self.y, total_height)
        gutter = (cols.actor_width - max(_symbol_size(k, cols.actor_width)[0] for k in (PROSES, KEPUTUSAN))) / 2
        self.lanes = _Lanes(cols, gutter)
        self.connectors: dict[str, list[float]] = {"top": [], "bottom": []}

    # -- the table -----------------------------------------------------------------------------
    def _text(self, parent: ET.Element, lines: list[str], x: float, top: float, width: float, *,
              anchor: str = "start", bold: bool = False) -> None:
        """A cell's lines, in the cell ``x``..``x + width`` from ``top``: SVG text on the web; in a
        PDF a positioned HTML block, which WeasyPrint sets a line at a time (its SVG text goes a
        glyph at a time, several times slower). The lines are already wrapped, so both agree."""
        if not lines:
            return
        if self.html is None:
            tx = {"start": x + PAD, "middle": x + width / 2, "end": x + width - PAD}[anchor]
            attrs = {"x": tx, "y": top + FONT_SIZE * 0.85, "font_size": FONT_SIZE}
            if anchor != "start":
                attrs["text_anchor"] = anchor
            if bold:
                attrs["font_weight"] = "bold"
            node = _el(parent, "text", **attrs)
            for i, line in enumerate(lines):
                _el(node, "tspan", x=tx, y=top + FONT_SIZE * 0.85 + i * LINE).text = line
            return
        # Kept as (top, cell shape, text) and written by to_string as rows of cells whose shapes
        # are CSS classes: WeasyPrint parses one style attribute per row instead of one per cell.
        shape = (_f(INSET + x + PAD), _f(width - 2 * PAD), {"start": "left", "middle": "center", "end": "right"}[anchor],
                 "bold" if bold else "normal")
        # Lines kept by white-space: pre, not <br> elements: fewer boxes for WeasyPrint to style.
        self.html.append((_f(INSET + top), shape, escape(chr(10).join(lines))))

    def _draw_header(self, first: float, second: float, labels: dict[int, list[str]]) -> None:
        cols, g, full = self.cols, self.grid, first + second
        head = _el(g, "g", class_="header")

        def cell(x, y, w, h, lines, **attrs):
            _cell(head, x, y, w, h, **attrs)
            self._text(head, lines, x, y + (h - len(lines) * LINE) / 2, w, anchor="middle", bold=True)

        cell(cols.x["no"], 0, cols.width["no"], full, [pgettext("SOP sheet column: step number", "No")])
        cell(cols.x["kegiatan"], 0, cols.width["kegiatan"], full, [_("Activity")])
        actors_w = cols.actor_width * len(cols.actor_x)
        cell(cols.actor_x[0], 0, actors_w, first, [_("Actors")])
        for i, x in enumerate(cols.actor_x):
            cell(x, first, cols.actor_width, second, labels[i], class_="col-head", data_column=i)
        mutu_x = cols.x["kelengkapan"]
        mutu_w = cols.width["kelengkapan"] + cols.width["waktu"] + cols.width["output"]
        cell(mutu_x, 0, mutu_w, first, [_("Quality standard")])
        for key, label in (("kelengkapan", _("Requirements")), ("waktu", _("Time")), ("output", _("Output"))):
            cell(cols.x[key], first, cols.width[key], second, wrap(label, cols.width[key] - 2 * PAD, bold=True))
        cell(cols.x["keterangan"], 0, cols.width["keterangan"], full, [_("Notes")])

    def _row_cells(self, y: float, h: float, parent: ET.Element) -> None:
        """A row's box and its column lines: two shapes, not one per cell (a 100-step sheet would
        otherwise hand WeasyPrint some 1,500 rectangles to style and draw)."""
        cols = self.cols
        _cell(parent, 0.0, y, cols.total_width, h, class_="row-box")
        lines = sorted({cols.x[key] for key in TEXT_COLUMNS} | set(cols.actor_x))[1:]
        _el(parent, "path", d=" ".join(f"M{_f(x)} {_f(y)}v{_f(h)}" for x in lines), fill="none", stroke="#000",
            stroke_width=GRID)

    def _strip_row(self, y: float) -> None:
        self._row_cells(y, STRIP, _el(self.grid, "g", class_="connector-row"))

    def _step_row(self, row: Row, y: float) -> None:
        cols, node = self.cols, row.node
        group = _el(self.grid, "g", class_="step-row", data_step=node.nomor)
        self._row_cells(y, row.height, group)
        for key, lines in row.cells.items():
            anchor = "middle" if key in ("no", "waktu") else "start"
            self._text(group, lines, cols.x[key], y + PAD, cols.width[key], anchor=anchor)
        width, height = _symbol_size(node.kind, cols.actor_width)
        self.symbols[node.nomor] = Symbol(node.nomor, node.kind, node.column, cols.centre(node.column),
                                          y + row.height / 2, width / 2, height / 2)

    def _total_row(self, y: float, h: float) -> None:
        cols = self.cols
        group = _el(self.grid, "g", class_="total-row")
        label_w = cols.x["waktu"]
        _cell(group, 0, y, label_w, h)
        self._text(group, [_("Total time")], 0, y + (h - LINE) / 2, label_w, anchor="end", bold=True)
        # The total stands under the Waktu column and may run on under Output.
        width = cols.width["waktu"] + cols.width["output"]
        lines = wrap(self.sheet.total, width - 2 * PAD, bold=True)
        _cell(group, cols.x["waktu"], y, width, h)
        self._text(group, lines, cols.x["waktu"], y + PAD, width, anchor="middle", bold=True)
        _cell(group, cols.x["keterangan"], y, cols.width["keterangan"], h)

    # -- symbols -----------------------------------------------------------------------------
    def draw_symbols(self) -> None:
        for symbol in self.symbols.values():
            state = (self.states or {}).get(symbol.nomor)
            attrs = {"class_": "symbol", "data_step": symbol.nomor, "data_kind": symbol.kind,
                     "data_column": symbol.column, "fill": STATE_FILL.get(state, "#fff")}
            if state:
                attrs["data_state"] = state
            if state == "current":
                attrs["stroke_width"] = STROKE * 3
            group = _el(self.marks, "g", **attrs)
            if self.html is None:  # a tooltip on the web; paper has the Kegiatan column
                _el(group, "title").text = f"{symbol.nomor}. {self._node(symbol.nomor).kegiatan}"
            x0, y0, w, h = symbol.cx - symbol.half_w, symbol.top, symbol.half_w * 2, symbol.half_h * 2
            if symbol.kind in (MULAI, SELESAI):
                _el(group, "rect", x=x0, y=y0, width=w, height=h, rx=h / 2, ry=h / 2)
            elif symbol.kind == KEPUTUSAN:
                points = [(symbol.cx, y0), (x0 + w, symbol.cy), (symbol.cx, y0 + h), (x0, symbol.cy)]
                _el(group, "polygon", points=" ".join(f"{_f(a)},{_f(b)}" for a, b in points))
            else:
                _el(group, "rect", x=x0, y=y0, width=w, height=h)

    def _node(self, nomor: int) -> Node:
        return next(node for node in self.sheet.nodes if node.nomor == nomor)

    # -- flows -------------------------------------------------------------------------------
    def flow(self, edge: Edge, points: list[tuple[float, float]], *, arrow: bool = True, part: str = "",
             label_at: tuple[float, float, str] | None = None) -> None:
        attrs = {"class_": "flow", "data_edge": edge.key, "data_kind": edge.kind}
        if part:
            attrs["data_part"] = part
        group = _el(self.flows, "g", **attrs)
        _el(group, "polyline", points=" ".join(f"{_f(x)},{_f(y)}" for x, y in points))
        if arrow:
            (x1, y1), (x2, y2) = points[-2], points[-1]
            dx, dy = (x2 > x1) - (x2 < x1), (y2 > y1) - (y2 < y1)
            base = (x2 - dx * ARROW_LEN, y2 - dy * ARROW_LEN)
            wing = (-dy * ARROW_HALF, dx * ARROW_HALF)
            tip = [(x2, y2), (base[0] + wing[0], base[1] + wing[1]), (base[0] - wing[0], base[1] - wing[1])]
            _el(group, "polygon", points=" ".join(f"{_f(a)},{_f(b)}" for a, b in tip), fill="#000", stroke="none")
        if label_at and edge.kind in ("ya", "tidak"):
            x, y, anchor = label_at
            text = _el(group, "text", x=x, y=y, font_size=SMALL_SIZE, fill="#000", stroke="none",
                       **({"text_anchor": anchor} if anchor != "start" else {}))
            text.text = _("Yes") if edge.kind == "ya" else _("No")

    def connector(self, label: str, x: float, where: str) -> tuple[float, float, float]:
        """An off-page connector in the page's head or foot strip: (x, top y, bottom y)."""
        strip_y = self.top_strip_y if where == "top" else self.bottom_strip_y
        taken = self.connectors[where]
        while any(abs(x - other) < CONNECTOR + 1 for other in taken):
            x += CONNECTOR + 1
        taken.append(x)
        top = strip_y + (STRIP - CONNECTOR) / 2
        group = _el(self.marks, "g", class_="connector", data_label=label, data_where=where, fill="#fff")
        half = CONNECTOR / 2
        points = [(x - half, top), (x + half, top), (x + half, top + CONNECTOR * 0.6), (x, top + CONNECTOR),
                  (x - half, top + CONNECTOR * 0.6)]
        _el(group, "polygon", points=" ".join(f"{_f(a)},{_f(b)}" for a, b in points))
        text = _el(group, "text", x=x, y=top + CONNECTOR * 0.52, font_size=SMALL_SIZE, text_anchor="middle",
                   fill="#000", stroke="none", font_weight="bold")
        text.text = label
        return x, top, top + CONNECTOR

    def exit_marker(self, edge: Edge, symbol: Symbol, side: str) -> None:
        """A small Selesai terminator beside a decision whose answer ends the run."""
        step = 1 if side == "right" else -1
        column = symbol.column + step
        cx = self.cols.centre(column)
        width = min(self.cols.actor_width - 5.0, 14.0)
        near = cx - step * width / 2
        group = _el(self.marks, "g", class_="exit", data_step=symbol.nomor, data_kind=edge.kind, fill="#fff")
        _el(group, "rect", x=cx - width / 2, y=symbol.cy - EXIT_H / 2, width=width, height=EXIT_H,
            rx=EXIT_H / 2, ry=EXIT_H / 2)
        text = _el(group, "text", x=cx, y=symbol.cy + SMALL_SIZE * 0.35, font_size=SMALL_SIZE, text_anchor="middle",
                   fill="#000", stroke="none")
        text.text = pgettext("flowchart terminator", "End")
        start = symbol.side_x(side)
        self.flow(edge, [(start, symbol.cy), (near, symbol.cy)],
                  label_at=(start + step * 0.8, symbol.cy - 0.8, "start" if step > 0 else "end"))

    def to_string(self) -> str:
        """The web drawing: the SVG. A printed page: a box holding the drawing as an image and the
        cells' text over it. As an image WeasyPrint reads the SVG with its XML parser instead of
        styling every line as an HTML element: a sheet renders about twice as fast."""
        svg = ET.tostring(self.root, encoding="unicode")
        if self.html is None:
            return svg
        width, height = self.size
        shapes: dict[tuple, str] = {}
        rows: dict[str, list[str]] = {}
        for top, shape, text in self.html:
            name = shapes.setdefault(shape, f"c{len(shapes)}")
            rows.setdefault(top, []).append(f'<div class="{name}">{text}</div>')
        css = "".join(f".sop-flow-page .{name}{{left:{left}mm;width:{w}mm;text-align:{align};font-weight:{weight}}}"
                      for (left, w, align, weight), name in shapes.items())
        body = "".join(f'<div class="row" style="top:{top}mm">{"".join(cells)}</div>' for top, cells in rows.items())
        box = f"position:absolute;left:0;top:0;width:{_f(width)}mm;height:{_f(height)}mm"
        image = base64.b64encode(svg.encode()).decode("ascii")
        return (f'<div class="sop-flow-page" style="position:relative;width:{_f(width)}mm;height:{_f(height)}mm;'
                f'font-family:{FONT_FAMILY};font-size:{_f(FONT_SIZE)}mm;line-height:{_f(LINE)}mm">'
                f'<style>.sop-flow-page .row{{position:absolute;left:0;width:100%}}'
                f'.sop-flow-page .row div{{position:absolute;top:0;white-space:pre}}{css}</style>'
                f'<img alt="" style="{box}" src="data:image/svg+xml;base64,{image}">{body}</div>')


def page_svg(page: str) -> str:
    """The drawing inside a printed page from ``sheet_pages`` (for checks and tests)."""
    if page.startswith("<svg"):
        return page
    return base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)).decode()


class _Router:
    """Routes every flow of the sheet over the pages' drawings."""

    def __init__(self, sheet: Sheet, drawings: list[_Drawing]):
        self.sheet, self.drawings = sheet, drawings
        self.page_of = {nomor: drawing for drawing in drawings for nomor in drawing.symbols}
        self.labels = iter(_connector_labels())

    def route(self) -> None:
        order = {node.nomor: i for i, node in enumerate(self.sheet.nodes)}
        edges = self.sheet.edges
        # Flows to the next row first (they use top and bottom), then the ends, then the long ones.
        adjacent = [e for e in edges if e.target is not None and e.kind != "tidak"
                    and order[e.target] == order[e.source] + 1]
        exits = [e for e in edges if e.target is None]
        long = [e for e in edges if e not in adjacent and e not in exits]
        for edge in adjacent:
            self._adjacent(edge)
        for edge in exits:
            self._exit(edge)
        for edge in sorted(long, key=lambda e: abs(order[e.target] - order[e.source])):
            self._long(edge)

    def _symbol(self, nomor: int) -> Symbol:
        return self.page_of[nomor].symbols[nomor]

    def _adjacent(self, edge: Edge) -> None:
        src, tgt = self._symbol(edge.source), self._symbol(edge.target)
        page_s, page_t = self.page_of[edge.source], self.page_of[edge.target]
        label = (src.cx + 0.8, src.bottom + SMALL_SIZE + 0.3, "start")
        src.ports["bottom"], tgt.ports["top"] = "out", "in"
        if page_s is page_t:
            if src.cx == tgt.cx:
                points = [(src.cx, src.bottom), (tgt.cx, tgt.top)]
            else:
                row_line = self._row_top(page_t, tgt.nomor)  # turn just above the line between the rows
                turn = row_line - min(2.5, (row_line - src.bottom) / 2)
                points = [(src.cx, src.bottom), (src.cx, turn), (tgt.cx, turn), (tgt.cx, tgt.top)]
            page_s.flow(edge, points, label_at=label)
            return
        name = next(self.labels)
        x, top, _bottom = page_s.connector(name, src.cx, "bottom")
        page_s.flow(edge, _orthogonal((src.cx, src.bottom), (x, top)), part="out", label_at=label)
        x, _top, bottom = page_t.connector(name, tgt.cx, "top")
        page_t.flow(edge, _orthogonal((x, bottom), (tgt.cx, tgt.top), vertical_first=False), part="in")

    @staticmethod
    def _row_top(drawing: _Drawing, nomor: int) -> float:
        symbol = drawing.symbols[nomor]
        row = next(row for row in drawing.page.rows if row.node.nomor == nomor)
        return symbol.cy - row.height / 2

    def _exit(self, edge: Edge) -> None:
        src = self._symbol(edge.source)
        n = len(self.sheet.columns)
        sides = [side for side in ("right", "left") if 0 <= src.column + (1 if side == "right" else -1) < n]
        side = next((s for s in sides if src.may_use(s, "out")), sides[0])
        src.ports[side] = "exit"
        self.page_of[edge.source].exit_marker(edge, src, side)

    def _long(self, edge: Edge) -> None:
        src, tgt = self._symbol(edge.source), self._symbol(edge.target)
        page_s, page_t = self.page_of[edge.source], self.page_of[edge.target]
        n = len(self.sheet.columns)
        if page_s is page_t:
            side_s, side_t, boundaries = _sides(src, tgt, n)
            x = page_s.lanes.reserve(boundaries, src.lane_y(side_s), tgt.lane_y(side_t))
            src.ports[side_s], tgt.ports[side_t] = "out", "in"
            points = src.leave(side_s, x) + tgt.enter(side_t, x)
            page_s.flow(edge, points, label_at=_side_label(src, side_s, up=tgt.cy < src.cy))
            return
        name = next(self.labels)
        backward = self.drawings.index(page_s) > self.drawings.index(page_t)
        # Source page: out of a side, along a lane, to the connector at the head (back) or foot.
        side_s, boundaries = _one_side(src, "out", n)
        where = "top" if backward else "bottom"
        strip = page_s.top_strip_y + STRIP / 2 if backward else page_s.bottom_strip_y + STRIP / 2
        x = page_s.lanes.reserve(boundaries, src.lane_y(side_s), strip)
        src.ports[side_s] = "out"
        cx, top, bottom = page_s.connector(name, x, where)
        end = (cx, bottom) if backward else (cx, top)
        points = [*src.leave(side_s, x), (x, end[1] + (1.5 if backward else -1.5))]
        if cx != x:
            points.append((cx, points[-1][1]))
        points.append(end)
        page_s.flow(edge, points, part="out", label_at=_side_label(src, side_s, up=backward))
        # Target page: from the connector at the foot (back) or head, along a lane, into a side.
        side_t, boundaries = _one_side(tgt, "in", n)
        where = "bottom" if backward else "top"
        strip = page_t.bottom_strip_y + STRIP / 2 if backward else page_t.top_strip_y + STRIP / 2
        x = page_t.lanes.reserve(boundaries, strip, tgt.lane_y(side_t))
        tgt.ports[side_t] = "in"
        cx, top, bottom = page_t.connector(name, x, where)
        begin = (cx, top) if backward else (cx, bottom)
        points = [begin]
        lead = begin[1] + (-1.5 if backward else 1.5)
        if cx != x:
            points += [(cx, lead), (x, lead)]
        points += tgt.enter(side_t, x)
        page_t.flow(edge, points, part="in")


def _orthogonal(start: tuple[float, float], end: tuple[float, float], *, vertical_first: bool = True):
    (x1, y1), (x2, y2) = start, end
    if x1 == x2:
        return [start, end]
    if vertical_first:
        middle = y2 - 2.0
        return [start, (x1, middle), (x2, middle), end]
    middle = y1 + 2.0
    return [start, (x1, middle), (x2, middle), end]


def _side_label(symbol: Symbol, side: str, *, up: bool = False) -> tuple[float, float, str]:
    """Where a Ya/Tidak label goes on a flow leaving ``side``: beside the line, clear of the lane."""
    if side == "bottom":
        return symbol.cx + 0.8, symbol.bottom + SMALL_SIZE + 0.3, "start"
    x = symbol.side_x(side)
    y = symbol.cy + SMALL_SIZE + 0.5 if up else symbol.cy - 0.8
    return (x + 0.8, y, "start") if side == "right" else (x - 0.8, y, "end")


def _boundaries(column: int, side: str, n: int) -> set[int]:
    """Column lines whose lanes a flow leaving or entering ``column`` by ``side`` may run in."""
    if side == "left":
        return set(range(0, column + 1))
    if side == "right":
        return set(range(column + 1, n + 1))
    return set(range(0, n + 1))


def _sides(src: Symbol, tgt: Symbol, n: int) -> tuple[str, str, list[int]]:
    """The sides a flow leaves and enters by, and the column lines whose lanes it may run in.

    Sides first (a flow leaving a side already left by another only if nothing else fits), then
    the bottom of the source and the top of the target; among those the shortest way across.
    """
    a, b = src.column + 0.5, tgt.column + 0.5
    choices = []
    for side_s in ("left", "right", "bottom"):
        for side_t in ("left", "right", "top"):
            if not tgt.may_use(side_t, "in"):
                continue
            if src.may_use(side_s, "out"):
                tier = 0
            elif src.may_use(side_s, "out", share=True):
                tier = 1
            else:
                continue
            tier += 2 * (side_s == "bottom" or side_t == "top")
            lanes = _boundaries(src.column, side_s, n) & _boundaries(tgt.column, side_t, n)
            if lanes:
                ordered = sorted(lanes, key=lambda k: (abs(k - a) + abs(k - b), abs(k - a)))
                choices.append((tier, abs(ordered[0] - a) + abs(ordered[0] - b), side_s, side_t, ordered))
    if not choices:  # cannot happen: a target's top always takes flows in, a side is always shareable
        return "left", "left", list(range(src.column, -1, -1))
    _tier, _cost, side_s, side_t, ordered = min(choices, key=lambda c: c[:2])
    return side_s, side_t, ordered


def _one_side(symbol: Symbol, direction: str, n: int) -> tuple[str, list[int]]:
    """Side and lanes of a flow whose other end is on another page (it runs to a connector)."""
    fallback = "bottom" if direction == "out" else "top"
    sides = ["left", "right"] if symbol.column < n / 2 else ["right", "left"]
    for share in (False, True):
        for side in [*sides, fallback]:
            if symbol.may_use(side, direction, share=share):
                lanes = sorted(_boundaries(symbol.column, side, n), key=lambda k: abs(k - symbol.column - 0.5))
                return side, lanes
    return fallback, sorted(range(n + 1), key=lambda k: abs(k - symbol.column - 0.5))


def _connector_labels():
    letters = string.ascii_uppercase
    yield from letters
    number = 1
    while True:
        for letter in letters:
            yield f"{letter}{number}"
        number += 1


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

def draw(sheet: Sheet, *, width_mm: float, height_mm: float | None, states: dict[int, str] | None = None,
         web: bool = False) -> list[str]:
    """The sheet's table as SVG documents: one per page, or one tall drawing if ``height_mm`` is None."""
    cols = _columns(width_mm - 2 * INSET, len(sheet.columns))
    header = _header(sheet, cols)
    header_height = header[0] + header[1]
    total_height = _total_height(sheet, cols)
    inner = None if height_mm is None else height_mm - 2 * INSET
    body = None if inner is None else inner - header_height - 2 * STRIP
    pages = _paginate(_rows(sheet, cols, body), header=header_height, total=total_height, height=inner)
    drawings = []
    for number, page in enumerate(pages, start=1):
        height = height_mm
        if height is None:
            height = header_height + sum(row.height for row in page.rows) + total_height + 0.5
        drawings.append(_Drawing(sheet, cols, page, width_mm, height, header=header, total_height=total_height,
                                 states=states, web=web, number=number, pages=len(pages)))
    _Router(sheet, drawings).route()
    for drawing in drawings:
        drawing.draw_symbols()
    return [drawing.to_string() for drawing in drawings]


def sheet_pages(revision, *, width_mm: float, height_mm: float) -> list[str]:
    """One SVG document per landscape page of the printed sheet, ``width_mm`` × ``height_mm``."""
    return draw(sheet_of(revision), width_mm=width_mm, height_mm=height_mm)


def flow_svg(revision, *, states: dict[int, str] | None = None, width_mm: float = 277.0) -> str:
    """The whole table as one drawing for a web page; ``states`` maps step numbers to done/current/left."""
    return web_drawing(sheet_of(revision), states=states, width_mm=width_mm)


def web_drawing(sheet: Sheet, *, states: dict[int, str] | None = None, width_mm: float = 277.0) -> str:
    return draw(sheet, width_mm=width_mm, height_mm=None, states=states, web=True)[0]
