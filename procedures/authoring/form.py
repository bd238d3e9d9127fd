"""The editor's form: an SOP file's values as the fields of one page, and back.

The page posts plain fields (no JavaScript builds them): the identity block by key, the role
columns and the steps each under a *row key* that stays with the row while it moves
(``c-<key>-nama``, ``s-<key>-kegiatan``). A step names its actor by the column's key and its Ya/
Tidak targets by the target step's key, so renaming or reordering columns and inserting, deleting
or moving steps keeps every reference pointing at the same column and the same step; the step
numbers (``nomor``) are given from the order when the form becomes file values again.

:func:`state_from_data` reads a draft's values into an :class:`EditorState`, :func:`state_from_post`
reads a posted form, :func:`apply_op` does a button's change (add, insert, delete, move),
:func:`data_from_state` gives the file values, and :func:`errors_by_field` places the format's
problems (key paths such as ``langkah[3].waktu``) at the fields they concern.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from procedures.sopfile import CONTROL_CHARACTERS, DATE_KEYS, END, LIST_SECTIONS, SIGNER_KEYS, SYMBOLS, Problem

TEXT_KEYS = ("kode", "nama", "nomor", "revisi", "jumlah_waktu", "zona_waktu")
# Lists typed one item per line.
LINE_KEYS = ("kop", "catatan_transkripsi", *LIST_SECTIONS)
FLAG_KEYS = ("ditandatangani_elektronik", "kegiatan_terpisah")
STEP_TEXTS = ("kegiatan", "waktu", "output", "keterangan", "catatan_transkripsi", "label", "pertanyaan",
              "label_ya", "label_tidak")
STEP_FIELDS = (*STEP_TEXTS, "pelaksana", "simbol", "kelengkapan", "ya", "tidak")
ZONES = ("", "WIB", "WITA", "WIT")
MAX_ROWS = 200  # the format's MAX_STEPS; more posted rows are cut off
MAX_COLUMNS = 63
KEY = re.compile(r"^[a-z0-9]{1,12}$")


def _new_key() -> str:
    return "n" + secrets.token_hex(4)


@dataclass
class ColumnRow:
    key: str
    nama: str = ""


@dataclass
class StepRow:
    key: str
    values: dict[str, str] = field(default_factory=dict)  # STEP_TEXTS
    pelaksana: str = ""  # a column's key
    simbol: str = ""  # "" = the format's default
    kelengkapan: str = ""  # one item per line
    ya: str = ""  # a step's key, END, or "" (the next step)
    tidak: str = ""
    unknown_actor: str = ""  # an actor of the values that is no column (e.g. from Word)


@dataclass
class EditorState:
    identity: dict[str, str] = field(default_factory=dict)  # TEXT_KEYS and DATE_KEYS
    lines: dict[str, str] = field(default_factory=dict)  # LINE_KEYS
    signer: dict[str, str] = field(default_factory=dict)  # SIGNER_KEYS
    flags: dict[str, bool] = field(default_factory=dict)  # FLAG_KEYS
    columns: list[ColumnRow] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    notice: str = ""  # what an operation could not do

    def number_of(self, key: str) -> int | None:
        for index, step in enumerate(self.steps, start=1):
            if step.key == key:
                return index
        return None

    def column_names(self) -> list[tuple[str, str]]:
        return [(column.key, column.nama) for column in self.columns]

    def used_columns(self) -> set[str]:
        return {step.pelaksana for step in self.steps}


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value)


def _lines(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(_text(item) for item in value)
    return _text(value)


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def state_from_data(data: dict[str, Any]) -> EditorState:
    """A draft's values (a dict with an SOP file's keys, maybe incomplete) as the editor's fields."""
    data = data if isinstance(data, dict) else {}
    state = EditorState()
    state.identity = {key: _text(data.get(key)) for key in (*TEXT_KEYS, *DATE_KEYS)}
    state.lines = {key: _lines(data.get(key)) for key in LINE_KEYS}
    signer = data.get("disahkan_oleh") if isinstance(data.get("disahkan_oleh"), dict) else {}
    state.signer = {key: _text(signer.get(key)) for key in SIGNER_KEYS}
    state.flags = {key: data.get(key) is True for key in FLAG_KEYS}
    columns = data.get("pelaksana") if isinstance(data.get("pelaksana"), list) else []
    state.columns = [ColumnRow(f"c{index}", _text(name)) for index, name in enumerate(columns[:MAX_COLUMNS], start=1)]
    by_name = {}
    for column in state.columns:
        by_name.setdefault(_norm(column.nama), column.key)
    steps = data.get("langkah") if isinstance(data.get("langkah"), list) else []
    steps = [step if isinstance(step, dict) else {} for step in steps[:MAX_ROWS]]
    # Targets name step numbers; a step's number is its nomor if given, else its place.
    keys_by_nomor = {}
    for index, step in enumerate(steps, start=1):
        nomor = step.get("nomor") if isinstance(step.get("nomor"), int) else index
        keys_by_nomor.setdefault(nomor, f"s{index}")

    def target(value: Any) -> str:
        if value == END:
            return END
        return keys_by_nomor.get(value, "") if isinstance(value, int) else ""

    for index, step in enumerate(steps, start=1):
        actor = _text(step.get("pelaksana"))
        row = StepRow(
            key=f"s{index}",
            values={key: _text(step.get(key)) for key in STEP_TEXTS},
            pelaksana=by_name.get(_norm(actor), ""),
            simbol=_text(step.get("simbol")) if step.get("simbol") in SYMBOLS else "",
            kelengkapan=_lines(step.get("kelengkapan")),
            ya=target(step.get("ya")),
            tidak=target(step.get("tidak")),
        )
        if actor and not row.pelaksana:
            row.unknown_actor = actor
        state.steps.append(row)
    return state


