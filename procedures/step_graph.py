"""The step graph of an SOP revision, read once per process and kept.

Revisions are never changed after import (a new import with other content is a new revision,
a new row; see procedures.library), so what a revision's steps say — their order, actors,
waktu, kelengkapan items and Ya/Tidak targets — can be kept in memory and shared by every
request of a process. The engine asks this module for the step after a completed one and for a
step's kelengkapan items instead of reading them for every task. Several app servers each keep
their own copy; the data is the same everywhere.

A graph is keyed by the revision's id *and* its ``imported_at``: an id that comes back after a
rolled-back import (SQLite hands out a rolled-back id again) is a different row with another
time stamp, and is read afresh. The cache holds plain tuples, never model instances: each call
builds fresh ``Step`` objects, so no request can change what another one sees.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.db import DEFAULT_DB_ALIAS

from procedures.models import KelengkapanItem, SopColumn, Step

# Enough for every SOP of a province-wide install; a graph is a few kilobytes.
MAX_GRAPHS = 512

_STEP_FIELDS = tuple(field.attname for field in Step._meta.concrete_fields)
_ITEM_FIELDS = tuple(field.attname for field in KelengkapanItem._meta.concrete_fields)
_KELENGKAPAN_CACHE = Step.kelengkapan.rel.cache_name


@dataclass(frozen=True)
class StepGraph:
    """The steps of one revision as rows: what the engine needs to move a run on."""

    revision_id: int
    stamp: dt.datetime | None
    # step id -> the step's column values, in the order of ``_STEP_FIELDS``
    rows: Mapping[int, tuple]
    # step id -> the position of the step's role column
    positions: Mapping[int, int]
    # step id -> its kelengkapan items' column values, in sheet order
    items: Mapping[int, tuple[tuple, ...]]
    # step ids by number
    order: tuple[int, ...]
    # step id -> the label of its role column as the sheet writes it (where a decision's answer
    # leads: "langkah 8, Kasat Pol PP", procedures.decisions)
    labels: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))

    def step(self, step_id: int) -> Step:
        """A fresh ``Step`` with its kelengkapan items and Ya/Tidak targets loaded (no query)."""
        step = self._bare(step_id)
        for name in ("ya_step", "tidak_step"):
            target_id = getattr(step, f"{name}_id")
            setattr(step, name, self._bare(target_id) if target_id is not None else None)
        return step

    def first(self) -> Step | None:
        return self.step(self.order[0]) if self.order else None

    def after(self, step: Step) -> Step | None:
        """The step after a process step: the next by number, or none after an end symbol."""
        if step.simbol == Step.Symbol.END:
            return None
        index = self.order.index(step.pk) + 1
        return self.step(self.order[index]) if index < len(self.order) else None

    def target(self, step: Step, decision: str) -> Step | None:
        """Where a decision answered ``ya`` or ``tidak`` goes (None: the run ends)."""
        target_id = step.ya_step_id if decision == "ya" else step.tidak_step_id
        return self.step(target_id) if target_id is not None else None

    def position_id(self, step: Step) -> int:
        return self.positions[step.pk]

    def item_ids(self, step_id: int) -> frozenset[int]:
        return frozenset(row[0] for row in self.items.get(step_id, ()))

    def _bare(self, step_id: int) -> Step:
        step = Step.from_db(DEFAULT_DB_ALIAS, _STEP_FIELDS, self.rows[step_id])
        items = [KelengkapanItem.from_db(DEFAULT_DB_ALIAS, _ITEM_FIELDS, row) for row in self.items.get(step_id, ())]
        for item in items:
            item.step = step
        # What prefetch_related("kelengkapan") would leave: step.kelengkapan.all() needs no query.
        queryset = step.kelengkapan.get_queryset()
        queryset._result_cache, queryset._prefetch_done = items, True
        step._prefetched_objects_cache = {_KELENGKAPAN_CACHE: queryset}
        if step_id in self.labels:
            # The role column as far as the graph knows it: its label and position (no query).
            step.column = SopColumn(pk=step.column_id, revision_id=self.revision_id, label=self.labels[step_id],
                                    position_id=self.positions[step_id])
        return step


_graphs: OrderedDict[int, StepGraph] = OrderedDict()
_lock = threading.Lock()


def graph_for(revision_id: int, stamp: dt.datetime | None) -> StepGraph:
    """The step graph of a revision: from memory, or read in 2 queries and kept."""
    with _lock:
        graph = _graphs.get(revision_id)
        if graph is not None and graph.stamp == stamp:
            _graphs.move_to_end(revision_id)
            return graph
    graph = _read(revision_id, stamp)
    with _lock:
        _graphs[revision_id] = graph
        _graphs.move_to_end(revision_id)
        while len(_graphs) > MAX_GRAPHS:
            _graphs.popitem(last=False)
    return graph


def clear() -> None:
    """Forget every graph (tests that count queries of a first read)."""
    with _lock:
        _graphs.clear()


def _read(revision_id: int, stamp: dt.datetime | None) -> StepGraph:
    rows, positions, labels, order = {}, {}, {}, []
    steps = Step.objects.filter(revision_id=revision_id).order_by("nomor").values_list(
        *_STEP_FIELDS, "column__position_id", "column__label")
    for *values, position_id, label in steps:
        rows[values[0]] = tuple(values)
        positions[values[0]] = position_id
        labels[values[0]] = label
        order.append(values[0])
    items: dict[int, list[tuple]] = {}
    for values in (
        KelengkapanItem.objects.filter(step__revision_id=revision_id).order_by("step_id", "order")
        .values_list(*_ITEM_FIELDS)
    ):
        items.setdefault(values[_ITEM_FIELDS.index("step_id")], []).append(tuple(values))
    return StepGraph(
        revision_id=revision_id, stamp=stamp, rows=MappingProxyType(rows), positions=MappingProxyType(positions),
        items=MappingProxyType({step_id: tuple(values) for step_id, values in items.items()}), order=tuple(order),
        labels=MappingProxyType(labels),
    )
