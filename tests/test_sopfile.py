import json
import time
from pathlib import Path

import pytest
import yaml

from procedures import sopfile
from procedures.sopfile import SopFileError, dump, load, schema
from tests.sop_samples import sample, sample_with_sheet_keys


def problems_of(text: str | bytes) -> dict[str, str]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(SopFileError) as caught:
        load(data)
    found: dict[str, str] = {}
    for problem in caught.value.problems:  # several at one path: joined as the message shows them
        found[problem.path] = f"{found[problem.path]}; {problem.message}" if problem.path in found else problem.message
    return found


def test_it_reads_a_valid_file_with_defaults_applied():
    document = load(sample().encode())
    assert document.kode == "uji-patroli"
    assert [step.simbol for step in document.langkah] == ["mulai", "proses", "keputusan", "selesai"]
    decision = document.langkah[2]
    assert (decision.ya, decision.tidak) == (4, 2)
    assert document.langkah[0].kelengkapan == ["Surat Tugas", "Peta wilayah"]
    assert document.disahkan_oleh["nip"] == "196406061985031015"
    assert str(document.tanggal_pembuatan) == "2024-01-02"
    assert document.total().warning is None


def test_dump_then_load_gives_the_same_document():
    document = load(sample().encode())
    again = load(dump(document).encode())
    assert again == document
    assert again.content_hash == document.content_hash


def test_the_hash_ignores_defaults_written_out():
    explicit = sample(**{"    tidak: 2": "    simbol: keputusan\n    ya: 4\n    tidak: 2"})
    assert load(explicit.encode()).content_hash == load(sample().encode()).content_hash


def test_an_empty_optional_key_is_the_same_as_an_absent_one():
    with_empty = sample(**{"dasar_hukum:\n  - Undang-Undang Nomor 1\n": "dasar_hukum:\nketerkaitan:\n"})
    without = sample(**{"dasar_hukum:\n  - Undang-Undang Nomor 1\n": ""})
    assert load(with_empty.encode()) == load(without.encode())


def test_it_writes_what_yaml_1_1_and_1_2_read_alike():
    document = load(sample(**{"nama: Patroli Uji": 'nama: "yes"', "output: Laporan": 'output: "2024-01-02"'}).encode())
    text = dump(document)
    assert 'nama: "yes"' in text
    assert 'output: "2024-01-02"' in text
    assert 'nip: "196406061985031015"' in text


def test_multi_line_texts_are_kept():
    text = sample(**{"kegiatan: Melaksanakan patroli": "kegiatan: |\n      A. Patroli\n      1. Maksud"})
    document = load(text.encode())
    assert document.langkah[1].kegiatan == "A. Patroli\n1. Maksud"
    assert load(dump(document).encode()) == document


@pytest.mark.parametrize("text", ["kode: [unclosed", "kode: a\n  nama: b\n x"])
def test_it_refuses_what_is_not_yaml(text):
    (path, message), = problems_of(text).items()
    assert path == ""
    assert "YAML" in message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a sentence\n", "42\n", ""])
def test_it_refuses_yaml_that_is_not_a_block_of_keys(text):
    (path, message), = problems_of(text).items()
    assert path == ""
    assert "kode" in message


def test_it_names_every_missing_required_key():
    problems = problems_of("kode: uji\n")
    assert {"nama", "instansi", "pelaksana", "langkah"} <= set(problems)


def test_it_refuses_unknown_keys_and_suggests_the_right_one():
    problems = problems_of(sample(**{"    output: Laporan": "    outptu: Laporan"}))
    assert "outptu" in problems["langkah[1].outptu"]
    assert "output" in problems["langkah[1].outptu"]


def test_it_refuses_an_unknown_top_level_key():
    problems = problems_of(sample(**{"nomor: ": "nomer: "}))
    assert "nomer" in problems["nomer"] and "nomor" in problems["nomer"]


def test_it_names_a_few_of_thousands_of_unknown_keys():
    problems = problems_of(sample(**{"nomor: ": "".join(f"kunci{n}: x\n" for n in range(3000)) + "nomor: "}))
    assert len([path for path in problems if path.startswith("kunci")]) == 20
    assert "2980" in problems[""]


