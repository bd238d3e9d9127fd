"""Which titles are heads (issue 13): the heads of the five shipped SOPs and of a kelurahan or
kecamatan get Persetujuan and Terlambat; the level stays editable in the admin."""

import pytest

from procedures.models import Position, guess_level


@pytest.mark.parametrize("title", ["Lurah", "Camat", "Kepala Desa", "Kadis Kominfo", "Kasat Pol PP", "Kades"])
def test_heads_of_office(title):
    assert guess_level(title) == Position.Level.LEADER


@pytest.mark.parametrize("title", ["Kabid Linmas", "Sekretaris", "KBO Satbinmas"])
def test_heads_of_division(title):
    assert guess_level(title) == Position.Level.BUREAU


@pytest.mark.parametrize("title", ["Kasi Trantib", "Kasubag Umum", "Kanit Binpolmas"])
def test_heads_of_section(title):
    assert guess_level(title) == Position.Level.SECTION


@pytest.mark.parametrize("title", ["Petugas Operasional", "Staf", "Banit", "", "  "])
def test_everyone_else_is_staff(title):
    assert guess_level(title) == Position.Level.STAFF
