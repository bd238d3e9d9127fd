"""How import results are told to people: each step named by its ``nomor`` beside its key path.

The library reports a problem at a key path, as the file format's contract says
(``langkah[2].pelaksana``: the third item of the list). People know their steps by the number the
sheet prints, which need not be the index plus one, so the admin's "Impor SOP" page and the
``import_sops`` command add it: ``langkah[2].pelaksana (langkah 3): …``. The numbers are read from
the file's YAML node tree (composed, never constructed: aliases are not expanded, no value is
built), only along the path ``langkah[i].nomor``; a file that does not parse gives no numbers.
"""

from __future__ import annotations

import dataclasses
import re

import yaml
from django.conf import settings
from django.utils.translation import gettext as _

from procedures.library import ImportResult
from procedures.sopfile import Problem

_STEP = re.compile(r"^langkah\[(\d+)\]")


def step_numbers(data: bytes) -> dict[int, str]:
    """The printed ``nomor`` of each item of ``langkah`` that has one, by list index."""
    if not data or len(data) > settings.SOP_FILE_MAX_BYTES:
        return {}
    try:
        root = yaml.compose(data.decode("utf-8-sig"), Loader=yaml.SafeLoader)
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return {}
    steps = _value(root, "langkah")
    if not isinstance(steps, yaml.SequenceNode):
        return {}
    numbers = {}
    for index, step in enumerate(steps.value):
        nomor = _value(step, "nomor")
        if isinstance(nomor, yaml.ScalarNode) and nomor.value.strip().isdigit():
            numbers[index] = str(int(nomor.value.strip()))
    return numbers


def _value(node, key: str):
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None


def step_named(problem: Problem, numbers: dict[int, str]) -> Problem:
    """The problem with its step's number beside the key path, when the path is in a step that has one."""
    match = _STEP.match(problem.path)
    if not match or int(match.group(1)) not in numbers:
        return problem
    name = _("step %(nomor)s") % {"nomor": numbers[int(match.group(1))]}
    return dataclasses.replace(problem, path=f"{problem.path} ({name})")


def with_step_names(result: ImportResult, data: bytes | None) -> ImportResult:
    """The result with every problem's step named (see ``step_named``); unchanged when nothing to add."""
    if not data or not any(_STEP.match(problem.path) for problem in result.problems):
        return result
    numbers = step_numbers(data)
    return dataclasses.replace(result, problems=[step_named(problem, numbers) for problem in result.problems])


def imported_sops(results: list[ImportResult]) -> list[int]:
    """The SOPs the results imported (created, revised or unchanged), by id, in the results' order."""
    from procedures.models import Sop

    wanted = [(result.instansi.casefold(), result.kode) for result in results
              if not result.refused and result.revision is not None]
    if not wanted:
        return []
    found = {(instansi.casefold(), kode): pk for pk, instansi, kode in
             Sop.objects.filter(kode__in={kode for _instansi, kode in wanted}).values_list("pk", "office__name", "kode")}
    return list(dict.fromkeys(found[key] for key in wanted if key in found))


def readiness_lines(results: list[ImportResult]) -> list[str]:
    """What the imported SOPs still lack before they can run, one line each (the ``import_sops`` command)."""
    from procedures.readiness import sop_readiness

    lines = []
    for readiness in sop_readiness(imported_sops(results)):
        kode = readiness.sop.kode
        if readiness.ready:
            lines.append(_("%(kode)s: ready (every position has a holder or a Plt/Plh)") % {"kode": kode})
            continue
        missing = ", ".join(row.position.name + (_(" (new)") if row.new else "") for row in readiness.missing)
        lines.append(_("%(kode)s: not ready, nobody holds %(positions)s; give them holders in Admin › Positions"
                       ) % {"kode": kode, "positions": missing})
    return lines
