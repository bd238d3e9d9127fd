"""Property-based tests of the SOP reader: any file is refused with a key path, or it runs.

Every generated file — arbitrary bytes, YAML-like text, valid files with lines spliced, and
documents built around valid ones with any value put under any key — is either refused with a
``SopFileError`` whose problems say where (never another exception), or it imports, starts a
run that goes to its end, and renders its run page and its PDF sheet. The admin's import page
takes any uploads and answers with one result per file.

The normal suite runs a fixed, derandomized budget of 300 examples (Hypothesis's database off,
so every run tries the same files, in some 15 s of CPU); ``make fuzz`` runs the same properties
with twenty times the examples (``SOPFLOW_FUZZ=20``, any factor works), drawn afresh each time and
shrunk to a small failing file when one fails.
"""

from __future__ import annotations

import os
import string

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http.multipartparser import MultiPartParser
from django.urls import reverse
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from procedures import engine, pdf, sopfile
from procedures.durations import MAX_PER_UNIT, UNIT_WORDS
from procedures.library import sop_import
from procedures.models import Run, Sop, SopRevision, Task
from procedures.sopfile import SopFileError, load
from tests.sop_samples import sample

# ``make fuzz`` sets SOPFLOW_FUZZ to how many times the suite's examples to try (20 by default).
FUZZ = int(os.environ.get("SOPFLOW_FUZZ") or 0)
settings.register_profile(
    "sopflow",
    # The same examples on every run and machine; nothing remembered between runs.
    derandomize=not FUZZ,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
BASE = settings.get_profile("sopflow")


def budget(examples: int, *, database: bool = False) -> settings:
    """The settings of a property: ``examples`` in the suite, ``SOPFLOW_FUZZ`` times as many in ``make fuzz``.

    A property that writes to the database costs a tenth of a second per example: in the suite
    it reports a failing file as found instead of spending minutes shrinking it.
    """
    phases = [phase for phase in Phase if phase is not Phase.shrink or FUZZ or not database]
    return settings(BASE, max_examples=examples * FUZZ if FUZZ else examples, phases=phases)


# ---------------------------------------------------------------------------------------------
# What a generated file may hold
# ---------------------------------------------------------------------------------------------

# Texts people type, and texts that break readers: YAML 1.1 words, dates, numbers, markup,
# quotes, Unicode that changes length or case; control characters and overlong texts (refused).
CLEAN = [
    "yes", "no", "on", "off", "null", "~", "true", "2019-09-03", "2018-09", "0x1F", "1e3", "1:30", ".inf",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "{{ x }}", "{% x %}", "&amp;", "a: b", "- x",
    "[x]", "{x: y}", "# komentar", "'", '"', "\\", "a\tb", "baris\ndua", "\u2028x", "\ufeff", "Ž", "ß", "İ", "ǅ",
    "\U0001f600", "KASAT POL PP", "x" * 120,
]
BAD = ["\x00", "\x1b[31m", "\x85", "  ", "\u2028", "x" * 300, "W" * 4001]


def is_clean(text: str) -> bool:
    return bool(text.strip()) and not sopfile.CONTROL_CHARACTERS.search(text)


words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)
clean_words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                      max_size=30).filter(is_clean)
clean_texts = st.one_of(clean_words, st.sampled_from(CLEAN),
                        st.lists(st.sampled_from(CLEAN) | clean_words, min_size=1, max_size=3).map(" ".join))
texts = st.one_of(clean_texts, words, st.sampled_from(BAD))
clean_names = st.one_of(st.sampled_from(["Kepala", "Kabid", "Kasi", "Staf", "Petugas", "Kasat Pol PP", "Sekretaris"]),
                        clean_words)
UNITS = sorted(UNIT_WORDS)


@st.composite
def waktus(draw, valid: bool = True) -> str:
    unit = draw(st.sampled_from(UNITS))
    limit = MAX_PER_UNIT[UNIT_WORDS[unit]]
    high = draw(st.one_of(st.integers(1, 4), st.integers(1, limit)) if valid else
                st.one_of(st.integers(1, limit), st.integers(limit - 1, limit + 1), st.integers(1, 10 ** 12)))
    low = draw(st.integers(1, high))
    space = draw(st.sampled_from(["", " "]))
    return f"{low}-{high}{space}{unit}" if draw(st.booleans()) and low < high else f"{high}{space}{unit}"


