import json
import time

import pytest
import yaml

from procedures import sopfile
from procedures.sopfile import SopFileError, dump, load, schema
from tests.sop_samples import sample


def problems_of(text: str | bytes) -> dict[str, str]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(SopFileError) as caught:
        load(data)
    return {problem.path: problem.message for problem in caught.value.problems}


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
    assert "outptu" in problems["langkah[1]"]
    assert "output" in problems["langkah[1]"]


def test_it_refuses_an_unknown_top_level_key():
    problems = problems_of(sample(**{"nomor: ": "nomer: "}))
    assert "nomer" in problems[""] if "" in problems else "nomer" in " ".join(problems.values())


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
    (path, message), = problems_of("kode: !!python/object/apply:os.system [ls]\n").items()
    assert "YAML" in message


def test_a_too_long_role_name_is_refused_not_a_database_error():
    problems = problems_of(sample(**{"  - Staf\n": f"  - {'S' * 300}\n"}))
    assert "pelaksana[1]" in problems


def test_the_schema_is_a_valid_json_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())


LOADERS = [sopfile._Loader] + ([sopfile._CLoader, sopfile._CFastLoader] if yaml.__with_libyaml__ else [])


@pytest.fixture(params=LOADERS, ids=lambda loader: loader.__name__)
def loader(request, monkeypatch):
    """Each YAML loader in turn, whatever the text holds."""
    monkeypatch.setattr(sopfile, "_loader_for", lambda text: request.param)
    return request.param


def test_every_loader_reads_a_file_the_same_way(loader):
    text = sample(**{"nama: Patroli Uji": "nama: Patroli & Uji *1*", "output: Laporan": 'output: "yes"'})
    document = load(text.encode())
    assert document.nama == "Patroli & Uji *1*"
    assert document.langkah[1].output == "yes"
    assert str(document.tanggal_pembuatan) == "2024-01-02"
    assert document == sopfile.validate(yaml.load(text, Loader=sopfile._Loader))


def test_every_loader_keeps_dates_as_text(loader):
    assert sopfile._read_yaml(b"a: 2024-01-02\nb: 2024-02-30\n") == {"a": "2024-01-02", "b": "2024-02-30"}


@pytest.mark.parametrize("text", ["kode: &k uji\nnama: *k\n", "kode: &k uji\n", "nama: *k\n"])
def test_every_loader_refuses_anchors_and_aliases(loader, text):
    if loader.__name__ == "_CFastLoader":
        pytest.skip("only given texts without & and *")
    (path, message), = problems_of(text).items()
    assert "&" in message


def test_a_text_with_an_anchor_goes_to_a_loader_that_refuses_it():
    assert sopfile._loader_for("nama: A & B\n") is not getattr(sopfile, "_CFastLoader", None)
    assert sopfile._loader_for("nama: A *B*\n") is not getattr(sopfile, "_CFastLoader", None)
    (path, message), = problems_of(sample(**{"nama: Patroli Uji": "nama: &nama Patroli & Uji"})).items()
    assert "&" in message


def test_every_loader_refuses_a_key_given_twice(loader):
    (path, message), = problems_of(sample(**{"nama: Patroli Uji": "nama: Patroli Uji\nnama: Lain"})).items()
    assert "nama" in message and message.endswith(" 3)")  # the line of the second key


@pytest.mark.parametrize("text", ["kode: !!python/object/apply:os.system [ls]\n", "kode: [unclosed",
                                  "kode: a\n  nama: b\n x"])
def test_every_loader_refuses_what_is_not_safe_yaml(loader, text):
    (path, message), = problems_of(text).items()
    assert "YAML" in message


def test_the_compiled_schema_reports_what_the_published_one_does():
    import jsonschema

    text = sample(**{"kode: uji-patroli": "kode: Uji Patroli", "  - Staf\n": "  - ''\n", "    output: Laporan": "    outptu: 3",
                     "waktu: 15 menit": "waktu: sebentar", "    tidak: 2": "    tidak: nanti\n    simbol: lain"})
    data = sopfile._clean_keys(yaml.load(text, Loader=sopfile._Loader), (), [])

    def errors(validator):
        return sorted((list(error.absolute_path), error.validator, error.message) for error in validator.iter_errors(data))

    published = errors(jsonschema.Draft202012Validator(schema()))
    assert len(published) >= 6
    assert errors(sopfile._validator()) == published
    assert "$ref" not in json.dumps({key: value for key, value in sopfile._validator().schema.items() if key != "$defs"})


def test_numbers_too_big_for_the_database_are_refused():
    problems = problems_of(sample(**{"nomor: ": "revisi: 99999999999\nnomor: "}))
    assert "99999999999" not in problems["revisi"] and "2147483647" in problems["revisi"]
