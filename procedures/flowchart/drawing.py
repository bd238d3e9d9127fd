"""The drawing of one page (or of the whole sheet for the web): SVG, and for the PDF the cells' text
as positioned HTML over it.

Every symbol, flow, label and connector carries ``data-`` attributes, and so do the PDF's text
rows and cells (``data-step``, ``data-part``, ``data-c``), so that tests can check the drawing.
"""

from __future__ import annotations

import base64
import re
from html import escape
from xml.etree import ElementTree as ET

from django.utils.translation import gettext as _, pgettext

from procedures.flowchart.content import KEPUTUSAN, MULAI, SELESAI, Sheet
from procedures.flowchart.layout import (
    CONNECTOR_H,
    CONNECTOR_W,
    GRID,
    HEAD_PAD,
    INSET,
    PAD,
    STRIP,
    TEXT_COLUMNS,
    Layout,
    RowPart,
)
from procedures.flowchart.routing import Canvas, Flow
from procedures.flowchart.text import FONT_FAMILY, FONT_SIZE, FONT_STACK, LINE, SMALL_SIZE

STROKE = 0.25
ARROW_LEN = 1.4
ARROW_HALF = 0.65
STATE_FILL = {"done": "#d1e7dd", "current": "#ffe69c", "left": "#ffffff", "cancelled": "#e2e3e5",
              # Monev (procedures.monitoring.charts.lateness_states): a step's share within its standard.
              "within": "#d1e7dd", "slow": "#ffe69c", "late": "#f1aeb5"}
ALIGN = {"start": "left", "middle": "center", "end": "right"}


def _f(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _el(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {key.rstrip("_").replace("_", "-"): (_f(v) if isinstance(v, float) else str(v))
                                       for key, v in attrs.items()})


def _points(points) -> str:
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in points)


def _cell(parent: ET.Element, x: float, y: float, w: float, h: float, **attrs) -> None:
    _el(parent, "rect", x=x, y=y, width=w, height=h, fill="none", stroke="#000", stroke_width=GRID, **attrs)