slugs = st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
clean_dates = st.one_of(st.dates().map(lambda day: day.isoformat()),
                        st.dates().map(lambda day: f"{day.year:04d}-{day.month:02d}"))
dates = st.one_of(clean_dates, st.sampled_from(["2019-02-30", "2019-13", "0000-01-01", "03 September 2019", "2019-9-3"]))
labels = st.one_of(st.sampled_from(["A", "B", "C", "1a", "II.3"]), clean_words.filter(lambda text: len(text) <= 20))


@st.composite
def documents(draw, valid: bool = True) -> dict:
    """An SOP file as Python values: valid by construction, or (``valid=False``) often not."""
    text = clean_texts if valid else texts
    columns = draw(st.lists(clean_names if valid else st.one_of(clean_names, texts), min_size=1, max_size=5,
                            unique_by=lambda name: " ".join(name.split()).casefold()))
    count = draw(st.integers(1, 8))
    steps = []
    for nomor in range(1, count + 1):
        step = {"nomor": nomor, "kegiatan": draw(text), "pelaksana": draw(st.sampled_from(columns)),
                "waktu": draw(waktus(valid))}
        if draw(st.booleans()):
            step["kelengkapan"] = draw(st.lists(text, max_size=3))
        if draw(st.booleans()):
            step["output"] = draw(text)
        if draw(st.integers(0, 3)) == 0:
            step["keterangan"] = draw(text)
        if draw(st.integers(0, 3)) == 0:
            step["catatan_transkripsi"] = draw(text)
        if draw(st.integers(0, 3)) == 0:
            step["label"] = draw(labels if valid else st.one_of(labels, texts))
        if count > 1 and draw(st.integers(0, 3)) == 0:
            others = [n for n in range(1, count + 1) if n != nomor] + ["selesai"]
            step["tidak"] = draw(st.sampled_from(others))
            if draw(st.booleans()):
                step["ya"] = draw(st.sampled_from(others))
            if draw(st.booleans()):
                step["simbol"] = "keputusan"
            for key in ("pertanyaan", "label_ya", "label_tidak"):
                if draw(st.booleans()):
                    step[key] = draw(clean_words if valid else texts)
        elif draw(st.integers(0, 5)) == 0:
            step["simbol"] = draw(st.sampled_from(["mulai", "proses", "selesai"]))
        steps.append(step)
    document = {"kode": draw(slugs), "nama": draw(text), "instansi": draw(st.sampled_from(["Kantor Uji", "Kantor Lain"])),
                "pelaksana": columns, "langkah": steps}
    optional = {
        "nomor": st.one_of(clean_words, st.integers(0, 10 ** 200)) if valid else st.one_of(texts, st.integers(0, 10 ** 300)),
        "revisi": st.integers(0, 2 ** 31 - 1 if valid else 2 ** 32),
        "tanggal_pembuatan": clean_dates if valid else dates,
        "tanggal_revisi": clean_dates if valid else dates,
        "tanggal_efektif": clean_dates if valid else dates,
        "disahkan_oleh": st.fixed_dictionaries({}, optional={
            "jabatan": text, "nama": text, "pangkat": text,
            "nip": st.one_of(clean_words, st.integers(0, 10 ** 60)) if valid else st.one_of(texts, st.integers(0, 10 ** 80))}),
        "jumlah_waktu": waktus(valid) if valid else st.one_of(waktus(valid), texts),
        "zona_waktu": st.sampled_from(["WIB", "WITA", "WIT"] if valid else ["WIB", "WITA", "WIT", "UTC"]),
        "kop": st.lists(clean_words if valid else texts, max_size=4),
        "ditandatangani_elektronik": st.booleans(),
        "kegiatan_terpisah": st.booleans(),
        "catatan_transkripsi": st.lists(text, max_size=3),
        **{key: st.lists(text, max_size=3) for key in sopfile.LIST_SECTIONS},
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), max_size=5, unique=True)):
        document[key] = draw(optional[key])
    return document


