"""A Kasubag Organisasi in the admin, in Indonesian: imports an SOP, sees what it lacks, gives its
positions holders, and imports the office's people from an XLSX file."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from procedures.models import Office, Position, Profile
from tests.browser.conftest import PASSWORD, sign_in
from tests.sop_samples import sample
from tests.spreadsheets import xlsx_bytes

NIP_ANI = "198001012005012001"
PERMISSIONS = [
    "view_sop", "change_sop", "view_soprevision", "view_position", "change_position", "view_office",
    "view_user", "add_user", "change_user", "view_actingassignment", "add_actingassignment",
]


@pytest.fixture
def kasubag(live_server, settings):
    """A staff member of Kantor Uji with a Kasubag's admin permissions (no superuser), and Ani, already a user."""
    settings.LANGUAGE_CODE = "id"
    office = Office.objects.create(name="Kantor Uji")
    User = get_user_model()
    user = User.objects.create_user("kasubag", password=PASSWORD, first_name="Kasubag", last_name="Organisasi",
                                    is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=PERMISSIONS))
    Profile.objects.create(user=user, office=office, nip="197502152000031002")
    ani = User.objects.create_user("ani", first_name="Ani Lestari", email="ani@kota.go.id")
    Profile.objects.create(user=ani, office=office, nip=NIP_ANI)
    return user


def test_a_kasubag_imports_an_sop_gives_it_holders_and_imports_people(kasubag, page, live_server, artifacts):
    sign_in(page, live_server, "kasubag")

    # Impor SOP: the results, then what the SOP still lacks.
    page.goto(live_server.url + "/admin/procedures/sop/import/")
    page.locator("input[name=files]").set_input_files(
        [{"name": "patroli.yaml", "mimeType": "application/yaml", "buffer": sample().encode()}])
    page.get_by_role("button", name="Impor").click()
    page.get_by_role("heading", name="Kesiapan SOP").wait_for()
    readiness = page.locator(".readiness[data-sop=uji-patroli]")
    assert "Belum siap: 2 jabatan pada lembar SOP belum ada pemegangnya." in readiness.inner_text()
    assert readiness.get_by_text("baru: dibuat oleh impor ini").count() == 2
    page.screenshot(path=artifacts / "kasubag-kesiapan.png", full_page=True)

    # Pemegang jabatan: find Ani by her NIP and make her the Kepala.
    readiness.locator("tr[data-position=Kepala]").get_by_role("link", name="Tetapkan pemegang").click()
    page.get_by_role("heading", name="Pemegang jabatan Kepala").wait_for()
    page.get_by_label("Cari menurut nama, NIP atau username").fill("20050120")
    page.get_by_role("button", name="Cari").click()
    page.get_by_label("Pilih Ani Lestari").check()
    page.get_by_role("button", name="Jadikan orang yang dipilih pemegang jabatan").click()
    page.get_by_text("kini memegang jabatan Kepala").wait_for()
    assert "Ani Lestari" in page.locator("#holders-form").inner_text()

    # Impor pengguna: a bad file is refused with its row numbers, the corrected one imported.
    page.goto(live_server.url + "/admin/auth/user/")
    page.get_by_role("link", name="Impor pengguna").click()
    page.locator("input[name=file]").set_input_files([{
        "name": "pegawai.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": xlsx_bytes([["budi", "Budi Santoso", "", "", "", "Staf"], ["cici", "", "", "", "", "Kabid"]]),
    }])
    page.locator("#user_import_form input[type=submit]").click()
    refused = page.locator("#people-refused")
    refused.wait_for()
    assert "pegawai.xlsx ditolak; tidak ada yang disimpan." in refused.inner_text()
    assert "baris 3: nama belum diisi" in refused.inner_text()
    assert "baris 3: Kantor Uji tidak memiliki jabatan “Kabid”" in refused.inner_text()
    page.screenshot(path=artifacts / "kasubag-impor-pengguna-ditolak.png", full_page=True)

    page.locator("input[name=file]").set_input_files([{
        "name": "pegawai.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": xlsx_bytes([["budi", "Budi Santoso", "", "Pengatur (II/c)", "", "Staf"]]),
    }])
    page.locator("#user_import_form input[type=submit]").click()
    page.locator("#people-imported").wait_for()
    assert "1 pengguna baru, 0 diperbarui, 1 jabatan diberikan" in page.locator("#people-imported").inner_text()

    # Every position has someone now: the SOP is ready.
    page.goto(live_server.url + "/admin/procedures/sop/readiness/")
    assert "Siap: setiap jabatan pada lembar SOP punya pemegang" in page.locator(".readiness").inner_text()
    assert list(Position.objects.get(name="Staf").holders.values_list("username", flat=True)) == ["budi"]