def test_it_refuses_a_step_whose_actor_is_not_a_column():
    problems = problems_of(sample(**{"    pelaksana: Staf": "    pelaksana: Kabid"}))
    assert "Kabid" in problems["langkah[1].pelaksana"]
    assert "Kepala" in problems["langkah[1].pelaksana"]


def test_role_names_match_without_case():
    document = load(sample(**{"    pelaksana: Staf": "    pelaksana: STAF"}).encode())
    assert document.langkah[1].pelaksana == "Staf"


def test_it_refuses_a_gap_in_step_numbers():
    problems = problems_of(sample(**{"  - nomor: 3": "  - nomor: 5"}))
    assert "langkah[2].nomor" in problems


def test_it_refuses_a_duplicate_step_number():
    problems = problems_of(sample(**{"  - nomor: 3": "  - nomor: 2"}))
    assert "langkah[2].nomor" in problems


@pytest.mark.parametrize("key", ["ya", "tidak"])
def test_it_refuses_a_target_that_does_not_exist(key):
    text = sample(**{"    tidak: 2": "    tidak: 2\n    ya: 4"}).replace(f"    {key}: ", f"    {key}: 9 #", 1)
    problems = problems_of(text)
    assert "9" in problems[f"langkah[2].{key}"]


def test_a_target_may_end_the_run():
    document = load(sample(**{"    tidak: 2": "    tidak: selesai"}).encode())
    assert document.langkah[2].tidak == "selesai"


def test_it_refuses_a_decision_without_tidak():
    problems = problems_of(sample(**{"    tidak: 2": "    simbol: keputusan"}))
    assert "langkah[2].tidak" in problems


def test_it_refuses_ya_on_a_step_that_is_not_a_decision():
    problems = problems_of(sample(**{"    output: Laporan": "    output: Laporan\n    ya: 3"}))
    assert "langkah[1].ya" in problems


@pytest.mark.parametrize("waktu", ["sebentar", "0 jam", "5-3 jam"])
def test_it_refuses_bad_waktu(waktu):
    problems = problems_of(sample(**{"waktu: 15 menit": f"waktu: {waktu}"}))
    assert waktu in problems["langkah[0].waktu"]


def test_it_refuses_an_invalid_date():
    problems = problems_of(sample(**{"tanggal_pembuatan: 2024-01-02": "tanggal_pembuatan: 2024-02-30"}))
    assert "2024-02-30" in problems["tanggal_pembuatan"]


def test_it_refuses_a_date_in_another_form():
    problems = problems_of(sample(**{"tanggal_pembuatan: 2024-01-02": "tanggal_pembuatan: 03 September 2019"}))
    assert "tanggal_pembuatan" in problems


def test_it_says_to_use_nomor_when_steps_use_no():
    problems = problems_of(sample().replace("  - nomor: ", "  - no: "))
    assert "langkah[0].no" in problems
    assert "nomor" in problems["langkah[0].no"]


def test_it_reports_all_problems_of_a_file_not_just_the_first():
    text = sample(**{"    pelaksana: Staf": "    pelaksana: Kabid", "waktu: 15 menit": "waktu: sebentar",
                     "tanggal_pembuatan: 2024-01-02": "tanggal_pembuatan: 2024-13-01"})
    assert {"langkah[1].pelaksana", "langkah[0].waktu", "tanggal_pembuatan"} <= set(problems_of(text))


def test_it_refuses_a_boolean_where_text_belongs():
    problems = problems_of(sample(**{"output: Surat Tugas": "output: yes"}))
    assert "langkah[0].output" in problems


def test_it_refuses_a_key_given_twice():
    (path, message), = problems_of(sample(**{"nama: Patroli Uji": "nama: Patroli Uji\nnama: Lain"})).items()
    assert "nama" in message


