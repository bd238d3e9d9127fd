import pytest
from django.db import connection

from procedures.library import Outcome, find_revision, sop_export, sop_import
from procedures.models import KelengkapanItem, Office, Position, Sop, SopColumn, SopRevision, Step
from tests.sop_samples import sample

pytestmark = pytest.mark.django_db


def import_text(text: str, source: str = "uji.yaml"):
    return sop_import(data=text.encode(), source=source)


def table_counts() -> dict[str, int]:
    models = [Office, Position, Sop, SopRevision, SopColumn, Step, KelengkapanItem]
    return {model.__name__: model.objects.count() for model in models}


def test_it_creates_an_sop_with_its_whole_sheet():
    result = import_text(sample())
    assert result.outcome is Outcome.CREATED
    revision = SopRevision.objects.get()
    assert revision.number == 1
    assert revision.sop.office.name == "Kantor Uji"
    assert revision.disahkan_nip == "196406061985031015"
    assert revision.dasar_hukum == ["Undang-Undang Nomor 1"]
    assert [column.label for column in revision.columns.all()] == ["Kepala", "Staf"]
    steps = list(revision.steps.order_by("nomor"))
    assert [step.simbol for step in steps] == ["mulai", "proses", "keputusan", "selesai"]
    assert [item.text for item in steps[0].kelengkapan.all()] == ["Surat Tugas", "Peta wilayah"]
    assert (steps[2].ya_step, steps[2].tidak_step) == (steps[3], steps[1])
    assert (steps[3].waktu_min, steps[3].waktu_max, steps[3].waktu_unit) == (1, 2, "menit")
    assert revision.total_waktu == "1 hari 1 jam 16 menit – 1 hari 1 jam 17 menit"


def test_the_same_file_again_changes_nothing():
    import_text(sample())
    before = table_counts()
    result = import_text(sample())
    assert result.outcome is Outcome.UNCHANGED
    assert result.revision == 1
    assert table_counts() == before


def test_other_content_makes_a_new_revision_and_keeps_the_old_one():
    import_text(sample())
    result = import_text(sample(**{"output: Laporan": "output: Laporan Patroli"}))
    assert (result.outcome, result.revision) == (Outcome.REVISED, 2)
    assert SopRevision.objects.count() == 2
    assert Position.objects.count() == 2  # positions are shared by the revisions


def test_positions_are_shared_by_the_sops_of_one_office_whatever_the_case():
    import_text(sample())
    import_text(sample(**{"kode: uji-patroli": "kode: uji-lain", "  - Kepala\n": "  - KEPALA\n"}))
    assert Position.objects.count() == 2
    assert SopColumn.objects.filter(label="KEPALA").get().position.name == "Kepala"


def test_export_then_import_is_unchanged():
    import_text(sample(**{"kegiatan: Melaksanakan patroli": "kegiatan: |\n      A. Patroli\n      1. Maksud"}))
    revision = SopRevision.objects.get()
    exported = sop_export(revision=revision)
    assert import_text(exported).outcome is Outcome.UNCHANGED


def test_a_refused_file_writes_nothing():
    import_text(sample())
    before = table_counts()
    result = import_text(sample(**{"    pelaksana: Staf": "    pelaksana: Kabid", "output: Laporan": "output: Lain"}))
    assert result.outcome is Outcome.REFUSED
    assert [problem.path for problem in result.problems] == ["langkah[1].pelaksana"]
    assert table_counts() == before


def test_a_stated_total_outside_the_sum_is_imported_with_a_warning():
    result = import_text(sample(**{"jumlah_waktu: 1 hari 1 jam 16 menit": "jumlah_waktu: 3 hari"}))
    assert result.outcome is Outcome.CREATED
    (warning,) = result.warnings
    assert "3 hari" in warning and "1 hari 1 jam 16 menit" in warning


def test_check_only_writes_nothing():
    result = sop_import(data=sample().encode(), source="uji.yaml", check_only=True)
    assert result.outcome is Outcome.VALID
    assert table_counts() == {name: 0 for name in table_counts()}


def test_the_time_zone_of_the_file_sets_a_new_office():
    import_text(sample(**{"jumlah_waktu:": "zona_waktu: WITA\njumlah_waktu:"}))
    assert Office.objects.get().time_zone == "Asia/Makassar"


def test_a_time_zone_contradicting_the_office_is_refused():
    import_text(sample())
    result = import_text(sample(**{"jumlah_waktu:": "zona_waktu: WIT\njumlah_waktu:", "kode: uji-patroli": "kode: lain"}))
    assert result.outcome is Outcome.REFUSED
    assert result.problems[0].path == "zona_waktu"


def test_find_revision_names_what_is_missing():
    import_text(sample())
    assert find_revision(kode="uji-patroli").number == 1
    with pytest.raises(LookupError, match="tidak-ada"):
        find_revision(kode="tidak-ada")
    with pytest.raises(LookupError):
        find_revision(kode="uji-patroli", number=7)


def test_a_kode_shared_by_two_offices_needs_the_office():
    import_text(sample())
    import_text(sample(**{"instansi: Kantor Uji": "instansi: Kantor Lain"}))
    with pytest.raises(LookupError, match="--instansi"):
        find_revision(kode="uji-patroli")
    assert find_revision(kode="uji-patroli", instansi="kantor lain").sop.office.name == "Kantor Lain"


def test_an_import_uses_a_bounded_number_of_queries(django_assert_max_num_queries):
    # Bulk inserts: the query count does not grow with the number of steps or kelengkapan items.
    with django_assert_max_num_queries(30 if connection.vendor == "postgresql" else 40):
        import_text(sample())
