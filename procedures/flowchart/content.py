"""What a sheet shows: its role columns, its steps and the flows between them."""

from __future__ import annotations

import functools
from dataclasses import dataclass

MULAI, PROSES, KEPUTUSAN, SELESAI = "mulai", "proses", "keputusan", "selesai"


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
    label: str = ""  # printed in the No column instead of the number (A, B, C)
    # An activity of its own (kegiatan_terpisah): its own start (the capsule) and end (a small
    # Selesai below it), no flow to or from another step.
    independent: bool = False


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
    # Printed beside the total, in its row's Keterangan: why the total is there (computed) or not.
    total_note: str = ""

    @functools.cached_property
    def edges(self) -> tuple[Edge, ...]:
        return flow_edges(self.nodes)


def flow_edges(nodes: tuple[Node, ...] | list[Node]) -> tuple[Edge, ...]:
    """The flows of a sheet, as the engine follows them (see engine._next_step and task_decide)."""
    edges = []
    last = nodes[-1].nomor if nodes else 0
    for node in nodes:
        if node.independent:
            edges.append(Edge(node.nomor, None, "next"))
        elif node.kind == KEPUTUSAN:
            edges.append(Edge(node.nomor, node.ya, "ya"))
            edges.append(Edge(node.nomor, node.tidak, "tidak"))
        elif node.kind != SELESAI and node.nomor != last:
            edges.append(Edge(node.nomor, node.nomor + 1, "next"))
    return tuple(edges)


def sheet_of(revision) -> Sheet:
    """A revision's sheet content (three queries)."""
    from procedures.selectors import sop_sheet

    columns, steps = sop_sheet(revision)
    return sheet_from(columns, steps, total=revision.printed_total, total_note=total_note(revision),
                      independent=revision.kegiatan_terpisah)


def total_note(revision) -> str:
    """What the Jumlah Waktu row says of its figure when the sheet itself prints none."""
    from django.utils.translation import gettext as _

    if revision.jumlah_waktu:
        return ""
    if revision.kegiatan_terpisah:
        return _("none: each activity has its own time")
    return _("computed by sopflow from the steps' times; the sheet itself prints no total")


def sheet_from(columns, steps, *, total: str, total_note: str = "", independent: bool = False) -> Sheet:
    """A sheet from role columns and steps already loaded (with ya/tidak steps and kelengkapan);
    ``independent``: each step is an activity of its own (the revision's kegiatan_terpisah)."""
    index = {column.pk: i for i, column in enumerate(columns)}
    nodes = tuple(
        Node(
            nomor=step.nomor,
            kind=MULAI if independent else step.simbol,
            column=index[step.column_id],
            kegiatan=step.kegiatan,
            kelengkapan=tuple(item.text for item in step.kelengkapan.all()),
            waktu=step.waktu,
            output=step.output,
            keterangan=step.keterangan,
            ya=step.ya_step.nomor if step.ya_step_id else None,
            tidak=step.tidak_step.nomor if step.tidak_step_id else None,
            label=step.label,
            independent=independent,
        )
        for step in steps
    )
    return Sheet(columns=tuple(column.label for column in columns), nodes=nodes, total=total or "-",
                 total_note=total_note)