def test_it_refuses_a_huge_file_without_parsing_it(settings):
    data = sample().encode() + b"# " + b"x" * (10 * 1024 * 1024) + b"\n"
    started = time.monotonic()
    (path, message), = problems_of(data).items()
    assert time.monotonic() - started < 1  # refused from its size, not parsed
    assert "KB" in message


def test_it_refuses_a_yaml_alias_bomb_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
    )
    started = time.monotonic()
    (path, message), = problems_of(bomb).items()
    assert time.monotonic() - started < 1
    assert "&" in message


def test_it_refuses_text_that_is_not_utf8():
    (path, message), = problems_of(sample().encode("utf-16")).items()
    assert "UTF-8" in message


def test_it_refuses_python_tags():
    problems = problems_of("kode: !!python/object/apply:os.system [ls]\n")
    assert "YAML" in problems["kode"] and "!!python" in problems["kode"]


def test_a_too_long_role_name_is_refused_not_a_database_error():
    problems = problems_of(sample(**{"  - Staf\n": f"  - {'S' * 300}\n"}))
    assert "pelaksana[1]" in problems


def test_the_schema_is_a_valid_json_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())


PARSERS = [sopfile._PyParser] + ([sopfile._CParser] if yaml.__with_libyaml__ else [])


@pytest.fixture(params=PARSERS, ids=lambda parser: parser.__name__)
def parser(request, monkeypatch):
    """Each YAML parser in turn: libyaml's and PyYAML's own give the same events."""
    monkeypatch.setattr(sopfile, "_parser_class", lambda: request.param)
    return request.param


def test_every_parser_reads_a_file_as_the_safe_loader_does(parser):
    text = sample(**{"nama: Patroli Uji": "nama: Patroli & Uji *1*", "output: Laporan": 'output: "yes"'})
    document = load(text.encode())
    assert document.nama == "Patroli & Uji *1*"
    assert document.langkah[1].output == "yes"
    assert str(document.tanggal_pembuatan) == "2024-01-02"
    safe = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 (the safe loader)
    safe["tanggal_pembuatan"] = safe["tanggal_pembuatan"].isoformat()
    assert sopfile._read_yaml(text.encode()).data == safe


def test_every_parser_keeps_dates_as_text(parser):
    assert sopfile._read_yaml(b"a: 2024-01-02\nb: 2024-02-30\n").data == {"a": "2024-01-02", "b": "2024-02-30"}


@pytest.mark.parametrize("text", ["kode: &k uji\nnama: *k\n", "kode: &k uji\n", "nama: *k\n",
                                  "nama: &nama Patroli & Uji\n"])
def test_every_parser_refuses_anchors_and_aliases(parser, text):
    (path, message), = problems_of(text).items()
    assert "&" in message


def test_every_parser_refuses_a_key_given_twice(parser):
    (path, message), = problems_of(sample(**{"nama: Patroli Uji": "nama: Patroli Uji\nnama: Lain"})).items()
    assert path == "nama"
    assert "nama" in message and message.endswith(" 3)")  # the line of the second key


@pytest.mark.parametrize("text", ["kode: [unclosed", "kode: a\n  nama: b\n x"])
def test_every_parser_refuses_what_is_not_yaml(parser, text):
    (path, message), = problems_of(text).items()
    assert "YAML" in message


def test_every_parser_refuses_python_tags(parser):
    problems = problems_of("kode: !!python/object/apply:os.system [ls]\n")
    assert "!!python/object/apply:os.system" in problems["kode"]


@pytest.mark.parametrize("text", ["kode: " + "[" * 40000 + "]" * 40000, "kode: " + "[a, " * 200_000])
def test_every_parser_stops_at_the_nesting_limit(parser, text):
    (path, message), = problems_of(text).items()
    assert str(sopfile.MAX_DEPTH) in message


