"""Pemantauan in a browser: a head filters by SOP and period and downloads the XLSX, under the site's CSP."""

from __future__ import annotations

import openpyxl
import pytest

from tests.browser.conftest import PASSWORD, sign_in
from tests.monitoring_world import build_world


@pytest.fixture
def world(live_server, settings):
    settings.LANGUAGE_CODE = "en"
    built = build_world()
    built.kepala.set_password(PASSWORD)
    built.kepala.save(update_fields=["password"])
    return built


def test_a_head_filters_by_sop_and_period_and_downloads_the_xlsx(world, page, live_server, artifacts):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, live_server, world.kepala.username)
    page.get_by_role("link", name="Monitoring").click()
    page.wait_for_url(live_server.url + "/pemantauan/")
    page.select_option("select[name=sop]", str(world.sop.pk))
    page.select_option("select[name=periode]", "2026-2")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/pemantauan/?*sop={world.sop.pk}*")
    assert page.locator("svg.monitoring-chart").count() == 2
    assert page.locator("[data-table=langkah] tbody tr").count() == 4
    with page.expect_download() as info:
        page.locator("[data-export=langkah-xlsx]").click()
    path = artifacts / "pemantauan-langkah.xlsx"
    info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    rows = [[value for value in row if value is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["Period", "Semester II 2026"] in rows
    assert ["SOP", "Patroli Uji (uji-patroli)"] in rows
    assert any(row[:3] == ["Patroli Uji (uji-patroli)", 2, "Melaksanakan patroli"] for row in rows)
    path.unlink()
    assert violations == []


def test_a_head_fills_and_signs_the_monitoring_sheet_and_the_pdf_carries_his_name_and_nip(world, page, live_server):
    from procedures.models import Profile
    from tests.test_pdf import pdf_text

    Profile.objects.filter(user=world.kepala).update(nip="196406061985031015")
    sign_in(page, live_server, world.kepala.username)
    page.goto(live_server.url + "/pemantauan/")
    page.get_by_role("link", name="Monitoring sheets (Formulir Monitoring Pelaksanaan SOP)").click()
    page.select_option("select[name=office]", str(world.uji.pk))
    page.select_option("select[name=periode]", "2026-2")
    page.get_by_role("button", name="Prepare the sheet").click()
    page.wait_for_url("**/pemantauan/formulir/*/")
    page.locator("select[name$=-assessment]").select_option("tidak_baik")
    page.locator("textarea[name$=-tindakan]").fill("Tambah petugas patroli")
    page.get_by_role("button", name="Save and sign").click()
    page.get_by_text("The monitoring sheet is signed and locked.").wait_for()
    assert page.locator("select[name$=-assessment]").count() == 0  # locked
    href = page.get_by_role("link", name="PDF").first.get_attribute("href")
    text = pdf_text(page.request.get(live_server.url + href).body())
    assert world.kepala.get_full_name() in text and "NIP. 196406061985031015" in text
    assert "Tambah petugas patroli" in text
