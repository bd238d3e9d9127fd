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