def test_the_compiled_schema_reports_what_the_published_one_does():
    import jsonschema

    text = sample(**{"kode: uji-patroli": "kode: Uji Patroli", "  - Staf\n": "  - ''\n", "    output: Laporan": "    outptu: 3",
                     "waktu: 15 menit": "waktu: sebentar", "    tidak: 2": "    tidak: nanti\n    simbol: lain"})
    data = sopfile._clean_keys(sopfile._read_yaml(text.encode()).data, (), [])

    def errors(validator):
        return sorted((list(error.absolute_path), error.validator, error.message) for error in validator.iter_errors(data))

    published = errors(jsonschema.Draft202012Validator(schema()))
    assert len(published) >= 6
    assert errors(sopfile._validator()) == published  # no floats here: "integer" means the same
    assert "$ref" not in json.dumps({key: value for key, value in sopfile._validator().schema.items() if key != "$defs"})


def test_numbers_too_big_for_the_database_are_refused():
    problems = problems_of(sample(**{"nomor: ": "revisi: 99999999999\nnomor: "}))
    assert "99999999999" not in problems["revisi"] and "2147483647" in problems["revisi"]


# ---------------------------------------------------------------------------------------------
# Any file is refused with a key path, never a crash (issue 11, "the SOP reader crashes")
# ---------------------------------------------------------------------------------------------


def test_a_list_given_as_a_number_is_refused_not_a_type_error():
    problems = problems_of(sample(**{"kelengkapan: [Surat Tugas, Peta wilayah]": "kelengkapan: 5"}))
    assert "langkah[0].kelengkapan" in problems


@pytest.mark.parametrize(("old", "new", "path"), [
    ("nama: Patroli Uji", "nama: !!int abc", "nama"),
    ("output: Laporan", "output: !!float x", "langkah[1].output"),
    ("nama: Patroli Uji", "nama: !!timestamp besok", "nama"),
    ("tanggal_pembuatan: 2024-01-02", "tanggal_pembuatan: !!timestamp 2024-02-30", "tanggal_pembuatan"),
    ("nama: Patroli Uji", "nama: !!binary 'AAA'", "nama"),
    ("  - nomor: 3", "  - nomor: " + "9" * 5000, "langkah[2].nomor"),
])
def test_a_tagged_value_that_cannot_be_read_is_refused_at_its_key(old, new, path):
    problems = problems_of(sample(**{old: new}))
    assert path in problems


@pytest.mark.parametrize("tag", ["!!set {a, b}", "!!omap [a: 1]", "!!python/object/apply:os.system [ls]",
                                 "!unknown x", "!!python/name:os.system ''"])
def test_tags_that_make_other_things_than_text_numbers_and_lists_are_refused(tag):
    problems = problems_of(sample(**{"nama: Patroli Uji": f"nama: {tag}"}))
    assert "nama" in problems


def test_a_merge_key_is_refused():
    problems = problems_of(sample(**{"nama: Patroli Uji": "nama: Patroli Uji\n<<: {nomor: x}"}))
    assert "<<" in " ".join(problems.values())


def test_a_float_where_a_step_number_belongs_is_refused_not_a_step_dropped():
    problems = problems_of(sample(**{"  - nomor: 3": "  - nomor: 3.0", "    tidak: 2": "    tidak: 2.0"}))
    assert {"langkah[2].nomor", "langkah[2].tidak"} <= set(problems)


@pytest.mark.parametrize("text", ["kode: " + "[" * 1000 + "]" * 1000, "kode: " + "{a: " * 1000 + "}" * 1000,
                                  "kode:\n" + "".join(" " * depth + "- x:\n" for depth in range(0, 2000, 2))])
def test_deep_nesting_is_refused_with_its_key_path(text):
    (path, message), = problems_of(text).items()
    assert path.startswith("kode")
    assert str(sopfile.MAX_DEPTH) in message


@pytest.mark.parametrize("pattern", ["[", "[a, ", "{a: ", "[\n"])
def test_unclosed_nesting_is_refused_at_once_whatever_its_length(pattern):
    started = time.monotonic()
    (path, message), = problems_of("kode: " + pattern * 200_000).items()
    assert time.monotonic() - started < 1  # before: minutes, the parser's work grew with the square
    assert str(sopfile.MAX_DEPTH) in message


