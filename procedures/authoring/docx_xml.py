"""The WordprocessingML a sheet is made of, read as plain data: blocks, tables as grids, cells.

python-docx opens the package and parses the XML; this module walks the elements itself, because
an SOP sheet needs what the high-level API hides or computes slowly: where a cell sits on the
table's grid, which cells are merged (``gridSpan``, ``vMerge``), the shapes and symbol-font
characters that mark an actor's column, the text of text boxes without the fallback copies
Word stores beside them, and which lines are underlined (the signer's name).

Everything is bounded: :class:`Limits` caps rows, cells and columns, and the walks are iterative
or as deep as the XML parser allows (libxml2 refuses documents nested deeper than 256 elements).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
PIC_NS = "http://schemas.openxmlformats.org/drawingml/2006/picture"
WPS_NS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
V_NS = "urn:schemas-microsoft-com:vml"


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


P, TBL, TR, TC, SDT, SDT_CONTENT, CUSTOM_XML = (
    _w("p"), _w("tbl"), _w("tr"), _w("tc"), _w("sdt"), _w("sdtContent"), _w("customXml"))
T, TAB, PTAB, BR, CR, SYM, NB_HYPHEN, RUN, RPR, U = (
    _w("t"), _w("tab"), _w("ptab"), _w("br"), _w("cr"), _w("sym"), _w("noBreakHyphen"), _w("r"), _w("rPr"),
    _w("u"))
TC_PR, GRID_SPAN, V_MERGE, H_MERGE, TR_PR, GRID_BEFORE = (
    _w("tcPr"), _w("gridSpan"), _w("vMerge"), _w("hMerge"), _w("trPr"), _w("gridBefore"))
W_VAL, W_FONT, W_CHAR = _w("val"), _w("font"), _w("char")
# Subtrees whose text is not on the page: Word's fallback copy of a drawing (the same shape again
# in VML), deleted and moved-away text of tracked changes.
SKIPPED = {f"{{{MC_NS}}}Fallback", _w("del"), _w("moveFrom")}
PICTURE = f"{{{PIC_NS}}}pic"
PRESET_GEOMETRY = f"{{{A_NS}}}prstGeom"
CONNECTOR_PROPS = f"{{{WPS_NS}}}cNvCnPr"
VML_SHAPES = {f"{{{V_NS}}}{name}" for name in ("shape", "rect", "roundrect", "oval", "line", "polyline")}

# What a drawn shape says about a step: the flowchart symbol it is, or a line (a flow, not a mark).
DECISION, TERMINATOR, PROCESS, LINE, OTHER = "keputusan", "terminator", "proses", "line", "other"
GEOMETRY_KINDS = {
    "flowChartDecision": DECISION, "diamond": DECISION,
    "flowChartTerminator": TERMINATOR, "ellipse": TERMINATOR, "roundRect": TERMINATOR,
    "flowChartAlternateProcess": TERMINATOR,
    "flowChartProcess": PROCESS, "rect": PROCESS,
    "line": LINE, "straightConnector1": LINE, "bentConnector2": LINE, "bentConnector3": LINE,
    "bentConnector4": LINE, "bentConnector5": LINE, "curvedConnector3": LINE, "rightArrow": LINE,
    "leftArrow": LINE, "downArrow": LINE, "upArrow": LINE,
}
# VML shape types Word writes for the flowchart shapes (o:spt numbers) and its other shapes.
VML_TYPES = {"110": DECISION, "4": DECISION, "116": TERMINATOR, "176": TERMINATOR, "109": PROCESS, "1": PROCESS,
             "32": LINE, "33": LINE, "34": LINE, "38": LINE, "20": LINE}
VML_ELEMENT_KINDS = {"rect": PROCESS, "roundrect": TERMINATOR, "oval": TERMINATOR, "line": LINE, "polyline": LINE}
# Symbol-font characters (w:sym, private-use code points of Wingdings and Symbol) that sheets use
# as marks, as the Unicode characters they look like.
SYMBOL_CHARACTERS = {
    "F06E": "■", "F06F": "□", "F071": "❑", "F0A7": "▪", "F0A8": "□", "F072": "❒",
    "F075": "◆", "F074": "⧫", "F0A9": "◇", "F06C": "●", "F0A1": "○", "F09F": "•",
    "F0FC": "✓", "F0FB": "✗", "F0FE": "☑", "F0D6": "√",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


class TooLarge(Exception):
    """A table beyond :class:`Limits`; ``what`` says which limit, ``table`` which table (1-based)."""

    def __init__(self, what: str, table: int):
        self.what, self.table = what, table
        super().__init__(f"{what} (table {table})")


@dataclass
class Limits:
    """How much of a document is read before it is refused as too large."""

    rows: int
    cells: int
    columns: int
    used_rows: int = 0
    used_cells: int = 0


@dataclass(frozen=True)
class Line:
    """One line of text as printed in a cell; ``underline`` when all of it is underlined."""

    text: str
    underline: bool = False


@dataclass
class Content:
    """What a cell (or a paragraph) holds: lines of text and the shapes drawn in it."""

    lines: list[Line] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def marks(self) -> list[str]:
        """The shapes that are symbols (not lines or arrows between them)."""
        return [shape for shape in self.shapes if shape != LINE]

    @property
    def empty(self) -> bool:
        return not self.lines and not self.marks

    def extend(self, other: Content) -> None:
        self.lines.extend(other.lines)
        self.shapes.extend(other.shapes)


def clean(text: str) -> str:
    """A line of text with control characters dropped and runs of spaces made one."""
    return _SPACES.sub(" ", _CONTROL.sub("", text)).strip()


def _is_underlined(run) -> bool:
    properties = run.find(RPR)
    underline = properties.find(U) if properties is not None else None
    return underline is not None and underline.get(W_VAL, "single") != "none"


def _shape_kind(element) -> str | None:
    tag = element.tag
    if tag == PICTURE:
        return OTHER
    if tag == PRESET_GEOMETRY:
        return GEOMETRY_KINDS.get(element.get("prst", ""), OTHER)
    if tag == CONNECTOR_PROPS:
        return LINE
    if tag in VML_SHAPES:
        local = tag.rsplit("}", 1)[1]
        if local == "shape":
            number = (element.get("type") or "").rsplit("_t", 1)[-1]
            spt = element.get(f"{{urn:schemas-microsoft-com:office:office}}spt", "")
            return VML_TYPES.get(number) or VML_TYPES.get(spt) or OTHER
        return VML_ELEMENT_KINDS[local]
    return None


def paragraph_content(paragraph) -> Content:
    """The lines and shapes of one paragraph (text boxes in it give lines of their own)."""
    content = Content()
    pieces: list[tuple[str, bool]] = []

    def end_line() -> None:
        text = clean("".join(piece for piece, _underlined in pieces))
        if text:
            underlined = all(flag for piece, flag in pieces if piece.strip())
            content.lines.append(Line(text, underlined))
        pieces.clear()

    # Iterative walk: a paragraph may hold drawings that hold text boxes that hold paragraphs.
    # A shape is known by its geometry (a connector also by its cNvCnPr: two lines, no mark).
    stack = [iter(paragraph)]
    underlined = False
    while stack:
        for child in stack[-1]:
            tag = child.tag
            if not isinstance(tag, str) or tag in SKIPPED:
                continue
            if tag == RUN:
                underlined = _is_underlined(child)
            elif tag == T:
                pieces.append((child.text or "", underlined))
            elif tag in (TAB, PTAB):
                pieces.append((" ", underlined))
            elif tag in (BR, CR):
                end_line()
            elif tag == P:
                end_line()
            elif tag == NB_HYPHEN:
                pieces.append(("-", underlined))
            elif tag == SYM:
                code = (child.get(W_CHAR) or "").upper()
                if len(code) == 2:
                    code = "F0" + code
                pieces.append((SYMBOL_CHARACTERS.get(code, "■"), underlined))
            else:
                kind = _shape_kind(child)
                if kind is not None:
                    content.shapes.append(kind)
                    if tag == PICTURE:  # its frame is a "rect" geometry, not a second shape
                        continue
            if len(child):
                stack.append(iter(child))
                break
        else:
            stack.pop()
    end_line()
    return content


def cell_content(cell) -> Content:
    """Every line and shape of a table cell, nested tables included (row by row)."""
    content = Content()
    for block in blocks(cell):
        if block.tag == P:
            content.extend(paragraph_content(block))
        else:
            for row in _rows(block):
                for inner in _cells(row):
                    content.extend(cell_content(inner))
    return content


def blocks(container) -> Iterator:
    """The paragraphs and tables of a body or cell in order, through content controls."""
    stack = [iter(container)]
    while stack:
        for child in stack[-1]:
            if child.tag in (P, TBL):
                yield child
            elif child.tag in (SDT, CUSTOM_XML):
                stack.append(iter(child))
                break
            elif child.tag == SDT_CONTENT:
                stack.append(iter(child))
                break
        else:
            stack.pop()


def _children(element, tag: str) -> Iterator:
    stack = [iter(element)]
    while stack:
        for child in stack[-1]:
            if child.tag == tag:
                yield child
            elif child.tag in (SDT, CUSTOM_XML, SDT_CONTENT):
                stack.append(iter(child))
                break
        else:
            stack.pop()


def _rows(table) -> Iterator:
    return _children(table, TR)


def _cells(row) -> Iterator:
    return _children(row, TC)


def _int_attribute(element, tag: str, default: int, maximum: int) -> int:
    found = element.find(tag) if element is not None else None
    try:
        value = int(found.get(W_VAL)) if found is not None else default
    except (TypeError, ValueError):
        return default
    return min(max(value, 0 if tag == GRID_BEFORE else 1), maximum)


@dataclass(eq=False)
class Cell:
    """A cell placed on its table's grid: ``col``…``col + span - 1``; ``origin`` is the first cell
    of its vertical merge (itself when not merged)."""

    row: int
    col: int
    span: int
    merged_down: bool  # a continuation of the cell above (vMerge continue)
    element: object = None
    origin: Cell | None = None
    _content: Content | None = None

    @property
    def content(self) -> Content:
        """The cell's own content; a merge continuation shows its origin's."""
        source = self.origin or self
        if source._content is None:
            source._content = cell_content(source.element)
        return source._content

    @property
    def columns(self) -> range:
        return range(self.col, self.col + self.span)


@dataclass(eq=False)
class Table:
    """A table as a grid: ``rows[r]`` lists the cells of row r; ``at(r, c)`` the one covering c."""

    number: int  # 1-based, in document order
    rows: list[list[Cell]]
    width: int
    _cover: list[list[Cell | None]] = field(default_factory=list)

    def at(self, row: int, col: int) -> Cell | None:
        cover = self._cover[row]
        return cover[col] if 0 <= col < len(cover) else None

    def row_empty(self, row: int) -> bool:
        return all(cell.merged_down or cell.content.empty for cell in self.rows[row])


def read_table(element, number: int, limits: Limits) -> Table:
    """Place a table's cells on its grid, following merges; raise TooLarge beyond the limits."""
    rows: list[list[Cell]] = []
    cover_rows: list[list[Cell | None]] = []
    width = 0
    for tr in _rows(element):
        limits.used_rows += 1
        if limits.used_rows > limits.rows:
            raise TooLarge("rows", number)
        index = len(rows)
        col = _int_attribute(tr.find(TR_PR), GRID_BEFORE, 0, limits.columns)
        cells: list[Cell] = []
        cover: list[Cell | None] = [None] * col
        for tc in _cells(tr):
            limits.used_cells += 1
            if limits.used_cells > limits.cells:
                raise TooLarge("cells", number)
            properties = tc.find(TC_PR)
            span = _int_attribute(properties, GRID_SPAN, 1, limits.columns)
            h_merge = properties.find(H_MERGE) if properties is not None else None
            if h_merge is not None and h_merge.get(W_VAL, "continue") == "continue" and cells:
                # The old way of merging across: this cell widens the one before it.
                previous = cells[-1]
                previous.span += span
                cover.extend([previous] * span)
                col += span
                continue
            v_merge = properties.find(V_MERGE) if properties is not None else None
            cell = Cell(index, col, span, False, tc)
            if v_merge is not None and v_merge.get(W_VAL, "continue") == "continue" and cover_rows:
                above_cover = cover_rows[-1]
                above = above_cover[col] if col < len(above_cover) else None
                if above is not None and above.col == col:
                    cell.merged_down = True
                    cell.origin = above.origin or above
            cells.append(cell)
            cover.extend([cell] * span)
            col += span
            if col > limits.columns:
                raise TooLarge("columns", number)
        width = max(width, col)
        rows.append(cells)
        cover_rows.append(cover)
    return Table(number, rows, width, cover_rows)