class _Clean:
    """A posted form's values without the control characters no sheet holds (a NUL, which
    PostgreSQL's JSON refuses, becomes U+FFFD, visible to the author); line ends as newlines."""

    def __init__(self, post: QueryDict):
        self.post = post

    def get(self, key: str, default: str = "") -> str:
        # Browsers send a textarea's line ends as CR LF; a line end is a newline here.
        value = self.post.get(key, default).replace("\r\n", "\n").replace("\r", "\n")
        return CONTROL_CHARACTERS.sub("\N{REPLACEMENT CHARACTER}", value)

    def getlist(self, key: str) -> list[str]:
        return self.post.getlist(key)


def state_from_post(post: QueryDict) -> EditorState:
    """The editor's fields as posted (any input: what is not a field is ignored)."""
    post = _Clean(post)
    state = EditorState()
    state.identity = {key: post.get(key, "") for key in (*TEXT_KEYS, *DATE_KEYS)}
    state.lines = {key: post.get(key, "") for key in LINE_KEYS}
    state.signer = {key: post.get(f"disahkan_oleh-{key}", "") for key in SIGNER_KEYS}
    state.flags = {key: post.get(key) == "on" for key in FLAG_KEYS}
    seen: set[str] = set()
    for key in post.getlist("kolom")[:MAX_COLUMNS]:
        if KEY.match(key) and key not in seen:
            seen.add(key)
            state.columns.append(ColumnRow(key, post.get(f"c-{key}-nama", "")))
    columns = {column.key for column in state.columns}
    for key in post.getlist("langkah")[:MAX_ROWS]:
        if not KEY.match(key) or key in seen:
            continue
        seen.add(key)
        state.steps.append(StepRow(
            key=key,
            values={name: post.get(f"s-{key}-{name}", "") for name in STEP_TEXTS},
            pelaksana=post.get(f"s-{key}-pelaksana", "") if post.get(f"s-{key}-pelaksana", "") in columns else "",
            simbol=post.get(f"s-{key}-simbol", "") if post.get(f"s-{key}-simbol", "") in SYMBOLS else "",
            kelengkapan=post.get(f"s-{key}-kelengkapan", ""),
            ya=post.get(f"s-{key}-ya", ""),
            tidak=post.get(f"s-{key}-tidak", ""),
        ))
    steps = {step.key for step in state.steps}
    for step in state.steps:  # a target that is no longer a step is no target
        step.ya = step.ya if step.ya in steps or step.ya == END else ""
        step.tidak = step.tidak if step.tidak in steps or step.tidak == END else ""
    return state