class Drawing:
    """One page of the table: the grid and the cells' text, then the routed flows and the symbols."""

    def __init__(self, sheet: Sheet, lay: Layout, canvas: Canvas, width: float, *,
                 states: dict[int, str] | None, web: bool):
        self.sheet, self.lay, self.canvas, self.cols, self.states = sheet, lay, canvas, lay.cols, states
        page = canvas.page
        height = page.height
        attrs = {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {_f(width)} {_f(height)}",
                 "font-family": FONT_STACK, "class": "sop-flow", "data-page": str(page.number),
                 "data-pages": str(page.count)}
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
        self._draw_header()
        if page.top_strip is not None:
            self._row_cells(page.top_strip, STRIP, _el(self.grid, "g", class_="connector-row", data_where="top"))
        for row in page.rows:
            self._step_row(row)
        if page.bottom_strip is not None:
            self._row_cells(page.bottom_strip, STRIP, _el(self.grid, "g", class_="connector-row", data_where="bottom"))
        if page.total_y is not None:
            self._total_row(page.total_y, lay.total_height)
        for flow in canvas.flows:
            self._flow(flow)
        self._symbols()
        self._connectors()

    # -- text ----------------------------------------------------------------------------------
    def _text(self, parent: ET.Element, lines: list[str], x: float, top: float, width: float, *,
              anchor: str = "start", bold: bool = False, size: float = FONT_SIZE, row: str = "", key: str = "",
              pad: float = PAD) -> None:
        """A cell's lines, in the cell ``x``..``x + width`` from ``top``: SVG text on the web; in a
        PDF a positioned HTML block, which WeasyPrint sets a line at a time (its SVG text goes a
        glyph at a time, several times slower). The lines are already wrapped, so both agree."""
        if not lines:
            return
        if self.html is None:
            tx = {"start": x + pad, "middle": x + width / 2, "end": x + width - pad}[anchor]
            attrs = {"x": tx, "y": top + size * 0.85, "font_size": size}
            if anchor != "start":
                attrs["text_anchor"] = anchor
            if bold:
                attrs["font_weight"] = "bold"
            node = _el(parent, "text", **attrs)
            for i, line in enumerate(lines):
                _el(node, "tspan", x=tx, y=top + size * 0.85 + i * size * 1.25).text = line
            return
        # Kept as (top, row attributes, cell shape, column, text) and written by to_string as rows of
        # cells whose shapes are CSS classes: WeasyPrint parses one style attribute per row.
        shape = (_f(INSET + x + pad), _f(width - 2 * pad), ALIGN[anchor], "bold" if bold else "normal",
                 "" if size == FONT_SIZE else _f(size))
        # Lines kept by white-space: pre, not <br> elements: fewer boxes for WeasyPrint to style.
        self.html.append((_f(INSET + top), row, shape, key, escape("\n".join(lines))))

    # -- the table -----------------------------------------------------------------------------
    def _draw_header(self) -> None:
        cols, head = self.cols, self.lay.header
        group = _el(self.grid, "g", class_="header")
        full = head.height

        def cell(x, y, w, h, lines, size=FONT_SIZE, pad=PAD, **attrs):
            _cell(group, x, y, w, h, **attrs)
            self._text(group, lines, x, y + (h - len(lines) * size * 1.25) / 2, w, anchor="middle", bold=True,
                       size=size, pad=pad)

        cell(cols.x["no"], 0, cols.width["no"], full, [pgettext("SOP sheet column: step number", "No")])
        cell(cols.x["kegiatan"], 0, cols.width["kegiatan"], full, [_("Activity")])
        cell(cols.actor_x[0], 0, cols.actor_width * len(cols.actor_x), head.first, [_("Actors")])
        for i, x in enumerate(cols.actor_x):
            cell(x, head.first, cols.actor_width, head.second, head.roles[i], head.role_size, HEAD_PAD,
                 class_="col-head", data_column=i)
        mutu_w = cols.width["kelengkapan"] + cols.width["waktu"] + cols.width["output"]
        cell(cols.x["kelengkapan"], 0, mutu_w, head.first, [_("Quality standard")])
        for key, lines in head.sub.items():
            cell(cols.x[key], head.first, cols.width[key], head.second, lines)
        cell(cols.x["keterangan"], 0, cols.width["keterangan"], full, [_("Notes")])

    def _row_cells(self, y: float, h: float, parent: ET.Element) -> None:
        """A row's box and its column lines: two shapes, not one per cell (a 100-step sheet would
        otherwise hand WeasyPrint some 1,500 rectangles to style and draw)."""
        cols = self.cols
        _cell(parent, 0.0, y, cols.total_width, h, class_="row-box")
        lines = [x for x in cols.lines if 0 < x < cols.total_width]
        _el(parent, "path", d=" ".join(f"M{_f(x)} {_f(y)}v{_f(h)}" for x in lines), fill="none", stroke="#000",
            stroke_width=GRID)

    def _step_row(self, row: RowPart) -> None:
        cols, node = self.cols, row.node
        attrs = {"class_": "step-row", "data_step": node.nomor}
        if row.part:
            attrs["data_part"] = row.part
        group = _el(self.grid, "g", **attrs)
        self._row_cells(row.y, row.height, group)
        marker = f' data-step="{node.nomor}"' + (f' data-part="{row.part}"' if row.part else "")
        for key in TEXT_COLUMNS:
            anchor = "middle" if key in ("no", "waktu") else "start"
            self._text(group, row.cells[key], cols.x[key], row.y + PAD, cols.width[key], anchor=anchor,
                       row=marker, key=key)

    def _total_row(self, y: float, h: float) -> None:
        cols = self.cols
        group = _el(self.grid, "g", class_="total-row")
        label_w = cols.x["waktu"]
        _cell(group, 0, y, label_w, h)
        self._text(group, [_("Total time")], 0, y + (h - LINE) / 2, label_w, anchor="end", bold=True)
        # The total stands under the Waktu column and may run on under Output.
        width = cols.width["waktu"] + cols.width["output"]
        _cell(group, cols.x["waktu"], y, width, h)
        self._text(group, self.lay.total_lines, cols.x["waktu"], y + PAD, width, anchor="middle", bold=True,
                   row=' data-total=""')
        _cell(group, cols.x["keterangan"], y, cols.width["keterangan"], h)
        self._text(group, self.lay.total_note_lines, cols.x["keterangan"], y + PAD, cols.width["keterangan"],
                   row=' data-total-note=""')

    # -- flows, symbols, connectors ----------------------------------------------------------------
    def _flow(self, flow: Flow) -> None:
        attrs = {"class_": "flow", "data_edge": flow.edge.key, "data_kind": flow.edge.kind}
        if flow.part:
            attrs["data_part"] = flow.part
        if flow.shared:
            attrs["data_shared"] = "1"
        group = _el(self.flows, "g", **attrs)
        _el(group, "polyline", points=_points(flow.points))
        (x1, y1), (x2, y2) = flow.points[-2], flow.points[-1]
        dx, dy = (x2 > x1) - (x2 < x1), (y2 > y1) - (y2 < y1)
        base = (x2 - dx * ARROW_LEN, y2 - dy * ARROW_LEN)
        wing = (-dy * ARROW_HALF, dx * ARROW_HALF)
        tip = [(x2, y2), (base[0] + wing[0], base[1] + wing[1]), (base[0] - wing[0], base[1] - wing[1])]
        _el(group, "polygon", points=_points(tip), fill="#000", stroke="none")
        if flow.label is not None:
            label = flow.label
            text = _el(group, "text", class_="label", x=label.box[0], y=label.baseline, font_size=label.size,
                       fill="#000", stroke="none")
            text.text = label.text

    def _symbols(self) -> None:
        nodes = {node.nomor: node for node in self.sheet.nodes}
        for symbol in self.canvas.symbols.values():
            state = (self.states or {}).get(symbol.nomor)
            attrs = {"class_": "symbol", "data_step": symbol.nomor, "data_kind": symbol.kind,
                     "data_column": symbol.column, "fill": STATE_FILL.get(state, "#fff")}
            if state:
                attrs["data_state"] = state
            if state == "current":
                attrs["stroke_width"] = STROKE * 3
            group = _el(self.marks, "g", **attrs)
            if self.html is None:  # a tooltip on the web; paper has the Kegiatan column
                _el(group, "title").text = f"{symbol.nomor}. {nodes[symbol.nomor].kegiatan}"
            x0, y0, w, h = symbol.cx - symbol.half_w, symbol.top, symbol.half_w * 2, symbol.half_h * 2
            if symbol.kind in (MULAI, SELESAI):
                _el(group, "rect", x=x0, y=y0, width=w, height=h, rx=h / 2, ry=h / 2)
            elif symbol.kind == KEPUTUSAN:
                points = [(symbol.cx, y0), (x0 + w, symbol.cy), (symbol.cx, y0 + h), (x0, symbol.cy)]
                _el(group, "polygon", points=_points(points))
            else:
                _el(group, "rect", x=x0, y=y0, width=w, height=h)
        shapes = self.lay.shapes
        for end in self.canvas.exits.values():
            kinds = [kind for kind, target in (("ya", nodes[end.nomor].ya), ("tidak", nodes[end.nomor].tidak))
                     if target is None]
            group = _el(self.marks, "g", class_="exit", data_step=end.nomor, data_kind=" ".join(kinds), fill="#fff")
            _el(group, "rect", x=end.cx - end.half_w, y=end.top, width=end.half_w * 2, height=end.half_h * 2,
                rx=end.half_h, ry=end.half_h)
            text = _el(group, "text", x=end.cx, y=end.cy + shapes.exit_font * 0.35, font_size=shapes.exit_font,
                       text_anchor="middle", fill="#000", stroke="none")
            text.text = shapes.exit_text

    def _connectors(self) -> None:
        """Off-page connectors: the pentagon pointing down, with its letter."""
        half = CONNECTOR_W / 2
        for connector in self.canvas.connectors:
            x, top = connector.x, connector.top
            attrs = {"class_": "connector", "data_label": connector.label, "data_where": connector.where, "fill": "#fff"}
            if connector.on_page:  # the circle: joins two places on this page
                group = _el(self.marks, "g", **attrs, data_page="1")
                radius = (connector.bottom - connector.top) / 2
                _el(group, "circle", cx=x, cy=top + radius, r=radius)
                baseline = top + radius + SMALL_SIZE * 0.35
            else:
                group = _el(self.marks, "g", **attrs)
                points = [(x - half, top), (x + half, top), (x + half, top + CONNECTOR_H * 0.6),
                          (x, top + CONNECTOR_H), (x - half, top + CONNECTOR_H * 0.6)]
                _el(group, "polygon", points=_points(points))
                baseline = top + CONNECTOR_H * 0.52
            text = _el(group, "text", x=x, y=baseline, font_size=SMALL_SIZE, text_anchor="middle",
                       fill="#000", stroke="none", font_weight="bold")
            text.text = connector.label

    # -- output ----------------------------------------------------------------------------------
    def to_string(self, names: dict[tuple, str]) -> str:
        """The web drawing: the SVG. A printed page: a box holding the drawing as an image and the
        cells' text over it. As an image WeasyPrint reads the SVG with its XML parser instead of
        styling every line as an HTML element: a sheet renders about twice as fast.

        ``names`` maps cell shapes to CSS class names for the whole document: the style of a page
        names only the shapes no earlier page named, and a name means one shape on every page."""
        svg = ET.tostring(self.root, encoding="unicode")
        if self.html is None:
            return svg
        width, height = self.size
        rows: dict[tuple[str, str], list[str]] = {}
        new = []
        for top, row, shape, key, text in self.html:
            name = names.get(shape)
            if name is None:
                name = names[shape] = f"c{len(names)}"
                new.append((shape, name))
            column = f' data-c="{key}"' if key else ""
            rows.setdefault((top, row), []).append(f'<div class="{name}"{column}>{text}</div>')
        css = "".join(
            f".sop-flow-page .{name}{{left:{left}mm;width:{w}mm;text-align:{align};font-weight:{weight}"
            + (f";font-size:{size}mm;line-height:{_f(float(size) * 1.25)}mm" if size else "") + "}"
            for (left, w, align, weight, size), name in new)
        body = "".join(f'<div class="row"{row} style="top:{top}mm">{"".join(cells)}</div>'
                       for (top, row), cells in rows.items())
        box = f"position:absolute;left:0;top:0;width:{_f(width)}mm;height:{_f(height)}mm"
        image = base64.b64encode(svg.encode()).decode("ascii")
        page = self.canvas.page
        shared = ('<style>.sop-flow-page .row{position:absolute;left:0;width:100%}'
                  '.sop-flow-page .row div{position:absolute;top:0;white-space:pre}')
        return (f'<div class="sop-flow-page" data-page="{page.number}" style="position:relative;width:{_f(width)}mm;'
                f'height:{_f(height)}mm;font-family:{FONT_FAMILY};font-size:{_f(FONT_SIZE)}mm;line-height:{_f(LINE)}mm">'
                f'{shared}{css}</style>'
                f'<img alt="" style="{box}" src="data:image/svg+xml;base64,{image}">{body}</div>')


def page_svg(page: str) -> str:
    """The drawing inside a printed page from ``sheet_pages`` (for checks and tests)."""
    if page.startswith("<svg"):
        return page
    return base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)).decode()