def test_a_flood_of_brackets_does_not_crash_the_process():
    # 40,000 "[" in 80 KB segfaulted the libyaml composer and with it the admin's worker.
    import subprocess
    import sys

    from django.conf import settings

    script = (
        "import django; django.setup()\n"
        "from procedures.sopfile import SopFileError, load\n"
        "try:\n"
        "    load(b'kode: ' + b'[' * 40000 + b']' * 40000)\n"
        "except SopFileError as error:\n"
        "    print('refused:', error.problems[0].path)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "sopflow.settings", "PYTHONPATH": str(settings.BASE_DIR)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                          cwd=settings.BASE_DIR)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("refused: kode")


def test_a_file_of_too_many_values_is_refused_quickly():
    started = time.monotonic()
    (path, message), = problems_of("kode: [" + "a, " * 300_000 + "a]\n").items()
    assert time.monotonic() - started < 1
    assert path.startswith("kode[") and f"{sopfile.MAX_VALUES:,}" in message


@pytest.mark.parametrize(("old", "new", "path"), [
    ("nama: Patroli Uji", "nama: Patroli Uji\n~: y", ""), ("nama: Patroli Uji", "nama: Patroli Uji\nnull: y", ""),
    ("nama: Patroli Uji", "nama: Patroli Uji\n?\n: y", ""), ("nama: Patroli Uji", "nama: {~: x}", "nama"),
    ("    output: Laporan", "    ~: Laporan", "langkah[1]"),
])
def test_a_null_key_is_refused_at_its_block(old, new, path):
    assert "null" in problems_of(sample(**{old: new}))[path]


def test_more_than_one_document_is_refused():
    (path, message), = problems_of(sample() + "---\nkode: lain\n").items()
    assert "YAML" in message


# ---------------------------------------------------------------------------------------------
# Bounds: what --check accepts imports, starts and runs (issue 11, "files --check accepts")
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("waktu", "limit"), [
    ("99999999999 menit", "525600 menit"), ("99999 bulan", "12 bulan"), ("999999 hari", "365 hari"),
    ("53 minggu", "52 minggu"), ("8761 jam", "8760 jam"), ("525601 menit", "525600 menit"), ("1-13 bulan", "12 bulan"),
    ("366 days", "365 hari"),
])
def test_a_step_longer_than_a_year_is_refused(waktu, limit):
    problems = problems_of(sample(**{"waktu: 15 menit": f"waktu: {waktu}"}))
    assert waktu in problems["langkah[0].waktu"]
    assert limit in problems["langkah[0].waktu"]


@pytest.mark.parametrize("waktu", ["525600 menit", "8760 jam", "365 hari", "52 minggu", "12 bulan", "1-12 months"])
def test_a_step_of_one_year_is_accepted(waktu):
    document = load(sample(**{"waktu: 15 menit": f"waktu: {waktu}", "jumlah_waktu: 1 hari 1 jam 16 menit\n": ""}).encode())
    assert document.langkah[0].waktu == waktu


@pytest.mark.parametrize(("old", "new", "path"), [
    ("nama: Patroli Uji", 'nama: "Patroli\\0Uji"', "nama"),
    ("kegiatan: Melaksanakan patroli", 'kegiatan: "Melaksanakan\\0patroli"', "langkah[1].kegiatan"),
    ("output: Laporan", 'output: "Laporan\\x1b[31m"', "langkah[1].output"),
    ("kelengkapan: [Surat Tugas, Peta wilayah]", 'kelengkapan: [Surat Tugas, "Peta\\x85wilayah"]', "langkah[0].kelengkapan[1]"),
    ("  - Undang-Undang Nomor 1", '  - "Undang-Undang\\rNomor 1"', "dasar_hukum[0]"),
    ("  jabatan: Kepala Kantor", '  jabatan: "Kepala\\x7fKantor"', "disahkan_oleh.jabatan"),
    ("  - Staf\n", '  - "Staf\\0"\n', "pelaksana[1]"),
])
def test_a_control_character_in_any_text_is_refused(old, new, path):
    problems = problems_of(sample(**{old: new}))
    assert "U+00" in problems[path]


