"""The admin: the lists, the read-only revision pages, "Impor SOP" and "Ekspor YAML"."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procedures.import_report import with_step_names
from procedures.library import Outcome, sop_import, sop_import_files
from procedures.models import Holiday, Sop, SopRevision, Step
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.BASE_DIR) / "fixtures" / "sops"
IMPORT_URL = "/admin/procedures/sop/import/"


def fixture_files(*names: str) -> list[tuple[str, bytes]]:
    """The shipped SOP files as (name, bytes), all of them or those named."""
    return [
        (path.name, path.read_bytes())
        for path in sorted(FIXTURES.glob("*.yaml"))
        if not names or path.name in names
    ]


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/yaml")


def with_unknown_key(data: bytes) -> bytes:
    """The file with a misspelt key in its first step."""
    return data.replace(b"\n    kegiatan:", b"\n    warna: merah\n    kegiatan:", 1)


@pytest.fixture(autouse=True)
def _english(settings):
    # The summaries are checked by their English text; the site's default language is Indonesian.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def sops():
    results = sop_import_files(files=fixture_files())
    assert not any(result.refused for result in results), [result.lines() for result in results]
    return results


@pytest.fixture
def prodeskel(sops) -> SopRevision:
    return SopRevision.objects.get(sop__kode="diskominfo-prodeskel")


@pytest.fixture
def staff_client(client):
    """A staff member without any permission."""
    user = UserFactory(is_staff=True)
    user.save()  # the factory sets the password after saving and does not save again
    client.force_login(user)
    client.user = user
    return client


# --- lists ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["office", "position", "holiday", "sop", "soprevision"])
def test_every_changelist_opens(admin_client, sops, model):
    response = admin_client.get(reverse(f"admin:procedures_{model}_changelist"))
    assert response.status_code == 200


def test_sop_list_shows_each_sop_with_its_latest_revision(admin_client, sops):
    response = admin_client.get(reverse("admin:procedures_sop_changelist"))
    content = response.content.decode()
    for result in sops:
        assert result.kode in content
    assert "Kegiatan Pengembangan dan Pengelolaan Data Profil" in content
    row = next(row for row in response.context["cl"].result_list if row.kode == "diskominfo-prodeskel")
    assert row.latest_number == 1
    assert row.step_count == Step.objects.filter(revision__sop=row).count()


def test_sop_list_queries_do_not_grow_with_the_sops(admin_client):
    url = reverse("admin:procedures_sop_changelist")
    sop_import_files(files=fixture_files()[:1])
    admin_client.get(url)  # warm up the session and content types
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(url).status_code == 200
    sop_import_files(files=fixture_files())
    assert Sop.objects.count() == len(fixture_files())
    with CaptureQueriesContext(connection) as all_:
        assert admin_client.get(url).status_code == 200
    assert len(all_) == len(one)


def test_sop_list_searches_revision_names(admin_client, sops):
    response = admin_client.get(reverse("admin:procedures_sop_changelist"), {"q": "prodeskel"})
    assert [sop.kode for sop in response.context["cl"].result_list] == ["diskominfo-prodeskel"]


def test_office_list_counts_sops_and_positions(admin_client, sops):
    response = admin_client.get(reverse("admin:procedures_office_changelist"))
    office = next(row for row in response.context["cl"].result_list if row.name == "Satuan Polisi Pamong Praja")
    assert office.sop_count == 2
    assert office.position_count == office.positions.count() > 0


def test_holiday_without_office_reads_every_office(admin_client):
    Holiday.objects.create(date=dt.date(2025, 12, 26), name="Cuti bersama Natal")
    response = admin_client.get(reverse("admin:procedures_holiday_changelist"))
    assert "Cuti bersama Natal" in response.content.decode()
    assert "(every office)" in response.content.decode()


# --- SOP and revision pages ------------------------------------------------------------------------


def test_sop_page_links_its_revisions(admin_client, prodeskel):
    response = admin_client.get(reverse("admin:procedures_sop_change", args=[prodeskel.sop_id]))
    assert response.status_code == 200
    assert reverse("admin:procedures_soprevision_change", args=[prodeskel.pk]) in response.content.decode()


def test_sops_are_not_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:procedures_sop_add")).status_code == 403


def test_sop_code_is_not_changed_in_the_admin(admin_client, prodeskel):
    url = reverse("admin:procedures_sop_change", args=[prodeskel.sop_id])
    response = admin_client.post(url, {"kode": "lain", "office": prodeskel.sop.office_id})
    assert response.status_code == 403
    assert Sop.objects.get(pk=prodeskel.sop_id).kode == "diskominfo-prodeskel"


def test_revision_page_shows_its_steps(admin_client, prodeskel):
    response = admin_client.get(reverse("admin:procedures_soprevision_change", args=[prodeskel.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    steps = list(prodeskel.steps.select_related("column", "ya_step").prefetch_related("kelengkapan"))
    for step in steps:
        assert step.column.label in content
    decision = next(step for step in steps if step.is_decision)
    assert re.search(rf'class="field-ya_target">\s*<p>{decision.ya_step.nomor}</p>', content)
    item = next(item for step in steps for item in step.kelengkapan.all())
    assert item.text in content
    assert reverse("admin:procedures_soprevision_export", args=[prodeskel.pk]) in content


def test_revision_cannot_be_changed_added_or_deleted(admin_client, prodeskel):
    change = reverse("admin:procedures_soprevision_change", args=[prodeskel.pk])
    assert admin_client.post(change, {"nama": "Lain"}).status_code == 403
    assert admin_client.get(reverse("admin:procedures_soprevision_add")).status_code == 403
    delete = reverse("admin:procedures_soprevision_delete", args=[prodeskel.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    prodeskel.refresh_from_db()
    assert prodeskel.nama != "Lain"


def test_revision_page_offers_no_save_button(admin_client, prodeskel):
    response = admin_client.get(reverse("admin:procedures_soprevision_change", args=[prodeskel.pk]))
    assert 'name="_save"' not in response.content.decode()


# --- Ekspor YAML ---------------------------------------------------------------------------------


def test_export_downloads_a_file_that_imports_as_unchanged(admin_client, prodeskel):
    response = admin_client.get(reverse("admin:procedures_soprevision_export", args=[prodeskel.pk]))
    assert response.status_code == 200
    assert 'attachment; filename="diskominfo-prodeskel-r1.yaml"' == response["Content-Disposition"]
    result = sop_import(data=response.content, source="diskominfo-prodeskel-r1.yaml")
    assert result.outcome is Outcome.UNCHANGED, result.lines()


def test_export_needs_the_view_permission(staff_client, prodeskel):
    response = staff_client.get(reverse("admin:procedures_soprevision_export", args=[prodeskel.pk]))
    assert response.status_code == 403


# --- Impor SOP -----------------------------------------------------------------------------------


def test_import_page_opens_for_an_admin(admin_client):
    response = admin_client.get(IMPORT_URL)
    assert response.status_code == 200
    assert 'type="file"' in response.content.decode()
    assert reverse("admin:procedures_sop_import") == IMPORT_URL


def test_sop_list_links_the_import_page(admin_client):
    response = admin_client.get(reverse("admin:procedures_sop_changelist"))
    assert IMPORT_URL in response.content.decode()


def test_import_page_refuses_staff_without_permission(staff_client):
    assert staff_client.get(IMPORT_URL).status_code == 403
    response = staff_client.post(IMPORT_URL, {"files": [upload(*fixture_files()[0])]})
    assert response.status_code == 403
    assert not SopRevision.objects.exists()


def test_import_page_opens_for_staff_who_may_change_sops(staff_client):
    staff_client.user.user_permissions.add(Permission.objects.get(codename="change_sop"))
    assert staff_client.get(IMPORT_URL).status_code == 200


def test_import_page_sends_visitors_to_the_login(client):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_import_reports_each_file_and_writes_only_the_valid_one(admin_client):
    (good_name, good), (bad_name, bad) = fixture_files()[:2]
    response = admin_client.post(
        IMPORT_URL, {"files": [upload(good_name, good), upload(bad_name, with_unknown_key(bad))]}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert f"{good_name}: created: " in content
    assert f"{bad_name}: refused, 1 problem(s); nothing was written" in content
    # The key path as the format's contract writes it, and the step by the nomor its sheet prints.
    assert f"{bad_name}: langkah[0].warna (step 1): unknown key “warna”" in content
    assert "1 of 2 file(s) refused" in content
    assert list(SopRevision.objects.values_list("source_name", flat=True)) == [good_name]
    assert SopRevision.objects.get().imported_by.username == "admin"


def test_import_shows_the_same_lines_as_the_command(admin_client):
    name, data = fixture_files()[0]
    bad = with_unknown_key(data)
    response = admin_client.post(IMPORT_URL, {"files": [upload(name, bad)], "check_only": "on"})
    expected = with_step_names(sop_import(data=bad, source=name, check_only=True), bad).lines()
    rows = response.context["rows"]
    assert [rows[0]["summary"], *rows[0]["problems"], *rows[0]["warnings"]] == [line.strip() for line in expected]


def test_check_only_writes_nothing(admin_client):
    files = [upload(name, data) for name, data in fixture_files()]
    response = admin_client.post(IMPORT_URL, {"files": files, "check_only": "on"})
    content = response.content.decode()
    assert content.count("(not imported, check only)") == len(files)
    assert not Sop.objects.exists()
    assert not SopRevision.objects.exists()


def test_importing_again_reports_unchanged(admin_client, sops):
    name, data = fixture_files()[0]
    response = admin_client.post(IMPORT_URL, {"files": [upload(name, data)]})
    assert f"{name}: unchanged: " in response.content.decode()
    assert SopRevision.objects.count() == len(sops)


def test_import_without_a_file_is_a_form_error(admin_client):
    response = admin_client.post(IMPORT_URL, {})
    assert response.status_code == 200
    assert response.context["form"].errors["files"] == ["This field is required."]
    assert not response.context["rows"]


def test_import_refuses_a_file_too_large_by_its_size(admin_client, settings):
    settings.SOP_FILE_MAX_BYTES = 1024
    name, data = fixture_files()[0]
    assert len(data) > 1024
    response = admin_client.post(IMPORT_URL, {"files": [upload(name, data)]})
    content = response.content.decode()
    assert f"{name}: refused, 1 problem(s); nothing was written" in content
    assert "an SOP file may be at most 1 KB" in content
    assert not SopRevision.objects.exists()