# Any value YAML can write: what a mutation puts under a key.
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10 ** 30), 10 ** 30), st.integers(10 ** 250, 10 ** 300),
                    st.floats(), texts, st.dates(), st.binary(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(words, inner, max_size=3)), max_leaves=8)
TOP_KEYS = sorted(sopfile.schema()["properties"])
STEP_KEYS = sorted(sopfile.schema()["$defs"]["step"]["properties"])


@st.composite
def mutated(draw) -> dict:
    """A document with one key of the file or of a step changed, removed, or added."""
    document = draw(documents(valid=draw(st.booleans())))
    target = document if draw(st.booleans()) else draw(st.sampled_from(document["langkah"]))
    keys = TOP_KEYS if target is document else STEP_KEYS
    key = draw(st.one_of(st.sampled_from(keys), words))
    if key in target and draw(st.integers(0, 3)) == 0:
        del target[key]
    else:
        target[key] = draw(values)
    return document


def as_yaml(document: dict, *, flow: bool = False) -> bytes:
    text = yaml.dump(document, Dumper=sopfile._Dumper, allow_unicode=True, sort_keys=False, width=80,
                     default_flow_style=flow)
    return text.encode("utf-8", "surrogatepass")


# Text that looks like YAML: a valid file with lines spliced, and free combinations of YAML's marks.
PIECES = ["[", "]", "{", "}", ", ", "- ", ": ", "? ", "\n", "  ", "    ", '"', "'", "#", "|", ">", "&a ", "*a",
          "!!int ", "!!float ", "!!timestamp ", "!!str ", "!!python/object ", "!x ", "<<: ", "%YAML 1.1\n", "---\n",
          "...\n", "\\0", '"\\0"', '"\\x85"', '"\\ud800"', "kode", "langkah", "nomor", "no", "waktu", "1", "9" * 30,
          "15 menit", "99999 bulan", "selesai", "~", "null", "?\n", "\t", "\r\n", "\ufeff", "é", "\U0001f600"]
yaml_like = st.lists(st.sampled_from(PIECES) | st.text(string.printable, max_size=5), max_size=60).map("".join)
SAMPLE_LINES = sample().splitlines(keepends=True)


@st.composite
def spliced(draw) -> str:
    lines = list(SAMPLE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.integers(0, 3))
        if action == 0:
            del lines[index]
        elif action == 1:
            lines.insert(index, lines[draw(st.integers(0, len(lines) - 1))])
        else:
            line = lines[index]
            cut = draw(st.integers(0, len(line)))
            lines[index] = line[:cut] + draw(st.sampled_from(PIECES) | yaml_like) + line[cut:]
    return "".join(lines)


# ---------------------------------------------------------------------------------------------
# The properties
# ---------------------------------------------------------------------------------------------


def refused_or_read(data: bytes) -> list[sopfile.Problem] | None:
    """Read a file: None when it is valid, else its problems; any other exception fails the test.

    A valid file written back is read as the same document, with the same content hash.
    """
    try:
        document = load(data)
    except SopFileError as error:
        assert error.problems
        for problem in error.problems:
            assert isinstance(problem.path, str)
            assert isinstance(problem.message, str) and problem.message.strip()
            assert len(problem.message) < 5000
        return error.problems
    again = load(sopfile.dump(document).encode())
    assert again == document
    assert again.content_hash == document.content_hash
    return None


