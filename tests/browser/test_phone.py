"""The inbox and a task page at phone width (390×844), screenshotted for people to look at."""

from __future__ import annotations

from procedures import engine
from tests.browser.conftest import sign_in
from tests.engine_fixtures import drive, open_task

PHONE = {"width": 390, "height": 844}


def assert_no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"


def test_inbox_and_task_page_fit_a_phone(seeded, new_context, live_server, artifacts):
    kasi = seeded.user("Kasi Bina Potensi Masyarakat")
    runs = [seeded.start("000", perihal=perihal) for perihal in (
        "Pembinaan Satlinmas Kelurahan Sudimara Barat", "Pemberdayaan potensi masyarakat RW 05",
        "Rapat koordinasi Satlinmas triwulan III")]
    drive(runs[0], seeded, stop_at=4)
    engine.task_claim(task=open_task(runs[1]), user=kasi)
    page = new_context(viewport=PHONE, device_scale_factor=1).new_page()
    sign_in(page, live_server, kasi.username)

    page.goto(live_server.url + "/")
    assert page.locator("#content a[href^='/tugas/']").count() == 3
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts / "inbox-390.png", full_page=True)

    page.goto(f"{live_server.url}/tugas/{open_task(runs[0]).pk}/")
    page.get_by_role("button", name="Complete this step").wait_for()
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts / "task-390.png", full_page=True)
