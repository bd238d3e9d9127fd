"""Where everything goes: the table's columns, the symbols' sizes, the rows and the pages.

All lengths are millimetres. The table is No | Kegiatan | one column per Pelaksana | Kelengkapan |
Waktu | Output | Keterangan. Rows are cut to the cells' wrapped text; a row taller than a page is
split into parts, the later ones marked "(lanjutan)" and printed on the next pages, so that no text
is ever dropped. Pages are filled evenly: the last page does not hold a lone step.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.utils.translation import gettext as _, pgettext

from procedures.flowchart.content import KEPUTUSAN, MULAI, SELESAI, Node, Sheet
from procedures.flowchart.text import LINE, SMALL_SIZE, fit_labels, text_width, wrap

TEXT_COLUMNS = ("no", "kegiatan", "kelengkapan", "waktu", "output", "keterangan")

PAD = 1.2  # a cell's text from its lines
HEAD_PAD = 0.6  # a role name from its column's lines: narrow columns need the room
GRID = 0.2  # stroke of the table's lines
INSET = 0.25  # the table's distance from the drawing's edge: half a line and some
MIN_ROW = 16.0
STRIP = 12.0  # the row at a page's head or foot that holds off-page connectors

# Flows keep CLEAR_LINE from the table's lines (and so from the cells' text), CLEAR_SYMBOL from a
# symbol they pass, PITCH from a parallel flow.
CLEAR_LINE = 2.5
CLEAR_SYMBOL = 0.8
PITCH = 1.0
LEG = 1.5  # a flow entering a symbol's top (or leaving its bottom for a run) turns this far from it
ABOVE = LEG + CLEAR_LINE + 0.5  # room above a symbol in its row
BELOW = CLEAR_LINE + 2.5  # room below: a flow to the next row turns CLEAR_LINE above the row line
EXIT_GAP = 3.8  # from a decision down to its Selesai: the arrow and its Ya/Tidak

CONNECTOR_W, CONNECTOR_H = 5.0, 5.6
CONNECTOR_INSET = 4.7  # the connector's near edge from the strip's inner line: leads run in between
LEAD_LEVELS = (CLEAR_LINE, CLEAR_LINE + PITCH)  # the horizontal leads to connectors, from the inner line


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------

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

    @property
    def area(self) -> tuple[float, float]:
        """The Pelaksana columns, left and right."""
        return self.actor_x[0], self.boundary(len(self.actor_x))

    @functools.cached_property
    def lines(self) -> list[float]:
        """x of every vertical line of the table."""
        return sorted({self.x[key] for key in TEXT_COLUMNS} | set(self.actor_x) | {self.area[1], self.total_width})

    @functools.cached_property
    def slots(self) -> list[float]:
        """Where flows may run vertically: across each role column, CLEAR_LINE from its lines, about
        PITCH apart (the middle of a column is free in the rows where the column has no symbol)."""
        result = []
        span = self.actor_width - 2 * CLEAR_LINE
        count = max(1, int(span / PITCH) + 1)
        step = span / (count - 1) if count > 1 else 0.0
        for left in self.actor_x:
            result += [round(left + CLEAR_LINE + k * step, 3) for k in range(count)]
        return result

    def connector_fits(self, x: float) -> bool:
        """Whether an off-page connector centred at ``x`` lies inside one role column, off its lines."""
        left = self.actor_x[0]
        index = int((x - left) // self.actor_width)
        if not 0 <= index < len(self.actor_x):
            return False
        offset = x - self.actor_x[index]
        margin = CONNECTOR_W / 2 + 0.5
        return margin <= offset <= self.actor_width - margin


def columns(width: float, actors: int) -> Columns:
    # Many roles get more of the width: a symbol needs room beside it for the flows passing by.
    actor = min(max(0.36 * width / actors, min(16.0, 0.56 * width / actors)), 30.0)
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


# ---------------------------------------------------------------------------------------------
# Symbols: their sizes keep their shapes however narrow the column
# ---------------------------------------------------------------------------------------------

CAPSULE_RATIO = 1.8  # a terminator stays a capsule (at least 1.6:1), never the circle of a connector
DIAMOND_RATIO = 1.6
PROCESS_RATIO = 1.3


@dataclass(frozen=True)
class Shapes:
    sizes: dict[str, tuple[float, float]]
    exit: tuple[float, float]
    exit_font: float
    exit_text: str

    def size(self, kind: str) -> tuple[float, float]:
        return self.sizes.get(kind, self.sizes["proses"])


def shapes(actor_width: float) -> Shapes:
    room = min(actor_width - 2 * (CLEAR_LINE + CLEAR_SYMBOL), 0.55 * actor_width)

    def fit(most_wide: float, most_high: float, ratio: float) -> tuple[float, float]:
        width = min(room, most_wide)
        return width, min(most_high, width / ratio)

    capsule = fit(16.0, 6.5, CAPSULE_RATIO)
    exit_ = fit(11.5, 4.6, CAPSULE_RATIO)
    text = pgettext("flowchart terminator", "End")
    # The word stays within the capsule's straight part.
    font = min(SMALL_SIZE, (exit_[0] - exit_[1] * 0.6) / max(text_width(text, 1.0), 0.1))
    return Shapes(
        sizes={MULAI: capsule, SELESAI: capsule, "proses": fit(18.0, 6.5, PROCESS_RATIO),
               KEPUTUSAN: fit(16.0, 9.0, DIAMOND_RATIO)},
        exit=exit_, exit_font=font, exit_text=text,
    )


def has_exit(node: Node) -> bool:
    """A decision one of whose answers ends the run, or an independent activity: a small Selesai
    stands below it."""
    return node.independent or (node.kind == KEPUTUSAN and (node.ya is None or node.tidak is None))


def symbol_group_height(node: Node, sizes: Shapes) -> float:
    height = sizes.size(node.kind)[1]
    if has_exit(node):
        height += EXIT_GAP + sizes.exit[1]
    return height


# ---------------------------------------------------------------------------------------------
# Rows and pages
# ---------------------------------------------------------------------------------------------

@dataclass
class RowPart:
    """A step's row, or one part of it when it is taller than a page (``part`` 0 holds the symbol)."""

    node: Node
    part: int
    cells: dict[str, list[str]]
    height: float
    y: float = 0.0

    @property
    def bottom(self) -> float:
        return self.y + self.height


