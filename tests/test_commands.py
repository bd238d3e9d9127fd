"""The import_sops and export_sop commands, and every kind of bad input they must refuse."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from procedures.models import KelengkapanItem, Office, Position, Sop, SopColumn, SopRevision, Step
from tests.sop_samples import sample

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "sops"


def run(*args: str) -> tuple[str, str, bool]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        failed = False
    except CommandError as error:
        err.write(str(error))
        failed = True
    return out.getvalue(), err.getvalue(), failed


def snapshot() -> list:
    return [
        list(model.objects.order_by("pk").values())
        for model in (Office, Position, Sop, SopRevision, SopColumn, Step, KelengkapanItem)
    ]


def test_it_prints_one_line_per_file(tmp_path, settings):
    settings.LANGUAGE_CODE = "en"
    (tmp_path / "a.yaml").write_text(sample())
    (tmp_path / "b.yaml").write_text(sample(**{"kode: uji-patroli": "kode: uji-dua"}))
    out, err, failed = run("import_sops", str(tmp_path))
    assert not failed
    files, readiness = out.split("Readiness:\n")
    assert files.count("\n") == 2
    assert "a.yaml" in files and "b.yaml" in files
    # Then what each SOP still lacks: nobody holds the positions of a new office yet.
    assert readiness.splitlines() == [
        "  uji-patroli: not ready, nobody holds Kepala (new), Staf (new); give them holders in Admin › Positions",
        "  uji-dua: not ready, nobody holds Kepala, Staf; give them holders in Admin › Positions",
    ]


def test_it_says_unchanged_and_new_revision(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(sample())
    run("import_sops", str(path))
    out, _, _ = run("import_sops", str(path))
    assert "a.yaml" in out and "1" in out
    path.write_text(sample(**{"output: Laporan": "output: Laporan Akhir"}))
    out, _, _ = run("import_sops", str(path))
    assert SopRevision.objects.filter(number=2).exists()
    assert "2" in out


def test_a_refused_file_does_not_stop_the_others(tmp_path):
    (tmp_path / "a-bad.yaml").write_text(sample(**{"    pelaksana: Staf": "    pelaksana: Kabid"}))
    (tmp_path / "b-good.yaml").write_text(sample())
    out, err, failed = run("import_sops", str(tmp_path))
    assert failed
    assert "a-bad.yaml" in err and "langkah[1].pelaksana" in err
    assert "b-good.yaml" in out
    assert Sop.objects.count() == 1


def test_check_validates_without_writing(tmp_path):
    (tmp_path / "a.yaml").write_text(sample())
    out, err, failed = run("import_sops", "--check", str(tmp_path))
    assert not failed and "a.yaml" in out
    assert not Sop.objects.exists()


def test_a_missing_path_is_refused():
    out, err, failed = run("import_sops", "/nonexistent/sop.yaml")
    assert failed and "/nonexistent/sop.yaml" in err


BAD_FILES = {
    "not-yaml": ("kode: [unclosed\n", ""),
    "a-list": ("- kode: a\n- kode: b\n", ""),
    "a-scalar": ("hanya teks\n", ""),
    "missing-key": (sample(**{"nama: Patroli Uji\n": ""}), "nama"),
    "unknown-key": (sample(**{"    output: Laporan": "    outptu: Laporan"}), "langkah[1]"),
    "actor-not-a-column": (sample(**{"    pelaksana: Staf": "    pelaksana: Kabid"}), "langkah[1].pelaksana"),
    "gap": (sample(**{"  - nomor: 3": "  - nomor: 5"}), "langkah[2].nomor"),
    "duplicate": (sample(**{"  - nomor: 3": "  - nomor: 2"}), "langkah[2].nomor"),
    "tidak-missing-step": (sample(**{"    tidak: 2": "    tidak: 12"}), "langkah[2].tidak"),
    "ya-missing-step": (sample(**{"    tidak: 2": "    tidak: 2\n    ya: 12"}), "langkah[2].ya"),
    "keputusan-without-tidak": (sample(**{"    tidak: 2": "    simbol: keputusan"}), "langkah[2].tidak"),
    "waktu-sebentar": (sample(**{"waktu: 15 menit": "waktu: sebentar"}), "langkah[0].waktu"),
    "waktu-zero": (sample(**{"waktu: 15 menit": "waktu: 0 jam"}), "langkah[0].waktu"),
    "waktu-backwards": (sample(**{"waktu: 15 menit": "waktu: 5-3 jam"}), "langkah[0].waktu"),
    "invalid-date": (sample(**{"tanggal_pembuatan: 2024-01-02": "tanggal_pembuatan: 2024-02-30"}), "tanggal_pembuatan"),
    "no-instead-of-nomor": (sample().replace("  - nomor: ", "  - no: "), "langkah[0].no"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_input_is_refused_by_file_and_key_path_and_writes_nothing(tmp_path, name):
    text, key_path = BAD_FILES[name]
    call_command("import_sops", str(SEEDS), stdout=io.StringIO())
    before = snapshot()
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    out, err, failed = run("import_sops", str(path))
    assert failed
    assert f"{name}.yaml" in err
    assert key_path in err
    if name == "no-instead-of-nomor":
        assert "nomor" in err.split("langkah[0].no", 1)[1]
    assert snapshot() == before


@pytest.mark.parametrize("name", ["huge", "alias-bomb"])
def test_hostile_files_are_refused_quickly(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    if name == "huge":
        path.write_bytes(sample().encode() + b"#" + b"x" * (10 * 1024 * 1024))
    else:
        path.write_text("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)))
    out, err, failed = run("import_sops", str(path))
    assert failed and f"{name}.yaml" in err
    assert not Sop.objects.exists()


def test_export_writes_the_latest_revision_to_stdout_and_reimports_unchanged(tmp_path):
    call_command("import_sops", str(SEEDS), stdout=io.StringIO())
    for seed in sorted(SEEDS.glob("*.yaml")):
        kode = next(line.split(":", 1)[1].strip() for line in seed.read_text().splitlines() if line.startswith("kode:"))
        out, err, failed = run("export_sop", kode)
        assert not failed
        exported = tmp_path / f"{kode}.yaml"
        exported.write_text(out)
        out, err, failed = run("import_sops", str(exported))
        assert not failed
        assert "revisi 1" in out or "revision 1" in out
        assert SopRevision.objects.filter(sop__kode=kode).count() == 1


def test_export_to_a_file_and_by_revision(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(sample())
    run("import_sops", str(path))
    path.write_text(sample(**{"output: Laporan": "output: Laporan Akhir"}))
    run("import_sops", str(path))
    target = tmp_path / "out.yaml"
    run("export_sop", "uji-patroli", "--revision", "1", "-o", str(target))
    assert "output: Laporan\n" in target.read_text()


def test_export_of_an_unknown_sop_fails_with_a_message():
    out, err, failed = run("export_sop", "tidak-ada")
    assert failed and "tidak-ada" in err