def test_tabs_and_line_breaks_stay_in_texts():
    document = load(sample(**{"output: Laporan": 'output: "Laporan\\tharian\\nbaris dua"'}).encode())
    assert document.langkah[1].output == "Laporan\tharian\nbaris dua"


@pytest.mark.parametrize(("old", "new", "path"), [
    ("kegiatan: Melaksanakan patroli", "kegiatan: " + "k" * 4001, "langkah[1].kegiatan"),
    ("output: Laporan", "output: " + "o" * 4001, "langkah[1].output"),
    ("kelengkapan: [Surat Tugas, Peta wilayah]", f"kelengkapan: [{'s' * 4001}]", "langkah[0].kelengkapan[0]"),
    ("  - Undang-Undang Nomor 1", "  - " + "u" * 4001, "dasar_hukum[0]"),
    ('nomor: "SOP/01/2024"', "nomor: " + "1" * 256, "nomor"),
    ('  nip: "196406061985031015"', "  nip: " + "1" * 65, "disahkan_oleh.nip"),
    ("    pelaksana: Staf\n    waktu: 1 hari", f"    pelaksana: {'S' * 256}\n    waktu: 1 hari", "langkah[1].pelaksana"),
])
def test_texts_beyond_their_columns_are_refused(old, new, path):
    problems = problems_of(sample(**{old: new}))
    assert "at most" in problems[path] or "paling" in problems[path]


def test_lists_beyond_their_bounds_are_refused():
    steps = "".join(f"  - nomor: {n}\n    kegiatan: K\n    pelaksana: Staf\n    waktu: 1 jam\n"
                    for n in range(1, sopfile.MAX_STEPS + 2))
    text = sample().split("langkah:")[0] + "langkah:\n" + steps
    text = text.replace("jumlah_waktu: 1 hari 1 jam 16 menit\n", "")
    text = text.replace("  - Undang-Undang Nomor 1\n", "".join(f"  - UU {n}\n" for n in range(101)))
    text = text.replace("  - Staf\n", "".join(f"  - Staf\n" if n == 0 else f"  - Peran {n}\n" for n in range(20)))
    problems = problems_of(text)
    assert {"langkah", "dasar_hukum", "pelaksana"} <= set(problems)
    assert str(sopfile.MAX_STEPS) in problems["langkah"]


def test_a_file_with_thousands_of_problems_lists_its_first_hundred():
    steps = "".join(f"  - nomor: {n}\n    kegiatan: K\n    pelaksana: Siapa\n    waktu: lama\n" for n in range(1, 150))
    text = "kode: uji\nnama: Uji\ninstansi: Kantor\npelaksana: [Staf]\nlangkah:\n" + steps
    with pytest.raises(SopFileError) as caught:
        load(text.encode())
    assert len(caught.value.problems) == sopfile.MAX_PROBLEMS + 1
    assert "298" in caught.value.problems[-1].message


def test_a_message_quotes_a_long_value_shortened():
    problems = problems_of(sample(**{"kode: uji-patroli": "kode: " + "X" * 5000}))
    assert len(problems["kode"]) < 300


# Content hashes computed by the code before the keys of the 0003 migration (kop, YYYY-MM dates,
# ditandatangani_elektronik, kegiatan_terpisah, catatan_transkripsi, label, pertanyaan …): a
# file using none of them must keep its hash, so that re-importing it after an upgrade says
# "unchanged". tests/data/sops-before-0003/ holds the shipped files as they were then.
PINNED_HASHES = {
    "sample": "3731ccb04fab432a6cfe4722b48af2ad07bf8a062c69f562f86bd2613e4d147d",
    "000-bina-potensi-masyarakat.yaml": "48fac82bff74b527ba16304185cc2007622f64ff3e82497d127641c442828d52",
    "001-sosialisasi-kepada-masyarakat.yaml": "ab3667f21ec5f1f8cb29a4dfe2dc4032a3ba12e6e462fd4d697237a6cf25c246",
    "002-unit-binpolmas.yaml": "36bf8b421bfaf4f6fa9404b1d2959362929b1ea197f0cbe42b59c78a830e8431",
    "003-prodeskel.yaml": "fc78ca8023df4b50d2985a805b91625315f33439aa815bfd82c61fa0e1959b3a",
    "004-patroli-pengawasan-wilayah.yaml": "d147d89f765cd1b477d8341b7e16a8273c3352569d8a5e0352957ad429c088dc",
}
BEFORE_0003 = Path(__file__).resolve().parent / "data" / "sops-before-0003"