@budget(50)
@given(st.one_of(st.binary(max_size=600), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_any_bytes_are_refused_or_read(data):
    refused_or_read(data)


@budget(60)
@given(st.one_of(yaml_like, spliced()))
def test_any_yaml_like_text_is_refused_or_read(text):
    refused_or_read(text.encode("utf-8", "surrogatepass"))


@budget(80)
@given(mutated(), st.booleans())
def test_a_file_with_any_value_under_any_key_is_refused_at_a_key_or_read(document, flow):
    problems = refused_or_read(as_yaml(document, flow=flow))
    if problems is not None:
        # A file of well-formed YAML whose top is a block: every problem is at a key, but the
        # word that a file has more problems than are listed.
        assert all(problem.path for problem in problems[:sopfile.MAX_PROBLEMS]), problems


def holders(revision: SopRevision) -> dict[int, object]:
    """One user holding each position of the revision, by position id."""
    users = {}
    for index, column in enumerate(revision.columns.select_related("position")):
        user = get_user_model().objects.create_user(f"pemegang{index}", password="rahasia-uji-123")
        column.position.holders.add(user)
        users[column.position_id] = user
    return users


def drive(run: Run, users: dict[int, object], admin) -> None:
    """Work the run to its end: tick everything, give an output, answer Ya (Tidak once per step)."""
    answered_no: set[int] = set()
    for _ in range(40):
        run.refresh_from_db()
        if run.status != Run.Status.RUNNING:
            return
        task = Task.objects.select_related("step").get(run=run, status__in=Task.OPEN)
        user = users[task.position_id]
        ticked = list(task.step.kelengkapan.values_list("pk", flat=True))
        if task.step.is_decision:
            decision = "tidak" if task.step_id not in answered_no else "ya"
            answered_no.add(task.step_id)
            engine.task_decide(task=task, user=user, decision=decision, reason="Uji", ticked=ticked)
        else:
            engine.task_complete(task=task, user=user, ticked=ticked, output_text="Hasil uji")
    engine.run_cancel(run=run, user=admin, reason="Uji: pelaksanaan panjang dihentikan")  # a loop Tidak keeps open


@pytest.mark.django_db
@budget(40, database=True)
@given(document=st.one_of(documents(), documents(), mutated()))
def test_an_accepted_file_imports_starts_runs_and_renders(document, client):
    data = as_yaml(document)
    with transaction.atomic():
        result = sop_import(data=data, source="uji.yaml")
        if result.refused:
            assert result.problems and all(problem.message for problem in result.problems)
            assert not Sop.objects.exists()
            event("refused")
            transaction.set_rollback(True)
            return
        revision = SopRevision.objects.select_related("sop__office").get()
        admin = get_user_model().objects.create_superuser("admin-uji", "admin@example.invalid", "rahasia-uji-123")
        people = holders(revision)  # a run starts only when its first step has someone to do it
        run = engine.run_start(revision=revision, user=admin, perihal="Uji pelaksanaan")
        drive(run, people, admin)
        client.force_login(admin)
        response = client.get(reverse("run-detail", args=[run.pk]))
        assert response.status_code == 200
        assert pdf.render_sop_pdf(revision).startswith(b"%PDF")
        event("imported, ran, rendered")
        transaction.set_rollback(True)


@budget(40)
@given(documents(), st.booleans())
def test_a_file_valid_by_construction_is_accepted_and_written_back_the_same(document, flow):
    data = as_yaml(document, flow=flow)
    problems = refused_or_read(data)
    assert problems is None, problems


uploads = st.lists(
    st.tuples(st.one_of(st.text(min_size=1, max_size=300), st.sampled_from(["uji.yaml", "../../etc/passwd", "a" * 400])),
              st.one_of(documents().map(as_yaml), mutated().map(as_yaml), spliced().map(str.encode), st.binary(max_size=300))),
    min_size=1, max_size=4)


@pytest.mark.django_db
@budget(30, database=True)
@given(uploads, st.booleans())
def test_the_admin_import_page_answers_any_uploads_file_by_file(admin_client, files, check_only):
    with transaction.atomic():
        response = admin_client.post(reverse("admin:procedures_sop_import"), {
            "files": [SimpleUploadedFile(name, data) for name, data in files],
            **({"check_only": "on"} if check_only else {}),
        })
        assert response.status_code == 200
        rows = response.context["rows"]
        # Django drops an upload whose name is nothing but path separators and control characters.
        kept = [name for name, _data in files if MultiPartParser.sanitize_file_name(None, name)]
        assert len(rows) == len(kept)
        imported = 0 if check_only else sum(not row["refused"] for row in rows)
        assert Sop.objects.count() <= imported  # refused files wrote nothing
        transaction.set_rollback(True)