# ---------------------------------------------------------------------------------------------
# The buttons
# ---------------------------------------------------------------------------------------------


def _move(rows: list, key: str, offset: int) -> None:
    index = next((i for i, row in enumerate(rows) if row.key == key), None)
    if index is None or not 0 <= index + offset < len(rows):
        return
    rows[index], rows[index + offset] = rows[index + offset], rows[index]


def apply_op(state: EditorState, op: str) -> str | None:
    """Do what a button of the editor asks; returns the row key to scroll to (or None).

    ``col-add``, ``col-up:<key>``, ``col-down:<key>``, ``col-remove:<key>`` (only a column no step
    uses), ``step-add``, ``step-insert:<key>`` (a step before that one), ``step-delete:<key>``,
    ``step-up:<key>``, ``step-down:<key>``, ``step-moved:<key>`` (a step dragged to its place on a
    wide screen: the posted order of the ``langkah`` inputs already holds the move, as it holds
    every order; only the page scrolls back to it). Anything else does nothing.
    """
    name, _sep, key = op.partition(":")
    if name == "col-add" and len(state.columns) < MAX_COLUMNS:
        column = ColumnRow(_new_key())
        state.columns.append(column)
        return f"c-{column.key}"
    if name in ("col-up", "col-down"):
        _move(state.columns, key, -1 if name == "col-up" else 1)
        return f"c-{key}"
    if name == "col-remove":
        if key in state.used_columns():
            column = next((c for c in state.columns if c.key == key), None)
            state.notice = _("The role column “%(name)s” is still the actor of a step: give those steps another "
                             "actor first.") % {"name": column.nama if column else key}
            return f"c-{key}"
        state.columns = [column for column in state.columns if column.key != key]
        return "kolom"
    if name in ("step-add", "step-insert") and len(state.steps) < MAX_ROWS:
        row = StepRow(_new_key(), values={key_: "" for key_ in STEP_TEXTS})
        index = next((i for i, step in enumerate(state.steps) if step.key == key), len(state.steps))
        state.steps.insert(index if name == "step-insert" else len(state.steps), row)
        return f"s-{row.key}"
    if name == "step-delete":
        state.steps = [step for step in state.steps if step.key != key]
        for step in state.steps:  # a Ya/Tidak to the deleted step must be chosen again
            step.ya = "" if step.ya == key else step.ya
            step.tidak = "" if step.tidak == key else step.tidak
        return "langkah"
    if name in ("step-up", "step-down"):
        _move(state.steps, key, -1 if name == "step-up" else 1)
        return f"s-{key}"
    if name == "step-moved" and any(step.key == key for step in state.steps):
        return f"s-{key}"
    return None


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def data_from_state(state: EditorState, *, instansi: str) -> dict[str, Any]:
    """The SOP file's values, as a YAML reader would give them from the file typed in the form.

    Empty fields are left out (the format reads an empty key as an absent one); what is wrong
    stays as typed, for the format's validation to name.
    """
    data: dict[str, Any] = {}
    for key in ("kode", "nama"):
        data[key] = state.identity.get(key, "").strip()
    data["instansi"] = instansi
    for key in ("nomor", "jumlah_waktu", "zona_waktu", *DATE_KEYS):
        value = state.identity.get(key, "").strip()
        if value:
            data[key] = value
    revisi = state.identity.get("revisi", "").strip()
    if revisi:
        data["revisi"] = int(revisi) if revisi.isascii() and revisi.isdigit() and len(revisi) < 10 else revisi
    for key in LINE_KEYS:
        items = _split(state.lines.get(key, ""))
        if items:
            data[key] = items
    signer = {key: state.signer.get(key, "").strip() for key in SIGNER_KEYS}
    if any(signer.values()):
        data["disahkan_oleh"] = {key: value for key, value in signer.items() if value}
    for key in FLAG_KEYS:
        if state.flags.get(key):
            data[key] = True
    names = {column.key: column.nama.strip() for column in state.columns}
    data["pelaksana"] = [column.nama.strip() for column in state.columns]
    numbers = {step.key: index for index, step in enumerate(state.steps, start=1)}

    def target(key: str) -> int | str | None:
        return END if key == END else numbers.get(key)

    steps = []
    for index, row in enumerate(state.steps, start=1):
        step: dict[str, Any] = {"nomor": index, "kegiatan": row.values.get("kegiatan", "").strip(),
                                "pelaksana": names.get(row.pelaksana, "") or row.unknown_actor}
        if row.simbol:
            step["simbol"] = row.simbol
        items = _split(row.kelengkapan)
        if items:
            step["kelengkapan"] = items
        step["waktu"] = row.values.get("waktu", "").strip()
        for key in ("output", "keterangan", "catatan_transkripsi", "label"):
            value = row.values.get(key, "").strip()
            if value:
                step[key] = value
        if row.simbol == "keputusan" or (not row.simbol and row.tidak):
            for key, value in (("ya", target(row.ya)), ("tidak", target(row.tidak))):
                if value is not None:
                    step[key] = value
            for key in ("pertanyaan", "label_ya", "label_tidak"):
                value = row.values.get(key, "").strip()
                if value:
                    step[key] = value
        steps.append(step)
    data["langkah"] = steps
    return data