@pytest.mark.parametrize("name", sorted(PINNED_HASHES))
def test_a_file_without_the_new_keys_keeps_the_hash_it_had(name):
    data = sample().encode() if name == "sample" else (BEFORE_0003 / name).read_bytes()
    document = load(data)
    assert document.content_hash == PINNED_HASHES[name]
    assert load(dump(document).encode()).content_hash == PINNED_HASHES[name]


# ---------------------------------------------------------------------------------------------
# Keys the contract gained: kop, YYYY-MM dates, signatures, independent activities, notes, labels
# ---------------------------------------------------------------------------------------------

CONTRACT_ORDER = ["kode", "nama", "instansi", "nomor", "revisi", "kop", "tanggal_pembuatan", "tanggal_revisi",
                  "tanggal_efektif", "disahkan_oleh", "ditandatangani_elektronik", "kegiatan_terpisah",
                  "catatan_transkripsi", "dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan",
                  "peringatan", "pencatatan", "jumlah_waktu", "zona_waktu", "pelaksana", "langkah"]
STEP_ORDER = ["nomor", "kegiatan", "pelaksana", "simbol", "kelengkapan", "waktu", "output", "keterangan",
              "catatan_transkripsi", "label", "ya", "tidak", "pertanyaan", "label_ya", "label_tidak"]


def test_it_reads_the_keys_the_contract_gained():
    document = load(sample_with_sheet_keys().encode())
    assert document.kop == ["PEMERINTAH KOTA UJI", "KANTOR UJI"]
    assert (document.tanggal_pembuatan.isoformat(), document.tanggal_pembuatan.printed()) == ("2024-01", "Januari 2024")
    assert (document.tanggal_efektif.isoformat(), document.tanggal_efektif.printed()) == ("2024-02-03", "3 Februari 2024")
    assert document.ditandatangani_elektronik and document.kegiatan_terpisah
    assert document.catatan_transkripsi == ["Disalin dari lembar cetak."]
    first, decision = document.langkah[0], document.langkah[2]
    assert (first.label, first.catatan_transkripsi) == ("A", "Tanda pelaksana hilang.")
    assert (decision.pertanyaan, decision.label_ya, decision.label_tidak) == (
        "Laporan lengkap?", "Lengkap", "Dikembalikan untuk dilengkapi")


def test_the_gained_keys_survive_a_round_trip_in_the_contracts_order():
    document = load(sample_with_sheet_keys().encode())
    text = dump(document)
    assert load(text.encode()) == document
    assert load(text.encode()).content_hash == document.content_hash != load(sample().encode()).content_hash
    written = yaml.safe_load(text)
    assert list(written) == [key for key in CONTRACT_ORDER if key in written]
    for step in written["langkah"]:
        assert list(step) == [key for key in STEP_ORDER if key in step]
    assert "tanggal_pembuatan: 2024-01\n" in text


def test_the_gained_keys_left_empty_or_false_change_nothing():
    empty = sample(**{
        'nomor: "SOP/01/2024"\n': 'nomor: "SOP/01/2024"\nkop: []\nditandatangani_elektronik: false\n'
                                  "kegiatan_terpisah: false\ncatatan_transkripsi:\n",
        "    output: Surat Tugas\n": '    output: Surat Tugas\n    catatan_transkripsi: ""\n    label:\n',
        "    tidak: 2\n": '    tidak: 2\n    pertanyaan: ""\n    label_ya:\n    label_tidak: ""\n',
    })
    assert load(empty.encode()).content_hash == PINNED_HASHES["sample"]