def _text_height(lines: int) -> float:
    return lines * LINE + 2 * PAD + 0.6


@dataclass
class RowSpec:
    """A step's row before it is set on pages: its cells' lines, and the height its symbol needs."""

    node: Node
    cells: dict[str, list[str]]
    least: float

    @functools.cached_property
    def height(self) -> float:
        return max(self.least, _text_height(max(len(lines) for lines in self.cells.values())))


def row_spec(node: Node, cols: Columns, sizes: Shapes) -> RowSpec:
    texts = {
        "no": node.label or str(node.nomor),
        "kegiatan": node.kegiatan,
        "kelengkapan": "\n".join(f"- {item}" for item in node.kelengkapan),
        "waktu": node.waktu,
        "output": node.output,
        "keterangan": node.keterangan,
    }
    cells = {key: wrap(text, cols.width[key] - 2 * PAD) for key, text in texts.items()}
    return RowSpec(node, cells, max(MIN_ROW, ABOVE + symbol_group_height(node, sizes) + BELOW))


class _Cursor:
    """How far the pages have got through a row that is split: the lines of each column set so far."""

    def __init__(self, spec: RowSpec):
        self.spec, self.part = spec, 0
        self.taken = {key: 0 for key in spec.cells}

    @property
    def done(self) -> bool:
        return self.part > 0 and all(self.taken[key] >= len(lines) for key, lines in self.spec.cells.items())

    def _chunk(self, fit: int | None) -> dict[str, list[str]]:
        """The next part's lines: ``fit`` lines a column (all that is left if None); after the first
        part the Kegiatan column begins "(lanjutan)" and every part repeats the step's number."""
        chunk = {}
        for key, lines in self.spec.cells.items():
            if key == "no":
                chunk[key] = lines
                continue
            lead = [pgettext("flowchart row continued from the previous page", "(continued)")] \
                if self.part and key == "kegiatan" else []
            start = self.taken[key]
            end = len(lines) if fit is None else start + max(0, fit - len(lead))
            chunk[key] = lead + lines[start:end]
        return chunk

    def _height(self, chunk: dict[str, list[str]]) -> float:
        lines = max(len(lines) for lines in chunk.values())
        return max(self.spec.least if self.part == 0 else 0.0, _text_height(lines))

    def height(self, fit: int | None = None) -> float:
        """The height of the next part (``fit`` lines a column, or all that is left)."""
        if self.part == 0 and fit is None:
            return self.spec.height
        return self._height(self._chunk(fit))

    def take(self, fit: int | None = None) -> RowPart:
        if self.part == 0 and fit is None:  # the whole row, as most are
            self.part, self.taken = 1, {key: len(lines) for key, lines in self.spec.cells.items()}
            return RowPart(self.spec.node, 0, self.spec.cells, self.spec.height)
        chunk = self._chunk(fit)
        part = RowPart(self.spec.node, self.part, chunk, self._height(chunk))
        for key, lines in chunk.items():
            if key != "no":
                self.taken[key] += len(lines) - (1 if self.part and key == "kegiatan" else 0)
        self.part += 1
        return part

    def fits(self, room: float) -> int | None:
        """How many lines a part may hold in ``room`` mm, or None if too few (a first part needs its
        symbol's height and three lines, a later one three lines)."""
        fit = int((room - 2 * PAD - 0.6) / LINE)
        if fit < 3 or (self.part == 0 and room < self.spec.least):
            return None
        return fit