# ---------------------------------------------------------------------------------------------
# Problems at their fields
# ---------------------------------------------------------------------------------------------

GENERAL = "umum"
_PART = re.compile(r"\[(\d+)\]|\.?([a-z_]+)")


def field_ids(state: EditorState) -> list[str]:
    """Every place of the page where a message can stand (the ids of its message boxes)."""
    ids = [GENERAL, "pelaksana", "langkah", *TEXT_KEYS, *DATE_KEYS, *LINE_KEYS, *FLAG_KEYS, "instansi"]
    ids += [f"disahkan_oleh-{key}" for key in SIGNER_KEYS]
    ids += [f"c-{column.key}" for column in state.columns]
    for step in state.steps:
        ids += [f"s-{step.key}"] + [f"s-{step.key}-{name}" for name in STEP_FIELDS]
    return ids


def field_of(path: str, state: EditorState) -> str:
    """The message box of a key path: ``langkah[3].waktu`` → the waktu of the fourth step's row."""
    parts = [int(index) if index else name for index, name in _PART.findall(path or "")]
    if not parts:
        return GENERAL
    head = parts[0]
    if head == "langkah":
        if len(parts) > 1 and isinstance(parts[1], int) and parts[1] < len(state.steps):
            row = f"s-{state.steps[parts[1]].key}"
            name = parts[2] if len(parts) > 2 else None
            return f"{row}-{name}" if name in STEP_FIELDS else row
        return "langkah"
    if head == "pelaksana":
        if len(parts) > 1 and isinstance(parts[1], int) and parts[1] < len(state.columns):
            return f"c-{state.columns[parts[1]].key}"
        return "pelaksana"
    if head == "disahkan_oleh":
        return f"disahkan_oleh-{parts[1]}" if len(parts) > 1 and parts[1] in SIGNER_KEYS else "disahkan_oleh-jabatan"
    if head in (*TEXT_KEYS, *DATE_KEYS, *LINE_KEYS, *FLAG_KEYS, "instansi"):
        return head
    return GENERAL


def errors_by_field(problems: list[Problem], state: EditorState) -> dict[str, list[str]]:
    """The format's messages, word for word, by the message box of the field they concern."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(field_of(problem.path, state), []).append(problem.message)
    return found


def flags_by_field(flags: list[dict[str, str]], state: EditorState) -> dict[str, list[str]]:
    """The Word import's flags by the message box of their field."""
    found: dict[str, list[str]] = {}
    for flag in flags if isinstance(flags, list) else []:
        if isinstance(flag, dict):
            found.setdefault(field_of(str(flag.get("path", "")), state), []).append(str(flag.get("message", "")))
    return found


def step_choices(state: EditorState) -> list[tuple[str, str]]:
    """The steps a Ya/Tidak may go to, by number and the start of their activity."""
    choices = []
    for number, step in zip(itertools.count(1), state.steps):
        kegiatan = step.values.get("kegiatan", "").strip()
        short = kegiatan if len(kegiatan) <= 40 else kegiatan[:39] + "…"
        choices.append((step.key, f"{number}. {short}" if short else str(number)))
    return choices
