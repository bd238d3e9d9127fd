"""What a clean printed sheet is, checked on the drawing itself: the SVG and the PDF page's HTML.

Everything is read back from the output (``data-`` attributes, shapes, points), worked out here, not
with the drawing module's own geometry, so that a check cannot agree with a bug.
"""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from procedures import flowchart
from procedures.flowchart import KEPUTUSAN, MULAI, PROSES, SELESAI, Node, Sheet

NS = "{http://www.w3.org/2000/svg}"
A4 = (277.0, 188.0)  # the landscape content box of an A4 page (pdf.flow_box("a4"))
F4 = (310.0, 193.0)
CLEAR = 2.5  # flows from grid lines
TOL = 0.02

Box = tuple[float, float, float, float]


def floats(text: str) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in text.split()]


def edges_of(points) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return list(zip(points, points[1:] + points[:1]))


@dataclass
class Shape:
    kind: str
    box: Box
    outline: list  # segments
    attrs: dict


@dataclass
class FlowLine:
    key: tuple[str, str]
    part: str
    points: list[tuple[float, float]]
    shared: bool
    label: tuple[str, Box] | None

    @property
    def segments(self):
        return list(zip(self.points, self.points[1:]))


@dataclass
class PageView:
    """One page of a drawing, read back from its SVG."""

    svg: ET.Element
    columns: dict[int, tuple[float, float]]  # role column -> (left, right)
    vertical: list[tuple[float, float, float]] = field(default_factory=list)  # grid: (x, y0, y1)
    horizontal: list[tuple[float, float, float]] = field(default_factory=list)  # grid: (y, x0, x1)
    strips: list[tuple[str, Box]] = field(default_factory=list)
    symbols: list[Shape] = field(default_factory=list)
    exits: list[Shape] = field(default_factory=list)
    connectors: list[Shape] = field(default_factory=list)
    flows: list[FlowLine] = field(default_factory=list)

    @classmethod
    def read(cls, page: str) -> PageView:
        svg = ET.fromstring(flowchart.page_svg(page))
        columns = {int(r.get("data-column")): (float(r.get("x")), float(r.get("x")) + float(r.get("width")))
                   for r in svg.iter(f"{NS}rect") if r.get("class") == "col-head"}
        view = cls(svg=svg, columns=columns)
        grid = next(g for g in svg.iter(f"{NS}g") if g.get("class") == "grid")
        for rect in grid.iter(f"{NS}rect"):
            x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
            view.vertical += [(x, y, y + h), (x + w, y, y + h)]
            view.horizontal += [(y, x, x + w), (y + h, x, x + w)]
        for path in grid.iter(f"{NS}path"):
            for x, y, h in re.findall(r"M([\d.]+) ([\d.]+)v([\d.]+)", path.get("d")):
                view.vertical.append((float(x), float(y), float(y) + float(h)))
        for g in grid.iter(f"{NS}g"):
            if g.get("class") == "connector-row":
                rect = g.find(f"{NS}rect")
                x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
                view.strips.append((g.get("data-where"), (x, y, x + w, y + h)))
        for g in svg.iter(f"{NS}g"):
            cls_ = g.get("class")
            if cls_ in ("symbol", "exit", "connector"):
                shape = next(el for el in g if el.tag in (f"{NS}rect", f"{NS}polygon", f"{NS}circle"))
                if shape.tag == f"{NS}rect":
                    x, y, w, h = (float(shape.get(k)) for k in ("x", "y", "width", "height"))
                    points = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
                elif shape.tag == f"{NS}circle":
                    x, y, r = (float(shape.get(k)) for k in ("cx", "cy", "r"))
                    points = [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
                else:
                    points = floats(shape.get("points"))
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                item = Shape(shape.tag.replace(NS, ""), (min(xs), min(ys), max(xs), max(ys)), edges_of(points),
                             {**g.attrib, **{f"shape-{k}": v for k, v in shape.attrib.items()}})
                {"symbol": view.symbols, "exit": view.exits, "connector": view.connectors}[cls_].append(item)
            elif cls_ == "flow":
                line = g.find(f"{NS}polyline")
                text = g.find(f"{NS}text")
                label = None
                if text is not None:
                    size = float(text.get("font-size"))
                    x, base = float(text.get("x")), float(text.get("y"))
                    width = flowchart.text_width(text.text, size)
                    label = (text.text, (x, base - 0.76 * size, x + width, base + 0.24 * size))
                view.flows.append(FlowLine((g.get("data-edge"), g.get("data-kind")), g.get("data-part") or "",
                                           floats(line.get("points")), g.get("data-shared") == "1", label))
        return view

    @property
    def area(self) -> tuple[float, float]:
        return min(a for a, _b in self.columns.values()), max(b for _a, b in self.columns.values())

    def lines(self, *, skip_shared: bool = False):
        """Every line drawn on the page, as segments: grid, flows, symbols, exits, connectors."""
        result = [((x, a), (x, b)) for x, a, b in self.vertical] + [((a, y), (b, y)) for y, a, b in self.horizontal]
        for flow in self.flows:
            if not (skip_shared and flow.shared):
                result += flow.segments
        for shape in [*self.symbols, *self.exits, *self.connectors]:
            result += shape.outline
        return result


def hits(p, q, box: Box) -> bool:
    """Whether the segment p–q touches the box."""
    x0, y0, x1, y1 = box
    (ax, ay), (bx, by) = p, q
    if max(ax, bx) < x0 or min(ax, bx) > x1 or max(ay, by) < y0 or min(ay, by) > y1:
        return False
    if ax == bx or ay == by:
        return True
    steps = 200  # a diagonal (a diamond's edge): sample it finely
    return any(x0 <= ax + (bx - ax) * i / steps <= x1 and y0 <= ay + (by - ay) * i / steps <= y1
               for i in range(steps + 1))


def enters(segment, box: Box, margin: float = 0.05) -> bool:
    """Whether an axis-parallel segment enters the inside of a box (touching its edge is fine)."""
    (x1, y1), (x2, y2) = segment
    left, top, right, bottom = box[0] + margin, box[1] + margin, box[2] - margin, box[3] - margin
    return min(x1, x2) < right and max(x1, x2) > left and min(y1, y2) < bottom and max(y1, y2) > top


def expected_edges(sheet: Sheet) -> Counter:
    """The flows, worked out here from the steps (not with the module's own function)."""
    numbers = {node.nomor for node in sheet.nodes}
    edges = Counter()
    for i, node in enumerate(sheet.nodes):
        if node.independent:  # an activity of its own: from its start to its own Selesai
            edges[(f"{node.nomor}-selesai", "next")] += 1
        elif node.kind == KEPUTUSAN:
            edges[(f"{node.nomor}-{node.ya or 'selesai'}", "ya")] += 1
            edges[(f"{node.nomor}-{node.tidak or 'selesai'}", "tidak")] += 1
        elif node.kind != SELESAI and i + 1 < len(sheet.nodes) and node.nomor + 1 in numbers:
            edges[(f"{node.nomor}-{node.nomor + 1}", "next")] += 1
    return edges


def check_page(view: PageView, sheet: Sheet, *, shared_ok: bool = False) -> list[str]:
    """Every rule of a clean page; the list of what breaks them (empty: clean)."""
    problems = []
    nodes = {node.nomor: node for node in sheet.nodes}
    assert len(view.columns) == len(sheet.columns)
    obstacles = []
    for symbol in view.symbols:
        node = nodes[int(symbol.attrs["data-step"])]
        x0, y0, x1, y1 = symbol.box
        left, right = view.columns[node.column]
        if not left < x0 < x1 < right:
            problems.append(f"step {node.nomor} outside its actor's column")
        if symbol.attrs["data-kind"] != node.kind:
            problems.append(f"step {node.nomor} drawn as {symbol.attrs['data-kind']}")
        w, h = x1 - x0, y1 - y0
        if node.kind in (MULAI, SELESAI):
            if w < 1.6 * h or abs(float(symbol.attrs["shape-rx"]) - h / 2) > TOL:
                problems.append(f"step {node.nomor}: the terminator is no capsule ({w:.1f} × {h:.1f})")
        elif node.kind == KEPUTUSAN and w < 1.4 * h:
            problems.append(f"step {node.nomor}: the diamond is squashed ({w:.1f} × {h:.1f})")
        elif node.kind == PROSES and w < h:
            problems.append(f"step {node.nomor}: the process box is narrower than tall")
        obstacles.append(("symbol", symbol.attrs["data-step"], symbol.box))
    for end in view.exits:
        x0, y0, x1, y1 = end.box
        step = int(end.attrs["data-step"])
        left, right = view.columns[nodes[step].column]
        if not left < x0 < x1 < right:
            problems.append(f"the Selesai of step {step} is outside the decision's column")
        if x1 - x0 < 1.6 * (y1 - y0):
            problems.append(f"the Selesai of step {step} is no capsule")
        obstacles.append(("exit", step, end.box))
    area = view.area
    strips = dict((where, box) for where, box in view.strips)
    for connector in view.connectors:
        x0, y0, x1, y1 = connector.box
        label = connector.attrs["data-label"]
        if not any(left < x0 and x1 < right for left, right in view.columns.values()):
            problems.append(f"connector {label} is not inside one role column")
        where = connector.attrs["data-where"]
        if where == "row":  # beside its step, when no slot led anywhere
            if any(strip[1] - TOL < y1 and y0 < strip[3] + TOL for strip in strips.values()):
                problems.append(f"connector {label} beside a step runs into a strip")
        else:
            strip = strips.get(where)
            if strip is None or not (strip[1] < y0 and y1 < strip[3]):
                problems.append(f"connector {label} is not inside its strip")
        obstacles.append(("connector", label, connector.box))
    # Flows: clear of symbols, CLEAR from the grid's parallel lines.
    for flow in view.flows:
        for (ax, ay), (bx, by) in flow.segments:
            for kind, name, box in obstacles:
                if kind == "connector" and flow.shared and shared_ok:
                    continue  # a last resort on a crowded strip may pass a connector, never a symbol
                if enters(((ax, ay), (bx, by)), box):
                    problems.append(f"flow {flow.key} crosses {kind} {name}")
            if ax == bx:
                lo, hi = min(ay, by), max(ay, by)
                for x, y0, y1 in view.vertical:
                    if abs(x - ax) < CLEAR - TOL and y0 < hi - TOL and y1 > lo + TOL:
                        problems.append(f"flow {flow.key} runs {abs(x - ax):.2f} mm from a column line")
                        break
            else:
                lo, hi = min(ax, bx), max(ax, bx)
                for y, x0, x1 in view.horizontal:
                    if abs(y - ay) < CLEAR - TOL and x0 < hi - TOL and x1 > lo + TOL:
                        problems.append(f"flow {flow.key} runs {abs(y - ay):.2f} mm from a row line")
                        break
            if not (area[0] + CLEAR - TOL <= min(ax, bx) and max(ax, bx) <= area[1] - CLEAR + TOL):
                problems.append(f"flow {flow.key} leaves the Pelaksana columns")
    # Labels: inside the role columns, crossing no line and no other label.
    # (A flow that found no free slot, allowed in torture tests, may pass a label.)
    lines = view.lines(skip_shared=shared_ok)
    labels = [(flow.key, flow.label[1]) for flow in view.flows if flow.label]
    for i, (key, box) in enumerate(labels):
        if not (area[0] < box[0] and box[2] < area[1]):
            problems.append(f"label of {key} outside the Pelaksana columns")
        if any(hits(p, q, box) for p, q in lines):
            problems.append(f"label of {key} crosses a line")
        for other_key, other in labels[i + 1:]:
            if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]:
                problems.append(f"labels of {key} and {other_key} overlap")
    # Decisions: a Ya and a Tidak label on each answer drawn on this page.
    for flow in view.flows:
        if flow.key[1] in ("ya", "tidak") and flow.part != "in" and not flow.label:
            problems.append(f"flow {flow.key} has no label")
    return problems


