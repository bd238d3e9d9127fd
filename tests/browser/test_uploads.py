"""Uploads in Chromium: a request too large is answered with the page stating the limits."""

from __future__ import annotations

from tests.engine_fixtures import open_task


def test_a_too_large_upload_shows_the_page_with_the_limits(seeded, as_user, live_server, settings):
    settings.REQUEST_BODY_MAX_BYTES = 512 * 1024
    run = seeded.start("000", perihal="Unggahan besar")
    task = open_task(run)
    page = as_user(seeded.holder(task.position).username)
    page.goto(f"{live_server.url}/tugas/{task.pk}/")
    page.locator("input[type=file]").set_input_files(
        [{"name": "rekaman.pdf", "mimeType": "application/pdf", "buffer": b"x" * (3 * 1024 * 1024)}])
    page.get_by_role("button", name="Complete this step").click()
    page.get_by_text("Too large to send").wait_for()
    assert "sopflow takes at most 0.5 MB at once" in page.locator("[data-reason]").inner_text()
    page.get_by_role("link", name="Go back").click()
    page.wait_for_url(f"{live_server.url}/tugas/{task.pk}/")
