"""How import results are told to people: each step named by its ``nomor`` beside its key path.

The library reports a problem at a key path, as the file format's contract says
(``langkah[2].pelaksana``: the third item of the list). People know their steps by the number the
sheet prints, which need not be the index plus one, so the admin's "Impor SOP" page and the
``import_sops`` command add it: ``langkah[2].pelaksana (langkah 3): …``. The numbers are read from
the file's values, read by the format's own reader (its limits on size, depth and count hold, so
a hostile file costs no more here than on import), only along the path ``langkah[i].nomor``; a
file that does not parse gives no numbers.
"""

from __future__ import annotations

import dataclasses
import re

from django.utils.translation import gettext as _

from procedures import sopfile
from procedures.library import ImportResult
from procedures.sopfile import Problem

_STEP = re.compile(r"^langkah\[(\d+)\]")


def step_numbers(data: bytes) -> dict[int, str]:
    """The printed ``nomor`` of each item of ``langkah`` that has one, by list index."""
    try:
        values = sopfile.parse(data)
    except sopfile.SopFileError:
        return {}
    steps = values.get("langkah") if isinstance(values, dict) else None
    if not isinstance(steps, list):
        return {}
    numbers = {}
    for index, step in enumerate(steps):
        nomor = step.get("nomor") if isinstance(step, dict) else None
        if isinstance(nomor, (int, str)) and not isinstance(nomor, bool) and str(nomor).strip().isdigit():
            numbers[index] = str(int(str(nomor).strip()))
    return numbers


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