def check_drawing(sheet: Sheet, pages: list[str], *, paged: bool, shared_ok: bool = False) -> list[PageView]:
    """Every page clean, every step drawn once in its column, every flow once (in two halves with a
    pair of connectors across a page break), connectors lettered in reading order."""
    views = [PageView.read(page) for page in pages]
    problems = []
    drawn, flows, parts, labels = Counter(), Counter(), Counter(), Counter()
    order, numbers = [], []
    for number, view in enumerate(views, start=1):
        problems += [f"page {number}: {problem}" for problem in check_page(view, sheet, shared_ok=shared_ok)]
        drawn.update(symbol.attrs["data-kind"] for symbol in view.symbols)
        for flow in view.flows:
            (parts if flow.part else flows)[flow.key] += 1
            if flow.shared and not shared_ok:
                problems.append(f"page {number}: flow {flow.key} shares a slot with another")
        for connector in sorted(view.connectors, key=lambda c: (c.box[1], c.box[0])):
            on_page = connector.attrs.get("data-page") == "1"
            labels[("page", number) if on_page else "sheet", connector.attrs["data-label"]] += 1
            (numbers if on_page else order).append(connector.attrs["data-label"])
    assert not problems, "\n".join(problems[:40])
    assert drawn == Counter(node.kind for node in sheet.nodes), "each step is drawn once, with its own symbol"
    expected = expected_edges(sheet)
    if not paged:
        assert not order, "no off-page connector on a drawing of one page"
    for key, count in expected.items():
        assert flows[key] + parts[key] // 2 == count and parts[key] % 2 == 0, key
    assert set(flows) | set(parts) == set(expected), "one arrow per flow (or two halves and a pair of connectors)"
    assert all(count == 2 for count in labels.values()), "each off-page connector has its twin"
    assert len(labels) * 2 == sum(parts.values())
    first_seen = list(dict.fromkeys(order))
    assert first_seen == letters(len(first_seen)), f"connectors lettered out of reading order: {first_seen}"
    first_seen = list(dict.fromkeys(numbers))
    assert first_seen == [str(n) for n in range(1, len(first_seen) + 1)], f"on-page connectors out of order: {first_seen}"
    return views