@dataclass
class Header:
    first: float  # the row of "Pelaksana" and "Mutu Baku"
    second: float  # the role names and Kelengkapan | Waktu | Output
    role_size: float
    roles: list[list[str]]
    sub: dict[str, list[str]]

    @property
    def height(self) -> float:
        return self.first + self.second


def header(sheet: Sheet, cols: Columns) -> Header:
    size, roles = fit_labels(list(sheet.columns), cols.actor_width - 2 * HEAD_PAD)
    sub = {key: wrap(label, cols.width[key] - 2 * PAD, bold=True)
           for key, label in (("kelengkapan", _("Requirements")), ("waktu", _("Time")), ("output", _("Output")))}
    role_lines = max((len(lines) for lines in roles), default=1) * size * 1.25
    second = max(role_lines, max(len(lines) for lines in sub.values()) * LINE) + 2 * PAD
    return Header(first=LINE + 2 * PAD, second=second, role_size=size, roles=roles, sub=sub)


@dataclass
class PageLayout:
    number: int
    count: int
    rows: list[RowPart]
    top_strip: float | None  # y of the connector strip at the page's head, if any
    bottom_strip: float | None
    total_y: float | None  # y of the Jumlah Waktu row (last page)
    height: float  # of the drawing


@dataclass
class Layout:
    cols: Columns
    shapes: Shapes
    header: Header
    total_lines: list[str]
    total_height: float
    total_note_lines: list[str] = field(default_factory=list)
    pages: list[PageLayout] = field(default_factory=list)