@pytest.mark.parametrize(("date", "printed"), [("2018-09", "September 2018"), ("2019-09-03", "3 September 2019"),
                                               ("2020-12", "Desember 2020"), ("0001-01", "Januari 1")])
def test_a_date_may_give_only_its_month(date, printed):
    document = load(sample(**{"tanggal_pembuatan: 2024-01-02": f"tanggal_pembuatan: {date}"}).encode())
    assert (str(document.tanggal_pembuatan), document.tanggal_pembuatan.printed()) == (date, printed)


@pytest.mark.parametrize("date", ["2018-13", "2018-00", "0000-05", "2018-9", "201809", "2018-09-", "September 2018"])
def test_a_month_that_is_not_one_is_refused(date):
    assert "tanggal_pembuatan" in problems_of(sample(**{"tanggal_pembuatan: 2024-01-02": f"tanggal_pembuatan: {date}"}))


@pytest.mark.parametrize("key", ["pertanyaan", "label_ya", "label_tidak"])
def test_only_a_decision_has_a_question_and_answers(key):
    problems = problems_of(sample(**{"    output: Laporan": f"    output: Laporan\n    {key}: Setuju?"}))
    assert key in problems[f"langkah[1].{key}"]


@pytest.mark.parametrize(("old", "new", "path"), [
    ('nomor: "SOP/01/2024"', 'nomor: "SOP/01/2024"\nkop: [' + ", ".join(["BARIS"] * 11) + "]", "kop"),
    ('nomor: "SOP/01/2024"', 'nomor: "SOP/01/2024"\nkop: [' + "K" * 256 + "]", "kop[0]"),
    ('nomor: "SOP/01/2024"', 'nomor: "SOP/01/2024"\nkop: PEMERINTAH KOTA', "kop"),
    ("    output: Surat Tugas", "    output: Surat Tugas\n    label: " + "L" * 21, "langkah[0].label"),
    ("    tidak: 2", "    tidak: 2\n    pertanyaan: " + "P" * 501, "langkah[2].pertanyaan"),
    ("    tidak: 2", "    tidak: 2\n    label_ya: " + "Y" * 101, "langkah[2].label_ya"),
    ("    tidak: 2", "    tidak: 2\n    label_tidak: [Tidak]", "langkah[2].label_tidak"),
    ("    output: Surat Tugas", "    output: Surat Tugas\n    catatan_transkripsi: " + "C" * 4001,
     "langkah[0].catatan_transkripsi"),
    ('nomor: "SOP/01/2024"', 'nomor: "SOP/01/2024"\nkegiatan_terpisah: "ya"', "kegiatan_terpisah"),
    ('nomor: "SOP/01/2024"', 'nomor: "SOP/01/2024"\nditandatangani_elektronik: 1', "ditandatangani_elektronik"),
    ('nomor: "SOP/01/2024"', 'nomor: "SOP/01/2024"\ncatatan_transkripsi: [[x]]', "catatan_transkripsi[0]"),
    ('nomor: "SOP/01/2024"', 'nomor: "SOP/01/2024"\nkop: ["\\0"]', "kop[0]"),
])
def test_the_gained_keys_are_bounded_and_typed(old, new, path):
    assert path in problems_of(sample(**{old: new}))


def test_signer_lines_of_blanks_are_dropped_and_the_file_written_back_the_same():
    document = load(sample(**{'  nama: "NAMA, M.Si"': '  nama: "  "'}).encode())
    assert document.disahkan_oleh == {"jabatan": "Kepala Kantor", "nip": "196406061985031015"}
    assert load(dump(document).encode()) == document


def test_a_list_of_thousands_of_items_is_refused_by_its_length_alone():
    items = ", ".join(["Berkas"] * 20_000)
    (path, message), = problems_of(sample(**{"kelengkapan: [Surat Tugas, Peta wilayah]": f"kelengkapan: [{items}]"})).items()
    assert path == "langkah[0].kelengkapan" and "20000" in message