def letters(count: int) -> list[str]:
    result = []
    number = 0
    while len(result) < count:
        result += [f"{chr(65 + i)}{number or ''}" for i in range(26)]
        number += 1
    return result[:count]


# ---------------------------------------------------------------------------------------------
# The PDF page's text
# ---------------------------------------------------------------------------------------------

CELL = re.compile(r'<div class="(c\d+)"( data-c="(\w+)")?>(.*?)</div>', re.S)


def cells_of(pages: list[str]) -> dict[int, dict[str, list[str]]]:
    """Each step's cell lines across the pages, part after part (continued parts marked in kegiatan)."""
    result: dict[int, dict[str, list[str]]] = {}
    for page in pages:
        for row in re.finditer(r'<div class="row"([^>]*)>(.*?)(?=<div class="row"|</div>$)', page, re.S):
            step = re.search(r'data-step="(\d+)"', row.group(1))
            if not step:
                continue
            cells = result.setdefault(int(step.group(1)), {})
            for cell in CELL.finditer(row.group(2)):
                cells.setdefault(cell.group(3), []).extend(html.unescape(cell.group(4)).split("\n"))
    return result


def styles_of(pages: list[str]) -> dict[str, str]:
    """Every cell class a document's pages define, with its rule; a class defined twice is an error."""
    rules: dict[str, str] = {}
    for page in pages:
        for name, rule in re.findall(r"\.sop-flow-page \.(c\d+)\{([^}]*)\}", page):
            assert name not in rules or rules[name] == rule, f"class {name} means two things: {rules[name]} / {rule}"
            rules[name] = rule
    return rules