def _pages(specs: list[RowSpec], *, first_room: float, room: float, total: float, cap: float) -> list[list[RowPart]]:
    """The rows on pages, each page filled up to ``cap``; the last page also holds the total row.
    A row is never split unless it is taller than a page's room: then it fills the room left on the
    page it begins on and goes on over the next pages."""
    split_above = room - STRIP  # the rows' room on a page with a strip at its head and foot
    pages: list[list[RowPart]] = []
    after = [0.0] * (len(specs) + 1)  # the height of the rows from i on
    for k in range(len(specs) - 1, -1, -1):
        after[k] = after[k + 1] + specs[k].height
    i, cursor = 0, None  # the next row, and how far into it when it is being split
    while True:
        available = first_room if not pages else room
        rows_room = min(cap, available - STRIP)
        left = after[i] if cursor is None else after[i + 1] + cursor.height()
        if left + total <= available and left <= cap:  # the rest and the total row fit: last page
            page = [cursor.take() if cursor and k == i else _Cursor(specs[k]).take() for k in range(i, len(specs))]
            pages.append(page)
            return pages
        page, used = [], 0.0
        while i < len(specs):
            row = cursor if cursor is not None else _Cursor(specs[i])
            if used + row.height() <= rows_room:
                page.append(row.take())
                used += page[-1].height
                i, cursor = i + 1, None
                continue
            tall = specs[i].height > split_above
            fit = row.fits(rows_room - used) if tall else None
            if (tall and fit is not None) or not page:  # (on an empty page a row goes whatever its height:
                page.append(row.take(fit))              # taller than the cap, or a page too small to split on)
                i, cursor = (i + 1, None) if fit is None or row.done else (i, row)
            break
        if i == len(specs) and cursor is None and len(page) > 1 and page[-1].part == 0:
            i -= 1  # the total row stands under the last step: the last step moves over with it
            page.pop()
        pages.append(page)
        if i == len(specs) and cursor is None:  # the total row alone did not fit under the last step
            pages.append([])
            return pages


def paginate(specs: list[RowSpec], *, inner: float, header_height: float, total: float) -> list[list[RowPart]]:
    """The rows on pages of ``inner`` mm, as evenly filled as the fewest pages allow."""
    first_room = inner - header_height
    room = first_room - STRIP
    pages = _pages(specs, first_room=first_room, room=room, total=total, cap=float("inf"))
    if len(pages) > 1:
        low = min(max((spec.height for spec in specs if spec.height <= room - STRIP), default=0.0), first_room)
        high = first_room
        for _step in range(24):
            middle = (low + high) / 2
            if len(_pages(specs, first_room=first_room, room=room, total=total, cap=middle)) <= len(pages):
                high = middle
            else:
                low = middle
        pages = _pages(specs, first_room=first_room, room=room, total=total, cap=high)
    return pages


def layout_sheet(sheet: Sheet, *, width: float, height: float | None) -> Layout:
    """Columns, rows and pages of a drawing ``width`` wide; one page of any height if ``height`` is None."""
    cols = columns(width - 2 * INSET, len(sheet.columns))
    sizes = shapes(cols.actor_width)
    head = header(sheet, cols)
    total_lines = wrap(sheet.total, cols.width["waktu"] + cols.width["output"] - 2 * PAD, bold=True) or [""]
    note_lines = wrap(sheet.total_note, cols.width["keterangan"] - 2 * PAD) if sheet.total_note else []
    total_height = max(max(len(total_lines), len(note_lines)) * LINE + 2 * PAD, 7.0)
    result = Layout(cols=cols, shapes=sizes, header=head, total_lines=total_lines, total_height=total_height,
                    total_note_lines=note_lines)
    inner = None if height is None else height - 2 * INSET
    specs = [row_spec(node, cols, sizes) for node in sheet.nodes]
    if inner is None:
        groups = [[_Cursor(spec).take() for spec in specs]]
    else:
        groups = paginate(specs, inner=inner, header_height=head.height, total=total_height)
    for number, rows in enumerate(groups, start=1):
        first, last = number == 1, number == len(groups)
        y = head.height
        top = None if first else y
        y += 0 if first else STRIP
        for row in rows:
            row.y = y
            y += row.height
        bottom = None if last else y
        y += 0 if last else STRIP
        total_y = y if last else None
        page_height = height if height is not None else y + total_height + 0.5
        result.pages.append(PageLayout(number=number, count=len(groups), rows=rows, top_strip=top,
                                       bottom_strip=bottom, total_y=total_y, height=page_height))
    return result

