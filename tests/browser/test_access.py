"""Pages a user may not see answer with the site's 403 page, not a bare error."""

from __future__ import annotations

from tests.browser.conftest import sign_in
from tests.engine_fixtures import open_task


def assert_forbidden(page, response) -> None:
    assert response.status == 403
    assert page.locator("nav .navbar-brand").inner_text() == "sopflow"


def test_another_positions_task_and_another_offices_run_show_the_403_page(seeded, page, live_server):
    run = seeded.start("000", perihal="Hanya untuk Kasi Bina Potensi")
    task = open_task(run)

    # Same office, another position (not a head in this SOP).
    sign_in(page, live_server, "petugas-operasional")
    assert_forbidden(page, page.goto(f"{live_server.url}/tugas/{task.pk}/"))

    page.goto(live_server.url + "/")
    page.locator("[data-account-menu]").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live_server.url + "/masuk/")

    # Another office altogether.
    sign_in(page, live_server, "kasi-dkdi")
    assert_forbidden(page, page.goto(f"{live_server.url}/pelaksanaan/{run.pk}/"))
    assert_forbidden(page, page.goto(f"{live_server.url}/tugas/{task.pk}/"))