# ---------------------------------------------------------------------------------------------
# Generated sheets
# ---------------------------------------------------------------------------------------------

WORDS = ("data", "laporan", "menyusun", "memeriksa", "Kepala", "Bidang", "berkas", "Kelurahan/Desa", "surat",
         "disposisi", "verifikasi", "koordinasi")
ROLE_WORDS = ("Kepala", "Seksi", "Bidang", "Pengembangan", "Kapasitas", "Kelembagaan", "Masyarakat",
              "Kampung/Kelurahan", "Sekretaris", "Pemberdayaan", "Operasional")


def generated(steps: int, columns: int, seed: int, *, decisions: float = 0.3, long_roles: bool = False,
              long_cells: int = 0, first_decision: bool = False, last_decision: bool = False,
              far: float = 0.3, reach: int | None = None) -> Sheet:
    """A random sheet: decisions jumping back and forth up to ``reach`` steps (any distance if None),
    random text; ``long_cells`` steps on average with a 4,000-character keterangan."""
    rnd = random.Random(seed)
    nodes = []
    for nomor in range(1, steps + 1):
        kind = MULAI if nomor == 1 else SELESAI if nomor == steps else PROSES
        ya = tidak = None
        decide = (1 < nomor < steps and rnd.random() < decisions) or (nomor == 1 and first_decision and steps > 1) \
            or (nomor == steps and last_decision and steps > 1)
        if decide:
            kind = KEPUTUSAN
            low, high = (1, steps) if reach is None else (max(1, nomor - reach), min(steps, nomor + reach))
            if nomor == steps:
                ya, tidak = None, rnd.randint(low, nomor - 1)
            else:
                ya = nomor + 1 if rnd.random() > far else rnd.randint(nomor + 1, high)
                choices = [None, rnd.randint(nomor + 1, high)]
                if nomor > 1:
                    choices.append(rnd.randint(low, nomor - 1))
                tidak = rnd.choice(choices)
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 40)))
        keterangan = words[: rnd.randint(0, 200)]
        if long_cells and rnd.random() < long_cells / steps:
            keterangan = " ".join(rnd.choice(WORDS) for _ in range(500))[:4000]
        nodes.append(Node(nomor=nomor, kind=kind, column=rnd.randrange(columns), kegiatan=f"Kegiatan {nomor} {words}",
                          kelengkapan=tuple(f"Dokumen {i}" for i in range(rnd.randint(0, 4))), waktu="15 menit",
                          output="Output", keterangan=keterangan, ya=ya, tidak=tidak))
    if long_roles:
        roles = tuple(" ".join(rnd.choice(ROLE_WORDS) for _ in range(rnd.randint(1, 7))) for _ in range(columns))
    else:
        roles = tuple(f"Pejabat Nomor {i + 1}" for i in range(columns))
    return Sheet(columns=roles, nodes=tuple(nodes), total="25 menit")
